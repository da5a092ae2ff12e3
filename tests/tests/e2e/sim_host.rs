//! A seeded simulation over the real component through the host library
//! proves that store faults (conflicts, outages, acknowledgements lost after
//! the write), backend faults (transient, and lost answers that took effect),
//! the saga driver's hold-back and a host
//! restart at any append (a new runtime over the same store and backends)
//! leave nothing behind: every saga finishes, a cancelled order keeps no
//! money, stock or booking, and a kept order is charged once, holds its
//! stock and has one live booking.
//!
//! `SIM_HOST_SEED=n` replays one seed and prints its operations;
//! `SIM_HOST_SECONDS=s` runs seeds for that long (default: 4 s).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use order_e2e::Rng;
use order_host::Simulation;
use order_host::bindings::orders::{CancelOrderCommand, PlaceOrderCommand};
use order_host::bindings::types::OrderStatus;
use order_host::carrier::simulated::ShipmentState;
use order_host::engine::Runtime;
use order_host::simulation::{FaultConfig, FaultPlan};
use order_host::store::{
    AppendBatch, EventStore, MemoryStore, RecordedEvent, SagaTimer, StoreError, StoreStats,
};
use order_host::{Context, ManualClock, OrderService, SagaDriver};

use crate::util::*;

/// What the next append does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AppendFault {
    /// Refused, nothing written.
    Unavailable,
    /// Another writer was first, nothing written.
    Conflict,
    /// Written, then the acknowledgement is lost.
    LostAck,
    /// Written, then the host dies: every call fails until the restart.
    DieAfter,
    /// The host dies before the write.
    DieBefore,
}

struct Faults {
    /// Faults for the coming appends, in order (`None`: a clean append).
    plan: Vec<Option<AppendFault>>,
    next: usize,
    dead: bool,
    /// Appends that got a fault, and of them the host's deaths.
    faulted: u64,
    deaths: u64,
}

/// The memory store with faults injected at appends.
struct FaultyStore {
    inner: MemoryStore,
    faults: Mutex<Faults>,
}

impl FaultyStore {
    fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn alive(&self) -> Result<(), StoreError> {
        if self.faults().dead {
            Err(StoreError::Unavailable("the host has died".into()))
        } else {
            Ok(())
        }
    }
}

impl EventStore for FaultyStore {
    fn load(&self, stream_id: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        self.alive()?;
        self.inner.load(stream_id)
    }

    fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
        self.alive()?;
        self.inner.stream_version(stream_id)
    }

    fn append(&self, batch: &AppendBatch) -> Result<(), StoreError> {
        let fault = {
            let mut f = self.faults();
            if f.dead {
                return Err(StoreError::Unavailable("the host has died".into()));
            }
            let fault = f.plan.get(f.next).copied().flatten();
            f.next += 1;
            f.faulted += u64::from(fault.is_some());
            if matches!(fault, Some(AppendFault::DieAfter | AppendFault::DieBefore)) {
                f.dead = true;
                f.deaths += 1;
            }
            fault
        };
        match fault {
            None => self.inner.append(batch),
            Some(AppendFault::Unavailable) => {
                Err(StoreError::Unavailable("the store is down".into()))
            }
            Some(AppendFault::Conflict) => {
                let s = batch.streams.first();
                Err(StoreError::Conflict {
                    stream_id: s.map(|s| s.stream_id.clone()).unwrap_or_default(),
                    expected: s.map_or(0, |s| s.expected_version),
                    actual: s.map_or(1, |s| s.expected_version + 1),
                })
            }
            Some(AppendFault::LostAck) => {
                self.inner.append(batch)?;
                Err(StoreError::Unavailable(
                    "the acknowledgement was lost".into(),
                ))
            }
            Some(AppendFault::DieAfter) => {
                self.inner.append(batch)?;
                Err(StoreError::Unavailable("the host died".into()))
            }
            Some(AppendFault::DieBefore) => Err(StoreError::Unavailable("the host died".into())),
        }
    }

    fn find_streams(&self, tag: &str) -> Result<Vec<String>, StoreError> {
        self.alive()?;
        self.inner.find_streams(tag)
    }

    fn due_timers(&self, now_ms: u64, limit: usize) -> Result<Vec<SagaTimer>, StoreError> {
        self.alive()?;
        self.inner.due_timers(now_ms, limit)
    }

    fn all_timers(&self) -> Result<Vec<SagaTimer>, StoreError> {
        self.alive()?;
        self.inner.all_timers()
    }

    fn stats(&self) -> Result<StoreStats, StoreError> {
        self.inner.stats()
    }
}

/// One step of a host history.
#[derive(Clone, Copy, Debug)]
enum Step {
    Place(usize),
    Cancel(usize),
    /// One pass of the saga driver (its hold-back applies).
    DriverPass,
    /// One advance of one saga, outside the driver.
    Advance(usize),
    Tick(u64),
    /// The host restarts: a new runtime over the same store and backends.
    Restart,
}

const ORDERS: usize = 3;

struct World {
    clock: Arc<ManualClock>,
    store: Arc<FaultyStore>,
    sim: Arc<Simulation>,
    service: OrderService,
    driver: SagaDriver,
}

fn runtime(store: &Arc<FaultyStore>, sim: &Simulation) -> (OrderService, SagaDriver) {
    let component = order_host::embedded_component()
        .expect("the host embeds the component (run `make build` first)");
    let backends = sim.backends(store.clone(), fast_policy());
    let rt = Arc::new(Runtime::new(component, backends, runtime_config()).expect("runtime"));
    let service = OrderService::new(rt);
    let driver = SagaDriver::new(service.clone()).with_workers(1);
    (service, driver)
}

fn command(seed: u64, i: usize) -> PlaceOrderCommand {
    order(&format!("sim-host-{seed}-{i}"), "sim-host")
}

impl World {
    fn new(seed: u64, plan: Vec<Option<AppendFault>>) -> World {
        let clock = Arc::new(ManualClock::new(START_MS));
        let store = Arc::new(FaultyStore {
            inner: MemoryStore::new(clock.clone()),
            faults: Mutex::new(Faults {
                plan,
                next: 0,
                dead: false,
                faulted: 0,
                deaths: 0,
            }),
        });
        let sim = Arc::new(Simulation::new(seed, clock.clone()));
        let mut faults = FaultPlan::default();
        for c in [Context::Payment, Context::Inventory, Context::Carrier] {
            faults
                .set(
                    c,
                    FaultConfig {
                        transient: 0.15,
                        permanent: 0.0,
                        lost: 0.05,
                        latency: Duration::ZERO,
                    },
                )
                .expect("a valid fault plan");
        }
        sim.control.set_fault_plan(faults);
        sim.inventory.set_default_stock(1_000);
        let (service, driver) = runtime(&store, &sim);
        World {
            clock,
            store,
            sim,
            service,
            driver,
        }
    }

    fn restart(&mut self) {
        self.store.faults().dead = false;
        let (service, driver) = runtime(&self.store, &self.sim);
        self.service = service;
        self.driver = driver;
    }

    fn run(&mut self, seed: u64, step: Step) {
        match step {
            Step::Place(i) => {
                let cmd = command(seed, i);
                let _ = self.service.place_order(&cmd);
            }
            Step::Cancel(i) => {
                let cancel = CancelOrderCommand {
                    order_id: command(seed, i).order_id,
                    reason: "changed my mind".to_string(),
                    cancelled_by: "sim".to_string(),
                };
                let _ = self.service.cancel_order(&cancel);
            }
            Step::DriverPass => {
                let _ = self.driver.run_due();
            }
            Step::Advance(i) => {
                let _ = self.driver.advance(&command(seed, i).order_id);
            }
            Step::Tick(ms) => {
                self.clock.advance(Duration::from_millis(ms));
            }
            Step::Restart => self.restart(),
        }
    }

    /// Faults off, a restart, then the driver until no timer is left.
    fn quiesce(&mut self) -> Result<(), String> {
        {
            let mut f = self.store.faults();
            f.plan.clear();
        }
        self.sim.control.set_fault_plan(FaultPlan::default());
        self.restart();
        for _ in 0..200 {
            let timers = self.store.all_timers().map_err(|e| e.to_string())?;
            if timers.is_empty() {
                return Ok(());
            }
            let _ = self.driver.run_due();
            self.clock.advance(Duration::from_millis(1_500));
        }
        Err("every-saga-finishes: timers still set after 200 driver passes".to_string())
    }

    /// The end-state invariants, per order.
    fn check(&self, seed: u64, placed: &[bool]) -> Result<(), String> {
        for (i, _) in placed.iter().enumerate().filter(|(_, p)| **p) {
            let id = command(seed, i).order_id;
            let view = self.service.get_order(&id);
            let Ok(view) = view else {
                // Never acknowledged nor written: nothing may exist for it.
                if !self.sim.payment.charges().iter().any(|c| c.order_id == id) {
                    continue;
                }
                return Err(format!("order {i} was charged but does not exist"));
            };
            let charges: Vec<_> = self
                .sim
                .payment
                .charges()
                .into_iter()
                .filter(|c| c.order_id == id)
                .collect();
            let kept: u64 = charges.iter().map(|c| c.amount.amount - c.refunded).sum();
            let held: u64 = self.sim.inventory.held_by(&id).values().sum();
            let live: Vec<String> = self
                .sim
                .carrier
                .shipments_for_order(&id)
                .into_iter()
                .filter(|s| s.state != ShipmentState::Cancelled)
                .map(|s| s.shipment_id)
                .collect();
            let units: u64 = command(seed, i)
                .items
                .iter()
                .map(|l| u64::from(l.quantity))
                .sum();
            match view.status {
                OrderStatus::Cancelled => {
                    if kept != 0 {
                        return Err(format!(
                            "a-cancelled-order-keeps-no-money: order {i} keeps {kept}"
                        ));
                    }
                    if held != 0 {
                        return Err(format!(
                            "no-stock-held-for-a-cancelled-order: order {i} holds {held}"
                        ));
                    }
                    if !live.is_empty() {
                        return Err(format!(
                            "no-booking-left-for-a-cancelled-order: order {i}: {live:?}"
                        ));
                    }
                }
                OrderStatus::Shipped | OrderStatus::Delivered => {
                    if kept != view.total.amount {
                        return Err(format!(
                            "a-kept-order-is-charged-once: order {i} keeps {kept} of total {}",
                            view.total.amount
                        ));
                    }
                    if held != units {
                        return Err(format!(
                            "a-shipped-order-holds-its-stock: order {i} holds {held} of {units}"
                        ));
                    }
                    if live.len() != 1 {
                        return Err(format!("a-kept-order-has-one-booking: order {i}: {live:?}"));
                    }
                }
                other => {
                    return Err(format!(
                        "a-kept-order-ships: order {i} is {other:?} after its saga ended"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The history of a seed: steps and the faults of the first appends.
fn generate(seed: u64) -> (Vec<Step>, Vec<Option<AppendFault>>) {
    let mut rng = Rng::new(seed ^ 0x0005_EED0_F405);
    let mut steps = vec![Step::Place(0)];
    for _ in 0..12 + rng.below(12) {
        let i = rng.below(ORDERS as u64) as usize;
        steps.push(match rng.below(20) {
            0..=3 => Step::Place(i),
            4..=5 => Step::Cancel(i),
            6..=10 => Step::DriverPass,
            11..=13 => Step::Advance(i),
            14..=17 => Step::Tick([50, 300, 1_100, 2_500][rng.below(4) as usize]),
            _ => Step::Restart,
        });
    }
    let plan = (0..200)
        .map(|_| match rng.below(100) {
            0..=5 => Some(AppendFault::Unavailable),
            6..=10 => Some(AppendFault::Conflict),
            11..=15 => Some(AppendFault::LostAck),
            16..=19 => Some(AppendFault::DieAfter),
            20..=21 => Some(AppendFault::DieBefore),
            _ => None,
        })
        .collect();
    (steps, plan)
}

/// (steps, faulted appends, host deaths) of a seed that passed.
fn run_seed(seed: u64, verbose: bool) -> Result<(usize, u64, u64), String> {
    let (steps, plan) = generate(seed);
    let mut world = World::new(seed, plan);
    let mut placed = [false; ORDERS];
    for step in &steps {
        if let Step::Place(i) = step {
            placed[*i] = true;
        }
        if verbose {
            println!("{step:?}");
        }
        world.run(seed, *step);
    }
    let (faulted, deaths) = {
        let f = world.store.faults();
        (f.faulted, f.deaths)
    };
    world.quiesce()?;
    world.check(seed, &placed)?;
    Ok((steps.len(), faulted, deaths))
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[test]
fn host_histories_with_store_faults_and_restarts_leave_nothing_behind() {
    if let Some(seed) = env_u64("SIM_HOST_SEED") {
        if let Err(e) = run_seed(seed, true) {
            panic!("host simulation seed {seed} breaks {e}");
        }
        return;
    }
    let bound = Duration::from_secs(env_u64("SIM_HOST_SECONDS").unwrap_or(4));
    let started = Instant::now();
    let (mut seeds, mut steps, mut faulted, mut deaths) = (0u64, 0usize, 0u64, 0u64);
    while started.elapsed() < bound {
        let seed = seeds;
        match run_seed(seed, false) {
            Ok((n, f, d)) => {
                steps += n;
                faulted += f;
                deaths += d;
            }
            Err(e) => {
                let (ops, _) = generate(seed);
                panic!(
                    "host simulation seed {seed} breaks {e}\n  steps: {ops:?}\n  replay: SIM_HOST_SEED={seed} cargo test -p order-e2e --test e2e sim_host -- --nocapture"
                );
            }
        }
        seeds += 1;
    }
    println!(
        "host simulation: {seeds} seeds, {steps} steps, {faulted} faulted appends, {deaths} host deaths in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(seeds > 0, "no seed ran");
}
