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

/// Writes a fieldless enum each of whose variants has one name: the enum
/// with its variants in order, `ALL` (every variant, in that order),
/// `name()`, `Display` (the name) and `FromStr` (the variant of a name,
/// else `$unknown` holding what was given). One table, so a variant cannot
/// be left out of `ALL` or given a name that does not parse back.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $enum:ident {
            $( $(#[$variant_meta:meta])* $variant:ident => $name:literal, )+
        }
        $(#[$all_meta:meta])* const ALL;
        $(#[$name_meta:meta])* fn name;
        $(#[$unknown_meta:meta])* struct $unknown:ident;
    ) => {
        $(#[$meta])*
        pub enum $enum {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $enum {
            $(#[$all_meta])*
            pub const ALL: [$enum; [$($name),+].len()] = [$($enum::$variant),+];

            $(#[$name_meta])*
            pub fn name(self) -> &'static str {
                match self {
                    $( $enum::$variant => $name, )+
                }
            }
        }

        impl fmt::Display for $enum {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        $(#[$unknown_meta])*
        pub struct $unknown(pub String);

        impl FromStr for $enum {
            type Err = $unknown;

            fn from_str(name: &str) -> Result<Self, Self::Err> {
                $enum::ALL
                    .into_iter()
                    .find(|value| value.name() == name)
                    .ok_or_else(|| $unknown(name.to_owned()))
            }
        }
    };
}

named_enum! {
    /// One of the four external contexts the component imports.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Context {
        /// `payment-gateway`.
        Payment => "payment",
        /// `inventory-service`.
        Inventory => "inventory",
        /// `shipping-carrier`.
        Carrier => "carrier",
        /// `customer-service`.
        Customer => "customer",
    }
    /// Every context, in the order of the saga's steps.
    const ALL;
    /// The short name used in fault specs and logs (`payment`, `inventory`,
    /// `carrier`, `customer`).
    fn name;
    /// A name that is not one of the four contexts.
    #[error("unknown context `{0}` (expected payment, inventory, carrier or customer)")]
    struct UnknownContext;
}

named_enum! {
    /// An operation of an external context, named as in the WIT.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Operation {
        /// `payment-gateway.process-payment`.
        ProcessPayment => "process-payment",
        /// `payment-gateway.refund-payment`.
        RefundPayment => "refund-payment",
        /// `inventory-service.allocate-stock`.
        AllocateStock => "allocate-stock",
        /// `inventory-service.release-stock`.
        ReleaseStock => "release-stock",
        /// `inventory-service.restock-items`.
        RestockItems => "restock-items",
        /// `shipping-carrier.create-shipment`.
        CreateShipment => "create-shipment",
        /// `shipping-carrier.cancel-shipment`.
        CancelShipment => "cancel-shipment",
        /// `customer-service.send-order-confirmation`.
        SendOrderConfirmation => "send-order-confirmation",
        /// `customer-service.send-order-cancellation`.
        SendOrderCancellation => "send-order-cancellation",
        /// `customer-service.send-shipping-update`.
        SendShippingUpdate => "send-shipping-update",
        /// `customer-service.create-support-ticket`.
        CreateSupportTicket => "create-support-ticket",
    }
    /// Every operation.
    const ALL;
    /// The WIT function name, for example `process-payment`.
    fn name;
    /// A name that is not one of the operations.
    #[error("unknown operation `{0}` (expected a WIT function name such as process-payment)")]
    struct UnknownOperation;
}

impl Operation {
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
