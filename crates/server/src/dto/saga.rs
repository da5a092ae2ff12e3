//! `/orders/{id}/saga`: the fulfilment saga's report.

use super::*;

/// One saga step's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StepReport {
    pub step: SagaStep,
    pub status: StepStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// The saga's result so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SagaOutput {
    pub success: bool,
    pub shipment_id: Option<String>,
    pub tracking_number: Option<String>,
    pub error_reason: Option<String>,
}

impl From<wit_saga::SagaOutput> for SagaOutput {
    fn from(o: wit_saga::SagaOutput) -> Self {
        Self {
            success: o.success,
            shipment_id: o.shipment_id,
            tracking_number: o.tracking_number,
            error_reason: o.error_reason,
        }
    }
}

/// How a saga ended, with the state of its compensation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SagaOutcome {
    /// Every step succeeded.
    Completed { output: SagaOutput },
    /// A step failed (or the order was cancelled); all compensations ran.
    Compensated {
        failed_step: SagaStep,
        reason: String,
    },
    /// Compensation is incomplete; the saga keeps retrying what is pending.
    CompensationFailed {
        failed_step: Option<SagaStep>,
        reason: String,
        pending: Vec<String>,
    },
}

impl From<wit_saga::SagaOutcome> for SagaOutcome {
    fn from(o: wit_saga::SagaOutcome) -> Self {
        match o {
            wit_saga::SagaOutcome::Completed(output) => SagaOutcome::Completed {
                output: output.into(),
            },
            wit_saga::SagaOutcome::Compensated(c) => SagaOutcome::Compensated {
                failed_step: c.failed_step.into(),
                reason: c.reason,
            },
            wit_saga::SagaOutcome::CompensationFailed(c) => SagaOutcome::CompensationFailed {
                failed_step: c.failed_step.map(Into::into),
                reason: c.reason,
                pending: c.pending,
            },
        }
    }
}

/// Where an order's fulfilment saga stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SagaReport {
    pub order_id: String,
    pub phase: SagaPhase,
    pub steps: Vec<StepReport>,
    /// When the saga runs again; absent when nothing is due.
    #[serde(with = "super::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_wake_at: Option<u64>,
    pub output: SagaOutput,
    pub outcome: Option<SagaOutcome>,
    pub notes: Vec<String>,
}

impl From<wit_saga::SagaReport> for SagaReport {
    fn from(r: wit_saga::SagaReport) -> Self {
        Self {
            order_id: r.order_id,
            phase: r.phase.into(),
            steps: r
                .steps
                .into_iter()
                .map(|s| StepReport {
                    step: s.step.into(),
                    status: s.status.into(),
                    attempts: s.attempts,
                    last_error: s.last_error,
                })
                .collect(),
            next_wake_at: r.next_wake_at,
            output: r.output.into(),
            outcome: r.outcome.map(Into::into),
            notes: r.notes,
        }
    }
}
