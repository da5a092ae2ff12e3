//! In-process stand-ins for the four external contexts: deterministic under
//! a seed, honouring idempotency keys, with faults and latency on demand and
//! one ordered log of every call.
//!
//! The backends themselves live beside their traits
//! ([`crate::payment::simulated`] and so on); this module holds what they
//! share ([`SimControl`], [`CallLog`], the fault machinery) and
//! [`Simulation`], which builds all four at once.

mod faults;
mod rng;

pub use faults::{FaultConfig, FaultPlan, FaultSpec, FaultSpecError, Scripted};

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use faults::{Fault, draw};

use crate::carrier::simulated::SimulatedCarrier;
use crate::clock::Clock;
use crate::customer::simulated::SimulatedCustomer;
use crate::external::{Context, ExternalError, Operation};
use crate::inventory::AllocateError;
use crate::inventory::simulated::SimulatedInventory;
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
}

impl fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CallOutcome::Ok => "ok",
            CallOutcome::Transient => "transient",
            CallOutcome::Permanent => "permanent",
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

/// The ordered record of every call made to the simulated contexts.
#[derive(Debug, Default)]
pub struct CallLog {
    entries: Mutex<Vec<CallEntry>>,
}

impl CallLog {
    /// Every call so far, oldest first.
    pub fn entries(&self) -> Vec<CallEntry> {
        self.lock().clone()
    }

    /// The calls of one operation, oldest first.
    pub fn calls_to(&self, operation: Operation) -> Vec<CallEntry> {
        self.lock()
            .iter()
            .filter(|e| e.operation == operation)
            .cloned()
            .collect()
    }

    /// How many calls of `operation` ended with `outcome`.
    pub fn count(&self, operation: Operation, outcome: CallOutcome) -> usize {
        self.lock()
            .iter()
            .filter(|e| e.operation == operation && e.outcome == outcome)
            .count()
    }

    /// How many calls were made.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no call was made.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn push(&self, entry: CallEntry) {
        self.lock().push(entry);
    }

    fn lock(&self) -> MutexGuard<'_, Vec<CallEntry>> {
        // Pushing a complete entry cannot leave the log half-written.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
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
}

#[derive(Default)]
struct FaultState {
    plan: FaultPlan,
    scripts: HashMap<Operation, VecDeque<Scripted>>,
    /// Calls per (operation, key) that reached the fault draw, so that each
    /// retry of a key draws afresh but reproducibly.
    attempts: HashMap<(Operation, String), u64>,
}

impl SimControl {
    /// Shared state for simulated contexts seeded with `seed`, telling time by `clock`.
    pub fn new(seed: u64, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(ControlInner {
                seed,
                clock,
                log: CallLog::default(),
                faults: Mutex::new(FaultState::default()),
            }),
        }
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

    pub(crate) fn now_ms(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    /// Sleeps for the context's configured latency. Called before a backend
    /// takes its lock, so that slow calls overlap as they would for real.
    pub(crate) fn pause(&self, context: Context) {
        let latency = self.faults().plan.get(context).latency;
        if !latency.is_zero() {
            std::thread::sleep(latency);
        }
    }

    fn decide(&self, operation: Operation, key: &str) -> Fault {
        let mut state = self.faults();
        if let Some(step) = state
            .scripts
            .get_mut(&operation)
            .and_then(VecDeque::pop_front)
        {
            return step.into();
        }
        let config = state.plan.get(operation.context());
        let attempt = state
            .attempts
            .entry((operation, key.to_owned()))
            .or_insert(0);
        *attempt += 1;
        draw(self.inner.seed, operation, key, *attempt, &config)
    }

    /// Runs one call with idempotency and fault injection: a remembered
    /// outcome for `key` is returned as is; otherwise an injected fault or
    /// `effect` decides, and every outcome but a transient one is remembered
    /// in `memo`. The call is logged either way.
    pub(crate) fn run<T: Clone, E: SimFailure>(
        &self,
        operation: Operation,
        key: &str,
        memo: &mut HashMap<String, Result<T, E>>,
        effect: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        if let Some(previous) = memo.get(key) {
            let previous = previous.clone();
            self.record(operation, key, outcome_of(&previous), true);
            return previous;
        }
        let result = match self.decide(operation, key) {
            Fault::None => effect(),
            Fault::Transient => Err(E::injected(ExternalError::transient(format!(
                "{} {operation} timed out (simulated)",
                operation.context()
            )))),
            Fault::Permanent => Err(E::injected(ExternalError::permanent(format!(
                "{} refused {operation} (simulated)",
                operation.context()
            )))),
        };
        let outcome = outcome_of(&result);
        if outcome != CallOutcome::Transient {
            memo.insert(key.to_owned(), result.clone());
        }
        self.record(operation, key, outcome, false);
        result
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

fn outcome_of<T, E: SimFailure>(result: &Result<T, E>) -> CallOutcome {
    match result {
        Ok(_) => CallOutcome::Ok,
        Err(error) => error.outcome(),
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
    /// starts with [`SimulatedInventory::DEFAULT_STOCK`] units.
    pub fn new(seed: u64, clock: Arc<dyn Clock>) -> Self {
        let control = SimControl::new(seed, clock);
        Self {
            payment: Arc::new(SimulatedPayment::new(control.clone())),
            inventory: Arc::new(SimulatedInventory::new(control.clone())),
            carrier: Arc::new(SimulatedCarrier::new(control.clone())),
            customer: Arc::new(SimulatedCustomer::new(control.clone())),
            control,
        }
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
        let mut memo = HashMap::new();
        let mut effects = 0;
        for _ in 0..3 {
            let result: Result<u32, ExternalError> =
                control.run(Operation::ProcessPayment, "k", &mut memo, || {
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
        let mut memo = HashMap::new();
        let mut call = || -> Result<&str, ExternalError> {
            control.run(Operation::RefundPayment, "k", &mut memo, || Ok("done"))
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
        let mut memo = HashMap::new();
        let mut effects = 0;
        for _ in 0..2 {
            let result: Result<(), ExternalError> =
                control.run(Operation::CreateShipment, "k", &mut memo, || {
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
            let mut memo = HashMap::new();
            for i in 0..200 {
                let _: Result<(), ExternalError> = control.run(
                    Operation::ProcessPayment,
                    &format!("k{}", i % 50),
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
