// Generated from wit/ by `cargo run -q -p order-e2e --bin wit-docs -- --rust-enums --out crates/server/src/dto/enums.rs`; do not edit.
//! The WIT enumerations as JSON: kebab-case values, `From` both ways.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use order_runtime::bindings::fulfillment_saga as wit_saga;
use order_runtime::bindings::types as wit_types;

/// How the customer pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

impl From<PaymentMethod> for wit_types::PaymentMethod {
    fn from(value: PaymentMethod) -> Self {
        match value {
            PaymentMethod::CreditCard => wit_types::PaymentMethod::CreditCard,
            PaymentMethod::DebitCard => wit_types::PaymentMethod::DebitCard,
            PaymentMethod::Paypal => wit_types::PaymentMethod::Paypal,
            PaymentMethod::BankTransfer => wit_types::PaymentMethod::BankTransfer,
            PaymentMethod::GiftCard => wit_types::PaymentMethod::GiftCard,
        }
    }
}

impl From<wit_types::PaymentMethod> for PaymentMethod {
    fn from(value: wit_types::PaymentMethod) -> Self {
        match value {
            wit_types::PaymentMethod::CreditCard => PaymentMethod::CreditCard,
            wit_types::PaymentMethod::DebitCard => PaymentMethod::DebitCard,
            wit_types::PaymentMethod::Paypal => PaymentMethod::Paypal,
            wit_types::PaymentMethod::BankTransfer => PaymentMethod::BankTransfer,
            wit_types::PaymentMethod::GiftCard => PaymentMethod::GiftCard,
        }
    }
}

/// The carrier that moves a shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

impl From<CarrierCode> for wit_types::CarrierCode {
    fn from(value: CarrierCode) -> Self {
        match value {
            CarrierCode::Ups => wit_types::CarrierCode::Ups,
            CarrierCode::Fedex => wit_types::CarrierCode::Fedex,
            CarrierCode::Usps => wit_types::CarrierCode::Usps,
            CarrierCode::Dhl => wit_types::CarrierCode::Dhl,
            CarrierCode::OtherCarrier => wit_types::CarrierCode::OtherCarrier,
        }
    }
}

impl From<wit_types::CarrierCode> for CarrierCode {
    fn from(value: wit_types::CarrierCode) -> Self {
        match value {
            wit_types::CarrierCode::Ups => CarrierCode::Ups,
            wit_types::CarrierCode::Fedex => CarrierCode::Fedex,
            wit_types::CarrierCode::Usps => CarrierCode::Usps,
            wit_types::CarrierCode::Dhl => CarrierCode::Dhl,
            wit_types::CarrierCode::OtherCarrier => CarrierCode::OtherCarrier,
        }
    }
}

/// Why a customer returns an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

impl From<ReturnReason> for wit_types::ReturnReason {
    fn from(value: ReturnReason) -> Self {
        match value {
            ReturnReason::Defective => wit_types::ReturnReason::Defective,
            ReturnReason::WrongItem => wit_types::ReturnReason::WrongItem,
            ReturnReason::NotAsDescribed => wit_types::ReturnReason::NotAsDescribed,
            ReturnReason::NoLongerNeeded => wit_types::ReturnReason::NoLongerNeeded,
            ReturnReason::ArrivedTooLate => wit_types::ReturnReason::ArrivedTooLate,
            ReturnReason::OtherReason => wit_types::ReturnReason::OtherReason,
        }
    }
}

impl From<wit_types::ReturnReason> for ReturnReason {
    fn from(value: wit_types::ReturnReason) -> Self {
        match value {
            wit_types::ReturnReason::Defective => ReturnReason::Defective,
            wit_types::ReturnReason::WrongItem => ReturnReason::WrongItem,
            wit_types::ReturnReason::NotAsDescribed => ReturnReason::NotAsDescribed,
            wit_types::ReturnReason::NoLongerNeeded => ReturnReason::NoLongerNeeded,
            wit_types::ReturnReason::ArrivedTooLate => ReturnReason::ArrivedTooLate,
            wit_types::ReturnReason::OtherReason => ReturnReason::OtherReason,
        }
    }
}

/// Where a refund stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

impl From<RefundStatus> for wit_types::RefundStatus {
    fn from(value: RefundStatus) -> Self {
        match value {
            RefundStatus::Pending => wit_types::RefundStatus::Pending,
            RefundStatus::Approved => wit_types::RefundStatus::Approved,
            RefundStatus::Processed => wit_types::RefundStatus::Processed,
            RefundStatus::Denied => wit_types::RefundStatus::Denied,
        }
    }
}

impl From<wit_types::RefundStatus> for RefundStatus {
    fn from(value: wit_types::RefundStatus) -> Self {
        match value {
            wit_types::RefundStatus::Pending => RefundStatus::Pending,
            wit_types::RefundStatus::Approved => RefundStatus::Approved,
            wit_types::RefundStatus::Processed => RefundStatus::Processed,
            wit_types::RefundStatus::Denied => RefundStatus::Denied,
        }
    }
}

/// The states of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

impl From<OrderStatus> for wit_types::OrderStatus {
    fn from(value: OrderStatus) -> Self {
        match value {
            OrderStatus::Draft => wit_types::OrderStatus::Draft,
            OrderStatus::Pending => wit_types::OrderStatus::Pending,
            OrderStatus::Confirmed => wit_types::OrderStatus::Confirmed,
            OrderStatus::Shipped => wit_types::OrderStatus::Shipped,
            OrderStatus::Delivered => wit_types::OrderStatus::Delivered,
            OrderStatus::Cancelled => wit_types::OrderStatus::Cancelled,
            OrderStatus::Returned => wit_types::OrderStatus::Returned,
        }
    }
}

impl From<wit_types::OrderStatus> for OrderStatus {
    fn from(value: wit_types::OrderStatus) -> Self {
        match value {
            wit_types::OrderStatus::Draft => OrderStatus::Draft,
            wit_types::OrderStatus::Pending => OrderStatus::Pending,
            wit_types::OrderStatus::Confirmed => OrderStatus::Confirmed,
            wit_types::OrderStatus::Shipped => OrderStatus::Shipped,
            wit_types::OrderStatus::Delivered => OrderStatus::Delivered,
            wit_types::OrderStatus::Cancelled => OrderStatus::Cancelled,
            wit_types::OrderStatus::Returned => OrderStatus::Returned,
        }
    }
}

/// The statuses a shipment's tracking history records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

impl From<ShipmentStatus> for wit_types::ShipmentStatus {
    fn from(value: ShipmentStatus) -> Self {
        match value {
            ShipmentStatus::AwaitingPickup => wit_types::ShipmentStatus::AwaitingPickup,
            ShipmentStatus::PickedUp => wit_types::ShipmentStatus::PickedUp,
            ShipmentStatus::InTransit => wit_types::ShipmentStatus::InTransit,
            ShipmentStatus::OutForDelivery => wit_types::ShipmentStatus::OutForDelivery,
            ShipmentStatus::Delivered => wit_types::ShipmentStatus::Delivered,
            ShipmentStatus::DeliveryFailed => wit_types::ShipmentStatus::DeliveryFailed,
            ShipmentStatus::ReturnedToSender => wit_types::ShipmentStatus::ReturnedToSender,
        }
    }
}

impl From<wit_types::ShipmentStatus> for ShipmentStatus {
    fn from(value: wit_types::ShipmentStatus) -> Self {
        match value {
            wit_types::ShipmentStatus::AwaitingPickup => ShipmentStatus::AwaitingPickup,
            wit_types::ShipmentStatus::PickedUp => ShipmentStatus::PickedUp,
            wit_types::ShipmentStatus::InTransit => ShipmentStatus::InTransit,
            wit_types::ShipmentStatus::OutForDelivery => ShipmentStatus::OutForDelivery,
            wit_types::ShipmentStatus::Delivered => ShipmentStatus::Delivered,
            wit_types::ShipmentStatus::DeliveryFailed => ShipmentStatus::DeliveryFailed,
            wit_types::ShipmentStatus::ReturnedToSender => ShipmentStatus::ReturnedToSender,
        }
    }
}

/// The states of a shipment entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ShipmentState {
    /// Moving; tracking updates are accepted.
    Active,
    /// Delivered; final.
    DeliveryComplete,
    /// Delivery failed; final.
    DeliveryFailed,
}

impl From<ShipmentState> for wit_types::ShipmentState {
    fn from(value: ShipmentState) -> Self {
        match value {
            ShipmentState::Active => wit_types::ShipmentState::Active,
            ShipmentState::DeliveryComplete => wit_types::ShipmentState::DeliveryComplete,
            ShipmentState::DeliveryFailed => wit_types::ShipmentState::DeliveryFailed,
        }
    }
}

impl From<wit_types::ShipmentState> for ShipmentState {
    fn from(value: wit_types::ShipmentState) -> Self {
        match value {
            wit_types::ShipmentState::Active => ShipmentState::Active,
            wit_types::ShipmentState::DeliveryComplete => ShipmentState::DeliveryComplete,
            wit_types::ShipmentState::DeliveryFailed => ShipmentState::DeliveryFailed,
        }
    }
}

/// The statuses of a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

impl From<ReturnStatus> for wit_types::ReturnStatus {
    fn from(value: ReturnStatus) -> Self {
        match value {
            ReturnStatus::Requested => wit_types::ReturnStatus::Requested,
            ReturnStatus::Approved => wit_types::ReturnStatus::Approved,
            ReturnStatus::Shipped => wit_types::ReturnStatus::Shipped,
            ReturnStatus::Received => wit_types::ReturnStatus::Received,
            ReturnStatus::Refunded => wit_types::ReturnStatus::Refunded,
            ReturnStatus::Denied => wit_types::ReturnStatus::Denied,
            ReturnStatus::Closed => wit_types::ReturnStatus::Closed,
        }
    }
}

impl From<wit_types::ReturnStatus> for ReturnStatus {
    fn from(value: wit_types::ReturnStatus) -> Self {
        match value {
            wit_types::ReturnStatus::Requested => ReturnStatus::Requested,
            wit_types::ReturnStatus::Approved => ReturnStatus::Approved,
            wit_types::ReturnStatus::Shipped => ReturnStatus::Shipped,
            wit_types::ReturnStatus::Received => ReturnStatus::Received,
            wit_types::ReturnStatus::Refunded => ReturnStatus::Refunded,
            wit_types::ReturnStatus::Denied => ReturnStatus::Denied,
            wit_types::ReturnStatus::Closed => ReturnStatus::Closed,
        }
    }
}

/// The saga's steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

impl From<SagaStep> for wit_saga::SagaStep {
    fn from(value: SagaStep) -> Self {
        match value {
            SagaStep::ProcessPayment => wit_saga::SagaStep::ProcessPayment,
            SagaStep::AllocateInventory => wit_saga::SagaStep::AllocateInventory,
            SagaStep::CreateShipment => wit_saga::SagaStep::CreateShipment,
            SagaStep::NotifyCustomer => wit_saga::SagaStep::NotifyCustomer,
        }
    }
}

impl From<wit_saga::SagaStep> for SagaStep {
    fn from(value: wit_saga::SagaStep) -> Self {
        match value {
            wit_saga::SagaStep::ProcessPayment => SagaStep::ProcessPayment,
            wit_saga::SagaStep::AllocateInventory => SagaStep::AllocateInventory,
            wit_saga::SagaStep::CreateShipment => SagaStep::CreateShipment,
            wit_saga::SagaStep::NotifyCustomer => SagaStep::NotifyCustomer,
        }
    }
}

/// Where one step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    /// Not reached yet.
    Pending,
    /// Waiting to retry after a transient failure.
    Retrying,
    /// Done.
    Completed,
    /// Failed (permanently, or out of attempts).
    Failed,
    /// Done, then undone by its compensation.
    Compensated,
    /// Never needed (for example, the order was cancelled first).
    Skipped,
}

impl From<StepStatus> for wit_saga::StepStatus {
    fn from(value: StepStatus) -> Self {
        match value {
            StepStatus::Pending => wit_saga::StepStatus::Pending,
            StepStatus::Retrying => wit_saga::StepStatus::Retrying,
            StepStatus::Completed => wit_saga::StepStatus::Completed,
            StepStatus::Failed => wit_saga::StepStatus::Failed,
            StepStatus::Compensated => wit_saga::StepStatus::Compensated,
            StepStatus::Skipped => wit_saga::StepStatus::Skipped,
        }
    }
}

impl From<wit_saga::StepStatus> for StepStatus {
    fn from(value: wit_saga::StepStatus) -> Self {
        match value {
            wit_saga::StepStatus::Pending => StepStatus::Pending,
            wit_saga::StepStatus::Retrying => StepStatus::Retrying,
            wit_saga::StepStatus::Completed => StepStatus::Completed,
            wit_saga::StepStatus::Failed => StepStatus::Failed,
            wit_saga::StepStatus::Compensated => StepStatus::Compensated,
            wit_saga::StepStatus::Skipped => StepStatus::Skipped,
        }
    }
}

/// The saga's phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SagaPhase {
    /// Scheduled, no step run yet.
    Scheduled,
    /// Moving forward through the steps.
    Running,
    /// Undoing the completed steps.
    Compensating,
    /// Ended: see `outcome`.
    Finished,
}

impl From<SagaPhase> for wit_saga::SagaPhase {
    fn from(value: SagaPhase) -> Self {
        match value {
            SagaPhase::Scheduled => wit_saga::SagaPhase::Scheduled,
            SagaPhase::Running => wit_saga::SagaPhase::Running,
            SagaPhase::Compensating => wit_saga::SagaPhase::Compensating,
            SagaPhase::Finished => wit_saga::SagaPhase::Finished,
        }
    }
}

impl From<wit_saga::SagaPhase> for SagaPhase {
    fn from(value: wit_saga::SagaPhase) -> Self {
        match value {
            wit_saga::SagaPhase::Scheduled => SagaPhase::Scheduled,
            wit_saga::SagaPhase::Running => SagaPhase::Running,
            wit_saga::SagaPhase::Compensating => SagaPhase::Compensating,
            wit_saga::SagaPhase::Finished => SagaPhase::Finished,
        }
    }
}
