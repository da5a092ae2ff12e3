//! The application layer: loads entities through the storage port, decides
//! with the domain, calls the external contexts with idempotency keys, and
//! writes the outcome back with expected versions. It holds no state between
//! calls.

pub mod inbound;
#[cfg(feature = "memory-ports")]
pub mod memory;
pub mod ports;
pub mod saga;
pub mod store;

use ports::{Env, StockItem};

use crate::domain::metrics::DailyMetrics;
use crate::domain::order::{self, Order, OrderEvent};
use crate::domain::returns::{self, RequestReturn, Return};
use crate::domain::shipment::{self, InitShipment, Shipment};
use crate::domain::values::*;
use crate::domain::{DomainError, DomainResult, Entity, ExternalError};
use store::{Write, load_order, load_return, load_shipment, storage};

pub use ports::StoredEvent;

/// The order-management application over an environment of ports.
pub struct App<'a> {
    pub env: Env<'a>,
}

fn required<T>(entity: Entity, id: &str, value: Option<T>) -> DomainResult<T> {
    value.ok_or_else(|| DomainError::not_found(entity, id))
}

impl<'a> App<'a> {
    pub fn new(env: Env<'a>) -> Self {
        App { env }
    }

    fn now(&self) -> Timestamp {
        self.env.clock.now()
    }

    pub(crate) fn order(&self, field: &str, order_id: &str) -> DomainResult<Order> {
        let id = parse_uuid(field, order_id)?;
        required(Entity::Order, &id, load_order(&self.env, &id)?)
    }

    fn shipment(&self, shipment_id: &str) -> DomainResult<Shipment> {
        let id = parse_uuid("shipment-id", shipment_id)?;
        required(Entity::Shipment, &id, load_shipment(&self.env, &id)?)
    }

    fn ret(&self, return_id: &str) -> DomainResult<Return> {
        let id = parse_uuid("return-id", return_id)?;
        required(Entity::Return, &id, load_return(&self.env, &id)?)
    }

    /// Writes order events and returns the order afterwards.
    fn write_order(&self, before: Option<&Order>, events: Vec<OrderEvent>) -> DomainResult<Order> {
        if events.is_empty() {
            return before
                .cloned()
                .ok_or_else(|| DomainError::Storage("nothing to write".to_string()));
        }
        let mut w = Write::new();
        w.order(before, events, self.now());
        w.commit(&self.env)?
            .ok_or_else(|| DomainError::Storage("nothing written".to_string()))
    }

    // ----- orders -------------------------------------------------------

    pub fn create_draft(&self, cmd: order::CreateDraft) -> DomainResult<Order> {
        let existing = load_order(&self.env, &cmd.order_id)?;
        let events = order::decide_create_draft(existing.as_ref(), cmd, self.now())?;
        self.write_order(existing.as_ref(), events)
    }

    pub fn update_draft(&self, order_id: &str, cmd: order::UpdateDraft) -> DomainResult<Order> {
        let o = self.order("order-id", order_id)?;
        let events = order::decide_update_draft(&o, cmd, self.now())?;
        self.write_order(Some(&o), events)
    }

    /// Places an order; the same write schedules its fulfilment saga.
    pub fn place_order(&self, cmd: order::PlaceOrder) -> DomainResult<Order> {
        let existing = load_order(&self.env, &cmd.order_id)?;
        let (tax, shipping) =
            self.env
                .policy
                .quote(&cmd.items, &cmd.subtotal, &cmd.shipping_address);
        let tax = Money::parse("pricing.tax", tax.amount, tax.currency.as_str())?;
        let shipping = Money::parse(
            "pricing.shipping-cost",
            shipping.amount,
            shipping.currency.as_str(),
        )?;
        let events = order::decide_place_order(existing.as_ref(), cmd, tax, shipping, self.now())?;
        self.write_order(existing.as_ref(), events)
    }

    pub fn confirm_payment(
        &self,
        order_id: &str,
        transaction_id: &str,
        amount_paid: Money,
    ) -> DomainResult<Order> {
        let o = self.order("order-id", order_id)?;
        let events = order::decide_confirm_payment(&o, transaction_id, amount_paid, self.now())?;
        self.write_order(Some(&o), events)
    }

    pub fn allocate_inventory(
        &self,
        order_id: &str,
        allocations: &[(String, bool)],
    ) -> DomainResult<Order> {
        let o = self.order("order-id", order_id)?;
        let events = order::decide_allocate_inventory(&o, allocations, self.now())?;
        self.write_order(Some(&o), events)
    }

    pub fn ship_order(
        &self,
        order_id: &str,
        shipment_id: &str,
        carrier: CarrierCode,
        tracking_number: &str,
    ) -> DomainResult<Order> {
        let o = self.order("order-id", order_id)?;
        let events =
            order::decide_ship_order(&o, shipment_id, carrier, tracking_number, self.now())?;
        self.write_order(Some(&o), events)
    }

    pub fn deliver_order(
        &self,
        order_id: &str,
        delivered_at: Timestamp,
        signed_by: Option<String>,
    ) -> DomainResult<Order> {
        let o = self.order("order-id", order_id)?;
        let events = order::decide_deliver_order(&o, delivered_at, signed_by)?;
        self.write_order(Some(&o), events)
    }

    /// Cancels an order, then runs the saga's compensations right away
    /// (refund, stock release, notice). If a compensation cannot finish
    /// now, the saga's timer makes the host retry it; the cancellation
    /// itself stands.
    pub fn cancel_order(
        &self,
        order_id: &str,
        reason: &str,
        cancelled_by: &str,
    ) -> DomainResult<Order> {
        let o = self.order("order-id", order_id)?;
        let events = order::decide_cancel_order(&o, reason, cancelled_by, self.now())?;
        let after = self.write_order(Some(&o), events)?;
        match self.advance_saga(&after.order_id) {
            Ok(o) => Ok(o),
            Err(_) => Ok(after),
        }
    }

    // ----- shipments ----------------------------------------------------

    pub fn init_shipment(&self, cmd: InitShipment) -> DomainResult<Shipment> {
        let cmd = cmd.validate()?;
        self.order("order-id", &cmd.order_id)?;
        let existing = load_shipment(&self.env, &cmd.shipment_id)?;
        let events = shipment::decide_init_shipment(existing.as_ref(), cmd, self.now())?;
        self.write_shipment(existing.as_ref(), events)
    }

    fn write_shipment(
        &self,
        before: Option<&Shipment>,
        events: Vec<shipment::ShipmentEvent>,
    ) -> DomainResult<Shipment> {
        if events.is_empty() {
            return before
                .cloned()
                .ok_or_else(|| DomainError::Storage("nothing to write".to_string()));
        }
        let mut w = Write::new();
        let after = w.shipment(before, events);
        w.commit(&self.env)?;
        after.ok_or_else(|| DomainError::Storage("nothing written".to_string()))
    }

    pub fn update_tracking(
        &self,
        shipment_id: &str,
        status: ShipmentStatus,
        location: Option<String>,
        description: &str,
    ) -> DomainResult<Shipment> {
        let s = self.shipment(shipment_id)?;
        let events =
            shipment::decide_update_tracking(&s, status, location, description, self.now())?;
        self.write_shipment(Some(&s), events)
    }

    pub fn mark_delivered(
        &self,
        shipment_id: &str,
        delivered_at: Timestamp,
        signed_by: Option<String>,
    ) -> DomainResult<Shipment> {
        let s = self.shipment(shipment_id)?;
        let events = shipment::decide_mark_delivered(&s, delivered_at, signed_by)?;
        self.write_shipment(Some(&s), events)
    }

    pub fn mark_failed(&self, shipment_id: &str, reason: &str) -> DomainResult<Shipment> {
        let s = self.shipment(shipment_id)?;
        let events = shipment::decide_mark_failed(&s, reason, self.now())?;
        self.write_shipment(Some(&s), events)
    }

    // ----- returns ------------------------------------------------------

    fn write_return(
        &self,
        before: Option<&Return>,
        events: Vec<returns::ReturnEvent>,
        order: Option<(&Order, Vec<OrderEvent>)>,
    ) -> DomainResult<Return> {
        let mut w = Write::new();
        if let Some((o, order_events)) = order
            && !order_events.is_empty()
        {
            w.order(Some(o), order_events, self.now());
        }
        let after = if events.is_empty() {
            before.cloned()
        } else {
            w.ret(before, events)
        };
        w.commit(&self.env)?;
        after.ok_or_else(|| DomainError::Storage("nothing written".to_string()))
    }

    pub fn request_return(&self, cmd: RequestReturn) -> DomainResult<Return> {
        let cmd = cmd.validate()?;
        let order = self.order("order-id", &cmd.order_id)?;
        let existing = load_return(&self.env, &cmd.return_id)?;
        let window = self.env.policy.policy().return_window_days;
        let (ret_events, order_events) =
            returns::decide_request_return(existing.as_ref(), &order, cmd, window, self.now())?;
        self.write_return(existing.as_ref(), ret_events, Some((&order, order_events)))
    }

    pub fn approve_return(
        &self,
        return_id: &str,
        approved_by: &str,
        label: Option<String>,
    ) -> DomainResult<Return> {
        let r = self.ret(return_id)?;
        let events = returns::decide_approve_return(&r, approved_by, label, self.now())?;
        self.write_return(Some(&r), events, None)
    }

    pub fn deny_return(
        &self,
        return_id: &str,
        denied_by: &str,
        reason: &str,
    ) -> DomainResult<Return> {
        let r = self.ret(return_id)?;
        let (events, order_events) =
            returns::decide_deny_return(&r, denied_by, reason, self.now())?;
        let order = self.order("order-id", &r.order_id)?;
        self.write_return(Some(&r), events, Some((&order, order_events)))
    }

    pub fn ship_return(
        &self,
        return_id: &str,
        carrier: CarrierCode,
        tracking_number: &str,
    ) -> DomainResult<Return> {
        let r = self.ret(return_id)?;
        let events = returns::decide_ship_return(&r, carrier, tracking_number, self.now())?;
        self.write_return(Some(&r), events, None)
    }

    /// Records receipt; when everything arrived, the items go back into
    /// stock through the inventory service first (a failure there fails
    /// the command and changes nothing; retrying is safe).
    pub fn receive_return(
        &self,
        return_id: &str,
        received_at: Timestamp,
        condition: &str,
        all_items_received: bool,
    ) -> DomainResult<Return> {
        let r = self.ret(return_id)?;
        let events =
            returns::decide_receive_return(&r, received_at, condition, all_items_received)?;
        if all_items_received {
            let order = self.order("order-id", &r.order_id)?;
            let items: Vec<StockItem> = r
                .return_items
                .iter()
                .map(|i| StockItem {
                    product_id: i.product_id.clone(),
                    sku: order
                        .items
                        .iter()
                        .find(|l| l.item_id == i.item_id)
                        .map(|l| l.sku.clone())
                        .unwrap_or_default(),
                    quantity: i.quantity,
                })
                .collect();
            self.env
                .inventory
                .restock_items(
                    &format!("return-{}/restock", r.return_id),
                    &ports::RestockRequest {
                        return_id: &r.return_id,
                        order_id: &r.order_id,
                        items: &items,
                    },
                )
                .map_err(DomainError::External)?;
        }
        self.write_return(Some(&r), events, None)
    }

    /// Refunds through the payment gateway, then records it. The gateway
    /// call carries a key of the return and the amount, so a retry of the
    /// same refund after a failed write or a lost answer never refunds
    /// twice, and a refund of another amount never reuses a key with other
    /// parameters. The refund is recorded on the return as in doubt before
    /// the call (`refund-started`) and stays so until its key is answered
    /// for good; meanwhile another amount is refused (`refund-in-doubt`).
    pub fn process_refund(
        &self,
        return_id: &str,
        amount: Money,
        method: PaymentMethod,
    ) -> DomainResult<Return> {
        let r = self.ret(return_id)?;
        let order = self.order("order-id", &r.order_id)?;
        returns::check_refund(&r, &order, &amount)?;
        let transaction_id = order
            .payment
            .as_ref()
            .map(|p| p.transaction_id.clone())
            .unwrap_or_default();
        let key = refund_key(&r.return_id, &amount);
        // The refund is recorded as in doubt before it is asked, so that a
        // lost answer or a crash leaves it known on the return's stream.
        let r = if r.refund_in_doubt.as_ref().is_some_and(|(_, k)| *k == key) {
            r
        } else {
            self.write_return(
                Some(&r),
                vec![returns::ReturnEvent::RefundStarted {
                    return_id: r.return_id.clone(),
                    refund_amount: amount.clone(),
                    key: key.clone(),
                    started_at: self.now(),
                }],
                None,
            )?
        };
        match self.env.payment.refund_payment(
            &key,
            &ports::RefundRequest {
                transaction_id: &transaction_id,
                amount: &amount,
                reason: &format!("return {}", r.return_id),
            },
        ) {
            Ok(()) => {}
            // Refused for good: nothing was refunded under the key.
            Err(ExternalError::Permanent(m)) => {
                self.write_return(
                    Some(&r),
                    vec![returns::ReturnEvent::RefundRefused {
                        return_id: r.return_id.clone(),
                        refund_amount: amount.clone(),
                        reason: m.chars().take(500).collect(),
                        refused_at: self.now(),
                    }],
                    None,
                )?;
                return Err(DomainError::External(ExternalError::Permanent(m)));
            }
            // In doubt, or transient (which says nothing of an earlier
            // attempt under the key): the refund stays in doubt.
            Err(e) => return Err(DomainError::External(e)),
        }
        let (events, order_events) =
            returns::decide_process_refund(&r, &order, amount, method, self.now())?;
        self.write_return(Some(&r), events, Some((&order, order_events)))
    }

    pub fn close_return(&self, return_id: &str, reason: &str) -> DomainResult<Return> {
        let r = self.ret(return_id)?;
        let (events, order_events) = returns::decide_close_return(&r, reason, self.now())?;
        let order = self.order("order-id", &r.order_id)?;
        self.write_return(Some(&r), events, Some((&order, order_events)))
    }

    // ----- queries ------------------------------------------------------

    pub fn get_order(&self, order_id: &str) -> DomainResult<Order> {
        self.order("order-id", order_id)
    }

    pub fn orders_of_customer(&self, customer_id: &str) -> DomainResult<Vec<Order>> {
        let id = parse_uuid("customer-id", customer_id)?;
        self.tagged(&store::customer_tag(&id), "order-", load_order)
    }

    /// The entities whose streams carry `tag`, each loaded by its id (the
    /// stream's name after `prefix`); a stream of another kind is passed over.
    fn tagged<T>(
        &self,
        tag: &str,
        prefix: &str,
        load: fn(&Env<'_>, &str) -> DomainResult<Option<T>>,
    ) -> DomainResult<Vec<T>> {
        let streams = self.env.store.find_streams(tag).map_err(storage)?;
        let mut out = Vec::new();
        for s in streams {
            if let Some(id) = s.strip_prefix(prefix)
                && let Some(entity) = load(&self.env, id)?
            {
                out.push(entity);
            }
        }
        Ok(out)
    }

    pub fn order_history(&self, order_id: &str) -> DomainResult<Vec<StoredEvent>> {
        let id = parse_uuid("order-id", order_id)?;
        self.history(Entity::Order, store::order_stream(&id), id)
    }

    /// Every stored event of a stream, or `not-found` naming the entity.
    fn history(
        &self,
        entity: Entity,
        stream: String,
        id: String,
    ) -> DomainResult<Vec<StoredEvent>> {
        let events = self.env.store.load(&stream).map_err(storage)?;
        if events.is_empty() {
            return Err(DomainError::not_found(entity, id));
        }
        Ok(events)
    }

    pub fn shipment_history(&self, shipment_id: &str) -> DomainResult<Vec<StoredEvent>> {
        let id = parse_uuid("shipment-id", shipment_id)?;
        self.history(Entity::Shipment, store::shipment_stream(&id), id)
    }

    pub fn return_history(&self, return_id: &str) -> DomainResult<Vec<StoredEvent>> {
        let id = parse_uuid("return-id", return_id)?;
        self.history(Entity::Return, store::return_stream(&id), id)
    }

    pub fn get_shipment(&self, shipment_id: &str) -> DomainResult<Shipment> {
        self.shipment(shipment_id)
    }

    pub fn shipments_of_order(&self, order_id: &str) -> DomainResult<Vec<Shipment>> {
        let id = parse_uuid("order-id", order_id)?;
        self.tagged(&store::order_shipments_tag(&id), "shipment-", load_shipment)
    }

    pub fn get_return(&self, return_id: &str) -> DomainResult<Return> {
        self.ret(return_id)
    }

    pub fn returns_of_order(&self, order_id: &str) -> DomainResult<Vec<Return>> {
        let id = parse_uuid("order-id", order_id)?;
        self.tagged(&store::order_returns_tag(&id), "return-", load_return)
    }

    pub fn daily_metrics(&self, date: &str) -> DomainResult<DailyMetrics> {
        let date = parse_date("date", date)?;
        let events = store::load_metrics(&self.env, &date)?;
        Ok(DailyMetrics::fold(date, &events))
    }
}

/// The idempotency key of a return's refund: one per return and amount
/// (`return-<id>/refund/<amount>-<currency>`), so a retry of the same refund
/// is recognised and a refund of another amount (after a refusal, say) is a
/// new request rather than a reused key with other parameters.
pub fn refund_key(return_id: &str, amount: &Money) -> String {
    format!(
        "return-{return_id}/refund/{}-{}",
        amount.amount, amount.currency
    )
}
