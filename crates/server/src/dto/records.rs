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

impl From<Money> for wit_types::Money {
    fn from(value: Money) -> Self {
        Self {
            amount: value.amount,
            currency: value.currency,
        }
    }
}

impl From<wit_types::Money> for Money {
    fn from(value: wit_types::Money) -> Self {
        Self {
            amount: value.amount,
            currency: value.currency,
        }
    }
}

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

impl From<Address> for wit_types::Address {
    fn from(value: Address) -> Self {
        Self {
            street1: value.street1,
            street2: value.street2,
            city: value.city,
            state_province: value.state_province,
            postal_code: value.postal_code,
            country: value.country,
        }
    }
}

impl From<wit_types::Address> for Address {
    fn from(value: wit_types::Address) -> Self {
        Self {
            street1: value.street1,
            street2: value.street2,
            city: value.city,
            state_province: value.state_province,
            postal_code: value.postal_code,
            country: value.country,
        }
    }
}

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

impl From<OrderItemInput> for wit_types::OrderItemInput {
    fn from(value: OrderItemInput) -> Self {
        Self {
            item_id: value.item_id,
            product_id: value.product_id,
            sku: value.sku,
            product_name: value.product_name,
            quantity: value.quantity,
            unit_price: value.unit_price.into(),
        }
    }
}

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

impl From<wit_types::OrderItem> for OrderItem {
    fn from(value: wit_types::OrderItem) -> Self {
        Self {
            item_id: value.item_id,
            product_id: value.product_id,
            sku: value.sku,
            product_name: value.product_name,
            quantity: value.quantity,
            unit_price: value.unit_price.into(),
            total_price: value.total_price.into(),
        }
    }
}

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

impl UpdateDraftRequest {
    /// The command, with `order_id` from the route.
    pub fn into_command(self, order_id: String) -> wit_orders::UpdateDraftCommand {
        wit_orders::UpdateDraftCommand {
            order_id,
            items: self.items.map(|v| v.into_iter().map(Into::into).collect()),
            shipping_address: self.shipping_address.map(Into::into),
            billing_address: self.billing_address.map(Into::into),
            payment_method: self.payment_method.map(Into::into),
        }
    }
}

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

impl From<wit_orders::PaymentInfo> for PaymentInfo {
    fn from(value: wit_orders::PaymentInfo) -> Self {
        Self {
            transaction_id: value.transaction_id,
            amount_paid: value.amount_paid.into(),
            confirmed_at: value.confirmed_at,
        }
    }
}

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

impl From<wit_orders::AllocationInfo> for AllocationInfo {
    fn from(value: wit_orders::AllocationInfo) -> Self {
        Self {
            all_items_allocated: value.all_items_allocated,
            allocated_items: value.allocated_items,
            allocated_at: value.allocated_at,
        }
    }
}

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

impl From<wit_orders::ShippingInfo> for ShippingInfo {
    fn from(value: wit_orders::ShippingInfo) -> Self {
        Self {
            shipment_id: value.shipment_id,
            carrier: value.carrier.into(),
            tracking_number: value.tracking_number,
            shipped_at: value.shipped_at,
        }
    }
}

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

impl From<wit_orders::DeliveryInfo> for DeliveryInfo {
    fn from(value: wit_orders::DeliveryInfo) -> Self {
        Self {
            delivered_at: value.delivered_at,
            signed_by: value.signed_by,
        }
    }
}

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

impl From<wit_orders::CancellationInfo> for CancellationInfo {
    fn from(value: wit_orders::CancellationInfo) -> Self {
        Self {
            reason: value.reason,
            cancelled_by: value.cancelled_by,
            cancelled_at: value.cancelled_at,
        }
    }
}

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

impl From<wit_orders::OrderView> for Order {
    fn from(value: wit_orders::OrderView) -> Self {
        Self {
            order_id: value.order_id,
            customer_id: value.customer_id,
            status: value.status.into(),
            items: value.items.into_iter().map(Into::into).collect(),
            subtotal: value.subtotal.into(),
            tax: value.tax.into(),
            shipping_cost: value.shipping_cost.into(),
            total: value.total.into(),
            shipping_address: value.shipping_address.map(Into::into),
            billing_address: value.billing_address.map(Into::into),
            payment_method: value.payment_method.map(Into::into),
            created_at: value.created_at,
            placed_at: value.placed_at,
            payment: value.payment.map(Into::into),
            allocation: value.allocation.map(Into::into),
            shipping: value.shipping.map(Into::into),
            delivery: value.delivery.map(Into::into),
            cancellation: value.cancellation.map(Into::into),
            refunded: value.refunded.into(),
            notes: value.notes,
            version: value.version,
        }
    }
}

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

impl From<wit_shipments::ShipmentItem> for ShipmentItem {
    fn from(value: wit_shipments::ShipmentItem) -> Self {
        Self {
            item_id: value.item_id,
            product_id: value.product_id,
            quantity: value.quantity,
        }
    }
}

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

impl From<wit_shipments::TrackingEntry> for TrackingEntry {
    fn from(value: wit_shipments::TrackingEntry) -> Self {
        Self {
            status: value.status.into(),
            location: value.location,
            timestamp: value.timestamp,
            description: value.description,
        }
    }
}

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

impl From<wit_shipments::ShipmentView> for Shipment {
    fn from(value: wit_shipments::ShipmentView) -> Self {
        Self {
            shipment_id: value.shipment_id,
            order_id: value.order_id,
            carrier: value.carrier.into(),
            tracking_number: value.tracking_number,
            shipping_address: value.shipping_address.into(),
            items: value.items.into_iter().map(Into::into).collect(),
            state: value.state.into(),
            status: value.status.into(),
            tracking_history: value.tracking_history.into_iter().map(Into::into).collect(),
            created_at: value.created_at,
            delivered_at: value.delivered_at,
            signed_by: value.signed_by,
            failure_reason: value.failure_reason,
            version: value.version,
        }
    }
}

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

impl From<ReturnItem> for wit_returns::ReturnItem {
    fn from(value: ReturnItem) -> Self {
        Self {
            item_id: value.item_id,
            product_id: value.product_id,
            quantity: value.quantity,
            return_reason: value.return_reason.into(),
            condition: value.condition,
        }
    }
}

impl From<wit_returns::ReturnItem> for ReturnItem {
    fn from(value: wit_returns::ReturnItem) -> Self {
        Self {
            item_id: value.item_id,
            product_id: value.product_id,
            quantity: value.quantity,
            return_reason: value.return_reason.into(),
            condition: value.condition,
        }
    }
}

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

impl RequestReturnRequest {
    /// The command, with `order_id` from the route.
    pub fn into_command(self, order_id: String) -> wit_returns::RequestReturnCommand {
        wit_returns::RequestReturnCommand {
            return_id: self.return_id,
            order_id,
            customer_id: self.customer_id,
            return_items: self.return_items.into_iter().map(Into::into).collect(),
            return_reason: self.return_reason.into(),
            comments: self.comments,
        }
    }
}

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

impl ShipReturnRequest {
    /// The command, with `return_id` from the route.
    pub fn into_command(self, return_id: String) -> wit_returns::ShipReturnCommand {
        wit_returns::ShipReturnCommand {
            return_id,
            carrier: self.carrier.into(),
            tracking_number: self.tracking_number,
        }
    }
}

/// `POST /returns/{id}/refund`: refund through the payment gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessRefundRequest {
    /// How much, in the order's currency; at most what was paid minus what was refunded.
    pub refund_amount: Money,
    /// How the money goes back.
    pub refund_method: PaymentMethod,
}

impl ProcessRefundRequest {
    /// The command, with `return_id` from the route.
    pub fn into_command(self, return_id: String) -> wit_returns::ProcessRefundCommand {
        wit_returns::ProcessRefundCommand {
            return_id,
            refund_amount: self.refund_amount.into(),
            refund_method: self.refund_method.into(),
        }
    }
}

/// `POST /returns/{id}/close`: nothing arrived; close without refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseReturnRequest {
    /// Why, 1..=500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

impl CloseReturnRequest {
    /// The command, with `return_id` from the route.
    pub fn into_command(self, return_id: String) -> wit_returns::CloseReturnCommand {
        wit_returns::CloseReturnCommand {
            return_id,
            reason: self.reason,
        }
    }
}

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

impl From<wit_returns::ReturnView> for Return {
    fn from(value: wit_returns::ReturnView) -> Self {
        Self {
            return_id: value.return_id,
            order_id: value.order_id,
            customer_id: value.customer_id,
            status: value.status.into(),
            refund_status: value.refund_status.into(),
            return_items: value.return_items.into_iter().map(Into::into).collect(),
            return_reason: value.return_reason.into(),
            comments: value.comments,
            requested_at: value.requested_at,
            decided_by: value.decided_by,
            decided_at: value.decided_at,
            denial_reason: value.denial_reason,
            return_label: value.return_label,
            return_tracking_number: value.return_tracking_number,
            received_at: value.received_at,
            received_condition: value.received_condition,
            all_items_received: value.all_items_received,
            refund_amount: value.refund_amount.map(Into::into),
            refund_method: value.refund_method.map(Into::into),
            refunded_at: value.refunded_at,
            refund_confirmed: value.refund_confirmed,
            version: value.version,
        }
    }
}

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

impl From<wit_saga::StepReport> for StepReport {
    fn from(value: wit_saga::StepReport) -> Self {
        Self {
            step: value.step.into(),
            status: value.status.into(),
            attempts: value.attempts,
            last_error: value.last_error,
        }
    }
}

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

impl From<wit_saga::SagaOutput> for SagaOutput {
    fn from(value: wit_saga::SagaOutput) -> Self {
        Self {
            success: value.success,
            shipment_id: value.shipment_id,
            tracking_number: value.tracking_number,
            error_reason: value.error_reason,
        }
    }
}

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

impl From<wit_saga::SagaReport> for SagaReport {
    fn from(value: wit_saga::SagaReport) -> Self {
        Self {
            order_id: value.order_id,
            phase: value.phase.into(),
            steps: value.steps.into_iter().map(Into::into).collect(),
            next_wake_at: value.next_wake_at,
            output: value.output.into(),
            outcome: value.outcome.map(Into::into),
            notes: value.notes,
        }
    }
}

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

impl From<wit_queries::CurrencyTotals> for CurrencyTotals {
    fn from(value: wit_queries::CurrencyTotals) -> Self {
        Self {
            currency: value.currency,
            order_count: value.order_count,
            total_revenue: value.total_revenue,
            average_order_value: value.average_order_value,
            cancellation_count: value.cancellation_count,
            refund_count: value.refund_count,
            refund_total: value.refund_total,
        }
    }
}

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

impl From<wit_queries::DailyMetrics> for DailyMetrics {
    fn from(value: wit_queries::DailyMetrics) -> Self {
        Self {
            date: value.date,
            order_count: value.order_count,
            cancellation_count: value.cancellation_count,
            refund_count: value.refund_count,
            totals: value.totals.into_iter().map(Into::into).collect(),
        }
    }
}

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

impl From<PaymentSucceeded> for wit_payment::PaymentSucceeded {
    fn from(value: PaymentSucceeded) -> Self {
        Self {
            transaction_id: value.transaction_id,
            order_id: value.order_id,
            payment_amount: value.payment_amount.into(),
            processed_at: value.processed_at,
        }
    }
}

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

impl From<PaymentFailed> for wit_payment::PaymentFailed {
    fn from(value: PaymentFailed) -> Self {
        Self {
            order_id: value.order_id,
            reason: value.reason,
            failed_at: value.failed_at,
        }
    }
}

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

impl From<RefundCompleted> for wit_payment::RefundCompleted {
    fn from(value: RefundCompleted) -> Self {
        Self {
            transaction_id: value.transaction_id,
            refund_amount: value.refund_amount.into(),
            refunded_at: value.refunded_at,
        }
    }
}

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

impl From<StockAllocated> for wit_inventory::StockAllocated {
    fn from(value: StockAllocated) -> Self {
        Self {
            order_id: value.order_id,
            all_items_allocated: value.all_items_allocated,
            allocated_at: value.allocated_at,
        }
    }
}

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

impl From<UnavailableItem> for wit_inventory::UnavailableItem {
    fn from(value: UnavailableItem) -> Self {
        Self {
            product_id: value.product_id,
            requested_quantity: value.requested_quantity,
            available_quantity: value.available_quantity,
        }
    }
}

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

impl From<StockAllocationFailed> for wit_inventory::StockAllocationFailed {
    fn from(value: StockAllocationFailed) -> Self {
        Self {
            order_id: value.order_id,
            unavailable_items: value
                .unavailable_items
                .into_iter()
                .map(Into::into)
                .collect(),
            failed_at: value.failed_at,
        }
    }
}

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

impl From<ShipmentCreatedByCarrier> for wit_carrier::ShipmentCreatedByCarrier {
    fn from(value: ShipmentCreatedByCarrier) -> Self {
        Self {
            shipment_id: value.shipment_id,
            order_id: value.order_id,
            carrier: value.carrier.into(),
            tracking_number: value.tracking_number,
            estimated_delivery: value.estimated_delivery,
            created_at: value.created_at,
        }
    }
}

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

impl From<ShipmentPickedUp> for wit_carrier::ShipmentPickedUp {
    fn from(value: ShipmentPickedUp) -> Self {
        Self {
            shipment_id: value.shipment_id,
            location: value.location,
            picked_up_at: value.picked_up_at,
        }
    }
}

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

impl From<ShipmentInTransit> for wit_carrier::ShipmentInTransit {
    fn from(value: ShipmentInTransit) -> Self {
        Self {
            shipment_id: value.shipment_id,
            current_location: value.current_location,
            updated_at: value.updated_at,
        }
    }
}

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

impl From<ShipmentOutForDelivery> for wit_carrier::ShipmentOutForDelivery {
    fn from(value: ShipmentOutForDelivery) -> Self {
        Self {
            shipment_id: value.shipment_id,
            location: value.location,
            updated_at: value.updated_at,
        }
    }
}

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

impl From<ShipmentDeliveredByCarrier> for wit_carrier::ShipmentDeliveredByCarrier {
    fn from(value: ShipmentDeliveredByCarrier) -> Self {
        Self {
            shipment_id: value.shipment_id,
            delivered_at: value.delivered_at,
            signed_by: value.signed_by,
        }
    }
}

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

impl From<ShipmentDeliveryFailed> for wit_carrier::ShipmentDeliveryFailed {
    fn from(value: ShipmentDeliveryFailed) -> Self {
        Self {
            shipment_id: value.shipment_id,
            reason: value.reason,
            failed_at: value.failed_at,
        }
    }
}

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

impl From<ShipmentCancelled> for wit_carrier::ShipmentCancelled {
    fn from(value: ShipmentCancelled) -> Self {
        Self {
            shipment_id: value.shipment_id,
            cancelled_at: value.cancelled_at,
        }
    }
}
