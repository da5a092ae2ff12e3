//! The requests the tests of the simulated backends send, written once.

use crate::bindings::oms::order_management::types::{Address, CarrierCode, Money, PaymentMethod};
use crate::carrier::{CreateShipmentRequest, PackageItem};
use crate::inventory::{AllocateStockRequest, StockItem};
use crate::payment::ProcessPaymentRequest;

/// `amount` US cents.
pub(crate) fn usd(amount: u64) -> Money {
    Money {
        amount,
        currency: "USD".to_owned(),
    }
}

/// A card charge of `amount` US cents for `order` by `customer-1`.
pub(crate) fn charge(order: &str, amount: u64) -> ProcessPaymentRequest {
    ProcessPaymentRequest {
        order_id: order.to_owned(),
        payment_amount: usd(amount),
        payment_method: PaymentMethod::CreditCard,
        customer_id: "customer-1".to_owned(),
    }
}

/// The `(product, quantity)` items, each with the SKU `SKU-<product>`.
pub(crate) fn stock_items(items: &[(&str, u32)]) -> Vec<StockItem> {
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
pub(crate) fn allocate(order: &str, items: &[(&str, u32)]) -> AllocateStockRequest {
    AllocateStockRequest {
        order_id: order.to_owned(),
        stock_items: stock_items(items),
    }
}

/// A booking with `carrier` of one parcel of product `p1` for `order`.
pub(crate) fn book(
    order: &str,
    carrier: CarrierCode,
    weight_grams: Option<u32>,
) -> CreateShipmentRequest {
    CreateShipmentRequest {
        order_id: order.to_owned(),
        carrier,
        shipping_address: Address {
            street1: "1 Main St".to_owned(),
            street2: None,
            city: "Springfield".to_owned(),
            state_province: "IL".to_owned(),
            postal_code: "62701".to_owned(),
            country: "US".to_owned(),
        },
        package_items: vec![PackageItem {
            product_id: "p1".to_owned(),
            quantity: 1,
            weight_grams,
        }],
    }
}
