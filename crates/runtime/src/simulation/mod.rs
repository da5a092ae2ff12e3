//! In-process stand-ins for the four external contexts: deterministic under
//! a seed, honouring idempotency keys, with faults and latency on demand and
//! one ordered log of every call.
//!
//! The backends themselves live beside their traits
//! ([`crate::payment::simulated`] and so on); this module holds what they
//! share ([`SimControl`], [`CallLog`], the fault machinery) and
//! [`Simulation`], which builds all four at once.
//!
//! By default everything lives in memory and is gone with the process.
//! [`Simulation::open_durable`] adds a journal file (see `journal.rs`) from
//! which a restarted host rebuilds the same charges, stock, shipments,
//! messages and call log, so it never acts twice on a key it already
//! answered.

mod faults;
mod journal;
pub mod rng;

pub use faults::{FaultConfig, FaultPlan, FaultSpec, FaultSpecError, Scripted};

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anyhow::{Context as _, bail};
use faults::{Fault, draw};
use journal::{Entry, Journal, Source};
use serde::Serialize;

use crate::carrier::ShippingCarrier as _;
use crate::carrier::simulated::{CarrierSimError, SimulatedCarrier};
use crate::clock::Clock;
use crate::customer::CustomerService as _;
use crate::customer::simulated::SimulatedCustomer;
use crate::external::{Context, ExternalError, Operation};
use crate::inventory::simulated::SimulatedInventory;
use crate::inventory::{AllocateError, InventoryService as _};
use crate::payment::PaymentGateway as _;
use crate::payment::simulated::SimulatedPayment;
use crate::policy::StorePolicy;
use crate::state::Backends;
use crate::store::EventStore;

/// How a call to an external context ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallOutcome {
    /// It succeeded.
    Ok,
    /// It failed transiently (and had no effect).
    Transient,
    /// It failed permanently.
    Permanent,
    /// It took effect, but its answer was lost (an injected `lost` fault):
    /// the caller got an in-doubt failure.
    InDoubt,
}

impl fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CallOutcome::Ok => "ok",
            CallOutcome::Transient => "transient",
            CallOutcome::Permanent => "permanent",
            CallOutcome::InDoubt => "in-doubt",
        })
    }
}

/// One call to a simulated context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEntry {
    /// The context called.
    pub context: Context,
    /// The operation called.
    pub operation: Operation,
    /// The idempotency key the caller passed.
    pub key: String,
    /// How the call ended.
    pub outcome: CallOutcome,
    /// True when the key had a completed outcome already and the call only
    /// repeated it, with no new effect.
    pub replayed: bool,
}

impl fmt::Display for CallEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{} [{}] -> {}",
            self.context, self.operation, self.key, self.outcome
        )?;
        if self.replayed {
            f.write_str(" (replayed)")?;
        }
        Ok(())
    }
}

/// The ordered record of the calls made to the simulated contexts: the
/// most recent [`CallLog::CAPACITY`] calls in full, and exact counts of
/// every call since the start, so that a long run does not keep every call
/// for ever.
#[derive(Debug, Default)]
pub struct CallLog {
    inner: Mutex<LogInner>,
}

#[derive(Debug, Default)]
struct LogInner {
    recent: VecDeque<CallEntry>,
    total: usize,
    counts: HashMap<(Operation, CallOutcome), usize>,
}

impl CallLog {
    /// How many of the most recent calls are kept in full.
    pub const CAPACITY: usize = 10_000;

    /// The most recent calls (at most [`CallLog::CAPACITY`]), oldest first.
    pub fn entries(&self) -> Vec<CallEntry> {
        self.lock().recent.iter().cloned().collect()
    }

    /// The most recent calls of one operation, oldest first.
    pub fn calls_to(&self, operation: Operation) -> Vec<CallEntry> {
        self.lock()
            .recent
            .iter()
            .filter(|e| e.operation == operation)
            .cloned()
            .collect()
    }

    /// How many calls of `operation` ended with `outcome`, since the start
    /// (also those no longer kept in full).
    pub fn count(&self, operation: Operation, outcome: CallOutcome) -> usize {
        self.lock()
            .counts
            .get(&(operation, outcome))
            .copied()
            .unwrap_or(0)
    }

    /// How many calls were made since the start.
    pub fn len(&self) -> usize {
        self.lock().total
    }

    /// True when no call was made.
    pub fn is_empty(&self) -> bool {
        self.lock().total == 0
    }

    /// Forgets every entry and count.
    pub fn clear(&self) {
        *self.lock() = LogInner::default();
    }

    fn push(&self, entry: CallEntry) {
        let mut log = self.lock();
        log.total += 1;
        *log.counts
            .entry((entry.operation, entry.outcome))
            .or_insert(0) += 1;
        if log.recent.len() == Self::CAPACITY {
            log.recent.pop_front();
        }
        log.recent.push_back(entry);
    }

    fn last_replayed(&self) -> Option<bool> {
        self.lock().recent.back().map(|e| e.replayed)
    }

    fn lock(&self) -> MutexGuard<'_, LogInner> {
        // Pushing a complete entry cannot leave the log half-written.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The remembered outcomes of one operation, by idempotency key: what
/// idempotency needs, and no more. The most recent [`Memo::CAPACITY`] keys
/// are kept (oldest first out), so memory stays bounded however long the
/// simulation runs; a key asked again after that many newer keys of the
/// same operation is treated as new, as a real gateway treats a key older
/// than its idempotency window. Sagas ask again within seconds, long
/// before a key leaves the window.
pub(crate) struct Memo<T> {
    outcomes: HashMap<String, T>,
    order: VecDeque<String>,
    capacity: usize,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Self::with_capacity(Self::CAPACITY)
    }
}

impl<T> Memo<T> {
    /// Keys kept per operation.
    pub(crate) const CAPACITY: usize = 20_000;

    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            outcomes: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&T> {
        self.outcomes.get(key)
    }

    pub(crate) fn insert(&mut self, key: &str, outcome: T) {
        if self.outcomes.insert(key.to_owned(), outcome).is_none() {
            self.order.push_back(key.to_owned());
            while self.order.len() > self.capacity {
                if let Some(oldest) = self.order.pop_front() {
                    self.outcomes.remove(&oldest);
                }
            }
        }
    }

    /// How many keys are remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.outcomes.len()
    }
}

/// The records a simulated context keeps of its effects (charges,
/// refunds, shipments, messages, ...): the most recent
/// [`Records::CAPACITY`], oldest first out, each with an index that stays
/// the same for as long as it is kept. What a test or a check reads is
/// there; a long run does not keep every record for ever.
pub(crate) struct Records<T> {
    items: VecDeque<T>,
    /// The index of `items[0]`: how many records were dropped before it.
    first: usize,
    capacity: usize,
}

impl<T> Default for Records<T> {
    fn default() -> Self {
        Self {
            items: VecDeque::new(),
            first: 0,
            capacity: Self::CAPACITY,
        }
    }
}

impl<T> Records<T> {
    /// Records kept per kind.
    pub(crate) const CAPACITY: usize = 20_000;

    /// Adds `item`; returns its index and the record dropped to make room.
    pub(crate) fn push(&mut self, item: T) -> (usize, Option<T>) {
        let index = self.first + self.items.len();
        self.items.push_back(item);
        let mut dropped = None;
        if self.items.len() > self.capacity {
            dropped = self.items.pop_front();
            self.first += 1;
        }
        (index, dropped)
    }

    pub(crate) fn get(&self, index: usize) -> Option<&T> {
        self.items.get(index.checked_sub(self.first)?)
    }

    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.items.get_mut(index.checked_sub(self.first)?)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }

    /// The records kept, oldest first.
    pub(crate) fn to_vec(&self) -> Vec<T>
    where
        T: Clone,
    {
        self.items.iter().cloned().collect()
    }

    /// How many records were ever added (also those dropped since).
    pub(crate) fn total(&self) -> usize {
        self.first + self.items.len()
    }
}

/// What the simulated contexts share: the seed, the clock, the call log,
/// the fault plan and the scripted outcomes. Cloning shares, not copies.
#[derive(Clone)]
pub struct SimControl {
    inner: Arc<ControlInner>,
}

struct ControlInner {
    seed: u64,
    clock: Arc<dyn Clock>,
    log: CallLog,
    faults: Mutex<FaultState>,
    /// Where completed calls are made durable, if anywhere.
    journal: Option<Journal>,
    /// Set while one journal entry is replayed: its time and its decision.
    replaying: Mutex<Option<Replaying>>,
    /// Why the journal can no longer be written; every call then fails
    /// transiently, so nothing is answered that a restart would forget.
    broken: Mutex<Option<String>>,
}

/// The recorded decision of the entry being replayed.
#[derive(Debug, Clone, Copy)]
struct Replaying {
    now: u64,
    fault: Fault,
    source: Source,
}

#[derive(Default)]
struct FaultState {
    plan: FaultPlan,
    scripts: HashMap<Operation, VecDeque<Scripted>>,
    /// Calls per (operation, key) that reached the fault draw, so that each
    /// retry of a key draws afresh but reproducibly (bounded like the memos).
    attempts: Memo<u64>,
}

impl FaultState {
    /// Counts one more attempt of `key` at `operation`; returns its number.
    fn count_attempt(&mut self, operation: Operation, key: &str) -> u64 {
        let slot = format!("{}\u{1f}{key}", operation.name());
        let attempt = self.attempts.get(&slot).copied().unwrap_or(0) + 1;
        self.attempts.insert(&slot, attempt);
        attempt
    }
}

impl SimControl {
    /// Shared state for simulated contexts seeded with `seed`, telling time by `clock`.
    pub fn new(seed: u64, clock: Arc<dyn Clock>) -> Self {
        Self::build(seed, clock, None)
    }

    fn build(seed: u64, clock: Arc<dyn Clock>, journal: Option<Journal>) -> Self {
        Self {
            inner: Arc::new(ControlInner {
                seed,
                clock,
                log: CallLog::default(),
                faults: Mutex::new(FaultState::default()),
                journal,
                replaying: Mutex::new(None),
                broken: Mutex::new(None),
            }),
        }
    }

    /// The journal file, when the simulation is durable.
    pub fn journal_path(&self) -> Option<&Path> {
        self.inner.journal.as_ref().map(Journal::path)
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.inner.seed
    }

    /// The clock the simulated answers are stamped with.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The log of every call.
    pub fn log(&self) -> &CallLog {
        &self.inner.log
    }

    /// The current fault plan.
    pub fn fault_plan(&self) -> FaultPlan {
        self.faults().plan.clone()
    }

    /// Replaces the whole fault plan.
    pub fn set_fault_plan(&self, plan: FaultPlan) {
        self.faults().plan = plan;
    }

    /// Replaces the faults of one context, refusing invalid probabilities.
    pub fn set_faults(&self, context: Context, config: FaultConfig) -> Result<(), FaultSpecError> {
        self.faults().plan.set(context, config)
    }

    /// Queues outcomes for the next calls of `operation`, consumed one per
    /// call (whatever its key) before any random fault is drawn. Calls that
    /// only replay a remembered outcome consume nothing.
    pub fn script(&self, operation: Operation, steps: impl IntoIterator<Item = Scripted>) {
        self.faults()
            .scripts
            .entry(operation)
            .or_default()
            .extend(steps);
    }

    /// Drops every scripted outcome not consumed yet.
    pub fn clear_scripts(&self) {
        self.faults().scripts.clear();
    }

    fn faults(&self) -> MutexGuard<'_, FaultState> {
        // Every update of the fault state is a single assignment or insert.
        self.inner
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The time a backend stamps its effect with: the clock's, or the
    /// recorded one while a journal entry is replayed.
    pub(crate) fn now_ms(&self) -> u64 {
        match self.replaying() {
            Some(r) => r.now,
            None => self.inner.clock.now_ms(),
        }
    }

    /// Sleeps for the operation's configured latency. Called before a
    /// backend takes its lock, so that slow calls overlap as they would for
    /// real. Replays do not sleep.
    pub(crate) fn pause(&self, operation: Operation) {
        if self.replaying().is_some() {
            return;
        }
        let latency = self.faults().plan.for_operation(operation).latency;
        if !latency.is_zero() {
            std::thread::sleep(latency);
        }
    }

    fn replaying(&self) -> Option<Replaying> {
        *self
            .inner
            .replaying
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn set_replaying(&self, replaying: Option<Replaying>) {
        *self
            .inner
            .replaying
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = replaying;
    }

    fn broken(&self) -> Option<String> {
        self.inner
            .broken
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn decide(&self, operation: Operation, key: &str) -> (Fault, Source) {
        let mut state = self.faults();
        if let Some(replaying) = self.replaying() {
            if replaying.source == Source::Draw {
                // Later live retries of the key continue the attempt count.
                state.count_attempt(operation, key);
            }
            return (replaying.fault, replaying.source);
        }
        if let Some(step) = state
            .scripts
            .get_mut(&operation)
            .and_then(VecDeque::pop_front)
        {
            return (step.into(), Source::Script);
        }
        let config = state.plan.for_operation(operation);
        let attempt = state.count_attempt(operation, key);
        (
            draw(self.inner.seed, operation, key, attempt, &config),
            Source::Draw,
        )
    }

    /// Takes a scripted `Unavailable` of `operation`, if it is the next
    /// script: the service is down, whatever the key. Never while replaying
    /// (the journal records what the call decided instead).
    fn take_unavailable(&self, operation: Operation) -> bool {
        if self.replaying().is_some() {
            return false;
        }
        let mut state = self.faults();
        let queue = state.scripts.get_mut(&operation);
        match queue {
            Some(queue) if queue.front() == Some(&Scripted::Unavailable) => {
                queue.pop_front();
                true
            }
            _ => false,
        }
    }

    /// Runs one call with idempotency and fault injection: a remembered
    /// outcome for `key` is returned as is; otherwise an injected fault or
    /// `effect` decides, and every outcome but a transient one is remembered
    /// in `memo`. A `lost` fault runs `effect` and remembers its outcome
    /// like any other, but answers in doubt (the answer never reached the
    /// caller); asking again under the key then learns the real outcome.
    /// A scripted `Unavailable` fails transiently before the memo is read. The call is logged either way and, in a durable
    /// simulation, journaled (with `now`, the time `effect` stamps its
    /// answer with, and `request`) before the answer is returned; the
    /// caller holds its backend's lock throughout, so the journal's order
    /// is the order of the effects.
    pub(crate) fn run<T, E, R>(
        &self,
        operation: Operation,
        key: &str,
        now: u64,
        request: &R,
        memo: &mut Memo<Result<T, E>>,
        effect: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E>
    where
        T: Clone + Serialize,
        E: SimFailure + fmt::Display,
        R: Serialize + ?Sized,
    {
        if let Some(reason) = self.broken() {
            self.record(operation, key, CallOutcome::Transient, false);
            return Err(E::injected(ExternalError::transient(reason)));
        }
        // A replayed `Unavailable` is a scripted transient failure of a key
        // that has a remembered outcome.
        let down = match self.replaying() {
            Some(r) => {
                r.source == Source::Script && r.fault == Fault::Transient && memo.get(key).is_some()
            }
            None => self.take_unavailable(operation),
        };
        let (result, source, fault) = match memo.get(key) {
            _ if down => (
                Err(E::injected(ExternalError::transient(format!(
                    "{} is unavailable for {operation} (simulated)",
                    operation.context()
                )))),
                Source::Script,
                Fault::Transient,
            ),
            Some(previous) => (previous.clone(), Source::Memo, Fault::None),
            None => {
                let (fault, source) = self.decide(operation, key);
                let result = match fault {
                    Fault::None => effect(),
                    Fault::Lost => {
                        let done = effect();
                        if !matches!(
                            outcome_of(&done),
                            CallOutcome::Transient | CallOutcome::InDoubt
                        ) {
                            memo.insert(key, done);
                        }
                        Err(E::injected(ExternalError::in_doubt(format!(
                            "the answer of {} to {operation} was lost (simulated)",
                            operation.context()
                        ))))
                    }
                    Fault::Transient => Err(E::injected(ExternalError::transient(format!(
                        "{} {operation} timed out (simulated)",
                        operation.context()
                    )))),
                    Fault::Permanent => Err(E::injected(ExternalError::permanent(format!(
                        "{} refused {operation} (simulated)",
                        operation.context()
                    )))),
                };
                if !matches!(
                    outcome_of(&result),
                    CallOutcome::Transient | CallOutcome::InDoubt
                ) {
                    memo.insert(key, result.clone());
                }
                (result, source, fault)
            }
        };
        let outcome = outcome_of(&result);
        let entry = Entry {
            seq: 0,
            context: operation.context().name().to_owned(),
            action: operation.name().to_owned(),
            key: key.to_owned(),
            at: now,
            source,
            fault: fault_name(fault).to_owned(),
            outcome: outcome.to_string(),
            request: to_json(request),
            result: result_text(&result),
        };
        if let Err(reason) = self.journal(&entry) {
            self.record(operation, key, CallOutcome::Transient, false);
            return Err(E::injected(ExternalError::transient(reason)));
        }
        self.record(operation, key, outcome, source == Source::Memo);
        result
    }

    /// Journals a change made by hand (a stock level, a parcel picked up),
    /// while the caller still holds its backend's lock. Without a journal,
    /// or while replaying, there is nothing to do. On failure the
    /// simulation refuses every later call.
    pub(crate) fn journal_change<R: Serialize + ?Sized>(
        &self,
        context: Context,
        action: &str,
        now: u64,
        request: &R,
        result: &str,
    ) -> Result<(), String> {
        if let Some(reason) = self.broken() {
            return Err(reason);
        }
        self.journal(&Entry {
            seq: 0,
            context: context.name().to_owned(),
            action: action.to_owned(),
            key: String::new(),
            at: now,
            source: Source::Admin,
            fault: fault_name(Fault::None).to_owned(),
            outcome: CallOutcome::Ok.to_string(),
            request: to_json(request),
            result: result.to_owned(),
        })
    }

    fn journal(&self, entry: &Entry) -> Result<(), String> {
        let Some(journal) = &self.inner.journal else {
            return Ok(());
        };
        if self.replaying().is_some() {
            return Ok(());
        }
        journal.append(entry).map_err(|error| {
            let reason = format!("the simulation state cannot be written: {error}");
            tracing::error!("{reason}; every later call to the simulation fails");
            *self
                .inner
                .broken
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(reason.clone());
            reason
        })
    }

    fn record(&self, operation: Operation, key: &str, outcome: CallOutcome, replayed: bool) {
        self.inner.log.push(CallEntry {
            context: operation.context(),
            operation,
            key: key.to_owned(),
            outcome,
            replayed,
        });
    }
}

/// The error type of a simulated operation.
pub(crate) trait SimFailure: Clone {
    /// Whether the error is transient or permanent.
    fn outcome(&self) -> CallOutcome;
    /// Wraps an injected fault.
    fn injected(error: ExternalError) -> Self;
}

impl SimFailure for ExternalError {
    fn outcome(&self) -> CallOutcome {
        match self {
            ExternalError::Transient(_) => CallOutcome::Transient,
            ExternalError::Permanent(_) => CallOutcome::Permanent,
            ExternalError::InDoubt(_) => CallOutcome::InDoubt,
        }
    }

    fn injected(error: ExternalError) -> Self {
        error
    }
}

impl SimFailure for AllocateError {
    fn outcome(&self) -> CallOutcome {
        match self {
            AllocateError::OutOfStock(_) => CallOutcome::Permanent,
            AllocateError::Failed(error) => error.outcome(),
        }
    }

    fn injected(error: ExternalError) -> Self {
        AllocateError::Failed(error)
    }
}

/// Pickups and deliveries are journaled only when they happen, so their
/// replays must succeed; a failure reads as permanent.
impl SimFailure for CarrierSimError {
    fn outcome(&self) -> CallOutcome {
        CallOutcome::Permanent
    }

    fn injected(error: ExternalError) -> Self {
        CarrierSimError::Journal(error.to_string())
    }
}

fn outcome_of<T, E: SimFailure>(result: &Result<T, E>) -> CallOutcome {
    match result {
        Ok(_) => CallOutcome::Ok,
        Err(error) => error.outcome(),
    }
}

fn fault_name(fault: Fault) -> &'static str {
    match fault {
        Fault::None => "none",
        Fault::Transient => "transient",
        Fault::Permanent => "permanent",
        Fault::Lost => "lost",
    }
}

fn parse_fault(name: &str) -> Option<Fault> {
    [Fault::None, Fault::Transient, Fault::Permanent, Fault::Lost]
        .into_iter()
        .find(|f| fault_name(*f) == name)
}

pub(crate) fn to_json<R: Serialize + ?Sized>(value: &R) -> String {
    // The WIT types serialize infallibly; an error here is a bug worth
    // seeing in the journal rather than a reason to fail the call.
    serde_json::to_string(value).unwrap_or_else(|e| format!("<unserializable: {e}>"))
}

/// How a call's answer is journaled: JSON on success, the message otherwise.
fn result_text<T: Serialize, E: fmt::Display>(result: &Result<T, E>) -> String {
    match result {
        Ok(value) => to_json(value),
        Err(error) => error.to_string(),
    }
}

/// Milliseconds in a day, for simulated delivery estimates.
pub(crate) const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// The namespace of every id the simulation derives.
const ID_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6f6d_732d_7369_6d2d_8000_0000_0000_0001);

/// An id derived from what it identifies (for example
/// `("shipment", key)`), so that a rerun with the same calls yields the
/// same ids.
pub(crate) fn derived_id(kind: &str, key: &str) -> uuid::Uuid {
    uuid::Uuid::new_v5(&ID_NAMESPACE, format!("{kind}/{key}").as_bytes())
}

/// All four simulated contexts, sharing one [`SimControl`]. Keep the
/// concrete `Arc`s to inspect their effects; [`Simulation::backends`] hands
/// the same objects to the runtime.
#[derive(Clone)]
pub struct Simulation {
    /// The shared seed, clock, call log and faults.
    pub control: SimControl,
    /// The payment gateway.
    pub payment: Arc<SimulatedPayment>,
    /// The inventory service.
    pub inventory: Arc<SimulatedInventory>,
    /// The shipping carrier.
    pub carrier: Arc<SimulatedCarrier>,
    /// Customer service.
    pub customer: Arc<SimulatedCustomer>,
}

impl Simulation {
    /// Four fault-free simulated contexts seeded with `seed`; every product
    /// starts with [`SimulatedInventory::DEFAULT_STOCK`] units. Everything
    /// lives in memory.
    pub fn new(seed: u64, clock: Arc<dyn Clock>) -> Self {
        Self::with_control(SimControl::new(seed, clock))
    }

    /// Like [`Simulation::new`], but durable: every call that completes
    /// (and every change made by hand: stock levels, card limits, parcels
    /// picked up and delivered) is appended to the SQLite file at `path`
    /// before its answer is returned, and opening an existing file replays
    /// it, so the simulation answers a repeated idempotency key with its
    /// first outcome and holds the same charges, refunds, stock,
    /// allocations, shipments, messages and call log as before the
    /// restart. Faults and scripts are settings of the process, not state:
    /// they are not kept.
    pub fn open_durable(
        seed: u64,
        clock: Arc<dyn Clock>,
        path: impl AsRef<Path>,
    ) -> anyhow::Result<Self> {
        let path = path.as_ref();
        let journal = Journal::open(path)?;
        let entries = journal.entries()?;
        let sim = Self::with_control(SimControl::build(seed, clock, Some(journal)));
        for entry in &entries {
            let replayed = sim.replay(entry).with_context(|| {
                format!(
                    "replaying entry {} ({}.{} [{}]) of the simulation state {}",
                    entry.seq,
                    entry.context,
                    entry.action,
                    entry.key,
                    path.display()
                )
            });
            sim.control.set_replaying(None);
            replayed?;
        }
        Ok(sim)
    }

    fn with_control(control: SimControl) -> Self {
        Self {
            payment: Arc::new(SimulatedPayment::new(control.clone())),
            inventory: Arc::new(SimulatedInventory::new(control.clone())),
            carrier: Arc::new(SimulatedCarrier::new(control.clone())),
            customer: Arc::new(SimulatedCustomer::new(control.clone())),
            control,
        }
    }

    /// The journal file, when the simulation is durable.
    pub fn journal_path(&self) -> Option<&Path> {
        self.control.journal_path()
    }

    /// Applies one journal entry again, through the same code that made
    /// it, and checks that it ends the same way.
    fn replay(&self, entry: &Entry) -> anyhow::Result<()> {
        let Some(fault) = parse_fault(&entry.fault) else {
            bail!("unknown fault `{}`", entry.fault);
        };
        self.control.set_replaying(Some(Replaying {
            now: entry.at,
            fault,
            source: entry.source,
        }));
        fn req<R: serde::de::DeserializeOwned>(entry: &Entry) -> anyhow::Result<R> {
            serde_json::from_str(&entry.request).context("the request cannot be read")
        }
        fn call<T: Serialize, E: SimFailure + fmt::Display>(
            result: &Result<T, E>,
        ) -> (CallOutcome, String) {
            (outcome_of(result), result_text(result))
        }
        let key = entry.key.as_str();
        let (outcome, result) = match (entry.context.as_str(), entry.action.as_str()) {
            ("payment", "process-payment") => {
                call(&self.payment.process_payment(key, &req(entry)?))
            }
            ("payment", "refund-payment") => call(&self.payment.refund_payment(key, &req(entry)?)),
            ("payment", "set-decline-above") => {
                self.payment.set_decline_above(req(entry)?);
                return Ok(());
            }
            ("inventory", "allocate-stock") => {
                call(&self.inventory.allocate_stock(key, &req(entry)?))
            }
            ("inventory", "release-stock") => {
                call(&self.inventory.release_stock(key, &req(entry)?))
            }
            ("inventory", "restock-items") => {
                call(&self.inventory.restock_items(key, &req(entry)?))
            }
            ("inventory", "set-stock") => {
                let (product_id, units): (String, u64) = req(entry)?;
                self.inventory.set_stock(&product_id, units);
                return Ok(());
            }
            ("inventory", "set-default-stock") => {
                self.inventory.set_default_stock(req(entry)?);
                return Ok(());
            }
            ("carrier", "create-shipment") => {
                call(&self.carrier.create_shipment(key, &req(entry)?))
            }
            ("carrier", "cancel-shipment") => {
                call(&self.carrier.cancel_shipment(key, &req(entry)?))
            }
            ("carrier", "pick-up") => {
                let shipment_id: String = req(entry)?;
                call(&self.carrier.pick_up(&shipment_id))
            }
            ("carrier", "deliver") => {
                let (shipment_id, signed_by): (String, Option<String>) = req(entry)?;
                call(&self.carrier.deliver(&shipment_id, signed_by))
            }
            ("customer", "send-order-confirmation") => {
                call(&self.customer.send_order_confirmation(key, &req(entry)?))
            }
            ("customer", "send-order-cancellation") => {
                call(&self.customer.send_order_cancellation(key, &req(entry)?))
            }
            ("customer", "send-shipping-update") => {
                call(&self.customer.send_shipping_update(key, &req(entry)?))
            }
            ("customer", "create-support-ticket") => {
                call(&self.customer.create_support_ticket(key, &req(entry)?))
            }
            (context, action) => bail!("unknown action {context}.{action}"),
        };
        if outcome.to_string() != entry.outcome || result != entry.result {
            bail!(
                "it ended `{outcome}: {result}` instead of `{}: {}` (was the file written by another version?)",
                entry.outcome,
                entry.result
            );
        }
        if entry.source != Source::Admin {
            let replayed = self.control.log().last_replayed();
            if replayed != Some(entry.source == Source::Memo) {
                bail!("the key's remembered outcomes differ from the recorded ones");
            }
        }
        Ok(())
    }

    /// The log of every call to the four contexts.
    pub fn log(&self) -> &CallLog {
        self.control.log()
    }

    /// The runtime's backends: these four contexts, `store` and `policy`,
    /// telling time by the simulation's clock.
    pub fn backends(&self, store: Arc<dyn EventStore>, policy: StorePolicy) -> Backends {
        Backends {
            store,
            payment: self.payment.clone(),
            inventory: self.inventory.clone(),
            carrier: self.carrier.clone(),
            customer: self.customer.clone(),
            policy,
            clock: self.control.clock().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn control() -> SimControl {
        SimControl::new(3, Arc::new(ManualClock::new(0)))
    }

    #[test]
    fn a_completed_outcome_is_replayed_without_a_new_effect() {
        let control = control();
        let mut memo = Memo::default();
        let mut effects = 0;
        for _ in 0..3 {
            let result: Result<u32, ExternalError> =
                control.run(Operation::ProcessPayment, "k", 0, &(), &mut memo, || {
                    effects += 1;
                    Ok(effects)
                });
            assert_eq!(result, Ok(1));
        }
        assert_eq!(effects, 1);
        let replayed: Vec<bool> = control.log().entries().iter().map(|e| e.replayed).collect();
        assert_eq!(replayed, [false, true, true]);
    }

    #[test]
    fn scripts_are_consumed_in_order_and_transients_are_not_remembered() {
        let control = control();
        control.script(
            Operation::RefundPayment,
            [Scripted::Transient, Scripted::Transient, Scripted::Ok],
        );
        let mut memo = Memo::default();
        let mut call = || -> Result<&str, ExternalError> {
            control.run(Operation::RefundPayment, "k", 0, &(), &mut memo, || {
                Ok("done")
            })
        };
        assert!(matches!(call(), Err(ExternalError::Transient(_))));
        assert!(matches!(call(), Err(ExternalError::Transient(_))));
        assert_eq!(call(), Ok("done"));
        assert_eq!(call(), Ok("done"));
        let outcomes: Vec<String> = control
            .log()
            .entries()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            outcomes,
            [
                "payment.refund-payment [k] -> transient",
                "payment.refund-payment [k] -> transient",
                "payment.refund-payment [k] -> ok",
                "payment.refund-payment [k] -> ok (replayed)",
            ]
        );
    }

    #[test]
    fn an_injected_permanent_failure_is_remembered() {
        let control = control();
        control.script(Operation::CreateShipment, [Scripted::Permanent]);
        let mut memo = Memo::default();
        let mut effects = 0;
        for _ in 0..2 {
            let result: Result<(), ExternalError> =
                control.run(Operation::CreateShipment, "k", 0, &(), &mut memo, || {
                    effects += 1;
                    Ok(())
                });
            assert!(matches!(result, Err(ExternalError::Permanent(_))));
        }
        assert_eq!(effects, 0);
    }

    #[test]
    fn random_faults_replay_identically_for_the_same_seed() {
        let run = || -> Vec<CallOutcome> {
            let control = control();
            control
                .set_faults(
                    Context::Payment,
                    FaultConfig {
                        transient: 0.3,
                        permanent: 0.1,
                        ..FaultConfig::NONE
                    },
                )
                .unwrap();
            let mut memo = Memo::default();
            for i in 0..200 {
                let _: Result<(), ExternalError> = control.run(
                    Operation::ProcessPayment,
                    &format!("k{}", i % 50),
                    0,
                    &(),
                    &mut memo,
                    || Ok(()),
                );
            }
            control.log().entries().iter().map(|e| e.outcome).collect()
        };
        let first = run();
        assert_eq!(first, run());
        assert!(first.contains(&CallOutcome::Transient));
        assert!(first.contains(&CallOutcome::Permanent));
    }

    #[test]
    fn a_lost_answer_takes_effect_answers_in_doubt_and_is_learnt_by_asking_again() {
        let control = control();
        control.script(Operation::ProcessPayment, [Scripted::Lost]);
        let mut memo = Memo::default();
        let mut effects = 0;
        let mut call = || -> Result<u32, ExternalError> {
            control.run(Operation::ProcessPayment, "k", 0, &(), &mut memo, || {
                effects += 1;
                Ok(effects)
            })
        };
        assert!(matches!(call(), Err(ExternalError::InDoubt(m)) if m.contains("lost")));
        assert_eq!(call(), Ok(1));
        assert_eq!(call(), Ok(1));
        assert_eq!(effects, 1, "one effect, however often asked");
        let log: Vec<String> = control
            .log()
            .entries()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            log,
            [
                "payment.process-payment [k] -> in-doubt",
                "payment.process-payment [k] -> ok (replayed)",
                "payment.process-payment [k] -> ok (replayed)",
            ]
        );
        assert_eq!(
            control
                .log()
                .count(Operation::ProcessPayment, CallOutcome::InDoubt),
            1
        );
    }

    #[test]
    fn an_unavailable_service_fails_even_a_remembered_key_without_effect() {
        let control = control();
        control.script(
            Operation::CreateShipment,
            [Scripted::Lost, Scripted::Unavailable, Scripted::Unavailable],
        );
        let mut memo = Memo::default();
        let mut effects = 0;
        let mut call = || -> Result<u32, ExternalError> {
            control.run(Operation::CreateShipment, "k", 0, &(), &mut memo, || {
                effects += 1;
                Ok(7)
            })
        };
        assert!(matches!(call(), Err(ExternalError::InDoubt(_))));
        assert!(matches!(call(), Err(ExternalError::Transient(m)) if m.contains("unavailable")));
        assert!(matches!(call(), Err(ExternalError::Transient(_))));
        assert_eq!(call(), Ok(7));
        assert_eq!(effects, 1);
    }

    #[test]
    fn random_lost_answers_replay_identically_and_never_act_twice() {
        let run = || -> (Vec<CallOutcome>, u32) {
            let control = control();
            control.set_fault_plan("payment=lost:0.4".parse().unwrap());
            let mut memo = Memo::default();
            let mut effects = 0;
            for i in 0..200 {
                let _: Result<(), ExternalError> = control.run(
                    Operation::ProcessPayment,
                    &format!("k{}", i % 50),
                    0,
                    &(),
                    &mut memo,
                    || {
                        effects += 1;
                        Ok(())
                    },
                );
            }
            let outcomes = control.log().entries().iter().map(|e| e.outcome).collect();
            (outcomes, effects)
        };
        let (first, effects) = run();
        assert_eq!(run().0, first);
        assert!(first.contains(&CallOutcome::InDoubt));
        assert_eq!(effects, 50, "one effect per key");
    }

    #[test]
    fn memos_call_logs_and_records_stay_bounded() {
        let mut memo = Memo::with_capacity(3);
        for i in 0..10 {
            memo.insert(&format!("k{i}"), i);
        }
        assert_eq!(memo.len(), 3);
        assert_eq!(memo.get("k9"), Some(&9));
        assert_eq!(memo.get("k6"), None, "the oldest keys are forgotten");
        memo.insert("k9", 90);
        assert_eq!((memo.len(), memo.get("k9")), (3, Some(&90)));

        let control = control();
        let mut memo = Memo::default();
        let calls = CallLog::CAPACITY + 5;
        for i in 0..calls {
            let _: Result<(), ExternalError> = control.run(
                Operation::SendShippingUpdate,
                &format!("k{i}"),
                0,
                &(),
                &mut memo,
                || Ok(()),
            );
        }
        let log = control.log();
        assert_eq!(log.len(), calls);
        assert_eq!(log.entries().len(), CallLog::CAPACITY);
        assert_eq!(log.entries()[0].key, "k5");
        assert_eq!(
            log.count(Operation::SendShippingUpdate, CallOutcome::Ok),
            calls
        );
        assert_eq!(memo.len(), Memo::<()>::CAPACITY.min(calls));

        let mut records = Records::default();
        let mut dropped = 0;
        for i in 0..Records::<usize>::CAPACITY + 2 {
            let (index, gone) = records.push(i);
            assert_eq!(index, i);
            dropped += usize::from(gone.is_some());
        }
        assert_eq!(dropped, 2);
        assert_eq!(records.get(1), None);
        assert_eq!(records.get(2), Some(&2));
        assert_eq!(records.total(), Records::<usize>::CAPACITY + 2);
    }

    #[test]
    fn invalid_fault_configs_are_refused() {
        let control = control();
        let nan = FaultConfig {
            transient: f64::NAN,
            ..FaultConfig::NONE
        };
        assert!(control.set_faults(Context::Carrier, nan).is_err());
        assert_eq!(control.fault_plan(), FaultPlan::new());
    }

    mod durable {
        use super::*;
        use crate::bindings::oms::order_management::types::{
            Address, CarrierCode, Money, PaymentMethod,
        };
        use crate::carrier::simulated::ShipmentState;
        use crate::carrier::{CreateShipmentRequest, PackageItem};
        use crate::customer::SendOrderCancellationRequest;
        use crate::inventory::{AllocateStockRequest, StockItem};
        use crate::payment::{ProcessPaymentRequest, RefundPaymentRequest};

        fn usd(amount: u64) -> Money {
            Money {
                amount,
                currency: "USD".to_owned(),
            }
        }

        fn charge(order: &str, amount: u64) -> ProcessPaymentRequest {
            ProcessPaymentRequest {
                order_id: order.to_owned(),
                payment_amount: usd(amount),
                payment_method: PaymentMethod::CreditCard,
                customer_id: "customer-1".to_owned(),
            }
        }

        fn allocate(order: &str, items: &[(&str, u32)]) -> AllocateStockRequest {
            AllocateStockRequest {
                order_id: order.to_owned(),
                stock_items: items
                    .iter()
                    .map(|(product, quantity)| StockItem {
                        product_id: (*product).to_owned(),
                        sku: format!("SKU-{product}"),
                        quantity: *quantity,
                    })
                    .collect(),
            }
        }

        fn book(order: &str) -> CreateShipmentRequest {
            CreateShipmentRequest {
                order_id: order.to_owned(),
                carrier: CarrierCode::Dhl,
                shipping_address: Address {
                    street1: "1 Main St".to_owned(),
                    street2: None,
                    city: "Springfield".to_owned(),
                    state_province: "IL".to_owned(),
                    postal_code: "62701".to_owned(),
                    country: "US".to_owned(),
                },
                package_items: vec![PackageItem {
                    product_id: "p1".to_owned(),
                    quantity: 1,
                    weight_grams: None,
                }],
            }
        }

        /// Everything a simulation holds that a restart must not forget.
        fn state(sim: &Simulation) -> String {
            format!(
                "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
                sim.payment.charges(),
                sim.payment.refunds(),
                (
                    sim.inventory.available("p1"),
                    sim.inventory.available("p2"),
                    sim.inventory.available("p3"),
                    sim.inventory.default_stock()
                ),
                sim.inventory.holdings(),
                sim.carrier.shipments(),
                sim.customer.messages(),
                sim.log().entries(),
            )
        }

        #[test]
        fn a_reopened_simulation_answers_every_key_with_its_first_outcome() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("sim.db");
            let clock = Arc::new(ManualClock::new(1_000));
            let first = Simulation::open_durable(5, clock.clone(), &path).unwrap();
            assert_eq!(first.journal_path(), Some(path.as_path()));
            first.inventory.set_default_stock(10);
            first.inventory.set_stock("p2", 3);
            first
                .control
                .set_fault_plan("payment=transient:0.5".parse().unwrap());
            // Transient failures first (drawn), then the charge.
            let paid = loop {
                match first
                    .payment
                    .process_payment("order-1/pay", &charge("order-1", 900))
                {
                    Ok(paid) => break paid,
                    Err(e) => assert!(e.is_transient()),
                }
            };
            first.control.set_fault_plan(FaultPlan::new());
            first
                .control
                .script(Operation::ProcessPayment, [Scripted::Permanent]);
            let declined = first
                .payment
                .process_payment("order-2/pay", &charge("order-2", 500));
            assert!(matches!(declined, Err(ExternalError::Permanent(_))));
            let refund = RefundPaymentRequest {
                transaction_id: paid.transaction_id.clone(),
                refund_amount: usd(400),
                reason: "partly returned".to_owned(),
            };
            first
                .payment
                .refund_payment("order-1/refund", &refund)
                .unwrap();
            first
                .inventory
                .allocate_stock(
                    "order-1/alloc",
                    &allocate("order-1", &[("p1", 4), ("p2", 2)]),
                )
                .unwrap();
            let short = first
                .inventory
                .allocate_stock("order-3/alloc", &allocate("order-3", &[("p2", 5)]));
            assert!(matches!(short, Err(AllocateError::OutOfStock(_))));
            let booked = first
                .carrier
                .create_shipment("order-1/ship", &book("order-1"))
                .unwrap();
            clock.advance(std::time::Duration::from_secs(60));
            let picked = first.carrier.pick_up(&booked.shipment_id).unwrap();
            let cancellation = SendOrderCancellationRequest {
                order_id: "order-2".to_owned(),
                customer_id: "customer-1".to_owned(),
                reason: "payment declined".to_owned(),
            };
            first
                .customer
                .send_order_cancellation("order-2/notice", &cancellation)
                .unwrap();
            // A replayed key is journaled too (it is in the call log).
            first
                .payment
                .process_payment("order-1/pay", &charge("order-1", 900))
                .unwrap();
            let before = state(&first);
            drop(first);

            clock.advance(std::time::Duration::from_secs(3_600));
            let second = Simulation::open_durable(5, clock.clone(), &path).unwrap();
            assert_eq!(state(&second), before);
            assert_eq!(second.inventory.available("p1"), 6);
            assert_eq!(second.inventory.available("p2"), 1);
            assert_eq!(second.inventory.available("p3"), 10);
            assert_eq!(
                second.carrier.shipment(&booked.shipment_id).unwrap().state,
                ShipmentState::PickedUp
            );
            assert_eq!(
                second
                    .carrier
                    .shipment(&booked.shipment_id)
                    .unwrap()
                    .picked_up_event(),
                Some(picked)
            );

            // Every key answers as the first time, with no new effect, even
            // though the time moved on and the script is gone.
            assert_eq!(
                second
                    .payment
                    .process_payment("order-1/pay", &charge("order-1", 900)),
                Ok(paid)
            );
            assert_eq!(
                second
                    .payment
                    .process_payment("order-2/pay", &charge("order-2", 500)),
                declined
            );
            assert_eq!(
                second
                    .inventory
                    .allocate_stock("order-3/alloc", &allocate("order-3", &[("p2", 5)])),
                short
            );
            assert_eq!(
                second
                    .carrier
                    .create_shipment("order-1/ship", &book("order-1")),
                Ok(booked.clone())
            );
            assert!(matches!(
                second.carrier.pick_up(&booked.shipment_id),
                Err(CarrierSimError::WrongState { .. })
            ));
            assert_eq!(second.payment.charges().len(), 1);
            assert_eq!(second.payment.total_refunded(), 400);
            assert_eq!(second.customer.messages().len(), 1);
            assert_eq!(second.inventory.total_held(), 6);

            // Work after the restart is journaled as well.
            second
                .inventory
                .release_stock(
                    "order-1/release",
                    &crate::inventory::ReleaseStockRequest {
                        order_id: "order-1".to_owned(),
                        stock_items: Vec::new(),
                    },
                )
                .unwrap();
            let after = state(&second);
            drop(second);
            let third = Simulation::open_durable(5, clock, &path).unwrap();
            assert_eq!(state(&third), after);
            assert_eq!(third.inventory.available("p1"), 10);
            assert_eq!(third.inventory.total_held(), 0);
        }

        #[test]
        fn a_lost_answer_is_journaled_and_a_reopened_simulation_answers_with_its_effect() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("sim.db");
            let clock = Arc::new(ManualClock::new(1_000));
            let first = Simulation::open_durable(5, clock.clone(), &path).unwrap();
            first
                .control
                .script(Operation::ProcessPayment, [Scripted::Lost]);
            let lost = first
                .payment
                .process_payment("order-1/pay", &charge("order-1", 900));
            assert!(matches!(lost, Err(ExternalError::InDoubt(_))), "{lost:?}");
            assert_eq!(first.payment.charges().len(), 1, "the charge was made");
            let before = state(&first);
            drop(first);
            let second = Simulation::open_durable(5, clock, &path).unwrap();
            assert_eq!(state(&second), before);
            let learnt = second
                .payment
                .process_payment("order-1/pay", &charge("order-1", 900))
                .unwrap();
            assert_eq!(learnt.payment_amount.amount, 900);
            assert_eq!(second.payment.charges().len(), 1, "not charged again");
        }

        #[test]
        fn a_second_open_of_one_state_fails_at_once_naming_the_holder() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("sim.db");
            let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(0));
            let first = Simulation::open_durable(1, clock.clone(), &path).unwrap();
            let error = Simulation::open_durable(1, clock.clone(), &path)
                .err()
                .expect("refused");
            let message = format!("{error:#}");
            assert!(message.contains("is in use"), "{message}");
            assert!(
                message.contains(&format!("pid {}", std::process::id())),
                "{message}"
            );
            drop(first);
            Simulation::open_durable(1, clock, &path).unwrap();
        }

        #[test]
        fn an_in_memory_simulation_has_no_journal() {
            let sim = Simulation::new(1, Arc::new(ManualClock::new(0)));
            assert_eq!(sim.journal_path(), None);
        }

        #[test]
        fn an_event_store_is_not_taken_for_a_simulation_state() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("orders.db");
            let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(0));
            drop(crate::store::SqliteStore::open(&path, clock.clone()).unwrap());
            let error = Simulation::open_durable(1, clock, &path)
                .err()
                .expect("refused");
            assert!(format!("{error:#}").contains("event store"), "{error:#}");
        }

        #[test]
        fn a_journal_that_does_not_replay_is_refused() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("sim.db");
            let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(0));
            let sim = Simulation::open_durable(1, clock.clone(), &path).unwrap();
            sim.payment
                .process_payment("k", &charge("order-1", 100))
                .unwrap();
            drop(sim);
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute("UPDATE sim_journal SET result = 'tampered'", [])
                .unwrap();
            drop(conn);
            let error = Simulation::open_durable(1, clock, &path)
                .err()
                .expect("refused");
            assert!(
                format!("{error:#}").contains("does not replay")
                    || format!("{error:#}").contains("instead of"),
                "{error:#}"
            );
        }
    }
}
