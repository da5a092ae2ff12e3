//! The saga driver: runs every fulfilment saga whose durable timer is due.
//! Timers are written by the component in the same atomic write as the
//! saga's events, so after a crash or a restart the driver finds every
//! unfinished saga simply by reading the due timers.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::bindings::fulfillment_saga::SagaReport;
use crate::service::{OrderService, ServiceError};

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
}

impl SagaDriver {
    pub fn new(service: OrderService) -> Self {
        Self {
            service,
            workers: 4,
            batch: 256,
        }
    }

    /// How many sagas advance at once.
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// Advances one saga now.
    pub fn advance(&self, order_id: &str) -> Result<SagaReport, ServiceError> {
        let id = order_id.to_string();
        self.service.call(|api, store| {
            api.oms_order_management_fulfillment_saga()
                .call_advance(store, &id)
        })
    }

    /// One pass: advances every saga due now (up to the batch size).
    pub fn run_due(&self) -> anyhow::Result<DriverReport> {
        let backends = self.service.runtime().backends().clone();
        let now = backends.clock.now_ms();
        let due = backends.store.due_timers(now, self.batch)?;
        let queue = Mutex::new(due.into_iter().map(|t| t.saga_id).collect::<VecDeque<_>>());
        let total = Mutex::new(DriverReport::default());
        std::thread::scope(|scope| {
            for _ in 0..self.workers {
                scope.spawn(|| {
                    let mut mine = DriverReport::default();
                    loop {
                        let next = queue.lock().map(|mut q| q.pop_front()).unwrap_or(None);
                        let Some(order_id) = next else { break };
                        mine.advanced += 1;
                        match self.advance(&order_id) {
                            Ok(report) if report.next_wake_at.is_none() => mine.finished += 1,
                            Ok(_) => {}
                            Err(error) => {
                                mine.failed += 1;
                                tracing::warn!(%order_id, %error, "saga advance failed; it stays scheduled");
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
            match self.run_due() {
                Ok(report) if report.advanced > 0 => continue,
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "saga driver pass failed"),
            }
            std::thread::sleep(interval);
        }
    }
}
