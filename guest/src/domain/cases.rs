// Generated from wit/ by `cargo run -q -p order-e2e --bin wit-docs -- --domain-enums --out guest/src/domain/cases.rs`; do not edit.
//! The enumerations the domain shares with the contract, as plain Rust:
//! the WIT's cases in the WIT's order, their kebab-case names in stored
//! events and messages.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How the customer pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PaymentMethod {
    /// A credit card.
    CreditCard,
    /// A debit card.
    DebitCard,
    /// A PayPal account.
    Paypal,
    /// A bank transfer.
    BankTransfer,
    /// A gift card.
    GiftCard,
}

impl PaymentMethod {
    /// Every case, in the WIT's order.
    pub const ALL: [PaymentMethod; 5] = [
        PaymentMethod::CreditCard,
        PaymentMethod::DebitCard,
        PaymentMethod::Paypal,
        PaymentMethod::BankTransfer,
        PaymentMethod::GiftCard,
    ];

    /// The case's name in WIT, in stored events and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::CreditCard => "credit-card",
            PaymentMethod::DebitCard => "debit-card",
            PaymentMethod::Paypal => "paypal",
            PaymentMethod::BankTransfer => "bank-transfer",
            PaymentMethod::GiftCard => "gift-card",
        }
    }
}

impl fmt::Display for PaymentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The carrier that moves a shipment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CarrierCode {
    /// United Parcel Service.
    Ups,
    /// FedEx.
    Fedex,
    /// United States Postal Service.
    Usps,
    /// DHL.
    Dhl,
    /// Any other carrier.
    OtherCarrier,
}

impl CarrierCode {
    /// Every case, in the WIT's order.
    pub const ALL: [CarrierCode; 5] = [
        CarrierCode::Ups,
        CarrierCode::Fedex,
        CarrierCode::Usps,
        CarrierCode::Dhl,
        CarrierCode::OtherCarrier,
    ];

    /// The case's name in WIT, in stored events and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            CarrierCode::Ups => "ups",
            CarrierCode::Fedex => "fedex",
            CarrierCode::Usps => "usps",
            CarrierCode::Dhl => "dhl",
            CarrierCode::OtherCarrier => "other-carrier",
        }
    }
}

impl fmt::Display for CarrierCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a customer returns an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReturnReason {
    /// The item does not work.
    Defective,
    /// A different item was delivered.
    WrongItem,
    /// The item differs from its description.
    NotAsDescribed,
    /// The customer changed their mind.
    NoLongerNeeded,
    /// The item arrived too late to be useful.
    ArrivedTooLate,
    /// Anything else (explained in the comments).
    OtherReason,
}

impl ReturnReason {
    /// Every case, in the WIT's order.
    pub const ALL: [ReturnReason; 6] = [
        ReturnReason::Defective,
        ReturnReason::WrongItem,
        ReturnReason::NotAsDescribed,
        ReturnReason::NoLongerNeeded,
        ReturnReason::ArrivedTooLate,
        ReturnReason::OtherReason,
    ];

    /// The case's name in WIT, in stored events and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnReason::Defective => "defective",
            ReturnReason::WrongItem => "wrong-item",
            ReturnReason::NotAsDescribed => "not-as-described",
            ReturnReason::NoLongerNeeded => "no-longer-needed",
            ReturnReason::ArrivedTooLate => "arrived-too-late",
            ReturnReason::OtherReason => "other-reason",
        }
    }
}

impl fmt::Display for ReturnReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The statuses a shipment's tracking history records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShipmentStatus {
    /// Label created, waiting for the carrier.
    AwaitingPickup,
    /// The carrier has the parcel.
    PickedUp,
    /// Moving between carrier facilities.
    InTransit,
    /// On the vehicle for final delivery.
    OutForDelivery,
    /// Delivered.
    Delivered,
    /// A delivery attempt failed.
    DeliveryFailed,
    /// Sent back to the sender.
    ReturnedToSender,
}

impl ShipmentStatus {
    /// Every case, in the WIT's order.
    pub const ALL: [ShipmentStatus; 7] = [
        ShipmentStatus::AwaitingPickup,
        ShipmentStatus::PickedUp,
        ShipmentStatus::InTransit,
        ShipmentStatus::OutForDelivery,
        ShipmentStatus::Delivered,
        ShipmentStatus::DeliveryFailed,
        ShipmentStatus::ReturnedToSender,
    ];

    /// The case's name in WIT, in stored events and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ShipmentStatus::AwaitingPickup => "awaiting-pickup",
            ShipmentStatus::PickedUp => "picked-up",
            ShipmentStatus::InTransit => "in-transit",
            ShipmentStatus::OutForDelivery => "out-for-delivery",
            ShipmentStatus::Delivered => "delivered",
            ShipmentStatus::DeliveryFailed => "delivery-failed",
            ShipmentStatus::ReturnedToSender => "returned-to-sender",
        }
    }
}

impl fmt::Display for ShipmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The states of a shipment entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShipmentState {
    /// Moving; tracking updates are accepted.
    Active,
    /// Delivered; final.
    DeliveryComplete,
    /// Delivery failed; final.
    DeliveryFailed,
}

impl ShipmentState {
    /// Every case, in the WIT's order.
    pub const ALL: [ShipmentState; 3] = [
        ShipmentState::Active,
        ShipmentState::DeliveryComplete,
        ShipmentState::DeliveryFailed,
    ];

    /// The case's name in WIT, in stored events and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ShipmentState::Active => "active",
            ShipmentState::DeliveryComplete => "delivery-complete",
            ShipmentState::DeliveryFailed => "delivery-failed",
        }
    }
}

impl fmt::Display for ShipmentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The statuses of a return.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReturnStatus {
    /// Requested by the customer, waiting for a decision.
    Requested,
    /// Approved; waiting for the items.
    Approved,
    /// The customer shipped the items back.
    Shipped,
    /// The items arrived at the warehouse.
    Received,
    /// The refund went through.
    Refunded,
    /// Denied by customer service.
    Denied,
    /// Closed without refund (for example, nothing arrived).
    Closed,
}

impl ReturnStatus {
    /// Every case, in the WIT's order.
    pub const ALL: [ReturnStatus; 7] = [
        ReturnStatus::Requested,
        ReturnStatus::Approved,
        ReturnStatus::Shipped,
        ReturnStatus::Received,
        ReturnStatus::Refunded,
        ReturnStatus::Denied,
        ReturnStatus::Closed,
    ];

    /// The case's name in WIT, in stored events and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnStatus::Requested => "requested",
            ReturnStatus::Approved => "approved",
            ReturnStatus::Shipped => "shipped",
            ReturnStatus::Received => "received",
            ReturnStatus::Refunded => "refunded",
            ReturnStatus::Denied => "denied",
            ReturnStatus::Closed => "closed",
        }
    }
}

impl fmt::Display for ReturnStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a refund stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefundStatus {
    /// A return was requested; no refund decided yet.
    Pending,
    /// The return was approved; a refund will follow receipt.
    Approved,
    /// The refund went through the payment gateway.
    Processed,
    /// The return was denied; no refund.
    Denied,
}

impl RefundStatus {
    /// Every case, in the WIT's order.
    pub const ALL: [RefundStatus; 4] = [
        RefundStatus::Pending,
        RefundStatus::Approved,
        RefundStatus::Processed,
        RefundStatus::Denied,
    ];

    /// The case's name in WIT, in stored events and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Approved => "approved",
            RefundStatus::Processed => "processed",
            RefundStatus::Denied => "denied",
        }
    }
}

impl fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The states of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrderStatus {
    /// Created and editable, not yet submitted.
    Draft,
    /// Placed, awaiting payment.
    Pending,
    /// Payment confirmed, ready for fulfilment.
    Confirmed,
    /// Handed to a carrier.
    Shipped,
    /// Delivered to the customer.
    Delivered,
    /// Cancelled before shipment.
    Cancelled,
    /// Every item returned and refunded after delivery.
    Returned,
}

impl OrderStatus {
    /// Every case, in the WIT's order.
    pub const ALL: [OrderStatus; 7] = [
        OrderStatus::Draft,
        OrderStatus::Pending,
        OrderStatus::Confirmed,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
        OrderStatus::Returned,
    ];

    /// The case's name in WIT, in stored events and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Draft => "draft",
            OrderStatus::Pending => "pending",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Returned => "returned",
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The saga's steps, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SagaStep {
    /// Charge the customer (compensation: refund).
    ProcessPayment,
    /// Reserve stock (compensation: release).
    AllocateInventory,
    /// Book the carrier (compensation: cancel the shipment, unless picked up).
    CreateShipment,
    /// Confirm to the customer (compensation: send the cancellation).
    NotifyCustomer,
}

impl SagaStep {
    /// Every case, in the WIT's order.
    pub const ALL: [SagaStep; 4] = [
        SagaStep::ProcessPayment,
        SagaStep::AllocateInventory,
        SagaStep::CreateShipment,
        SagaStep::NotifyCustomer,
    ];

    /// The case's name in WIT, in stored events and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            SagaStep::ProcessPayment => "process-payment",
            SagaStep::AllocateInventory => "allocate-inventory",
            SagaStep::CreateShipment => "create-shipment",
            SagaStep::NotifyCustomer => "notify-customer",
        }
    }
}

impl fmt::Display for SagaStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
