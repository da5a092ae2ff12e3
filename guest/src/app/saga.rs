//! Running the fulfilment saga: each round loads the order, asks the domain
//! for the next move, records that a call starts, makes the call with the
//! step's idempotency key and records its outcome, every write with the
//! order's expected version. A round that loses a race reads again; a
//! crash between the call and its record is healed by the next round
//! repeating the call with the same key.

use super::App;
use super::ports::{
    AllocationError, CancelShipmentRequest, CancellationRequest, ChargeRequest,
    ConfirmationRequest, PackageItem, RefundRequest, ShipmentRequest, StockItem, StockRequest,
    TicketPriority, TicketRequest,
};
use super::store::{Write, load_order, load_shipment};
use crate::domain::order::{Order, OrderEvent, OrderStatus, saga_payment};
use crate::domain::saga::{
    self, CarrierBooking, SagaAction, SagaCall, SagaPolicy, SagaStep, StepOutcome,
    after_compensation_error, after_forward_error, after_obligation, fail_answered,
};
use crate::domain::shipment::{Shipment, ShipmentEvent, ShipmentItem};
use crate::domain::values::{
    Address, CarrierCode, Money, OrderItem, PaymentMethod, ShipmentStatus, Timestamp, parse_uuid,
};
use crate::domain::{DomainError, DomainResult, Entity, ExternalError};

/// Rounds one `advance` runs before handing back to the host's timer.
const MAX_ROUNDS: usize = 64;

/// What a saga call records: the outer result is for storage errors; the
/// inner one is the external context's answer.
type Answer = DomainResult<Result<Vec<OrderEvent>, ExternalError>>;

/// The saga's input, as given to `start`.
#[derive(Clone, Debug)]
pub struct SagaInput {
    pub order_id: String,
    pub customer_id: String,
    pub items: Vec<OrderItem>,
    pub total: Money,
    pub payment_method: PaymentMethod,
    pub shipping_address: Address,
}

/// Records a booking the carrier cancelled with the order as a failed
/// shipment, when the shipment is stored.
fn record_cancelled(w: &mut Write, shipment: Option<&Shipment>, now: Timestamp) {
    if let Some(s) = shipment {
        w.shipment(
            Some(s),
            vec![ShipmentEvent::ShipmentFailed {
                shipment_id: s.shipment_id.clone(),
                order_id: s.order_id.clone(),
                reason: "shipment cancelled with the order".to_string(),
                failed_at: now,
            }],
        );
    }
}

fn stock_item(i: &OrderItem) -> StockItem {
    StockItem {
        product_id: i.product_id.clone(),
        sku: i.sku.clone(),
        quantity: i.quantity,
    }
}

fn stock_items(order: &Order) -> Vec<StockItem> {
    order.items.iter().map(stock_item).collect()
}

/// Exactly the lines recorded allocated: every line after a full
/// allocation, the `true` lines of a partial one, none when a partial
/// allocation named no line (the service then releases what it holds for
/// the order).
fn allocated_items(order: &Order) -> Vec<StockItem> {
    let full = order
        .allocation
        .as_ref()
        .map(|a| a.all_items_allocated)
        .or(
            match &order.saga.step(SagaStep::AllocateInventory).outcome {
                Some(StepOutcome::Allocated {
                    all_items_allocated,
                }) => Some(*all_items_allocated),
                _ => None,
            },
        )
        .unwrap_or(false);
    if full {
        return stock_items(order);
    }
    let lines = order
        .allocation
        .as_ref()
        .map(|a| a.allocated_items.as_slice())
        .unwrap_or_default();
    order
        .items
        .iter()
        .filter(|i| lines.contains(&i.item_id))
        .map(stock_item)
        .collect()
}

/// Where one `advance` stands between its rounds.
#[derive(Default)]
struct Progress {
    /// The call this advance started and still holds the lease of: when
    /// recording its outcome loses a race, the outcome is fetched again
    /// (same key, no new effect) and recorded on the new state.
    held: Option<(SagaCall, Timestamp)>,
    /// The order as this advance's own last write left it: the next round
    /// decides on it instead of reading the stream again. A write decided
    /// on it carries its version, so if another writer came in between,
    /// that write conflicts and the round reads again; before the advance
    /// returns (nothing left to do now) it reads once more, so that it
    /// answers what the store holds, as a fresh read would.
    known: Option<Order>,
    /// A call whose start this advance's last write recorded (alone, or
    /// with the outcome or the records before it), and the order as that
    /// write left it: the call is made next, without deciding again.
    started: Option<(SagaCall, Order)>,
}

/// How long the call a start event records is leased for.
fn lease_of(started: &OrderEvent, now: Timestamp) -> Timestamp {
    match started {
        OrderEvent::SagaStepStarted { lease_until, .. }
        | OrderEvent::CompensationStarted { lease_until, .. }
        | OrderEvent::ObligationStarted { lease_until, .. } => *lease_until,
        _ => now,
    }
}

/// Most decisions [`start_next`] adds to one write (records, then a call's
/// start): between two calls the saga records at most one or two.
const MAX_CHAINED: usize = 4;

/// Decides, on the order as `w` leaves it and at `now`, what the saga does
/// next, and adds it to the same write: the events it records without a
/// call, then the start of the call it makes next (its attempt and lease),
/// which is then durable before the call, in the append that records what
/// came before it. Answers that call and its lease; `None` when the saga
/// waits or finishes (or `w` holds no order).
fn start_next(w: &mut Write, policy: &SagaPolicy, now: Timestamp) -> Option<(SagaCall, Timestamp)> {
    for _ in 0..MAX_CHAINED {
        let order = w.order_after()?;
        match saga::next_action(order, now) {
            SagaAction::Record(events) => w.more_order(events, now),
            SagaAction::Call(call) => {
                let started = saga::started(order, call, policy, now);
                let lease = lease_of(&started, now);
                w.more_order(vec![started], now);
                return Some((call, lease));
            }
            SagaAction::Wait(_) | SagaAction::Finished => return None,
        }
    }
    None
}

fn mismatch(field: &str) -> DomainError {
    DomainError::validation(field, "does not match the placed order")
}

impl App<'_> {
    /// Starts the saga for a placed order after checking that the input
    /// describes it, then runs it as far as it goes.
    pub fn start_saga(&self, input: SagaInput) -> DomainResult<Order> {
        let order = self.order("order-id", &input.order_id)?;
        if order.placed_at.is_none() {
            return Err(DomainError::transition(
                Entity::Order,
                order.status,
                "start-saga",
            ));
        }
        if parse_uuid("customer-id", &input.customer_id)? != order.customer_id {
            return Err(mismatch("customer-id"));
        }
        if input.items != order.items {
            return Err(mismatch("items"));
        }
        if input.total != order.total {
            return Err(mismatch("total"));
        }
        if Some(input.payment_method) != order.payment_method {
            return Err(mismatch("payment-method"));
        }
        if Some(&input.shipping_address) != order.shipping_address.as_ref() {
            return Err(mismatch("shipping-address"));
        }
        self.advance_saga(&order.order_id)
    }

    /// "Retry now", asked by `requested_by`: records that the saga's
    /// pending back-offs end now (the event and the saga's timer, due now,
    /// in one write with the order's expected version), then advances it
    /// as `advance_saga` does. A lost race decides again on the new state.
    /// See `saga::request_retry` for what each state answers.
    pub fn retry_saga_now(&self, order_id: &str, requested_by: &str) -> DomainResult<Order> {
        let id = parse_uuid("order-id", order_id)?;
        for _ in 0..MAX_ROUNDS {
            let now = self.now();
            let order = load_order(&self.env, &id)?
                .ok_or_else(|| DomainError::not_found(Entity::Order, &id))?;
            let Some(event) = saga::request_retry(&order, requested_by, now)? else {
                // Finished: nothing to retry, nothing written.
                return Ok(order);
            };
            let mut w = Write::new();
            w.order(Some(&order), vec![event], now);
            match w.commit(&self.env) {
                Ok(_) => break,
                Err(DomainError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        self.advance_saga(&id)
    }

    /// Runs the saga of an order until it finishes or must wait.
    pub fn advance_saga(&self, order_id: &str) -> DomainResult<Order> {
        let order_id = parse_uuid("order-id", order_id)?;
        let policy = self.env.policy.policy();
        let mut p = Progress::default();
        for _ in 0..MAX_ROUNDS {
            if let Some((call, order)) = p.started.take() {
                let write = self.execute(&order, call, &policy.saga, policy.default_carrier)?;
                let release = !write.keep_lease;
                self.commit_and_start_next(write, &policy.saga, release, &mut p)?;
                continue;
            }
            let now = self.now();
            let folded = p.known.is_some();
            let order = match p.known.take() {
                Some(order) => order,
                None => load_order(&self.env, &order_id)?
                    .ok_or_else(|| DomainError::not_found(Entity::Order, &order_id))?,
            };
            let action = saga::next_action(&order, now);
            if folded && matches!(action, SagaAction::Wait(_) | SagaAction::Finished) {
                continue;
            }
            let call = match action {
                SagaAction::Wait(t) => match p.held {
                    // The answer of the call this advance holds lost the race
                    // to be recorded: the call was sent and may have acted.
                    // A new attempt is recorded first, which keeps the one
                    // whose answer was dropped in doubt, so that only a
                    // definitive answer under the key settles it (a transient
                    // answer to the repeat says nothing about the first).
                    Some((call, lease)) if lease == t => call,
                    _ => return Ok(order),
                },
                SagaAction::Finished => return Ok(order),
                SagaAction::Record(events) => {
                    let mut w = Write::new();
                    w.order(Some(&order), events, now);
                    self.commit_and_start_next(w, &policy.saga, false, &mut p)?;
                    continue;
                }
                SagaAction::Call(call) => call,
            };
            if let Some((order, lease)) = self.record_start(&order, call, &policy.saga, now)? {
                p.held = Some((call, lease));
                p.started = Some((call, order));
            }
        }
        // Out of rounds: the timer still points at now, so the host's
        // driver continues where this call stopped.
        self.order("order-id", &order_id)
    }

    /// Commits `write` (what a call's answer decided, or events the saga
    /// records without a call) with the start of the call the saga makes
    /// next when it makes one at once: the outcome of one call and the start
    /// of the next are one append. A write that only recovered an earlier
    /// outcome (`keep_lease`) starts nothing: the call this advance holds
    /// is decided again. `release`: once written, this advance no longer
    /// holds the lease of its last call. A lost race changes nothing in `p`:
    /// nothing was written, and the next round reads again.
    fn commit_and_start_next(
        &self,
        mut write: Write,
        policy: &SagaPolicy,
        release: bool,
        p: &mut Progress,
    ) -> DomainResult<()> {
        let next = if write.keep_lease {
            None
        } else {
            start_next(&mut write, policy, self.now())
        };
        match write.commit(&self.env) {
            Ok(after) => {
                if release {
                    p.held = None;
                }
                match (next, after) {
                    (Some((call, lease)), Some(after)) => {
                        p.held = Some((call, lease));
                        p.started = Some((call, after));
                    }
                    (_, after) => p.known = after,
                }
                Ok(())
            }
            Err(DomainError::Conflict(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Records that `call` starts (an attempt with its lease). `None`: the
    /// write lost a race, and the round reads again.
    fn record_start(
        &self,
        order: &Order,
        call: SagaCall,
        policy: &SagaPolicy,
        now: Timestamp,
    ) -> DomainResult<Option<(Order, Timestamp)>> {
        let started = saga::started(order, call, policy, now);
        let lease = lease_of(&started, now);
        let mut w = Write::new();
        w.order(Some(order), vec![started], now);
        match w.commit(&self.env) {
            Ok(after) => Ok(after.map(|order| (order, lease))),
            Err(DomainError::Conflict(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Makes one external call and decides what to record.
    fn execute(
        &self,
        order: &Order,
        call: SagaCall,
        policy: &SagaPolicy,
        carrier: CarrierCode,
    ) -> DomainResult<Write> {
        let now = self.now();
        let mut w = Write::new();
        let mut events = match call {
            SagaCall::Forward(step) => match self.forward(order, step, carrier, &mut w)? {
                Ok(events) => events,
                Err(e) => after_forward_error(order, step, &e, policy, now),
            },
            SagaCall::Compensate(step) => match self.compensate(order, step, carrier, &mut w)? {
                Ok(events) => events,
                Err(e) => after_compensation_error(order, step, &e, policy, now),
            },
            SagaCall::Obligation(index) => {
                let o = &order.saga.obligations[index];
                let priority = if o.urgent {
                    TicketPriority::Urgent
                } else {
                    TicketPriority::Normal
                };
                let result = self.env.customer.create_support_ticket(
                    &o.call_key(),
                    &TicketRequest {
                        order_id: &order.order_id,
                        customer_id: &order.customer_id,
                        issue: &o.issue,
                        priority,
                    },
                );
                after_obligation(order, index, result, policy, now)
            }
        };
        // People must be told when money or stock may be stuck, or a
        // customer could not be reached: recorded with the decision itself.
        let owed = saga::obligations_for(order, &events, now);
        events.extend(owed);
        w.order(Some(order), events, now);
        Ok(w)
    }

    /// A step's action.
    fn forward(
        &self,
        order: &Order,
        step: SagaStep,
        carrier: CarrierCode,
        w: &mut Write,
    ) -> Answer {
        let now = self.now();
        let key = step.key(&order.order_id, false);
        let env = &self.env;
        Ok(match step {
            SagaStep::ProcessPayment => {
                let method = order.payment_method.unwrap_or(PaymentMethod::CreditCard);
                env.payment
                    .process_payment(
                        &key,
                        &ChargeRequest {
                            order_id: &order.order_id,
                            amount: &order.total,
                            method,
                            customer_id: &order.customer_id,
                        },
                    )
                    .map(|receipt| {
                        let mut events = vec![OrderEvent::SagaStepCompleted {
                            step,
                            outcome: StepOutcome::Paid {
                                transaction_id: receipt.transaction_id.clone(),
                                amount: receipt.amount.clone(),
                            },
                            completed_at: now,
                        }];
                        if let Some(other) = order
                            .payment
                            .as_ref()
                            .filter(|p| p.transaction_id != receipt.transaction_id)
                        {
                            // Paid twice (another path confirmed a different
                            // transaction while this call was out): give the
                            // saga's charge back at once.
                            events.extend(self.undo_duplicate(
                                order,
                                step,
                                &format!(
                                    "duplicate charge {} (the order is paid by {})",
                                    receipt.transaction_id, other.transaction_id
                                ),
                                || {
                                    self.refund_duplicate(
                                        order,
                                        &receipt.transaction_id,
                                        &receipt.amount,
                                    )
                                },
                            ));
                        } else if order.status == OrderStatus::Pending {
                            if receipt.amount == order.total {
                                events.push(OrderEvent::PaymentConfirmed {
                                    order_id: order.order_id.clone(),
                                    transaction_id: receipt.transaction_id,
                                    amount_paid: receipt.amount,
                                    confirmed_at: now,
                                });
                            } else {
                                let reason = format!(
                                    "the gateway charged {}, the order total is {}",
                                    receipt.amount, order.total
                                );
                                events.extend(fail_answered(order, step, &reason, now, false));
                            }
                        }
                        events
                    })
            }
            SagaStep::AllocateInventory => {
                match env.inventory.allocate_stock(
                    &key,
                    &StockRequest {
                        order_id: &order.order_id,
                        items: &stock_items(order),
                    },
                ) {
                    Ok(all) => {
                        let mut events = vec![OrderEvent::SagaStepCompleted {
                            step,
                            outcome: StepOutcome::Allocated {
                                all_items_allocated: all,
                            },
                            completed_at: now,
                        }];
                        if order.status == OrderStatus::Confirmed {
                            events.push(OrderEvent::InventoryAllocated {
                                order_id: order.order_id.clone(),
                                all_items_allocated: all,
                                allocated_items: if all {
                                    order.items.iter().map(|i| i.item_id.clone()).collect()
                                } else {
                                    Vec::new()
                                },
                                allocated_at: now,
                            });
                        }
                        Ok(events)
                    }
                    Err(AllocationError::OutOfStock(items)) => {
                        let detail: Vec<String> = items
                            .iter()
                            .map(|u| {
                                format!(
                                    "{} ({} requested, {} available)",
                                    u.product_id, u.requested, u.available
                                )
                            })
                            .collect();
                        Err(ExternalError::Permanent(format!(
                            "out of stock: {}",
                            detail.join(", ")
                        )))
                    }
                    Err(AllocationError::Failed(e)) => Err(e),
                }
            }
            SagaStep::CreateShipment => {
                let Some(address) = order.shipping_address.as_ref() else {
                    return Ok(Err(ExternalError::Permanent(
                        "the order has no shipping address".to_string(),
                    )));
                };
                let items: Vec<PackageItem> = order
                    .items
                    .iter()
                    .map(|i| PackageItem {
                        product_id: i.product_id.clone(),
                        quantity: i.quantity,
                    })
                    .collect();
                match env.carrier.create_shipment(
                    &key,
                    &ShipmentRequest {
                        order_id: &order.order_id,
                        carrier,
                        address,
                        items: &items,
                    },
                ) {
                    Ok(b)
                        if order
                            .shipping
                            .as_ref()
                            .is_some_and(|s| s.shipment_id != b.shipment_id) =>
                    {
                        // Shipped another way while this booking was out:
                        // cancel the saga's booking at once.
                        let undo = self.undo_duplicate(
                            order,
                            step,
                            &format!("duplicate booking {}", b.shipment_id),
                            || {
                                env.carrier.cancel_shipment(
                                    &format!("order-{}/create-shipment/duplicate", order.order_id),
                                    &CancelShipmentRequest {
                                        shipment_id: &b.shipment_id,
                                        reason: "duplicate booking",
                                    },
                                )
                            },
                        );
                        let mut events = vec![OrderEvent::SagaStepCompleted {
                            step,
                            outcome: StepOutcome::ShipmentBooked {
                                shipment_id: b.shipment_id,
                                carrier: b.carrier,
                                tracking_number: b.tracking_number,
                                estimated_delivery: b.estimated_delivery,
                            },
                            completed_at: now,
                        }];
                        events.extend(undo);
                        Ok(events)
                    }
                    Ok(b) => {
                        let mut events = vec![OrderEvent::SagaStepCompleted {
                            step,
                            outcome: StepOutcome::ShipmentBooked {
                                shipment_id: b.shipment_id.clone(),
                                carrier: b.carrier,
                                tracking_number: b.tracking_number.clone(),
                                estimated_delivery: b.estimated_delivery,
                            },
                            completed_at: now,
                        }];
                        let ready = order.status == OrderStatus::Confirmed
                            && order
                                .allocation
                                .as_ref()
                                .is_some_and(|a| a.all_items_allocated);
                        if ready {
                            let existing = load_shipment(env, &b.shipment_id)?;
                            if existing.is_none() {
                                w.shipment(
                                    None,
                                    vec![ShipmentEvent::ShipmentCreated {
                                        shipment_id: b.shipment_id.clone(),
                                        order_id: order.order_id.clone(),
                                        carrier: b.carrier,
                                        tracking_number: b.tracking_number.clone(),
                                        shipping_address: address.clone(),
                                        items: ShipmentItem::all_of(&order.items),
                                        created_at: now,
                                    }],
                                );
                            }
                            events.push(OrderEvent::OrderShipped {
                                order_id: order.order_id.clone(),
                                shipment_id: b.shipment_id,
                                carrier: b.carrier,
                                tracking_number: b.tracking_number,
                                shipped_at: now,
                            });
                        }
                        Ok(events)
                    }
                    Err(e) => Err(e),
                }
            }
            SagaStep::NotifyCustomer => env
                .customer
                .send_order_confirmation(
                    &key,
                    &ConfirmationRequest {
                        order_id: &order.order_id,
                        customer_id: &order.customer_id,
                        items: &order.items,
                        total: &order.total,
                        tracking_number: order
                            .shipping
                            .as_ref()
                            .map(|s| s.tracking_number.as_str()),
                    },
                )
                .map(|()| {
                    vec![OrderEvent::SagaStepCompleted {
                        step,
                        outcome: StepOutcome::Notified,
                        completed_at: now,
                    }]
                }),
        })
    }

    /// Refunds in full a charge of the saga's that duplicates the order's
    /// payment, under the one key both the forward step and the
    /// compensation use, so a refund made already is answered, not repeated.
    fn refund_duplicate(
        &self,
        order: &Order,
        transaction_id: &str,
        amount: &Money,
    ) -> Result<(), ExternalError> {
        self.env.payment.refund_payment(
            &format!("order-{}/process-payment/duplicate", order.order_id),
            &RefundRequest {
                transaction_id,
                amount,
                reason: "duplicate charge",
            },
        )
    }

    /// Undoes a duplicate effect of a step right away and says so in a note.
    /// A failure to undo is noted too, with an urgent support ticket owed
    /// (an obligation, retried until opened) for customer service to finish.
    fn undo_duplicate(
        &self,
        order: &Order,
        step: SagaStep,
        what: &str,
        undo: impl FnOnce() -> Result<(), ExternalError>,
    ) -> Vec<OrderEvent> {
        let now = self.now();
        match undo() {
            Ok(()) => vec![OrderEvent::NoteRecorded {
                note: format!("{step}: {what} was undone"),
                recorded_at: now,
            }],
            Err(e) => {
                let note = format!("{step}: {what} could not be undone ({e}); undo it by hand");
                vec![
                    OrderEvent::NoteRecorded {
                        note: note.clone(),
                        recorded_at: now,
                    },
                    OrderEvent::ObligationRecorded {
                        key: format!("order-{}/support-ticket/{step}/duplicate", order.order_id),
                        issue: format!("order {}: {note}", order.order_id)
                            .chars()
                            .take(1000)
                            .collect(),
                        urgent: true,
                        recorded_at: now,
                    },
                ]
            }
        }
    }

    /// A step's compensation.
    fn compensate(
        &self,
        order: &Order,
        step: SagaStep,
        carrier: CarrierCode,
        w: &mut Write,
    ) -> Answer {
        let now = self.now();
        let key = step.key(&order.order_id, true);
        let env = &self.env;
        let reason = order
            .cancellation
            .as_ref()
            .map(|c| c.reason.clone())
            .or_else(|| order.saga.failure.as_ref().map(|(_, r)| r.clone()))
            .unwrap_or_else(|| "order cancelled".to_string());
        let done = |detail: String| OrderEvent::CompensationCompleted {
            step,
            detail,
            completed_at: now,
        };
        Ok(match step {
            SagaStep::CreateShipment => {
                // A booking whose answer was never recorded, or was in
                // doubt, is learnt first (same key), then cancelled.
                if order.saga.step(step).unsettled() {
                    return self.recover(order, step, carrier, w);
                }
                let own = match &order.saga.step(step).outcome {
                    Some(StepOutcome::ShipmentBooked { shipment_id, .. }) => {
                        Some(shipment_id.clone())
                    }
                    _ => None,
                };
                // Shipments the carrier reported before the order could
                // ship are cancelled too: none is left behind.
                let mut events = Vec::new();
                for b in &order.saga.carrier_bookings {
                    if own.as_ref() == Some(&b.shipment_id) {
                        continue;
                    }
                    match self.cancel_carrier_booking(order, b, &reason, w)? {
                        Ok(more) => events.extend(more),
                        Err(e) => return Ok(Err(e)),
                    }
                }
                let Some(booking) = own else {
                    events.insert(0, done("no booking of the saga's to cancel".to_string()));
                    return Ok(Ok(events));
                };
                match self.cancel_own_booking(&booking, &key, &reason, w)? {
                    Ok(mut mine) => {
                        mine.extend(events);
                        Ok(mine)
                    }
                    Err(e) => Err(e),
                }
            }
            SagaStep::AllocateInventory => {
                // An allocation whose answer was never recorded, or was in
                // doubt, may still land: learn its outcome first (same key,
                // no second effect), so the release cannot come before it.
                if order.saga.step(step).unsettled() {
                    return self.recover(order, step, carrier, w);
                }
                let items = allocated_items(order);
                env.inventory
                    .release_stock(
                        &key,
                        &StockRequest {
                            order_id: &order.order_id,
                            items: &items,
                        },
                    )
                    .map(|()| {
                        let detail = if items.is_empty() {
                            "stock released (no line was recorded allocated)".to_string()
                        } else {
                            "stock released".to_string()
                        };
                        vec![done(detail)]
                    })
            }
            SagaStep::ProcessPayment => {
                // Every charge the saga started is learnt before anything
                // is refunded: a payment recorded by another path (a
                // webhook, a clerk) does not hide the saga's own.
                if order.saga.step(step).unsettled() {
                    return self.recover(order, step, carrier, w);
                }
                let own = saga_payment(order);
                let paid = order
                    .payment
                    .as_ref()
                    .map(|p| (p.transaction_id.clone(), p.amount_paid.clone()))
                    .or_else(|| own.clone());
                let Some((transaction_id, amount)) = paid else {
                    return Ok(Ok(vec![done("nothing was charged".to_string())]));
                };
                let refund = Money {
                    amount: amount.amount.saturating_sub(order.refunded.amount),
                    currency: amount.currency,
                };
                let mut events = Vec::new();
                let mut details = Vec::new();
                if refund.amount > 0 {
                    if let Err(e) = env.payment.refund_payment(
                        &key,
                        &RefundRequest {
                            transaction_id: &transaction_id,
                            amount: &refund,
                            reason: &reason,
                        },
                    ) {
                        return Ok(Err(e));
                    }
                    details.push(format!("refunded {refund} of {transaction_id}"));
                    events.push(OrderEvent::OrderRefunded {
                        return_id: None,
                        amount: refund,
                        refunded_at: now,
                    });
                }
                // The saga's own charge, when the order was paid by another
                // transaction: a duplicate, refunded in full under the
                // duplicate key (the same key the forward step uses, so a
                // refund it already made is answered, not repeated).
                if let Some((own_id, own_amount)) = own.filter(|(t, _)| *t != transaction_id) {
                    if let Err(e) = self.refund_duplicate(order, &own_id, &own_amount) {
                        return Ok(Err(e));
                    }
                    details.push(format!(
                        "refunded duplicate charge {own_amount} of {own_id}"
                    ));
                }
                if details.is_empty() {
                    details.push("nothing left to refund".to_string());
                }
                events.insert(0, done(details.join("; ")));
                Ok(events)
            }
            SagaStep::NotifyCustomer => env
                .customer
                .send_order_cancellation(
                    &key,
                    &CancellationRequest {
                        order_id: &order.order_id,
                        customer_id: &order.customer_id,
                        reason: &reason,
                    },
                )
                .map(|()| vec![done("cancellation notice sent".to_string())]),
        })
    }

    /// Cancels the saga's own booking, unless the carrier has the parcel.
    fn cancel_own_booking(&self, booking: &str, key: &str, reason: &str, w: &mut Write) -> Answer {
        let now = self.now();
        let env = &self.env;
        let step = SagaStep::CreateShipment;
        let done = |detail: String| OrderEvent::CompensationCompleted {
            step,
            detail,
            completed_at: now,
        };
        let booking = booking.to_string();
        let shipment = load_shipment(env, &booking)?;
        if let Some(s) = &shipment
            && s.status != ShipmentStatus::AwaitingPickup
        {
            return Ok(Ok(vec![OrderEvent::CompensationSkipped {
                step,
                reason: format!("the carrier already has the parcel ({})", s.status),
                skipped_at: now,
            }]));
        }
        let cancel = CancelShipmentRequest {
            shipment_id: &booking,
            reason,
        };
        Ok(match env.carrier.cancel_shipment(key, &cancel) {
            Ok(()) => {
                record_cancelled(w, shipment.as_ref(), now);
                Ok(vec![done(format!("shipment {booking} cancelled"))])
            }
            // The carrier refuses once it has picked the parcel up:
            // it goes on, and people are told.
            Err(ExternalError::Permanent(m)) => Ok(vec![
                OrderEvent::CompensationSkipped {
                    step,
                    reason: format!("the carrier refused to cancel: {m}"),
                    skipped_at: now,
                },
                OrderEvent::NoteRecorded {
                    note: format!("shipment {booking} could not be cancelled ({m}); intercept it"),
                    recorded_at: now,
                },
            ]),
            Err(e) => Err(e),
        })
    }

    /// Cancels a shipment the carrier booked on its own for an order that
    /// did not ship with it (key `order-<id>/create-shipment/carrier-<shipment>/cancel`).
    fn cancel_carrier_booking(
        &self,
        order: &Order,
        booking: &CarrierBooking,
        reason: &str,
        w: &mut Write,
    ) -> Answer {
        let now = self.now();
        let id = &booking.shipment_id;
        let shipment = load_shipment(&self.env, id)?;
        if let Some(s) = &shipment
            && s.status != ShipmentStatus::AwaitingPickup
        {
            // Already ended (cancelled, say): nothing to do.
            if s.status == ShipmentStatus::DeliveryFailed {
                return Ok(Ok(Vec::new()));
            }
            return Ok(Ok(vec![OrderEvent::NoteRecorded {
                note: format!(
                    "shipment {id} booked by the carrier is already {}; intercept it",
                    s.status
                ),
                recorded_at: now,
            }]));
        }
        let note = match self.env.carrier.cancel_shipment(
            &booking.cancel_key(&order.order_id),
            &CancelShipmentRequest {
                shipment_id: id,
                reason,
            },
        ) {
            Ok(()) => {
                record_cancelled(w, shipment.as_ref(), now);
                format!("shipment {id} booked by the carrier was cancelled with the order")
            }
            Err(ExternalError::Permanent(m)) => {
                format!(
                    "shipment {id} booked by the carrier could not be cancelled ({m}); intercept it"
                )
            }
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(vec![OrderEvent::NoteRecorded {
            note,
            recorded_at: now,
        }]))
    }

    /// A step whose call started but whose outcome was never recorded (a
    /// crash, or a lost race) may have acted. Repeating the action with its
    /// own key returns what happened without acting twice, and gives the
    /// compensation what it needs (the transaction or shipment to undo).
    fn recover(
        &self,
        order: &Order,
        step: SagaStep,
        carrier: CarrierCode,
        w: &mut Write,
    ) -> Answer {
        let now = self.now();
        w.keep_lease = true;
        Ok(match self.forward(order, step, carrier, w)? {
            Ok(mut events) => {
                // Keep only the saga's record and its notes: the order is
                // already cancelled.
                events.retain(|e| {
                    matches!(
                        e,
                        OrderEvent::SagaStepCompleted { .. }
                            | OrderEvent::NoteRecorded { .. }
                            | OrderEvent::ObligationRecorded { .. }
                    )
                });
                Ok(events)
            }
            // The callee's definitive answer: nothing was done under the key.
            Err(ExternalError::Permanent(m)) => Ok(vec![OrderEvent::SagaStepFailed {
                step,
                reason: format!("nothing to undo: {m}"),
                failed_at: now,
                in_doubt: false,
                call_out: false,
            }]),
            // Still unknown: the compensation retries, and keeps asking.
            Err(e) => Err(e),
        })
    }
}
