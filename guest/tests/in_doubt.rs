//! A call whose outcome is unknown is in doubt, never "no effect": a charge,
//! allocation or booking whose answer was lost, followed by retries that
//! only ever see `transient` errors, fails the step in doubt, and the
//! compensation first learns what the action's key did (same key) and then
//! undoes exactly that; a compensation that cannot learn keeps asking
//! instead of undoing blind; a refusal of the learning repeat means nothing
//! was done; a return's refund in doubt is recorded on the return, and no
//! refund of another amount is made until its outcome is learnt.

mod common;

use common::fakes::*;
use common::*;
use order_core::domain::DomainError;
use order_core::domain::order::OrderStatus;
use order_core::domain::returns::ReturnStatus;
use order_core::domain::saga::{CompensationStatus, SagaStep};
use order_core::domain::values::PaymentMethod;

/// Given: the next call of `op` acts and its answer is lost, and the
/// `retries` calls after it are unavailable (`503`).
fn lost_then_unavailable(w: &World, op: &'static str, retries: usize) {
    w.lost(op);
    for _ in 0..retries {
        w.transient(op, "503");
    }
}

#[test]
fn a_charge_whose_answer_is_lost_is_refunded_even_when_every_retry_is_unavailable() {
    let w = World::new();
    let app = w.app_with_placed_order();
    // Attempt 1 charges and its answer is lost; attempts 2 and 3 get 503.
    lost_then_unavailable(&w, "process-payment", 2);
    let order = w.run_saga_to_the_end(&app);

    assert_eq!(order.status, OrderStatus::Cancelled);
    let reason = &order.cancellation.as_ref().unwrap().reason;
    assert!(reason.contains("outcome unknown"), "{reason}");
    assert_eq!(w.charges(), 1, "one charge, under the action's key");
    // The compensation asked the action's key again, learnt txn-1, refunded it.
    let keys = w.op_keys();
    let learn = keys
        .iter()
        .rposition(|k| *k == op_key("process-payment", SagaStep::ProcessPayment, false))
        .unwrap();
    let refund = keys
        .iter()
        .position(|k| *k == op_key("refund-payment", SagaStep::ProcessPayment, true))
        .expect("the lost charge is refunded");
    assert!(learn < refund, "the outcome is learnt before the refund");
    assert_eq!(
        w.details_of("refund-payment"),
        vec![format!("txn-1 {}", order.total)]
    );
    assert_eq!(order.refunded, order.total);
    assert_compensated_after(&order, SagaStep::ProcessPayment);
}

#[test]
fn an_allocation_whose_answer_is_lost_is_learnt_and_released_when_the_step_gives_up() {
    let w = World::new();
    let app = w.app_with_placed_order();
    lost_then_unavailable(&w, "allocate-stock", 2);
    let order = w.run_saga_to_the_end(&app);

    assert_eq!(order.status, OrderStatus::Cancelled);
    let tail: Vec<_> = w
        .op_keys()
        .into_iter()
        .skip_while(|k| k.0 != "release-stock" && k.0 != "refund-payment")
        .collect();
    let ops: Vec<&str> = w.ops();
    let releases = ops.iter().filter(|o| **o == "release-stock").count();
    assert_eq!(releases, 1, "the stock the lost call reserved is released");
    // Four allocate calls: three attempts and the compensation's learning repeat.
    assert_eq!(ops.iter().filter(|o| **o == "allocate-stock").count(), 4);
    let last_allocate = ops.iter().rposition(|o| *o == "allocate-stock").unwrap();
    let release = ops.iter().position(|o| *o == "release-stock").unwrap();
    assert!(
        last_allocate < release,
        "the release never overtakes the allocation"
    );
    assert_eq!(
        tail,
        vec![
            op_key("release-stock", SagaStep::AllocateInventory, true),
            op_key("refund-payment", SagaStep::ProcessPayment, true),
            op_key("send-order-cancellation", SagaStep::NotifyCustomer, true),
        ]
    );
}

#[test]
fn a_booking_whose_answer_is_lost_is_learnt_and_cancelled_when_the_step_gives_up() {
    let w = World::new();
    let app = w.app_with_placed_order();
    lost_then_unavailable(&w, "create-shipment", 2);
    let order = w.run_saga_to_the_end(&app);

    assert_eq!(order.status, OrderStatus::Cancelled);
    let booked = booked_shipment_id(&key(SagaStep::CreateShipment, false));
    let cancels = w.calls_of("cancel-shipment");
    assert_eq!(cancels.len(), 1, "{:?}", w.op_keys());
    assert_eq!(cancels[0].detail, booked);
    assert_eq!(cancels[0].key, key(SagaStep::CreateShipment, true));
    assert_eq!(w.calls_of("release-stock").len(), 1);
    assert_eq!(w.calls_of("refund-payment").len(), 1);
}

#[test]
fn a_step_in_doubt_whose_repeat_is_refused_had_no_effect_and_nothing_is_undone() {
    let w = World::new();
    let app = w.app_with_placed_order();
    // The outcome is unknown three times, then the gateway declines the key
    // for good: nothing was charged under it.
    for _ in 0..3 {
        w.in_doubt("process-payment", "time-out");
    }
    w.permanent("process-payment", "card declined");
    let order = w.run_saga_to_the_end(&app);

    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(w.charges(), 0);
    assert!(w.calls_of("refund-payment").is_empty());
    assert_eq!(
        w.calls_of("process-payment").len(),
        4,
        "three attempts and one repeat to learn the outcome"
    );
    assert_eq!(w.calls_of("send-order-cancellation").len(), 1);
}

#[test]
fn a_compensation_that_cannot_learn_the_outcome_keeps_asking_and_never_releases_blind() {
    let w = World::new();
    let app = w.app_with_placed_order();
    // Every later allocate call is unavailable, far beyond the retry policy.
    lost_then_unavailable(&w, "allocate-stock", 20);
    let order = w.run_rounds(&app, 12);

    assert_eq!(order.status, OrderStatus::Cancelled);
    assert!(
        w.calls_of("release-stock").is_empty(),
        "nothing is released before the allocation's outcome is known"
    );
    assert!(
        w.calls_of("refund-payment").is_empty(),
        "reverse order holds"
    );
    let c = order.saga.compensation(SagaStep::AllocateInventory);
    assert_eq!(c.status, CompensationStatus::Stalled);
    assert!(order.saga.finished.is_none(), "still asking");
    assert!(w.store.timer(ORDER_ID).is_some(), "its timer stays");

    // The inventory service answers again: the allocation is learnt, then released.
    let order = w.run_saga_to_the_end(&app);
    assert_eq!(w.calls_of("release-stock").len(), 1);
    assert_eq!(w.calls_of("refund-payment").len(), 1);
    assert!(order.saga.finished.is_some());
}

#[test]
fn a_refund_in_doubt_refuses_another_amount_until_its_outcome_is_learnt() {
    let w = World::new();
    let app = w.app();
    w.received_return(&app);
    let half = PRICE_B / 2;

    // Given a refund of half whose answer is lost (the gateway made it).
    w.lost("refund-payment");
    assert!(matches!(
        app.process_refund(RETURN_ID, usd(half), PaymentMethod::CreditCard),
        Err(DomainError::External(_))
    ));
    let r = app.get_return(RETURN_ID).unwrap();
    assert_eq!(r.status, ReturnStatus::Received);
    let half_key = format!("return-{RETURN_ID}/refund/{half}-USD");
    assert_eq!(r.refund_in_doubt, Some((usd(half), half_key.clone())));
    assert!(
        app.return_history(RETURN_ID)
            .unwrap()
            .iter()
            .any(|e| e.event_type == "refund-started"),
        "the refund in doubt is on the return's stream"
    );

    // When staff ask for the full amount, it is refused, naming the refund
    // in doubt, and the gateway is not called.
    let err = app.process_refund(RETURN_ID, usd(PRICE_B), PaymentMethod::CreditCard);
    match &err {
        Err(DomainError::RuleViolated { message, .. }) => {
            assert!(message.contains(&half_key), "{message}");
            assert!(message.contains(&format!("{}", usd(half))), "{message}");
        }
        other => panic!("expected a rule violation, got {other:?}"),
    }
    assert_rule(err, "refund-in-doubt", Some("refund-amount"));
    assert_eq!(w.keys_of("refund-payment"), vec![half_key.clone()]);

    // Then repeating the refund in doubt learns it (same key) and records it.
    let r = app
        .process_refund(RETURN_ID, usd(half), PaymentMethod::CreditCard)
        .unwrap();
    assert_eq!(r.status, ReturnStatus::Refunded);
    assert_eq!(r.refund_amount, Some(usd(half)));
    assert_eq!(r.refund_in_doubt, None);
    assert_eq!(
        w.keys_of("refund-payment"),
        vec![half_key.clone(), half_key]
    );
    assert_eq!(app.get_order(ORDER_ID).unwrap().refunded, usd(half));
}

#[test]
fn a_refund_refused_for_good_is_no_longer_in_doubt_and_another_amount_may_follow() {
    let w = World::new();
    let app = w.app();
    w.received_return(&app);
    let half = PRICE_B / 2;
    w.transient("refund-payment", "unavailable");
    assert!(
        app.process_refund(RETURN_ID, usd(half), PaymentMethod::CreditCard)
            .is_err()
    );
    // A transient answer says nothing of an earlier attempt: still in doubt.
    assert!(app.get_return(RETURN_ID).unwrap().refund_in_doubt.is_some());
    assert_rule(
        app.process_refund(RETURN_ID, usd(PRICE_B), PaymentMethod::CreditCard),
        "refund-in-doubt",
        Some("refund-amount"),
    );
    w.permanent("refund-payment", "card account closed");
    assert!(
        app.process_refund(RETURN_ID, usd(half), PaymentMethod::CreditCard)
            .is_err()
    );
    assert_eq!(app.get_return(RETURN_ID).unwrap().refund_in_doubt, None);
    let r = app
        .process_refund(RETURN_ID, usd(PRICE_B), PaymentMethod::CreditCard)
        .unwrap();
    assert_eq!(r.refund_amount, Some(usd(PRICE_B)));
    assert_eq!(
        w.keys_of("refund-payment"),
        vec![
            format!("return-{RETURN_ID}/refund/{half}-USD"),
            format!("return-{RETURN_ID}/refund/{half}-USD"),
            format!("return-{RETURN_ID}/refund/{PRICE_B}-USD"),
        ]
    );
}
