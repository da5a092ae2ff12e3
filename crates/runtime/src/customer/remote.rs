//! Customer service over HTTP: `POST {base}/notifications/order-confirmation`,
//! `.../order-cancellation`, `.../shipping-update` and `POST {base}/tickets`,
//! each with the component's idempotency key in an `Idempotency-Key` header.
//! The contract is `docs/backends.md`.

use serde::{Deserialize, Serialize};

use super::{
    CreateSupportTicketRequest, CustomerService, NotificationSent, NotificationType,
    SendOrderCancellationRequest, SendOrderConfirmationRequest, SendShippingUpdateRequest,
    SupportTicketCreated, TicketPriority,
};
use crate::bindings::oms::order_management::types::ShipmentStatus;
use crate::external::{Context, ExternalError, Operation};
use crate::remote::{
    HttpBackendConfig, HttpClient, HttpConfigError, decode_derived, encode_derived,
};

/// The [`CustomerService`] of a server that speaks the contract.
pub struct HttpCustomerService {
    client: HttpClient,
}

impl HttpCustomerService {
    /// A service at `config.base_url`; nothing is contacted until the first call.
    pub fn new(config: &HttpBackendConfig) -> Result<Self, HttpConfigError> {
        Ok(Self {
            client: HttpClient::new(Context::Customer, config)?,
        })
    }
}

impl CustomerService for HttpCustomerService {
    fn send_order_confirmation(
        &self,
        key: &str,
        request: &SendOrderConfirmationRequest,
    ) -> Result<NotificationSent, ExternalError> {
        self.client.call(
            Operation::SendOrderConfirmation,
            "/notifications/order-confirmation",
            key,
            encode_derived(request),
            |d| NotificationSentJson::deserialize(d),
        )
    }

    fn send_order_cancellation(
        &self,
        key: &str,
        request: &SendOrderCancellationRequest,
    ) -> Result<NotificationSent, ExternalError> {
        self.client.call(
            Operation::SendOrderCancellation,
            "/notifications/order-cancellation",
            key,
            encode_derived(request),
            |d| NotificationSentJson::deserialize(d),
        )
    }

    fn send_shipping_update(
        &self,
        key: &str,
        request: &SendShippingUpdateRequest,
    ) -> Result<NotificationSent, ExternalError> {
        self.client.call(
            Operation::SendShippingUpdate,
            "/notifications/shipping-update",
            key,
            |s| SendShippingUpdateRequestJson::serialize(request, s),
            |d| NotificationSentJson::deserialize(d),
        )
    }

    fn create_support_ticket(
        &self,
        key: &str,
        request: &CreateSupportTicketRequest,
    ) -> Result<SupportTicketCreated, ExternalError> {
        self.client.call(
            Operation::CreateSupportTicket,
            "/tickets",
            key,
            |s| CreateSupportTicketRequestJson::serialize(request, s),
            decode_derived(),
        )
    }
}

/// The JSON form of a shipping update, with the status in kebab-case as
/// the WIT spells it.
#[derive(Serialize)]
#[serde(remote = "SendShippingUpdateRequest")]
struct SendShippingUpdateRequestJson {
    order_id: String,
    customer_id: String,
    tracking_number: String,
    #[serde(with = "ShipmentStatusJson")]
    shipping_status: ShipmentStatus,
}

/// The JSON form of a ticket, with the priority in kebab-case.
#[derive(Serialize)]
#[serde(remote = "CreateSupportTicketRequest")]
struct CreateSupportTicketRequestJson {
    order_id: String,
    customer_id: String,
    issue: String,
    #[serde(with = "TicketPriorityJson")]
    priority: TicketPriority,
}

/// The JSON form of a sent message, with its type in kebab-case.
#[derive(Deserialize)]
#[serde(remote = "NotificationSent")]
struct NotificationSentJson {
    customer_id: String,
    #[serde(with = "NotificationTypeJson")]
    notification_type: NotificationType,
    sent_at: u64,
}

#[derive(Serialize)]
#[serde(remote = "ShipmentStatus", rename_all = "kebab-case")]
enum ShipmentStatusJson {
    AwaitingPickup,
    PickedUp,
    InTransit,
    OutForDelivery,
    Delivered,
    DeliveryFailed,
    ReturnedToSender,
}

#[derive(Serialize)]
#[serde(remote = "TicketPriority", rename_all = "kebab-case")]
enum TicketPriorityJson {
    Low,
    Normal,
    High,
    Urgent,
}

#[derive(Deserialize)]
#[serde(remote = "NotificationType", rename_all = "kebab-case")]
enum NotificationTypeJson {
    OrderConfirmation,
    OrderCancellation,
    ShippingUpdate,
}
