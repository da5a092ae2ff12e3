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

/// Customer messages and support tickets. Every call carries an idempotency
/// key: a repeated key must not message twice.
pub trait CustomerService: Send + Sync {
    /// Sends the order confirmation.
    fn send_order_confirmation(
        &self,
        key: &str,
        request: &SendOrderConfirmationRequest,
    ) -> Result<NotificationSent, ExternalError>;

    /// Sends the cancellation notice.
    fn send_order_cancellation(
        &self,
        key: &str,
        request: &SendOrderCancellationRequest,
    ) -> Result<NotificationSent, ExternalError>;

    /// Sends a shipping update.
    fn send_shipping_update(
        &self,
        key: &str,
        request: &SendShippingUpdateRequest,
    ) -> Result<NotificationSent, ExternalError>;

    /// Opens a support ticket.
    fn create_support_ticket(
        &self,
        key: &str,
        request: &CreateSupportTicketRequest,
    ) -> Result<SupportTicketCreated, ExternalError>;
}

import_view! {
    /// The `customer-service` import as one store serves it: customer service, and nothing
    /// else of the host.
    CustomerView(&dyn CustomerService),
    "customer-service",
    "customer service"
}

impl wit::Host for CustomerView<'_> {
    fn send_order_confirmation(
        &mut self,
        key: String,
        request: SendOrderConfirmationRequest,
    ) -> Result<NotificationSent, WitExternalError> {
        Ok(self.0.send_order_confirmation(&key, &request)?)
    }

    fn send_order_cancellation(
        &mut self,
        key: String,
        request: SendOrderCancellationRequest,
    ) -> Result<NotificationSent, WitExternalError> {
        Ok(self.0.send_order_cancellation(&key, &request)?)
    }

    fn send_shipping_update(
        &mut self,
        key: String,
        request: SendShippingUpdateRequest,
    ) -> Result<NotificationSent, WitExternalError> {
        Ok(self.0.send_shipping_update(&key, &request)?)
    }

    fn create_support_ticket(
        &mut self,
        key: String,
        request: CreateSupportTicketRequest,
    ) -> Result<SupportTicketCreated, WitExternalError> {
        Ok(self.0.create_support_ticket(&key, &request)?)
    }
}
