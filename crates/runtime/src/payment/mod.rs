//! The payment gateway behind the `payment-gateway` import.

pub mod http;
pub mod simulated;

use crate::bindings::oms::order_management::payment_gateway as wit;
use crate::bindings::oms::order_management::types::ExternalError as WitExternalError;
use crate::external::ExternalError;
use wasmtime::component::{HasData, Linker};

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

/// The `payment-gateway` import as one store serves it: the payment gateway, and nothing
/// else of the host.
pub struct PaymentView<'a>(pub &'a dyn PaymentGateway);

/// Names [`PaymentView`] for the generated linker.
struct Payment;

impl HasData for Payment {
    type Data<'a> = PaymentView<'a>;
}

/// Links the `payment-gateway` import; `get` finds the payment gateway in a store's data.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> PaymentView<'_>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, Payment>(linker, get)
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
