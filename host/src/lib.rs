//! The host of the order-management component: a synchronous wasmtime
//! embedding that serves the component's imports (event storage, store
//! policy, payment, inventory, carrier, customer service) from pluggable
//! backends and calls its exports.
//!
//! - [`engine`]: [`Runtime`] (engine, compiled component, linker) and the
//!   per-request [`Session`].
//! - [`state`]: the per-store [`HostState`] and the shared [`Backends`].
//! - [`store`]: the [`EventStore`] trait with in-memory and SQLite backends.
//! - [`payment`], [`inventory`], [`carrier`], [`customer`]: one trait per
//!   external context, each with a simulated backend; [`simulation`] builds
//!   all four and holds what they share (call log, faults).
//! - [`policy`]: [`StorePolicy`], pricing and retry settings.
//! - [`clock`]: the one source of time, manual in tests.
//! - [`bindings`]: the Rust types generated from the WIT world.
//! - [`http`]: `order-host serve`, the JSON HTTP API with its webhooks;
//!   [`config`]: the settings of the CLI and the server (file, environment,
//!   flags).
//! - [`text`]: the CLI's output for people.

pub mod bindings;
pub mod carrier;
pub mod clock;
pub mod config;
pub mod customer;
pub mod demo;
pub mod driver;
pub mod engine;
pub mod external;
pub mod host;
pub mod http;
pub mod http_client;
pub mod inventory;
pub mod load;
pub mod lockfile;
pub mod payment;
pub mod policy;
pub mod service;
pub mod simulate;
pub mod simulation;
pub mod state;
pub mod store;
pub mod text;

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
