//! The returns of an order on its page: each return with its items and
//! decisions, and the forms of the next step the role may take (approve,
//! deny, record receipt, refund); amounts typed in the currency's units.

use std::fmt::Write as _;

use crate::console::html::{badge, esc, money, time, url_part};
use crate::console::parts::{self, Action};
use crate::console::{Staff, may};
use crate::dto;
use crate::text;

/// The payment methods a refund may go to.
const METHODS: [&str; 5] = [
    "credit-card",
    "debit-card",
    "paypal",
    "bank-transfer",
    "gift-card",
];

/// A decision on a requested return: its step, and its one field (the
/// input's id prefix, label, name and further attributes) and button.
struct Decision {
    step: &'static str,
    prefix: &'static str,
    label: &'static str,
    name: &'static str,
    attrs: &'static str,
    button: &'static str,
    danger: bool,
}

const DECISIONS: [Decision; 2] = [
    Decision {
        step: "approve",
        prefix: "label",
        label: "Return label (optional)",
        name: "return_label",
        attrs: " maxlength=\"500\"",
        button: "Approve return",
        danger: false,
    },
    Decision {
        step: "deny",
        prefix: "deny",
        label: "Reason to deny",
        name: "reason",
        attrs: " required maxlength=\"500\"",
        button: "Deny return",
        danger: true,
    },
];

/// The returns section of `order`'s page.
pub(super) fn section(staff: &Staff, order: &dto::Order, returns: &[dto::Return]) -> String {
    let mut inner = String::new();
    if returns.is_empty() {
        inner.push_str(&parts::empty("No return."));
    }
    for r in returns {
        inner.push_str(&article(staff, order, r));
    }
    parts::section("card", "returns", "Returns", &inner)
}

fn article(staff: &Staff, order: &dto::Order, r: &dto::Return) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<article class=\"return\" id=\"return-{}\"><h3>Return <code>{}</code> {} refund {}</h3><p>Requested {} — {}{}</p>",
        esc(&r.return_id),
        esc(&r.return_id),
        badge(&r.status),
        badge(&r.refund_status),
        time(r.requested_at),
        esc(&text::kebab(&r.return_reason)),
        r.comments
            .as_ref()
            .map_or(String::new(), |c| format!(": {}", esc(c)))
    );
    let mut due = 0u64;
    let mut items = Vec::new();
    for item in &r.return_items {
        let line = order.items.iter().find(|i| i.item_id == item.item_id);
        if let Some(line) = line {
            due = due.saturating_add(
                line.unit_price
                    .amount
                    .saturating_mul(u64::from(item.quantity)),
            );
        }
        items.push(format!(
            "{} × {} ({})",
            item.quantity,
            esc(line.map_or(item.product_id.as_str(), |l| l.product_name.as_str())),
            esc(&item.condition)
        ));
    }
    out.push_str(&parts::list("ul", "", items));
    if let Some(by) = &r.decided_by {
        let _ = write!(
            out,
            "<p>Decided by {}{}</p>",
            esc(by),
            r.decided_at
                .map_or(String::new(), |t| format!(" at {}", time(t)))
        );
    }
    if let Some(reason) = &r.denial_reason {
        let _ = write!(out, "<p>Denied: {}</p>", esc(reason));
    }
    if let Some(amount) = &r.refund_amount {
        let _ = write!(
            out,
            "<p>Refund of {} {}</p>",
            money(amount),
            if r.refund_confirmed {
                "confirmed by the gateway"
            } else {
                "sent, not confirmed yet"
            }
        );
    }
    for form in forms(staff, order, r, due) {
        out.push_str(&form.render());
    }
    out.push_str("</article>");
    out
}

/// The forms of the steps `staff` may take next on the return `r`; `due`
/// is what its items cost.
fn forms<'a>(staff: &'a Staff, order: &dto::Order, r: &dto::Return, due: u64) -> Vec<Action<'a>> {
    let role = staff.principal.role;
    let id = url_part(&r.return_id);
    let form = |step: &str, fields: String, button: &'a str, danger: bool| Action {
        class: "action inline",
        to: format!("/console/returns/{id}/{step}"),
        heading: "",
        csrf: &staff.csrf,
        fields,
        button,
        danger,
        aria_label: None,
    };
    let mut forms = Vec::new();
    if r.status == dto::ReturnStatus::Requested {
        for d in DECISIONS {
            if may(role, "POST", &format!("/returns/{{id}}/{}", d.step)) {
                let field = parts::field(&format!("{}-{id}", d.prefix), d.label, d.name, d.attrs);
                forms.push(form(d.step, field, d.button, d.danger));
            }
        }
    }
    if matches!(
        r.status,
        dto::ReturnStatus::Approved | dto::ReturnStatus::Shipped
    ) && may(role, "POST", "/returns/{id}/receive")
    {
        let fields = parts::field(
            &format!("cond-{id}"),
            "Condition on arrival",
            "condition",
            " required maxlength=\"200\" value=\"as described\"",
        ) + "<label class=\"check\"><input type=\"checkbox\" name=\"all_items_received\" value=\"true\" checked> every item arrived (restock)</label>";
        forms.push(form("receive", fields, "Record receipt", false));
    }
    if r.status == dto::ReturnStatus::Received && may(role, "POST", "/returns/{id}/refund") {
        let currency = refund_currency(order);
        let paid = order.payment.as_ref().map_or(0, |p| p.amount_paid.amount);
        let amount = due.min(paid.saturating_sub(order.refunded.amount));
        let method = order
            .payment_method
            .as_ref()
            .map(text::kebab)
            .unwrap_or_else(|| "credit-card".to_owned());
        let mut methods = String::new();
        for m in METHODS {
            let selected = if m == method { " selected" } else { "" };
            let _ = write!(methods, "<option{selected}>{m}</option>");
        }
        let fields = parts::field(
            &format!("amount-{id}"),
            &format!("Refund amount ({currency})"),
            "amount",
            &format!(
                " inputmode=\"decimal\" required value=\"{}\"",
                esc(&major(amount, &currency))
            ),
        ) + &format!(
            "<label for=\"method-{id}\">Refund to</label><select id=\"method-{id}\" name=\"method\">{methods}</select>"
        );
        forms.push(form("refund", fields, "Refund", false));
    }
    forms
}

/// The currency a refund of `order` is typed in: the order's, USD for an
/// order without one.
pub(super) fn refund_currency(order: &dto::Order) -> String {
    if order.total.currency.is_empty() {
        "USD".to_owned()
    } else {
        order.total.currency.clone()
    }
}

/// Minor units as a decimal amount without the currency, `12.50`.
fn major(amount: u64, currency: &str) -> String {
    let shown = text::money(&dto::Money {
        amount,
        currency: currency.to_owned(),
    });
    shown.split(' ').next().unwrap_or("0").to_owned()
}

/// A decimal amount in `currency` as minor units; `None` when it is not one.
pub(super) fn parse_major(text: &str, currency: &str) -> Option<u64> {
    let digits = major(0, currency).split('.').nth(1).map_or(0, str::len);
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > digits
    {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let padded = format!("{fraction:0<digits$}");
    let fraction: u64 = if padded.is_empty() {
        0
    } else {
        padded.parse().ok()?
    };
    whole
        .checked_mul(10u64.pow(digits as u32))?
        .checked_add(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_in_the_currency_s_units() {
        assert_eq!(parse_major("12.50", "USD"), Some(1250));
        assert_eq!(parse_major("12", "USD"), Some(1200));
        assert_eq!(parse_major("12.5", "USD"), Some(1250));
        assert_eq!(parse_major("1200", "JPY"), Some(1200));
        assert_eq!(parse_major("1.5", "JPY"), None);
        assert_eq!(parse_major("1.234", "USD"), None);
        assert_eq!(parse_major("-1", "USD"), None);
        assert_eq!(parse_major("", "USD"), None);
        assert_eq!(parse_major("abc", "USD"), None);
        assert_eq!(major(1250, "USD"), "12.50");
    }
}
