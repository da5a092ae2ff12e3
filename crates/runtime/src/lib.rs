//! The runtime of the order-management component: a synchronous wasmtime
//! embedding that serves the component's imports (event storage, store
//! policy, payment, inventory, carrier, customer service) from pluggable
//! backends and calls its exports through a typed service. What an embedder
//! needs, and nothing of HTTP serving or the CLI.
//!
//! - [`engine`]: [`Runtime`] (engine, compiled component, linker, a pool of
//!   ready instances) and the [`Session`] that serves calls.
//! - [`service`]: [`OrderService`], one typed method per export.
//! - [`state`]: the per-store [`HostState`], the shared [`Backends`], and
//!   the linking of every import.
//! - [`store`]: the [`EventStore`] trait with in-memory, SQLite and
//!   PostgreSQL backends.
//! - [`payment`], [`inventory`], [`carrier`], [`customer`]: one trait per
//!   external context, its import on its own view, a simulated backend
//!   (`simulated.rs`) and a client of a remote service over http
//!   (`remote.rs`); [`simulation`] holds what the simulated ones share,
//!   [`remote`] what the remote clients share.
//! - [`policy`]: [`StorePolicy`], pricing and retry settings.
//! - [`driver`]: the saga driver.
//! - [`config`]: settings, read from a file, the environment and flags
//!   (nothing is built there); [`wiring`]: the one place that builds the
//!   store and the backends from them, the [`Simulation`] of all four
//!   simulated contexts, and a whole [`Host`] (runtime, service, driver).
//! - [`clock`]: the one source of time, manual in tests.
//! - [`bindings`]: the Rust types generated from the WIT world.

#[macro_use]
mod view;

pub mod bindings;
pub mod carrier;
pub mod clock;
pub mod config;
pub mod customer;
pub mod driver;
pub mod engine;
pub mod external;
pub mod inventory;
pub mod lockfile;
pub mod payment;
pub mod policy;
pub mod remote;
pub mod service;
pub mod simulation;
pub mod state;
pub mod store;
pub mod wiring;

pub use clock::{Clock, ManualClock, SystemClock};
pub use driver::{DriverReport, SagaDriver};
pub use engine::{CacheOutcome, CompileCache, InstanceStats, Runtime, RuntimeConfig, Session};
pub use external::{Context, ExternalError, Operation};
pub use policy::StorePolicy;
pub use service::{OrderService, ServiceError};
pub use state::{Backends, HostState};
#[cfg(feature = "postgres")]
pub use store::PostgresStore;
pub use store::{EventStore, MemoryStore, SqliteStore, StoreOpenError};
pub use wiring::{Host, HostOptions, Simulation, StoreChoice};

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
