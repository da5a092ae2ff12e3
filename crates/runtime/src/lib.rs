//! The runtime of the order-management component: a synchronous wasmtime
//! embedding that serves the component's imports (event storage, store
//! policy, payment, inventory, carrier, customer service) from pluggable
//! backends and calls its exports through a typed service. What an embedder
//! needs, and nothing of HTTP serving or the CLI.
//!
//! - [`engine`]: [`Runtime`] (engine, compiled component, linker) and the
//!   per-request [`Session`].
//! - [`service`]: [`OrderService`], one typed method per export.
//! - [`state`]: the per-store [`HostState`], the shared [`Backends`], and
//!   the linking of every import.
//! - [`store`]: the [`EventStore`] trait with in-memory, SQLite and
//!   PostgreSQL backends.
//! - [`payment`], [`inventory`], [`carrier`], [`customer`]: one trait per
//!   external context, its import on its own view, a simulated and an http
//!   backend; [`simulation`] holds what the simulated ones share;
//!   [`http_client`] what the http ones share.
//! - [`policy`]: [`StorePolicy`], pricing and retry settings.
//! - [`driver`]: the saga driver.
//! - [`config`]: settings (file, environment, flags) and the wiring of
//!   backends from them; [`host`]: a runtime, service and driver built from
//!   settings.
//! - [`clock`]: the one source of time, manual in tests.
//! - [`bindings`]: the Rust types generated from the WIT world.

pub mod bindings;
pub mod carrier;
pub mod clock;
pub mod config;
pub mod customer;
pub mod driver;
pub mod engine;
pub mod external;
pub mod host;
pub mod http_client;
pub mod inventory;
pub mod lockfile;
pub mod payment;
pub mod policy;
pub mod service;
pub mod simulation;
pub mod state;
pub mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use driver::{DriverReport, SagaDriver};
pub use engine::{CacheOutcome, CompileCache, Runtime, RuntimeConfig, Session};
pub use external::{Context, ExternalError, Operation};
pub use host::{Host, HostOptions, StoreChoice};
pub use policy::StorePolicy;
pub use service::{OrderService, ServiceError};
pub use simulation::Simulation;
pub use state::{Backends, HostState};
pub use store::{EventStore, MemoryStore, PostgresStore, SqliteStore, StoreOpenError};

/// The component built by `make build`, embedded at compile time; empty
/// when the host was built before the component (see `build.rs`).
pub const EMBEDDED_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/order_core.wasm"));

/// The embedded component, or an error saying how to get one.
pub fn embedded_component() -> anyhow::Result<&'static [u8]> {
    if EMBEDDED_COMPONENT.is_empty() {
        anyhow::bail!(
            "the component is not built into this binary: run `make build` first (or pass --component PATH)"
        );
    }
    Ok(EMBEDDED_COMPONENT)
}
