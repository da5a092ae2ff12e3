//! The order-fulfilment saga as pure decisions. Its progress is a set of
//! events in the order's stream; [`SagaState`] folds them, [`next_action`]
//! says what to do next, and the `after_*` functions turn the answer of an
//! external call into the events to append. The application layer does the
//! I/O: it appends a `*-started` event, makes the call with the step's
//! idempotency key, and appends what these functions decide.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::ExternalError;
use super::order::{Order, OrderEvent, OrderStatus, saga_payment};
use super::values::{CarrierCode, Money, Timestamp};

/// The saga's steps, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SagaStep {
    ProcessPayment,
    AllocateInventory,
    CreateShipment,
    NotifyCustomer,
}

impl SagaStep {
    pub const ALL: [SagaStep; 4] = [
        SagaStep::ProcessPayment,
        SagaStep::AllocateInventory,
        SagaStep::CreateShipment,
        SagaStep::NotifyCustomer,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SagaStep::ProcessPayment => "process-payment",
            SagaStep::AllocateInventory => "allocate-inventory",
            SagaStep::CreateShipment => "create-shipment",
            SagaStep::NotifyCustomer => "notify-customer",
        }
    }

    /// The name of the step's compensating call.
    pub fn compensation_name(self) -> &'static str {
        match self {
            SagaStep::ProcessPayment => "refund-payment",
            SagaStep::AllocateInventory => "release-stock",
            SagaStep::CreateShipment => "cancel-shipment",
            SagaStep::NotifyCustomer => "send-order-cancellation",
        }
    }

    /// The idempotency key of the step's action or compensation: stable
    /// across retries and restarts, so a repeat never acts twice.
    pub fn key(self, order_id: &str, compensation: bool) -> String {
        format!(
            "order-{order_id}/{}/{}",
            self.as_str(),
            if compensation {
                "compensation"
            } else {
                "action"
            }
        )
    }
}

impl fmt::Display for SagaStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a completed step produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StepOutcome {
    Paid {
        transaction_id: String,
        amount: Money,
    },
    Allocated {
        all_items_allocated: bool,
    },
    ShipmentBooked {
        shipment_id: String,
        carrier: CarrierCode,
        tracking_number: String,
        estimated_delivery: Option<Timestamp>,
    },
    Notified,
}

/// How transient failures are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
    pub jitter_permille: u32,
}

impl RetryPolicy {
    /// Delay before attempt `attempt + 1`: exponential from the base,
    /// capped, shortened by a jitter derived from `seed` so that a replay
    /// computes the same delay.
    pub fn delay_ms(&self, attempt: u32, seed: &str) -> u64 {
        let exp = attempt.saturating_sub(1).min(40);
        let raw = self
            .base_delay_ms
            .saturating_mul(1u64 << exp)
            .min(self.max_delay_ms);
        let jitter = u64::from(self.jitter_permille.min(1000));
        let r = fnv1a(format!("{seed}/{attempt}").as_bytes()) % 1000;
        // In u128: `raw * jitter * r` overflows u64 for long (uncapped) delays.
        let cut = u128::from(raw) * u128::from(jitter) * u128::from(r) / 1_000_000;
        raw - cut as u64
    }
}

/// The retry settings the saga uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SagaPolicy {
    pub retry: RetryPolicy,
    pub notification_retry: RetryPolicy,
    /// How long a started call is left to finish before it is presumed lost.
    pub call_lease_ms: u64,
}

impl SagaPolicy {
    fn for_step(&self, step: SagaStep) -> &RetryPolicy {
        if step == SagaStep::NotifyCustomer {
            &self.notification_retry
        } else {
            &self.retry
        }
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Where one forward step stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StepStatus {
    #[default]
    Pending,
    Retrying,
    Completed,
    Failed,
    /// A notification that was given up on: the order stands.
    GaveUp,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepRecord {
    pub status: StepStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub retry_at: Option<Timestamp>,
    /// A call was started and its outcome is not recorded (in flight, or
    /// lost to a crash): the effect may have happened.
    pub in_flight: bool,
    /// Until when the call in flight belongs to whoever started it.
    pub lease_until: Option<Timestamp>,
    pub outcome: Option<StepOutcome>,
}

/// Where one compensation stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CompensationStatus {
    #[default]
    Pending,
    Retrying,
    Stalled,
    Completed,
    Skipped,
    /// Refused for good; left to people.
    Failed,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompensationRecord {
    pub status: CompensationStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub retry_at: Option<Timestamp>,
    /// Until when the call in flight belongs to whoever started it.
    pub lease_until: Option<Timestamp>,
}

/// How a finished saga ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finished {
    Completed {
        shipment_id: String,
        tracking_number: String,
    },
    Compensated {
        failed_step: Option<SagaStep>,
        reason: String,
    },
    CompensationFailed {
        failed_step: Option<SagaStep>,
        reason: String,
        pending: Vec<String>,
    },
}

/// The saga folded from the order's events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SagaState {
    pub started: bool,
    pub steps: [StepRecord; 4],
    pub compensations: [CompensationRecord; 4],
    /// The step that failed and why (set once).
    pub failure: Option<(SagaStep, String)>,
    pub finished: Option<Finished>,
    pub notes: Vec<String>,
}

impl SagaState {
    pub fn step(&self, step: SagaStep) -> &StepRecord {
        &self.steps[step.index()]
    }

    pub fn compensation(&self, step: SagaStep) -> &CompensationRecord {
        &self.compensations[step.index()]
    }

    pub(crate) fn apply(&mut self, event: &OrderEvent) {
        match event {
            OrderEvent::SagaStarted { .. } => self.started = true,
            OrderEvent::SagaStepStarted {
                step,
                attempt,
                lease_until,
                ..
            } => {
                let r = &mut self.steps[step.index()];
                r.attempts = (*attempt).max(r.attempts);
                r.in_flight = true;
                r.lease_until = Some(*lease_until);
            }
            OrderEvent::SagaStepCompleted { step, outcome, .. } => {
                let r = &mut self.steps[step.index()];
                r.status = StepStatus::Completed;
                r.in_flight = false;
                r.lease_until = None;
                r.retry_at = None;
                r.outcome = Some(outcome.clone());
            }
            OrderEvent::SagaStepRetryScheduled {
                step,
                error,
                retry_at,
                ..
            } => {
                let r = &mut self.steps[step.index()];
                r.status = StepStatus::Retrying;
                r.in_flight = false;
                r.lease_until = None;
                r.last_error = Some(error.clone());
                r.retry_at = Some(*retry_at);
            }
            OrderEvent::SagaStepFailed { step, reason, .. } => {
                let r = &mut self.steps[step.index()];
                r.status = StepStatus::Failed;
                r.in_flight = false;
                r.lease_until = None;
                r.retry_at = None;
                r.last_error = Some(reason.clone());
                self.failure.get_or_insert((*step, reason.clone()));
            }
            OrderEvent::NotificationGaveUp { step, reason, .. } => {
                // Once the notice's compensation has started, a give-up is
                // the cancellation notice's, not the order confirmation's.
                let cancellation = self.compensations[step.index()].attempts > 0;
                self.notes.push(format!(
                    "{} gave up: {reason}",
                    if cancellation {
                        step.compensation_name()
                    } else {
                        step.compensation_or_action()
                    }
                ));
                if *step == SagaStep::NotifyCustomer && !cancellation && self.failure.is_none() {
                    let r = &mut self.steps[step.index()];
                    r.status = StepStatus::GaveUp;
                    r.in_flight = false;
                    r.lease_until = None;
                    r.retry_at = None;
                    r.last_error = Some(reason.clone());
                }
            }
            OrderEvent::CompensationStarted {
                step,
                attempt,
                lease_until,
                ..
            } => {
                let r = &mut self.compensations[step.index()];
                r.attempts = (*attempt).max(r.attempts);
                r.lease_until = Some(*lease_until);
            }
            OrderEvent::CompensationCompleted { step, .. } => {
                let r = &mut self.compensations[step.index()];
                r.status = CompensationStatus::Completed;
                r.retry_at = None;
                r.lease_until = None;
            }
            OrderEvent::CompensationSkipped { step, reason, .. } => {
                let r = &mut self.compensations[step.index()];
                r.status = CompensationStatus::Skipped;
                r.retry_at = None;
                r.lease_until = None;
                r.last_error = Some(reason.clone());
            }
            OrderEvent::CompensationRetryScheduled {
                step,
                error,
                retry_at,
                ..
            } => {
                let r = &mut self.compensations[step.index()];
                r.status = CompensationStatus::Retrying;
                r.last_error = Some(error.clone());
                r.retry_at = Some(*retry_at);
                r.lease_until = None;
            }
            OrderEvent::CompensationStalled {
                step,
                error,
                retry_at,
                ..
            } => {
                let r = &mut self.compensations[step.index()];
                r.status = CompensationStatus::Stalled;
                r.last_error = Some(error.clone());
                r.retry_at = Some(*retry_at);
                r.lease_until = None;
            }
            OrderEvent::CompensationFailed { step, error, .. } => {
                let r = &mut self.compensations[step.index()];
                r.status = CompensationStatus::Failed;
                r.last_error = Some(error.clone());
                r.retry_at = None;
                r.lease_until = None;
            }
            OrderEvent::SagaCompensationFailed {
                failed_step,
                reason,
                pending,
                ..
            } => {
                self.finished = Some(Finished::CompensationFailed {
                    failed_step: *failed_step,
                    reason: reason.clone(),
                    pending: pending.clone(),
                })
            }
            OrderEvent::SagaCompleted {
                shipment_id,
                tracking_number,
                ..
            } => {
                self.finished = Some(Finished::Completed {
                    shipment_id: shipment_id.clone(),
                    tracking_number: tracking_number.clone(),
                })
            }
            OrderEvent::SagaCompensated {
                failed_step,
                reason,
                ..
            } => {
                self.finished = Some(Finished::Compensated {
                    failed_step: *failed_step,
                    reason: reason.clone(),
                })
            }
            _ => {}
        }
    }

    /// Compensations that are failing (stalled and retried, or refused for
    /// good), with their last error.
    pub fn stalled(&self) -> Vec<String> {
        SagaStep::ALL
            .iter()
            .filter(|s| {
                matches!(
                    self.compensation(**s).status,
                    CompensationStatus::Stalled | CompensationStatus::Failed
                )
            })
            .map(|s| {
                format!(
                    "{}: {}",
                    s.compensation_name(),
                    self.compensation(*s)
                        .last_error
                        .as_deref()
                        .unwrap_or("failed")
                )
            })
            .collect()
    }
}

impl SagaStep {
    fn compensation_or_action(self) -> &'static str {
        match self {
            SagaStep::NotifyCustomer => "send-order-confirmation",
            other => other.compensation_name(),
        }
    }
}

/// An external call the saga wants made next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SagaCall {
    /// The step's action.
    Forward(SagaStep),
    /// The step's compensation.
    Compensate(SagaStep),
}

/// What the saga needs next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SagaAction {
    /// Nothing: the saga is finished, or there is no saga for this order.
    Finished,
    /// Nothing until this time.
    Wait(Timestamp),
    /// Record these events (no external call).
    Record(Vec<OrderEvent>),
    /// Make this external call (after recording that it started).
    Call(SagaCall),
}

/// True while the saga undoes its work: a step failed or the order was cancelled.
pub fn compensating(order: &Order) -> bool {
    order.saga.failure.is_some() || order.status == OrderStatus::Cancelled
}

/// Decides the saga's next move from the order and its saga state.
pub fn next_action(order: &Order, now: Timestamp) -> SagaAction {
    let saga = &order.saga;
    if saga.finished.is_some() {
        return SagaAction::Finished;
    }
    if !saga.started {
        return if order.placed_at.is_some() {
            SagaAction::Record(vec![OrderEvent::SagaStarted { started_at: now }])
        } else {
            SagaAction::Finished
        };
    }
    if compensating(order) {
        next_compensation(order, now)
    } else {
        next_forward(order, now)
    }
}

/// Calls now, unless a retry is due later or another advance's call is
/// still within its lease (then whoever holds it records the outcome, and
/// a lease that runs out means that advance was lost: the call is repeated).
fn wait_or_call(
    retry_at: Option<Timestamp>,
    lease_until: Option<Timestamp>,
    now: Timestamp,
    call: SagaCall,
) -> SagaAction {
    match (retry_at, lease_until) {
        (_, Some(t)) if t > now => SagaAction::Wait(t),
        (Some(t), _) if t > now => SagaAction::Wait(t),
        _ => SagaAction::Call(call),
    }
}

/// The next move for a step that another path (a webhook, a command) may
/// have achieved already, as `achieved` shows. `None`: the step is done.
/// While the saga's own call for it is unanswered, that call's outcome is
/// learnt first (same key), so a second effect cannot go unnoticed.
fn reconcile(
    order: &Order,
    step: SagaStep,
    achieved: Option<StepOutcome>,
    now: Timestamp,
) -> Option<SagaAction> {
    let r = order.saga.step(step);
    match achieved {
        Some(_) if !r.in_flight && r.status == StepStatus::Completed => None,
        Some(outcome) if !r.in_flight => {
            Some(SagaAction::Record(vec![OrderEvent::SagaStepCompleted {
                step,
                outcome,
                completed_at: now,
            }]))
        }
        _ => Some(wait_or_call(
            r.retry_at,
            r.lease_until,
            now,
            SagaCall::Forward(step),
        )),
    }
}

fn next_forward(order: &Order, now: Timestamp) -> SagaAction {
    let saga = &order.saga;
    // Step 1: a payment recorded by any path (saga, webhook, command) counts.
    let paid = order.payment.as_ref().map(|p| StepOutcome::Paid {
        transaction_id: p.transaction_id.clone(),
        amount: p.amount_paid.clone(),
    });
    if let Some(action) = reconcile(order, SagaStep::ProcessPayment, paid, now) {
        return action;
    }
    // Step 2.
    let alloc = saga.step(SagaStep::AllocateInventory);
    match &order.allocation {
        Some(a) if a.all_items_allocated => {
            if alloc.status != StepStatus::Completed {
                return SagaAction::Record(vec![OrderEvent::SagaStepCompleted {
                    step: SagaStep::AllocateInventory,
                    outcome: StepOutcome::Allocated {
                        all_items_allocated: true,
                    },
                    completed_at: now,
                }]);
            }
        }
        Some(_) => {
            return SagaAction::Record(fail(
                order,
                SagaStep::AllocateInventory,
                "not every item could be allocated",
                now,
            ));
        }
        None => {
            return wait_or_call(
                alloc.retry_at,
                alloc.lease_until,
                now,
                SagaCall::Forward(SagaStep::AllocateInventory),
            );
        }
    }
    // Step 3. Also when the booking is recorded but the order not yet
    // marked shipped: repeating the call with the same key returns it.
    let shipped = order
        .shipping
        .as_ref()
        .map(|s| StepOutcome::ShipmentBooked {
            shipment_id: s.shipment_id.clone(),
            carrier: s.carrier,
            tracking_number: s.tracking_number.clone(),
            estimated_delivery: None,
        });
    if let Some(action) = reconcile(order, SagaStep::CreateShipment, shipped, now) {
        return action;
    }
    // Step 4.
    let notify = saga.step(SagaStep::NotifyCustomer);
    if matches!(notify.status, StepStatus::Completed | StepStatus::GaveUp) {
        let s = order.shipping.as_ref();
        return SagaAction::Record(vec![OrderEvent::SagaCompleted {
            shipment_id: s.map(|s| s.shipment_id.clone()).unwrap_or_default(),
            tracking_number: s.map(|s| s.tracking_number.clone()).unwrap_or_default(),
            completed_at: now,
        }]);
    }
    wait_or_call(
        notify.retry_at,
        notify.lease_until,
        now,
        SagaCall::Forward(SagaStep::NotifyCustomer),
    )
}

/// Whether a step's compensation has anything to undo.
pub fn compensation_needed(order: &Order, step: SagaStep) -> bool {
    let r = order.saga.step(step);
    match step {
        SagaStep::ProcessPayment => {
            order.payment.is_some() || saga_payment(order).is_some() || r.in_flight
        }
        SagaStep::AllocateInventory => {
            order.allocation.is_some() || r.outcome.is_some() || r.in_flight
        }
        SagaStep::CreateShipment => r.outcome.is_some() || r.in_flight,
        // The customer is always told about a cancellation of a placed order.
        SagaStep::NotifyCustomer => order.placed_at.is_some(),
    }
}

const COMPENSATION_ORDER: [SagaStep; 4] = [
    SagaStep::CreateShipment,
    SagaStep::AllocateInventory,
    SagaStep::ProcessPayment,
    SagaStep::NotifyCustomer,
];

fn next_compensation(order: &Order, now: Timestamp) -> SagaAction {
    let saga = &order.saga;
    for step in COMPENSATION_ORDER {
        let c = saga.compensation(step);
        if matches!(
            c.status,
            CompensationStatus::Completed
                | CompensationStatus::Skipped
                | CompensationStatus::Failed
        ) || !compensation_needed(order, step)
        {
            continue;
        }
        // A forward call still in flight is waited for: its outcome decides
        // what there is to undo.
        let forward = saga.step(step);
        if let Some(t) = forward
            .lease_until
            .filter(|t| forward.in_flight && *t > now)
        {
            return SagaAction::Wait(t);
        }
        // Strict reverse order: a failing compensation holds back the earlier ones.
        return wait_or_call(c.retry_at, c.lease_until, now, SagaCall::Compensate(step));
    }
    let (failed_step, reason) = match &saga.failure {
        Some((step, reason)) => (Some(*step), reason.clone()),
        None => (
            None,
            order
                .cancellation
                .as_ref()
                .map(|c| c.reason.clone())
                .unwrap_or_default(),
        ),
    };
    let pending = saga.stalled();
    if !pending.is_empty() {
        return SagaAction::Record(vec![OrderEvent::SagaCompensationFailed {
            failed_step,
            reason,
            pending,
            completed_at: now,
        }]);
    }
    SagaAction::Record(vec![OrderEvent::SagaCompensated {
        failed_step,
        reason,
        completed_at: now,
    }])
}

/// The events that fail the saga at `step`: the failure, and the order's
/// cancellation with the failure as its reason (when it can still be cancelled).
pub fn fail(order: &Order, step: SagaStep, reason: &str, now: Timestamp) -> Vec<OrderEvent> {
    let mut events = vec![OrderEvent::SagaStepFailed {
        step,
        reason: reason.to_string(),
        failed_at: now,
    }];
    if matches!(order.status, OrderStatus::Pending | OrderStatus::Confirmed) {
        let mut text = format!("{step} failed: {reason}");
        if text.chars().count() > 500 {
            text = text.chars().take(500).collect();
        }
        events.push(OrderEvent::OrderCancelled {
            order_id: order.order_id.clone(),
            reason: text,
            cancelled_by: "fulfillment-saga".to_string(),
            cancelled_at: now,
        });
    }
    events
}

/// The event recorded before a call: the attempt number comes from the
/// state, the lease from the policy.
pub fn started(order: &Order, call: SagaCall, policy: &SagaPolicy, now: Timestamp) -> OrderEvent {
    let lease_until = now.saturating_add(policy.call_lease_ms.max(1));
    match call {
        SagaCall::Forward(step) => OrderEvent::SagaStepStarted {
            step,
            attempt: order.saga.step(step).attempts + 1,
            started_at: now,
            lease_until,
        },
        SagaCall::Compensate(step) => OrderEvent::CompensationStarted {
            step,
            attempt: order.saga.compensation(step).attempts + 1,
            started_at: now,
            lease_until,
        },
    }
}

/// Events after a forward step's call failed: retry later, or fail the saga
/// (notifications give up instead: they never undo the order).
pub fn after_forward_error(
    order: &Order,
    step: SagaStep,
    error: &ExternalError,
    policy: &SagaPolicy,
    now: Timestamp,
) -> Vec<OrderEvent> {
    let attempt = order.saga.step(step).attempts;
    let retry = policy.for_step(step);
    if error.is_transient() && attempt < retry.max_attempts {
        let delay = retry.delay_ms(attempt, &step.key(&order.order_id, false));
        return vec![OrderEvent::SagaStepRetryScheduled {
            step,
            attempt,
            error: error.to_string(),
            retry_at: now.saturating_add(delay),
        }];
    }
    let reason = if error.is_transient() {
        format!("{} (after {attempt} attempts)", error.message())
    } else {
        error.message().to_string()
    };
    if step == SagaStep::NotifyCustomer {
        return notification_gave_up(false, &reason, now);
    }
    fail(order, step, &reason, now)
}

/// Only the notify-customer step gives up: going forward (the order
/// confirmation) or while compensating (the cancellation notice).
fn notification_gave_up(compensation: bool, reason: &str, now: Timestamp) -> Vec<OrderEvent> {
    let what = if compensation {
        "cancellation notice"
    } else {
        "order confirmation"
    };
    vec![
        OrderEvent::NotificationGaveUp {
            step: SagaStep::NotifyCustomer,
            reason: reason.to_string(),
            gave_up_at: now,
        },
        OrderEvent::NoteRecorded {
            note: format!("the {what} could not be sent to the customer: {reason}"),
            recorded_at: now,
        },
    ]
}

/// Events after a compensation's call failed. Notices give up after their
/// attempts. The others retry transient errors, then stall (reported as
/// `compensation-failed`) and keep retrying at the longest delay (a
/// transient error had no effect, so the same key may still succeed); a
/// permanent refusal fails the compensation for good, since the callee
/// answers its key with the same refusal forever.
pub fn after_compensation_error(
    order: &Order,
    step: SagaStep,
    error: &ExternalError,
    policy: &SagaPolicy,
    now: Timestamp,
) -> Vec<OrderEvent> {
    let attempt = order.saga.compensation(step).attempts;
    let retry = policy.for_step(step);
    if error.is_transient() && attempt < retry.max_attempts {
        let delay = retry.delay_ms(attempt, &step.key(&order.order_id, true));
        return vec![OrderEvent::CompensationRetryScheduled {
            step,
            attempt,
            error: error.to_string(),
            retry_at: now.saturating_add(delay),
        }];
    }
    if step == SagaStep::NotifyCustomer {
        let mut events = notification_gave_up(true, error.message(), now);
        events.push(OrderEvent::CompensationSkipped {
            step,
            reason: format!("gave up: {}", error.message()),
            skipped_at: now,
        });
        return events;
    }
    if !error.is_transient() {
        return vec![OrderEvent::CompensationFailed {
            step,
            error: error.to_string(),
            failed_at: now,
        }];
    }
    vec![OrderEvent::CompensationStalled {
        step,
        attempt,
        error: error.to_string(),
        retry_at: now.saturating_add(retry.max_delay_ms.max(1)),
    }]
}
