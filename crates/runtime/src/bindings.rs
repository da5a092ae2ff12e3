//! The one place where the WIT world is turned into Rust.
//!
//! Imports are plain (not `trappable`): every failure a backend can have has
//! a WIT error case (`store-error`, `external-error`, `allocation-error`), so
//! a host function never needs to trap the guest. Traps stay reserved for
//! host bugs, as the architecture asks.

wasmtime::component::bindgen!({
    world: "order-management",
    path: "../../wit",
    additional_derives: [PartialEq, Eq, serde::Serialize, serde::Deserialize],
});

/// The exported interfaces, by their WIT names.
pub use exports::oms::order_management::{
    fulfillment_saga, inbound, orders, queries, returns, shipments,
};
/// The imported interfaces and the shared types, by their WIT names.
pub use oms::order_management::{
    customer_service, event_store, events, inventory_service, payment_gateway, policy,
    shipping_carrier, types,
};
