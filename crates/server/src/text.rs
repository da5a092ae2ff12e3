//! The CLI's text for people: orders, shipments, sagas, returns and daily
//! metrics as a few aligned lines. It reads the HTTP API's shapes
//! ([`crate::dto`]), which are also what `--json` prints, so the text
//! and the JSON always show the same thing.
//!
//! Amounts are shown in major units with their currency (`32.05 USD`; the
//! currencies without minor units, such as JPY, and those with three, such
//! as KWD, are shown as ISO 4217 counts them); times in UTC.

use std::fmt::Write as _;

use serde::Serialize;

use crate::dto;

/// Width of the labels in the left column.
const LABEL: usize = 11;

/// The kebab-case name of an enumeration value, as its JSON says it.
pub fn kebab<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Decimal places of a currency's minor unit (ISO 4217); 2 unless listed.
fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// An amount in major units with its currency, for example `1234.50 USD`.
pub fn money(m: &dto::Money) -> String {
    let currency = if m.currency.is_empty() {
        "USD"
    } else {
        m.currency.as_str()
    };
    let digits = minor_digits(currency);
    if digits == 0 {
        return format!("{} {currency}", m.amount);
    }
    let unit = 10u64.pow(digits);
    format!(
        "{}.{:0width$} {currency}",
        m.amount / unit,
        m.amount % unit,
        width = digits as usize
    )
}

/// `amount` minor units of `currency`.
fn minor(amount: u64, currency: &str) -> String {
    money(&dto::Money {
        amount,
        currency: currency.to_owned(),
    })
}

/// Milliseconds since the epoch as the UTC date `YYYY-MM-DD`.
pub fn date(ms: u64) -> String {
    dto::time::format(ms)[..10].to_owned()
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn time(ms: u64) -> String {
    // RFC 3339 with milliseconds: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    let rfc3339 = dto::time::format(ms);
    format!("{} {} UTC", &rfc3339[..10], &rfc3339[11..19])
}

/// An address on one line.
pub fn address(a: &dto::Address) -> String {
    let mut parts = vec![a.street1.clone()];
    parts.extend(a.street2.clone());
    parts.push(a.city.clone());
    parts.push(format!("{} {}", a.state_province, a.postal_code));
    parts.push(a.country.clone());
    parts.join(", ")
}

/// Appends `  label     value`.
fn line(out: &mut String, label: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "  {label:<LABEL$}{value}");
}

/// Appends `values` under `label`: the label on the first line, the rest
/// continued under it; nothing when there are none.
fn block<T: std::fmt::Display>(out: &mut String, label: &str, values: impl IntoIterator<Item = T>) {
    for (index, value) in values.into_iter().enumerate() {
        if index == 0 {
            line(out, label, value);
        } else {
            let _ = writeln!(out, "  {:<LABEL$}{value}", "");
        }
    }
}

/// An order as it stands: status, customer, lines, totals, addresses,
/// payment, allocation, shipping, delivery, cancellation and notes.
pub fn order(o: &dto::Order) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "order {}  {}", o.order_id, kebab(&o.status));
    line(&mut out, "customer", &o.customer_id);
    line(&mut out, "created", time(o.created_at));
    if let Some(placed) = o.placed_at {
        line(&mut out, "placed", time(placed));
    }
    if o.items.is_empty() {
        line(&mut out, "items", "none");
    }
    let name_width = o
        .items
        .iter()
        .map(|i| format!("{} ({})", i.product_name, i.sku).chars().count())
        .max()
        .unwrap_or(0);
    let items = o.items.iter().map(|item| {
        let name = format!("{} ({})", item.product_name, item.sku);
        format!(
            "{:>3} x {name:<name_width$}  {:>14} each  {:>14}",
            item.quantity,
            money(&item.unit_price),
            money(&item.total_price)
        )
    });
    block(&mut out, "items", items);
    let amounts = [
        ("subtotal", &o.subtotal),
        ("tax", &o.tax),
        ("shipping", &o.shipping_cost),
        ("total", &o.total),
    ];
    for (label, amount) in amounts {
        line(&mut out, label, format!("{:>14}", money(amount)));
    }
    if o.refunded.amount > 0 {
        line(&mut out, "refunded", format!("{:>14}", money(&o.refunded)));
    }
    if let Some(a) = &o.shipping_address {
        line(&mut out, "ship to", address(a));
    }
    if let Some(a) = &o.billing_address {
        line(&mut out, "bill to", address(a));
    }
    match (&o.payment_method, &o.payment) {
        (Some(method), Some(p)) => line(
            &mut out,
            "payment",
            format!(
                "{}, paid {} at {} (transaction {})",
                kebab(method),
                money(&p.amount_paid),
                time(p.confirmed_at),
                p.transaction_id
            ),
        ),
        (Some(method), None) => line(&mut out, "payment", format!("{}, not paid", kebab(method))),
        (None, Some(p)) => line(
            &mut out,
            "payment",
            format!(
                "paid {} at {} (transaction {})",
                money(&p.amount_paid),
                time(p.confirmed_at),
                p.transaction_id
            ),
        ),
        (None, None) => {}
    }
    if let Some(a) = &o.allocation {
        let what = if a.all_items_allocated {
            "all items allocated"
        } else {
            "partly allocated"
        };
        line(
            &mut out,
            "stock",
            format!("{what} at {}", time(a.allocated_at)),
        );
    }
    if let Some(s) = &o.shipping {
        line(
            &mut out,
            "shipping",
            format!(
                "{}, tracking {}, shipped at {} (shipment {})",
                kebab(&s.carrier),
                s.tracking_number,
                time(s.shipped_at),
                s.shipment_id
            ),
        );
    }
    if let Some(d) = &o.delivery {
        let signed = d
            .signed_by
            .as_ref()
            .map(|who| format!(", signed by {who}"))
            .unwrap_or_default();
        line(
            &mut out,
            "delivered",
            format!("{}{signed}", time(d.delivered_at)),
        );
    }
    if let Some(c) = &o.cancellation {
        line(
            &mut out,
            "cancelled",
            format!(
                "at {} by {}: {}",
                time(c.cancelled_at),
                c.cancelled_by,
                c.reason
            ),
        );
    }
    block(&mut out, "notes", &o.notes);
    out
}

/// A customer's orders, one line each, oldest first.
pub fn orders(customer_id: &str, orders: &[dto::Order]) -> String {
    let mut out = String::new();
    if orders.is_empty() {
        let _ = writeln!(out, "customer {customer_id} has no orders");
        return out;
    }
    let _ = writeln!(out, "customer {customer_id}: {} order(s)", orders.len());
    let _ = writeln!(
        out,
        "  {:<36}  {:<10}  {:>14}  {:>5}  created",
        "order", "status", "total", "lines"
    );
    for o in orders {
        let _ = writeln!(
            out,
            "  {:<36}  {:<10}  {:>14}  {:>5}  {}",
            o.order_id,
            kebab(&o.status),
            money(&o.total),
            o.items.len(),
            time(o.created_at)
        );
    }
    out
}

/// A shipment with its tracking history as a table, oldest entry first.
pub fn shipment(s: &dto::Shipment) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "shipment {}  {} ({})",
        s.shipment_id,
        kebab(&s.status),
        kebab(&s.state)
    );
    line(&mut out, "order", &s.order_id);
    line(
        &mut out,
        "carrier",
        format!("{}, tracking {}", kebab(&s.carrier), s.tracking_number),
    );
    line(&mut out, "ship to", address(&s.shipping_address));
    let items = s.items.iter().map(|item| {
        format!(
            "{:>3} x product {} (line {})",
            item.quantity, item.product_id, item.item_id
        )
    });
    block(&mut out, "items", items);
    line(&mut out, "created", time(s.created_at));
    if let Some(at) = s.delivered_at {
        let signed = s
            .signed_by
            .as_ref()
            .map(|who| format!(", signed by {who}"))
            .unwrap_or_default();
        line(&mut out, "delivered", format!("{}{signed}", time(at)));
    }
    if let Some(reason) = &s.failure_reason {
        line(&mut out, "failed", reason);
    }
    if s.tracking_history.is_empty() {
        line(&mut out, "tracking", "no entries yet");
    } else {
        let _ = writeln!(out, "  tracking history:");
        for e in &s.tracking_history {
            let location = e
                .location
                .as_ref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    {}  {:<18} {}{location}",
                time(e.timestamp),
                kebab(&e.status),
                e.description
            );
        }
    }
    out
}

/// Where a saga stands: its phase, each step with its status, attempts and
/// last error, its outcome and notes.
pub fn saga(r: &dto::SagaReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "saga of order {}  {}", r.order_id, kebab(&r.phase));
    if let Some(at) = r.next_wake_at {
        line(&mut out, "next run", time(at));
    }
    let _ = writeln!(
        out,
        "  {:<20} {:<12} {:>8}  last error",
        "step", "status", "attempts"
    );
    for step in &r.steps {
        let row = format!(
            "  {:<20} {:<12} {:>8}  {}",
            kebab(&step.step),
            kebab(&step.status),
            step.attempts,
            step.last_error.as_deref().unwrap_or("")
        );
        let _ = writeln!(out, "{}", row.trim_end());
    }
    let outcome = match &r.outcome {
        None => "not finished".to_owned(),
        Some(dto::SagaOutcome::Completed { output }) => {
            let mut text = "completed".to_owned();
            if let Some(id) = &output.shipment_id {
                let _ = write!(text, ": shipment {id}");
            }
            if let Some(tracking) = &output.tracking_number {
                let _ = write!(text, ", tracking {tracking}");
            }
            text
        }
        Some(dto::SagaOutcome::Compensated {
            failed_step,
            reason,
        }) => format!("compensated after {} failed: {reason}", kebab(failed_step)),
        Some(dto::SagaOutcome::CompensationFailed {
            failed_step,
            reason,
            pending,
        }) => {
            let step = failed_step
                .as_ref()
                .map(|s| format!(" after {} failed", kebab(s)))
                .unwrap_or_default();
            format!(
                "compensation incomplete{step}: {reason}; still pending: {}",
                pending.join(", ")
            )
        }
    };
    line(&mut out, "outcome", outcome);
    if r.outcome.is_none()
        && let Some(reason) = &r.output.error_reason
    {
        line(&mut out, "error", reason);
    }
    block(&mut out, "notes", &r.notes);
    out
}

/// A day's metrics: the counts, then one row per currency.
pub fn daily_metrics(m: &dto::DailyMetrics) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "metrics of {} (UTC)", m.date);
    line(&mut out, "orders", m.order_count);
    line(&mut out, "cancelled", m.cancellation_count);
    line(&mut out, "refunds", m.refund_count);
    if m.totals.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "  {:<8} {:>6} {:>16} {:>14} {:>9} {:>7} {:>14}",
        "currency", "orders", "revenue", "average", "cancelled", "refunds", "refunded"
    );
    for t in &m.totals {
        let _ = writeln!(
            out,
            "  {:<8} {:>6} {:>16} {:>14} {:>9} {:>7} {:>14}",
            t.currency,
            t.order_count,
            minor(t.total_revenue, &t.currency),
            minor(t.average_order_value, &t.currency),
            t.cancellation_count,
            t.refund_count,
            minor(t.refund_total, &t.currency)
        );
    }
    out
}

/// A return: its status, items and what happened to it.
pub fn return_(r: &dto::Return) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "return {} of order {}: {} (refund {})",
        r.return_id,
        r.order_id,
        kebab(&r.status),
        kebab(&r.refund_status)
    );
    let _ = writeln!(
        out,
        "  customer {}, reason {}",
        r.customer_id,
        kebab(&r.return_reason)
    );
    for item in &r.return_items {
        let _ = writeln!(
            out,
            "  {} x line {} ({}): {}",
            item.quantity,
            item.item_id,
            kebab(&item.return_reason),
            item.condition
        );
    }
    if let Some(comments) = &r.comments {
        let _ = writeln!(out, "  comments: {comments}");
    }
    if let Some(by) = &r.decided_by {
        let _ = writeln!(out, "  decided by {by}");
    }
    if let Some(reason) = &r.denial_reason {
        let _ = writeln!(out, "  reason: {reason}");
    }
    if let Some(label) = &r.return_label {
        let _ = writeln!(out, "  return label: {label}");
    }
    if let Some(condition) = &r.received_condition {
        let restocked = if r.all_items_received == Some(true) {
            "all items, restocked"
        } else {
            "not everything arrived; nothing restocked"
        };
        let _ = writeln!(out, "  received: {condition} ({restocked})");
    }
    if let (Some(amount), Some(method)) = (&r.refund_amount, &r.refund_method) {
        let _ = writeln!(out, "  refunded {} by {}", money(amount), kebab(method));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(amount: u64) -> dto::Money {
        dto::Money {
            amount,
            currency: "USD".to_owned(),
        }
    }

    fn address() -> dto::Address {
        dto::Address {
            street1: "1 Main St".to_owned(),
            street2: Some("Apt 2".to_owned()),
            city: "Springfield".to_owned(),
            state_province: "IL".to_owned(),
            postal_code: "62701".to_owned(),
            country: "US".to_owned(),
        }
    }

    #[test]
    fn amounts_are_in_major_units_of_their_currency() {
        assert_eq!(money(&usd(3205)), "32.05 USD");
        assert_eq!(money(&usd(7)), "0.07 USD");
        assert_eq!(minor(1500, "JPY"), "1500 JPY");
        assert_eq!(minor(1500, "KWD"), "1.500 KWD");
        assert_eq!(minor(250, ""), "2.50 USD");
    }

    #[test]
    fn times_are_utc_dates() {
        assert_eq!(time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(time(1_795_521_600_000), "2026-11-24 12:00:00 UTC");
        assert_eq!(time(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(time(1_709_251_199_999), "2024-02-29 23:59:59 UTC");
        assert_eq!(date(1_709_251_199_999), "2024-02-29");
    }

    #[test]
    fn an_order_reads_as_aligned_lines() {
        let shipped = dto::Order {
            order_id: "o-1".to_owned(),
            customer_id: "c-1".to_owned(),
            status: dto::OrderStatus::Shipped,
            items: vec![dto::OrderItem {
                item_id: "i-1".to_owned(),
                product_id: "p-1".to_owned(),
                sku: "MUG-1".to_owned(),
                product_name: "Mug".to_owned(),
                quantity: 2,
                unit_price: usd(1250),
                total_price: usd(2500),
            }],
            subtotal: usd(2500),
            tax: usd(206),
            shipping_cost: usd(499),
            total: usd(3205),
            shipping_address: Some(address()),
            billing_address: Some(address()),
            payment_method: Some(dto::PaymentMethod::CreditCard),
            created_at: 1_795_521_600_000,
            placed_at: Some(1_795_521_600_000),
            payment: Some(dto::PaymentInfo {
                transaction_id: "txn_1".to_owned(),
                amount_paid: usd(3205),
                confirmed_at: 1_795_521_601_000,
            }),
            allocation: None,
            shipping: Some(dto::ShippingInfo {
                shipment_id: "s-1".to_owned(),
                carrier: dto::CarrierCode::OtherCarrier,
                tracking_number: "T1".to_owned(),
                shipped_at: 1_795_521_602_000,
            }),
            delivery: None,
            cancellation: None,
            refunded: usd(0),
            notes: vec!["gift wrap".to_owned()],
            version: 7,
        };
        let text = order(&shipped);
        assert!(text.starts_with("order o-1  shipped\n"), "{text}");
        assert!(
            text.contains("  items        2 x Mug (MUG-1)       12.50 USD each       25.00 USD\n"),
            "{text}"
        );
        assert!(text.contains("  total           32.05 USD\n"), "{text}");
        assert!(
            text.contains("  ship to    1 Main St, Apt 2, Springfield, IL 62701, US\n"),
            "{text}"
        );
        assert!(
            text.contains("credit-card, paid 32.05 USD at 2026-11-24 12:00:01 UTC"),
            "{text}"
        );
        assert!(text.contains("other-carrier, tracking T1"), "{text}");
        assert!(text.contains("  notes      gift wrap\n"), "{text}");
        assert!(!text.contains("refunded"), "{text}");
    }

    #[test]
    fn a_saga_lists_its_steps_and_outcome() {
        let report = dto::SagaReport {
            order_id: "o-1".to_owned(),
            phase: dto::SagaPhase::Finished,
            steps: vec![
                dto::StepReport {
                    step: dto::SagaStep::ProcessPayment,
                    status: dto::StepStatus::Compensated,
                    attempts: 1,
                    last_error: None,
                },
                dto::StepReport {
                    step: dto::SagaStep::AllocateInventory,
                    status: dto::StepStatus::Failed,
                    attempts: 3,
                    last_error: Some("out of stock".to_owned()),
                },
            ],
            next_wake_at: None,
            output: dto::SagaOutput {
                success: false,
                shipment_id: None,
                tracking_number: None,
                error_reason: Some("out of stock".to_owned()),
            },
            outcome: Some(dto::SagaOutcome::Compensated {
                failed_step: dto::SagaStep::AllocateInventory,
                reason: "out of stock".to_owned(),
            }),
            notes: Vec::new(),
        };
        let text = saga(&report);
        assert!(text.starts_with("saga of order o-1  finished\n"), "{text}");
        assert!(
            text.contains("  allocate-inventory   failed              3  out of stock\n"),
            "{text}"
        );
        assert!(
            text.contains("compensated after allocate-inventory failed: out of stock"),
            "{text}"
        );
    }
}
