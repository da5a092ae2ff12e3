//! End-to-end tests: the real component, loaded by the host library exactly
//! as `order-host` loads it, with simulated backends behind its imports.
//! One test binary, so wasmtime is linked once.

mod concurrency;
mod driver;
mod fault_matrix;
mod isolation;
mod journeys;
mod read_model;
mod sim_host;
mod util;
