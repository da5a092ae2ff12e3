//! "Retry now" of a saga: a step, a compensation or an obligation waiting
//! out its back-off is attempted at once (the event and the timer due now
//! in one write, recorded with who asked), the attempt count and the retry policy's limit still
//! hold, an in-doubt call is repeated under its key (no second effect), and
//! a finished saga is answered as it stands without a write or a call,
//! and a draft, an unknown order and a blank requester are refused by name.

mod common;

use common::fakes::*;
use common::*;
use order_core::domain::order::{Order, OrderEvent, OrderStatus};
use order_core::domain::saga::{
    CompensationStatus, SagaAction, SagaCall, SagaStep, StepStatus, next_action, request_retry,
};
use order_core::domain::{DomainError, Entity};

const SUPPORT: &str = "support@example.com";

fn order_stream() -> String {
    format!("order-{ORDER_ID}")
}

fn retry_events(w: &World) -> Vec<OrderEvent> {
    w.store
        .events(&order_stream())
        .iter()
        .filter(|e| e.event_type == "saga-retry-requested")
        .map(|e| serde_json::from_str(&e.payload).unwrap())
        .collect()
}

/// Exactly one retry request is recorded: support's, at the start.
fn assert_one_retry_request_by_support(w: &World) {
    assert_eq!(
        retry_events(w),
        vec![OrderEvent::SagaRetryRequested {
            requested_by: SUPPORT.to_string(),
            requested_at: T0,
        }]
    );
}

#[test]
fn a_step_waiting_on_its_back_off_is_attempted_at_once_with_the_same_key() {
    let w = World::new();
    w.placed();
    w.transient("process-payment", "gateway timeout");
    let app = w.app();
    app.advance_saga(ORDER_ID).unwrap();
    let due = w.store.timer(ORDER_ID).expect("a retry is scheduled");
    assert!(due > w.clock.now(), "the back-off lies ahead");

    let order = app.retry_saga_now(ORDER_ID, SUPPORT).unwrap();

    let payments = w.calls_of("process-payment");
    assert_eq!(payments.len(), 2, "the next attempt happened now");
    assert_eq!(payments[0].key, payments[1].key);
    assert_eq!(order.saga.step(SagaStep::ProcessPayment).attempts, 2);
    assert_eq!(order.status, OrderStatus::Shipped);
    assert_eq!(w.charges(), 1);
    assert_one_retry_request_by_support(&w);
}

#[test]
fn retry_now_counts_attempts_and_the_policy_limit_still_fails_the_step() {
    let w = World::new();
    w.placed();
    for _ in 0..retry_policy().max_attempts {
        w.transient("process-payment", "gateway timeout");
    }
    let app = w.app();
    app.advance_saga(ORDER_ID).unwrap();
    let order = app.retry_saga_now(ORDER_ID, SUPPORT).unwrap();
    assert_eq!(
        order.saga.step(SagaStep::ProcessPayment).status,
        StepStatus::Retrying
    );
    let order = app.retry_saga_now(ORDER_ID, SUPPORT).unwrap();

    assert_eq!(
        w.calls_of("process-payment").len(),
        retry_policy().max_attempts as usize
    );
    let step = order.saga.step(SagaStep::ProcessPayment);
    assert_eq!(step.attempts, retry_policy().max_attempts);
    assert_eq!(step.status, StepStatus::Failed);
    assert_eq!(order.status, OrderStatus::Cancelled);
}

#[test]
fn an_in_doubt_call_retried_now_is_repeated_under_its_key_and_charges_once() {
    let w = World::new();
    w.placed();
    // The gateway charges, and its answer is lost.
    w.lost("process-payment");
    let app = w.app();
    let order = app.advance_saga(ORDER_ID).unwrap();
    assert!(order.saga.step(SagaStep::ProcessPayment).in_doubt);

    let order = app.retry_saga_now(ORDER_ID, SUPPORT).unwrap();

    let payments = w.calls_of("process-payment");
    assert_eq!(payments.len(), 2);
    assert_eq!(payments[0].key, payments[1].key);
    assert_eq!(w.charges(), 1, "the repeat learnt the first charge");
    assert_eq!(order.status, OrderStatus::Shipped);
    assert!(w.calls_of("refund-payment").is_empty());
}

#[test]
fn a_compensation_waiting_on_its_back_off_is_attempted_at_once() {
    let w = World::new();
    w.placed();
    w.permanent("create-shipment", "no carrier serves the area");
    w.transient("refund-payment", "gateway down");
    let app = w.app();
    let order = app.advance_saga(ORDER_ID).unwrap();
    assert_eq!(
        order.saga.compensation(SagaStep::ProcessPayment).status,
        CompensationStatus::Retrying
    );
    assert!(w.store.timer(ORDER_ID).unwrap() > w.clock.now());

    let order = app.retry_saga_now(ORDER_ID, SUPPORT).unwrap();

    assert_eq!(w.calls_of("refund-payment").len(), 2);
    assert_eq!(
        order.saga.compensation(SagaStep::ProcessPayment).status,
        CompensationStatus::Completed
    );
    assert!(order.saga.finished.is_some());
    assert_eq!(w.store.timer(ORDER_ID), None);
}

#[test]
fn an_obligation_waiting_on_its_back_off_is_due_at_once_after_the_request() {
    let w = World::new();
    w.placed();
    let order = w.run_saga_to_the_end(&w.app());
    let key = format!("order-{ORDER_ID}/support-ticket/notify-customer/test");
    let now = w.clock.now();
    let events = vec![
        OrderEvent::ObligationRecorded {
            key: key.clone(),
            issue: "tell the customer".to_string(),
            urgent: false,
            recorded_at: now,
        },
        OrderEvent::ObligationStarted {
            key: key.clone(),
            attempt: 1,
            started_at: now,
            lease_until: now + LEASE_MS,
        },
        OrderEvent::ObligationRetryScheduled {
            key: key.clone(),
            attempt: 1,
            error: "customer service down".to_string(),
            retry_at: now + 5 * MINUTE,
            refused: false,
        },
    ];
    // Reopened as if the saga had not finished: the obligation is owed.
    let mut waiting = order.clone();
    waiting.saga.finished = None;
    for e in &events {
        waiting = Order::apply(Some(waiting), e);
    }
    assert_eq!(
        next_action(&waiting, now),
        SagaAction::Wait(now + 5 * MINUTE)
    );

    let request = request_retry(&waiting, SUPPORT, now).unwrap().unwrap();
    let after = Order::apply(Some(waiting), &request);

    assert_eq!(
        next_action(&after, now),
        SagaAction::Call(SagaCall::Obligation(0))
    );
    assert_eq!(after.saga.obligations[0].attempts, 1);
}

#[test]
fn a_call_in_flight_keeps_its_lease() {
    let w = World::new();
    w.placed();
    let now = w.clock.now();
    let order = w.app().get_order(ORDER_ID).unwrap();
    let order = Order::apply(Some(order), &OrderEvent::SagaStarted { started_at: now });
    let order = Order::apply(
        Some(order),
        &OrderEvent::SagaStepStarted {
            step: SagaStep::ProcessPayment,
            attempt: 1,
            started_at: now,
            lease_until: now + LEASE_MS,
        },
    );
    let request = request_retry(&order, SUPPORT, now).unwrap().unwrap();
    let after = Order::apply(Some(order), &request);
    assert_eq!(next_action(&after, now), SagaAction::Wait(now + LEASE_MS));
    assert!(after.saga.step(SagaStep::ProcessPayment).in_flight);
}

#[test]
fn a_scheduled_saga_records_who_asked_and_is_advanced() {
    let w = World::new();
    w.placed();
    let order = w.app().retry_saga_now(ORDER_ID, SUPPORT).unwrap();
    assert_eq!(order.status, OrderStatus::Shipped);
    assert_one_retry_request_by_support(&w);
}

#[test]
fn a_finished_saga_is_not_restarted() {
    let w = World::new();
    w.placed();
    let app = w.app();
    w.run_saga_to_the_end(&app);
    let calls = w.calls().len();
    let version = w.store.events(&order_stream()).len();

    let order = app.retry_saga_now(ORDER_ID, SUPPORT).unwrap();
    assert!(order.saga.finished.is_some(), "answered as it stands");
    assert_eq!(order.status, OrderStatus::Shipped);
    assert_eq!(w.calls().len(), calls, "no external call");
    assert_eq!(w.store.events(&order_stream()).len(), version, "no event");
}

#[test]
fn a_draft_has_no_saga_to_retry() {
    let order = given(vec![draft_created()]);
    assert_transition(
        request_retry(&order, SUPPORT, T0),
        Entity::Order,
        "draft",
        "retry-now",
    );
}

#[test]
fn an_unknown_order_is_not_found() {
    let w = World::new();
    assert_eq!(
        w.app().retry_saga_now(ORDER_ID, SUPPORT).map(|_| ()),
        Err(DomainError::not_found(Entity::Order, ORDER_ID))
    );
}

#[test]
fn a_blank_or_over_long_requester_is_refused_by_name() {
    let w = World::new();
    w.placed();
    assert_validation(w.app().retry_saga_now(ORDER_ID, "  "), "requested-by");
    assert_validation(w.app().retry_saga_now(ORDER_ID, &text(101)), "requested-by");
    assert!(w.calls().is_empty());
}
