//! Obligations are durable: a support ticket the rules require (a refused
//! or stalled compensation, an undeliverable message) is recorded in the
//! same write as the decision, retried under its key through transient and
//! in-doubt failures until customer service opens it, and a saga never
//! finishes `compensation-failed` without a ticket id on the order.

mod common;

use common::fakes::*;
use common::*;
use order_core::domain::order::OrderStatus;
use order_core::domain::saga::SagaStep;

fn stalled_key() -> String {
    format!("order-{ORDER_ID}/support-ticket/process-payment/stalled")
}

#[test]
fn a_refused_refund_ends_compensation_failed_with_a_ticket_despite_a_failing_ticket_call() {
    let w = World::new();
    let app = w.app_with_placed_order();
    // Paid, then out of stock; the refund is refused for good and the first
    // ticket call fails transiently.
    w.permanent("allocate-stock", "discontinued");
    w.permanent("refund-payment", "charge disputed");
    w.transient("create-support-ticket", "helpdesk down");
    let first = app.advance_saga(ORDER_ID).unwrap();
    assert_eq!(first.status, OrderStatus::Cancelled);
    let owed = first.saga.obligation(&stalled_key()).expect("recorded");
    assert!(owed.ticket_id.is_none());
    assert!(owed.urgent);
    assert!(
        first.saga.finished.is_none(),
        "not finished while a ticket is owed"
    );
    assert!(
        w.store.timer(ORDER_ID).is_some(),
        "the ticket is retried by the timer"
    );

    let order = w.run_saga_to_the_end(&app);
    let tickets = w.keys_of("create-support-ticket");
    assert_eq!(
        tickets,
        vec![stalled_key(), stalled_key()],
        "same key each time"
    );
    let ticket = format!("ticket-{}", stalled_key());
    assert_eq!(order.saga.tickets(), vec![ticket.as_str()]);
    assert!(
        order
            .notes
            .iter()
            .any(|n| n.starts_with(&format!("support ticket {ticket} opened"))),
        "{:?}",
        order.notes
    );
    assert_finished(&order, "compensation-failed");
}

#[test]
fn a_ticket_call_in_doubt_is_repeated_under_its_key_until_it_answers() {
    let w = World::new();
    let app = w.app_with_placed_order();
    w.permanent("send-order-confirmation", "no email on file");
    for _ in 0..5 {
        w.lost("create-support-ticket");
    }
    let order = w.run_saga_to_the_end(&app);
    assert_eq!(order.status, OrderStatus::Shipped);
    let key = format!("order-{ORDER_ID}/support-ticket/notify-customer/undelivered");
    let calls = w.calls_of("create-support-ticket");
    assert_eq!(calls.len(), 6, "five lost answers, then the ticket");
    assert!(calls.iter().all(|c| c.key == key));
    assert_eq!(order.saga.tickets().len(), 1);
    assert_finished(&order, "completed");
}

#[test]
fn a_stalled_refund_opens_its_ticket_while_the_refund_keeps_being_retried() {
    let w = World::new();
    let app = w.app_with_placed_order();
    w.permanent("allocate-stock", "discontinued");
    for _ in 0..4 {
        w.transient("refund-payment", "503");
    }
    let mut order = app.advance_saga(ORDER_ID).unwrap();
    for _ in 0..4 {
        if order
            .saga
            .obligation(&stalled_key())
            .is_some_and(|o| o.ticket_id.is_some())
        {
            break;
        }
        let due = w.store.timer(ORDER_ID).unwrap();
        w.clock.set(due.max(w.clock.now()));
        order = app.advance_saga(ORDER_ID).unwrap();
    }
    assert!(
        order.saga.compensation(SagaStep::ProcessPayment).status
            != order_core::domain::saga::CompensationStatus::Completed,
        "the refund has not gone through yet"
    );
    assert_eq!(
        order.saga.tickets().len(),
        1,
        "the ticket does not wait for the refund"
    );
    let order = w.run_saga_to_the_end(&app);
    assert_eq!(order.refunded, order.total);
    assert_finished(&order, "compensated");
}
