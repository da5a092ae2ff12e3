//! The three journeys of the domain through the component: a customer places
//! an order and the fulfilment saga pays, allocates, ships and confirms it;
//! the customer tracks it while the carrier reports progress; the customer
//! returns items and is refunded. Also: invalid commands are refused with
//! typed errors and change nothing, and orders survive a restart on SQLite.

use std::time::Duration;

use order_host::bindings::inbound::InboundOutcome;
use order_host::bindings::orders::CancelOrderCommand;
use order_host::bindings::returns::{
    ApproveReturnCommand, ProcessRefundCommand, ReceiveReturnCommand, RequestReturnCommand,
    ReturnItem,
};
use order_host::bindings::shipping_carrier::ShipmentInTransit;
use order_host::bindings::types::{
    CommandError, EntityKind, OrderStatus, PaymentMethod, RefundStatus, ReturnReason, ReturnStatus,
    ShipmentState, ShipmentStatus,
};
use order_host::simulation::FaultPlan;
use order_host::{StoreChoice, StorePolicy};

use crate::util::*;
use order_host::Clock as _;

/// Places an order, runs its saga and delivers it through carrier events.
fn delivered_order(t: &TestHost, name: &str) -> order_host::bindings::orders::OrderView {
    let cmd = order(name, "alice");
    t.place(&cmd).expect("placed");
    t.drive();
    let shipped = t.get_order(&cmd.order_id);
    let shipment_id = shipped.shipping.expect("shipped").shipment_id;
    t.pick_up(&shipment_id);
    t.advance(Duration::from_secs(3600));
    t.deliver(&shipment_id, "Alice");
    t.get_order(&cmd.order_id)
}

#[test]
fn placing_an_order_runs_payment_allocation_shipment_and_confirmation_in_order() {
    let t = start();
    let cmd = order("happy", "alice");
    let placed = t.place(&cmd).expect("placed");
    assert_eq!(placed.status, OrderStatus::Pending);
    assert_eq!(placed.subtotal, usd(6_000));
    assert_eq!(placed.total, usd(6_000));
    assert_eq!(placed.items[0].total_price, usd(5_000));

    t.drive();

    let o = t.get_order(&cmd.order_id);
    assert_eq!(o.status, OrderStatus::Shipped);
    assert_eq!(o.payment.as_ref().expect("paid").amount_paid, usd(6_000));
    assert!(
        o.allocation
            .as_ref()
            .expect("allocated")
            .all_items_allocated
    );
    let id = &cmd.order_id;
    assert_eq!(
        t.calls(),
        vec![
            format!("process-payment order-{id}/process-payment/action"),
            format!("allocate-stock order-{id}/allocate-inventory/action"),
            format!("create-shipment order-{id}/create-shipment/action"),
            format!("send-order-confirmation order-{id}/notify-customer/action"),
        ]
    );
    assert_eq!(t.host.sim.payment.total_charged(), 6_000);
    assert_eq!(t.host.sim.customer.messages_for_order(id).len(), 1);
    assert!(
        t.host.store.all_timers().expect("timers").is_empty(),
        "saga finished"
    );
    let report = t.host.service.saga_status(id).expect("status");
    assert!(report.output.success);
    assert_eq!(
        report.output.tracking_number,
        o.shipping.map(|s| s.tracking_number)
    );
}

#[test]
fn carrier_events_deliver_the_order_and_build_the_tracking_history() {
    let t = start();
    let o = delivered_order(&t, "tracked");
    assert_eq!(o.status, OrderStatus::Delivered);
    assert_eq!(
        o.delivery
            .as_ref()
            .and_then(|d| d.signed_by.clone())
            .as_deref(),
        Some("Alice")
    );
    let shipment_id = o.shipping.expect("shipping").shipment_id;
    let transit = ShipmentInTransit {
        shipment_id: shipment_id.clone(),
        current_location: Some("Oakland".to_string()),
        updated_at: START_MS,
    };
    // A late in-transit update after delivery is refused: the shipment is done.
    let late = t.host.service.on_shipment_in_transit(&transit);
    assert!(matches!(
        command_error(late),
        CommandError::InvalidTransition(_)
    ));
    let s = t.host.service.get_shipment(&shipment_id).expect("shipment");
    assert_eq!(s.state, ShipmentState::DeliveryComplete);
    let statuses: Vec<ShipmentStatus> = s.tracking_history.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        vec![
            ShipmentStatus::AwaitingPickup,
            ShipmentStatus::PickedUp,
            ShipmentStatus::Delivered
        ]
    );
}

#[test]
fn a_redelivered_carrier_event_is_a_duplicate_and_changes_nothing() {
    let t = start();
    let cmd = order("dup", "alice");
    t.place(&cmd).expect("placed");
    t.drive();
    let shipment_id = t
        .get_order(&cmd.order_id)
        .shipping
        .expect("shipped")
        .shipment_id;
    let picked = t.host.sim.carrier.pick_up(&shipment_id).expect("pick up");
    let first = t
        .host
        .service
        .on_shipment_picked_up(&picked)
        .expect("first");
    let shipment_version = |t: &TestHost| {
        t.host
            .service
            .get_shipment(&shipment_id)
            .expect("shipment")
            .version
    };
    let before = shipment_version(&t);
    let second = t
        .host
        .service
        .on_shipment_picked_up(&picked)
        .expect("second");
    assert_eq!(first, InboundOutcome::Applied);
    assert_eq!(second, InboundOutcome::Duplicate);
    assert_eq!(shipment_version(&t), before);
}

#[test]
fn a_customer_sees_all_their_orders_with_status_and_carrier() {
    let t = start();
    delivered_order(&t, "first");
    let second = order("second", "alice");
    t.place(&second).expect("placed");
    let other = order("other", "bob");
    t.place(&other).expect("placed");

    let alice = uuid("customer:alice");
    let orders = t.host.service.orders_of_customer(&alice).expect("orders");
    let statuses: Vec<OrderStatus> = orders.iter().map(|o| o.status).collect();
    assert_eq!(statuses, vec![OrderStatus::Delivered, OrderStatus::Pending]);
    let shipments = t
        .host
        .service
        .shipments_of_order(&orders[0].order_id)
        .expect("shipments");
    assert_eq!(shipments.len(), 1);
    assert_eq!(shipments[0].tracking_history.len(), 3);
}

fn request(
    order: &order_host::bindings::orders::OrderView,
    return_name: &str,
    quantity: u32,
) -> RequestReturnCommand {
    let line = &order.items[0];
    RequestReturnCommand {
        return_id: uuid(&format!("return:{return_name}")),
        order_id: order.order_id.clone(),
        customer_id: order.customer_id.clone(),
        return_items: vec![ReturnItem {
            item_id: line.item_id.clone(),
            product_id: line.product_id.clone(),
            quantity,
            return_reason: ReturnReason::Defective,
            condition: "cracked".to_string(),
        }],
        return_reason: ReturnReason::Defective,
        comments: None,
    }
}

/// Sam approves the return (no label) and it is received in a fine
/// condition, complete or not.
fn approve_and_receive(t: &TestHost, return_id: &str, all_items_received: bool) {
    let svc = &t.host.service;
    svc.approve_return(&ApproveReturnCommand {
        return_id: return_id.to_string(),
        approved_by: "Sam".to_string(),
        return_label: None,
    })
    .expect("approved");
    svc.receive_return(&ReceiveReturnCommand {
        return_id: return_id.to_string(),
        received_at: t.clock.now_ms() + 1,
        condition: "fine".to_string(),
        all_items_received,
    })
    .expect("received");
}

#[test]
fn a_return_is_approved_received_restocked_and_refunded() {
    let t = start();
    let o = delivered_order(&t, "returned");
    let mug = o.items[0].product_id.clone();
    let stock_before = t.host.sim.inventory.available(&mug);
    let req = request(&o, "r1", 2);
    let svc = &t.host.service;
    let r = svc.request_return(&req).expect("requested");
    assert_eq!(r.status, ReturnStatus::Requested);
    assert_eq!(r.refund_status, RefundStatus::Pending);
    let approve = ApproveReturnCommand {
        return_id: req.return_id.clone(),
        approved_by: "Sam".to_string(),
        return_label: Some("RMA-1".to_string()),
    };
    svc.approve_return(&approve).expect("approved");
    let receive = ReceiveReturnCommand {
        return_id: req.return_id.clone(),
        received_at: START_MS + 10_000_000,
        condition: "as described".to_string(),
        all_items_received: true,
    };
    svc.receive_return(&receive).expect("received");
    assert_eq!(
        t.host.sim.inventory.available(&mug),
        stock_before + 2,
        "restocked"
    );
    let refund = ProcessRefundCommand {
        return_id: req.return_id.clone(),
        refund_amount: usd(5_000),
        refund_method: PaymentMethod::CreditCard,
    };
    let r = svc.process_refund(&refund).expect("refunded");
    assert_eq!(r.status, ReturnStatus::Refunded);
    assert_eq!(r.refund_status, RefundStatus::Processed);
    assert_eq!(t.host.sim.payment.total_refunded(), 5_000);
    let after = t.get_order(&o.order_id);
    assert_eq!(after.refunded, usd(5_000));
    assert_eq!(
        after.status,
        OrderStatus::Delivered,
        "the tea is not returned"
    );
}

#[test]
fn returning_everything_moves_the_order_to_returned() {
    let t = start();
    let o = delivered_order(&t, "all-back");
    let svc = &t.host.service;
    let mut req = request(&o, "all", 2);
    let tea = &o.items[1];
    req.return_items.push(ReturnItem {
        item_id: tea.item_id.clone(),
        product_id: tea.product_id.clone(),
        quantity: 1,
        return_reason: ReturnReason::NoLongerNeeded,
        condition: "sealed".to_string(),
    });
    svc.request_return(&req).expect("requested");
    approve_and_receive(&t, &req.return_id, true);
    svc.process_refund(&ProcessRefundCommand {
        return_id: req.return_id.clone(),
        refund_amount: usd(6_000),
        refund_method: PaymentMethod::CreditCard,
    })
    .expect("refunded");
    assert_eq!(t.get_order(&o.order_id).status, OrderStatus::Returned);
}

#[test]
fn invalid_commands_get_typed_errors_and_change_nothing() {
    let t = start();
    let svc = &t.host.service;

    // A bound exceeded: nothing is created.
    let mut bad = order("bad-sku", "alice");
    bad.items[0].sku = "X".repeat(51);
    match command_error(t.place(&bad)) {
        CommandError::Validation(v) => assert_eq!(v.field, "items[0].sku"),
        other => panic!("unexpected {other:?}"),
    }
    let missing = svc.get_order(&bad.order_id);
    assert!(
        matches!(command_error(missing), CommandError::NotFound(n) if n.entity == EntityKind::Order)
    );

    // A wrong transition: cancelling a shipped order.
    let o = delivered_order(&t, "shipped-then-cancel");
    let before = t.history_len(&o.order_id);
    let cancel = CancelOrderCommand {
        order_id: o.order_id.clone(),
        reason: "changed my mind".to_string(),
        cancelled_by: "customer".to_string(),
    };
    match command_error(svc.cancel_order(&cancel)) {
        CommandError::InvalidTransition(e) => {
            assert_eq!(e.state, "delivered");
            assert_eq!(e.command, "cancel-order");
        }
        other => panic!("unexpected {other:?}"),
    }

    // A return beyond what was ordered.
    let too_many = request(&o, "too-many", 3);
    match command_error(svc.request_return(&too_many)) {
        CommandError::RuleViolated(r) => {
            assert_eq!(r.rule, "quantity-exceeds-returnable");
            assert_eq!(r.field.as_deref(), Some("return-items[0].quantity"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        t.history_len(&o.order_id),
        before,
        "refused commands append nothing"
    );

    // A refund beyond what was paid.
    let req = request(&o, "ok", 1);
    svc.request_return(&req).expect("requested");
    approve_and_receive(&t, &req.return_id, false);
    let refunds_before = t.host.sim.payment.refunds().len();
    let greedy = ProcessRefundCommand {
        return_id: req.return_id.clone(),
        refund_amount: usd(6_001),
        refund_method: PaymentMethod::CreditCard,
    };
    match command_error(svc.process_refund(&greedy)) {
        CommandError::RuleViolated(r) => {
            assert_eq!(r.rule, "refund-exceeds-paid");
            assert_eq!(r.field.as_deref(), Some("refund-amount"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        t.host.sim.payment.refunds().len(),
        refunds_before,
        "no refund was attempted"
    );
    let r = svc.get_return(&req.return_id).expect("return");
    assert_eq!(r.status, ReturnStatus::Received);
}

#[test]
fn a_return_is_refused_after_the_return_window() {
    let t = start();
    let o = delivered_order(&t, "late");
    t.advance(Duration::from_secs(31 * 24 * 3600));
    let req = request(&o, "late", 1);
    let result = t.host.service.request_return(&req);
    match command_error(result) {
        CommandError::RuleViolated(r) => assert_eq!(r.rule, "return-window-expired"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn orders_survive_a_restart_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("orders.db");
    let cmd = order("durable", "alice");
    {
        let t = start_with(
            StoreChoice::Sqlite(path.clone()),
            fast_policy(),
            FaultPlan::default(),
        );
        t.place(&cmd).expect("placed");
        t.drive();
    }
    let t = start_with(
        StoreChoice::Sqlite(path),
        StorePolicy::default(),
        FaultPlan::default(),
    );
    let o = t.get_order(&cmd.order_id);
    assert_eq!(o.status, OrderStatus::Shipped);
    assert!(t.history_len(&cmd.order_id) >= 12);
}
