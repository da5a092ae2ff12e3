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

impl types::OrderStatus {
    /// The case's name in WIT, as the read model and messages spell it.
    /// The cases are declared in lifecycle order, the order of the read
    /// model's list, so the case's position is its index there.
    pub fn as_str(self) -> &'static str {
        crate::store::read_model::ORDER_STATUSES[self as usize]
    }
}

/// A Rust variant name of the generated bindings as the WIT spells it:
/// `OtherCarrier` -> `other-carrier`.
pub fn kebab_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::kebab_case;
    use super::types::OrderStatus;
    use crate::store::read_model::ORDER_STATUSES;

    #[test]
    fn order_status_names_are_the_read_model_statuses_and_the_wit_cases() {
        use OrderStatus::*;
        let all = [
            Draft, Pending, Confirmed, Shipped, Delivered, Cancelled, Returned,
        ];
        let names: Vec<&str> = all.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ORDER_STATUSES);
        for status in all {
            let debug = format!("{status:?}");
            let variant = debug.rsplit("::").next().unwrap_or(&debug);
            assert_eq!(kebab_case(variant), status.as_str());
        }
    }

    #[test]
    fn a_variant_name_becomes_its_kebab_case_wit_name() {
        assert_eq!(kebab_case("OtherCarrier"), "other-carrier");
        assert_eq!(kebab_case("Ups"), "ups");
    }
}
