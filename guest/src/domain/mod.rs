//! The order-management domain as plain Rust: no I/O, no wasm. Commands are
//! decided (`decide_*`: state + command -> events or error) and state evolves
//! by applying events (`apply`/`fold`).

pub mod cases;
pub mod codec;
pub mod error;
pub mod metrics;
pub mod order;
pub mod returns;
pub mod saga;
pub mod shipment;
pub mod values;

pub use error::{DomainError, DomainResult, Entity, ExternalError};
