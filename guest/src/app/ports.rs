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

pub trait PaymentGateway {
    fn process_payment(
        &self,
        key: &str,
        order_id: &str,
        amount: &Money,
        method: PaymentMethod,
        customer_id: &str,
    ) -> Result<PaymentReceipt, ExternalError>;
    fn refund_payment(
        &self,
        key: &str,
        transaction_id: &str,
        amount: &Money,
        reason: &str,
    ) -> Result<(), ExternalError>;
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

pub trait InventoryService {
    /// Ok(true) when everything was reserved.
    fn allocate_stock(
        &self,
        key: &str,
        order_id: &str,
        items: &[StockItem],
    ) -> Result<bool, AllocationError>;
    fn release_stock(
        &self,
        key: &str,
        order_id: &str,
        items: &[StockItem],
    ) -> Result<(), ExternalError>;
    fn restock_items(
        &self,
        key: &str,
        return_id: &str,
        order_id: &str,
        items: &[StockItem],
    ) -> Result<(), ExternalError>;
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

pub trait ShippingCarrier {
    fn create_shipment(
        &self,
        key: &str,
        order_id: &str,
        carrier: CarrierCode,
        address: &Address,
        items: &[PackageItem],
    ) -> Result<Booking, ExternalError>;
    fn cancel_shipment(
        &self,
        key: &str,
        shipment_id: &str,
        reason: &str,
    ) -> Result<(), ExternalError>;
}

/// How urgent a support ticket is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketPriority {
    Low,
    Normal,
    High,
    Urgent,
}

pub trait CustomerService {
    fn send_order_confirmation(
        &self,
        key: &str,
        order_id: &str,
        customer_id: &str,
        items: &[OrderItem],
        total: &Money,
        tracking_number: Option<&str>,
    ) -> Result<(), ExternalError>;
    fn send_order_cancellation(
        &self,
        key: &str,
        order_id: &str,
        customer_id: &str,
        reason: &str,
    ) -> Result<(), ExternalError>;
    fn send_shipping_update(
        &self,
        key: &str,
        order_id: &str,
        customer_id: &str,
        tracking_number: &str,
        status: ShipmentStatus,
    ) -> Result<(), ExternalError>;
    fn create_support_ticket(
        &self,
        key: &str,
        order_id: &str,
        customer_id: &str,
        issue: &str,
        priority: TicketPriority,
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
