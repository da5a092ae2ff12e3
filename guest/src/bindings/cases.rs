// Generated from wit/ by `cargo run -q -p order-e2e --bin wit-docs -- --guest-conversions --out guest/src/bindings/cases.rs`; do not edit.
//! The enumerations the domain shares with the contract: `From` both ways
//! between the binding type and the domain's (`crate::domain::cases`).

use super::{fs, t};
use crate::domain::cases as d;

impl From<d::PaymentMethod> for t::PaymentMethod {
    fn from(value: d::PaymentMethod) -> Self {
        match value {
            d::PaymentMethod::CreditCard => t::PaymentMethod::CreditCard,
            d::PaymentMethod::DebitCard => t::PaymentMethod::DebitCard,
            d::PaymentMethod::Paypal => t::PaymentMethod::Paypal,
            d::PaymentMethod::BankTransfer => t::PaymentMethod::BankTransfer,
            d::PaymentMethod::GiftCard => t::PaymentMethod::GiftCard,
        }
    }
}

impl From<t::PaymentMethod> for d::PaymentMethod {
    fn from(value: t::PaymentMethod) -> Self {
        match value {
            t::PaymentMethod::CreditCard => d::PaymentMethod::CreditCard,
            t::PaymentMethod::DebitCard => d::PaymentMethod::DebitCard,
            t::PaymentMethod::Paypal => d::PaymentMethod::Paypal,
            t::PaymentMethod::BankTransfer => d::PaymentMethod::BankTransfer,
            t::PaymentMethod::GiftCard => d::PaymentMethod::GiftCard,
        }
    }
}

impl From<d::CarrierCode> for t::CarrierCode {
    fn from(value: d::CarrierCode) -> Self {
        match value {
            d::CarrierCode::Ups => t::CarrierCode::Ups,
            d::CarrierCode::Fedex => t::CarrierCode::Fedex,
            d::CarrierCode::Usps => t::CarrierCode::Usps,
            d::CarrierCode::Dhl => t::CarrierCode::Dhl,
            d::CarrierCode::OtherCarrier => t::CarrierCode::OtherCarrier,
        }
    }
}

impl From<t::CarrierCode> for d::CarrierCode {
    fn from(value: t::CarrierCode) -> Self {
        match value {
            t::CarrierCode::Ups => d::CarrierCode::Ups,
            t::CarrierCode::Fedex => d::CarrierCode::Fedex,
            t::CarrierCode::Usps => d::CarrierCode::Usps,
            t::CarrierCode::Dhl => d::CarrierCode::Dhl,
            t::CarrierCode::OtherCarrier => d::CarrierCode::OtherCarrier,
        }
    }
}

impl From<d::ReturnReason> for t::ReturnReason {
    fn from(value: d::ReturnReason) -> Self {
        match value {
            d::ReturnReason::Defective => t::ReturnReason::Defective,
            d::ReturnReason::WrongItem => t::ReturnReason::WrongItem,
            d::ReturnReason::NotAsDescribed => t::ReturnReason::NotAsDescribed,
            d::ReturnReason::NoLongerNeeded => t::ReturnReason::NoLongerNeeded,
            d::ReturnReason::ArrivedTooLate => t::ReturnReason::ArrivedTooLate,
            d::ReturnReason::OtherReason => t::ReturnReason::OtherReason,
        }
    }
}

impl From<t::ReturnReason> for d::ReturnReason {
    fn from(value: t::ReturnReason) -> Self {
        match value {
            t::ReturnReason::Defective => d::ReturnReason::Defective,
            t::ReturnReason::WrongItem => d::ReturnReason::WrongItem,
            t::ReturnReason::NotAsDescribed => d::ReturnReason::NotAsDescribed,
            t::ReturnReason::NoLongerNeeded => d::ReturnReason::NoLongerNeeded,
            t::ReturnReason::ArrivedTooLate => d::ReturnReason::ArrivedTooLate,
            t::ReturnReason::OtherReason => d::ReturnReason::OtherReason,
        }
    }
}

impl From<d::ShipmentStatus> for t::ShipmentStatus {
    fn from(value: d::ShipmentStatus) -> Self {
        match value {
            d::ShipmentStatus::AwaitingPickup => t::ShipmentStatus::AwaitingPickup,
            d::ShipmentStatus::PickedUp => t::ShipmentStatus::PickedUp,
            d::ShipmentStatus::InTransit => t::ShipmentStatus::InTransit,
            d::ShipmentStatus::OutForDelivery => t::ShipmentStatus::OutForDelivery,
            d::ShipmentStatus::Delivered => t::ShipmentStatus::Delivered,
            d::ShipmentStatus::DeliveryFailed => t::ShipmentStatus::DeliveryFailed,
            d::ShipmentStatus::ReturnedToSender => t::ShipmentStatus::ReturnedToSender,
        }
    }
}

impl From<t::ShipmentStatus> for d::ShipmentStatus {
    fn from(value: t::ShipmentStatus) -> Self {
        match value {
            t::ShipmentStatus::AwaitingPickup => d::ShipmentStatus::AwaitingPickup,
            t::ShipmentStatus::PickedUp => d::ShipmentStatus::PickedUp,
            t::ShipmentStatus::InTransit => d::ShipmentStatus::InTransit,
            t::ShipmentStatus::OutForDelivery => d::ShipmentStatus::OutForDelivery,
            t::ShipmentStatus::Delivered => d::ShipmentStatus::Delivered,
            t::ShipmentStatus::DeliveryFailed => d::ShipmentStatus::DeliveryFailed,
            t::ShipmentStatus::ReturnedToSender => d::ShipmentStatus::ReturnedToSender,
        }
    }
}

impl From<d::ShipmentState> for t::ShipmentState {
    fn from(value: d::ShipmentState) -> Self {
        match value {
            d::ShipmentState::Active => t::ShipmentState::Active,
            d::ShipmentState::DeliveryComplete => t::ShipmentState::DeliveryComplete,
            d::ShipmentState::DeliveryFailed => t::ShipmentState::DeliveryFailed,
        }
    }
}

impl From<t::ShipmentState> for d::ShipmentState {
    fn from(value: t::ShipmentState) -> Self {
        match value {
            t::ShipmentState::Active => d::ShipmentState::Active,
            t::ShipmentState::DeliveryComplete => d::ShipmentState::DeliveryComplete,
            t::ShipmentState::DeliveryFailed => d::ShipmentState::DeliveryFailed,
        }
    }
}

impl From<d::ReturnStatus> for t::ReturnStatus {
    fn from(value: d::ReturnStatus) -> Self {
        match value {
            d::ReturnStatus::Requested => t::ReturnStatus::Requested,
            d::ReturnStatus::Approved => t::ReturnStatus::Approved,
            d::ReturnStatus::Shipped => t::ReturnStatus::Shipped,
            d::ReturnStatus::Received => t::ReturnStatus::Received,
            d::ReturnStatus::Refunded => t::ReturnStatus::Refunded,
            d::ReturnStatus::Denied => t::ReturnStatus::Denied,
            d::ReturnStatus::Closed => t::ReturnStatus::Closed,
        }
    }
}

impl From<t::ReturnStatus> for d::ReturnStatus {
    fn from(value: t::ReturnStatus) -> Self {
        match value {
            t::ReturnStatus::Requested => d::ReturnStatus::Requested,
            t::ReturnStatus::Approved => d::ReturnStatus::Approved,
            t::ReturnStatus::Shipped => d::ReturnStatus::Shipped,
            t::ReturnStatus::Received => d::ReturnStatus::Received,
            t::ReturnStatus::Refunded => d::ReturnStatus::Refunded,
            t::ReturnStatus::Denied => d::ReturnStatus::Denied,
            t::ReturnStatus::Closed => d::ReturnStatus::Closed,
        }
    }
}

impl From<d::RefundStatus> for t::RefundStatus {
    fn from(value: d::RefundStatus) -> Self {
        match value {
            d::RefundStatus::Pending => t::RefundStatus::Pending,
            d::RefundStatus::Approved => t::RefundStatus::Approved,
            d::RefundStatus::Processed => t::RefundStatus::Processed,
            d::RefundStatus::Denied => t::RefundStatus::Denied,
        }
    }
}

impl From<t::RefundStatus> for d::RefundStatus {
    fn from(value: t::RefundStatus) -> Self {
        match value {
            t::RefundStatus::Pending => d::RefundStatus::Pending,
            t::RefundStatus::Approved => d::RefundStatus::Approved,
            t::RefundStatus::Processed => d::RefundStatus::Processed,
            t::RefundStatus::Denied => d::RefundStatus::Denied,
        }
    }
}

impl From<d::OrderStatus> for t::OrderStatus {
    fn from(value: d::OrderStatus) -> Self {
        match value {
            d::OrderStatus::Draft => t::OrderStatus::Draft,
            d::OrderStatus::Pending => t::OrderStatus::Pending,
            d::OrderStatus::Confirmed => t::OrderStatus::Confirmed,
            d::OrderStatus::Shipped => t::OrderStatus::Shipped,
            d::OrderStatus::Delivered => t::OrderStatus::Delivered,
            d::OrderStatus::Cancelled => t::OrderStatus::Cancelled,
            d::OrderStatus::Returned => t::OrderStatus::Returned,
        }
    }
}

impl From<t::OrderStatus> for d::OrderStatus {
    fn from(value: t::OrderStatus) -> Self {
        match value {
            t::OrderStatus::Draft => d::OrderStatus::Draft,
            t::OrderStatus::Pending => d::OrderStatus::Pending,
            t::OrderStatus::Confirmed => d::OrderStatus::Confirmed,
            t::OrderStatus::Shipped => d::OrderStatus::Shipped,
            t::OrderStatus::Delivered => d::OrderStatus::Delivered,
            t::OrderStatus::Cancelled => d::OrderStatus::Cancelled,
            t::OrderStatus::Returned => d::OrderStatus::Returned,
        }
    }
}

impl From<d::SagaStep> for fs::SagaStep {
    fn from(value: d::SagaStep) -> Self {
        match value {
            d::SagaStep::ProcessPayment => fs::SagaStep::ProcessPayment,
            d::SagaStep::AllocateInventory => fs::SagaStep::AllocateInventory,
            d::SagaStep::CreateShipment => fs::SagaStep::CreateShipment,
            d::SagaStep::NotifyCustomer => fs::SagaStep::NotifyCustomer,
        }
    }
}

impl From<fs::SagaStep> for d::SagaStep {
    fn from(value: fs::SagaStep) -> Self {
        match value {
            fs::SagaStep::ProcessPayment => d::SagaStep::ProcessPayment,
            fs::SagaStep::AllocateInventory => d::SagaStep::AllocateInventory,
            fs::SagaStep::CreateShipment => d::SagaStep::CreateShipment,
            fs::SagaStep::NotifyCustomer => d::SagaStep::NotifyCustomer,
        }
    }
}
