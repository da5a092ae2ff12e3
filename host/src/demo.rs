//! `order-host demo`: the three journeys of the domain against a real store,
//! printed as a timeline. It uses the same service, driver and simulated
//! backends as `serve`, so what it shows is what the product does.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::Value;

use crate::Host;
use crate::bindings::orders::{
    CancelOrderCommand, CreateDraftCommand, OrderView, PlaceOrderCommand, UpdateDraftCommand,
};
use crate::bindings::returns::{
    ApproveReturnCommand, ProcessRefundCommand, ReceiveReturnCommand, RequestReturnCommand,
    ReturnItem,
};
use crate::bindings::shipping_carrier::ShipmentInTransit;
use crate::bindings::types::{Address, Money, OrderItemInput, PaymentMethod, ReturnReason};
use crate::external::Operation;
use crate::service::ServiceError;
use crate::simulation::Scripted;
use crate::simulation::fixtures::usd;

/// Ids are derived from a name so that every demo run reads the same.
fn id(name: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("demo:{name}").as_bytes(),
    )
    .to_string()
}

fn money(m: &Money) -> String {
    format!("{}.{:02} {}", m.amount / 100, m.amount % 100, m.currency)
}

fn address(street: &str, city: &str, state: &str, postal: &str) -> Address {
    Address {
        street1: street.to_string(),
        street2: None,
        city: city.to_string(),
        state_province: state.to_string(),
        postal_code: postal.to_string(),
        country: "US".to_string(),
    }
}

fn item(name: &str, sku: &str, quantity: u32, cents: u64) -> OrderItemInput {
    OrderItemInput {
        item_id: id(&format!("item:{name}")),
        product_id: id(&format!("product:{sku}")),
        sku: sku.to_string(),
        product_name: name.to_string(),
        quantity,
        unit_price: usd(cents),
    }
}

/// `CarrierCode::OtherCarrier` -> `other-carrier`: WIT names for people.
fn wit_name(value: &impl std::fmt::Debug) -> String {
    let debug = format!("{value:?}");
    crate::bindings::kebab_case(debug.rsplit("::").next().unwrap_or(&debug))
}

fn clock_time(ms: u64) -> String {
    let s = (ms / 1000) % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        s / 3600,
        (s / 60) % 60,
        s % 60,
        ms % 1000
    )
}

fn field<'a>(v: &'a Value, name: &str) -> &'a str {
    v.get(name).and_then(Value::as_str).unwrap_or("")
}

fn amount(v: &Value, name: &str) -> String {
    let a = v
        .get(name)
        .and_then(|m| m.get("amount"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let c = v
        .get(name)
        .and_then(|m| m.get("currency"))
        .and_then(Value::as_str)
        .unwrap_or("");
    format!("{}.{:02} {c}", a / 100, a % 100)
}

/// A short description of a stored event, for people.
pub fn describe_event(event_type: &str, payload: &str) -> String {
    let v: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
    match event_type {
        "order-placed" => format!(
            "{} line(s), subtotal {}, tax {}, shipping {}, total {}",
            v.get("items").and_then(Value::as_array).map_or(0, Vec::len),
            amount(&v, "subtotal"),
            amount(&v, "tax"),
            amount(&v, "shipping_cost"),
            amount(&v, "total")
        ),
        "draft-created" => format!(
            "cart with {} line(s)",
            v.get("items").and_then(Value::as_array).map_or(0, Vec::len)
        ),
        "payment-confirmed" => format!(
            "paid {} (transaction {})",
            amount(&v, "amount_paid"),
            field(&v, "transaction_id")
        ),
        "inventory-allocated" => format!(
            "all items allocated: {}",
            v.get("all_items_allocated")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        ),
        "order-delivered" => match field(&v, "signed_by") {
            "" => "delivered".to_string(),
            who => format!("delivered, signed by {who}"),
        },
        "order-refunded" => format!("refunded {}", amount(&v, "amount")),
        "saga-step-started" => format!(
            "saga: {} (attempt {})",
            field(&v, "step"),
            v.get("attempt").and_then(Value::as_u64).unwrap_or(0)
        ),
        "saga-step-retry-scheduled" => format!(
            "saga: {} failed ({}), retry at {}",
            field(&v, "step"),
            field(&v, "error"),
            clock_time(v.get("retry_at").and_then(Value::as_u64).unwrap_or(0))
        ),
        other => TEMPLATES
            .iter()
            .find(|(event_type, _)| *event_type == other)
            .map_or_else(String::new, |(_, template)| fill(template, &v)),
    }
}

/// The events whose description is a sentence of the payload's text fields:
/// each `{name}` is the field `name` (empty when absent).
const TEMPLATES: &[(&str, &str)] = &[
    ("draft-updated", "cart edited"),
    ("saga-started", "fulfilment saga started"),
    (
        "saga-retry-requested",
        "saga retry requested by {requested_by}",
    ),
    (
        "order-shipped",
        "shipped with {carrier} (tracking {tracking_number})",
    ),
    ("order-cancelled", "cancelled by {cancelled_by}: {reason}"),
    ("return-opened", "return {return_id} claims items"),
    ("saga-step-completed", "saga: {step} done"),
    ("saga-step-failed", "saga: {step} failed: {reason}"),
    ("compensation-started", "saga: compensating {step}"),
    ("compensation-completed", "saga: {detail}"),
    (
        "compensation-skipped",
        "saga: {step} not compensated: {reason}",
    ),
    (
        "compensation-stalled",
        "saga: compensating {step} keeps failing ({error}), retried at the longest delay",
    ),
    (
        "compensation-failed",
        "saga: compensating {step} refused ({error}); left to customer service",
    ),
    (
        "saga-compensation-failed",
        "saga ended with compensation to finish: {reason}",
    ),
    ("saga-completed", "saga completed"),
    ("saga-compensated", "saga compensated: {reason}"),
    ("note-recorded", "note: {note}"),
];

/// `template` with each `{name}` replaced by the text field `name` of `v`.
fn fill(template: &str, v: &Value) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some((before, after)) = rest.split_once('{') {
        let Some((name, tail)) = after.split_once('}') else {
            break;
        };
        out.push_str(before);
        out.push_str(field(v, name));
        rest = tail;
    }
    out.push_str(rest);
    out
}

struct Timeline {
    out: String,
}

impl Timeline {
    fn heading(&mut self, text: &str) {
        let _ = writeln!(self.out, "\n== {text}");
    }

    fn line(&mut self, text: impl AsRef<str>) {
        let _ = writeln!(self.out, "   {}", text.as_ref());
    }

    fn flush(&mut self) {
        print!("{}", self.out);
        self.out.clear();
    }
}

fn history(host: &Host, order_id: &str, from: u64, t: &mut Timeline) -> Result<u64, ServiceError> {
    let id = order_id.to_string();
    let events = host.service.order_history(&id)?;
    let mut last = from;
    for e in events.iter().filter(|e| e.version > from) {
        t.line(format!(
            "{}  {:<26} {}",
            clock_time(e.recorded_at),
            e.event_type,
            describe_event(&e.event_type, &e.payload)
        ));
        last = e.version;
    }
    Ok(last)
}

fn get_order(host: &Host, order_id: &str) -> Result<OrderView, ServiceError> {
    let id = order_id.to_string();
    host.service.get_order(&id)
}

/// Runs the three journeys (and a failing payment, to show compensation).
pub fn run(host: &Host) -> anyhow::Result<()> {
    let mut t = Timeline { out: String::new() };
    let alice = id("customer:alice");
    let home = address("1 Market Street", "San Francisco", "CA", "94105");

    // Journey 1: place an order.
    t.heading("Journey 1: a customer places an order");
    let order_id = id("order:alice-1");
    let items = vec![
        item("Trail running shoes", "SHOE-TR-42", 1, 12_999),
        item("Merino socks", "SOCK-MER-M", 3, 1_450),
    ];
    let draft = CreateDraftCommand {
        order_id: order_id.clone(),
        customer_id: alice.clone(),
        items: items.clone(),
        shipping_address: None,
        billing_address: None,
        payment_method: None,
    };
    host.service
        .create_draft(&draft)
        .context("creating the cart")?;
    t.line(format!(
        "customer {alice} fills a cart: order {order_id} in draft"
    ));
    let edit = UpdateDraftCommand {
        order_id: order_id.clone(),
        items: None,
        shipping_address: Some(home.clone()),
        billing_address: Some(home.clone()),
        payment_method: Some(PaymentMethod::CreditCard),
    };
    host.service.update_draft(&edit)?;
    t.line("adds the shipping and billing addresses and a credit card, then places the order");
    let place = PlaceOrderCommand {
        order_id: order_id.clone(),
        customer_id: alice.clone(),
        items,
        shipping_address: home.clone(),
        billing_address: home.clone(),
        payment_method: PaymentMethod::CreditCard,
    };
    let placed = host
        .service
        .place_order(&place)
        .context("placing the order")?;
    let mut seen = history(host, &order_id, 0, &mut t)?;
    t.line(format!(
        "order is {}, total {}",
        placed.status.as_str(),
        money(&placed.total)
    ));
    t.flush();
    host.driver.run_until_idle(Duration::from_secs(30))?;
    seen = history(host, &order_id, seen, &mut t)?;
    let order = get_order(host, &order_id)?;
    let shipping = order
        .shipping
        .clone()
        .context("the saga should have shipped the order")?;
    t.line(format!(
        "order is {}; confirmation sent: {}",
        order.status.as_str(),
        host.sim.customer.messages_for_order(&order_id).len()
    ));

    t.heading("The carrier reports progress (signed webhooks in production)");
    let picked = host.sim.carrier.pick_up(&shipping.shipment_id)?;
    host.service.on_shipment_picked_up(&picked)?;
    t.line(format!(
        "{}  shipment-picked-up        at Origin depot",
        clock_time(picked.picked_up_at)
    ));
    let transit = ShipmentInTransit {
        shipment_id: shipping.shipment_id.clone(),
        current_location: Some("Oakland hub".to_string()),
        updated_at: picked.picked_up_at + 1,
    };
    host.service.on_shipment_in_transit(&transit)?;
    t.line(format!(
        "{}  shipment-in-transit       at Oakland hub",
        clock_time(transit.updated_at)
    ));
    let delivered = host
        .sim
        .carrier
        .deliver(&shipping.shipment_id, Some("A. Customer".to_string()))?;
    host.service.on_shipment_delivered_by_carrier(&delivered)?;
    history(host, &order_id, seen, &mut t)?;
    t.flush();

    // Journey 2: track.
    t.heading("Journey 2: the customer tracks their orders");
    let alice_id = alice.clone();
    let orders = host.service.orders_of_customer(&alice_id)?;
    for o in &orders {
        t.line(format!(
            "order {}  {:<10} {}  {} line(s)",
            o.order_id,
            o.status.as_str(),
            money(&o.total),
            o.items.len()
        ));
    }
    let sid = shipping.shipment_id.clone();
    let shipment = host.service.get_shipment(&sid)?;
    t.line(format!(
        "shipment {} with {}, tracking {}:",
        shipment.shipment_id,
        wit_name(&shipment.carrier),
        shipment.tracking_number
    ));
    for e in &shipment.tracking_history {
        t.line(format!(
            "  {}  {:<16} {}{}",
            clock_time(e.timestamp),
            wit_name(&e.status),
            e.description,
            e.location
                .as_ref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default()
        ));
    }
    t.flush();

    // Journey 3: return.
    t.heading("Journey 3: the customer returns the shoes");
    let return_id = id("return:alice-1");
    let shoes = &order.items[0];
    let request = RequestReturnCommand {
        return_id: return_id.clone(),
        order_id: order_id.clone(),
        customer_id: alice.clone(),
        return_items: vec![ReturnItem {
            item_id: shoes.item_id.clone(),
            product_id: shoes.product_id.clone(),
            quantity: 1,
            return_reason: ReturnReason::Defective,
            condition: "sole separating".to_string(),
        }],
        return_reason: ReturnReason::Defective,
        comments: Some("The left sole came off after one run.".to_string()),
    };
    host.service.request_return(&request)?;
    t.line(format!(
        "return {return_id} requested: 1 x {} (defective)",
        shoes.product_name
    ));
    let approve = ApproveReturnCommand {
        return_id: return_id.clone(),
        approved_by: "Sam (customer service)".to_string(),
        return_label: Some("https://labels.example/RMA-1001".to_string()),
    };
    host.service.approve_return(&approve)?;
    t.line("approved by Sam (customer service); return label issued");
    let receive = ReceiveReturnCommand {
        return_id: return_id.clone(),
        received_at: host.clock.now_ms(),
        condition: "sole separated, otherwise new".to_string(),
        all_items_received: true,
    };
    host.service.receive_return(&receive)?;
    t.line("items received at the warehouse and restocked");
    let refund = ProcessRefundCommand {
        return_id: return_id.clone(),
        refund_amount: shoes.total_price.clone(),
        refund_method: PaymentMethod::CreditCard,
    };
    let refunded = host.service.process_refund(&refund)?;
    t.line(format!(
        "refund of {} processed (refund status {})",
        money(&shoes.total_price),
        wit_name(&refunded.refund_status)
    ));
    let after = get_order(host, &order_id)?;
    t.line(format!(
        "order is {}; refunded so far {}",
        after.status.as_str(),
        money(&after.refunded)
    ));
    t.flush();

    // Compensation, for good measure.
    t.heading("And when payment fails: the saga compensates");
    let bob = id("customer:bob");
    let declined_id = id("order:bob-1");
    host.sim.payment.set_decline_above(Some(100_000));
    let big = PlaceOrderCommand {
        order_id: declined_id.clone(),
        customer_id: bob,
        items: vec![item("Espresso machine", "ESP-PRO-1", 1, 149_900)],
        shipping_address: address("9 Elm Road", "Portland", "OR", "97201"),
        billing_address: address("9 Elm Road", "Portland", "OR", "97201"),
        payment_method: PaymentMethod::DebitCard,
    };
    host.service.place_order(&big)?;
    host.driver.run_until_idle(Duration::from_secs(30))?;
    host.sim.payment.set_decline_above(None);
    history(host, &declined_id, 0, &mut t)?;
    t.flush();

    // A customer cancels a paid order.
    let carol_order = id("order:carol-1");
    let carol = PlaceOrderCommand {
        order_id: carol_order.clone(),
        customer_id: id("customer:carol"),
        items: vec![item("Rain jacket", "JKT-RAIN-S", 1, 8_900)],
        shipping_address: address("3 Pine Lane", "Seattle", "WA", "98101"),
        billing_address: address("3 Pine Lane", "Seattle", "WA", "98101"),
        payment_method: PaymentMethod::Paypal,
    };
    host.service.place_order(&carol)?;
    // The carrier is down for a moment: the saga has charged and allocated,
    // and waits to retry the booking when the customer cancels.
    host.sim
        .control
        .script(Operation::CreateShipment, [Scripted::Transient]);
    host.driver.run_due()?;
    let cancel = CancelOrderCommand {
        order_id: carol_order.clone(),
        reason: "ordered the wrong size".to_string(),
        cancelled_by: "customer".to_string(),
    };
    host.service.cancel_order(&cancel)?;
    host.driver.run_until_idle(Duration::from_secs(30))?;
    t.heading("A customer cancels a paid order while the carrier is unavailable");
    history(host, &carol_order, 0, &mut t)?;

    let today = order_server::text::date(host.clock.now_ms());
    let date = today.clone();
    let metrics = host.service.get_daily_metrics(&date)?;
    t.heading(&format!("Daily metrics for {today}"));
    t.line(format!(
        "orders {}, cancellations {}, refunds {}",
        metrics.order_count, metrics.cancellation_count, metrics.refund_count
    ));
    for c in &metrics.totals {
        t.line(format!(
            "{}: revenue {}.{:02}, average order {}.{:02}, refunded {}.{:02}",
            c.currency,
            c.total_revenue / 100,
            c.total_revenue % 100,
            c.average_order_value / 100,
            c.average_order_value % 100,
            c.refund_total / 100,
            c.refund_total % 100
        ));
    }
    t.line(format!(
        "payment gateway: {} charge(s), {} refund(s); the saga never charged twice",
        host.sim.payment.charges().len(),
        host.sim.payment.refunds().len()
    ));
    t.flush();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::describe_event;

    #[test]
    fn events_are_described_from_their_payload_fields() {
        let payload = serde_json::json!({
            "requested_by": "ops", "carrier": "ups", "tracking_number": "1Z9",
            "cancelled_by": "customer", "reason": "late", "return_id": "r-1",
            "step": "pay", "detail": "refunded", "error": "503", "note": "{step} stays",
            "signed_by": "Kim", "amount": {"amount": 1250, "currency": "EUR"},
        })
        .to_string();
        for (event_type, description) in [
            ("draft-updated", "cart edited"),
            ("saga-started", "fulfilment saga started"),
            ("saga-retry-requested", "saga retry requested by ops"),
            ("order-shipped", "shipped with ups (tracking 1Z9)"),
            ("order-cancelled", "cancelled by customer: late"),
            ("return-opened", "return r-1 claims items"),
            ("saga-step-completed", "saga: pay done"),
            ("saga-step-failed", "saga: pay failed: late"),
            ("compensation-started", "saga: compensating pay"),
            ("compensation-completed", "saga: refunded"),
            ("compensation-skipped", "saga: pay not compensated: late"),
            (
                "compensation-stalled",
                "saga: compensating pay keeps failing (503), retried at the longest delay",
            ),
            (
                "compensation-failed",
                "saga: compensating pay refused (503); left to customer service",
            ),
            (
                "saga-compensation-failed",
                "saga ended with compensation to finish: late",
            ),
            ("saga-completed", "saga completed"),
            ("saga-compensated", "saga compensated: late"),
            ("note-recorded", "note: {step} stays"),
            ("order-refunded", "refunded 12.50 EUR"),
            ("order-delivered", "delivered, signed by Kim"),
            ("something-new", ""),
        ] {
            assert_eq!(
                describe_event(event_type, &payload),
                description,
                "{event_type}"
            );
        }
        // An absent field reads as empty.
        assert_eq!(describe_event("order-cancelled", "{}"), "cancelled by : ");
    }
}
