//! [`SimControl`]: what the simulated contexts share (the seed, the clock,
//! the call log, the fault plan and the scripted outcomes, the journal),
//! and the one path every simulated call takes through it
//! ([`SimControl::run`]: idempotency, fault injection, logging and
//! journaling). It knows no context: each simulated backend
//! (`crate::<context>::simulated`) calls into it, never the reverse.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anyhow::{Context as _, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::bounded::Memo;
use super::faults::{Fault, FaultConfig, FaultPlan, FaultSpecError, Scripted, draw};
use super::journal::{Entry, Journal, Source};
use super::log::{CallEntry, CallLog, CallOutcome};
use crate::clock::Clock;
use crate::external::{Context, ExternalError, Operation};

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

/// What applying one journal entry again produced.
pub(crate) enum Replayed {
    /// A call: how it ended and its answer, as they are journaled.
    Call(CallOutcome, String),
    /// A change made by hand (a stock level, a card limit): nothing to
    /// compare.
    Change,
}

impl Replayed {
    /// A replayed call's result.
    pub(crate) fn call<T: Serialize, E: SimFailure + fmt::Display>(result: &Result<T, E>) -> Self {
        Replayed::Call(outcome_of(result), result_text(result))
    }
}

/// A simulated context whose journal entries can be applied again,
/// through the same code that made them.
pub(crate) trait Replay {
    /// Applies `action` of this context with `request` (its journaled
    /// JSON) under `key`; an action it does not know is an error.
    fn replay(&self, action: &str, key: &str, request: &str) -> anyhow::Result<Replayed>;
}

/// The journaled request of an entry, read back.
pub(crate) fn request<R: DeserializeOwned>(request: &str) -> anyhow::Result<R> {
    serde_json::from_str(request).context("the request cannot be read")
}

impl SimControl {
    /// A durable control: its journal at `path` (created if missing), and
    /// the entries already in it, for [`SimControl::replay`].
    pub(crate) fn open_durable(
        seed: u64,
        clock: Arc<dyn Clock>,
        path: &Path,
    ) -> anyhow::Result<(Self, Vec<Entry>)> {
        let journal = Journal::open(path)?;
        let entries = journal.entries()?;
        Ok((Self::build(seed, clock, Some(journal)), entries))
    }

    /// Applies one journal entry again through `backend` (the context that
    /// made it), at its recorded time and with its recorded decision, and
    /// checks that it ends the same way.
    pub(crate) fn replay(&self, entry: &Entry, backend: &dyn Replay) -> anyhow::Result<()> {
        let Some(fault) = parse_fault(&entry.fault) else {
            bail!("unknown fault `{}`", entry.fault);
        };
        self.set_replaying(Some(Replaying {
            now: entry.at,
            fault,
            source: entry.source,
        }));
        let replayed = backend.replay(&entry.action, &entry.key, &entry.request);
        self.set_replaying(None);
        let Replayed::Call(outcome, result) = replayed? else {
            return Ok(());
        };
        if outcome.to_string() != entry.outcome || result != entry.result {
            bail!(
                "it ended `{outcome}: {result}` instead of `{}: {}` (was the file written by another version?)",
                entry.outcome,
                entry.result
            );
        }
        if entry.source != Source::Admin {
            let replayed = self.log().last_replayed();
            if replayed != Some(entry.source == Source::Memo) {
                bail!("the key's remembered outcomes differ from the recorded ones");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::simulation::bounded::Records;

    fn control() -> SimControl {
        SimControl::new(3, Arc::new(ManualClock::new(0)))
    }

    /// A control that answers `op` as `script` says, with an empty memo.
    fn scripted<T, const N: usize>(op: Operation, script: [Scripted; N]) -> (SimControl, Memo<T>)
    where
        Memo<T>: Default,
    {
        let control = control();
        control.script(op, script);
        (control, Memo::default())
    }

    /// 200 payments over the keys `k0`..`k49`, each in turn, through one
    /// memo; `effect` runs for every call that takes effect.
    fn charge_fifty_keys_four_times(control: &SimControl, mut effect: impl FnMut()) {
        let mut memo = Memo::default();
        for i in 0..200 {
            let _: Result<(), ExternalError> = control.run(
                Operation::ProcessPayment,
                &format!("k{}", i % 50),
                0,
                &(),
                &mut memo,
                || {
                    effect();
                    Ok(())
                },
            );
        }
    }

    /// The outcome of every logged call, in order.
    fn outcomes(control: &SimControl) -> Vec<CallOutcome> {
        control.log().entries().iter().map(|e| e.outcome).collect()
    }

    /// The call log, a line per call.
    fn log_lines(control: &SimControl) -> Vec<String> {
        control
            .log()
            .entries()
            .iter()
            .map(ToString::to_string)
            .collect()
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
        let (control, mut memo) = scripted(
            Operation::RefundPayment,
            [Scripted::Transient, Scripted::Transient, Scripted::Ok],
        );
        let mut call = || -> Result<&str, ExternalError> {
            control.run(Operation::RefundPayment, "k", 0, &(), &mut memo, || {
                Ok("done")
            })
        };
        assert!(matches!(call(), Err(ExternalError::Transient(_))));
        assert!(matches!(call(), Err(ExternalError::Transient(_))));
        assert_eq!(call(), Ok("done"));
        assert_eq!(call(), Ok("done"));
        let outcomes = log_lines(&control);
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
        let (control, mut memo) = scripted(Operation::CreateShipment, [Scripted::Permanent]);
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
            charge_fifty_keys_four_times(&control, || {});
            outcomes(&control)
        };
        let first = run();
        assert_eq!(first, run());
        assert!(first.contains(&CallOutcome::Transient));
        assert!(first.contains(&CallOutcome::Permanent));
    }

    #[test]
    fn a_lost_answer_takes_effect_answers_in_doubt_and_is_learnt_by_asking_again() {
        let (control, mut memo) = scripted(Operation::ProcessPayment, [Scripted::Lost]);
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
        let log = log_lines(&control);
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
        let (control, mut memo) = scripted(
            Operation::CreateShipment,
            [Scripted::Lost, Scripted::Unavailable, Scripted::Unavailable],
        );
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
            let mut effects = 0;
            charge_fifty_keys_four_times(&control, || effects += 1);
            (outcomes(&control), effects)
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
}
