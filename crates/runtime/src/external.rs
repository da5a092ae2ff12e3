//! What the four external contexts (payment, inventory, carrier, customer
//! service) have in common: their error type and the names of their
//! operations.

use std::fmt;
use std::str::FromStr;

use crate::bindings::oms::order_management::types as wit;

/// Why a call to an external context failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExternalError {
    /// Time-out, unavailable, rate-limited: the call had no effect and a
    /// retry with the same idempotency key may succeed.
    #[error("transient failure: {0}")]
    Transient(String),
    /// Declined, invalid, refused: retrying with the same input will not succeed.
    #[error("permanent failure: {0}")]
    Permanent(String),
    /// The outcome is unknown (a time-out after sending, a lost connection,
    /// an unreadable answer): the call may have taken effect.
    #[error("outcome in doubt: {0}")]
    InDoubt(String),
}

impl ExternalError {
    /// A [`ExternalError::Transient`] with `message`.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::Transient(message.into())
    }

    /// A [`ExternalError::Permanent`] with `message`.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::Permanent(message.into())
    }

    /// An [`ExternalError::InDoubt`] with `message`.
    pub fn in_doubt(message: impl Into<String>) -> Self {
        Self::InDoubt(message.into())
    }

    /// True for [`ExternalError::Transient`].
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}

impl From<ExternalError> for wit::ExternalError {
    fn from(error: ExternalError) -> Self {
        match error {
            ExternalError::Transient(message) => Self::Transient(message),
            ExternalError::Permanent(message) => Self::Permanent(message),
            ExternalError::InDoubt(message) => Self::InDoubt(message),
        }
    }
}

impl From<wit::ExternalError> for ExternalError {
    fn from(error: wit::ExternalError) -> Self {
        match error {
            wit::ExternalError::Transient(message) => Self::Transient(message),
            wit::ExternalError::Permanent(message) => Self::Permanent(message),
            wit::ExternalError::InDoubt(message) => Self::InDoubt(message),
        }
    }
}

/// One of the four external contexts the component imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    /// `payment-gateway`.
    Payment,
    /// `inventory-service`.
    Inventory,
    /// `shipping-carrier`.
    Carrier,
    /// `customer-service`.
    Customer,
}

impl Context {
    /// Every context, in the order of the saga's steps.
    pub const ALL: [Context; 4] = [
        Context::Payment,
        Context::Inventory,
        Context::Carrier,
        Context::Customer,
    ];

    /// The short name used in fault specs and logs (`payment`, `inventory`,
    /// `carrier`, `customer`).
    pub fn name(self) -> &'static str {
        match self {
            Context::Payment => "payment",
            Context::Inventory => "inventory",
            Context::Carrier => "carrier",
            Context::Customer => "customer",
        }
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of the four contexts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown context `{0}` (expected payment, inventory, carrier or customer)")]
pub struct UnknownContext(pub String);

impl FromStr for Context {
    type Err = UnknownContext;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Context::ALL
            .into_iter()
            .find(|c| c.name() == name)
            .ok_or_else(|| UnknownContext(name.to_owned()))
    }
}

/// An operation of an external context, named as in the WIT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// `payment-gateway.process-payment`.
    ProcessPayment,
    /// `payment-gateway.refund-payment`.
    RefundPayment,
    /// `inventory-service.allocate-stock`.
    AllocateStock,
    /// `inventory-service.release-stock`.
    ReleaseStock,
    /// `inventory-service.restock-items`.
    RestockItems,
    /// `shipping-carrier.create-shipment`.
    CreateShipment,
    /// `shipping-carrier.cancel-shipment`.
    CancelShipment,
    /// `customer-service.send-order-confirmation`.
    SendOrderConfirmation,
    /// `customer-service.send-order-cancellation`.
    SendOrderCancellation,
    /// `customer-service.send-shipping-update`.
    SendShippingUpdate,
    /// `customer-service.create-support-ticket`.
    CreateSupportTicket,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 11] = [
        Operation::ProcessPayment,
        Operation::RefundPayment,
        Operation::AllocateStock,
        Operation::ReleaseStock,
        Operation::RestockItems,
        Operation::CreateShipment,
        Operation::CancelShipment,
        Operation::SendOrderConfirmation,
        Operation::SendOrderCancellation,
        Operation::SendShippingUpdate,
        Operation::CreateSupportTicket,
    ];

    /// The context the operation belongs to.
    pub fn context(self) -> Context {
        match self {
            Operation::ProcessPayment | Operation::RefundPayment => Context::Payment,
            Operation::AllocateStock | Operation::ReleaseStock | Operation::RestockItems => {
                Context::Inventory
            }
            Operation::CreateShipment | Operation::CancelShipment => Context::Carrier,
            Operation::SendOrderConfirmation
            | Operation::SendOrderCancellation
            | Operation::SendShippingUpdate
            | Operation::CreateSupportTicket => Context::Customer,
        }
    }

    /// The WIT function name, for example `process-payment`.
    pub fn name(self) -> &'static str {
        match self {
            Operation::ProcessPayment => "process-payment",
            Operation::RefundPayment => "refund-payment",
            Operation::AllocateStock => "allocate-stock",
            Operation::ReleaseStock => "release-stock",
            Operation::RestockItems => "restock-items",
            Operation::CreateShipment => "create-shipment",
            Operation::CancelShipment => "cancel-shipment",
            Operation::SendOrderConfirmation => "send-order-confirmation",
            Operation::SendOrderCancellation => "send-order-cancellation",
            Operation::SendShippingUpdate => "send-shipping-update",
            Operation::CreateSupportTicket => "create-support-ticket",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of the operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown operation `{0}` (expected a WIT function name such as process-payment)")]
pub struct UnknownOperation(pub String);

impl FromStr for Operation {
    type Err = UnknownOperation;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Operation::ALL
            .into_iter()
            .find(|o| o.name() == name)
            .ok_or_else(|| UnknownOperation(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for operation in Operation::ALL {
            assert_eq!(operation.name().parse::<Operation>(), Ok(operation));
        }
        for context in Context::ALL {
            assert_eq!(context.name().parse::<Context>(), Ok(context));
        }
        assert!("charge".parse::<Operation>().is_err());
        assert!("bank".parse::<Context>().is_err());
    }

    #[test]
    fn external_errors_convert_both_ways() {
        let error = ExternalError::transient("timeout");
        let wit_error: wit::ExternalError = error.clone().into();
        assert_eq!(wit_error, wit::ExternalError::Transient("timeout".into()));
        assert_eq!(ExternalError::from(wit_error), error);
    }
}
