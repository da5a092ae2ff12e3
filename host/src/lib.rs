//! The `order-host` binary's library: the HTTP API ([`http`]), the demo,
//! the load generator, the multi-host simulation and the output for people,
//! over [`order_runtime`]. The runtime's modules are re-exported under their
//! names, so `order_host::engine` is `order_runtime::engine`.

pub mod bench;
pub mod console;
pub mod demo;
pub mod http;
pub mod load;
pub mod simulate;
pub mod text;

pub use order_runtime::*;
