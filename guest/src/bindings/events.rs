//! Stored events as the typed WIT `domain-event`, and histories.

use super::*;

pub(super) fn history(events: Vec<StoredEvent>) -> Vec<q::HistoryEntry> {
    events
        .into_iter()
        .map(|e| q::HistoryEntry {
            event: typed_event(&e),
            version: e.version,
            event_type: e.event_type,
            payload: e.payload,
            recorded_at: e.recorded_at,
        })
        .collect()
}

/// The typed form of a stored event; `other` for bookkeeping events.
pub(super) fn typed_event(e: &StoredEvent) -> ev::DomainEvent {
    use crate::domain::order::OrderEvent as O;
    use crate::domain::returns::ReturnEvent as R;
    use crate::domain::shipment::ShipmentEvent as S;
    let other = || ev::DomainEvent::Other(e.event_type.clone());
    if e.stream_id.starts_with("order-") {
        let Ok(event) = serde_json::from_str::<O>(&e.payload) else {
            return other();
        };
        match event {
            O::DraftCreated {
                order_id,
                customer_id,
                created_at,
                ..
            } => ev::DomainEvent::DraftCreated(ev::DraftCreated {
                order_id,
                customer_id,
                created_at,
            }),
            O::OrderPlaced {
                order_id,
                customer_id,
                items,
                subtotal,
                tax,
                shipping_cost,
                total,
                shipping_address,
                billing_address,
                payment_method,
                placed_at,
            } => ev::DomainEvent::OrderPlaced(ev::OrderPlaced {
                order_id,
                customer_id,
                items: items.iter().map(item_to).collect(),
                subtotal: money_to(&subtotal),
                tax: money_to(&tax),
                shipping_cost: money_to(&shipping_cost),
                total: money_to(&total),
                shipping_address: address_to(&shipping_address),
                billing_address: address_to(&billing_address),
                payment_method: payment_method.into(),
                placed_at,
            }),
            O::PaymentConfirmed {
                order_id,
                transaction_id,
                amount_paid,
                confirmed_at,
            } => ev::DomainEvent::PaymentConfirmed(ev::PaymentConfirmed {
                order_id,
                transaction_id,
                amount_paid: money_to(&amount_paid),
                confirmed_at,
            }),
            O::InventoryAllocated {
                order_id,
                all_items_allocated,
                allocated_at,
                ..
            } => ev::DomainEvent::InventoryAllocated(ev::InventoryAllocated {
                order_id,
                all_items_allocated,
                allocated_at,
            }),
            O::OrderShipped {
                order_id,
                shipment_id,
                carrier,
                tracking_number,
                shipped_at,
            } => ev::DomainEvent::OrderShipped(ev::OrderShipped {
                order_id,
                shipment_id,
                carrier: carrier.into(),
                tracking_number,
                shipped_at,
            }),
            O::OrderDelivered {
                order_id,
                delivered_at,
                signed_by,
            } => ev::DomainEvent::OrderDelivered(ev::OrderDelivered {
                order_id,
                delivered_at,
                signed_by,
            }),
            O::OrderCancelled {
                order_id,
                reason,
                cancelled_by,
                cancelled_at,
            } => ev::DomainEvent::OrderCancelled(ev::OrderCancelled {
                order_id,
                reason,
                cancelled_by,
                cancelled_at,
            }),
            O::OrderReturned {
                order_id,
                returned_at,
            } => ev::DomainEvent::OrderReturned(ev::OrderReturned {
                order_id,
                returned_at,
            }),
            O::OrderRefunded {
                return_id,
                amount,
                refunded_at,
            } => ev::DomainEvent::OrderRefunded(ev::OrderRefunded {
                return_id,
                amount: money_to(&amount),
                refunded_at,
            }),
            _ => other(),
        }
    } else if e.stream_id.starts_with("shipment-") {
        let Ok(event) = serde_json::from_str::<S>(&e.payload) else {
            return other();
        };
        match event {
            S::ShipmentCreated {
                shipment_id,
                order_id,
                carrier,
                tracking_number,
                created_at,
                ..
            } => ev::DomainEvent::ShipmentCreated(ev::ShipmentCreated {
                shipment_id,
                order_id,
                carrier: carrier.into(),
                tracking_number,
                created_at,
            }),
            S::TrackingUpdated {
                shipment_id,
                status,
                location,
                description,
                updated_at,
            } => ev::DomainEvent::TrackingUpdated(ev::TrackingUpdated {
                shipment_id,
                status: status.into(),
                location,
                description,
                updated_at,
            }),
            S::ShipmentDelivered {
                shipment_id,
                order_id,
                delivered_at,
                signed_by,
            } => ev::DomainEvent::ShipmentDelivered(ev::ShipmentDelivered {
                shipment_id,
                order_id,
                delivered_at,
                signed_by,
            }),
            S::ShipmentFailed {
                shipment_id,
                order_id,
                reason,
                failed_at,
            } => ev::DomainEvent::ShipmentFailed(ev::ShipmentFailed {
                shipment_id,
                order_id,
                reason,
                failed_at,
            }),
        }
    } else if e.stream_id.starts_with("return-") {
        let Ok(event) = serde_json::from_str::<R>(&e.payload) else {
            return other();
        };
        match event {
            R::ReturnRequested {
                return_id,
                order_id,
                customer_id,
                return_items,
                return_reason,
                comments,
                requested_at,
            } => ev::DomainEvent::ReturnRequested(ev::ReturnRequested {
                return_id,
                order_id,
                customer_id,
                return_items: return_items
                    .iter()
                    .map(|i| ev::ReturnedItem {
                        item_id: i.item_id.clone(),
                        quantity: i.quantity,
                        return_reason: i.return_reason.into(),
                    })
                    .collect(),
                return_reason: return_reason.into(),
                comments,
                requested_at,
            }),
            R::ReturnApproved {
                return_id,
                approved_by,
                return_label,
                approved_at,
            } => ev::DomainEvent::ReturnApproved(ev::ReturnApproved {
                return_id,
                approved_by,
                return_label,
                approved_at,
            }),
            R::ReturnDenied {
                return_id,
                denied_by,
                reason,
                denied_at,
            } => ev::DomainEvent::ReturnDenied(ev::ReturnDenied {
                return_id,
                denied_by,
                reason,
                denied_at,
            }),
            R::ReturnShipped {
                return_id,
                carrier,
                tracking_number,
                shipped_at,
            } => ev::DomainEvent::ReturnShipped(ev::ReturnShipped {
                return_id,
                carrier: carrier.into(),
                tracking_number,
                shipped_at,
            }),
            R::ReturnReceived {
                return_id,
                received_at,
                condition,
                all_items_received,
            } => ev::DomainEvent::ReturnReceived(ev::ReturnReceived {
                return_id,
                received_at,
                condition,
                all_items_received,
            }),
            R::RefundProcessed {
                return_id,
                order_id,
                refund_amount,
                refund_method,
                processed_at,
            } => ev::DomainEvent::RefundProcessed(ev::RefundProcessed {
                return_id,
                order_id,
                refund_amount: money_to(&refund_amount),
                refund_method: refund_method.into(),
                processed_at,
            }),
            R::ReturnClosed {
                return_id,
                reason,
                closed_at,
            } => ev::DomainEvent::ReturnClosed(ev::ReturnClosed {
                return_id,
                reason,
                closed_at,
            }),
            R::RefundCompleted { .. } | R::RefundStarted { .. } | R::RefundRefused { .. } => {
                other()
            }
        }
    } else {
        other()
    }
}
