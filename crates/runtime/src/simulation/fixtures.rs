//! The sample values and requests that tests, examples and the load
//! generator send, written once: a US address, US-cent money, and the
//! requests the tests of the simulated backends make. Plain constructors,
//! no dependencies, so any caller of the runtime may use them.

use crate::bindings::exports::oms::order_management::orders::PlaceOrderCommand;
use crate::bindings::oms::order_management::types::{
    Address, CarrierCode, Money, OrderItemInput, PaymentMethod,
};
use crate::carrier::{CreateShipmentRequest, PackageItem};
use crate::inventory::{AllocateStockRequest, StockItem};
use crate::payment::ProcessPaymentRequest;
use crate::store::{AppendBatch, NewEvent, StreamAppend, TimerChange};

/// The sample address at `street1`, Springfield IL 62701, US.
pub fn address_at(street1: impl Into<String>) -> Address {
    Address {
        street1: street1.into(),
        street2: None,
        city: "Springfield".to_owned(),
        state_province: "IL".to_owned(),
        postal_code: "62701".to_owned(),
        country: "US".to_owned(),
    }
}

/// The sample address: 1 Main St, Springfield IL 62701, US.
pub fn address() -> Address {
    address_at("1 Main St")
}

/// `amount` US cents.
pub fn usd(amount: u64) -> Money {
    Money {
        amount,
        currency: "USD".to_owned(),
    }
}

/// An order `order_id` of two mugs at 12.50 USD, paid by card, shipped
/// to and billed at the sample address.
pub fn place_order(order_id: &str) -> PlaceOrderCommand {
    PlaceOrderCommand {
        order_id: order_id.to_owned(),
        customer_id: "5d1e2f3a-0000-4000-8000-000000000001".to_owned(),
        items: vec![OrderItemInput {
            item_id: "5d1e2f3a-0000-4000-8000-0000000000a1".to_owned(),
            product_id: "5d1e2f3a-0000-4000-8000-0000000000b1".to_owned(),
            sku: "MUG-1".to_owned(),
            product_name: "Mug".to_owned(),
            quantity: 2,
            unit_price: usd(1_250),
        }],
        shipping_address: address(),
        billing_address: address(),
        payment_method: PaymentMethod::CreditCard,
    }
}

/// A new stream of order `order_id` whose one event the component cannot
/// read, with its saga due at `due_at`: every advance of it fails.
pub fn unreadable_order(order_id: &str, due_at: u64) -> AppendBatch {
    AppendBatch {
        streams: vec![StreamAppend {
            stream_id: format!("order-{order_id}"),
            expected_version: 0,
            tags: Vec::new(),
            events: vec![NewEvent {
                event_type: "order-placed".to_owned(),
                payload: "not json".to_owned(),
            }],
            state: None,
        }],
        timers: vec![TimerChange {
            saga_id: order_id.to_owned(),
            due_at: Some(due_at),
        }],
    }
}

/// A card charge of `amount` US cents for `order` by `customer-1`.
pub fn charge(order: &str, amount: u64) -> ProcessPaymentRequest {
    ProcessPaymentRequest {
        order_id: order.to_owned(),
        payment_amount: usd(amount),
        payment_method: PaymentMethod::CreditCard,
        customer_id: "customer-1".to_owned(),
    }
}

/// The `(product, quantity)` items, each with the SKU `SKU-<product>`.
pub fn stock_items(items: &[(&str, u32)]) -> Vec<StockItem> {
    items
        .iter()
        .map(|(product, quantity)| StockItem {
            product_id: (*product).to_owned(),
            sku: format!("SKU-{product}"),
            quantity: *quantity,
        })
        .collect()
}

/// An allocation of `(product, quantity)` items for `order`.
pub fn allocate(order: &str, items: &[(&str, u32)]) -> AllocateStockRequest {
    AllocateStockRequest {
        order_id: order.to_owned(),
        stock_items: stock_items(items),
    }
}

/// A booking with `carrier` of one parcel of product `p1` for `order`.
pub fn book(order: &str, carrier: CarrierCode, weight_grams: Option<u32>) -> CreateShipmentRequest {
    CreateShipmentRequest {
        order_id: order.to_owned(),
        carrier,
        shipping_address: address(),
        package_items: vec![PackageItem {
            product_id: "p1".to_owned(),
            quantity: 1,
            weight_grams,
        }],
    }
}
