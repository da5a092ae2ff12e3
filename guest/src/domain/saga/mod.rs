//! The order-fulfilment saga as pure decisions. Its progress is a set of
//! events in the order's stream; [`SagaState`] folds them, [`next_action`]
//! says what to do next, and the `after_*` functions turn the answer of an
//! external call into the events to append. The application layer does the
//! I/O: it appends a `*-started` event, makes the call with the step's
//! idempotency key, and appends what these functions decide.

mod report;

use serde::{Deserialize, Serialize};

pub use report::{
    ReportOutcome, ReportOutput, ReportPhase, ReportedStatus, SagaReport, StepReport,
    first_open_step, report,
};

use super::error::{DomainError, Entity, ExternalError};
use super::order::{Order, OrderEvent, OrderStatus, saga_payment};
use super::values::{CarrierCode, Money, Timestamp, check_len};

pub use super::cases::SagaStep;

impl SagaStep {
    pub fn index(self) -> usize {
        self as usize
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
    /// A call under the step's key may have taken effect and its outcome
    /// is not known: an attempt was never answered (a crash, a lease that
    /// ran out), or the callee's answer was in doubt. Only a definitive
    /// answer for the key (the outcome, or a refusal) clears it; a
    /// transient error of a later attempt says nothing about earlier ones.
    pub in_doubt: bool,
    pub outcome: Option<StepOutcome>,
}

impl StepRecord {
    /// True while a call under the step's key may have acted unseen: the
    /// saga must learn its outcome before it builds on, or undoes, the step.
    pub fn unsettled(&self) -> bool {
        self.in_flight || self.in_doubt
    }

    /// The step's call was answered (or given up): its lease ends, it
    /// stands at `status`, keeps the answer's `error` (if any) and is asked
    /// again at `retry_at` (if ever).
    fn answered(
        &mut self,
        status: StepStatus,
        error: Option<&String>,
        retry_at: Option<Timestamp>,
    ) {
        self.status = status;
        self.in_flight = false;
        self.lease_until = None;
        if let Some(error) = error {
            self.last_error = Some(error.clone());
        }
        self.retry_at = retry_at;
    }
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

impl CompensationRecord {
    /// The compensation's call was answered: its lease ends, it stands at
    /// `status`, keeps the answer's `error` (if any) and is asked again at
    /// `retry_at` (if ever).
    fn answered(
        &mut self,
        status: CompensationStatus,
        error: Option<&String>,
        retry_at: Option<Timestamp>,
    ) {
        self.status = status;
        if let Some(error) = error {
            self.last_error = Some(error.clone());
        }
        self.retry_at = retry_at;
        self.lease_until = None;
    }
}

/// A support ticket the rules require, recorded with the decision that
/// needs it and retried until customer service has opened it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Obligation {
    /// The ticket's idempotency key (`order-<id>/support-ticket/<step>/<kind>`).
    pub key: String,
    pub issue: String,
    pub urgent: bool,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub retry_at: Option<Timestamp>,
    pub lease_until: Option<Timestamp>,
    /// The ticket, once opened.
    pub ticket_id: Option<String>,
    /// How many keys customer service refused for good.
    pub refusals: u32,
}

impl Obligation {
    /// The key the ticket is asked under: the obligation's own, then a new
    /// one after each refusal for good (nothing was opened under a refused
    /// key, so a new key cannot open a second ticket).
    pub fn call_key(&self) -> String {
        if self.refusals == 0 {
            self.key.clone()
        } else {
            format!("{}/after-refusal-{}", self.key, self.refusals)
        }
    }

    /// When it may be tried next.
    fn due(&self) -> Timestamp {
        self.retry_at
            .unwrap_or(0)
            .max(self.lease_until.unwrap_or(0))
    }
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

impl Finished {
    /// The end an event records, if it is one.
    fn recorded_by(event: &OrderEvent) -> Option<Finished> {
        Some(match event {
            OrderEvent::SagaCompensationFailed {
                failed_step,
                reason,
                pending,
                ..
            } => Finished::CompensationFailed {
                failed_step: *failed_step,
                reason: reason.clone(),
                pending: pending.clone(),
            },
            OrderEvent::SagaCompleted {
                shipment_id,
                tracking_number,
                ..
            } => Finished::Completed {
                shipment_id: shipment_id.clone(),
                tracking_number: tracking_number.clone(),
            },
            OrderEvent::SagaCompensated {
                failed_step,
                reason,
                ..
            } => Finished::Compensated {
                failed_step: *failed_step,
                reason: reason.clone(),
            },
            _ => return None,
        })
    }
}

/// A compensation's answer an event records: the step, where it stands,
/// the answer's error and when it is asked again.
type CompensationAnswer<'e> = (
    SagaStep,
    CompensationStatus,
    Option<&'e String>,
    Option<Timestamp>,
);

fn compensation_answer(event: &OrderEvent) -> Option<CompensationAnswer<'_>> {
    use CompensationStatus as C;
    Some(match event {
        OrderEvent::CompensationCompleted { step, .. } => (*step, C::Completed, None, None),
        OrderEvent::CompensationSkipped { step, reason, .. } => {
            (*step, C::Skipped, Some(reason), None)
        }
        OrderEvent::CompensationRetryScheduled {
            step,
            error,
            retry_at,
            ..
        } => (*step, C::Retrying, Some(error), Some(*retry_at)),
        OrderEvent::CompensationStalled {
            step,
            error,
            retry_at,
            ..
        } => (*step, C::Stalled, Some(error), Some(*retry_at)),
        OrderEvent::CompensationFailed { step, error, .. } => (*step, C::Failed, Some(error), None),
        _ => return None,
    })
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
    /// Support tickets owed, in the order they were recorded.
    pub obligations: Vec<Obligation>,
    /// Shipments the carrier reported before the order could ship.
    pub carrier_bookings: Vec<CarrierBooking>,
}

/// A shipment the carrier booked for the order on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CarrierBooking {
    pub shipment_id: String,
    pub carrier: CarrierCode,
    pub tracking_number: String,
}

impl CarrierBooking {
    /// The key that cancels this booking when the order does not ship with it.
    pub fn cancel_key(&self, order_id: &str) -> String {
        format!(
            "order-{order_id}/create-shipment/carrier-{}/cancel",
            self.shipment_id
        )
    }
}

impl SagaState {
    pub fn step(&self, step: SagaStep) -> &StepRecord {
        &self.steps[step.index()]
    }

    pub fn compensation(&self, step: SagaStep) -> &CompensationRecord {
        &self.compensations[step.index()]
    }

    /// The obligation named `key`.
    pub fn obligation(&self, key: &str) -> Option<&Obligation> {
        self.obligations.iter().find(|o| o.key == key)
    }

    fn obligation_mut(&mut self, key: &str) -> Option<&mut Obligation> {
        self.obligations.iter_mut().find(|o| o.key == key)
    }

    /// The ticket ids opened for this order's saga.
    pub fn tickets(&self) -> Vec<&str> {
        self.obligations
            .iter()
            .filter_map(|o| o.ticket_id.as_deref())
            .collect()
    }

    pub(crate) fn apply(&mut self, event: &OrderEvent) {
        if let Some((step, status, error, retry_at)) = compensation_answer(event) {
            self.compensations[step.index()].answered(status, error, retry_at);
            return;
        }
        if let Some(finished) = Finished::recorded_by(event) {
            self.finished = Some(finished);
            return;
        }
        match event {
            OrderEvent::CarrierBookingReceived {
                shipment_id,
                carrier,
                tracking_number,
                ..
            } if !self
                .carrier_bookings
                .iter()
                .any(|b| b.shipment_id == *shipment_id) =>
            {
                self.carrier_bookings.push(CarrierBooking {
                    shipment_id: shipment_id.clone(),
                    carrier: *carrier,
                    tracking_number: tracking_number.clone(),
                });
            }
            OrderEvent::ObligationRecorded {
                key, issue, urgent, ..
            } if self.obligation(key).is_none() => {
                self.obligations.push(Obligation {
                    key: key.clone(),
                    issue: issue.clone(),
                    urgent: *urgent,
                    ..Obligation::default()
                });
            }
            OrderEvent::ObligationStarted {
                key,
                attempt,
                lease_until,
                ..
            } => {
                if let Some(o) = self.obligation_mut(key) {
                    o.attempts = (*attempt).max(o.attempts);
                    o.lease_until = Some(*lease_until);
                }
            }
            OrderEvent::ObligationRetryScheduled {
                key,
                error,
                retry_at,
                refused,
                ..
            } => {
                if let Some(o) = self.obligation_mut(key) {
                    if *refused {
                        o.refusals += 1;
                    }
                    o.last_error = Some(error.clone());
                    o.retry_at = Some(*retry_at);
                    o.lease_until = None;
                }
            }
            OrderEvent::ObligationFulfilled { key, ticket_id, .. } => {
                if let Some(o) = self.obligation_mut(key) {
                    o.ticket_id = Some(ticket_id.clone());
                    o.retry_at = None;
                    o.lease_until = None;
                }
            }
            OrderEvent::SagaStarted { .. } => self.started = true,
            OrderEvent::SagaRetryRequested { requested_at, .. } => {
                let now = *requested_at;
                let cut = |t: &mut Option<Timestamp>| {
                    if t.is_some_and(|t| t > now) {
                        *t = Some(now);
                    }
                };
                for r in &mut self.steps {
                    cut(&mut r.retry_at);
                }
                for c in &mut self.compensations {
                    cut(&mut c.retry_at);
                }
                for o in self
                    .obligations
                    .iter_mut()
                    .filter(|o| o.ticket_id.is_none())
                {
                    cut(&mut o.retry_at);
                }
            }
            OrderEvent::SagaStepStarted {
                step,
                attempt,
                lease_until,
                ..
            } => {
                let r = &mut self.steps[step.index()];
                r.attempts = (*attempt).max(r.attempts);
                // The previous attempt was never answered: it may have acted.
                r.in_doubt |= r.in_flight;
                r.in_flight = true;
                r.lease_until = Some(*lease_until);
            }
            OrderEvent::SagaStepCompleted { step, outcome, .. } => {
                let r = &mut self.steps[step.index()];
                r.answered(StepStatus::Completed, None, None);
                r.in_doubt = false;
                r.outcome = Some(outcome.clone());
            }
            OrderEvent::SagaStepRetryScheduled {
                step,
                error,
                retry_at,
                in_doubt,
                ..
            } => {
                let r = &mut self.steps[step.index()];
                r.answered(StepStatus::Retrying, Some(error), Some(*retry_at));
                r.in_doubt = *in_doubt;
            }
            OrderEvent::SagaStepFailed {
                step,
                reason,
                in_doubt,
                call_out,
                ..
            } => {
                let r = &mut self.steps[step.index()];
                let (in_flight, lease_until) = (r.in_flight, r.lease_until);
                r.answered(StepStatus::Failed, Some(reason), None);
                if *call_out {
                    // The saga's own call is still out: it keeps its lease
                    // and its outcome is learnt before anything is undone.
                    r.in_flight = in_flight;
                    r.lease_until = lease_until;
                    r.in_doubt = true;
                } else {
                    r.in_doubt = *in_doubt;
                }
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
                    self.steps[step.index()].answered(StepStatus::GaveUp, Some(reason), None);
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
    /// The obligation at this index of [`SagaState::obligations`].
    Obligation(usize),
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

/// Decides "retry now" (`retry-now` of the saga, asked by `requested_by`):
/// an order without a saga (a draft) refuses it, naming its state; a
/// finished saga needs nothing (`None`: it is never restarted, and its
/// report, phase `finished`, is the answer); any other saga records
/// [`OrderEvent::SagaRetryRequested`],
/// which makes every back-off it waits out (a step's, a compensation's, an
/// owed obligation's) due now. It is recorded also when nothing waits, so
/// that who asked for a retry, and when, is always in the order's history.
/// The attempt counts, the retry policy's
/// limits, the leases of calls in flight and the keys of in-doubt calls
/// are untouched: an early retry repeats a call under the same key, so it
/// never doubles an effect.
pub fn request_retry(
    order: &Order,
    requested_by: &str,
    now: Timestamp,
) -> Result<Option<OrderEvent>, DomainError> {
    check_len("requested-by", requested_by.trim(), 1, 100)?;
    if order.saga.finished.is_some() {
        return Ok(None);
    }
    if !order.saga.started && order.placed_at.is_none() {
        return Err(DomainError::transition(
            Entity::Order,
            order.status,
            "retry-now",
        ));
    }
    Ok(Some(OrderEvent::SagaRetryRequested {
        requested_by: requested_by.trim().to_string(),
        requested_at: now,
    }))
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
    let next = if compensating(order) {
        next_compensation(order, now)
    } else {
        next_forward(order, now)
    };
    with_obligations(order, next, now)
}

/// Obligations owed are met when the saga would otherwise wait or finish
/// (calls that move money or stock go first); a saga never finishes while
/// one is owed, so `compensation-failed` always ends with its ticket.
fn with_obligations(order: &Order, next: SagaAction, now: Timestamp) -> SagaAction {
    let owed = order
        .saga
        .obligations
        .iter()
        .enumerate()
        .filter(|(_, o)| o.ticket_id.is_none())
        .min_by_key(|(_, o)| o.due());
    let Some((index, obligation)) = owed else {
        return next;
    };
    let finishing = matches!(&next, SagaAction::Record(events) if events.iter().any(|e| matches!(
        e,
        OrderEvent::SagaCompleted { .. }
            | OrderEvent::SagaCompensated { .. }
            | OrderEvent::SagaCompensationFailed { .. }
    )));
    let later = match next {
        SagaAction::Wait(t) => Some(t),
        _ if finishing => None,
        other => return other,
    };
    let due = obligation.due();
    if due <= now {
        SagaAction::Call(SagaCall::Obligation(index))
    } else {
        SagaAction::Wait(later.map_or(due, |t| t.min(due)))
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
        Some(_) if !r.unsettled() && r.status == StepStatus::Completed => None,
        Some(outcome) if !r.unsettled() => {
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

/// The step's result as recorded on the order by any path (the saga, a
/// webhook, a command), if the order shows the step achieved.
pub fn achieved(order: &Order, step: SagaStep) -> Option<StepOutcome> {
    match step {
        SagaStep::ProcessPayment => order.payment.as_ref().map(|p| StepOutcome::Paid {
            transaction_id: p.transaction_id.clone(),
            amount: p.amount_paid.clone(),
        }),
        SagaStep::AllocateInventory => order
            .allocation
            .as_ref()
            .filter(|a| a.all_items_allocated)
            .map(|_| StepOutcome::Allocated {
                all_items_allocated: true,
            }),
        SagaStep::CreateShipment => order
            .shipping
            .as_ref()
            .map(|s| StepOutcome::ShipmentBooked {
                shipment_id: s.shipment_id.clone(),
                carrier: s.carrier,
                tracking_number: s.tracking_number.clone(),
                estimated_delivery: None,
            }),
        SagaStep::NotifyCustomer => None,
    }
}

fn next_forward(order: &Order, now: Timestamp) -> SagaAction {
    let saga = &order.saga;
    // Step 1: a payment recorded by any path (saga, webhook, command) counts.
    let paid = achieved(order, SagaStep::ProcessPayment);
    if let Some(action) = reconcile(order, SagaStep::ProcessPayment, paid, now) {
        return action;
    }
    // Step 2.
    let alloc = saga.step(SagaStep::AllocateInventory);
    match &order.allocation {
        Some(a) if a.all_items_allocated => {
            let done = achieved(order, SagaStep::AllocateInventory);
            if let Some(action) = reconcile(order, SagaStep::AllocateInventory, done, now) {
                return action;
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
    // A shipment the carrier reported before the order was ready is used
    // instead of booking a second one.
    if order.shipping.is_none()
        && let Some(b) = saga.carrier_bookings.first()
        && let Ok(events) = super::order::decide_ship_order(
            order,
            &b.shipment_id,
            b.carrier,
            &b.tracking_number,
            now,
        )
    {
        return SagaAction::Record(events);
    }
    let shipped = achieved(order, SagaStep::CreateShipment);
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
            order.payment.is_some() || saga_payment(order).is_some() || r.unsettled()
        }
        SagaStep::AllocateInventory => {
            order.allocation.is_some() || r.outcome.is_some() || r.unsettled()
        }
        SagaStep::CreateShipment => {
            r.outcome.is_some() || r.unsettled() || !order.saga.carrier_bookings.is_empty()
        }
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

/// The events that fail the saga at `step` from outside the step's call (a
/// failure report, a partial allocation): the failure, and the order's
/// cancellation with the failure as its reason (when it can still be
/// cancelled). A call of the saga's own for the step that is still out
/// keeps its lease and is learnt before its compensation acts.
pub fn fail(order: &Order, step: SagaStep, reason: &str, now: Timestamp) -> Vec<OrderEvent> {
    let r = order.saga.step(step);
    fail_step(order, step, reason, now, r.unsettled(), r.in_flight)
}

/// The events that fail the saga at `step` on the answer of its own call;
/// `in_doubt` when the call may nevertheless have taken effect.
pub fn fail_answered(
    order: &Order,
    step: SagaStep,
    reason: &str,
    now: Timestamp,
    in_doubt: bool,
) -> Vec<OrderEvent> {
    fail_step(order, step, reason, now, in_doubt, false)
}

fn fail_step(
    order: &Order,
    step: SagaStep,
    reason: &str,
    now: Timestamp,
    in_doubt: bool,
    call_out: bool,
) -> Vec<OrderEvent> {
    let mut events = vec![OrderEvent::SagaStepFailed {
        step,
        reason: reason.to_string(),
        failed_at: now,
        in_doubt,
        call_out,
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
        SagaCall::Obligation(index) => {
            let o = &order.saga.obligations[index];
            OrderEvent::ObligationStarted {
                key: o.key.clone(),
                attempt: o.attempts + 1,
                started_at: now,
                lease_until,
            }
        }
    }
}

/// The obligations that `events` (a decision about to be recorded) create:
/// an urgent ticket the first time a compensation stalls or is refused (money
/// or stock may be stuck), a normal one when a message to the customer
/// could not be delivered. Recorded in the same write as the decision.
pub fn obligations_for(order: &Order, events: &[OrderEvent], now: Timestamp) -> Vec<OrderEvent> {
    let mut out: Vec<OrderEvent> = Vec::new();
    for e in events {
        let (step, kind, issue, urgent) = match e {
            OrderEvent::CompensationStalled { step, error, .. }
            | OrderEvent::CompensationFailed { step, error, .. } => (
                *step,
                "stalled",
                format!(
                    "{} for order {} failed ({error}); money or stock may be stuck",
                    step.compensation_name(),
                    order.order_id
                ),
                true,
            ),
            OrderEvent::NotificationGaveUp { step, reason, .. } => (
                *step,
                "undelivered",
                format!(
                    "a message to the customer about order {} could not be sent: {reason}",
                    order.order_id
                ),
                false,
            ),
            _ => continue,
        };
        let key = format!("order-{}/support-ticket/{step}/{kind}", order.order_id);
        let recorded = order.saga.obligation(&key).is_some()
            || out
                .iter()
                .any(|o| matches!(o, OrderEvent::ObligationRecorded { key: k, .. } if *k == key));
        if !recorded {
            out.push(OrderEvent::ObligationRecorded {
                key,
                issue: issue.chars().take(1000).collect(),
                urgent,
                recorded_at: now,
            });
        }
    }
    out
}

/// Events after an obligation's call: the ticket and a note on the order,
/// or a retry (an obligation never gives up; the same key makes a repeat
/// return the ticket already opened).
pub fn after_obligation(
    order: &Order,
    index: usize,
    result: Result<String, ExternalError>,
    policy: &SagaPolicy,
    now: Timestamp,
) -> Vec<OrderEvent> {
    let o = &order.saga.obligations[index];
    match result {
        Ok(ticket_id) => vec![
            OrderEvent::NoteRecorded {
                note: format!("support ticket {ticket_id} opened: {}", o.issue),
                recorded_at: now,
            },
            OrderEvent::ObligationFulfilled {
                key: o.key.clone(),
                ticket_id,
                fulfilled_at: now,
            },
        ],
        Err(error) => {
            let retry_at = next_try(&policy.retry, o.attempts, &o.key, now)
                .unwrap_or_else(|| last_resort_try(&policy.retry, now));
            vec![OrderEvent::ObligationRetryScheduled {
                key: o.key.clone(),
                attempt: o.attempts,
                refused: matches!(error, ExternalError::Permanent(_)),
                error: error.to_string(),
                retry_at,
            }]
        }
    }
}

/// Events after a forward step's call failed: retry later, or fail the saga
/// (notifications give up instead: they never undo the order).
///
/// A refusal (`permanent`) is the callee's definitive answer for the key:
/// nothing was done under it. If another path has achieved the step
/// meanwhile (a clerk's `ship-order`, a carrier's or gateway's event), the
/// step is done with that result, not failed.
///
/// An answer in doubt, or any non-definitive answer while an earlier
/// attempt is in doubt, keeps the step in doubt: it is retried under the
/// same key; when the attempts run out the step fails *in doubt*, so that
/// its compensation first learns the outcome under the action's key and
/// undoes whatever it did. A step in doubt that another path has achieved
/// is not failed (the order is fine): the saga keeps asking at the longest
/// delay, so that a second effect of its own is found and undone.
pub fn after_forward_error(
    order: &Order,
    step: SagaStep,
    error: &ExternalError,
    policy: &SagaPolicy,
    now: Timestamp,
) -> Vec<OrderEvent> {
    let r = order.saga.step(step);
    let attempt = r.attempts;
    let definitive = matches!(error, ExternalError::Permanent(_));
    let in_doubt = error.is_in_doubt() || (r.in_doubt && !definitive);
    if definitive && let Some(outcome) = achieved(order, step) {
        return vec![OrderEvent::SagaStepCompleted {
            step,
            outcome,
            completed_at: now,
        }];
    }
    let schedule = |retry_at: Timestamp| {
        vec![OrderEvent::SagaStepRetryScheduled {
            step,
            attempt,
            error: error.to_string(),
            retry_at,
            in_doubt,
        }]
    };
    let retry = policy.for_step(step);
    let call_key = step.key(&order.order_id, false);
    if !definitive && let Some(at) = next_try(retry, attempt, &call_key, now) {
        return schedule(at);
    }
    if in_doubt && step != SagaStep::NotifyCustomer && achieved(order, step).is_some() {
        // People are told once: a second effect of the saga's own may exist.
        let mut events = schedule(last_resort_try(retry, now));
        let key = format!("order-{}/support-ticket/{step}/in-doubt", order.order_id);
        if order.saga.obligation(&key).is_none() {
            events.push(OrderEvent::ObligationRecorded {
                key,
                issue: format!(
                    "order {}: the outcome of {step} under key {} is still unknown ({}); the order was {} by another path, so a second effect may exist",
                    order.order_id,
                    call_key,
                    error.message(),
                    match step {
                        SagaStep::ProcessPayment => "paid",
                        SagaStep::AllocateInventory => "allocated",
                        _ => "shipped",
                    }
                )
                .chars()
                .take(1000)
                .collect(),
                urgent: true,
                recorded_at: now,
            });
        }
        return events;
    }
    let reason = if in_doubt {
        format!(
            "{} (outcome unknown after {attempt} attempts)",
            error.message()
        )
    } else if !definitive {
        format!("{} (after {attempt} attempts)", error.message())
    } else {
        error.message().to_string()
    };
    if step == SagaStep::NotifyCustomer {
        return notification_gave_up(false, &reason, now);
    }
    fail_answered(order, step, &reason, now, in_doubt)
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
/// attempts. The others retry transient and in-doubt errors, then stall
/// (reported as `compensation-failed`) and keep retrying at the longest
/// delay (the same key either still succeeds or returns what it did); a
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
    let key = step.key(&order.order_id, true);
    if error.is_transient()
        && let Some(retry_at) = next_try(retry, attempt, &key, now)
    {
        return vec![OrderEvent::CompensationRetryScheduled {
            step,
            attempt,
            error: error.to_string(),
            retry_at,
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
        retry_at: last_resort_try(retry, now),
    }]
}

/// When a failed call is asked again under the same `key`: after the
/// policy's delay for `attempt` while attempts remain, `None` once they are
/// spent. The one retry rule of the saga's actions, compensations and
/// obligations.
fn next_try(retry: &RetryPolicy, attempt: u32, key: &str, now: Timestamp) -> Option<Timestamp> {
    (attempt < retry.max_attempts).then(|| now.saturating_add(retry.delay_ms(attempt, key)))
}

/// When a call whose attempts are spent, but which must not be given up (in
/// doubt, a stalled compensation, an obligation), is asked again: at the
/// policy's longest delay.
fn last_resort_try(retry: &RetryPolicy, now: Timestamp) -> Timestamp {
    now.saturating_add(retry.max_delay_ms.max(1))
}
