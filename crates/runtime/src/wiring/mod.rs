//! The one place that builds what the runtime runs on from settings: the
//! store ([`StoreChoice`]), the backends of the external contexts, each
//! simulated or over http ([`backends`]; the four simulated ones share one
//! [`Simulation`]), and a whole running [`Host`]. The CLI, the demo, the
//! examples and the tests all start here, so they run the component the
//! same way. Settings are parsed in [`crate::config`]; nothing there builds
//! a backend.

mod simulation;

pub use simulation::Simulation;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;

use crate::carrier::remote::HttpShippingCarrier;
use crate::clock::Clock;
use crate::config::{BackendChoice, BackendsConfig, ConfigError};
use crate::customer::remote::HttpCustomerService;
use crate::driver::SagaDriver;
use crate::engine::{Runtime, RuntimeConfig};
use crate::external::Context;
use crate::inventory::remote::HttpInventoryService;
use crate::payment::remote::HttpPaymentGateway;
use crate::policy::StorePolicy;
use crate::remote::{HttpBackendConfig, HttpConfigError};
use crate::service::OrderService;
use crate::simulation::FaultPlan;
use crate::state::Backends;
#[cfg(feature = "postgres")]
use crate::store::PostgresStore;
use crate::store::{EventStore, MemoryStore, SqliteOptions, SqliteStore, is_postgres_url};

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
        } else if is_postgres_url(text) {
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
            #[cfg(feature = "postgres")]
            StoreChoice::Postgres(url) => Arc::new(PostgresStore::open(url, clock)?),
            #[cfg(not(feature = "postgres"))]
            StoreChoice::Postgres(_) => anyhow::bail!(
                "this build has no PostgreSQL store: build order-runtime with its `postgres` feature"
            ),
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
        let backends = backends(&options.backends, &sim, store.clone(), options.policy)?;
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

/// A context's backend that cannot be built from its settings: a usage
/// error naming the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct BackendSetupError {
    /// The context whose backend it is.
    pub context: Context,
    /// What is wrong, naming the setting (`backends.<context>...`).
    pub reason: String,
}

impl From<BackendSetupError> for ConfigError {
    fn from(error: BackendSetupError) -> Self {
        ConfigError(error.reason)
    }
}

/// **Where the backends are built from settings.** Each context configured
/// `simulated` is served by its backend in `sim` (the same objects, so the
/// simulation sees every call); each configured `http` by its client
/// (`crate::<context>::remote`, built from its [`BackendChoice::Http`]
/// settings). Contexts mix freely: the payment gateway over http and the
/// rest simulated, for example. Nothing is contacted here; a base URL that
/// could never work is refused, naming the context.
pub fn backends(
    config: &BackendsConfig,
    sim: &Simulation,
    store: Arc<dyn EventStore>,
    policy: StorePolicy,
) -> Result<Backends, BackendSetupError> {
    let simulated = sim.backends(store, policy);
    Ok(Backends {
        payment: served(config, Context::Payment, simulated.payment, |http| {
            Ok(Arc::new(HttpPaymentGateway::new(http)?))
        })?,
        inventory: served(config, Context::Inventory, simulated.inventory, |http| {
            Ok(Arc::new(HttpInventoryService::new(http)?))
        })?,
        carrier: served(config, Context::Carrier, simulated.carrier, |http| {
            Ok(Arc::new(HttpShippingCarrier::new(http)?))
        })?,
        customer: served(config, Context::Customer, simulated.customer, |http| {
            Ok(Arc::new(HttpCustomerService::new(http)?))
        })?,
        ..simulated
    })
}

/// The backend of one context: `simulated` unless it is configured http,
/// then the client `remote` builds.
fn served<T: ?Sized>(
    config: &BackendsConfig,
    context: Context,
    simulated: Arc<T>,
    remote: impl FnOnce(&HttpBackendConfig) -> Result<Arc<T>, HttpConfigError>,
) -> Result<Arc<T>, BackendSetupError> {
    let http = config.http_config(context).map_err(|e| BackendSetupError {
        context,
        reason: e.0,
    })?;
    match http {
        None => Ok(simulated),
        Some(http) => remote(&http).map_err(|e| BackendSetupError {
            context,
            reason: format!("backends.{context}: {e}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::config::{BackendKind, ContextBackend};

    #[test]
    fn http_contexts_are_plugged_in_and_the_rest_stay_simulated() {
        let clock = Arc::new(ManualClock::new(0));
        let sim = Simulation::new(1, clock.clone());
        let store: Arc<dyn EventStore> = Arc::new(MemoryStore::new(clock));
        let simulated = sim.backends(store.clone(), StorePolicy::default());
        let config = BackendsConfig {
            payment: ContextBackend {
                kind: Some(BackendKind::Http),
                base_url: Some("http://127.0.0.1:9/v1".to_owned()),
                ..ContextBackend::default()
            },
            ..BackendsConfig::default()
        };
        let plugged = backends(&config, &sim, store, StorePolicy::default()).unwrap();
        assert!(!Arc::ptr_eq(&plugged.payment, &simulated.payment));
        assert!(Arc::ptr_eq(&plugged.inventory, &simulated.inventory));
        assert!(Arc::ptr_eq(&plugged.carrier, &simulated.carrier));
        assert!(Arc::ptr_eq(&plugged.customer, &simulated.customer));
    }

    #[test]
    fn a_context_whose_settings_cannot_work_is_named() {
        let clock = Arc::new(ManualClock::new(0));
        let sim = Simulation::new(1, clock.clone());
        let config = BackendsConfig {
            carrier: ContextBackend {
                kind: Some(BackendKind::Http),
                base_url: Some("carrier.example.com".to_owned()),
                ..ContextBackend::default()
            },
            ..BackendsConfig::default()
        };
        let error = backends(
            &config,
            &sim,
            Arc::new(MemoryStore::new(clock)),
            StorePolicy::default(),
        )
        .err()
        .unwrap();
        assert_eq!(error.context, Context::Carrier);
        assert!(error.reason.contains("backends.carrier"), "{error}");
        assert!(error.reason.contains("carrier.example.com"), "{error}");
    }
}
