//! The payment gateway behind the `payment-gateway` import.

pub mod remote;
pub mod simulated;

use crate::bindings::oms::order_management::payment_gateway as wit;
use crate::bindings::oms::order_management::types::ExternalError as WitExternalError;
use crate::external::ExternalError;

pub use wit::{
    PaymentFailed, PaymentSucceeded, ProcessPaymentRequest, RefundCompleted, RefundPaymentRequest,
};

keyed_import! {
    PaymentView serves "payment-gateway" ("the payment gateway"):
    /// Charges and refunds. Every call carries an idempotency key: the first
    /// completed outcome for a key is the outcome of every later call with it,
    /// so a retry never charges or refunds twice.
    pub trait PaymentGateway {
        /// Charges an order. [`ExternalError::Permanent`] when declined.
        fn process_payment(ProcessPaymentRequest) -> PaymentSucceeded;

        /// Refunds (part of) a charge. [`ExternalError::Permanent`] for an
        /// unknown transaction or more than is left to refund.
        fn refund_payment(RefundPaymentRequest) -> RefundCompleted;
    }
}
