//! Races that move money, each given/when/then over the fakes: a step
//! achieved by another path while the saga's call is out is done, not
//! failed; a failure report during the saga's own unanswered call waits for
//! it and refunds what it charged; a transient answer to a repeat does not
//! hide the first attempt's effect; a cancellation learns and refunds the
//! saga's own charge besides the order's payment; a release gives back
//! exactly what was allocated; a carrier's booking that arrives before the
//! order can ship is used or cancelled, never left behind; a booking the
//! carrier reports for an order already shipped with another shipment is
//! cancelled; a charge whose answer lost the race to be recorded stays in
//! doubt through a transient repeat and is refunded; a support ticket
//! refused for good is asked again under a new key until it is opened; a
//! return's refund key names its amount.

mod common;

use common::fakes::*;
use common::*;
use order_core::app::App;
use order_core::app::ports::{ChargeRequest, Env, PaymentGateway, PaymentReceipt, RefundRequest};
use order_core::domain::ExternalError;
use order_core::domain::order::{OrderEvent, OrderStatus};
use order_core::domain::saga::SagaStep;
use order_core::domain::values::*;

fn duplicate_key() -> String {
    format!("order-{ORDER_ID}/process-payment/duplicate")
}

/// An advance recorded that the step's call started (lease of one minute)
/// and died before recording its answer.
fn call_started_and_host_died(w: &World, step: SagaStep, attempt: u32) {
    let now = w.clock.now();
    let mut events = Vec::new();
    if attempt == 1 && step == SagaStep::ProcessPayment {
        events.push(OrderEvent::SagaStarted { started_at: now });
    }
    events.push(OrderEvent::SagaStepStarted {
        step,
        attempt,
        started_at: now,
        lease_until: now + MINUTE,
    });
    w.append_raw(&events);
}

/// The saga's own charge reaches the gateway (its answer never comes back).
fn charge_lands(w: &World) -> String {
    w.payment
        .process_payment(
            &key(SagaStep::ProcessPayment, false),
            &ChargeRequest {
                order_id: ORDER_ID,
                amount: &usd(QUOTED_TOTAL),
                method: PaymentMethod::CreditCard,
                customer_id: CUSTOMER_ID,
            },
        )
        .unwrap()
        .transaction_id
}

/// Given: the saga's charge was made by an advance whose host died before
/// it recorded the answer, and a clerk then confirmed a payment taken
/// another way. Returns the saga's own transaction.
fn lost_charge_then_clerks_payment(w: &World, app: &App<'_>) -> String {
    call_started_and_host_died(w, SagaStep::ProcessPayment, 1);
    let own = charge_lands(w);
    app.confirm_payment(ORDER_ID, "txn-by-clerk", usd(QUOTED_TOTAL))
        .unwrap();
    own
}

fn refunds(w: &World) -> Vec<(String, String)> {
    w.calls_of("refund-payment")
        .into_iter()
        .map(|c| (c.key, c.detail.split(' ').next().unwrap().to_string()))
        .collect()
}

/// The carrier reports its own booking; the saga's cancel of it fails
/// transiently, so the report writes nothing and fails; the carrier's
/// redelivery then succeeds.
fn carrier_booking_redelivered_after_a_failed_cancel(w: &World, app: &App) {
    w.transient("cancel-shipment", "503");
    let report =
        || app.on_shipment_created(SHIPMENT_ID, ORDER_ID, CarrierCode::Ups, TRACKING_NUMBER);
    assert!(report().is_err());
    assert!(app.get_shipment(SHIPMENT_ID).is_err(), "nothing written");
    report().unwrap();
}

// ----- 1. a step achieved by another path while the saga's call is out ----------

#[test]
fn an_order_shipped_by_a_clerk_while_the_booking_is_out_completes_when_the_booking_is_refused() {
    let w = World::new();
    let app = w.app_with_placed_order();
    w.transient("create-shipment", "503");
    let order = app.advance_saga(ORDER_ID).unwrap();
    assert!(order.allocation.is_some());
    // The retry's advance started the booking and died; a clerk ships the order.
    w.clock.advance(MINUTE);
    call_started_and_host_died(&w, SagaStep::CreateShipment, 2);
    app.ship_order(ORDER_ID, SHIPMENT_ID, CarrierCode::Ups, TRACKING_NUMBER)
        .unwrap();
    // The carrier refuses the saga's repeated booking: nothing under its key.
    w.permanent("create-shipment", "order already shipped");
    w.clock.advance(2 * MINUTE);
    let order = w.run_saga_to_the_end(&app);

    assert_eq!(order.status, OrderStatus::Shipped);
    assert_eq!(order.shipping.as_ref().unwrap().shipment_id, SHIPMENT_ID);
    assert!(order.saga.failure.is_none(), "{:?}", order.saga.failure);
    assert!(w.calls_of("release-stock").is_empty());
    assert!(w.calls_of("refund-payment").is_empty());
    assert_eq!(w.calls_of("send-order-confirmation").len(), 1);
    assert_finished(&order, "completed");
}

// ----- 2. a failure report during the saga's own unanswered charge ----------------

#[test]
fn a_payment_failed_report_during_the_sagas_unanswered_charge_waits_for_it_and_refunds_it() {
    let w = World::new();
    let app = w.app_with_placed_order();
    call_started_and_host_died(&w, SagaStep::ProcessPayment, 1);
    let txn = charge_lands(&w);
    let lease_until = w.clock.now() + MINUTE;

    app.on_payment_failed(ORDER_ID, "card declined").unwrap();
    let order = app.get_order(ORDER_ID).unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert!(w.calls_of("refund-payment").is_empty());
    assert_eq!(
        w.calls_of("process-payment").len(),
        1,
        "no repeat within the lease"
    );
    assert_eq!(w.store.timer(ORDER_ID), Some(lease_until));

    w.clock.set(lease_until);
    let order = w.run_saga_to_the_end(&app);
    assert_eq!(
        refunds(&w),
        vec![(key(SagaStep::ProcessPayment, true), txn.clone())],
        "the saga's charge, learnt under its key, is refunded"
    );
    assert_eq!(order.refunded, order.total);
    assert!(order.saga.finished.is_some());
}

// ----- 3. a transient answer to a repeat hides nothing ------------------------------

#[test]
fn a_transient_answer_after_a_lost_charge_does_not_let_a_clerks_payment_hide_the_charge() {
    let w = World::new();
    let app = w.app_with_placed_order();
    let own = lost_charge_then_clerks_payment(&w, &app);
    // Attempts 2 and 3 get transient errors.
    w.transient("process-payment", "503");
    w.transient("process-payment", "503");
    w.clock.advance(2 * MINUTE);
    let order = w.run_saga_to_the_end(&app);

    assert_eq!(order.status, OrderStatus::Shipped);
    assert_eq!(
        order.payment.as_ref().unwrap().transaction_id,
        "txn-by-clerk"
    );
    assert_eq!(
        refunds(&w),
        vec![(duplicate_key(), own)],
        "the saga's own charge is refunded"
    );
}

#[test]
fn an_allocation_that_outlives_its_lease_is_released_after_the_repeats_fail_transiently() {
    let w = World::new();
    let app = w.app_with_placed_order();
    w.transient("allocate-stock", "busy");
    app.advance_saga(ORDER_ID).unwrap();
    // Worker one's attempt 2 is slow and outlives its lease.
    w.clock.advance(MINUTE);
    call_started_and_host_died(&w, SagaStep::AllocateInventory, 2);
    // Worker two's repeat gets a transient error: the step runs out of attempts.
    w.transient("allocate-stock", "503");
    w.clock.advance(2 * MINUTE);
    let order = w.run_saga_to_the_end(&app);

    assert_eq!(order.status, OrderStatus::Cancelled);
    let ops = w.ops();
    let last_allocate = ops.iter().rposition(|o| *o == "allocate-stock").unwrap();
    let release = ops
        .iter()
        .position(|o| *o == "release-stock")
        .expect("the slow call's allocation is released");
    assert!(last_allocate < release, "learnt first: {ops:?}");
    assert_eq!(w.calls_of("release-stock")[0].detail, "2xSKU-A,1xSKU-B");
}

// ----- 4. a cancellation learns the saga's own charge ----------------------------------

#[test]
fn a_cancellation_refunds_the_webhooks_payment_and_the_sagas_own_slow_charge() {
    let w = World::new();
    let app = w.app_with_placed_order();
    call_started_and_host_died(&w, SagaStep::ProcessPayment, 1);
    let own = charge_lands(&w);
    app.on_payment_succeeded(ORDER_ID, "txn-from-webhook", usd(QUOTED_TOTAL))
        .unwrap();
    w.clock.advance(2 * MINUTE);
    let order = app
        .cancel_order(ORDER_ID, "changed my mind", "customer")
        .unwrap();
    let order = if order.saga.finished.is_some() {
        order
    } else {
        w.run_saga_to_the_end(&app)
    };

    let refunded = refunds(&w);
    assert!(
        refunded.contains(&(
            key(SagaStep::ProcessPayment, true),
            "txn-from-webhook".to_string()
        )),
        "{refunded:?}"
    );
    assert!(
        refunded.contains(&(duplicate_key(), own.clone())),
        "{refunded:?}"
    );
    assert!(
        refunded
            .iter()
            .all(|(k, t)| (*t == own) == (*k == duplicate_key())),
        "each charge under its own key: {refunded:?}"
    );
    assert_eq!(order.refunded, order.total);
}

/// A gateway whose first charge is slow: while it is out, `during` runs
/// (another writer moves the order on); then the charge is made, its
/// receipt answered, and the gateway's next answer will be a transient
/// error. Later calls go straight to the fake.
struct SlowFirstCharge<'w> {
    inner: &'w FakePayment,
    during: std::cell::RefCell<Option<Box<dyn FnOnce() + 'w>>>,
}

impl PaymentGateway for SlowFirstCharge<'_> {
    fn process_payment(
        &self,
        key: &str,
        req: &ChargeRequest,
    ) -> Result<PaymentReceipt, ExternalError> {
        let during = self.during.borrow_mut().take();
        let slow = during.is_some();
        if let Some(during) = during {
            during();
        }
        let answer = self.inner.process_payment(key, req);
        if slow {
            self.inner
                .script
                .transient("process-payment", "unavailable");
        }
        answer
    }

    fn refund_payment(&self, key: &str, req: &RefundRequest) -> Result<(), ExternalError> {
        self.inner.refund_payment(key, req)
    }
}

#[test]
fn a_charge_whose_answer_loses_the_race_to_a_cancellation_is_refunded_after_a_transient_repeat() {
    let w = World::new();
    w.app().place_order(place_cmd()).unwrap();
    // Given the order is cancelled while the saga's charge is out (within
    // its lease), and the gateway's next answer is a transient error.
    let slow = SlowFirstCharge {
        inner: &w.payment,
        during: std::cell::RefCell::new(Some(Box::new(|| {
            w.app()
                .cancel_order(ORDER_ID, "changed my mind", "customer")
                .unwrap();
        }))),
    };
    let app = App::new(Env {
        store: &w.store,
        policy: &w.policy,
        payment: &slow,
        inventory: &w.inventory,
        carrier: &w.carrier,
        customer: &w.customer,
        clock: &w.clock,
    });
    // When the advance makes the charge, loses the race to record it, and
    // asks again under the same key (answered transiently).
    let mut order = app.advance_saga(ORDER_ID).unwrap();
    assert!(
        w.calls_of("process-payment").len() >= 2,
        "the charge was asked again"
    );
    for _ in 0..30 {
        if order.saga.finished.is_some() {
            break;
        }
        if let Some(due) = w.store.timer(ORDER_ID) {
            w.clock.set(due.max(w.clock.now()));
        }
        order = app.advance_saga(ORDER_ID).unwrap();
    }

    // Then the charge is learnt under its key and refunded in full.
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert!(order.saga.finished.is_some(), "{:?}", order.saga);
    let charge_keys = w.keys_of("process-payment");
    assert!(
        charge_keys
            .iter()
            .all(|k| *k == key(SagaStep::ProcessPayment, false)),
        "{charge_keys:?}"
    );
    assert_eq!(w.charges(), 1, "one charge, under one key");
    let refunded = refunds(&w);
    assert_eq!(
        refunded,
        vec![(key(SagaStep::ProcessPayment, true), "txn-1".to_string())],
        "the charge is refunded once"
    );
    assert_eq!(order.refunded, order.total);
}

// ----- 5. releases of exactly what was allocated -----------------------------------------

#[test]
fn a_partial_allocation_releases_only_the_allocated_lines() {
    let w = World::new();
    let app = w.app_with_placed_order();
    w.transient("allocate-stock", "busy");
    app.advance_saga(ORDER_ID).unwrap();
    app.allocate_inventory(
        ORDER_ID,
        &[(ITEM_A.to_string(), true), (ITEM_B.to_string(), false)],
    )
    .unwrap();
    w.run_saga_to_the_end(&app);

    let releases = w.calls_of("release-stock");
    assert_eq!(releases.len(), 1);
    assert_eq!(releases[0].detail, "2xSKU-A", "not SKU-B, never allocated");
}

#[test]
fn a_partial_stock_allocated_report_names_no_line_and_releases_none() {
    let w = World::new();
    let app = w.app_with_placed_order();
    w.transient("allocate-stock", "busy");
    app.advance_saga(ORDER_ID).unwrap();
    app.on_stock_allocated(ORDER_ID, false).unwrap();
    w.run_saga_to_the_end(&app);

    let releases = w.calls_of("release-stock");
    assert_eq!(releases.len(), 1, "the service releases what it holds");
    assert_eq!(releases[0].detail, "", "no line is listed as allocated");
}

// ----- 7. refund keys per amount ------------------------------------------------------------

#[test]
fn a_refund_retried_with_another_amount_after_a_refusal_uses_another_key() {
    let w = World::new();
    let app = w.app();
    w.received_return(&app);

    w.permanent("refund-payment", "amount above the refundable balance");
    assert!(
        app.process_refund(RETURN_ID, usd(PRICE_B), PaymentMethod::CreditCard)
            .is_err()
    );
    w.in_doubt("refund-payment", "time-out");
    assert!(
        app.process_refund(RETURN_ID, usd(PRICE_B - 100), PaymentMethod::CreditCard)
            .is_err()
    );
    // The same amount again: the same key, so a refund that landed is not repeated.
    app.process_refund(RETURN_ID, usd(PRICE_B - 100), PaymentMethod::CreditCard)
        .unwrap();
    let keys = w.keys_of("refund-payment");
    let first = format!("return-{RETURN_ID}/refund/{PRICE_B}-USD");
    let second = format!("return-{RETURN_ID}/refund/{}-USD", PRICE_B - 100);
    assert_eq!(keys, vec![first, second.clone(), second]);
}

// ----- 6. a carrier's booking before the order can ship ------------------------------------

#[test]
fn a_carrier_booking_before_the_order_is_ready_is_used_instead_of_booking_a_second() {
    let w = World::new();
    let app = w.app_with_placed_order();
    app.on_shipment_created(SHIPMENT_ID, ORDER_ID, CarrierCode::Ups, TRACKING_NUMBER)
        .unwrap();
    assert_eq!(
        app.get_order(ORDER_ID).unwrap().status,
        OrderStatus::Pending
    );
    let order = w.run_saga_to_the_end(&app);

    assert_eq!(order.status, OrderStatus::Shipped);
    assert_eq!(order.shipping.as_ref().unwrap().shipment_id, SHIPMENT_ID);
    assert!(
        w.calls_of("create-shipment").is_empty(),
        "no second booking"
    );
    assert_finished(&order, "completed");
}

#[test]
fn a_carrier_booking_for_an_order_cancelled_before_it_was_ready_is_cancelled_by_the_saga() {
    let w = World::new();
    let app = w.app_with_placed_order();
    app.on_shipment_created(SHIPMENT_ID, ORDER_ID, CarrierCode::Ups, TRACKING_NUMBER)
        .unwrap();
    w.permanent("process-payment", "card declined");
    let order = w.run_saga_to_the_end(&app);

    assert_eq!(order.status, OrderStatus::Cancelled);
    let cancels = w.calls_of("cancel-shipment");
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0].detail, SHIPMENT_ID);
    assert_eq!(
        cancels[0].key,
        format!("order-{ORDER_ID}/create-shipment/carrier-{SHIPMENT_ID}/cancel")
    );
    let shipment = app.get_shipment(SHIPMENT_ID).unwrap();
    assert_eq!(
        shipment.state,
        order_core::domain::shipment::ShipmentState::DeliveryFailed
    );
}

#[test]
fn a_carrier_booking_for_an_already_cancelled_order_is_cancelled_at_once() {
    let w = World::new();
    let app = w.app_with_placed_order();
    app.cancel_order(ORDER_ID, "changed my mind", "customer")
        .unwrap();
    let order = w.run_saga_to_the_end(&app);
    assert!(order.saga.finished.is_some());
    // A failing cancel writes nothing: the carrier's redelivery tries again.
    carrier_booking_redelivered_after_a_failed_cancel(&w, &app);

    let cancels = w.calls_of("cancel-shipment");
    assert_eq!(cancels.len(), 2);
    assert!(cancels.iter().all(|c| c.detail == SHIPMENT_ID));
    let shipment = app.get_shipment(SHIPMENT_ID).unwrap();
    assert_eq!(
        shipment.state,
        order_core::domain::shipment::ShipmentState::DeliveryFailed
    );
    let order = app.get_order(ORDER_ID).unwrap();
    assert_noted(&order, "booked by the carrier was cancelled");
}

#[test]
fn a_carrier_booking_for_an_order_already_shipped_with_another_shipment_is_cancelled() {
    let w = World::new();
    let app = w.app_with_placed_order();
    let order = w.run_saga_to_the_end(&app);
    let own = order.shipping.as_ref().unwrap().shipment_id.clone();
    assert_ne!(own, SHIPMENT_ID);
    // Given the order shipped with the saga's booking, when the carrier
    // reports a booking of its own (the first report fails to cancel and
    // is redelivered).
    carrier_booking_redelivered_after_a_failed_cancel(&w, &app);

    // Then the second booking is cancelled under its own key, and the order
    // keeps its shipment.
    let cancels = w.calls_of("cancel-shipment");
    assert_eq!(cancels.len(), 2);
    let key = format!("order-{ORDER_ID}/create-shipment/carrier-{SHIPMENT_ID}/cancel");
    assert!(
        cancels
            .iter()
            .all(|c| c.detail == SHIPMENT_ID && c.key == key),
        "{cancels:?}"
    );
    assert_eq!(
        app.get_shipment(SHIPMENT_ID).unwrap().state,
        order_core::domain::shipment::ShipmentState::DeliveryFailed
    );
    let order = app.get_order(ORDER_ID).unwrap();
    assert_eq!(order.status, OrderStatus::Shipped);
    assert_eq!(order.shipping.as_ref().unwrap().shipment_id, own);
    assert_noted(
        &order,
        &format!("booked by the carrier was cancelled (the order ships with shipment {own})"),
    );
    // A redelivery afterwards is a duplicate.
    app.on_shipment_created(SHIPMENT_ID, ORDER_ID, CarrierCode::Ups, TRACKING_NUMBER)
        .unwrap();
    assert_eq!(w.calls_of("cancel-shipment").len(), 2);
}

#[test]
fn a_second_carrier_booking_before_the_order_is_ready_is_cancelled_and_the_first_is_used() {
    let w = World::new();
    let app = w.app_with_placed_order();
    let second = "5e000000-0000-4000-8000-000000000002";
    app.on_shipment_created(SHIPMENT_ID, ORDER_ID, CarrierCode::Ups, TRACKING_NUMBER)
        .unwrap();
    app.on_shipment_created(second, ORDER_ID, CarrierCode::Ups, "1Z999AA10123456785")
        .unwrap();
    let order = w.run_saga_to_the_end(&app);

    assert_eq!(order.status, OrderStatus::Shipped);
    assert_eq!(order.shipping.as_ref().unwrap().shipment_id, SHIPMENT_ID);
    let cancels = w.calls_of("cancel-shipment");
    assert_eq!(cancels.len(), 1, "{cancels:?}");
    assert_eq!(cancels[0].detail, second);
    assert_eq!(
        cancels[0].key,
        format!("order-{ORDER_ID}/create-shipment/carrier-{second}/cancel")
    );
    assert!(
        w.calls_of("create-shipment").is_empty(),
        "no booking of its own"
    );
}

#[test]
fn a_carrier_booking_it_will_not_cancel_for_a_shipped_order_is_handed_to_people() {
    let w = World::new();
    let app = w.app_with_placed_order();
    w.run_saga_to_the_end(&app);
    w.permanent("cancel-shipment", "already picked up");
    app.on_shipment_created(SHIPMENT_ID, ORDER_ID, CarrierCode::Ups, TRACKING_NUMBER)
        .unwrap();

    let tickets = w.calls_of("create-support-ticket");
    assert_eq!(tickets.len(), 1);
    assert_eq!(
        tickets[0].key,
        format!("order-{ORDER_ID}/support-ticket/create-shipment/carrier-{SHIPMENT_ID}")
    );
    let order = app.get_order(ORDER_ID).unwrap();
    assert!(
        order.notes.iter().any(|n| n.contains("support ticket")
            && n.contains("could not be cancelled (already picked up)")),
        "{:?}",
        order.notes
    );
}

#[test]
fn a_duplicate_charge_whose_refund_is_refused_is_handed_to_people_with_a_ticket() {
    let w = World::new();
    let app = w.app_with_placed_order();
    lost_charge_then_clerks_payment(&w, &app);
    w.permanent("refund-payment", "refunds disabled");
    w.transient("create-support-ticket", "helpdesk down");
    w.clock.advance(2 * MINUTE);
    let order = w.run_saga_to_the_end(&app);

    assert_eq!(order.status, OrderStatus::Shipped);
    let key = format!("order-{ORDER_ID}/support-ticket/process-payment/duplicate");
    let tickets = w.keys_of("create-support-ticket");
    assert_eq!(tickets, vec![key.clone(), key.clone()]);
    assert_eq!(
        order.saga.obligation(&key).unwrap().ticket_id.as_deref(),
        Some(format!("ticket-{key}").as_str())
    );
}

#[test]
fn a_support_ticket_refused_for_good_is_asked_under_a_new_key_until_opened() {
    let w = World::new();
    let app = w.app_with_placed_order();
    // Given the order confirmation is refused and so is the first ticket.
    w.permanent("send-order-confirmation", "refused");
    w.permanent("create-support-ticket", "refused");
    let order = w.run_saga_to_the_end(&app);

    // Then the saga finishes with a ticket opened under a new key.
    assert_finished(&order, "completed");
    let key = format!("order-{ORDER_ID}/support-ticket/notify-customer/undelivered");
    let asked = w.keys_of("create-support-ticket");
    let second = format!("{key}/after-refusal-1");
    assert_eq!(asked, vec![key.clone(), second.clone()]);
    assert_eq!(
        order.saga.obligation(&key).unwrap().ticket_id.as_deref(),
        Some(format!("ticket-{second}").as_str())
    );
}
