//! `/console/orders/{id}`: one order — its money, lines, addresses, saga,
//! shipments, returns ([`returns`](super::returns)) and history, with the
//! actions the role may take on it.

use std::fmt::Write as _;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{Signed, render, status_of};
use crate::console::html::{Notice, badge, esc, money, time, url_part};
use crate::console::parts::{self, Action, col, num};
use crate::console::{Console, Staff, may, refused};
use crate::text;
use crate::{Problem, dto};
use order_runtime::Host;
use order_runtime::bindings::types::CommandError;
use order_runtime::service::ServiceError;

/// Everything the order page shows.
struct OrderPage {
    order: dto::Order,
    saga: Option<dto::SagaReport>,
    history: Vec<dto::HistoryEntry>,
    shipments: Vec<dto::Shipment>,
    returns: Vec<dto::Return>,
}

fn load_order(host: &Host, id: &str) -> Result<OrderPage, ServiceError> {
    let svc = &host.service;
    let order = dto::Order::from(svc.get_order(id)?);
    let id = order.order_id.clone();
    let saga = match svc.saga_status(&id) {
        Ok(report) => Some(report.into()),
        // A draft has no saga yet.
        Err(ServiceError::Domain(
            CommandError::NotFound(_) | CommandError::InvalidTransition(_),
        )) => None,
        Err(other) => return Err(other),
    };
    Ok(OrderPage {
        history: svc
            .order_history(&id)?
            .into_iter()
            .map(Into::into)
            .collect(),
        shipments: svc
            .shipments_of_order(&id)?
            .into_iter()
            .map(Into::into)
            .collect(),
        returns: svc
            .returns_of_order(&id)?
            .into_iter()
            .map(crate::console::return_dto)
            .collect(),
        saga,
        order,
    })
}

#[derive(Deserialize, Default)]
pub(in crate::console) struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// `/console/orders/{id}`.
pub(in crate::console) async fn order(
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
    Signed { console, staff }: Signed,
) -> Response {
    let notice = done_notice(&query.done);
    order_response(&console, &staff, id, notice, StatusCode::OK).await
}

fn done_notice(done: &str) -> Option<Notice> {
    let words = match done {
        "cancelled" => "The order is cancelled; its compensations run through the saga.",
        "retried" => "The saga was advanced now, as far as it goes; see its steps below.",
        "approved" => "The return is approved.",
        "denied" => "The return is denied.",
        "received" => "The return is recorded as received.",
        "refunded" => "The refund was sent to the payment gateway.",
        _ => return None,
    };
    Some(crate::console::done("Done.", words.to_owned()))
}

/// The order page of `id` with `notice` above it, in `status` (or, when
/// the order cannot be read, the problem's status).
pub(super) async fn order_response(
    console: &Console,
    staff: &Staff,
    id: String,
    notice: Option<Notice>,
    status: StatusCode,
) -> Response {
    let loaded = console
        .app
        .blocking(move |host| load_order(host, &id).map_err(Problem::from))
        .await;
    match loaded {
        Ok(page) => {
            let title = format!("Order {}", page.order.order_id);
            let body = order_body(staff, &page);
            render(
                staff,
                "orders",
                &title,
                notice.as_ref(),
                Some(5),
                status,
                &body,
            )
        }
        Err(problem) => {
            let notice = notice.unwrap_or_else(|| refused(&problem));
            let body = "<h1>Order</h1><p><a href=\"/console/orders\">Find another order</a></p>";
            let status = if status.is_success() {
                status_of(&problem)
            } else {
                status
            };
            render(staff, "orders", "Order", Some(&notice), None, status, body)
        }
    }
}

fn order_body(staff: &Staff, page: &OrderPage) -> String {
    let o = &page.order;
    let mut out = String::new();
    let _ = write!(
        out,
        "<h1>Order <code>{}</code> {}</h1>\
         <p>Customer <a href=\"/console/orders?customer_id={}\">{}</a> · created {} · placed {}</p>",
        esc(&o.order_id),
        badge(&o.status),
        url_part(&o.customer_id),
        esc(&o.customer_id),
        time(o.created_at),
        o.placed_at.map_or_else(|| "not yet".to_owned(), time),
    );
    out.push_str(&money_section(o));
    out.push_str(&lines_section(o));
    out.push_str(&addresses_section(o));
    if may(staff.principal.role, "POST", "/orders/{id}/cancel")
        && matches!(
            o.status,
            dto::OrderStatus::Draft | dto::OrderStatus::Pending | dto::OrderStatus::Confirmed
        )
    {
        out.push_str(
            &Action {
                class: "card action",
                to: format!("/console/orders/{}/cancel", url_part(&o.order_id)),
                heading: "Cancel the order",
                csrf: &staff.csrf,
                fields: parts::field(
                    "cancel-reason",
                    "Reason",
                    "reason",
                    " required maxlength=\"500\" value=\"customer request\"",
                ),
                button: "Cancel order",
                danger: true,
                aria_label: None,
            }
            .render(),
        );
    }
    if let Some(saga) = &page.saga {
        out.push_str(&saga_section(staff, saga));
    }
    out.push_str(&shipments_section(&page.shipments));
    out.push_str(&super::returns::section(staff, o, &page.returns));
    let history = page
        .history
        .iter()
        .map(|e| format!("{} {}", time(e.recorded_at), esc(&event_in_words(e))));
    out.push_str(&parts::section(
        "card",
        "history",
        "History",
        &parts::list("ol", "timeline", history),
    ));
    if !o.notes.is_empty() {
        let _ = write!(
            out,
            "<section class=\"card\"><h2>Notes</h2>{}</section>",
            parts::list("ul", "", o.notes.iter().map(|n| esc(n)))
        );
    }
    out
}

fn money_section(o: &dto::Order) -> String {
    let paid = o.payment.as_ref().map_or(0, |p| p.amount_paid.amount);
    let m = |amount: u64| {
        money(&dto::Money {
            amount,
            currency: o.total.currency.clone(),
        })
    };
    let due = if o.payment.is_some() {
        0
    } else {
        o.total.amount
    };
    let facts = parts::facts([
        ("Total", money(&o.total)),
        ("Paid", m(paid)),
        ("Refunded", money(&o.refunded)),
        (
            "Kept (paid − refunded)",
            m(paid.saturating_sub(o.refunded.amount)),
        ),
        ("Due from the customer", m(due)),
    ]);
    parts::section("card", "money", "Money", &facts)
}

fn lines_section(o: &dto::Order) -> String {
    let mut rows = String::new();
    for i in &o.items {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&i.product_name),
            esc(&i.sku),
            i.quantity,
            money(&i.unit_price),
            money(&i.total_price)
        );
    }
    let foot = format!(
        "<tfoot><tr><td colspan=\"4\">Subtotal · tax · shipping</td><td class=\"num\">{} · {} · {}</td></tr></tfoot>",
        money(&o.subtotal),
        money(&o.tax),
        money(&o.shipping_cost)
    );
    let table = parts::table(
        None,
        &[
            col("Product"),
            col("SKU"),
            num("Qty"),
            num("Unit"),
            num("Line"),
        ],
        &rows,
        &foot,
    );
    parts::section("card", "lines", "Lines", &table)
}

fn addresses_section(o: &dto::Order) -> String {
    let address = |a: &Option<dto::Address>| {
        a.as_ref()
            .map_or_else(|| "none".to_owned(), |a| esc(&text::address(a)))
    };
    let facts = parts::facts([
        ("Shipping", address(&o.shipping_address)),
        ("Billing", address(&o.billing_address)),
        (
            "Payment method",
            o.payment_method
                .as_ref()
                .map_or_else(|| "none".to_owned(), badge),
        ),
    ]);
    parts::section("card", "addresses", "Addresses", &facts)
}

fn shipments_section(shipments: &[dto::Shipment]) -> String {
    let mut inner = String::new();
    if shipments.is_empty() {
        inner.push_str(&parts::empty("No shipment yet."));
    }
    for s in shipments {
        let _ = write!(
            inner,
            "<h3>{} <code>{}</code> {}</h3>",
            badge(&s.carrier),
            esc(&s.tracking_number),
            badge(&s.status)
        );
        let events = s.tracking_history.iter().map(|t| {
            format!(
                "{} {} {}{}",
                time(t.timestamp),
                badge(&t.status),
                esc(&t.description),
                t.location
                    .as_ref()
                    .map_or(String::new(), |l| format!(" — {}", esc(l)))
            )
        });
        inner.push_str(&parts::list("ol", "timeline", events));
        if let Some(reason) = &s.failure_reason {
            let _ = write!(inner, "<p class=\"problem\">Failed: {}</p>", esc(reason));
        }
    }
    parts::section("card", "shipments", "Shipments and tracking", &inner)
}

fn saga_section(staff: &Staff, saga: &dto::SagaReport) -> String {
    let mut inner = String::from("<ol class=\"steps\">");
    for s in &saga.steps {
        let _ = write!(
            inner,
            "<li class=\"step step-{}\"><strong>{}</strong> {} <span>{} attempt{}</span>{}</li>",
            esc(&text::kebab(&s.status)),
            esc(&text::kebab(&s.step)),
            badge(&s.status),
            s.attempts,
            if s.attempts == 1 { "" } else { "s" },
            s.last_error.as_ref().map_or(String::new(), |e| format!(
                "<span class=\"problem\">last error: {}</span>",
                esc(e)
            ))
        );
    }
    inner.push_str("</ol>");
    let mut facts = vec![(
        "Next retry",
        saga.next_wake_at
            .map_or_else(|| "none scheduled".to_owned(), time),
    )];
    match &saga.outcome {
        None => {}
        Some(dto::SagaOutcome::Completed { .. }) => {
            facts.push((
                "Outcome",
                "completed: paid, allocated and shipped".to_owned(),
            ));
        }
        Some(dto::SagaOutcome::Compensated {
            failed_step,
            reason,
        }) => {
            facts.push((
                "Outcome",
                format!(
                    "compensated after {} failed: {}",
                    esc(&text::kebab(failed_step)),
                    esc(reason)
                ),
            ));
        }
        Some(dto::SagaOutcome::CompensationFailed {
            failed_step,
            reason,
            pending,
        }) => {
            facts.push((
                "Outcome",
                format!(
                    "<span class=\"badge badge-compensation-failed\">compensation-failed</span> {}{}",
                    failed_step.as_ref().map_or(String::new(), |s| format!(
                        "after {} failed: ",
                        esc(&text::kebab(s))
                    )),
                    esc(reason)
                ),
            ));
            facts.push(("Compensation left to do", esc(&pending.join("; "))));
        }
    }
    inner.push_str(&parts::facts(facts));
    if !saga.notes.is_empty() {
        inner.push_str("<h3>Notes and support tickets</h3>");
        inner.push_str(&parts::list("ul", "", saga.notes.iter().map(|n| esc(n))));
    }
    let unfinished = saga.phase != dto::SagaPhase::Finished;
    if unfinished && may(staff.principal.role, "POST", "/orders/{id}/saga/retry") {
        inner.push_str(&retry_form(
            staff,
            &saga.order_id,
            "Retry the saga now",
            None,
        ));
    }
    parts::section(
        "card",
        "saga",
        &format!("Fulfilment saga {}", badge(&saga.phase)),
        &inner,
    )
}

/// The button that advances the saga of `order_id` now.
pub(super) fn retry_form(
    staff: &Staff,
    order_id: &str,
    button: &str,
    aria_label: Option<String>,
) -> String {
    Action {
        class: "",
        to: format!("/console/orders/{}/saga/retry", url_part(order_id)),
        heading: "",
        csrf: &staff.csrf,
        fields: String::new(),
        button,
        danger: false,
        aria_label,
    }
    .render()
}

/// One event of the history in words: `Saga step started: process-payment`,
/// `Order cancelled by support:sam — customer request`, with the amount,
/// the attempt and the reason or error when the event has them.
pub(in crate::console) fn event_in_words(e: &dto::HistoryEntry) -> String {
    let mut words = e.event_type.replace('-', " ");
    if let Some(first) = words.get(0..1) {
        words = first.to_uppercase() + &words[1..];
    }
    let Some(fields) = e.payload.as_object() else {
        return words;
    };
    if let Some(step) = fields.get("step").and_then(|v| v.as_str()) {
        let _ = write!(words, ": {step}");
    }
    if let Some(attempt) = fields.get("attempt").and_then(serde_json::Value::as_u64)
        && attempt > 1
    {
        let _ = write!(words, " (attempt {attempt})");
    }
    for key in ["amount_paid", "refund_amount", "amount"] {
        let amount = fields.get(key).and_then(|v| {
            Some(dto::Money {
                amount: v.get("amount")?.as_u64()?,
                currency: v.get("currency")?.as_str()?.to_owned(),
            })
        });
        if let Some(amount) = amount {
            let _ = write!(words, " {}", text::money(&amount));
            break;
        }
    }
    for (key, value) in fields {
        if let Some(value) = value.as_str()
            && key.replace('_', "-").ends_with("-by")
        {
            let _ = write!(words, " by {value}");
        }
    }
    for (key, value) in fields {
        if let Some(value) = value.as_str()
            && (key.contains("reason") || key == "error" || key == "message")
        {
            let _ = write!(words, " — {value}");
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_as_words_with_who_and_why() {
        let entry = dto::HistoryEntry {
            version: 3,
            event_type: "order-cancelled".into(),
            payload: serde_json::json!({"cancelled_by": "support:sam", "reason": "customer request"}),
            recorded_at: 0,
        };
        assert_eq!(
            event_in_words(&entry),
            "Order cancelled by support:sam — customer request"
        );
    }
}
