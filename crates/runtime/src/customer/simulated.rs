//! Customer service in memory: it records the messages it would have sent
//! and the tickets it would have opened.

use std::collections::HashMap;

use super::{
    CreateSupportTicketRequest, CustomerService, NotificationSent, NotificationType,
    SendOrderCancellationRequest, SendOrderConfirmationRequest, SendShippingUpdateRequest,
    SupportTicketCreated, TicketPriority,
};
use crate::external::{ExternalError, Operation};
use crate::simulation::{
    Memo, Records, Replay, Replayed, SimBackend, SimControl, derived_id, request,
};

/// A message the simulated service sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// The idempotency key it was sent with.
    pub key: String,
    /// To whom.
    pub customer_id: String,
    /// About which order.
    pub order_id: String,
    /// Which kind.
    pub kind: NotificationType,
    /// A one-line summary of its content.
    pub summary: String,
    /// When.
    pub sent_at: u64,
}

/// A ticket the simulated service opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// The ticket's id.
    pub ticket_id: String,
    /// The order.
    pub order_id: String,
    /// Its customer.
    pub customer_id: String,
    /// What is wrong.
    pub issue: String,
    /// How urgent.
    pub priority: TicketPriority,
    /// When.
    pub created_at: u64,
}

/// The simulated [`CustomerService`].
pub struct SimulatedCustomer {
    core: SimBackend<State>,
}

#[derive(Default)]
struct State {
    /// Per message operation, so one key used for two kinds of message
    /// sends both.
    message_outcomes: HashMap<Operation, Memo<Result<NotificationSent, ExternalError>>>,
    ticket_outcomes: Memo<Result<SupportTicketCreated, ExternalError>>,
    desk: Desk,
}

#[derive(Default)]
struct Desk {
    /// The most recent messages and tickets (see [`Records`]).
    messages: Records<SentMessage>,
    tickets: Records<Ticket>,
}

impl SimulatedCustomer {
    /// A service that has sent nothing yet.
    pub fn new(sim: SimControl) -> Self {
        Self {
            core: SimBackend::new(sim),
        }
    }

    /// Every message sent, oldest first.
    pub fn messages(&self) -> Vec<SentMessage> {
        self.core.lock().desk.messages.to_vec()
    }

    /// The messages about `order_id`, oldest first.
    pub fn messages_for_order(&self, order_id: &str) -> Vec<SentMessage> {
        self.core
            .lock()
            .desk
            .messages
            .iter()
            .filter(|m| m.order_id == order_id)
            .cloned()
            .collect()
    }

    /// Every ticket opened, oldest first.
    pub fn tickets(&self) -> Vec<Ticket> {
        self.core.lock().desk.tickets.to_vec()
    }

    /// Sends one message through the idempotency and fault machinery.
    fn send<R: serde::Serialize>(
        &self,
        operation: Operation,
        key: &str,
        request: &R,
        message: impl FnOnce(u64) -> SentMessage,
    ) -> Result<NotificationSent, ExternalError> {
        self.core.call(
            operation,
            key,
            request,
            |s| {
                (
                    s.message_outcomes.entry(operation).or_default(),
                    &mut s.desk,
                )
            },
            |desk, now| {
                let message = message(now);
                let sent = NotificationSent {
                    customer_id: message.customer_id.clone(),
                    notification_type: message.kind,
                    sent_at: now,
                };
                desk.messages.push(message);
                Ok(sent)
            },
        )
    }
}

impl CustomerService for SimulatedCustomer {
    fn send_order_confirmation(
        &self,
        key: &str,
        request: &SendOrderConfirmationRequest,
    ) -> Result<NotificationSent, ExternalError> {
        self.send(Operation::SendOrderConfirmation, key, request, |now| {
            let details = &request.order_details;
            SentMessage {
                key: key.to_owned(),
                customer_id: request.customer_id.clone(),
                order_id: request.order_id.clone(),
                kind: NotificationType::OrderConfirmation,
                summary: format!(
                    "{} line(s), total {} {}",
                    details.items.len(),
                    details.total.amount,
                    details.total.currency
                ),
                sent_at: now,
            }
        })
    }

    fn send_order_cancellation(
        &self,
        key: &str,
        request: &SendOrderCancellationRequest,
    ) -> Result<NotificationSent, ExternalError> {
        self.send(Operation::SendOrderCancellation, key, request, |now| {
            SentMessage {
                key: key.to_owned(),
                customer_id: request.customer_id.clone(),
                order_id: request.order_id.clone(),
                kind: NotificationType::OrderCancellation,
                summary: request.reason.clone(),
                sent_at: now,
            }
        })
    }

    fn send_shipping_update(
        &self,
        key: &str,
        request: &SendShippingUpdateRequest,
    ) -> Result<NotificationSent, ExternalError> {
        self.send(Operation::SendShippingUpdate, key, request, |now| {
            SentMessage {
                key: key.to_owned(),
                customer_id: request.customer_id.clone(),
                order_id: request.order_id.clone(),
                kind: NotificationType::ShippingUpdate,
                summary: format!("{}: {:?}", request.tracking_number, request.shipping_status),
                sent_at: now,
            }
        })
    }

    fn create_support_ticket(
        &self,
        key: &str,
        request: &CreateSupportTicketRequest,
    ) -> Result<SupportTicketCreated, ExternalError> {
        self.core.call(
            Operation::CreateSupportTicket,
            key,
            request,
            |s| (&mut s.ticket_outcomes, &mut s.desk),
            |desk, now| {
                let length = request.issue.chars().count();
                if !(1..=1_000).contains(&length) {
                    return Err(ExternalError::permanent(format!(
                        "the issue must have 1 to 1000 characters, not {length}"
                    )));
                }
                let ticket_id = format!("tck_{}", derived_id("ticket", key).simple());
                desk.tickets.push(Ticket {
                    ticket_id: ticket_id.clone(),
                    order_id: request.order_id.clone(),
                    customer_id: request.customer_id.clone(),
                    issue: request.issue.clone(),
                    priority: request.priority,
                    created_at: now,
                });
                Ok(SupportTicketCreated {
                    ticket_id,
                    order_id: request.order_id.clone(),
                    created_at: now,
                })
            },
        )
    }
}

impl Replay for SimulatedCustomer {
    fn replay(&self, action: &str, key: &str, json: &str) -> anyhow::Result<Replayed> {
        Ok(match action {
            "send-order-confirmation" => {
                Replayed::call(&self.send_order_confirmation(key, &request(json)?))
            }
            "send-order-cancellation" => {
                Replayed::call(&self.send_order_cancellation(key, &request(json)?))
            }
            "send-shipping-update" => {
                Replayed::call(&self.send_shipping_update(key, &request(json)?))
            }
            "create-support-ticket" => {
                Replayed::call(&self.create_support_ticket(key, &request(json)?))
            }
            action => anyhow::bail!("unknown action customer.{action}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulation::test_control;
    use crate::simulation::{CallOutcome, Scripted};

    fn service() -> (SimulatedCustomer, SimControl) {
        let sim = test_control(77);
        (SimulatedCustomer::new(sim.clone()), sim)
    }

    fn cancellation(order: &str) -> SendOrderCancellationRequest {
        SendOrderCancellationRequest {
            order_id: order.to_owned(),
            customer_id: "customer-1".to_owned(),
            reason: "payment declined".to_owned(),
        }
    }

    fn ticket(issue: &str) -> CreateSupportTicketRequest {
        CreateSupportTicketRequest {
            order_id: "order-1".to_owned(),
            customer_id: "customer-1".to_owned(),
            issue: issue.to_owned(),
            priority: TicketPriority::Urgent,
        }
    }

    #[test]
    fn a_repeated_key_messages_once() {
        let (service, sim) = service();
        let sent = service
            .send_order_cancellation("k", &cancellation("order-1"))
            .unwrap();
        assert_eq!(
            service
                .send_order_cancellation("k", &cancellation("order-1"))
                .unwrap(),
            sent
        );
        assert_eq!(sent.sent_at, 77);
        assert_eq!(sent.notification_type, NotificationType::OrderCancellation);
        let messages = service.messages_for_order("order-1");
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].summary, "payment declined");
        assert_eq!(sim.log().len(), 2);
    }

    #[test]
    fn the_same_key_on_different_operations_are_different_calls() {
        let (service, _) = service();
        service
            .send_order_cancellation("k", &cancellation("order-1"))
            .unwrap();
        service
            .send_shipping_update(
                "k",
                &SendShippingUpdateRequest {
                    order_id: "order-1".to_owned(),
                    customer_id: "customer-1".to_owned(),
                    tracking_number: "1Z00".to_owned(),
                    shipping_status:
                        crate::bindings::oms::order_management::types::ShipmentStatus::PickedUp,
                },
            )
            .unwrap();
        assert_eq!(service.messages().len(), 2);
    }

    #[test]
    fn tickets_are_opened_once_and_validated() {
        let (service, sim) = service();
        let opened = service
            .create_support_ticket("t", &ticket("refund stuck"))
            .unwrap();
        assert_eq!(
            service
                .create_support_ticket("t", &ticket("refund stuck"))
                .unwrap(),
            opened
        );
        assert_eq!(service.tickets().len(), 1);
        assert_eq!(service.tickets()[0].priority, TicketPriority::Urgent);
        assert!(matches!(
            service.create_support_ticket("t2", &ticket("")),
            Err(ExternalError::Permanent(_))
        ));
        sim.script(Operation::CreateSupportTicket, [Scripted::Transient]);
        assert!(
            service
                .create_support_ticket("t3", &ticket("x"))
                .unwrap_err()
                .is_transient()
        );
        assert_eq!(
            sim.log()
                .count(Operation::CreateSupportTicket, CallOutcome::Transient),
            1
        );
    }
}
