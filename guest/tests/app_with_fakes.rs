//! The application layer end to end over in-memory fakes of its ports: a
//! placed order's saga calls payment, inventory, carrier and customer
//! service in order with stable idempotency keys and ends shipped with its
//! timer cleared; failures cancel the order and undo exactly what was done
//! (a declined payment refunds nothing, an out-of-stock allocation refunds
//! once, a cancellation releases stock and refunds); a finished saga makes
//! no further call; daily metrics count placements, cancellations and
//! refunds; inbound events are idempotent and unknown ids are `NotFound`.

mod common;

use common::fakes::*;
use common::*;
use order_core::app::inbound::Inbound;
use order_core::app::ports::Unavailable;
use order_core::domain::order::{Order, OrderStatus, PlaceOrder};
use order_core::domain::returns::ReturnStatus;
use order_core::domain::saga::{CompensationStatus, Finished, SagaStep, StepStatus};
use order_core::domain::shipment::ShipmentState;
use order_core::domain::values::*;
use order_core::domain::{DomainError, Entity};

/// An order placed and taken through its whole saga.
fn fulfilled(w: &World) -> Order {
    w.placed();
    w.clock.advance(MINUTE);
    w.app().advance_saga(ORDER_ID).unwrap()
}

fn shipment_id(order: &Order) -> String {
    order.shipping.as_ref().unwrap().shipment_id.clone()
}

// ----- the saga -----------------------------------------------------------------

#[test]
fn placing_an_order_prices_it_and_schedules_its_saga() {
    let w = World::new();
    let order = w.placed();
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(order.subtotal, usd(SUBTOTAL));
    assert_eq!(order.tax, usd(SUBTOTAL * TAX_PERCENT / 100));
    assert_eq!(order.shipping_cost, usd(FLAT_SHIPPING));
    assert_eq!(order.total, usd(QUOTED_TOTAL));
    assert_eq!(w.store.timer(ORDER_ID), Some(T0), "the saga is due now");
    assert!(w.calls().is_empty(), "placing calls no external context");
    assert_eq!(
        w.app().orders_of_customer(CUSTOMER_ID).unwrap(),
        vec![order]
    );
}

#[test]
fn the_saga_runs_the_four_steps_in_order_and_leaves_the_order_shipped() {
    let w = World::new();
    let order = fulfilled(&w);
    assert_eq!(
        w.op_keys(),
        vec![
            op_key("process-payment", SagaStep::ProcessPayment, false),
            op_key("allocate-stock", SagaStep::AllocateInventory, false),
            op_key("create-shipment", SagaStep::CreateShipment, false),
            op_key("send-order-confirmation", SagaStep::NotifyCustomer, false),
        ]
    );
    assert_eq!(
        w.calls()[0].detail,
        format!("{ORDER_ID} {} credit-card", usd(QUOTED_TOTAL))
    );
    assert_eq!(w.calls()[1].detail, "2xSKU-A,1xSKU-B");
    assert_eq!(order.status, OrderStatus::Shipped);
    assert_eq!(
        order.payment.as_ref().unwrap().amount_paid,
        usd(QUOTED_TOTAL)
    );
    assert!(order.allocation.as_ref().unwrap().all_items_allocated);
    let sid = shipment_id(&order);
    assert_eq!(
        sid,
        booked_shipment_id(&key(SagaStep::CreateShipment, false))
    );
    let tracking = order.shipping.as_ref().unwrap().tracking_number.clone();
    assert!(
        w.calls()[3].detail.ends_with(&tracking),
        "the confirmation carries the tracking number"
    );
    assert_eq!(
        order.saga.finished,
        Some(Finished::Completed {
            shipment_id: sid.clone(),
            tracking_number: tracking,
        })
    );
    assert_eq!(w.store.timer(ORDER_ID), None, "the timer is cleared");
    let shipments = w.app().shipments_of_order(ORDER_ID).unwrap();
    assert_eq!(shipments.len(), 1);
    assert_eq!(shipments[0].shipment_id, sid);
    assert_eq!(shipments[0].state, ShipmentState::Active);
}

#[test]
fn rerunning_a_finished_saga_makes_no_external_call_and_writes_nothing() {
    let w = World::new();
    fulfilled(&w);
    let calls = w.calls();
    let versions = w.store.versions();
    w.clock.advance(DAY);
    for _ in 0..3 {
        let order = w.app().advance_saga(ORDER_ID).unwrap();
        assert_eq!(order.status, OrderStatus::Shipped);
    }
    assert_eq!(w.calls(), calls);
    assert_eq!(w.store.versions(), versions);
    assert_eq!(w.store.timer(ORDER_ID), None);
}

#[test]
fn a_transient_payment_failure_is_retried_at_the_timer_with_the_same_key() {
    let w = World::new();
    w.placed();
    w.transient("process-payment", "gateway timeout");
    let app = w.app();
    let order = app.advance_saga(ORDER_ID).unwrap();
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(
        order.saga.step(SagaStep::ProcessPayment).status,
        StepStatus::Retrying
    );
    let due = w.store.timer(ORDER_ID).expect("a retry is scheduled");
    let delay = saga_policy()
        .retry
        .delay_ms(1, &key(SagaStep::ProcessPayment, false));
    assert_eq!(due, T0 + delay);
    // Before the timer nothing happens.
    app.advance_saga(ORDER_ID).unwrap();
    assert_eq!(w.ops(), vec!["process-payment"]);
    w.clock.set(due);
    let order = app.advance_saga(ORDER_ID).unwrap();
    assert_eq!(order.status, OrderStatus::Shipped);
    let payments = w.calls_of("process-payment");
    assert_eq!(payments.len(), 2);
    assert_eq!(payments[0].key, payments[1].key);
    assert_eq!(order.saga.step(SagaStep::ProcessPayment).attempts, 2);
}

#[test]
fn a_declined_payment_cancels_the_order_and_sends_the_notice_without_a_refund() {
    let w = World::new();
    w.placed();
    w.permanent("process-payment", "card declined");
    let order = w.app().advance_saga(ORDER_ID).unwrap();
    assert_eq!(
        w.op_keys(),
        vec![
            op_key("process-payment", SagaStep::ProcessPayment, false),
            op_key("send-order-cancellation", SagaStep::NotifyCustomer, true),
        ]
    );
    assert!(w.calls_of("refund-payment").is_empty());
    assert_eq!(order.status, OrderStatus::Cancelled);
    let cancellation = order.cancellation.as_ref().unwrap();
    assert_eq!(cancellation.reason, "process-payment failed: card declined");
    assert_eq!(cancellation.cancelled_by, "fulfillment-saga");
    assert!(w.calls()[1].detail.contains("card declined"));
    assert_eq!(
        order.saga.finished,
        Some(Finished::Compensated {
            failed_step: Some(SagaStep::ProcessPayment),
            reason: "card declined".to_string(),
        })
    );
    assert_eq!(order.refunded, usd(0));
    assert_eq!(w.store.timer(ORDER_ID), None);
}

#[test]
fn an_out_of_stock_allocation_refunds_exactly_once_and_cancels() {
    let w = World::new();
    w.placed();
    w.fails(
        "allocate-stock",
        Failure::OutOfStock(vec![Unavailable {
            product_id: PRODUCT_A.to_string(),
            requested: 2,
            available: 0,
        }]),
    );
    let app = w.app();
    let order = app.advance_saga(ORDER_ID).unwrap();
    assert_eq!(
        w.op_keys(),
        vec![
            op_key("process-payment", SagaStep::ProcessPayment, false),
            op_key("allocate-stock", SagaStep::AllocateInventory, false),
            op_key("refund-payment", SagaStep::ProcessPayment, true),
            op_key("send-order-cancellation", SagaStep::NotifyCustomer, true),
        ]
    );
    assert!(
        w.calls_of("release-stock").is_empty(),
        "nothing was reserved"
    );
    let txn = order.payment.as_ref().unwrap().transaction_id.clone();
    assert_eq!(
        w.calls_of("refund-payment")[0].detail,
        format!("{txn} {}", usd(QUOTED_TOTAL))
    );
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert!(
        order
            .cancellation
            .as_ref()
            .unwrap()
            .reason
            .starts_with("allocate-inventory failed: out of stock: "),
        "{:?}",
        order.cancellation
    );
    assert_eq!(order.refunded, usd(QUOTED_TOTAL));
    // Running the saga again refunds nothing more.
    w.clock.advance(DAY);
    app.advance_saga(ORDER_ID).unwrap();
    assert_eq!(w.calls_of("refund-payment").len(), 1);
    assert!(matches!(
        app.get_order(ORDER_ID).unwrap().saga.finished,
        Some(Finished::Compensated {
            failed_step: Some(SagaStep::AllocateInventory),
            ..
        })
    ));
}

#[test]
fn cancelling_a_confirmed_allocated_order_releases_stock_and_refunds() {
    let w = World::new();
    let app = w.app();
    w.placed();
    app.confirm_payment(ORDER_ID, "txn-manual", usd(QUOTED_TOTAL))
        .unwrap();
    app.allocate_inventory(
        ORDER_ID,
        &[(ITEM_A.to_string(), true), (ITEM_B.to_string(), true)],
    )
    .unwrap();
    assert!(w.calls().is_empty());
    w.clock.advance(MINUTE);
    let order = app
        .cancel_order(ORDER_ID, "customer changed their mind", "csr-1")
        .unwrap();
    assert_eq!(
        w.op_keys(),
        vec![
            op_key("release-stock", SagaStep::AllocateInventory, true),
            op_key("refund-payment", SagaStep::ProcessPayment, true),
            op_key("send-order-cancellation", SagaStep::NotifyCustomer, true),
        ]
    );
    assert_eq!(w.calls()[0].detail, "2xSKU-A,1xSKU-B");
    assert_eq!(
        w.calls()[1].detail,
        format!("txn-manual {}", usd(QUOTED_TOTAL))
    );
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(order.refunded, usd(QUOTED_TOTAL));
    assert_eq!(
        order.saga.finished,
        Some(Finished::Compensated {
            failed_step: None,
            reason: "customer changed their mind".to_string(),
        })
    );
    assert_eq!(w.store.timer(ORDER_ID), None);
    // A second cancellation is refused and calls nothing.
    let calls = w.calls();
    assert!(matches!(
        app.cancel_order(ORDER_ID, "again", "csr-1"),
        Err(DomainError::InvalidTransition { .. })
    ));
    app.advance_saga(ORDER_ID).unwrap();
    assert_eq!(w.calls(), calls);
}

#[test]
fn cancelling_a_pending_order_only_sends_the_notice() {
    let w = World::new();
    w.placed();
    let order = w
        .app()
        .cancel_order(ORDER_ID, "duplicate", "customer")
        .unwrap();
    assert_eq!(w.ops(), vec!["send-order-cancellation"]);
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert!(order.saga.finished.is_some());
}

#[test]
fn a_failing_confirmation_gives_up_and_the_order_stays_shipped() {
    let w = World::new();
    w.placed();
    w.permanent("send-order-confirmation", "no email on file");
    let order = w.app().advance_saga(ORDER_ID).unwrap();
    assert_eq!(order.status, OrderStatus::Shipped);
    assert_finished(&order, "completed");
    assert_eq!(
        order.notes[0],
        "the order confirmation could not be sent to the customer: no email on file"
    );
    // Customer service is asked to reach the customer.
    assert!(
        order.notes[1].starts_with("support ticket "),
        "{:?}",
        order.notes
    );
    let tickets = w.keys_of("create-support-ticket");
    assert_eq!(
        tickets,
        vec![format!(
            "order-{ORDER_ID}/support-ticket/notify-customer/undelivered"
        )]
    );
    assert!(w.calls_of("refund-payment").is_empty());
}

#[test]
fn a_cancellation_notice_that_cannot_be_sent_is_noted_and_the_saga_ends() {
    let w = World::new();
    w.placed();
    w.permanent("process-payment", "card declined");
    w.permanent("send-order-cancellation", "no email on file");
    let order = w.app().advance_saga(ORDER_ID).unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(
        order.notes[..1],
        [
            "the cancellation notice could not be sent to the customer: no email on file"
                .to_string()
        ]
    );
    assert_eq!(
        order.saga.notes,
        vec!["send-order-cancellation gave up: no email on file".to_string()]
    );
    assert_finished(&order, "compensated");
    assert_eq!(w.store.timer(ORDER_ID), None);
}

#[test]
fn a_stalled_compensation_keeps_retrying_until_it_succeeds() {
    let w = World::new();
    let app = w.app();
    w.placed();
    w.permanent("create-shipment", "no carrier serves the area");
    for _ in 0..3 {
        w.transient("refund-payment", "gateway down");
    }
    let mut order = app.advance_saga(ORDER_ID).unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(
        order.saga.compensation(SagaStep::ProcessPayment).status,
        CompensationStatus::Retrying
    );
    // Two more attempts at the timer, and the refund stalls.
    for _ in 0..2 {
        w.clock.set(w.store.timer(ORDER_ID).unwrap());
        order = app.advance_saga(ORDER_ID).unwrap();
    }
    assert_eq!(
        order.saga.stalled(),
        vec!["refund-payment: transient: gateway down".to_string()]
    );
    assert_eq!(
        w.store.timer(ORDER_ID),
        Some(w.clock.now() + saga_policy().retry.max_delay_ms),
        "a stalled compensation is retried at the longest delay"
    );
    assert!(
        w.calls_of("send-order-cancellation").is_empty(),
        "held back"
    );
    let order = w.run_saga_to_the_end(&app);
    assert_eq!(w.calls_of("refund-payment").len(), 4);
    assert_eq!(w.calls_of("send-order-cancellation").len(), 1);
    assert_eq!(w.calls_of("release-stock").len(), 1);
    assert_eq!(order.refunded, usd(QUOTED_TOTAL));
    assert_compensated_after(&order, SagaStep::CreateShipment);
}

// ----- metrics ------------------------------------------------------------------

#[test]
fn daily_metrics_count_placed_orders_cancellations_and_refunds() {
    let w = World::new();
    let app = w.app();
    let order = fulfilled(&w);
    app.place_order(PlaceOrder {
        order_id: OTHER_ORDER_ID.to_string(),
        ..place_cmd()
    })
    .unwrap();
    app.cancel_order(OTHER_ORDER_ID, "duplicate", "customer")
        .unwrap();

    w.clock.advance(HOUR);
    app.on_delivered(&shipment_id(&order), w.clock.now(), None)
        .unwrap();
    w.clock.advance(MINUTE);
    w.return_one_b_received(&app);
    let refunded = app
        .process_refund(RETURN_ID, usd(PRICE_B), PaymentMethod::CreditCard)
        .unwrap();
    assert_eq!(refunded.status, ReturnStatus::Refunded);
    assert_eq!(w.calls_of("restock-items").len(), 1);
    assert_eq!(
        w.calls_of("refund-payment")[0].key,
        format!("return-{RETURN_ID}/refund/{PRICE_B}-USD")
    );

    let day = app.daily_metrics(&utc_date(T0)).unwrap();
    assert_eq!(day.order_count(), 2);
    assert_eq!(day.cancellation_count(), 1);
    assert_eq!(day.refund_count(), 1);
    let usd_totals = &day.by_currency["USD"];
    assert_eq!(usd_totals.total_revenue, 2 * QUOTED_TOTAL);
    assert_eq!(usd_totals.average_order_value(), QUOTED_TOTAL);
    assert_eq!(usd_totals.refund_total, PRICE_B);

    let next_day = app.daily_metrics(&utc_date(T0 + DAY)).unwrap();
    assert_eq!(next_day.order_count(), 0);
}

#[test]
fn a_cancelled_draft_is_not_counted() {
    let w = World::new();
    let app = w.app();
    app.create_draft(
        order_core::domain::order::CreateDraft::validate(
            ORDER_ID,
            CUSTOMER_ID,
            vec![item_a()],
            None,
            None,
            None,
        )
        .unwrap(),
    )
    .unwrap();
    app.cancel_order(ORDER_ID, "abandoned", "customer").unwrap();
    let day = app.daily_metrics(&utc_date(T0)).unwrap();
    assert_eq!(day.order_count(), 0);
    assert_eq!(day.cancellation_count(), 0);
    assert!(w.calls().is_empty(), "no notice for a draft");
}

// ----- inbound events -----------------------------------------------------------

#[test]
fn a_repeated_payment_succeeded_is_a_duplicate_and_writes_nothing() {
    let w = World::new();
    let app = w.app();
    w.placed();
    assert_eq!(
        app.on_payment_succeeded(ORDER_ID, "txn-hook", usd(QUOTED_TOTAL)),
        Ok(Inbound::Applied)
    );
    assert_eq!(
        app.get_order(ORDER_ID).unwrap().status,
        OrderStatus::Confirmed
    );
    let versions = w.store.versions();
    assert_eq!(
        app.on_payment_succeeded(ORDER_ID, "txn-hook", usd(QUOTED_TOTAL)),
        Ok(Inbound::Duplicate)
    );
    assert_eq!(w.store.versions(), versions);
    // The saga then takes the recorded payment and never charges.
    app.advance_saga(ORDER_ID).unwrap();
    assert!(w.calls_of("process-payment").is_empty());
}

#[test]
fn a_repeated_tracking_update_is_a_duplicate_and_writes_nothing() {
    let w = World::new();
    let app = w.app();
    let sid = shipment_id(&fulfilled(&w));
    let at = w.clock.now() + HOUR;
    assert_eq!(
        app.on_tracking(&sid, ShipmentStatus::PickedUp, Some("Depot".into()), at),
        Ok(Inbound::Applied)
    );
    let versions = w.store.versions();
    let calls = w.calls();
    assert_eq!(
        app.on_tracking(&sid, ShipmentStatus::PickedUp, Some("Depot".into()), at),
        Ok(Inbound::Duplicate)
    );
    assert_eq!(w.store.versions(), versions);
    assert_eq!(w.calls(), calls, "the customer is not told twice");
    assert_eq!(w.calls_of("send-shipping-update").len(), 1);
    // A later update with the same status is news.
    assert_eq!(
        app.on_tracking(&sid, ShipmentStatus::InTransit, None, at + 1),
        Ok(Inbound::Applied)
    );
    let statuses: Vec<ShipmentStatus> = app
        .get_shipment(&sid)
        .unwrap()
        .tracking_history
        .iter()
        .map(|t| t.status)
        .collect();
    assert_eq!(
        statuses,
        vec![
            ShipmentStatus::AwaitingPickup,
            ShipmentStatus::PickedUp,
            ShipmentStatus::InTransit
        ]
    );
}

#[test]
fn a_repeated_delivery_is_a_duplicate_and_writes_nothing() {
    let w = World::new();
    let app = w.app();
    let sid = shipment_id(&fulfilled(&w));
    let at = w.clock.now() + DAY;
    assert_eq!(
        app.on_delivered(&sid, at, Some("Pat".into())),
        Ok(Inbound::Applied)
    );
    let order = app.get_order(ORDER_ID).unwrap();
    assert_eq!(order.status, OrderStatus::Delivered);
    assert_eq!(order.delivery.as_ref().unwrap().delivered_at, at);
    assert_eq!(
        app.get_shipment(&sid).unwrap().state,
        ShipmentState::DeliveryComplete
    );
    let versions = w.store.versions();
    assert_eq!(
        app.on_delivered(&sid, at, Some("Pat".into())),
        Ok(Inbound::Duplicate)
    );
    assert_eq!(w.store.versions(), versions);
}

#[test]
fn inbound_events_for_unknown_entities_are_not_found() {
    let w = World::new();
    let app = w.app();
    assert_eq!(
        app.on_payment_succeeded(OTHER_ORDER_ID, "txn", usd(1)),
        Err(DomainError::NotFound {
            entity: Entity::Order,
            id: OTHER_ORDER_ID.to_string(),
        })
    );
    assert!(matches!(
        app.on_stock_allocated(OTHER_ORDER_ID, true),
        Err(DomainError::NotFound {
            entity: Entity::Order,
            ..
        })
    ));
    assert!(matches!(
        app.on_payment_failed(OTHER_ORDER_ID, "declined"),
        Err(DomainError::NotFound {
            entity: Entity::Order,
            ..
        })
    ));
    assert!(matches!(
        app.on_tracking(SHIPMENT_ID, ShipmentStatus::PickedUp, None, T0),
        Err(DomainError::NotFound {
            entity: Entity::Shipment,
            ..
        })
    ));
    assert!(matches!(
        app.on_delivered(SHIPMENT_ID, T0, None),
        Err(DomainError::NotFound {
            entity: Entity::Shipment,
            ..
        })
    ));
    assert_eq!(w.store.total_events(), 0);
    assert!(w.calls().is_empty());
}

#[test]
fn a_payment_failed_event_cancels_the_order_once() {
    let w = World::new();
    let app = w.app();
    w.placed();
    assert_eq!(
        app.on_payment_failed(ORDER_ID, "insufficient funds"),
        Ok(Inbound::Applied)
    );
    let order = app.get_order(ORDER_ID).unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(w.ops(), vec!["send-order-cancellation"]);
    let versions = w.store.versions();
    assert_eq!(
        app.on_payment_failed(ORDER_ID, "insufficient funds"),
        Ok(Inbound::Duplicate)
    );
    assert_eq!(w.store.versions(), versions);
    assert_eq!(w.ops(), vec!["send-order-cancellation"]);
}

// ----- the fake store itself ----------------------------------------------------

#[test]
fn the_in_memory_store_rejects_a_stale_batch_atomically() {
    use order_core::app::ports::{AppendBatch, EventStore, NewEvent, StoreError, StreamAppend};
    let w = World::new();
    let event = || NewEvent {
        event_type: "e".into(),
        payload: "{}".into(),
    };
    let batch = |expected_a: u64, expected_b: u64| AppendBatch {
        streams: vec![
            StreamAppend {
                stream_id: "a".into(),
                expected_version: expected_a,
                tags: vec!["t".into()],
                events: vec![event()],
                state: None,
            },
            StreamAppend {
                stream_id: "b".into(),
                expected_version: expected_b,
                tags: vec![],
                events: vec![event(), event()],
                state: None,
            },
        ],
        timers: vec![("saga".into(), Some(T0))],
    };
    w.store.append(&batch(0, 0)).unwrap();
    assert_eq!(
        w.store.append(&batch(1, 0)),
        Err(StoreError::Conflict {
            stream_id: "b".into(),
            expected: 0,
            actual: 2,
        })
    );
    assert_eq!(w.store.stream_version("a"), Ok(1), "a is untouched");
    assert_eq!(w.store.find_streams("t"), Ok(vec!["a".to_string()]));
    assert_eq!(w.store.timer("saga"), Some(T0));
}

const HOUR: Timestamp = 60 * MINUTE;

#[test]
fn an_allocation_lost_in_flight_is_recovered_before_its_stock_is_released() {
    use order_core::domain::order::OrderEvent;

    let w = World::new();
    let app = w.app();
    w.placed();
    w.transient("allocate-stock", "busy");
    let order = app.advance_saga(ORDER_ID).unwrap();
    assert_eq!(
        order.status,
        OrderStatus::Confirmed,
        "paid, allocation to retry"
    );
    // An advance started the retry and died before recording its answer.
    let started = OrderEvent::SagaStepStarted {
        step: SagaStep::AllocateInventory,
        attempt: 2,
        started_at: w.clock.now(),
        lease_until: w.clock.now() + 1,
    };
    w.append_raw(&[started]);
    w.clock.advance(MINUTE);
    let before = w.calls().len();
    let order = app
        .cancel_order(ORDER_ID, "changed my mind", "customer")
        .unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    // The lost allocation is asked for again under its own key first, so the
    // release cannot overtake it; then the refund and the notice.
    assert_eq!(
        w.op_keys()[before..].to_vec(),
        vec![
            op_key("allocate-stock", SagaStep::AllocateInventory, false),
            op_key("release-stock", SagaStep::AllocateInventory, true),
            op_key("refund-payment", SagaStep::ProcessPayment, true),
            op_key("send-order-cancellation", SagaStep::NotifyCustomer, true),
        ]
    );
    assert_finished(&order, "compensated");
}

#[test]
fn a_charge_lost_in_flight_while_another_payment_confirmed_the_order_is_refunded() {
    use order_core::domain::order::OrderEvent;
    let w = World::new();
    let app = w.app();
    w.placed();
    // An advance started the charge and died; meanwhile a webhook confirmed
    // the order with another transaction.
    w.append_raw(&[
        OrderEvent::SagaStarted { started_at: T0 },
        OrderEvent::SagaStepStarted {
            step: SagaStep::ProcessPayment,
            attempt: 1,
            started_at: T0,
            lease_until: T0 + 1,
        },
    ]);
    app.confirm_payment(ORDER_ID, "txn-from-webhook", usd(QUOTED_TOTAL))
        .unwrap();
    w.clock.advance(MINUTE);
    let order = w.run_saga_to_the_end(&app);
    // The saga learnt its own charge (same key) and gave it back.
    let keys = w.keys_of("refund-payment");
    assert_eq!(
        keys,
        vec![format!("order-{ORDER_ID}/process-payment/duplicate")]
    );
    assert_eq!(
        order.payment.as_ref().unwrap().transaction_id,
        "txn-from-webhook"
    );
    assert_noted(&order, "duplicate charge");
    assert_eq!(order.status, OrderStatus::Shipped);
}

#[test]
fn a_stale_out_of_stock_report_after_allocation_is_refused() {
    let w = World::new();
    let app = w.app();
    w.placed();
    w.transient("create-shipment", "carrier down");
    let order = app.advance_saga(ORDER_ID).unwrap();
    assert!(order.allocation.as_ref().unwrap().all_items_allocated);
    let result = app.on_stock_allocation_failed(ORDER_ID, "sku-1 (2 requested, 0 available)");
    assert!(
        matches!(result, Err(DomainError::InvalidTransition { .. })),
        "{result:?}"
    );
    assert_eq!(
        app.get_order(ORDER_ID).unwrap().status,
        OrderStatus::Confirmed
    );
}
