//! The payment gateway over HTTP: `POST {base}/payments` charges and
//! `POST {base}/refunds` refunds, each with the component's idempotency key
//! in an `Idempotency-Key` header. The contract is `docs/backends.md`.

use serde::Serialize;

use super::{
    PaymentGateway, PaymentSucceeded, ProcessPaymentRequest, RefundCompleted, RefundPaymentRequest,
};
use crate::bindings::oms::order_management::types::{Money, PaymentMethod};
use crate::external::{Context, ExternalError, Operation};
use crate::remote::{
    HttpBackendConfig, HttpClient, HttpConfigError, decode_derived, encode_derived,
};

/// The [`PaymentGateway`] of a server that speaks the contract.
pub struct HttpPaymentGateway {
    client: HttpClient,
}

impl HttpPaymentGateway {
    /// A gateway at `config.base_url`; nothing is contacted until the first call.
    pub fn new(config: &HttpBackendConfig) -> Result<Self, HttpConfigError> {
        Ok(Self {
            client: HttpClient::new(Context::Payment, config)?,
        })
    }
}

impl PaymentGateway for HttpPaymentGateway {
    fn process_payment(
        &self,
        key: &str,
        request: &ProcessPaymentRequest,
    ) -> Result<PaymentSucceeded, ExternalError> {
        self.client.call(
            Operation::ProcessPayment,
            "/payments",
            key,
            |s| ProcessPaymentRequestJson::serialize(request, s),
            decode_derived(),
        )
    }

    fn refund_payment(
        &self,
        key: &str,
        request: &RefundPaymentRequest,
    ) -> Result<RefundCompleted, ExternalError> {
        self.client.call(
            Operation::RefundPayment,
            "/refunds",
            key,
            encode_derived(request),
            decode_derived(),
        )
    }
}

/// The JSON form of a charge: the record's own, but with the payment
/// method in kebab-case as the WIT spells it.
#[derive(Serialize)]
#[serde(remote = "ProcessPaymentRequest")]
struct ProcessPaymentRequestJson {
    order_id: String,
    payment_amount: Money,
    #[serde(with = "PaymentMethodJson")]
    payment_method: PaymentMethod,
    customer_id: String,
}

#[derive(Serialize)]
#[serde(remote = "PaymentMethod", rename_all = "kebab-case")]
enum PaymentMethodJson {
    CreditCard,
    DebitCard,
    Paypal,
    BankTransfer,
    GiftCard,
}
