//! `/orders/{id}/saga`: the fulfilment saga's report.

use super::*;

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
