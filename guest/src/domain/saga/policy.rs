//! How the saga retries: the retry policies the host configures and the
//! one rule that says when a failed call is asked again.

use super::*;

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
    pub(super) fn for_step(&self, step: SagaStep) -> &RetryPolicy {
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

/// When a failed call is asked again under the same `key`: after the
/// policy's delay for `attempt` while attempts remain, `None` once they are
/// spent. The one retry rule of the saga's actions, compensations and
/// obligations.
pub(super) fn next_try(
    retry: &RetryPolicy,
    attempt: u32,
    key: &str,
    now: Timestamp,
) -> Option<Timestamp> {
    (attempt < retry.max_attempts).then(|| now.saturating_add(retry.delay_ms(attempt, key)))
}

/// When a call whose attempts are spent, but which must not be given up (in
/// doubt, a stalled compensation, an obligation), is asked again: at the
/// policy's longest delay.
pub(super) fn last_resort_try(retry: &RetryPolicy, now: Timestamp) -> Timestamp {
    now.saturating_add(retry.max_delay_ms.max(1))
}
