//! Assembling a running host from its parts: the component, a store, the
//! backends of the external contexts (simulated, or http per context) and
//! the policy. The CLI, the demo and the tests all start here, so they run
//! the component the same way.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;

use crate::clock::Clock;
use crate::config::{BackendChoice, BackendsConfig, plug_in_backends};
use crate::driver::SagaDriver;
use crate::engine::{Runtime, RuntimeConfig};
use crate::external::Context;
use crate::policy::StorePolicy;
use crate::service::OrderService;
use crate::simulation::{FaultPlan, Simulation};
use crate::store::{EventStore, MemoryStore, PostgresStore, SqliteOptions, SqliteStore};

/// Where events are stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreChoice {
    /// In memory: gone when the process ends.
    Memory,
    /// A SQLite file (see [`HostOptions::create_store`]).
    Sqlite(PathBuf),
    /// A PostgreSQL database (`postgres://user@host/db`) that several hosts
    /// may share; its schema is migrated on open.
    Postgres(String),
}

impl StoreChoice {
    /// `memory`, a `postgres://` URL, or a file path.
    pub fn parse(text: &str) -> Self {
        if text == "memory" {
            StoreChoice::Memory
        } else if PostgresStore::is_url(text) {
            StoreChoice::Postgres(text.to_owned())
        } else {
            StoreChoice::Sqlite(PathBuf::from(text))
        }
    }

    /// Opens the store, creating a missing SQLite file only when `create`.
    pub fn open(&self, clock: Arc<dyn Clock>, create: bool) -> anyhow::Result<Arc<dyn EventStore>> {
        Ok(match self {
            StoreChoice::Memory => Arc::new(MemoryStore::new(clock)),
            StoreChoice::Sqlite(path) => {
                let options = SqliteOptions {
                    create,
                    ..SqliteOptions::default()
                };
                Arc::new(SqliteStore::open_with(path, clock, options)?)
            }
            StoreChoice::Postgres(url) => Arc::new(PostgresStore::open(url, clock)?),
        })
    }
}

/// Everything needed to start a host.
pub struct HostOptions {
    pub store: StoreChoice,
    /// Create a SQLite store that does not exist yet (true by default); when
    /// false a missing file is refused, so a mistyped path creates nothing.
    pub create_store: bool,
    /// The component; `None` uses the one embedded at build time.
    pub component: Option<PathBuf>,
    /// Seed of the simulated backends.
    pub seed: u64,
    /// Faults of the simulated backends (an http context has none).
    pub faults: FaultPlan,
    pub policy: StorePolicy,
    pub clock: Arc<dyn Clock>,
    pub runtime: RuntimeConfig,
    /// Where the simulated backends keep their state (a SQLite file,
    /// created on first use, replayed on start: see
    /// [`Simulation::open_durable`]); `None` keeps it in memory only.
    pub sim_state: Option<PathBuf>,
    /// Which external contexts are simulated and which are served over
    /// http (and where); every context simulated by default.
    pub backends: BackendsConfig,
}

impl HostOptions {
    /// In-memory store, no faults, default policy, the system clock.
    pub fn in_memory() -> Self {
        HostOptions {
            store: StoreChoice::Memory,
            create_store: true,
            component: None,
            seed: 0,
            faults: FaultPlan::default(),
            policy: StorePolicy::default(),
            clock: Arc::new(crate::clock::SystemClock),
            runtime: RuntimeConfig::default(),
            sim_state: None,
            backends: BackendsConfig::default(),
        }
    }
}

/// A running host: the order service over its backends, its saga driver,
/// and the simulation (for inspection and carrier events).
#[derive(Clone)]
pub struct Host {
    pub service: OrderService,
    pub driver: SagaDriver,
    /// The simulated backends of the contexts configured `simulated`. It
    /// always exists, but a context served over http never reaches it: the
    /// simulation's view of that context (its charges, stock, shipments or
    /// messages) is unused and stays empty, and driving it (a simulated
    /// carrier's pickup, for example) concerns nothing the component knows.
    /// See [`Host::is_simulated`].
    pub sim: Arc<Simulation>,
    pub store: Arc<dyn EventStore>,
    pub clock: Arc<dyn Clock>,
    /// Where each external context is served, as started.
    pub backends: BackendsConfig,
}

impl Host {
    pub fn start(options: HostOptions) -> anyhow::Result<Host> {
        options
            .policy
            .validate()
            .context("the store policy is invalid")?;
        let clock = options.clock.clone();
        let store = options.store.open(clock.clone(), options.create_store)?;
        let sim = Arc::new(match &options.sim_state {
            Some(path) => Simulation::open_durable(options.seed, options.clock.clone(), path)
                .with_context(|| format!("opening the simulation state {}", path.display()))?,
            None => Simulation::new(options.seed, options.clock.clone()),
        });
        sim.control.set_fault_plan(options.faults);
        let backends = plug_in_backends(
            &options.backends,
            sim.backends(store.clone(), options.policy),
        )?;
        let bytes;
        let component: &[u8] = match &options.component {
            Some(path) => {
                bytes = std::fs::read(path)
                    .with_context(|| format!("reading the component {}", path.display()))?;
                &bytes
            }
            None => crate::embedded_component()?,
        };
        let runtime = Arc::new(Runtime::new(component, backends, options.runtime)?);
        let service = OrderService::new(runtime);
        Ok(Host {
            driver: SagaDriver::new(service.clone()),
            service,
            sim,
            store,
            clock,
            backends: options.backends,
        })
    }

    /// True when `context` is served by [`Host::sim`], false when over http.
    pub fn is_simulated(&self, context: Context) -> bool {
        matches!(self.backends.choice(context), Ok(BackendChoice::Simulated))
    }
}
