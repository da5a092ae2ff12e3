//! The `order-host` binary's library: the demo, the load generator, the
//! benchmark and the multi-host simulation, over [`order_runtime`] and
//! [`order_server`]. The runtime's modules are re-exported under their
//! names, so `order_host::engine` is `order_runtime::engine`.

pub mod bench;
pub mod demo;
pub mod load;
pub mod simulate;

pub use order_runtime::*;
