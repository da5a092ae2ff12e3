//! Events arriving from the external contexts, mapped onto commands. Each
//! handler first checks whether the event was already applied, so a
//! redelivery answers `Duplicate` and writes nothing.

use super::App;
use super::ports::{CancelShipmentRequest, ShippingUpdateRequest, TicketPriority, TicketRequest};
use super::store::{
    Write, load_order, load_return, load_shipment, load_shipment_to_append, order_returns_tag,
    storage, transaction_tag,
};
use crate::domain::order::{self, Order, OrderStatus};
use crate::domain::returns::{ReturnEvent, ReturnStatus};
use crate::domain::saga::{CarrierBooking, SagaStep, StepOutcome, fail};
use crate::domain::shipment::{
    self, InitShipment, Shipment, ShipmentEvent, ShipmentItem, ShipmentState,
};
use crate::domain::values::*;
use crate::domain::{DomainError, DomainResult, Entity, ExternalError};

/// What an inbound event did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inbound {
    Applied,
    Duplicate,
}

impl App<'_> {
    pub fn on_payment_succeeded(
        &self,
        order_id: &str,
        transaction_id: &str,
        amount: Money,
    ) -> DomainResult<Inbound> {
        let o = self.order("order-id", order_id)?;
        if o.payment
            .as_ref()
            .is_some_and(|p| p.transaction_id == transaction_id)
        {
            return Ok(Inbound::Duplicate);
        }
        self.confirm_payment(&o.order_id, transaction_id, amount)?;
        Ok(Inbound::Applied)
    }

    /// The saga fails at `process-payment`; its compensations run now.
    pub fn on_payment_failed(&self, order_id: &str, reason: &str) -> DomainResult<Inbound> {
        self.fail_step(
            order_id,
            SagaStep::ProcessPayment,
            OrderStatus::Pending,
            reason,
        )
    }

    pub fn on_stock_allocated(
        &self,
        order_id: &str,
        all_items_allocated: bool,
    ) -> DomainResult<Inbound> {
        let o = self.order("order-id", order_id)?;
        if o.allocation
            .as_ref()
            .is_some_and(|a| a.all_items_allocated == all_items_allocated)
        {
            return Ok(Inbound::Duplicate);
        }
        let allocations: Vec<(String, bool)> = o
            .items
            .iter()
            .map(|i| (i.item_id.clone(), all_items_allocated))
            .collect();
        self.allocate_inventory(&o.order_id, &allocations)?;
        Ok(Inbound::Applied)
    }

    /// The saga fails at `allocate-inventory`; its compensations run now.
    pub fn on_stock_allocation_failed(
        &self,
        order_id: &str,
        detail: &str,
    ) -> DomainResult<Inbound> {
        self.fail_step(
            order_id,
            SagaStep::AllocateInventory,
            OrderStatus::Confirmed,
            &format!("out of stock: {detail}"),
        )
    }

    fn fail_step(
        &self,
        order_id: &str,
        step: SagaStep,
        expected: OrderStatus,
        reason: &str,
    ) -> DomainResult<Inbound> {
        let o = self.order("order-id", order_id)?;
        if o.saga.failure.as_ref().is_some_and(|(s, _)| *s == step) {
            return Ok(Inbound::Duplicate);
        }
        // A late failure report for a step that has succeeded meanwhile (a
        // stale out-of-stock after the stock was allocated) changes nothing.
        let done = o.saga.step(step).status == crate::domain::saga::StepStatus::Completed
            || (step == SagaStep::AllocateInventory
                && o.allocation.as_ref().is_some_and(|a| a.all_items_allocated))
            || (step == SagaStep::ProcessPayment && o.payment.is_some());
        if done || o.status != expected {
            return Err(DomainError::transition(
                Entity::Order,
                o.status,
                &format!("fail-{step}"),
            ));
        }
        let mut events = Vec::new();
        if !o.saga.started {
            events.push(order::OrderEvent::SagaStarted {
                started_at: self.now(),
            });
        }
        let mut reason = reason.to_string();
        if reason.is_empty() {
            reason = "no reason given".to_string();
        }
        events.extend(fail(&o, step, &reason, self.now()));
        self.write_order(Some(&o), events)?;
        // Compensation runs now when it can; the saga's timer covers the rest.
        let _ = self.advance_saga(&o.order_id);
        Ok(Inbound::Applied)
    }

    /// Refund confirmations are recorded on the return they confirm; one
    /// for a cancellation refund is already recorded by the saga.
    pub fn on_refund_completed(
        &self,
        transaction_id: &str,
        amount: Money,
        refunded_at: Timestamp,
    ) -> DomainResult<Inbound> {
        let streams = self
            .env
            .store
            .find_streams(&transaction_tag(transaction_id))
            .map_err(storage)?;
        let Some(order_id) = streams.iter().find_map(|s| s.strip_prefix("order-")) else {
            return Err(DomainError::not_found(
                Entity::Order,
                format!("transaction {transaction_id}"),
            ));
        };
        let return_streams = self
            .env
            .store
            .find_streams(&order_returns_tag(order_id))
            .map_err(storage)?;
        let mut confirmed_already = false;
        for s in return_streams {
            let Some(rid) = s.strip_prefix("return-") else {
                continue;
            };
            let Some(r) = load_return(&self.env, rid)? else {
                continue;
            };
            if r.status != ReturnStatus::Refunded || r.refund_amount.as_ref() != Some(&amount) {
                continue;
            }
            if r.refund_confirmed {
                confirmed_already = true;
                continue;
            }
            let mut w = Write::new();
            w.ret(
                Some(&r),
                vec![ReturnEvent::RefundCompleted {
                    return_id: r.return_id.clone(),
                    transaction_id: transaction_id.to_string(),
                    refund_amount: amount,
                    refunded_at,
                }],
            );
            w.commit(&self.env)?;
            return Ok(Inbound::Applied);
        }
        let order = load_order(&self.env, order_id)?;
        let cancellation_refund = order
            .as_ref()
            .is_some_and(|o| o.status == OrderStatus::Cancelled && o.refunded.amount > 0);
        if confirmed_already || cancellation_refund {
            return Ok(Inbound::Duplicate);
        }
        Err(DomainError::not_found(
            Entity::Return,
            format!("refund of {amount} on transaction {transaction_id}"),
        ))
    }

    /// Starts tracking a shipment the carrier created (and ships the order
    /// when it is ready to ship).
    pub fn on_shipment_created(
        &self,
        shipment_id: &str,
        order_id: &str,
        carrier: CarrierCode,
        tracking_number: &str,
    ) -> DomainResult<Inbound> {
        let o = self.order("order-id", order_id)?;
        let shipment_id = parse_uuid("shipment-id", shipment_id)?;
        let existing = load_shipment(&self.env, &shipment_id)?;
        // The shipment the order ships with, when it is another one: its
        // own, or the first booking the carrier reported before it could
        // ship (kept for the saga).
        let ships_with = o
            .shipping
            .as_ref()
            .map(|s| s.shipment_id.clone())
            .or_else(|| {
                o.saga
                    .carrier_bookings
                    .first()
                    .map(|b| b.shipment_id.clone())
            })
            .filter(|s| *s != shipment_id);
        let ready = o.status == OrderStatus::Confirmed
            && o.allocation.as_ref().is_some_and(|a| a.all_items_allocated)
            && ships_with.is_none();
        if existing.is_some() && !ready {
            return Ok(Inbound::Duplicate);
        }
        let own = matches!(
            &o.saga.step(SagaStep::CreateShipment).outcome,
            Some(StepOutcome::ShipmentBooked { shipment_id: s, .. }) if *s == shipment_id
        );
        let booking = CarrierBooking {
            shipment_id: shipment_id.clone(),
            carrier,
            tracking_number: tracking_number.to_string(),
        };
        // A booking for a cancelled order, or for an order that ships with
        // another shipment, is cancelled at once (the saga's own booking is
        // its compensation's, or its duplicate undo's); an error leaves
        // nothing written, so the carrier's redelivery tries again.
        let mut cancelled: Option<Result<(), String>> = None;
        if (o.status == OrderStatus::Cancelled || ships_with.is_some()) && !own {
            let why = match &ships_with {
                Some(s) if o.status != OrderStatus::Cancelled => {
                    format!("the order ships with shipment {s}")
                }
                _ => "the order is cancelled".to_string(),
            };
            cancelled = match self.env.carrier.cancel_shipment(
                &booking.cancel_key(&o.order_id),
                &CancelShipmentRequest {
                    shipment_id: &shipment_id,
                    reason: &why,
                },
            ) {
                Ok(()) => Some(Ok(())),
                Err(ExternalError::Permanent(m)) => Some(Err(m)),
                Err(e) => return Err(DomainError::External(e)),
            };
        }
        let mut w = Write::new();
        let mut order_events = Vec::new();
        let with = match &ships_with {
            Some(s) if o.status != OrderStatus::Cancelled => {
                format!("(the order ships with shipment {s})")
            }
            _ => "with the order".to_string(),
        };
        match &cancelled {
            Some(Ok(())) => order_events.push(order::OrderEvent::NoteRecorded {
                note: format!("shipment {shipment_id} booked by the carrier was cancelled {with}"),
                recorded_at: self.now(),
            }),
            Some(Err(m)) => {
                let note = format!(
                    "shipment {shipment_id} booked by the carrier could not be cancelled ({m}); intercept it"
                );
                // A kept order must end with one live booking: a second one
                // the carrier will not cancel is handed to people with an
                // urgent ticket, opened before anything is written (a
                // failure leaves the redelivery to try again).
                if o.status != OrderStatus::Cancelled {
                    let ticket = self
                        .env
                        .customer
                        .create_support_ticket(
                            &format!(
                                "order-{}/support-ticket/create-shipment/carrier-{shipment_id}",
                                o.order_id
                            ),
                            &TicketRequest {
                                order_id: &o.order_id,
                                customer_id: &o.customer_id,
                                issue: &format!("order {}: {note} {with}", o.order_id)
                                    .chars()
                                    .take(1000)
                                    .collect::<String>(),
                                priority: TicketPriority::Urgent,
                            },
                        )
                        .map_err(DomainError::External)?;
                    order_events.push(order::OrderEvent::NoteRecorded {
                        note: format!("support ticket {ticket} opened: {note}"),
                        recorded_at: self.now(),
                    });
                }
                order_events.push(order::OrderEvent::NoteRecorded {
                    note,
                    recorded_at: self.now(),
                });
            }
            None => {}
        }
        // Before the order can ship (not yet paid or allocated), the
        // booking is kept for the saga, which ships with it.
        if !ready
            && !own
            && cancelled.is_none()
            && o.shipping.is_none()
            && matches!(o.status, OrderStatus::Pending | OrderStatus::Confirmed)
            && !o
                .saga
                .carrier_bookings
                .iter()
                .any(|b| b.shipment_id == shipment_id)
        {
            order_events.push(order::OrderEvent::CarrierBookingReceived {
                shipment_id: shipment_id.clone(),
                carrier,
                tracking_number: tracking_number.to_string(),
                received_at: self.now(),
            });
        }
        if existing.is_none() {
            let Some(address) = o.shipping_address.clone() else {
                return Err(DomainError::transition(
                    Entity::Order,
                    o.status,
                    "init-shipment",
                ));
            };
            let cmd = InitShipment {
                shipment_id: shipment_id.clone(),
                order_id: o.order_id.clone(),
                carrier,
                tracking_number: tracking_number.to_string(),
                shipping_address: address,
                items: ShipmentItem::all_of(&o.items),
            }
            .validate()?;
            let mut events = shipment::decide_init_shipment(None, cmd, self.now())?;
            if matches!(cancelled, Some(Ok(()))) {
                events.push(ShipmentEvent::ShipmentFailed {
                    shipment_id: shipment_id.clone(),
                    order_id: o.order_id.clone(),
                    reason: format!("shipment cancelled {with}"),
                    failed_at: self.now(),
                });
            }
            w.shipment(None, events);
        }
        if ready {
            order_events.extend(order::decide_ship_order(
                &o,
                &shipment_id,
                carrier,
                tracking_number,
                self.now(),
            )?);
        }
        if !order_events.is_empty() {
            w.order(Some(&o), order_events, self.now());
        }
        w.commit(&self.env)?;
        Ok(Inbound::Applied)
    }

    /// A tracking update at the carrier's time. A repeat (same status and
    /// time) is a duplicate.
    pub fn on_tracking(
        &self,
        shipment_id: &str,
        status: ShipmentStatus,
        location: Option<String>,
        at: Timestamp,
    ) -> DomainResult<Inbound> {
        let s = self.shipment_for_event(shipment_id)?;
        if s.tracking_history.has_scan(status, at) {
            return Ok(Inbound::Duplicate);
        }
        let description = match status {
            ShipmentStatus::PickedUp => "picked up by the carrier".to_string(),
            ShipmentStatus::InTransit => "in transit".to_string(),
            ShipmentStatus::OutForDelivery => "out for delivery".to_string(),
            other => other.to_string(),
        };
        let events = shipment::decide_update_tracking(&s, status, location, &description, at)?;
        let mut w = Write::new();
        w.shipment(Some(&s), events);
        w.commit(&self.env)?;
        let o = load_order(&self.env, &s.order_id).ok().flatten();
        self.tell_customer(&s, o.as_ref(), status, at);
        Ok(Inbound::Applied)
    }

    /// Delivery: the shipment is complete and the order delivered, in one write.
    pub fn on_delivered(
        &self,
        shipment_id: &str,
        delivered_at: Timestamp,
        signed_by: Option<String>,
    ) -> DomainResult<Inbound> {
        let s = self.shipment_for_event(shipment_id)?;
        let o = load_order(&self.env, &s.order_id)?;
        let order_done = o.as_ref().is_none_or(|o| o.status != OrderStatus::Shipped);
        if s.state == ShipmentState::DeliveryComplete && order_done {
            return Ok(Inbound::Duplicate);
        }
        let mut w = Write::new();
        if s.state != ShipmentState::DeliveryComplete {
            let events = shipment::decide_mark_delivered(&s, delivered_at, signed_by.clone())?;
            w.shipment(Some(&s), events);
        }
        if let Some(o) = o.as_ref().filter(|o| o.status == OrderStatus::Shipped) {
            let events = order::decide_deliver_order(o, delivered_at, signed_by)?;
            w.order(Some(o), events, self.now());
        }
        w.commit(&self.env)?;
        // The order as read above: its ids are what the update needs, and
        // a write does not change them.
        self.tell_customer(&s, o.as_ref(), ShipmentStatus::Delivered, delivered_at);
        Ok(Inbound::Applied)
    }

    pub fn on_delivery_failed(&self, shipment_id: &str, reason: &str) -> DomainResult<Inbound> {
        let s = self.shipment_for_event(shipment_id)?;
        if s.state == ShipmentState::DeliveryFailed {
            return Ok(Inbound::Duplicate);
        }
        let events = shipment::decide_mark_failed(&s, reason, self.now())?;
        let mut w = Write::new();
        w.shipment(Some(&s), events);
        w.commit(&self.env)?;
        Ok(Inbound::Applied)
    }

    fn shipment_for_event(&self, shipment_id: &str) -> DomainResult<Shipment> {
        let id = parse_uuid("shipment-id", shipment_id)?;
        load_shipment_to_append(&self.env, &id)?
            .ok_or_else(|| DomainError::not_found(Entity::Shipment, id))
    }

    /// Shipping updates are a courtesy: a failure is not the event's
    /// failure, and a shipment whose order cannot be read tells no one.
    fn tell_customer(
        &self,
        s: &Shipment,
        o: Option<&Order>,
        status: ShipmentStatus,
        at: Timestamp,
    ) {
        if let Some(o) = o {
            let _ = self.env.customer.send_shipping_update(
                &format!("shipment-{}/shipping-update/{status}/{at}", s.shipment_id),
                &ShippingUpdateRequest {
                    order_id: &o.order_id,
                    customer_id: &o.customer_id,
                    tracking_number: &s.tracking_number,
                    status,
                },
            );
        }
    }
}
