//! What the application needs from outside: storage, policy, the four
//! external contexts and a clock. The component implements these over its
//! WIT imports; native tests implement them in memory.

use crate::domain::ExternalError;
use crate::domain::saga::SagaPolicy;
use crate::domain::values::{
    Address, CarrierCode, Money, OrderItem, PaymentMethod, ShipmentStatus, Timestamp,
};

/// An event as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    pub stream_id: String,
    pub version: u64,
    pub event_type: String,
    pub payload: String,
    pub recorded_at: Timestamp,
}

/// An event to append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    pub event_type: String,
    pub payload: String,
}

/// Events for one stream, with the version the writer saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamAppend {
    pub stream_id: String,
    pub expected_version: u64,
    pub tags: Vec<String>,
    pub events: Vec<NewEvent>,
    /// The stream's folded state after these events, for the store to keep
    /// as the stream's state record (`None`: the record stays as it is).
    pub state: Option<String>,
}

/// A stream's folded state at one of its versions (WIT `state-record`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredState {
    pub version: u64,
    pub state: String,
}

/// A stream's latest state record, if any, and the events after it (WIT
/// `stream-tail`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamTail {
    pub state: Option<StoredState>,
    pub events: Vec<StoredEvent>,
}

/// One atomic write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppendBatch {
    pub streams: Vec<StreamAppend>,
    /// (saga id, due time; `None` clears the timer).
    pub timers: Vec<(String, Option<Timestamp>)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    Conflict {
        stream_id: String,
        expected: u64,
        actual: u64,
    },
    Unavailable(String),
    Invalid(String),
}

pub trait EventStore {
    fn load(&self, stream_id: &str) -> Result<Vec<StoredEvent>, StoreError>;
    /// The stream's latest state record and the events after it. The
    /// default, for a store that keeps no state records: every event.
    fn load_tail(&self, stream_id: &str) -> Result<StreamTail, StoreError> {
        Ok(StreamTail {
            state: None,
            events: self.load(stream_id)?,
        })
    }
    fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError>;
    fn append(&self, batch: &AppendBatch) -> Result<(), StoreError>;
    fn find_streams(&self, tag: &str) -> Result<Vec<String>, StoreError>;
}

/// The store-wide settings the host configures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorePolicy {
    pub return_window_days: u32,
    pub default_carrier: CarrierCode,
    pub saga: SagaPolicy,
}

pub trait Policy {
    fn policy(&self) -> StorePolicy;
    /// (tax, shipping cost) for the items.
    fn quote(&self, items: &[OrderItem], subtotal: &Money, address: &Address) -> (Money, Money);
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentReceipt {
    pub transaction_id: String,
    pub amount: Money,
    pub processed_at: Timestamp,
}

/// A charge for an order (WIT `process-payment-request`).
#[derive(Clone, Copy, Debug)]
pub struct ChargeRequest<'a> {
    pub order_id: &'a str,
    pub amount: &'a Money,
    pub method: PaymentMethod,
    pub customer_id: &'a str,
}

/// Money given back on a transaction (WIT `refund-payment-request`).
#[derive(Clone, Copy, Debug)]
pub struct RefundRequest<'a> {
    pub transaction_id: &'a str,
    pub amount: &'a Money,
    pub reason: &'a str,
}

/// Every call takes its idempotency key first and its request second, as
/// the WIT functions do: a port's signature is written once, here.
pub trait PaymentGateway {
    fn process_payment(
        &self,
        key: &str,
        req: &ChargeRequest,
    ) -> Result<PaymentReceipt, ExternalError>;
    fn refund_payment(&self, key: &str, req: &RefundRequest) -> Result<(), ExternalError>;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockItem {
    pub product_id: String,
    pub sku: String,
    pub quantity: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unavailable {
    pub product_id: String,
    pub requested: u32,
    pub available: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllocationError {
    OutOfStock(Vec<Unavailable>),
    Failed(ExternalError),
}

/// Stock held or given back for an order (WIT `allocate-stock-request`
/// and `release-stock-request`).
#[derive(Clone, Copy, Debug)]
pub struct StockRequest<'a> {
    pub order_id: &'a str,
    pub items: &'a [StockItem],
}

/// Returned items put back on the shelf (WIT `restock-items-request`).
#[derive(Clone, Copy, Debug)]
pub struct RestockRequest<'a> {
    pub return_id: &'a str,
    pub order_id: &'a str,
    pub items: &'a [StockItem],
}

pub trait InventoryService {
    /// Ok(true) when everything was reserved.
    fn allocate_stock(&self, key: &str, req: &StockRequest) -> Result<bool, AllocationError>;
    fn release_stock(&self, key: &str, req: &StockRequest) -> Result<(), ExternalError>;
    fn restock_items(&self, key: &str, req: &RestockRequest) -> Result<(), ExternalError>;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageItem {
    pub product_id: String,
    pub quantity: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Booking {
    pub shipment_id: String,
    pub carrier: CarrierCode,
    pub tracking_number: String,
    pub estimated_delivery: Option<Timestamp>,
}

/// A parcel to book (WIT `create-shipment-request`).
#[derive(Clone, Copy, Debug)]
pub struct ShipmentRequest<'a> {
    pub order_id: &'a str,
    pub carrier: CarrierCode,
    pub address: &'a Address,
    pub items: &'a [PackageItem],
}

/// A booking to call off (WIT `cancel-shipment-request`).
#[derive(Clone, Copy, Debug)]
pub struct CancelShipmentRequest<'a> {
    pub shipment_id: &'a str,
    pub reason: &'a str,
}

pub trait ShippingCarrier {
    fn create_shipment(&self, key: &str, req: &ShipmentRequest) -> Result<Booking, ExternalError>;
    fn cancel_shipment(&self, key: &str, req: &CancelShipmentRequest) -> Result<(), ExternalError>;
}

/// How urgent a support ticket is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketPriority {
    Low,
    Normal,
    High,
    Urgent,
}

/// The order confirmation (WIT `send-order-confirmation-request`).
#[derive(Clone, Copy, Debug)]
pub struct ConfirmationRequest<'a> {
    pub order_id: &'a str,
    pub customer_id: &'a str,
    pub items: &'a [OrderItem],
    pub total: &'a Money,
    pub tracking_number: Option<&'a str>,
}

/// The cancellation notice (WIT `send-order-cancellation-request`).
#[derive(Clone, Copy, Debug)]
pub struct CancellationRequest<'a> {
    pub order_id: &'a str,
    pub customer_id: &'a str,
    pub reason: &'a str,
}

/// A tracking notice (WIT `send-shipping-update-request`).
#[derive(Clone, Copy, Debug)]
pub struct ShippingUpdateRequest<'a> {
    pub order_id: &'a str,
    pub customer_id: &'a str,
    pub tracking_number: &'a str,
    pub status: ShipmentStatus,
}

/// A ticket for people to act on (WIT `create-support-ticket-request`).
#[derive(Clone, Copy, Debug)]
pub struct TicketRequest<'a> {
    pub order_id: &'a str,
    pub customer_id: &'a str,
    pub issue: &'a str,
    pub priority: TicketPriority,
}

pub trait CustomerService {
    fn send_order_confirmation(
        &self,
        key: &str,
        req: &ConfirmationRequest,
    ) -> Result<(), ExternalError>;
    fn send_order_cancellation(
        &self,
        key: &str,
        req: &CancellationRequest,
    ) -> Result<(), ExternalError>;
    fn send_shipping_update(
        &self,
        key: &str,
        req: &ShippingUpdateRequest,
    ) -> Result<(), ExternalError>;
    fn create_support_ticket(
        &self,
        key: &str,
        req: &TicketRequest,
    ) -> Result<String, ExternalError>;
}

pub trait Clock {
    fn now(&self) -> Timestamp;
}

/// Everything the application talks to.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub store: &'a dyn EventStore,
    pub policy: &'a dyn Policy,
    pub payment: &'a dyn PaymentGateway,
    pub inventory: &'a dyn InventoryService,
    pub carrier: &'a dyn ShippingCarrier,
    pub customer: &'a dyn CustomerService,
    pub clock: &'a dyn Clock,
}
