//! The payment gateway behind the `payment-gateway` import.

pub mod remote;
pub mod simulated;

use crate::bindings::oms::order_management::payment_gateway as wit;
use crate::bindings::oms::order_management::types::ExternalError as WitExternalError;
use crate::external::ExternalError;

pub use wit::{
    PaymentFailed, PaymentSucceeded, ProcessPaymentRequest, RefundCompleted, RefundPaymentRequest,
};

/// Charges and refunds. Every call carries an idempotency key: the first
/// completed outcome for a key is the outcome of every later call with it,
/// so a retry never charges or refunds twice.
pub trait PaymentGateway: Send + Sync {
    /// Charges an order. [`ExternalError::Permanent`] when declined.
    fn process_payment(
        &self,
        key: &str,
        request: &ProcessPaymentRequest,
    ) -> Result<PaymentSucceeded, ExternalError>;

    /// Refunds (part of) a charge. [`ExternalError::Permanent`] for an
    /// unknown transaction or more than is left to refund.
    fn refund_payment(
        &self,
        key: &str,
        request: &RefundPaymentRequest,
    ) -> Result<RefundCompleted, ExternalError>;
}

import_view! {
    /// The `payment-gateway` import as one store serves it: the payment gateway, and nothing
    /// else of the host.
    PaymentView(&dyn PaymentGateway),
    "payment-gateway",
    "the payment gateway"
}

impl wit::Host for PaymentView<'_> {
    fn process_payment(
        &mut self,
        key: String,
        request: ProcessPaymentRequest,
    ) -> Result<PaymentSucceeded, WitExternalError> {
        Ok(self.0.process_payment(&key, &request)?)
    }

    fn refund_payment(
        &mut self,
        key: String,
        request: RefundPaymentRequest,
    ) -> Result<RefundCompleted, WitExternalError> {
        Ok(self.0.refund_payment(&key, &request)?)
    }
}
