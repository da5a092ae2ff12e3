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

/// The typed form of one stream's events. A case names the stored event
/// and the WIT record of the same name it becomes, and each of the record's
/// fields once, with how its value changes type: nothing (the same value),
/// `into`, `with f` (`f(&value)`), `each f` (a list, `f` on every element).
/// A stored event that does not decode, or matches the pattern after
/// `else`, is `other`.
macro_rules! typed {
    ($payload:expr, $events:ident, $other:expr, {
        $($case:ident { $($field:ident $(: $how:ident $($f:path)?)?),* $(,)? }),* $(,)?
    } $(else $rest:pat)?) => {
        match serde_json::from_str::<$events>($payload) {
            Ok(event) => match event {
                $($events::$case { $($field,)* .. } => ev::DomainEvent::$case(ev::$case {
                    $($field: typed!(@value $field $($how $($f)?)?),)*
                }),)*
                $($rest => $other,)?
            },
            Err(_) => $other,
        }
    };
    (@value $v:ident) => { $v };
    (@value $v:ident into) => { $v.into() };
    (@value $v:ident with $f:path) => { $f(&$v) };
    (@value $v:ident each $f:path) => { $v.iter().map($f).collect() };
}

fn returned_item_to(i: &ReturnItem) -> ev::ReturnedItem {
    ev::ReturnedItem {
        item_id: i.item_id.clone(),
        quantity: i.quantity,
        return_reason: i.return_reason.into(),
    }
}

/// The typed form of a stored event; `other` for bookkeeping events.
pub(super) fn typed_event(e: &StoredEvent) -> ev::DomainEvent {
    use crate::domain::order::OrderEvent as O;
    use crate::domain::returns::ReturnEvent as R;
    use crate::domain::shipment::ShipmentEvent as S;
    let other = || ev::DomainEvent::Other(e.event_type.clone());
    if e.stream_id.starts_with("order-") {
        typed!(&e.payload, O, other(), {
            DraftCreated { order_id, customer_id, created_at },
            OrderPlaced {
                order_id,
                customer_id,
                items: each item_to,
                subtotal: with money_to,
                tax: with money_to,
                shipping_cost: with money_to,
                total: with money_to,
                shipping_address: with address_to,
                billing_address: with address_to,
                payment_method: into,
                placed_at,
            },
            PaymentConfirmed { order_id, transaction_id, amount_paid: with money_to, confirmed_at },
            InventoryAllocated { order_id, all_items_allocated, allocated_at },
            OrderShipped { order_id, shipment_id, carrier: into, tracking_number, shipped_at },
            OrderDelivered { order_id, delivered_at, signed_by },
            OrderCancelled { order_id, reason, cancelled_by, cancelled_at },
            OrderReturned { order_id, returned_at },
            OrderRefunded { return_id, amount: with money_to, refunded_at },
        } else _)
    } else if e.stream_id.starts_with("shipment-") {
        typed!(&e.payload, S, other(), {
            ShipmentCreated { shipment_id, order_id, carrier: into, tracking_number, created_at },
            TrackingUpdated { shipment_id, status: into, location, description, updated_at },
            ShipmentDelivered { shipment_id, order_id, delivered_at, signed_by },
            ShipmentFailed { shipment_id, order_id, reason, failed_at },
        })
    } else if e.stream_id.starts_with("return-") {
        typed!(&e.payload, R, other(), {
            ReturnRequested {
                return_id,
                order_id,
                customer_id,
                return_items: each returned_item_to,
                return_reason: into,
                comments,
                requested_at,
            },
            ReturnApproved { return_id, approved_by, return_label, approved_at },
            ReturnDenied { return_id, denied_by, reason, denied_at },
            ReturnShipped { return_id, carrier: into, tracking_number, shipped_at },
            ReturnReceived { return_id, received_at, condition, all_items_received },
            RefundProcessed {
                return_id,
                order_id,
                refund_amount: with money_to,
                refund_method: into,
                processed_at,
            },
            ReturnClosed { return_id, reason, closed_at },
        } else R::RefundCompleted { .. } | R::RefundStarted { .. } | R::RefundRefused { .. })
    } else {
        other()
    }
}
