//! The saga's report: how an order's saga stands, for people and for the
//! `fulfillment-saga.status` export. These are domain rules (which phase the
//! saga is in, when a step counts as compensated or skipped, what outcome a
//! finished saga reports), so they live here and the bindings only convert.

use super::{
    CompensationStatus, Finished, SagaAction, SagaStep, StepStatus, compensating, next_action,
};
use crate::domain::order::Order;
use crate::domain::values::Timestamp;

/// The saga's report on one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SagaReport {
    pub order_id: String,
    pub phase: ReportPhase,
    /// One entry per step, in the order of [`SagaStep::ALL`].
    pub steps: Vec<StepReport>,
    /// When the saga next has something to do; `None` once finished.
    pub next_wake_at: Option<Timestamp>,
    pub output: ReportOutput,
    /// `None` while the saga runs and nothing is stalled.
    pub outcome: Option<ReportOutcome>,
    pub notes: Vec<String>,
}

/// Where the saga is, as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportPhase {
    /// Placed, the first step not yet started.
    Scheduled,
    Running,
    /// A step failed or the order was cancelled; undoing what was done.
    Compensating,
    Finished,
}

/// How one step stands, as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportedStatus {
    Pending,
    Retrying,
    Completed,
    /// Failed or gave up.
    Failed,
    /// Its compensation completed (never said of the notification, which
    /// has nothing to undo).
    Compensated,
    /// Still pending when the saga finished or began compensating: it will
    /// not run.
    Skipped,
}

/// One step's line in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    pub step: SagaStep,
    pub status: ReportedStatus,
    pub attempts: u32,
    /// The step's last error, or else its compensation's.
    pub last_error: Option<String>,
}

/// What the saga produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOutput {
    /// True only once the saga completed.
    pub success: bool,
    pub shipment_id: Option<String>,
    pub tracking_number: Option<String>,
    /// The failure (or cancellation) reason, unless the saga succeeded.
    pub error_reason: Option<String>,
}

/// How a finished (or stalled) saga ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    Completed(ReportOutput),
    /// Everything done was undone. A cancellation on request names the
    /// first step that had not completed.
    Compensated {
        failed_step: SagaStep,
        reason: String,
    },
    /// Something could not be undone (or is stalled while being undone);
    /// `pending` says what is left to do.
    CompensationFailed {
        failed_step: Option<SagaStep>,
        reason: String,
        pending: Vec<String>,
    },
}

/// The report on `order`'s saga as it stands at `now`.
pub fn report(order: &Order, now: Timestamp) -> SagaReport {
    let saga = &order.saga;
    let phase = if saga.finished.is_some() {
        ReportPhase::Finished
    } else if !saga.started {
        ReportPhase::Scheduled
    } else if compensating(order) {
        ReportPhase::Compensating
    } else {
        ReportPhase::Running
    };
    let steps = SagaStep::ALL
        .iter()
        .map(|&step| {
            let r = saga.step(step);
            let c = saga.compensation(step);
            let status =
                if c.status == CompensationStatus::Completed && step != SagaStep::NotifyCustomer {
                    ReportedStatus::Compensated
                } else {
                    match r.status {
                        StepStatus::Pending if saga.finished.is_some() || compensating(order) => {
                            ReportedStatus::Skipped
                        }
                        StepStatus::Pending => ReportedStatus::Pending,
                        StepStatus::Retrying => ReportedStatus::Retrying,
                        StepStatus::Completed => ReportedStatus::Completed,
                        StepStatus::Failed | StepStatus::GaveUp => ReportedStatus::Failed,
                    }
                };
            StepReport {
                step,
                status,
                attempts: r.attempts,
                last_error: r.last_error.clone().or_else(|| c.last_error.clone()),
            }
        })
        .collect();
    let next_wake_at = match next_action(order, now) {
        SagaAction::Finished => None,
        SagaAction::Wait(t) => Some(t),
        SagaAction::Record(_) | SagaAction::Call(_) => Some(now),
    };
    let failure_reason = saga
        .failure
        .as_ref()
        .map(|(_, r)| r.clone())
        .or_else(|| order.cancellation.as_ref().map(|c| c.reason.clone()));
    let success = matches!(saga.finished, Some(Finished::Completed { .. }));
    let output = ReportOutput {
        success,
        shipment_id: order.shipping.as_ref().map(|s| s.shipment_id.clone()),
        tracking_number: order.shipping.as_ref().map(|s| s.tracking_number.clone()),
        error_reason: if success {
            None
        } else {
            failure_reason.clone()
        },
    };
    let stalled = saga.stalled();
    let outcome = match &saga.finished {
        Some(Finished::Completed { .. }) => Some(ReportOutcome::Completed(output.clone())),
        Some(Finished::Compensated {
            failed_step,
            reason,
        }) => Some(ReportOutcome::Compensated {
            // A cancellation on request: reported as compensated with the
            // cancellation as the reason, at the step the saga had reached.
            failed_step: failed_step.unwrap_or_else(|| first_open_step(order)),
            reason: reason.clone(),
        }),
        Some(Finished::CompensationFailed {
            failed_step,
            reason,
            pending,
        }) => Some(ReportOutcome::CompensationFailed {
            failed_step: *failed_step,
            reason: reason.clone(),
            pending: pending.clone(),
        }),
        None if !stalled.is_empty() => Some(ReportOutcome::CompensationFailed {
            failed_step: saga.failure.as_ref().map(|(s, _)| *s),
            reason: failure_reason.unwrap_or_default(),
            pending: stalled,
        }),
        None => None,
    };
    SagaReport {
        order_id: order.order_id.clone(),
        phase,
        steps,
        next_wake_at,
        output,
        outcome,
        notes: saga.notes.clone(),
    }
}

/// The first step that has not completed (the notification when all have).
pub fn first_open_step(order: &Order) -> SagaStep {
    SagaStep::ALL
        .into_iter()
        .find(|s| order.saga.step(*s).status != StepStatus::Completed)
        .unwrap_or(SagaStep::NotifyCustomer)
}
