//! Customer service behind the `customer-service` import.

pub mod remote;
pub mod simulated;

use crate::bindings::oms::order_management::customer_service as wit;
use crate::bindings::oms::order_management::types::ExternalError as WitExternalError;
use crate::external::ExternalError;

pub use wit::{
    CreateSupportTicketRequest, NotificationSent, NotificationType, OrderDetails,
    SendOrderCancellationRequest, SendOrderConfirmationRequest, SendShippingUpdateRequest,
    SupportTicketCreated, TicketPriority,
};

keyed_import! {
    CustomerView serves "customer-service" ("customer service"):
    /// Customer messages and support tickets. Every call carries an idempotency
    /// key: a repeated key must not message twice.
    pub trait CustomerService {
        /// Sends the order confirmation.
        fn send_order_confirmation(SendOrderConfirmationRequest) -> NotificationSent;

        /// Sends the cancellation notice.
        fn send_order_cancellation(SendOrderCancellationRequest) -> NotificationSent;

        /// Sends a shipping update.
        fn send_shipping_update(SendShippingUpdateRequest) -> NotificationSent;

        /// Opens a support ticket.
        fn create_support_ticket(CreateSupportTicketRequest) -> SupportTicketCreated;
    }
}
