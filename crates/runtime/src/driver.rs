//! The saga driver: runs every fulfilment saga whose durable timer is due.
//! Timers are written by the component in the same atomic write as the
//! saga's events, so after a crash or a restart the driver finds every
//! unfinished saga simply by reading the due timers.
//!
//! Several hosts may share one store (PostgreSQL): each pass *claims* the
//! due sagas it runs, under a lease with a fencing token
//! ([`EventStore::claim_due`](crate::store::EventStore::claim_due)), so a
//! saga runs on one host at a time, the hosts share the work, and the sagas
//! of a host that died are taken over once its lease has run out. A claim
//! is given back when its advance ends; a failed advance keeps its claim
//! until the lease runs out, which holds the saga back on every host.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::bindings::fulfillment_saga::SagaReport;
use crate::bindings::types::CommandError;
use crate::service::{OrderService, ServiceError};
use crate::store::SagaClaim;

/// What one pass or run of the driver did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DriverReport {
    /// Saga advances made.
    pub advanced: usize,
    /// Advances that failed (they are retried on the next pass: the timer stays).
    pub failed: usize,
    /// Sagas seen finishing.
    pub finished: usize,
}

impl DriverReport {
    fn add(&mut self, other: &DriverReport) {
        self.advanced += other.advanced;
        self.failed += other.failed;
        self.finished += other.finished;
    }
}

/// Runs due sagas with a few worker threads.
#[derive(Clone)]
pub struct SagaDriver {
    service: OrderService,
    workers: usize,
    batch: usize,
    /// Sagas whose last advance failed (a trap, storage down), held back
    /// with a growing delay so that they neither spin nor crowd out the
    /// healthy ones (their timers stay due, so they sort first).
    held_back: Arc<Mutex<HashMap<String, (Instant, u32)>>>,
    /// Who this driver is in the store's leases: unique per process.
    owner: Arc<str>,
    /// How long a claim keeps other hosts off a saga.
    lease: Duration,
}

/// The default lease of a claimed saga: far longer than one advance (which
/// makes a few external calls, each with its own time-out), short enough
/// that a dead host's sagas are taken over soon.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// The first hold-back after a failed advance; it doubles per failure.
const FIRST_HOLD_BACK: Duration = Duration::from_millis(100);
/// The longest hold-back.
const MAX_HOLD_BACK: Duration = Duration::from_secs(30);

impl SagaDriver {
    pub fn new(service: OrderService) -> Self {
        Self {
            service,
            workers: 4,
            batch: 256,
            held_back: Arc::default(),
            owner: default_owner().into(),
            lease: DEFAULT_LEASE,
        }
    }

    /// How long a claimed saga stays this host's (at least 100 ms).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(100));
        self
    }

    /// The name under which this driver claims sagas.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// How many sagas advance at once.
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// Advances one saga now.
    pub fn advance(&self, order_id: &str) -> Result<SagaReport, ServiceError> {
        let id = order_id.to_string();
        self.service.advance_saga(&id)
    }

    /// "Retry now" for one saga, as support asks for a stuck one, asked by
    /// `actor`: forgets its hold-back (so the next pass takes it again at
    /// once) and calls the component's `retry-now`, which ends the waits
    /// the saga decided itself (a step's, a compensation's or a support
    /// ticket's back-off) and advances it, so its next attempt happens now.
    /// A failed call is held back again, as in a pass.
    pub fn retry_now(&self, order_id: &str, actor: &str) -> Result<SagaReport, ServiceError> {
        let key = order_id.trim().to_ascii_lowercase();
        if let Ok(mut held) = self.held_back.lock() {
            held.remove(&key);
            held.remove(order_id);
        }
        let result = self.service.retry_saga_now(order_id, actor);
        if let Err(e) = &result
            && e.command_error().is_none_or(|c| {
                !matches!(
                    c,
                    CommandError::NotFound(_)
                        | CommandError::InvalidTransition(_)
                        | CommandError::Validation(_)
                )
            })
            && let Ok(mut held) = self.held_back.lock()
        {
            held.insert(key, (Instant::now() + FIRST_HOLD_BACK, 1));
        }
        result
    }

    /// The sagas this driver holds back after failed advances: `(order id,
    /// failures in a row, how long until the next try)`, most failures first.
    pub fn held_back(&self) -> Vec<(String, u32, Duration)> {
        let now = Instant::now();
        let mut held: Vec<(String, u32, Duration)> = self
            .held_back
            .lock()
            .map(|h| {
                h.iter()
                    .map(|(id, (until, n))| (id.clone(), *n, until.saturating_duration_since(now)))
                    .collect()
            })
            .unwrap_or_default();
        held.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        held
    }

    /// One pass: claims every saga due now (up to the batch size) and
    /// advances them.
    pub fn run_due(&self) -> anyhow::Result<DriverReport> {
        self.run_due_until(&AtomicBool::new(false))
    }

    /// [`SagaDriver::run_due`], but once `stop` is set no further saga of the
    /// pass is started (the advances running finish): a shutdown waits for
    /// at most one advance per worker, not for the whole backlog. The sagas
    /// left out keep their due timers and run on the next start.
    pub fn run_due_until(&self, stop: &AtomicBool) -> anyhow::Result<DriverReport> {
        let backends = self.service.runtime().backends().clone();
        let now = backends.clock.now_ms();
        let held_back: HashMap<String, (Instant, u32)> =
            self.held_back.lock().map(|h| h.clone()).unwrap_or_default();
        let lease_ms = u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX);
        let claims =
            backends
                .store
                .claim_due(&self.owner, now, lease_ms, self.batch + held_back.len())?;
        let instant = Instant::now();
        let (ready, waiting): (Vec<SagaClaim>, Vec<SagaClaim>) =
            claims.into_iter().partition(|c| {
                held_back
                    .get(&c.saga_id)
                    .is_none_or(|(until, _)| *until <= instant)
            });
        // Held back here: another host may try it meanwhile.
        let beyond_batch = ready.get(self.batch..).unwrap_or_default();
        for claim in waiting.iter().chain(beyond_batch) {
            self.release(claim);
        }
        let queue = Mutex::new(ready.into_iter().take(self.batch).collect::<VecDeque<_>>());
        let total = Mutex::new(DriverReport::default());
        std::thread::scope(|scope| {
            for _ in 0..self.workers {
                scope.spawn(|| {
                    let mut mine = DriverReport::default();
                    loop {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let next = queue.lock().map(|mut q| q.pop_front()).unwrap_or(None);
                        let Some(claim) = next else { break };
                        let order_id = claim.saga_id.clone();
                        mine.advanced += 1;
                        let result = self.advance(&order_id);
                        if result.is_ok() {
                            self.release(&claim);
                        }
                        let mut held_back = self.held_back.lock().ok();
                        match result {
                            Ok(report) => {
                                if report.next_wake_at.is_none() {
                                    mine.finished += 1;
                                }
                                if let Some(h) = held_back.as_mut() {
                                    h.remove(&order_id);
                                }
                            }
                            Err(error) => {
                                mine.failed += 1;
                                let failures = held_back
                                    .as_ref()
                                    .and_then(|h| h.get(&order_id))
                                    .map_or(1, |(_, n)| n + 1);
                                let delay = FIRST_HOLD_BACK
                                    .saturating_mul(1 << failures.min(16).saturating_sub(1))
                                    .min(MAX_HOLD_BACK);
                                if let Some(h) = held_back.as_mut() {
                                    h.insert(order_id.clone(), (Instant::now() + delay, failures));
                                }
                                tracing::warn!(%order_id, %error, ?delay, "saga advance failed; retried later");
                            }
                        }
                    }
                    if let Ok(mut t) = total.lock() {
                        t.add(&mine);
                    }
                });
            }
        });
        Ok(total.into_inner().unwrap_or_default())
    }

    fn release(&self, claim: &SagaClaim) {
        match self.service.runtime().backends().store.release_claim(claim) {
            Ok(true) => {}
            // The lease ran out during the advance and another host has the
            // saga now; its expected versions keep the history whole.
            Ok(false) => tracing::warn!(saga_id = %claim.saga_id, "saga lease was taken over"),
            // It runs out by itself.
            Err(error) => {
                tracing::warn!(saga_id = %claim.saga_id, %error, "saga lease not released")
            }
        }
    }

    /// Runs passes until no saga is due within `max_wait`, sleeping until
    /// the next due time in between. For the demo, the CLI's `saga resume`
    /// and tests.
    pub fn run_until_idle(&self, max_wait: Duration) -> anyhow::Result<DriverReport> {
        let backends = self.service.runtime().backends().clone();
        let mut total = DriverReport::default();
        let deadline = Instant::now() + max_wait;
        loop {
            let pass = self.run_due()?;
            total.add(&pass);
            if pass.advanced > 0 && pass.advanced > pass.failed {
                continue;
            }
            let now = backends.clock.now_ms();
            let next = backends
                .store
                .all_timers()?
                .into_iter()
                .map(|t| t.due_at)
                .min();
            let Some(next) = next else { return Ok(total) };
            let wait =
                Duration::from_millis(next.saturating_sub(now)).max(Duration::from_millis(5));
            if Instant::now() + wait > deadline {
                return Ok(total);
            }
            std::thread::sleep(wait);
        }
    }

    /// Runs until `stop` is set, polling every `interval`.
    pub fn run(&self, stop: Arc<AtomicBool>, interval: Duration) {
        while !stop.load(Ordering::Relaxed) {
            match self.run_due_until(&stop) {
                // More may be due at once; but advances that only fail wait
                // for their hold-back instead of spinning.
                Ok(report) if report.advanced > report.failed => continue,
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "saga driver pass failed"),
            }
            std::thread::sleep(interval);
        }
    }
}

/// `host-name/pid/start-time`: unique per process, readable in the store.
fn default_owner() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .unwrap_or_else(|| "host".to_owned());
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{host}/{}/{started}", std::process::id())
}
