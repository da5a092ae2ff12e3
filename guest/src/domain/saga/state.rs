//! The saga folded from the order's events: where each step, compensation
//! and support ticket stands, and how the saga ended. Changes when an event
//! is added or its meaning for the saga changes.

use super::*;

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
    pub(super) fn due(&self) -> Timestamp {
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
