//! The fulfilment saga as pure decisions (`domain::saga`), driven by hand
//! over an order's event stream: a placed order starts the saga and runs
//! process-payment, allocate-inventory, create-shipment and notify-customer
//! in order before completing; transient errors are retried with capped,
//! jittered, deterministic exponential backoff until the attempts run out,
//! permanent errors fail the step at once and cancel the order; a failing
//! notification gives up without undoing the order; compensations run in
//! reverse order, only for steps that did something, and a stalled one
//! holds back the rest; every call carries a stable idempotency key; a step
//! in doubt stays in doubt through transient answers, fails in doubt so its
//! own compensation learns the outcome, and is never failed once another
//! path has achieved it.

mod common;

use common::*;
use order_core::domain::ExternalError;
use order_core::domain::order::{Order, OrderEvent, OrderStatus};
use order_core::domain::saga::*;
use order_core::domain::values::*;

const NOW: Timestamp = T0 + HOUR;
const HOUR: Timestamp = 60 * MINUTE;

/// An order's stream, driven step by step as the application would.
struct Stream {
    events: Vec<OrderEvent>,
}

impl Stream {
    fn new(events: Vec<OrderEvent>) -> Self {
        Stream { events }
    }

    fn order(&self) -> Order {
        given(self.events.clone())
    }

    fn next(&self, now: Timestamp) -> SagaAction {
        next_action(&self.order(), now)
    }

    fn push(&mut self, events: impl IntoIterator<Item = OrderEvent>) {
        self.events.extend(events);
    }

    /// Expects `Record(events)` and appends them.
    #[track_caller]
    fn record(&mut self, now: Timestamp) -> Vec<OrderEvent> {
        match self.next(now) {
            SagaAction::Record(events) => {
                self.push(events.clone());
                events
            }
            other => panic!("expected events to record, got {other:?}"),
        }
    }

    /// Expects the call `call` and records that it started.
    #[track_caller]
    fn call(&mut self, call: SagaCall, now: Timestamp) {
        assert_eq!(self.next(now), SagaAction::Call(call));
        let started = started(&self.order(), call, &saga_policy(), now);
        self.push([started]);
    }

    /// Expects the call `call`, which answers `events`, and records both.
    #[track_caller]
    fn answered(&mut self, call: SagaCall, now: Timestamp, events: [OrderEvent; 2]) {
        self.call(call, now);
        self.push(events);
    }

    /// Expects the call `call`, which fails with `error`; records and
    /// returns the events decided for that error.
    #[track_caller]
    fn call_fails(
        &mut self,
        call: SagaCall,
        error: ExternalError,
        now: Timestamp,
    ) -> Vec<OrderEvent> {
        type Decide =
            fn(&Order, SagaStep, &ExternalError, &SagaPolicy, Timestamp) -> Vec<OrderEvent>;
        let (step, decide): (SagaStep, Decide) = match call {
            SagaCall::Forward(step) => (step, after_forward_error),
            SagaCall::Compensate(step) => (step, after_compensation_error),
            SagaCall::Obligation(_) => panic!("an obligation's error is not decided by a step"),
        };
        self.call(call, now);
        let events = decide(&self.order(), step, &error, &saga_policy(), now);
        self.push(events.clone());
        events
    }

    /// A forward step fails with `error`; returns the decided events.
    #[track_caller]
    fn forward_fails(
        &mut self,
        step: SagaStep,
        error: ExternalError,
        now: Timestamp,
    ) -> Vec<OrderEvent> {
        self.call_fails(SagaCall::Forward(step), error, now)
    }

    /// A compensation fails with `error`; returns the decided events.
    #[track_caller]
    fn compensation_fails(
        &mut self,
        step: SagaStep,
        error: ExternalError,
        now: Timestamp,
    ) -> Vec<OrderEvent> {
        self.call_fails(SagaCall::Compensate(step), error, now)
    }

    /// A compensation succeeds.
    #[track_caller]
    fn compensated(&mut self, step: SagaStep, now: Timestamp) {
        self.call(SagaCall::Compensate(step), now);
        self.push([OrderEvent::CompensationCompleted {
            step,
            detail: format!("{} done", step.compensation_name()),
            completed_at: now,
        }]);
    }
}

fn permanent(message: &str) -> ExternalError {
    ExternalError::Permanent(message.to_string())
}

fn transient(message: &str) -> ExternalError {
    ExternalError::Transient(message.to_string())
}

fn completed(step: SagaStep, outcome: StepOutcome) -> OrderEvent {
    OrderEvent::SagaStepCompleted {
        step,
        outcome,
        completed_at: NOW,
    }
}

fn paid() -> [OrderEvent; 2] {
    [
        completed(
            SagaStep::ProcessPayment,
            StepOutcome::Paid {
                transaction_id: TRANSACTION_ID.to_string(),
                amount: usd(TOTAL),
            },
        ),
        payment_confirmed(),
    ]
}

fn allocated() -> [OrderEvent; 2] {
    [
        completed(
            SagaStep::AllocateInventory,
            StepOutcome::Allocated {
                all_items_allocated: true,
            },
        ),
        inventory_allocated(),
    ]
}

fn booked() -> [OrderEvent; 2] {
    [
        completed(
            SagaStep::CreateShipment,
            StepOutcome::ShipmentBooked {
                shipment_id: SHIPMENT_ID.to_string(),
                carrier: CarrierCode::Ups,
                tracking_number: TRACKING_NUMBER.to_string(),
                estimated_delivery: None,
            },
        ),
        order_shipped(),
    ]
}

/// A placed order whose saga has started.
fn started_saga() -> Stream {
    let mut s = Stream::new(pending_events());
    s.record(NOW);
    s
}

/// Payment and allocation done, the shipment step next.
fn paid_and_allocated() -> Stream {
    let mut s = started_saga();
    s.answered(SagaCall::Forward(SagaStep::ProcessPayment), NOW, paid());
    s.answered(
        SagaCall::Forward(SagaStep::AllocateInventory),
        NOW,
        allocated(),
    );
    s
}

/// Shipped, the notification next.
fn shipped() -> Stream {
    let mut s = paid_and_allocated();
    s.answered(SagaCall::Forward(SagaStep::CreateShipment), NOW, booked());
    s
}

fn cancelled_by(events: &[OrderEvent]) -> Option<(&str, &str)> {
    events.iter().find_map(|e| match e {
        OrderEvent::OrderCancelled {
            reason,
            cancelled_by,
            ..
        } => Some((reason.as_str(), cancelled_by.as_str())),
        _ => None,
    })
}

// ----- the forward path -------------------------------------------------------

#[test]
fn a_fresh_placed_order_records_saga_started_then_calls_process_payment() {
    let mut s = Stream::new(pending_events());
    assert_eq!(
        s.next(NOW),
        SagaAction::Record(vec![OrderEvent::SagaStarted { started_at: NOW }])
    );
    s.record(NOW);
    assert!(s.order().saga.started);
    assert_eq!(
        s.next(NOW),
        SagaAction::Call(SagaCall::Forward(SagaStep::ProcessPayment))
    );
    assert_eq!(
        started(
            &s.order(),
            SagaCall::Forward(SagaStep::ProcessPayment),
            &saga_policy(),
            NOW
        ),
        OrderEvent::SagaStepStarted {
            step: SagaStep::ProcessPayment,
            attempt: 1,
            started_at: NOW,
            lease_until: NOW + LEASE_MS,
        }
    );
}

#[test]
fn a_draft_has_no_saga() {
    assert_eq!(
        next_action(&order_in(OrderStatus::Draft), NOW),
        SagaAction::Finished
    );
}

#[test]
fn the_steps_run_in_order_and_the_saga_completes() {
    let mut s = started_saga();
    s.call(SagaCall::Forward(SagaStep::ProcessPayment), NOW);
    assert!(s.order().saga.step(SagaStep::ProcessPayment).in_flight);
    s.push(paid());
    assert_eq!(
        s.next(NOW),
        SagaAction::Call(SagaCall::Forward(SagaStep::AllocateInventory))
    );
    s.answered(
        SagaCall::Forward(SagaStep::AllocateInventory),
        NOW,
        allocated(),
    );
    assert_eq!(
        s.next(NOW),
        SagaAction::Call(SagaCall::Forward(SagaStep::CreateShipment))
    );
    s.answered(SagaCall::Forward(SagaStep::CreateShipment), NOW, booked());
    assert_eq!(
        s.next(NOW),
        SagaAction::Call(SagaCall::Forward(SagaStep::NotifyCustomer))
    );
    s.call(SagaCall::Forward(SagaStep::NotifyCustomer), NOW);
    s.push([completed(SagaStep::NotifyCustomer, StepOutcome::Notified)]);
    assert_eq!(
        s.next(NOW),
        SagaAction::Record(vec![OrderEvent::SagaCompleted {
            shipment_id: SHIPMENT_ID.to_string(),
            tracking_number: TRACKING_NUMBER.to_string(),
            completed_at: NOW,
        }])
    );
    s.record(NOW);
    assert_eq!(s.next(NOW + DAY), SagaAction::Finished);
    let order = s.order();
    assert_eq!(order.status, OrderStatus::Shipped);
    assert_eq!(
        order.saga.finished,
        Some(Finished::Completed {
            shipment_id: SHIPMENT_ID.to_string(),
            tracking_number: TRACKING_NUMBER.to_string(),
        })
    );
}

#[test]
fn a_payment_confirmed_by_another_path_completes_step_one() {
    let mut s = started_saga();
    s.push([payment_confirmed()]);
    assert_eq!(
        s.record(NOW),
        vec![completed(
            SagaStep::ProcessPayment,
            StepOutcome::Paid {
                transaction_id: TRANSACTION_ID.to_string(),
                amount: usd(TOTAL),
            }
        )]
    );
    assert_eq!(
        s.next(NOW),
        SagaAction::Call(SagaCall::Forward(SagaStep::AllocateInventory))
    );
}

#[test]
fn a_partial_allocation_fails_the_saga_at_step_two() {
    let mut s = started_saga();
    s.answered(SagaCall::Forward(SagaStep::ProcessPayment), NOW, paid());
    s.push([OrderEvent::InventoryAllocated {
        order_id: ORDER_ID.to_string(),
        all_items_allocated: false,
        allocated_items: vec![ITEM_A.to_string()],
        allocated_at: NOW,
    }]);
    let events = s.record(NOW);
    assert!(matches!(
        events[0],
        OrderEvent::SagaStepFailed {
            step: SagaStep::AllocateInventory,
            ..
        }
    ));
    assert_eq!(
        cancelled_by(&events).map(|(r, _)| r),
        Some("allocate-inventory failed: not every item could be allocated")
    );
}

// ----- retries ------------------------------------------------------------------

#[test]
fn transient_errors_are_retried_with_backoff_until_max_attempts_then_cancel_the_order() {
    let mut s = started_saga();
    let key = key(SagaStep::ProcessPayment, false);
    let policy = saga_policy().retry;
    let timeout = || transient("gateway timeout");

    let first = s.forward_fails(SagaStep::ProcessPayment, timeout(), NOW);
    let retry_1 = NOW + policy.delay_ms(1, &key);
    assert_eq!(
        first,
        vec![OrderEvent::SagaStepRetryScheduled {
            step: SagaStep::ProcessPayment,
            attempt: 1,
            error: "transient: gateway timeout".to_string(),
            retry_at: retry_1,
            in_doubt: false,
        }]
    );
    assert_eq!(s.next(retry_1 - 1), SagaAction::Wait(retry_1));
    assert_eq!(
        s.next(retry_1),
        SagaAction::Call(SagaCall::Forward(SagaStep::ProcessPayment))
    );

    let second = s.forward_fails(SagaStep::ProcessPayment, timeout(), retry_1);
    let retry_2 = retry_1 + policy.delay_ms(2, &key);
    assert!(matches!(
        second[..],
        [OrderEvent::SagaStepRetryScheduled { attempt: 2, retry_at, .. }] if retry_at == retry_2
    ));
    assert_eq!(s.next(retry_2 - 1), SagaAction::Wait(retry_2));

    let third = s.forward_fails(SagaStep::ProcessPayment, timeout(), retry_2);
    assert_eq!(
        third,
        vec![
            OrderEvent::SagaStepFailed {
                step: SagaStep::ProcessPayment,
                reason: "gateway timeout (after 3 attempts)".to_string(),
                failed_at: retry_2,
                in_doubt: false,
                call_out: false,
            },
            OrderEvent::OrderCancelled {
                order_id: ORDER_ID.to_string(),
                reason: "process-payment failed: gateway timeout (after 3 attempts)".to_string(),
                cancelled_by: "fulfillment-saga".to_string(),
                cancelled_at: retry_2,
            },
        ]
    );
    let order = s.order();
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(
        order.saga.step(SagaStep::ProcessPayment).status,
        StepStatus::Failed
    );
    assert_eq!(order.saga.step(SagaStep::ProcessPayment).attempts, 3);
}

#[test]
fn retry_delays_grow_exponentially_up_to_the_cap_without_jitter() {
    let p = RetryPolicy {
        max_attempts: 10,
        base_delay_ms: 1_000,
        max_delay_ms: 10_000,
        jitter_permille: 0,
    };
    let delays: Vec<u64> = (1..=6).map(|a| p.delay_ms(a, "seed")).collect();
    assert_eq!(delays, vec![1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
    assert_eq!(p.delay_ms(u32::MAX, "seed"), 10_000, "no overflow far out");
}

#[test]
fn jitter_only_shortens_a_delay_by_at_most_its_share() {
    let p = retry_policy();
    for attempt in 1..=8 {
        let raw = (p.base_delay_ms << (attempt - 1)).min(p.max_delay_ms);
        let floor = raw - raw * u64::from(p.jitter_permille) / 1000;
        for seed in 0..50 {
            let d = p.delay_ms(attempt, &format!("order-{seed}/process-payment/action"));
            assert!(
                (floor..=raw).contains(&d),
                "attempt {attempt}: {d} outside {floor}..={raw}"
            );
        }
    }
}

#[test]
fn jitter_is_deterministic_per_seed_and_attempt_but_varies_between_seeds() {
    let p = retry_policy();
    let key = key(SagaStep::AllocateInventory, false);
    assert_eq!(p.delay_ms(2, &key), p.delay_ms(2, &key));
    let distinct: std::collections::BTreeSet<u64> = (0..20)
        .map(|i| p.delay_ms(1, &format!("order-{i}")))
        .collect();
    assert!(distinct.len() > 1, "jitter spreads retries: {distinct:?}");
}

#[test]
fn jitter_above_one_thousand_permille_is_clamped() {
    let p = RetryPolicy {
        jitter_permille: 5_000,
        ..retry_policy()
    };
    for seed in 0..50 {
        let d = p.delay_ms(1, &seed.to_string());
        assert!(d <= p.base_delay_ms, "{d}");
    }
}

#[test]
fn an_uncapped_policy_never_overflows() {
    let p = RetryPolicy {
        max_attempts: u32::MAX,
        base_delay_ms: 1_000,
        max_delay_ms: u64::MAX,
        jitter_permille: 200,
    };
    for attempt in 1..=64 {
        let raw = 1_000u64.saturating_mul(1 << (attempt - 1).min(40));
        let d = p.delay_ms(attempt, "order-x/process-payment/action");
        assert!(d <= raw && d >= raw - raw / 5, "attempt {attempt}: {d}");
    }
    // A retry far in the future saturates instead of wrapping.
    let policy = SagaPolicy {
        retry: RetryPolicy {
            max_attempts: 10,
            base_delay_ms: u64::MAX,
            max_delay_ms: u64::MAX,
            jitter_permille: 0,
        },
        ..saga_policy()
    };
    let mut s = started_saga();
    s.call(SagaCall::Forward(SagaStep::ProcessPayment), NOW);
    let events = after_forward_error(
        &s.order(),
        SagaStep::ProcessPayment,
        &transient("slow"),
        &policy,
        NOW,
    );
    assert!(matches!(
        events[..],
        [OrderEvent::SagaStepRetryScheduled {
            retry_at: u64::MAX,
            ..
        }]
    ));
}

#[test]
fn permanent_errors_fail_the_step_at_once() {
    let mut s = paid_and_allocated();
    let events = s.forward_fails(
        SagaStep::CreateShipment,
        permanent("address undeliverable"),
        NOW,
    );
    assert!(matches!(
        &events[0],
        OrderEvent::SagaStepFailed { step: SagaStep::CreateShipment, reason, .. }
            if reason == "address undeliverable"
    ));
    assert_eq!(
        cancelled_by(&events),
        Some((
            "create-shipment failed: address undeliverable",
            "fulfillment-saga"
        ))
    );
    assert_eq!(s.order().saga.step(SagaStep::CreateShipment).attempts, 1);
    assert_eq!(
        s.order().saga.failure,
        Some((
            SagaStep::CreateShipment,
            "address undeliverable".to_string()
        ))
    );
}

#[test]
fn a_long_failure_reason_is_cut_to_a_valid_cancellation_reason() {
    let s = started_saga();
    let events = fail(&s.order(), SagaStep::ProcessPayment, &text(600), NOW);
    let (reason, _) = cancelled_by(&events).unwrap();
    assert_eq!(reason.chars().count(), 500);
    assert!(reason.starts_with("process-payment failed: "));
}

#[test]
fn a_step_failing_after_shipment_does_not_cancel_the_order() {
    let s = shipped();
    let events = fail(&s.order(), SagaStep::NotifyCustomer, "late", NOW);
    assert_eq!(events.len(), 1);
    assert!(cancelled_by(&events).is_none());
}

// ----- notifications ------------------------------------------------------------

#[test]
fn a_failing_notification_gives_up_and_the_saga_still_completes() {
    let mut s = shipped();
    let policy = saga_policy().notification_retry;
    let key = key(SagaStep::NotifyCustomer, false);
    let down = || transient("mail server down");

    let first = s.forward_fails(SagaStep::NotifyCustomer, down(), NOW);
    let retry_at = NOW + policy.delay_ms(1, &key);
    assert!(matches!(
        first[..],
        [OrderEvent::SagaStepRetryScheduled { step: SagaStep::NotifyCustomer, retry_at: r, .. }]
            if r == retry_at
    ));
    let second = s.forward_fails(SagaStep::NotifyCustomer, down(), retry_at);
    assert_eq!(
        second,
        vec![
            OrderEvent::NotificationGaveUp {
                step: SagaStep::NotifyCustomer,
                reason: "mail server down (after 2 attempts)".to_string(),
                gave_up_at: retry_at,
            },
            OrderEvent::NoteRecorded {
                note: "the order confirmation could not be sent to the customer: \
                       mail server down (after 2 attempts)"
                    .to_string(),
                recorded_at: retry_at,
            },
        ]
    );
    let order = s.order();
    assert_eq!(
        order.status,
        OrderStatus::Shipped,
        "the order is not undone"
    );
    assert_eq!(
        order.saga.step(SagaStep::NotifyCustomer).status,
        StepStatus::GaveUp
    );
    assert_eq!(order.notes.len(), 1);
    assert!(matches!(
        &s.record(retry_at)[..],
        [OrderEvent::SagaCompleted { shipment_id, .. }] if shipment_id == SHIPMENT_ID
    ));
    assert_eq!(s.next(retry_at), SagaAction::Finished);
}

#[test]
fn a_permanently_failing_notification_gives_up_at_once() {
    let mut s = shipped();
    let events = s.forward_fails(SagaStep::NotifyCustomer, permanent("no email on file"), NOW);
    assert!(matches!(
        &events[..],
        [
            OrderEvent::NotificationGaveUp { .. },
            OrderEvent::NoteRecorded { .. }
        ]
    ));
    assert!(cancelled_by(&events).is_none());
    assert!(matches!(
        &s.record(NOW)[..],
        [OrderEvent::SagaCompleted { .. }]
    ));
}

// ----- compensation ---------------------------------------------------------------

/// Payment, allocation done; the shipment call started and its outcome is
/// unknown; then a representative cancels the order.
/// The booking call was started a lease ago and never answered: its
/// advance is presumed lost.
fn cancelled_with_shipment_in_flight() -> Stream {
    let mut s = paid_and_allocated();
    s.call(SagaCall::Forward(SagaStep::CreateShipment), NOW - LEASE_MS);
    s.push([order_cancelled()]);
    s
}

#[test]
fn compensations_run_in_reverse_order_then_the_cancellation_notice() {
    let mut s = cancelled_with_shipment_in_flight();
    assert!(compensating(&s.order()));
    let mut calls = Vec::new();
    while let SagaAction::Call(call) = s.next(NOW) {
        let SagaCall::Compensate(step) = call else {
            panic!("a forward call while compensating: {call:?}");
        };
        calls.push(step.compensation_name());
        s.compensated(step, NOW);
    }
    assert_eq!(
        calls,
        vec![
            "cancel-shipment",
            "release-stock",
            "refund-payment",
            "send-order-cancellation"
        ]
    );
    assert_eq!(
        s.record(NOW),
        vec![OrderEvent::SagaCompensated {
            failed_step: None,
            reason: "customer asked".to_string(),
            completed_at: NOW,
        }]
    );
    assert_eq!(s.next(NOW), SagaAction::Finished);
}

/// The compensations a failed saga calls, in order, all succeeding.
fn compensations_after(mut s: Stream) -> Vec<SagaStep> {
    let mut steps = Vec::new();
    while let SagaAction::Call(SagaCall::Compensate(step)) = s.next(NOW) {
        steps.push(step);
        s.compensated(step, NOW);
    }
    assert!(matches!(
        &s.record(NOW)[..],
        [OrderEvent::SagaCompensated {
            failed_step: Some(_),
            ..
        }]
    ));
    steps
}

#[test]
fn a_payment_failure_only_sends_the_cancellation_notice() {
    let mut s = started_saga();
    s.forward_fails(SagaStep::ProcessPayment, permanent("card declined"), NOW);
    let order = s.order();
    assert!(!compensation_needed(&order, SagaStep::ProcessPayment));
    assert!(!compensation_needed(&order, SagaStep::AllocateInventory));
    assert!(!compensation_needed(&order, SagaStep::CreateShipment));
    assert_eq!(compensations_after(s), vec![SagaStep::NotifyCustomer]);
}

#[test]
fn an_allocation_failure_refunds_but_releases_nothing() {
    let mut s = started_saga();
    s.answered(SagaCall::Forward(SagaStep::ProcessPayment), NOW, paid());
    s.forward_fails(SagaStep::AllocateInventory, permanent("out of stock"), NOW);
    assert_eq!(
        compensations_after(s),
        vec![SagaStep::ProcessPayment, SagaStep::NotifyCustomer]
    );
}

#[test]
fn a_shipment_failure_releases_stock_and_refunds_but_cancels_no_shipment() {
    let mut s = paid_and_allocated();
    s.forward_fails(SagaStep::CreateShipment, permanent("no carrier"), NOW);
    assert_eq!(
        compensations_after(s),
        vec![
            SagaStep::AllocateInventory,
            SagaStep::ProcessPayment,
            SagaStep::NotifyCustomer
        ]
    );
}

#[test]
fn a_payment_call_lost_in_flight_is_compensated() {
    let mut s = started_saga();
    s.call(SagaCall::Forward(SagaStep::ProcessPayment), NOW);
    s.push([order_cancelled()]);
    assert!(compensation_needed(&s.order(), SagaStep::ProcessPayment));
    // While the call's lease runs, its outcome is awaited, not guessed.
    assert_eq!(s.next(NOW + 1), SagaAction::Wait(NOW + LEASE_MS));
    assert_eq!(
        s.next(NOW + LEASE_MS),
        SagaAction::Call(SagaCall::Compensate(SagaStep::ProcessPayment))
    );
}

#[test]
fn a_call_in_flight_is_left_to_its_caller_until_its_lease_runs_out() {
    let mut s = started_saga();
    s.call(SagaCall::Forward(SagaStep::ProcessPayment), NOW);
    // A second, concurrent advance does not call the gateway too.
    assert_eq!(s.next(NOW + LEASE_MS - 1), SagaAction::Wait(NOW + LEASE_MS));
    // A lease that ran out means the first advance was lost: call again,
    // with the same key.
    assert_eq!(
        s.next(NOW + LEASE_MS),
        SagaAction::Call(SagaCall::Forward(SagaStep::ProcessPayment))
    );
}

#[test]
fn a_failing_compensation_retries_then_stalls_and_holds_back_the_earlier_ones() {
    let mut s = paid_and_allocated();
    s.forward_fails(SagaStep::CreateShipment, permanent("no carrier"), NOW);
    let key = key(SagaStep::AllocateInventory, true);
    let policy = saga_policy().retry;
    let busy = || transient("inventory busy");

    let first = s.compensation_fails(SagaStep::AllocateInventory, busy(), NOW);
    let retry_1 = NOW + policy.delay_ms(1, &key);
    assert_eq!(
        first,
        vec![OrderEvent::CompensationRetryScheduled {
            step: SagaStep::AllocateInventory,
            attempt: 1,
            error: "transient: inventory busy".to_string(),
            retry_at: retry_1,
        }]
    );
    assert_eq!(s.next(NOW), SagaAction::Wait(retry_1));
    let retry_2 = retry_1 + policy.delay_ms(2, &key);
    s.compensation_fails(SagaStep::AllocateInventory, busy(), retry_1);
    let third = s.compensation_fails(SagaStep::AllocateInventory, busy(), retry_2);
    let stalled_until = retry_2 + policy.max_delay_ms;
    assert_eq!(
        third,
        vec![OrderEvent::CompensationStalled {
            step: SagaStep::AllocateInventory,
            attempt: 3,
            error: "transient: inventory busy".to_string(),
            retry_at: stalled_until,
        }]
    );
    assert_eq!(
        s.order().saga.stalled(),
        vec!["release-stock: transient: inventory busy".to_string()]
    );
    // The refund waits behind the stalled release, which keeps being retried.
    assert_eq!(s.next(retry_2), SagaAction::Wait(stalled_until));
    assert_eq!(
        s.next(stalled_until),
        SagaAction::Call(SagaCall::Compensate(SagaStep::AllocateInventory))
    );
    s.compensated(SagaStep::AllocateInventory, stalled_until);
    assert!(s.order().saga.stalled().is_empty());
    assert_eq!(
        s.next(stalled_until),
        SagaAction::Call(SagaCall::Compensate(SagaStep::ProcessPayment))
    );
}

#[test]
fn a_permanently_refused_compensation_fails_for_good_and_the_saga_ends_compensation_failed() {
    let mut s = cancelled_with_shipment_in_flight();
    s.compensated(SagaStep::CreateShipment, NOW);
    s.compensated(SagaStep::AllocateInventory, NOW);
    let events = s.compensation_fails(
        SagaStep::ProcessPayment,
        permanent("transaction unknown"),
        NOW,
    );
    // Repeating a refused call under the same key cannot succeed: no retry.
    assert_eq!(
        events,
        vec![OrderEvent::CompensationFailed {
            step: SagaStep::ProcessPayment,
            error: "permanent: transaction unknown".to_string(),
            failed_at: NOW,
        }]
    );
    assert_eq!(
        s.order().saga.compensation(SagaStep::ProcessPayment).status,
        CompensationStatus::Failed
    );
    // The customer is still told, then the saga ends with what is left to do.
    assert_eq!(
        s.next(NOW),
        SagaAction::Call(SagaCall::Compensate(SagaStep::NotifyCustomer))
    );
    s.compensated(SagaStep::NotifyCustomer, NOW);
    assert_eq!(
        s.record(NOW),
        vec![OrderEvent::SagaCompensationFailed {
            failed_step: None,
            reason: "customer asked".to_string(),
            pending: vec!["refund-payment: permanent: transaction unknown".to_string()],
            completed_at: NOW,
        }]
    );
    assert_eq!(s.next(NOW), SagaAction::Finished);
}

#[test]
fn a_cancellation_notice_that_cannot_be_sent_gives_up_and_the_saga_ends() {
    let mut s = started_saga();
    s.forward_fails(SagaStep::ProcessPayment, permanent("card declined"), NOW);
    let events = s.compensation_fails(SagaStep::NotifyCustomer, permanent("no email on file"), NOW);
    assert_eq!(
        events,
        vec![
            OrderEvent::NotificationGaveUp {
                step: SagaStep::NotifyCustomer,
                reason: "no email on file".to_string(),
                gave_up_at: NOW,
            },
            OrderEvent::NoteRecorded {
                note: "the cancellation notice could not be sent to the customer: \
                       no email on file"
                    .to_string(),
                recorded_at: NOW,
            },
            OrderEvent::CompensationSkipped {
                step: SagaStep::NotifyCustomer,
                reason: "gave up: no email on file".to_string(),
                skipped_at: NOW,
            },
        ]
    );
    let order = s.order();
    assert_eq!(
        order.saga.notes,
        vec!["send-order-cancellation gave up: no email on file".to_string()]
    );
    assert!(matches!(
        &s.record(NOW)[..],
        [OrderEvent::SagaCompensated {
            failed_step: Some(SagaStep::ProcessPayment),
            ..
        }]
    ));
}

#[test]
fn a_cancellation_notice_for_a_cancelled_order_gives_up_as_a_cancellation() {
    let mut s = Stream::new(and(pending_events(), [order_cancelled()]));
    s.record(NOW);
    s.compensation_fails(SagaStep::NotifyCustomer, permanent("bounced"), NOW);
    let order = s.order();
    assert_eq!(
        order.saga.notes,
        vec!["send-order-cancellation gave up: bounced".to_string()]
    );
    assert_ne!(
        order.saga.step(SagaStep::NotifyCustomer).status,
        StepStatus::GaveUp,
        "the order confirmation was never attempted"
    );
    assert!(matches!(
        &s.record(NOW)[..],
        [OrderEvent::SagaCompensated { failed_step: None, reason, .. }] if reason == "customer asked"
    ));
}

// ----- idempotency keys -------------------------------------------------------------

#[test]
fn idempotency_keys_name_the_order_the_step_and_the_direction() {
    let keys: Vec<(String, String)> = SagaStep::ALL
        .iter()
        .map(|s| (s.key(ORDER_ID, false), s.key(ORDER_ID, true)))
        .collect();
    let id = ORDER_ID;
    assert_eq!(
        keys,
        vec![
            (
                format!("order-{id}/process-payment/action"),
                format!("order-{id}/process-payment/compensation")
            ),
            (
                format!("order-{id}/allocate-inventory/action"),
                format!("order-{id}/allocate-inventory/compensation")
            ),
            (
                format!("order-{id}/create-shipment/action"),
                format!("order-{id}/create-shipment/compensation")
            ),
            (
                format!("order-{id}/notify-customer/action"),
                format!("order-{id}/notify-customer/compensation")
            ),
        ]
    );
}

#[test]
fn retries_carry_the_same_key_and_count_attempts() {
    let mut s = started_saga();
    s.forward_fails(SagaStep::ProcessPayment, transient("timeout"), NOW);
    let retry_at = match s.next(NOW) {
        SagaAction::Wait(t) => t,
        other => panic!("expected to wait, got {other:?}"),
    };
    assert_eq!(
        started(
            &s.order(),
            SagaCall::Forward(SagaStep::ProcessPayment),
            &saga_policy(),
            retry_at
        ),
        OrderEvent::SagaStepStarted {
            step: SagaStep::ProcessPayment,
            attempt: 2,
            started_at: retry_at,
            lease_until: retry_at + LEASE_MS,
        }
    );
}

// ----- in doubt -------------------------------------------------------------------

#[test]
fn a_transient_answer_after_an_unanswered_attempt_keeps_the_step_in_doubt_and_fails_it_in_doubt() {
    let mut s = started_saga();
    // Attempt 1 started and was never answered; its lease ran out.
    s.call(SagaCall::Forward(SagaStep::ProcessPayment), NOW);
    let later = NOW + LEASE_MS;
    let second = s.forward_fails(SagaStep::ProcessPayment, transient("503"), later);
    assert!(
        matches!(
            second[..],
            [OrderEvent::SagaStepRetryScheduled {
                attempt: 2,
                in_doubt: true,
                ..
            }]
        ),
        "{second:?}"
    );
    assert!(s.order().saga.step(SagaStep::ProcessPayment).in_doubt);
    let retry_at = match second[0] {
        OrderEvent::SagaStepRetryScheduled { retry_at, .. } => retry_at,
        _ => unreachable!(),
    };
    let third = s.forward_fails(SagaStep::ProcessPayment, transient("503"), retry_at);
    assert!(
        matches!(
            third[0],
            OrderEvent::SagaStepFailed {
                in_doubt: true,
                call_out: false,
                ..
            }
        ),
        "{third:?}"
    );
    // The failed step's own compensation runs: it must learn what the key did.
    assert_eq!(
        s.next(retry_at),
        SagaAction::Call(SagaCall::Compensate(SagaStep::ProcessPayment))
    );
}

#[test]
fn a_refusal_of_the_sagas_call_for_a_step_another_path_achieved_completes_the_step() {
    let mut s = paid_and_allocated();
    s.call(SagaCall::Forward(SagaStep::CreateShipment), NOW);
    s.push([order_shipped()]);
    let events = after_forward_error(
        &s.order(),
        SagaStep::CreateShipment,
        &permanent("already shipped"),
        &saga_policy(),
        NOW,
    );
    assert!(
        matches!(
            &events[..],
            [OrderEvent::SagaStepCompleted {
                step: SagaStep::CreateShipment,
                outcome: StepOutcome::ShipmentBooked { .. },
                ..
            }]
        ),
        "{events:?}"
    );
}

#[test]
fn a_step_in_doubt_that_another_path_achieved_is_never_failed_and_keeps_asking() {
    let mut s = started_saga();
    let doubt = || ExternalError::InDoubt("time-out".to_string());
    let first = s.forward_fails(SagaStep::ProcessPayment, doubt(), NOW);
    let mut now = match first[..] {
        [OrderEvent::SagaStepRetryScheduled { retry_at, .. }] => retry_at,
        _ => panic!("{first:?}"),
    };
    // A clerk confirms the payment while the saga's charge is in doubt.
    s.push([payment_confirmed()]);
    for _ in 0..5 {
        let events = s.forward_fails(SagaStep::ProcessPayment, doubt(), now);
        match events[..] {
            [
                OrderEvent::SagaStepRetryScheduled {
                    retry_at,
                    in_doubt: true,
                    ..
                },
                ..,
            ] => now = retry_at,
            _ => panic!("expected a retry, got {events:?}"),
        }
    }
    assert!(s.order().saga.failure.is_none());
    assert_eq!(s.order().status, OrderStatus::Confirmed);
    // People are told once that a second charge may exist.
    let owed = &s.order().saga.obligations;
    assert_eq!(owed.len(), 1, "{owed:?}");
    assert_eq!(
        owed[0].key,
        format!("order-{ORDER_ID}/support-ticket/process-payment/in-doubt")
    );
    assert!(owed[0].urgent);
}
