// Generated from wit/ by `cargo run -q -p order-e2e --bin wit-docs -- --rust-records --out crates/server/src/dto/records.rs`; do not edit.
//! The WIT records as JSON: snake_case fields, RFC 3339 times, docs from
//! the WIT, conversions to and from the binding types.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::SagaOutcome;
use super::enums::*;
use super::time;

use order_runtime::bindings::fulfillment_saga as wit_saga;
use order_runtime::bindings::inventory_service as wit_inventory;
use order_runtime::bindings::orders as wit_orders;
use order_runtime::bindings::payment_gateway as wit_payment;
use order_runtime::bindings::queries as wit_queries;
use order_runtime::bindings::returns as wit_returns;
use order_runtime::bindings::shipments as wit_shipments;
use order_runtime::bindings::shipping_carrier as wit_carrier;
use order_runtime::bindings::types as wit_types;

/// An amount in integer minor units (cents for USD) with its ISO 4217
/// currency; 0 <= amount <= 9,999,999,999. An absent or empty currency is USD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Money {
    /// Amount in minor units.
    #[schema(example = 1250)]
    #[schema(maximum = 9_999_999_999_u64)]
    pub amount: u64,
    /// ISO 4217 alphabetic code, three upper-case letters (for example `USD`).
    #[serde(default)]
    #[schema(example = "USD")]
    #[schema(pattern = "^([A-Za-z]{3})?$")]
    pub currency: String,
}

by_fields!(impl From<Money> for wit_types::Money {
    amount, currency,
});

by_fields!(impl From<wit_types::Money> for Money {
    amount, currency,
});

/// A postal address. Bounds are inclusive and counted in characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// First street line, 1..=100.
    #[schema(min_length = 1, max_length = 100)]
    pub street1: String,
    /// Second street line, 1..=100 when present.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100)]
    pub street2: Option<String>,
    /// City, 1..=50.
    #[schema(min_length = 1, max_length = 50)]
    pub city: String,
    /// State or province, 1..=50.
    #[schema(min_length = 1, max_length = 50)]
    pub state_province: String,
    /// Postal code, 1..=20.
    #[schema(min_length = 1, max_length = 20)]
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 or alpha-3 country code (2..=3 letters).
    #[schema(example = "US")]
    #[schema(min_length = 2, max_length = 3, pattern = "^[A-Za-z]{2,3}$")]
    pub country: String,
}

by_fields!(impl From<Address> for wit_types::Address {
    street1, street2, city, state_province, postal_code, country,
});

by_fields!(impl From<wit_types::Address> for Address {
    street1, street2, city, state_province, postal_code, country,
});

/// One line of an order as given by the caller. The line total is
/// computed by the component, never taken from input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderItemInput {
    /// Id of the line, unique within the order.
    #[schema(format = "uuid")]
    pub item_id: String,
    /// Product of the line.
    #[schema(format = "uuid")]
    pub product_id: String,
    /// SKU, 1..=50 characters.
    #[schema(min_length = 1, max_length = 50)]
    pub sku: String,
    /// Product name, 1..=200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub product_name: String,
    /// Quantity, > 0.
    #[schema(value_type = i64, minimum = 1, maximum = 4_294_967_295_u32)]
    pub quantity: u32,
    /// Price of one unit.
    pub unit_price: Money,
}

by_fields!(impl From<OrderItemInput> for wit_types::OrderItemInput {
    item_id, product_id, sku, product_name, quantity, unit_price: into,
});

/// One line of an order as stored: `total-price` = quantity x unit-price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderItem {
    /// Id of the line.
    pub item_id: String,
    /// Product of the line.
    pub product_id: String,
    /// SKU.
    pub sku: String,
    /// Product name.
    pub product_name: String,
    /// Quantity ordered.
    pub quantity: u32,
    /// Price of one unit.
    pub unit_price: Money,
    /// quantity x unit-price, computed with overflow checks.
    pub total_price: Money,
}

by_fields!(impl From<wit_types::OrderItem> for OrderItem {
    item_id, product_id, sku, product_name, quantity, unit_price: into, total_price: into,
});

/// `PATCH /orders/{id}`: edit a draft. Present fields replace the draft's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDraftRequest {
    /// New lines, replacing all of them.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub items: Option<Vec<OrderItemInput>>,
    /// New shipping address.
    #[serde(default)]
    pub shipping_address: Option<Address>,
    /// New billing address.
    #[serde(default)]
    pub billing_address: Option<Address>,
    /// New payment method.
    #[serde(default)]
    pub payment_method: Option<PaymentMethod>,
}

by_fields!(impl UpdateDraftRequest {
    pub fn into_command(self, order_id: String) -> wit_orders::UpdateDraftCommand {
        items: map_each, shipping_address: map, billing_address: map, payment_method: map,
    }
});

/// Payment details once confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PaymentInfo {
    /// The gateway's transaction id.
    pub transaction_id: String,
    /// What was paid.
    pub amount_paid: Money,
    /// When the payment was recorded.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub confirmed_at: u64,
}

by_fields!(impl From<wit_orders::PaymentInfo> for PaymentInfo {
    transaction_id, amount_paid: into, confirmed_at,
});

/// Stock allocation details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AllocationInfo {
    /// True when every line is allocated.
    pub all_items_allocated: bool,
    /// The lines allocated.
    pub allocated_items: Vec<String>,
    /// When allocation was recorded.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub allocated_at: u64,
}

by_fields!(impl From<wit_orders::AllocationInfo> for AllocationInfo {
    all_items_allocated, allocated_items, allocated_at,
});

/// Shipping details once shipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShippingInfo {
    /// The shipment.
    pub shipment_id: String,
    /// The carrier.
    pub carrier: CarrierCode,
    /// Its tracking number.
    pub tracking_number: String,
    /// When it was handed over.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub shipped_at: u64,
}

by_fields!(impl From<wit_orders::ShippingInfo> for ShippingInfo {
    shipment_id, carrier: into, tracking_number, shipped_at,
});

/// Delivery details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeliveryInfo {
    /// When.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub delivered_at: u64,
    /// Who signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
}

by_fields!(impl From<wit_orders::DeliveryInfo> for DeliveryInfo {
    delivered_at, signed_by,
});

/// Cancellation details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CancellationInfo {
    /// Why.
    pub reason: String,
    /// Who.
    pub cancelled_by: String,
    /// When.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub cancelled_at: u64,
}

by_fields!(impl From<wit_orders::CancellationInfo> for CancellationInfo {
    reason, cancelled_by, cancelled_at,
});

/// An order as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Order {
    /// The order.
    pub order_id: String,
    /// Its customer.
    pub customer_id: String,
    /// Its state.
    pub status: OrderStatus,
    /// Its lines with computed totals.
    pub items: Vec<OrderItem>,
    /// Sum of the line totals.
    pub subtotal: Money,
    /// Tax from the pricing policy.
    pub tax: Money,
    /// Shipping cost from the pricing policy.
    pub shipping_cost: Money,
    /// subtotal + tax + shipping-cost.
    pub total: Money,
    /// Where to ship (absent only on a draft).
    pub shipping_address: Option<Address>,
    /// Where to bill (absent only on a draft).
    pub billing_address: Option<Address>,
    /// How to pay (absent only on a draft).
    pub payment_method: Option<PaymentMethod>,
    /// When the draft was created, if it started as one.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: u64,
    /// When it was placed.
    #[serde(with = "time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub placed_at: Option<u64>,
    /// Payment, once confirmed.
    pub payment: Option<PaymentInfo>,
    /// Allocation, once recorded.
    pub allocation: Option<AllocationInfo>,
    /// Shipping, once shipped.
    pub shipping: Option<ShippingInfo>,
    /// Delivery, once delivered.
    pub delivery: Option<DeliveryInfo>,
    /// Cancellation, once cancelled.
    pub cancellation: Option<CancellationInfo>,
    /// Money refunded so far (returns and cancellation).
    pub refunded: Money,
    /// Things customer service should know (for example a notification that could not be sent).
    pub notes: Vec<String>,
    /// Number of events in the order's stream.
    pub version: u64,
}

by_fields!(impl From<wit_orders::OrderView> for Order {
    order_id, customer_id, status: into, items: each, subtotal: into, tax: into,
    shipping_cost: into, total: into, shipping_address: map, billing_address: map,
    payment_method: map, created_at, placed_at, payment: map, allocation: map, shipping: map,
    delivery: map, cancellation: map, refunded: into, notes, version,
});

/// One line of the order in the parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShipmentItem {
    /// The order line.
    pub item_id: String,
    /// Its product.
    pub product_id: String,
    /// Units shipped, > 0.
    pub quantity: u32,
}

by_fields!(impl From<wit_shipments::ShipmentItem> for ShipmentItem {
    item_id, product_id, quantity,
});

/// One entry of the tracking history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TrackingEntry {
    /// The status reported.
    pub status: ShipmentStatus,
    /// Where.
    pub location: Option<String>,
    /// When it was recorded.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: u64,
    /// What happened.
    pub description: String,
}

by_fields!(impl From<wit_shipments::TrackingEntry> for TrackingEntry {
    status: into, location, timestamp, description,
});

/// A shipment as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Shipment {
    /// The shipment.
    pub shipment_id: String,
    /// Its order.
    pub order_id: String,
    /// The carrier.
    pub carrier: CarrierCode,
    /// Its tracking number.
    pub tracking_number: String,
    /// Where it goes.
    pub shipping_address: Address,
    /// What is in it.
    pub items: Vec<ShipmentItem>,
    /// Its state.
    pub state: ShipmentState,
    /// Its latest status.
    pub status: ShipmentStatus,
    /// Every status it went through, oldest first.
    pub tracking_history: Vec<TrackingEntry>,
    /// When tracking started.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: u64,
    /// When delivered.
    #[serde(with = "time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<u64>,
    /// Who signed.
    pub signed_by: Option<String>,
    /// Why delivery failed.
    pub failure_reason: Option<String>,
    /// Number of events in the shipment's stream.
    pub version: u64,
}

by_fields!(impl From<wit_shipments::ShipmentView> for Shipment {
    shipment_id, order_id, carrier: into, tracking_number, shipping_address: into, items: each,
    state: into, status: into, tracking_history: each, created_at, delivered_at, signed_by,
    failure_reason, version,
});

/// One item the customer sends back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnItem {
    /// The order line.
    #[schema(format = "uuid")]
    pub item_id: String,
    /// Its product (must match the line).
    #[schema(format = "uuid")]
    pub product_id: String,
    /// Units returned, > 0.
    #[schema(value_type = i64, minimum = 1, maximum = 4_294_967_295_u32)]
    pub quantity: u32,
    /// Why this item comes back.
    pub return_reason: ReturnReason,
    /// Its condition as the customer describes it, 1..=100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub condition: String,
}

by_fields!(impl From<ReturnItem> for wit_returns::ReturnItem {
    item_id, product_id, quantity, return_reason: into, condition,
});

by_fields!(impl From<wit_returns::ReturnItem> for ReturnItem {
    item_id, product_id, quantity, return_reason: into, condition,
});

/// `POST /orders/{id}/returns`: ask to return items of a delivered order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestReturnRequest {
    /// New return id, chosen by the caller.
    #[schema(format = "uuid")]
    pub return_id: String,
    /// The customer (must be the order's).
    #[schema(format = "uuid")]
    pub customer_id: String,
    /// What comes back, at least one item.
    #[schema(min_items = 1)]
    pub return_items: Vec<ReturnItem>,
    /// The overall reason.
    pub return_reason: ReturnReason,
    /// Comments, 1..=1000 characters.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 1000)]
    pub comments: Option<String>,
}

by_fields!(impl RequestReturnRequest {
    pub fn into_command(self, order_id: String) -> wit_returns::RequestReturnCommand {
        return_id, customer_id, return_items: each, return_reason: into, comments,
    }
});

/// `POST /returns/{id}/ship`: the customer sent the items back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipReturnRequest {
    /// The carrier.
    pub carrier: CarrierCode,
    /// Tracking number, 1..=100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub tracking_number: String,
}

by_fields!(impl ShipReturnRequest {
    pub fn into_command(self, return_id: String) -> wit_returns::ShipReturnCommand {
        carrier: into, tracking_number,
    }
});

/// `POST /returns/{id}/refund`: refund through the payment gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessRefundRequest {
    /// How much, in the order's currency; at most what was paid minus what was refunded.
    pub refund_amount: Money,
    /// How the money goes back.
    pub refund_method: PaymentMethod,
}

by_fields!(impl ProcessRefundRequest {
    pub fn into_command(self, return_id: String) -> wit_returns::ProcessRefundCommand {
        refund_amount: into, refund_method: into,
    }
});

/// `POST /returns/{id}/close`: nothing arrived; close without refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseReturnRequest {
    /// Why, 1..=500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

by_fields!(impl CloseReturnRequest {
    pub fn into_command(self, return_id: String) -> wit_returns::CloseReturnCommand {
        reason,
    }
});

/// A return as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Return {
    /// The return.
    pub return_id: String,
    /// Its order.
    pub order_id: String,
    /// The customer.
    pub customer_id: String,
    /// Its status.
    pub status: ReturnStatus,
    /// Where its refund stands.
    pub refund_status: RefundStatus,
    /// What comes back.
    pub return_items: Vec<ReturnItem>,
    /// The overall reason.
    pub return_reason: ReturnReason,
    /// The customer's comments.
    pub comments: Option<String>,
    /// When requested.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub requested_at: u64,
    /// Who approved or denied it.
    pub decided_by: Option<String>,
    /// When approved or denied.
    #[serde(with = "time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<u64>,
    /// Why it was denied or closed.
    pub denial_reason: Option<String>,
    /// The return label.
    pub return_label: Option<String>,
    /// Tracking number of the way back.
    pub return_tracking_number: Option<String>,
    /// When received.
    #[serde(with = "time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub received_at: Option<u64>,
    /// The inspected condition.
    pub received_condition: Option<String>,
    /// Whether everything arrived.
    pub all_items_received: Option<bool>,
    /// The refund amount, once processed.
    pub refund_amount: Option<Money>,
    /// How it was refunded.
    pub refund_method: Option<PaymentMethod>,
    /// When refunded.
    #[serde(with = "time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub refunded_at: Option<u64>,
    /// Whether the gateway confirmed the refund asynchronously (`refund-completed`).
    pub refund_confirmed: bool,
    /// Number of events in the return's stream.
    pub version: u64,
}

by_fields!(impl From<wit_returns::ReturnView> for Return {
    return_id, order_id, customer_id, status: into, refund_status: into, return_items: each,
    return_reason: into, comments, requested_at, decided_by, decided_at, denial_reason,
    return_label, return_tracking_number, received_at, received_condition, all_items_received,
    refund_amount: map, refund_method: map, refunded_at, refund_confirmed, version,
});

/// One step's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StepReport {
    /// The step.
    pub step: SagaStep,
    /// Where it stands.
    pub status: StepStatus,
    /// External calls made for it so far.
    pub attempts: u32,
    /// The last error it saw.
    pub last_error: Option<String>,
}

by_fields!(impl From<wit_saga::StepReport> for StepReport {
    step: into, status: into, attempts, last_error,
});

/// The saga's result, once it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SagaOutput {
    /// True when the order was paid, allocated and shipped.
    pub success: bool,
    /// The shipment, on success.
    pub shipment_id: Option<String>,
    /// Its tracking number, on success.
    pub tracking_number: Option<String>,
    /// Why it failed, on failure.
    pub error_reason: Option<String>,
}

by_fields!(impl From<wit_saga::SagaOutput> for SagaOutput {
    success, shipment_id, tracking_number, error_reason,
});

/// Where a saga stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SagaReport {
    /// The order.
    pub order_id: String,
    /// The phase.
    pub phase: SagaPhase,
    /// Each step, in order.
    pub steps: Vec<StepReport>,
    /// When the host should call `advance` again; none when nothing is due.
    /// The same time the call stored as the saga's timer
    /// (`event-store.saga-timer`), which is the one to follow.
    #[serde(with = "time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_wake_at: Option<u64>,
    /// The result so far.
    pub output: SagaOutput,
    /// Set once finished, or while compensation is failing.
    pub outcome: Option<SagaOutcome>,
    /// Undelivered notifications and other things recorded for people.
    pub notes: Vec<String>,
}

by_fields!(impl From<wit_saga::SagaReport> for SagaReport {
    order_id, phase: into, steps: each, next_wake_at, output: into, outcome: map, notes,
});

/// Amounts of one currency in a day's metrics (minor units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CurrencyTotals {
    /// ISO 4217 code.
    pub currency: String,
    /// Orders placed in this currency.
    pub order_count: u32,
    /// Sum of the totals of the orders placed.
    pub total_revenue: u64,
    /// total-revenue / order-count, rounded half up; 0 without orders.
    pub average_order_value: u64,
    /// Orders cancelled in this currency.
    pub cancellation_count: u32,
    /// Refunds processed in this currency.
    pub refund_count: u32,
    /// Sum of those refunds.
    pub refund_total: u64,
}

by_fields!(impl From<wit_queries::CurrencyTotals> for CurrencyTotals {
    currency, order_count, total_revenue, average_order_value, cancellation_count, refund_count,
    refund_total,
});

/// Metrics of one UTC day, from `order-placed`, `order-cancelled` and
/// `refund-processed` events of that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DailyMetrics {
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    /// Orders placed.
    pub order_count: u32,
    /// Orders cancelled.
    pub cancellation_count: u32,
    /// Refunds processed.
    pub refund_count: u32,
    /// Amounts per currency, sorted by currency code.
    pub totals: Vec<CurrencyTotals>,
}

by_fields!(impl From<wit_queries::DailyMetrics> for DailyMetrics {
    date, order_count, cancellation_count, refund_count, totals: each,
});

/// `payment-succeeded`: a charge went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentSucceeded {
    /// The gateway's id of the charge, 1..=100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub transaction_id: String,
    /// The order paid for.
    #[schema(format = "uuid")]
    pub order_id: String,
    /// The amount charged.
    pub payment_amount: Money,
    /// When the gateway charged.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub processed_at: u64,
}

by_fields!(impl From<PaymentSucceeded> for wit_payment::PaymentSucceeded {
    transaction_id, order_id, payment_amount: into, processed_at,
});

/// `payment-failed`: a charge was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentFailed {
    /// The order concerned.
    #[schema(format = "uuid")]
    pub order_id: String,
    /// Why, as the gateway says it.
    pub reason: String,
    /// When the gateway refused.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub failed_at: u64,
}

by_fields!(impl From<PaymentFailed> for wit_payment::PaymentFailed {
    order_id, reason, failed_at,
});

/// `refund-completed`: a refund went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundCompleted {
    /// The transaction of the original charge.
    #[schema(min_length = 1, max_length = 100)]
    pub transaction_id: String,
    /// The amount given back.
    pub refund_amount: Money,
    /// When the gateway refunded.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub refunded_at: u64,
}

by_fields!(impl From<RefundCompleted> for wit_payment::RefundCompleted {
    transaction_id, refund_amount: into, refunded_at,
});

/// `stock-allocated`: stock was reserved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockAllocated {
    /// The order.
    #[schema(format = "uuid")]
    pub order_id: String,
    /// False when only part could be reserved (the saga treats that as a failure and releases it).
    pub all_items_allocated: bool,
    /// When.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub allocated_at: u64,
}

by_fields!(impl From<StockAllocated> for wit_inventory::StockAllocated {
    order_id, all_items_allocated, allocated_at,
});

/// A product that could not be reserved in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnavailableItem {
    /// The product.
    #[schema(format = "uuid")]
    pub product_id: String,
    /// Units asked for.
    pub requested_quantity: u32,
    /// Units available.
    pub available_quantity: u32,
}

by_fields!(impl From<UnavailableItem> for wit_inventory::UnavailableItem {
    product_id, requested_quantity, available_quantity,
});

/// `stock-allocation-failed`: stock could not be reserved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockAllocationFailed {
    /// The order.
    #[schema(format = "uuid")]
    pub order_id: String,
    /// What is missing.
    pub unavailable_items: Vec<UnavailableItem>,
    /// When.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub failed_at: u64,
}

by_fields!(impl From<StockAllocationFailed> for wit_inventory::StockAllocationFailed {
    order_id, unavailable_items: each, failed_at,
});

/// `shipment-created-by-carrier`: the carrier booked a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentCreatedByCarrier {
    /// The carrier's shipment id.
    pub shipment_id: String,
    /// The order shipped.
    #[schema(format = "uuid")]
    pub order_id: String,
    /// The carrier.
    pub carrier: CarrierCode,
    /// The tracking number, 1..=100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub tracking_number: String,
    /// When the carrier expects to deliver.
    #[serde(default, with = "time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub estimated_delivery: Option<u64>,
    /// When the shipment was booked.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: u64,
}

by_fields!(impl From<ShipmentCreatedByCarrier> for wit_carrier::ShipmentCreatedByCarrier {
    shipment_id, order_id, carrier: into, tracking_number, estimated_delivery, created_at,
});

/// `shipment-picked-up`: the carrier collected the parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentPickedUp {
    /// The shipment.
    pub shipment_id: String,
    /// Where, 1..=200 characters.
    #[serde(default)]
    pub location: Option<String>,
    /// When.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub picked_up_at: u64,
}

by_fields!(impl From<ShipmentPickedUp> for wit_carrier::ShipmentPickedUp {
    shipment_id, location, picked_up_at,
});

/// `shipment-in-transit`: the parcel moved between facilities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentInTransit {
    /// The shipment.
    pub shipment_id: String,
    /// Where it is now, 1..=200 characters.
    #[serde(default)]
    pub current_location: Option<String>,
    /// When the carrier saw it there.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: u64,
}

by_fields!(impl From<ShipmentInTransit> for wit_carrier::ShipmentInTransit {
    shipment_id, current_location, updated_at,
});

/// `shipment-out-for-delivery`: on the vehicle for final delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentOutForDelivery {
    /// The shipment.
    pub shipment_id: String,
    /// Where, 1..=200 characters.
    #[serde(default)]
    pub location: Option<String>,
    /// When.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: u64,
}

by_fields!(impl From<ShipmentOutForDelivery> for wit_carrier::ShipmentOutForDelivery {
    shipment_id, location, updated_at,
});

/// `shipment-delivered-by-carrier`: the parcel was delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentDeliveredByCarrier {
    /// The shipment.
    pub shipment_id: String,
    /// When.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub delivered_at: u64,
    /// Who signed, 1..=100 characters.
    #[serde(default)]
    pub signed_by: Option<String>,
}

by_fields!(impl From<ShipmentDeliveredByCarrier> for wit_carrier::ShipmentDeliveredByCarrier {
    shipment_id, delivered_at, signed_by,
});

/// `shipment-delivery-failed`: delivery failed for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentDeliveryFailed {
    /// The shipment.
    pub shipment_id: String,
    /// Why, 1..=500 characters.
    pub reason: String,
    /// When.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub failed_at: u64,
}

by_fields!(impl From<ShipmentDeliveryFailed> for wit_carrier::ShipmentDeliveryFailed {
    shipment_id, reason, failed_at,
});

/// `shipment-cancelled`: the carrier cancelled the shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentCancelled {
    /// The shipment.
    pub shipment_id: String,
    /// When.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub cancelled_at: u64,
}

by_fields!(impl From<ShipmentCancelled> for wit_carrier::ShipmentCancelled {
    shipment_id, cancelled_at,
});
