//! The JSON shapes of the HTTP API: field names in snake_case, enumeration
//! values in the WIT's kebab-case (`credit-card`, `awaiting-pickup`), money
//! in integer minor units, times in milliseconds since the Unix epoch (UTC).
//!
//! Each type mirrors a WIT record and converts to or from the generated
//! binding type with `From`, here and nowhere else. Request bodies reject
//! unknown fields, so a misspelt field is a 400 naming it rather than a
//! silently ignored value.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::bindings::fulfillment_saga as saga;
use crate::bindings::inventory_service as inventory;
use crate::bindings::payment_gateway as payment;
use crate::bindings::shipping_carrier as carrier;
use crate::bindings::types as wit;
use crate::bindings::{orders, queries, returns, shipments};

/// Declares a kebab-case enumeration mirroring a WIT enum, with `From` both ways.
macro_rules! wit_enum {
    ($(#[$meta:meta])* $name:ident <=> $wit:ty { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl From<$name> for $wit {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => <$wit>::$variant),+
                }
            }
        }

        impl From<$wit> for $name {
            fn from(value: $wit) -> Self {
                match value {
                    $(<$wit>::$variant => $name::$variant),+
                }
            }
        }
    };
}

wit_enum! {
    /// How the customer pays.
    PaymentMethod <=> wit::PaymentMethod {
        CreditCard, DebitCard, Paypal, BankTransfer, GiftCard,
    }
}

wit_enum! {
    /// A carrier.
    CarrierCode <=> wit::CarrierCode { Ups, Fedex, Usps, Dhl, OtherCarrier }
}

wit_enum! {
    /// Why an item comes back.
    ReturnReason <=> wit::ReturnReason {
        Defective, WrongItem, NotAsDescribed, NoLongerNeeded, ArrivedTooLate, OtherReason,
    }
}

wit_enum! {
    /// Where a refund stands.
    RefundStatus <=> wit::RefundStatus { Pending, Approved, Processed, Denied }
}

wit_enum! {
    /// The states of an order.
    OrderStatus <=> wit::OrderStatus {
        Draft, Pending, Confirmed, Shipped, Delivered, Cancelled, Returned,
    }
}

wit_enum! {
    /// The statuses of a shipment's tracking history.
    ShipmentStatus <=> wit::ShipmentStatus {
        AwaitingPickup, PickedUp, InTransit, OutForDelivery, Delivered, DeliveryFailed,
        ReturnedToSender,
    }
}

wit_enum! {
    /// The states of a shipment.
    ShipmentState <=> wit::ShipmentState { Active, DeliveryComplete, DeliveryFailed }
}

wit_enum! {
    /// The statuses of a return.
    ReturnStatus <=> wit::ReturnStatus {
        Requested, Approved, Shipped, Received, Refunded, Denied, Closed,
    }
}

wit_enum! {
    /// The steps of the fulfilment saga.
    SagaStep <=> saga::SagaStep { ProcessPayment, AllocateInventory, CreateShipment, NotifyCustomer }
}

wit_enum! {
    /// Where one saga step stands.
    StepStatus <=> saga::StepStatus { Pending, Retrying, Completed, Failed, Compensated, Skipped }
}

wit_enum! {
    /// The saga's phase.
    SagaPhase <=> saga::SagaPhase { Scheduled, Running, Compensating, Finished }
}

// --- shared records ---------------------------------------------------------

/// An amount in integer minor units (cents for USD) with its ISO 4217
/// currency; 0 <= amount <= 9,999,999,999. An absent or empty currency is USD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Money {
    /// Minor units.
    #[schema(example = 1250)]
    pub amount: u64,
    /// ISO 4217 code, three letters.
    #[serde(default)]
    #[schema(example = "USD")]
    pub currency: String,
}

impl From<Money> for wit::Money {
    fn from(m: Money) -> Self {
        Self {
            amount: m.amount,
            currency: m.currency,
        }
    }
}

impl From<wit::Money> for Money {
    fn from(m: wit::Money) -> Self {
        Self {
            amount: m.amount,
            currency: m.currency,
        }
    }
}

/// A postal address; bounds are inclusive and counted in characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// 1..=100.
    pub street1: String,
    /// 1..=100 when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street2: Option<String>,
    /// 1..=50.
    pub city: String,
    /// 1..=50.
    pub state_province: String,
    /// 1..=20.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 or alpha-3.
    #[schema(example = "US")]
    pub country: String,
}

impl From<Address> for wit::Address {
    fn from(a: Address) -> Self {
        Self {
            street1: a.street1,
            street2: a.street2,
            city: a.city,
            state_province: a.state_province,
            postal_code: a.postal_code,
            country: a.country,
        }
    }
}

impl From<wit::Address> for Address {
    fn from(a: wit::Address) -> Self {
        Self {
            street1: a.street1,
            street2: a.street2,
            city: a.city,
            state_province: a.state_province,
            postal_code: a.postal_code,
            country: a.country,
        }
    }
}

/// One line of an order as the caller gives it; its total is computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderItemInput {
    /// Line id (UUID), unique within the order.
    pub item_id: String,
    /// Product (UUID).
    pub product_id: String,
    /// 1..=50 characters.
    pub sku: String,
    /// 1..=200 characters.
    pub product_name: String,
    /// > 0.
    pub quantity: u32,
    /// Price of one unit.
    pub unit_price: Money,
}

impl From<OrderItemInput> for wit::OrderItemInput {
    fn from(i: OrderItemInput) -> Self {
        Self {
            item_id: i.item_id,
            product_id: i.product_id,
            sku: i.sku,
            product_name: i.product_name,
            quantity: i.quantity,
            unit_price: i.unit_price.into(),
        }
    }
}

/// One line of an order as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderItem {
    pub item_id: String,
    pub product_id: String,
    pub sku: String,
    pub product_name: String,
    pub quantity: u32,
    pub unit_price: Money,
    /// quantity x unit_price.
    pub total_price: Money,
}

impl From<wit::OrderItem> for OrderItem {
    fn from(i: wit::OrderItem) -> Self {
        Self {
            item_id: i.item_id,
            product_id: i.product_id,
            sku: i.sku,
            product_name: i.product_name,
            quantity: i.quantity,
            unit_price: i.unit_price.into(),
            total_price: i.total_price.into(),
        }
    }
}

fn all<A, B: From<A>>(items: Vec<A>) -> Vec<B> {
    items.into_iter().map(B::from).collect()
}

// --- orders -----------------------------------------------------------------

/// `POST /orders`: place an order, or with `"draft": true` open a cart
/// (`create-draft`) in which any of the addresses and the payment method
/// may still be missing. Placing an existing draft's id places the draft.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderRequest {
    /// New order id (UUID) chosen by the caller, so a retried request is
    /// recognised; or the id of a draft to place.
    pub order_id: String,
    /// The customer (UUID).
    pub customer_id: String,
    /// The lines: at least one to place; a draft may start empty.
    #[serde(default)]
    pub items: Vec<OrderItemInput>,
    /// Where to ship; required unless `draft`.
    #[serde(default)]
    pub shipping_address: Option<Address>,
    /// Where to bill; required unless `draft`.
    #[serde(default)]
    pub billing_address: Option<Address>,
    /// How to pay; required unless `draft`.
    #[serde(default)]
    pub payment_method: Option<PaymentMethod>,
    /// Open a draft (cart) instead of placing the order.
    #[serde(default)]
    pub draft: bool,
}

/// What a [`PlaceOrderRequest`] asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// `place-order`.
    Place(orders::PlaceOrderCommand),
    /// `create-draft` (`"draft": true`).
    Draft(orders::CreateDraftCommand),
}

impl PlaceOrderRequest {
    /// The command this request asks for; `Err` names a field required to
    /// place an order (not a draft) that is missing.
    pub fn into_placement(self) -> Result<Placement, &'static str> {
        if self.draft {
            return Ok(Placement::Draft(orders::CreateDraftCommand {
                order_id: self.order_id,
                customer_id: self.customer_id,
                items: all(self.items),
                shipping_address: self.shipping_address.map(Into::into),
                billing_address: self.billing_address.map(Into::into),
                payment_method: self.payment_method.map(Into::into),
            }));
        }
        Ok(Placement::Place(orders::PlaceOrderCommand {
            shipping_address: self.shipping_address.ok_or("shipping_address")?.into(),
            billing_address: self.billing_address.ok_or("billing_address")?.into(),
            payment_method: self.payment_method.ok_or("payment_method")?.into(),
            order_id: self.order_id,
            customer_id: self.customer_id,
            items: all(self.items),
        }))
    }
}

/// `PATCH /orders/{id}`: edit a draft. Present fields replace the draft's.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDraftRequest {
    /// New lines, replacing all of them.
    #[serde(default)]
    pub items: Option<Vec<OrderItemInput>>,
    #[serde(default)]
    pub shipping_address: Option<Address>,
    #[serde(default)]
    pub billing_address: Option<Address>,
    #[serde(default)]
    pub payment_method: Option<PaymentMethod>,
}

impl UpdateDraftRequest {
    pub fn into_command(self, order_id: String) -> orders::UpdateDraftCommand {
        orders::UpdateDraftCommand {
            order_id,
            items: self.items.map(all),
            shipping_address: self.shipping_address.map(Into::into),
            billing_address: self.billing_address.map(Into::into),
            payment_method: self.payment_method.map(Into::into),
        }
    }
}

/// `POST /orders/{id}/cancel`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelOrderRequest {
    /// Why, 1..=500 characters.
    pub reason: String,
    /// Who cancels, 1..=100 characters.
    pub cancelled_by: String,
}

impl CancelOrderRequest {
    pub fn into_command(self, order_id: String) -> orders::CancelOrderCommand {
        orders::CancelOrderCommand {
            order_id,
            reason: self.reason,
            cancelled_by: self.cancelled_by,
        }
    }
}

/// Payment details once confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PaymentInfo {
    pub transaction_id: String,
    pub amount_paid: Money,
    pub confirmed_at: u64,
}

/// Stock allocation details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AllocationInfo {
    pub all_items_allocated: bool,
    pub allocated_items: Vec<String>,
    pub allocated_at: u64,
}

/// Shipping details once shipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShippingInfo {
    pub shipment_id: String,
    pub carrier: CarrierCode,
    pub tracking_number: String,
    pub shipped_at: u64,
}

/// Delivery details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeliveryInfo {
    pub delivered_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
}

/// Cancellation details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CancellationInfo {
    pub reason: String,
    pub cancelled_by: String,
    pub cancelled_at: u64,
}

/// An order as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Order {
    pub order_id: String,
    pub customer_id: String,
    pub status: OrderStatus,
    pub items: Vec<OrderItem>,
    pub subtotal: Money,
    pub tax: Money,
    pub shipping_cost: Money,
    /// subtotal + tax + shipping_cost.
    pub total: Money,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    pub payment_method: Option<PaymentMethod>,
    pub created_at: u64,
    pub placed_at: Option<u64>,
    pub payment: Option<PaymentInfo>,
    pub allocation: Option<AllocationInfo>,
    pub shipping: Option<ShippingInfo>,
    pub delivery: Option<DeliveryInfo>,
    pub cancellation: Option<CancellationInfo>,
    /// Money refunded so far (returns and cancellation).
    pub refunded: Money,
    /// Things customer service should know.
    pub notes: Vec<String>,
    /// Number of events in the order's stream.
    pub version: u64,
}

impl From<orders::OrderView> for Order {
    fn from(o: orders::OrderView) -> Self {
        Self {
            order_id: o.order_id,
            customer_id: o.customer_id,
            status: o.status.into(),
            items: all(o.items),
            subtotal: o.subtotal.into(),
            tax: o.tax.into(),
            shipping_cost: o.shipping_cost.into(),
            total: o.total.into(),
            shipping_address: o.shipping_address.map(Into::into),
            billing_address: o.billing_address.map(Into::into),
            payment_method: o.payment_method.map(Into::into),
            created_at: o.created_at,
            placed_at: o.placed_at,
            payment: o.payment.map(|p| PaymentInfo {
                transaction_id: p.transaction_id,
                amount_paid: p.amount_paid.into(),
                confirmed_at: p.confirmed_at,
            }),
            allocation: o.allocation.map(|a| AllocationInfo {
                all_items_allocated: a.all_items_allocated,
                allocated_items: a.allocated_items,
                allocated_at: a.allocated_at,
            }),
            shipping: o.shipping.map(|s| ShippingInfo {
                shipment_id: s.shipment_id,
                carrier: s.carrier.into(),
                tracking_number: s.tracking_number,
                shipped_at: s.shipped_at,
            }),
            delivery: o.delivery.map(|d| DeliveryInfo {
                delivered_at: d.delivered_at,
                signed_by: d.signed_by,
            }),
            cancellation: o.cancellation.map(|c| CancellationInfo {
                reason: c.reason,
                cancelled_by: c.cancelled_by,
                cancelled_at: c.cancelled_at,
            }),
            refunded: o.refunded.into(),
            notes: o.notes,
            version: o.version,
        }
    }
}

/// One stored event of an order's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// Position in the stream, from 1.
    pub version: u64,
    /// Kebab-case type, for example `order-placed`.
    pub event_type: String,
    /// The event's body.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// When it was stored.
    pub recorded_at: u64,
}

impl From<queries::HistoryEntry> for HistoryEntry {
    fn from(e: queries::HistoryEntry) -> Self {
        let payload =
            serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::String(e.payload));
        Self {
            version: e.version,
            event_type: e.event_type,
            payload,
            recorded_at: e.recorded_at,
        }
    }
}

// --- the saga ---------------------------------------------------------------

/// One saga step's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StepReport {
    pub step: SagaStep,
    pub status: StepStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// The saga's result so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SagaOutput {
    pub success: bool,
    pub shipment_id: Option<String>,
    pub tracking_number: Option<String>,
    pub error_reason: Option<String>,
}

impl From<saga::SagaOutput> for SagaOutput {
    fn from(o: saga::SagaOutput) -> Self {
        Self {
            success: o.success,
            shipment_id: o.shipment_id,
            tracking_number: o.tracking_number,
            error_reason: o.error_reason,
        }
    }
}

/// How a saga ended, with the state of its compensation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SagaOutcome {
    /// Every step succeeded.
    Completed { output: SagaOutput },
    /// A step failed (or the order was cancelled); all compensations ran.
    Compensated {
        failed_step: SagaStep,
        reason: String,
    },
    /// Compensation is incomplete; the saga keeps retrying what is pending.
    CompensationFailed {
        failed_step: Option<SagaStep>,
        reason: String,
        pending: Vec<String>,
    },
}

impl From<saga::SagaOutcome> for SagaOutcome {
    fn from(o: saga::SagaOutcome) -> Self {
        match o {
            saga::SagaOutcome::Completed(output) => SagaOutcome::Completed {
                output: output.into(),
            },
            saga::SagaOutcome::Compensated(c) => SagaOutcome::Compensated {
                failed_step: c.failed_step.into(),
                reason: c.reason,
            },
            saga::SagaOutcome::CompensationFailed(c) => SagaOutcome::CompensationFailed {
                failed_step: c.failed_step.map(Into::into),
                reason: c.reason,
                pending: c.pending,
            },
        }
    }
}

/// Where an order's fulfilment saga stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SagaReport {
    pub order_id: String,
    pub phase: SagaPhase,
    pub steps: Vec<StepReport>,
    /// When the saga runs again; absent when nothing is due.
    pub next_wake_at: Option<u64>,
    pub output: SagaOutput,
    pub outcome: Option<SagaOutcome>,
    pub notes: Vec<String>,
}

impl From<saga::SagaReport> for SagaReport {
    fn from(r: saga::SagaReport) -> Self {
        Self {
            order_id: r.order_id,
            phase: r.phase.into(),
            steps: r
                .steps
                .into_iter()
                .map(|s| StepReport {
                    step: s.step.into(),
                    status: s.status.into(),
                    attempts: s.attempts,
                    last_error: s.last_error,
                })
                .collect(),
            next_wake_at: r.next_wake_at,
            output: r.output.into(),
            outcome: r.outcome.map(Into::into),
            notes: r.notes,
        }
    }
}

// --- shipments --------------------------------------------------------------

/// One order line in a parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShipmentItem {
    pub item_id: String,
    pub product_id: String,
    pub quantity: u32,
}

/// One entry of a tracking history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TrackingEntry {
    pub status: ShipmentStatus,
    pub location: Option<String>,
    pub timestamp: u64,
    pub description: String,
}

/// A shipment with its tracking history, oldest entry first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Shipment {
    pub shipment_id: String,
    pub order_id: String,
    pub carrier: CarrierCode,
    pub tracking_number: String,
    pub shipping_address: Address,
    pub items: Vec<ShipmentItem>,
    pub state: ShipmentState,
    pub status: ShipmentStatus,
    pub tracking_history: Vec<TrackingEntry>,
    pub created_at: u64,
    pub delivered_at: Option<u64>,
    pub signed_by: Option<String>,
    pub failure_reason: Option<String>,
    pub version: u64,
}

impl From<shipments::ShipmentView> for Shipment {
    fn from(s: shipments::ShipmentView) -> Self {
        Self {
            shipment_id: s.shipment_id,
            order_id: s.order_id,
            carrier: s.carrier.into(),
            tracking_number: s.tracking_number,
            shipping_address: s.shipping_address.into(),
            items: s
                .items
                .into_iter()
                .map(|i| ShipmentItem {
                    item_id: i.item_id,
                    product_id: i.product_id,
                    quantity: i.quantity,
                })
                .collect(),
            state: s.state.into(),
            status: s.status.into(),
            tracking_history: s
                .tracking_history
                .into_iter()
                .map(|t| TrackingEntry {
                    status: t.status.into(),
                    location: t.location,
                    timestamp: t.timestamp,
                    description: t.description,
                })
                .collect(),
            created_at: s.created_at,
            delivered_at: s.delivered_at,
            signed_by: s.signed_by,
            failure_reason: s.failure_reason,
            version: s.version,
        }
    }
}

// --- returns ----------------------------------------------------------------

/// One item coming back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnItem {
    /// The order line (UUID).
    pub item_id: String,
    /// Its product (UUID); must match the line.
    pub product_id: String,
    /// Units returned, > 0.
    pub quantity: u32,
    pub return_reason: ReturnReason,
    /// The customer's description of its condition, 1..=100 characters.
    pub condition: String,
}

impl From<ReturnItem> for returns::ReturnItem {
    fn from(i: ReturnItem) -> Self {
        Self {
            item_id: i.item_id,
            product_id: i.product_id,
            quantity: i.quantity,
            return_reason: i.return_reason.into(),
            condition: i.condition,
        }
    }
}

impl From<returns::ReturnItem> for ReturnItem {
    fn from(i: returns::ReturnItem) -> Self {
        Self {
            item_id: i.item_id,
            product_id: i.product_id,
            quantity: i.quantity,
            return_reason: i.return_reason.into(),
            condition: i.condition,
        }
    }
}

/// `POST /orders/{id}/returns`: ask to return items of a delivered order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestReturnRequest {
    /// New return id (UUID) chosen by the caller.
    pub return_id: String,
    /// The customer; must be the order's.
    pub customer_id: String,
    /// At least one item.
    pub return_items: Vec<ReturnItem>,
    pub return_reason: ReturnReason,
    /// 1..=1000 characters.
    #[serde(default)]
    pub comments: Option<String>,
}

impl RequestReturnRequest {
    pub fn into_command(self, order_id: String) -> returns::RequestReturnCommand {
        returns::RequestReturnCommand {
            return_id: self.return_id,
            order_id,
            customer_id: self.customer_id,
            return_items: all(self.return_items),
            return_reason: self.return_reason.into(),
            comments: self.comments,
        }
    }
}

/// The CLI's `return request -f FILE`: a return request naming its order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestReturnFile {
    pub return_id: String,
    pub order_id: String,
    pub customer_id: String,
    pub return_items: Vec<ReturnItem>,
    pub return_reason: ReturnReason,
    #[serde(default)]
    pub comments: Option<String>,
}

impl From<RequestReturnFile> for returns::RequestReturnCommand {
    fn from(f: RequestReturnFile) -> Self {
        RequestReturnRequest {
            return_id: f.return_id,
            customer_id: f.customer_id,
            return_items: f.return_items,
            return_reason: f.return_reason,
            comments: f.comments,
        }
        .into_command(f.order_id)
    }
}

/// `POST /returns/{id}/approve`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveReturnRequest {
    /// Who approves, 1..=100 characters.
    pub approved_by: String,
    /// The return label (URL or code), 1..=500 characters.
    #[serde(default)]
    pub return_label: Option<String>,
}

impl ApproveReturnRequest {
    pub fn into_command(self, return_id: String) -> returns::ApproveReturnCommand {
        returns::ApproveReturnCommand {
            return_id,
            approved_by: self.approved_by,
            return_label: self.return_label,
        }
    }
}

/// `POST /returns/{id}/deny`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DenyReturnRequest {
    /// Who denies, 1..=100 characters.
    pub denied_by: String,
    /// Why, 1..=500 characters.
    pub reason: String,
}

impl DenyReturnRequest {
    pub fn into_command(self, return_id: String) -> returns::DenyReturnCommand {
        returns::DenyReturnCommand {
            return_id,
            denied_by: self.denied_by,
            reason: self.reason,
        }
    }
}

/// `POST /returns/{id}/ship`: the customer sent the items back.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipReturnRequest {
    pub carrier: CarrierCode,
    /// 1..=100 characters.
    pub tracking_number: String,
}

impl ShipReturnRequest {
    pub fn into_command(self, return_id: String) -> returns::ShipReturnCommand {
        returns::ShipReturnCommand {
            return_id,
            carrier: self.carrier.into(),
            tracking_number: self.tracking_number,
        }
    }
}

/// `POST /returns/{id}/receive`: the warehouse received the items.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveReturnRequest {
    /// When they arrived; now when absent.
    #[serde(default)]
    pub received_at: Option<u64>,
    /// Their condition as inspected, 1..=200 characters.
    pub condition: String,
    /// True restocks the returned units through the inventory service.
    pub all_items_received: bool,
}

impl ReceiveReturnRequest {
    pub fn into_command(self, return_id: String, now_ms: u64) -> returns::ReceiveReturnCommand {
        returns::ReceiveReturnCommand {
            return_id,
            received_at: self.received_at.unwrap_or(now_ms),
            condition: self.condition,
            all_items_received: self.all_items_received,
        }
    }
}

/// `POST /returns/{id}/refund`: refund through the payment gateway.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessRefundRequest {
    /// At least one minor unit, at most what was paid minus what was refunded.
    pub refund_amount: Money,
    pub refund_method: PaymentMethod,
}

impl ProcessRefundRequest {
    pub fn into_command(self, return_id: String) -> returns::ProcessRefundCommand {
        returns::ProcessRefundCommand {
            return_id,
            refund_amount: self.refund_amount.into(),
            refund_method: self.refund_method.into(),
        }
    }
}

/// `POST /returns/{id}/close`: nothing arrived; close without refund.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseReturnRequest {
    /// Why, 1..=500 characters.
    pub reason: String,
}

impl CloseReturnRequest {
    pub fn into_command(self, return_id: String) -> returns::CloseReturnCommand {
        returns::CloseReturnCommand {
            return_id,
            reason: self.reason,
        }
    }
}

/// A return as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Return {
    pub return_id: String,
    pub order_id: String,
    pub customer_id: String,
    pub status: ReturnStatus,
    pub refund_status: RefundStatus,
    pub return_items: Vec<ReturnItem>,
    pub return_reason: ReturnReason,
    pub comments: Option<String>,
    pub requested_at: u64,
    pub decided_by: Option<String>,
    pub decided_at: Option<u64>,
    pub denial_reason: Option<String>,
    pub return_label: Option<String>,
    pub return_tracking_number: Option<String>,
    pub received_at: Option<u64>,
    pub received_condition: Option<String>,
    pub all_items_received: Option<bool>,
    pub refund_amount: Option<Money>,
    pub refund_method: Option<PaymentMethod>,
    pub refunded_at: Option<u64>,
    /// Whether the gateway confirmed the refund (`refund-completed`).
    pub refund_confirmed: bool,
    pub version: u64,
}

impl From<returns::ReturnView> for Return {
    fn from(r: returns::ReturnView) -> Self {
        Self {
            return_id: r.return_id,
            order_id: r.order_id,
            customer_id: r.customer_id,
            status: r.status.into(),
            refund_status: r.refund_status.into(),
            return_items: all(r.return_items),
            return_reason: r.return_reason.into(),
            comments: r.comments,
            requested_at: r.requested_at,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            denial_reason: r.denial_reason,
            return_label: r.return_label,
            return_tracking_number: r.return_tracking_number,
            received_at: r.received_at,
            received_condition: r.received_condition,
            all_items_received: r.all_items_received,
            refund_amount: r.refund_amount.map(Into::into),
            refund_method: r.refund_method.map(Into::into),
            refunded_at: r.refunded_at,
            refund_confirmed: r.refund_confirmed,
            version: r.version,
        }
    }
}

// --- metrics ----------------------------------------------------------------

/// Amounts of one currency in a day's metrics (minor units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CurrencyTotals {
    pub currency: String,
    pub order_count: u32,
    pub total_revenue: u64,
    pub average_order_value: u64,
    pub cancellation_count: u32,
    pub refund_count: u32,
    pub refund_total: u64,
}

/// Metrics of one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DailyMetrics {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub order_count: u32,
    pub cancellation_count: u32,
    pub refund_count: u32,
    /// Per currency, sorted by code.
    pub totals: Vec<CurrencyTotals>,
}

impl From<queries::DailyMetrics> for DailyMetrics {
    fn from(m: queries::DailyMetrics) -> Self {
        Self {
            date: m.date,
            order_count: m.order_count,
            cancellation_count: m.cancellation_count,
            refund_count: m.refund_count,
            totals: m
                .totals
                .into_iter()
                .map(|c| CurrencyTotals {
                    currency: c.currency,
                    order_count: c.order_count,
                    total_revenue: c.total_revenue,
                    average_order_value: c.average_order_value,
                    cancellation_count: c.cancellation_count,
                    refund_count: c.refund_count,
                    refund_total: c.refund_total,
                })
                .collect(),
        }
    }
}

// --- webhook event data -----------------------------------------------------

/// `payment-succeeded`: a charge went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentSucceeded {
    pub transaction_id: String,
    pub order_id: String,
    pub payment_amount: Money,
    pub processed_at: u64,
}

impl From<PaymentSucceeded> for payment::PaymentSucceeded {
    fn from(e: PaymentSucceeded) -> Self {
        Self {
            transaction_id: e.transaction_id,
            order_id: e.order_id,
            payment_amount: e.payment_amount.into(),
            processed_at: e.processed_at,
        }
    }
}

/// `payment-failed`: a charge was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentFailed {
    pub order_id: String,
    pub reason: String,
    pub failed_at: u64,
}

impl From<PaymentFailed> for payment::PaymentFailed {
    fn from(e: PaymentFailed) -> Self {
        Self {
            order_id: e.order_id,
            reason: e.reason,
            failed_at: e.failed_at,
        }
    }
}

/// `refund-completed`: a refund went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundCompleted {
    pub transaction_id: String,
    pub refund_amount: Money,
    pub refunded_at: u64,
}

impl From<RefundCompleted> for payment::RefundCompleted {
    fn from(e: RefundCompleted) -> Self {
        Self {
            transaction_id: e.transaction_id,
            refund_amount: e.refund_amount.into(),
            refunded_at: e.refunded_at,
        }
    }
}

/// `stock-allocated`: stock was reserved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockAllocated {
    pub order_id: String,
    pub all_items_allocated: bool,
    pub allocated_at: u64,
}

impl From<StockAllocated> for inventory::StockAllocated {
    fn from(e: StockAllocated) -> Self {
        Self {
            order_id: e.order_id,
            all_items_allocated: e.all_items_allocated,
            allocated_at: e.allocated_at,
        }
    }
}

/// A product that could not be reserved in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnavailableItem {
    pub product_id: String,
    pub requested_quantity: u32,
    pub available_quantity: u32,
}

/// `stock-allocation-failed`: stock could not be reserved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockAllocationFailed {
    pub order_id: String,
    pub unavailable_items: Vec<UnavailableItem>,
    pub failed_at: u64,
}

impl From<StockAllocationFailed> for inventory::StockAllocationFailed {
    fn from(e: StockAllocationFailed) -> Self {
        Self {
            order_id: e.order_id,
            unavailable_items: e
                .unavailable_items
                .into_iter()
                .map(|i| inventory::UnavailableItem {
                    product_id: i.product_id,
                    requested_quantity: i.requested_quantity,
                    available_quantity: i.available_quantity,
                })
                .collect(),
            failed_at: e.failed_at,
        }
    }
}

/// `shipment-created-by-carrier`: the carrier booked a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentCreatedByCarrier {
    pub shipment_id: String,
    pub order_id: String,
    pub carrier: CarrierCode,
    pub tracking_number: String,
    #[serde(default)]
    pub estimated_delivery: Option<u64>,
    pub created_at: u64,
}

impl From<ShipmentCreatedByCarrier> for carrier::ShipmentCreatedByCarrier {
    fn from(e: ShipmentCreatedByCarrier) -> Self {
        Self {
            shipment_id: e.shipment_id,
            order_id: e.order_id,
            carrier: e.carrier.into(),
            tracking_number: e.tracking_number,
            estimated_delivery: e.estimated_delivery,
            created_at: e.created_at,
        }
    }
}

/// `shipment-picked-up`: the carrier collected the parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentPickedUp {
    pub shipment_id: String,
    #[serde(default)]
    pub location: Option<String>,
    pub picked_up_at: u64,
}

impl From<ShipmentPickedUp> for carrier::ShipmentPickedUp {
    fn from(e: ShipmentPickedUp) -> Self {
        Self {
            shipment_id: e.shipment_id,
            location: e.location,
            picked_up_at: e.picked_up_at,
        }
    }
}

/// `shipment-in-transit`: the parcel moved between facilities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentInTransit {
    pub shipment_id: String,
    #[serde(default)]
    pub current_location: Option<String>,
    pub updated_at: u64,
}

impl From<ShipmentInTransit> for carrier::ShipmentInTransit {
    fn from(e: ShipmentInTransit) -> Self {
        Self {
            shipment_id: e.shipment_id,
            current_location: e.current_location,
            updated_at: e.updated_at,
        }
    }
}

/// `shipment-out-for-delivery`: on the vehicle for final delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentOutForDelivery {
    pub shipment_id: String,
    #[serde(default)]
    pub location: Option<String>,
    pub updated_at: u64,
}

impl From<ShipmentOutForDelivery> for carrier::ShipmentOutForDelivery {
    fn from(e: ShipmentOutForDelivery) -> Self {
        Self {
            shipment_id: e.shipment_id,
            location: e.location,
            updated_at: e.updated_at,
        }
    }
}

/// `shipment-delivered-by-carrier`: the parcel was delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentDeliveredByCarrier {
    pub shipment_id: String,
    pub delivered_at: u64,
    #[serde(default)]
    pub signed_by: Option<String>,
}

impl From<ShipmentDeliveredByCarrier> for carrier::ShipmentDeliveredByCarrier {
    fn from(e: ShipmentDeliveredByCarrier) -> Self {
        Self {
            shipment_id: e.shipment_id,
            delivered_at: e.delivered_at,
            signed_by: e.signed_by,
        }
    }
}

/// `shipment-delivery-failed`: delivery failed for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentDeliveryFailed {
    pub shipment_id: String,
    pub reason: String,
    pub failed_at: u64,
}

impl From<ShipmentDeliveryFailed> for carrier::ShipmentDeliveryFailed {
    fn from(e: ShipmentDeliveryFailed) -> Self {
        Self {
            shipment_id: e.shipment_id,
            reason: e.reason,
            failed_at: e.failed_at,
        }
    }
}

/// `shipment-cancelled`: the carrier cancelled the shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentCancelled {
    pub shipment_id: String,
    pub cancelled_at: u64,
}

impl From<ShipmentCancelled> for carrier::ShipmentCancelled {
    fn from(e: ShipmentCancelled) -> Self {
        Self {
            shipment_id: e.shipment_id,
            cancelled_at: e.cancelled_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumerations_are_kebab_case_like_the_wit() {
        let json = serde_json::to_string(&PaymentMethod::CreditCard).unwrap();
        assert_eq!(json, r#""credit-card""#);
        let json = serde_json::to_string(&ShipmentStatus::AwaitingPickup).unwrap();
        assert_eq!(json, r#""awaiting-pickup""#);
        let code: CarrierCode = serde_json::from_str(r#""other-carrier""#).unwrap();
        assert_eq!(wit::CarrierCode::from(code), wit::CarrierCode::OtherCarrier);
        assert!(serde_json::from_str::<PaymentMethod>(r#""CreditCard""#).is_err());
    }

    #[test]
    fn request_bodies_refuse_unknown_fields() {
        let error = serde_json::from_str::<CancelOrderRequest>(
            r#"{"reason": "r", "cancelled_by": "c", "colour": "red"}"#,
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("unknown field `colour`"),
            "{error}"
        );
    }

    #[test]
    fn an_absent_currency_is_left_for_the_component_to_default() {
        let money: Money = serde_json::from_str(r#"{"amount": 5}"#).unwrap();
        assert_eq!(money.currency, "");
    }
}
