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

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::bindings::fulfillment_saga::SagaReport;
use crate::bindings::types::CommandError;
use crate::engine::lock;
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
    /// Told the id of every saga an advance of this driver finished.
    finished: Option<mpsc::Sender<String>>,
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
            finished: None,
        }
    }

    /// Sends the id of every saga that an advance of this driver finishes
    /// (its report names no next wake-up) to `finished`: a caller waiting
    /// for sagas to end learns it without reading the timers.
    pub fn notify_finished(mut self, finished: mpsc::Sender<String>) -> Self {
        self.finished = Some(finished);
        self
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
        {
            let mut held = lock(&self.held_back);
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
        {
            lock(&self.held_back).insert(key, (Instant::now() + FIRST_HOLD_BACK, 1));
        }
        result
    }

    /// The sagas this driver holds back after failed advances: `(order id,
    /// failures in a row, how long until the next try)`, most failures first.
    pub fn held_back(&self) -> Vec<(String, u32, Duration)> {
        let now = Instant::now();
        let mut held: Vec<(String, u32, Duration)> = lock(&self.held_back)
            .iter()
            .map(|(id, (until, n))| (id.clone(), *n, until.saturating_duration_since(now)))
            .collect();
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
        let ready = self.claim(&HashSet::new())?.ready;
        let queue = Mutex::new(VecDeque::from(ready));
        let total = Mutex::new(DriverReport::default());
        std::thread::scope(|scope| {
            for _ in 0..self.workers {
                scope.spawn(|| {
                    let mut mine = DriverReport::default();
                    while !stop.load(Ordering::SeqCst) {
                        let next = lock(&queue).pop_front();
                        let Some(claim) = next else { break };
                        let done = self.advance_claimed(&claim);
                        mine.add(&done.report);
                        if done.released() {
                            self.release(std::slice::from_ref(&claim));
                        }
                    }
                    lock(&total).add(&mine);
                });
            }
        });
        Ok(total.into_inner().unwrap_or_default())
    }

    /// Claims the due sagas (up to the batch size) that `busy` does not
    /// hold, and gives back at once those held back or beyond the batch
    /// (another host may try them meanwhile).
    fn claim(&self, busy: &HashSet<String>) -> anyhow::Result<Claimed> {
        let backends = self.service.runtime().backends().clone();
        let now = backends.clock.now_ms();
        let held_back_count = lock(&self.held_back).len();
        let lease_ms = u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX);
        let limit = self.batch + held_back_count + busy.len();
        let claims = backends
            .store
            .claim_due(&self.owner, now, lease_ms, limit)?;
        let full = claims.len() >= limit;
        let instant = Instant::now();
        let mut ready = Vec::new();
        let mut renewed = Vec::new();
        let mut give_back = Vec::new();
        let mut hold_back_ends = None::<Instant>;
        let held_back = lock(&self.held_back);
        for claim in claims {
            if busy.contains(&claim.saga_id) {
                // Ours already (queued or advancing): the lease was renewed
                // under a newer token, which its release must name.
                renewed.push(claim);
                continue;
            }
            match held_back.get(&claim.saga_id) {
                Some((until, _)) if *until > instant => {
                    hold_back_ends = min_some(hold_back_ends, Some(*until));
                    give_back.push(claim);
                }
                _ if ready.len() >= self.batch => give_back.push(claim),
                _ => ready.push(claim),
            }
        }
        drop(held_back);
        self.release(&give_back);
        Ok(Claimed {
            ready,
            renewed,
            full,
            hold_back_ends,
        })
    }

    /// Advances one claimed saga and books the outcome: a failed advance
    /// is held back with a growing delay and keeps its claim (which holds
    /// it back on every host until the lease runs out).
    fn advance_claimed(&self, claim: &SagaClaim) -> Advanced {
        let order_id = &claim.saga_id;
        let mut report = DriverReport {
            advanced: 1,
            ..DriverReport::default()
        };
        let result = self.advance(order_id);
        let mut held_back = lock(&self.held_back);
        match result {
            Ok(saga) => {
                held_back.remove(order_id);
                drop(held_back);
                if saga.next_wake_at.is_none() {
                    report.finished = 1;
                    if let Some(finished) = &self.finished {
                        // A caller that stopped listening wants no more.
                        let _ = finished.send(order_id.clone());
                    }
                }
                Advanced {
                    report,
                    next_wake_at: saga.next_wake_at,
                    held_back_until: None,
                }
            }
            Err(error) => {
                report.failed = 1;
                let failures = held_back.get(order_id).map_or(1, |(_, n)| n + 1);
                let delay = FIRST_HOLD_BACK
                    .saturating_mul(1 << failures.min(16).saturating_sub(1))
                    .min(MAX_HOLD_BACK);
                let until = Instant::now() + delay;
                held_back.insert(order_id.clone(), (until, failures));
                tracing::warn!(%order_id, %error, ?delay, "saga advance failed; retried later");
                Advanced {
                    report,
                    next_wake_at: None,
                    held_back_until: Some(until),
                }
            }
        }
    }

    /// Gives claims back, in one store call.
    fn release(&self, claims: &[SagaClaim]) {
        if claims.is_empty() {
            return;
        }
        match self
            .service
            .runtime()
            .backends()
            .store
            .release_claims(claims)
        {
            Ok(released) if released == claims.len() => {}
            // A lease ran out during the advance and another host has the
            // saga now; its expected versions keep the history whole.
            Ok(released) => tracing::warn!(
                taken_over = claims.len() - released,
                "saga leases were taken over"
            ),
            // They run out by themselves.
            Err(error) => tracing::warn!(%error, claims = claims.len(), "saga leases not released"),
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

    /// Runs until `stop` is set: `workers` threads advance the claimed
    /// sagas while this thread claims more whenever a saga may be due, and
    /// otherwise sleeps. It wakes when a command may have written a timer
    /// due now ([`DueSignal::raise`], which the service calls after every
    /// command), when an advance leaves its saga due at a known time, when
    /// a held-back saga may be tried again, and at the latest every `poll`
    /// (timers that other hosts sharing the store wrote). Once `stop` is
    /// set each worker finishes the advance it is in and starts no other;
    /// call [`SagaDriver::wake`] after setting it to be heard at once
    /// (else within 50 ms).
    pub fn run(&self, stop: Arc<AtomicBool>, poll: Duration) {
        self.run_with(&stop, poll, |_| {});
    }

    /// [`SagaDriver::run`], telling `on_pass` what the advances since the
    /// previous claim did, or why a claim failed, once per claim.
    pub fn run_with(
        &self,
        stop: &AtomicBool,
        poll: Duration,
        on_pass: impl Fn(&anyhow::Result<DriverReport>),
    ) {
        let poll = poll.max(Duration::from_millis(1));
        let signal = self.service.runtime().due_signal().clone();
        let clock = self.service.runtime().backends().clock.clone();
        let work = Work::default();
        std::thread::scope(|scope| {
            for _ in 0..self.workers {
                scope.spawn(|| self.work(&work, &signal, stop));
            }
            // At once on start: unfinished sagas resume.
            let mut next_due: Option<u64> = Some(0);
            let mut hold_back_ends: Option<Instant> = None;
            let mut more = false;
            let mut last_claim: Option<Instant> = None;
            let mut due_now = false;
            while !stop.load(Ordering::SeqCst) {
                let (raised, earliest) = signal.take();
                // Kept until a claim has looked.
                due_now |= raised;
                next_due = min_some(next_due, earliest);
                let now = clock.now_ms();
                let instant = Instant::now();
                let low = {
                    let mut state = lock(&work.state);
                    hold_back_ends = min_some(hold_back_ends, state.hold_back_ends.take());
                    state.queue.len() < self.workers
                };
                let wanted = due_now
                    || more
                    || next_due.is_some_and(|due| due <= now)
                    || hold_back_ends.is_some_and(|end| end <= instant)
                    || last_claim.is_none_or(|at| at.elapsed() >= poll);
                let since_claim = last_claim.map_or(CLAIM_GAP, |at| at.elapsed());
                if low && wanted && since_claim >= CLAIM_GAP {
                    let (busy, releases) = {
                        let mut state = lock(&work.state);
                        let busy: HashSet<String> = state.busy.keys().cloned().collect();
                        (busy, std::mem::take(&mut state.releases))
                    };
                    self.release(&releases);
                    last_claim = Some(Instant::now());
                    due_now = false;
                    next_due = next_due.filter(|due| *due > now);
                    hold_back_ends = hold_back_ends.filter(|end| *end > instant);
                    match self.claim(&busy) {
                        Ok(claimed) => {
                            more = claimed.full;
                            hold_back_ends = min_some(hold_back_ends, claimed.hold_back_ends);
                            let done = {
                                let mut state = lock(&work.state);
                                for claim in claimed.renewed {
                                    if let Some(busy) = state.busy.get_mut(&claim.saga_id) {
                                        *busy = claim;
                                    } else if let Some(done) = state
                                        .releases
                                        .iter_mut()
                                        .find(|done| done.saga_id == claim.saga_id)
                                    {
                                        // Its advance ended meanwhile.
                                        *done = claim;
                                    }
                                }
                                for claim in claimed.ready {
                                    state.busy.insert(claim.saga_id.clone(), claim.clone());
                                    state.queue.push_back(claim);
                                }
                                std::mem::take(&mut state.done)
                            };
                            work.ready.notify_all();
                            on_pass(&Ok(done));
                        }
                        Err(error) => {
                            more = false;
                            tracing::error!(error = %format!("{error:#}"), "saga driver claim failed");
                            on_pass(&Err(error));
                        }
                    }
                    continue;
                }
                // Nothing to claim now: sleep until something may be due.
                let mut timeout = STOP_CHECK;
                if low && wanted {
                    // Commands that come close together share one claim.
                    timeout = CLAIM_GAP.saturating_sub(since_claim);
                } else if low {
                    if let Some(at) = last_claim {
                        timeout = timeout.min(poll.saturating_sub(at.elapsed()));
                    }
                    if let Some(due) = next_due {
                        timeout = timeout.min(Duration::from_millis(due.saturating_sub(now)));
                    }
                    if let Some(end) = hold_back_ends {
                        timeout = timeout.min(end.saturating_duration_since(instant));
                    }
                }
                signal.wait(timeout);
            }
            lock(&work.state).stopping = true;
            work.ready.notify_all();
        });
        let (releases, done) = {
            let mut state = lock(&work.state);
            (
                std::mem::take(&mut state.releases),
                std::mem::take(&mut state.done),
            )
        };
        self.release(&releases);
        if done != DriverReport::default() {
            on_pass(&Ok(done));
        }
    }

    /// Wakes [`SagaDriver::run`] at once: to claim what is due, or to see
    /// that it was told to stop.
    pub fn wake(&self) {
        self.service.runtime().due_signal().poke();
    }

    /// One worker of [`SagaDriver::run`]: advances queued claims until told
    /// to stop, and books each outcome for the claiming thread.
    fn work(&self, work: &Work, signal: &DueSignal, stop: &AtomicBool) {
        loop {
            let (claim, low) = {
                let mut state = lock(&work.state);
                loop {
                    if state.stopping || stop.load(Ordering::SeqCst) {
                        return;
                    }
                    if let Some(claim) = state.queue.pop_front() {
                        break (claim, state.queue.len() < self.workers);
                    }
                    state = work
                        .ready
                        .wait_timeout(state, STOP_CHECK)
                        .map_or_else(|e| e.into_inner().0, |(guard, _)| guard);
                }
            };
            if low {
                // Claim more while this one advances.
                signal.poke();
            }
            let done = self.advance_claimed(&claim);
            let flush = {
                let mut state = lock(&work.state);
                // The newest token, if the lease was renewed meanwhile.
                let claim = state.busy.remove(&claim.saga_id).unwrap_or(claim);
                if done.released() {
                    state.releases.push(claim);
                }
                state.done.add(&done.report);
                state.hold_back_ends = min_some(state.hold_back_ends, done.held_back_until);
                state.releases.len() >= RELEASE_BATCH
            };
            if let Some(due) = done.next_wake_at {
                signal.due_at(due);
            }
            if flush || done.held_back_until.is_some() {
                // The claiming thread gives the claims back, or sleeps no
                // longer than the new hold-back.
                signal.poke();
            }
        }
    }
}

/// What one claim found.
struct Claimed {
    /// Claims to advance, earliest first.
    ready: Vec<SagaClaim>,
    /// Claims of sagas already queued or advancing, under a newer token.
    renewed: Vec<SagaClaim>,
    /// The claim returned as many as it asked for: more may be due.
    full: bool,
    /// When the first held-back saga may be tried again.
    hold_back_ends: Option<Instant>,
}

/// What one advance of a claimed saga came to.
struct Advanced {
    report: DriverReport,
    /// When the saga is due again after a successful advance: its report's
    /// next wake-up (milliseconds on the runtime's clock).
    next_wake_at: Option<u64>,
    /// When a failed advance's hold-back ends.
    held_back_until: Option<Instant>,
}

impl Advanced {
    /// The claim is to be given back: the advance succeeded.
    fn released(&self) -> bool {
        self.report.failed == 0
    }
}

/// What [`SagaDriver::run`]'s threads share.
#[derive(Default)]
struct Work {
    state: Mutex<WorkState>,
    /// A claim was queued, or the workers are to stop.
    ready: Condvar,
}

#[derive(Default)]
struct WorkState {
    /// Claims waiting for a worker, earliest due first.
    queue: VecDeque<SagaClaim>,
    /// Every saga queued or advancing, with its newest claim.
    busy: HashMap<String, SagaClaim>,
    /// Claims whose advance succeeded, to give back in one store call.
    releases: Vec<SagaClaim>,
    /// What the advances did since the last claim.
    done: DriverReport,
    /// When the earliest hold-back of an advance that failed since the
    /// claiming thread last looked ends.
    hold_back_ends: Option<Instant>,
    stopping: bool,
}

/// The shortest time between two claims: under a stream of commands each
/// claim takes every saga that came due meanwhile, instead of one claim
/// (a read of the due timers) per command.
const CLAIM_GAP: Duration = Duration::from_millis(10);
/// How often a waiting thread looks at the stop flag.
const STOP_CHECK: Duration = Duration::from_millis(50);
/// Finished claims that make the claiming thread give them back before its
/// next claim.
const RELEASE_BATCH: usize = 64;

/// Wakes [`SagaDriver::run`] when a saga may be due. One per
/// [`Runtime`](crate::engine::Runtime), shared by every driver over it: the
/// service raises it after every command (a command that writes a saga
/// timer due now has committed it when it returns), the driver's workers
/// tell it when an advance leaves its saga due.
#[derive(Debug, Default)]
pub struct DueSignal {
    state: Mutex<Signal>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct Signal {
    /// A timer may be due now.
    due_now: bool,
    /// The earliest due time told since the driver last looked.
    earliest: Option<u64>,
    /// Bumped by every wake-up, so that a waiter tells one from a time-out.
    wakes: u64,
}

impl DueSignal {
    /// A saga timer may be due now.
    pub fn raise(&self) {
        self.update(|s| s.due_now = true);
    }

    /// A saga timer is due at `due_at` (milliseconds since the Unix epoch).
    pub fn due_at(&self, due_at: u64) {
        self.update(|s| s.earliest = min_some(s.earliest, Some(due_at)));
    }

    /// Wakes the driver without saying that anything is due.
    pub fn poke(&self) {
        self.update(|_| {});
    }

    fn update(&self, change: impl FnOnce(&mut Signal)) {
        let mut state = lock(&self.state);
        change(&mut state);
        state.wakes = state.wakes.wrapping_add(1);
        drop(state);
        self.changed.notify_all();
    }

    /// What was told since the last call, cleared.
    fn take(&self) -> (bool, Option<u64>) {
        let mut state = lock(&self.state);
        (std::mem::take(&mut state.due_now), state.earliest.take())
    }

    /// Sleeps until a wake-up or `timeout`, whichever comes first.
    fn wait(&self, timeout: Duration) {
        let state = lock(&self.state);
        if state.due_now || state.earliest.is_some() {
            return;
        }
        let seen = state.wakes;
        let _ = self
            .changed
            .wait_timeout_while(state, timeout, |s| s.wakes == seen);
    }
}

fn min_some<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
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
