//! The saga's report (`domain::saga::report`), read from an order's events:
//! its phase (scheduled, running, compensating, finished), each step's
//! reported status (a compensated step says so, a pending step that will
//! never run is skipped), when it next wakes, its output, and the outcome a
//! finished or stalled saga names (completed, compensated at the failed
//! step or at the first open one for a cancellation, compensation failed
//! with what is left to do).

mod common;

use common::*;
use order_core::domain::order::OrderEvent;
use order_core::domain::saga::*;
use order_core::domain::values::*;

const NOW: Timestamp = T0 + 60 * MINUTE;

fn status_of(r: &SagaReport, step: SagaStep) -> ReportedStatus {
    r.steps.iter().find(|s| s.step == step).unwrap().status
}

fn saga_started() -> OrderEvent {
    OrderEvent::SagaStarted { started_at: T0 }
}

fn step_started(step: SagaStep) -> OrderEvent {
    OrderEvent::SagaStepStarted {
        step,
        attempt: 1,
        started_at: T0,
        lease_until: T0 + MINUTE,
    }
}

/// A placed order whose saga charged it, then had the allocation refused
/// for good (answered, nothing held).
fn paid_then_allocation_failed() -> Vec<OrderEvent> {
    and(
        pending_events(),
        [
            saga_started(),
            paid(),
            payment_confirmed(),
            OrderEvent::SagaStepFailed {
                step: SagaStep::AllocateInventory,
                reason: "out of stock".to_string(),
                failed_at: NOW,
                in_doubt: false,
                call_out: false,
            },
        ],
    )
}

fn paid() -> OrderEvent {
    OrderEvent::SagaStepCompleted {
        step: SagaStep::ProcessPayment,
        outcome: StepOutcome::Paid {
            transaction_id: TRANSACTION_ID.to_string(),
            amount: usd(TOTAL),
        },
        completed_at: T0,
    }
}

#[test]
fn a_placed_order_whose_saga_has_not_started_is_scheduled_and_due_now() {
    // Given a placed order
    let order = given(pending_events());
    // When it is reported
    let r = report(&order, NOW);
    // Then the saga is scheduled, every step pending, and it is due at once
    assert_eq!(r.phase, ReportPhase::Scheduled);
    assert_eq!(r.order_id, ORDER_ID);
    assert_eq!(r.steps.len(), SagaStep::ALL.len());
    assert!(r.steps.iter().all(|s| s.status == ReportedStatus::Pending));
    assert_eq!(r.next_wake_at, Some(NOW));
    assert_eq!(r.outcome, None);
    assert!(!r.output.success);
}

#[test]
fn a_started_saga_with_a_call_out_is_running_and_wakes_at_the_lease() {
    // Given a saga whose payment call is out under a lease
    let order = given(and(
        pending_events(),
        [saga_started(), step_started(SagaStep::ProcessPayment)],
    ));
    // When it is reported before the lease runs out
    let r = report(&order, T0 + 1_000);
    // Then it is running and waits for the lease's expiry
    assert_eq!(r.phase, ReportPhase::Running);
    assert_eq!(r.next_wake_at, Some(T0 + MINUTE));
    assert_eq!(r.outcome, None);
}

#[test]
fn a_completed_step_is_reported_completed_with_its_attempts() {
    let order = given(and(
        pending_events(),
        [
            saga_started(),
            step_started(SagaStep::ProcessPayment),
            paid(),
            payment_confirmed(),
        ],
    ));
    let r = report(&order, NOW);
    let payment = &r.steps[0];
    assert_eq!(payment.step, SagaStep::ProcessPayment);
    assert_eq!(payment.status, ReportedStatus::Completed);
    assert_eq!(payment.attempts, 1);
    assert_eq!(
        status_of(&r, SagaStep::AllocateInventory),
        ReportedStatus::Pending
    );
}

#[test]
fn a_completed_saga_reports_success_with_the_shipment_and_no_wake() {
    // Given a saga that completed after booking the shipment
    let order = given(and(
        shipped_events(),
        [
            saga_started(),
            OrderEvent::SagaCompleted {
                shipment_id: SHIPMENT_ID.to_string(),
                tracking_number: TRACKING_NUMBER.to_string(),
                completed_at: NOW,
            },
        ],
    ));
    // When it is reported
    let r = report(&order, NOW);
    // Then it is finished, successful, and the outcome carries the output
    assert_eq!(r.phase, ReportPhase::Finished);
    assert!(r.output.success);
    assert_eq!(r.output.error_reason, None);
    assert_eq!(r.next_wake_at, None);
    assert_eq!(r.outcome, Some(ReportOutcome::Completed(r.output.clone())));
}

#[test]
fn a_step_failure_compensates_refunds_and_skips_the_steps_that_never_ran() {
    // Given a payment taken, an allocation that failed for good, and the
    // refund done
    let order = given(and(
        paid_then_allocation_failed(),
        [
            OrderEvent::CompensationCompleted {
                step: SagaStep::ProcessPayment,
                detail: "refunded".to_string(),
                completed_at: NOW,
            },
            OrderEvent::SagaCompensated {
                failed_step: Some(SagaStep::AllocateInventory),
                reason: "out of stock".to_string(),
                completed_at: NOW,
            },
        ],
    ));
    // When it is reported
    let r = report(&order, NOW);
    // Then the payment is compensated, the allocation failed, the later
    // steps skipped, and the outcome names the failed step
    assert_eq!(r.phase, ReportPhase::Finished);
    assert_eq!(
        status_of(&r, SagaStep::ProcessPayment),
        ReportedStatus::Compensated
    );
    assert_eq!(
        status_of(&r, SagaStep::AllocateInventory),
        ReportedStatus::Failed
    );
    assert_eq!(
        status_of(&r, SagaStep::CreateShipment),
        ReportedStatus::Skipped
    );
    assert_eq!(r.output.error_reason.as_deref(), Some("out of stock"));
    assert_eq!(
        r.outcome,
        Some(ReportOutcome::Compensated {
            failed_step: SagaStep::AllocateInventory,
            reason: "out of stock".to_string(),
        })
    );
}

#[test]
fn a_cancellation_on_request_is_compensated_at_the_first_open_step() {
    // Given a paid order cancelled by the customer, the saga compensated
    // without a failed step
    let order = given(and(
        pending_events(),
        [
            saga_started(),
            paid(),
            payment_confirmed(),
            OrderEvent::SagaCompensated {
                failed_step: None,
                reason: "changed my mind".to_string(),
                completed_at: NOW,
            },
        ],
    ));
    let r = report(&order, NOW);
    // Then the outcome is compensated at the step the saga had reached
    assert_eq!(first_open_step(&order), SagaStep::AllocateInventory);
    assert_eq!(
        r.outcome,
        Some(ReportOutcome::Compensated {
            failed_step: SagaStep::AllocateInventory,
            reason: "changed my mind".to_string(),
        })
    );
}

#[test]
fn a_compensation_that_failed_names_what_is_left_to_do() {
    let order = given(and(
        pending_events(),
        [
            saga_started(),
            paid(),
            payment_confirmed(),
            OrderEvent::SagaCompensationFailed {
                failed_step: Some(SagaStep::AllocateInventory),
                reason: "out of stock".to_string(),
                pending: vec!["refund-payment".to_string()],
                completed_at: NOW,
            },
        ],
    ));
    let r = report(&order, NOW);
    assert_eq!(r.phase, ReportPhase::Finished);
    assert!(!r.output.success);
    assert_eq!(
        r.outcome,
        Some(ReportOutcome::CompensationFailed {
            failed_step: Some(SagaStep::AllocateInventory),
            reason: "out of stock".to_string(),
            pending: vec!["refund-payment".to_string()],
        })
    );
}

#[test]
fn a_stalled_compensation_is_reported_as_failed_while_the_saga_keeps_trying() {
    // Given a refund that stalled after the allocation failed
    let order = given(and(
        paid_then_allocation_failed(),
        [OrderEvent::CompensationStalled {
            step: SagaStep::ProcessPayment,
            attempt: 5,
            error: "gateway down".to_string(),
            retry_at: NOW + MINUTE,
        }],
    ));
    let r = report(&order, NOW);
    // Then the saga is compensating, not finished, and its outcome already
    // says what is stalled
    assert_eq!(r.phase, ReportPhase::Compensating);
    match &r.outcome {
        Some(ReportOutcome::CompensationFailed {
            failed_step,
            reason,
            pending,
        }) => {
            assert_eq!(*failed_step, Some(SagaStep::AllocateInventory));
            assert_eq!(reason, "out of stock");
            assert!(!pending.is_empty(), "the stalled refund is listed");
        }
        other => panic!("expected compensation-failed, got {other:?}"),
    }
    assert_eq!(
        status_of(&r, SagaStep::CreateShipment),
        ReportedStatus::Skipped
    );
}
