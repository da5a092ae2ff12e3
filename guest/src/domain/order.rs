//! The Order aggregate: its states, its events, the decisions of its
//! commands (`decide_*`: state + command -> events or error) and the
//! evolution of its state (`Order::apply`: state + event -> state).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::error::{DomainError, DomainResult, Entity};
use super::saga::{SagaState, SagaStep, StepOutcome};
use super::values::*;

pub use super::cases::OrderStatus;

/// A quantity of one order line, as taken by a return.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemQuantity {
    pub item_id: String,
    pub quantity: u32,
}

crate::tagged_enum! {
    #[tag("type", event_type)]
    /// Everything that happens to an order, including the progress of its
    /// fulfilment saga (the saga's events live in the order's stream).
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum OrderEvent {
        DraftCreated = "draft-created" {
            order_id: String,
            customer_id: String,
            items: Vec<OrderItem>,
            shipping_address: Option<Address>,
            billing_address: Option<Address>,
            payment_method: Option<PaymentMethod>,
            created_at: Timestamp,
        },
        DraftUpdated = "draft-updated" {
            items: Option<Vec<OrderItem>>,
            shipping_address: Option<Address>,
            billing_address: Option<Address>,
            payment_method: Option<PaymentMethod>,
            updated_at: Timestamp,
        },
        OrderPlaced = "order-placed" {
            order_id: String,
            customer_id: String,
            items: Vec<OrderItem>,
            subtotal: Money,
            tax: Money,
            shipping_cost: Money,
            total: Money,
            shipping_address: Address,
            billing_address: Address,
            payment_method: PaymentMethod,
            placed_at: Timestamp,
        },
        PaymentConfirmed = "payment-confirmed" {
            order_id: String,
            transaction_id: String,
            amount_paid: Money,
            confirmed_at: Timestamp,
        },
        InventoryAllocated = "inventory-allocated" {
            order_id: String,
            all_items_allocated: bool,
            allocated_items: Vec<String>,
            allocated_at: Timestamp,
        },
        OrderShipped = "order-shipped" {
            order_id: String,
            shipment_id: String,
            carrier: CarrierCode,
            tracking_number: String,
            shipped_at: Timestamp,
        },
        OrderDelivered = "order-delivered" {
            order_id: String,
            delivered_at: Timestamp,
            signed_by: Option<String>,
        },
        OrderCancelled = "order-cancelled" {
            order_id: String,
            reason: String,
            cancelled_by: String,
            cancelled_at: Timestamp,
        },
        /// A return claims these quantities (kept here so that concurrent
        /// returns of one order cannot claim the same items twice).
        ReturnOpened = "return-opened" {
            return_id: String,
            items: Vec<ItemQuantity>,
            opened_at: Timestamp,
        },
        /// A denied or closed return gives its quantities back.
        ReturnReleased = "return-released" {
            return_id: String,
            released_at: Timestamp,
        },
        /// Money went back to the customer: for a return, or for a cancellation.
        OrderRefunded = "order-refunded" {
            return_id: Option<String>,
            amount: Money,
            refunded_at: Timestamp,
        },
        OrderReturned = "order-returned" {
            order_id: String,
            returned_at: Timestamp,
        },
        NoteRecorded = "note-recorded" {
            note: String,
            recorded_at: Timestamp,
        },
        SagaStarted = "saga-started" {
            started_at: Timestamp,
        },
        SagaStepStarted = "saga-step-started" {
            step: SagaStep,
            attempt: u32,
            started_at: Timestamp,
            /// Until when this call is left to finish before it is presumed lost.
            #[serde(default)]
            lease_until: Timestamp,
        },
        SagaStepCompleted = "saga-step-completed" {
            step: SagaStep,
            outcome: StepOutcome => "crate::domain::codec::tag_first",
            completed_at: Timestamp,
        },
        SagaStepRetryScheduled = "saga-step-retry-scheduled" {
            step: SagaStep,
            attempt: u32,
            error: String,
            retry_at: Timestamp,
            /// The step's call may have taken effect (an answer in doubt, or an
            /// earlier attempt never answered): the retry must learn its outcome.
            #[serde(default)]
            in_doubt: bool,
        },
        SagaStepFailed = "saga-step-failed" {
            step: SagaStep,
            reason: String,
            failed_at: Timestamp,
            /// The step's call may have taken effect: its compensation first
            /// learns the outcome under the action's key.
            #[serde(default)]
            in_doubt: bool,
            /// Another path failed the step while the saga's own call for it was
            /// still out: the call keeps its lease, and is waited for.
            #[serde(default)]
            call_out: bool,
        },
        CompensationStarted = "compensation-started" {
            step: SagaStep,
            attempt: u32,
            started_at: Timestamp,
            /// Until when this call is left to finish before it is presumed lost.
            #[serde(default)]
            lease_until: Timestamp,
        },
        CompensationCompleted = "compensation-completed" {
            step: SagaStep,
            detail: String,
            completed_at: Timestamp,
        },
        CompensationSkipped = "compensation-skipped" {
            step: SagaStep,
            reason: String,
            skipped_at: Timestamp,
        },
        CompensationRetryScheduled = "compensation-retry-scheduled" {
            step: SagaStep,
            attempt: u32,
            error: String,
            retry_at: Timestamp,
        },
        /// A compensation ran out of attempts or was refused: the saga reports
        /// `compensation-failed` and keeps retrying at the longest delay.
        CompensationStalled = "compensation-stalled" {
            step: SagaStep,
            attempt: u32,
            error: String,
            retry_at: Timestamp,
        },
        /// A compensation was refused for good (repeating it under the same key
        /// cannot succeed): the saga goes on with the other compensations and
        /// ends `compensation-failed`, with a ticket for people to finish it.
        CompensationFailed = "compensation-failed" {
            step: SagaStep,
            error: String,
            failed_at: Timestamp,
        },
        /// The carrier reported a shipment for the order before the order could
        /// ship (not yet paid or allocated): kept for the saga, which ships with
        /// it instead of booking a second one, or cancels it with the order.
        CarrierBookingReceived = "carrier-booking-received" {
            shipment_id: String,
            carrier: CarrierCode,
            tracking_number: String,
            received_at: Timestamp,
        },
        /// People must be told (a support ticket): recorded in the same write as
        /// the decision that needs it, and retried by the saga until done.
        ObligationRecorded = "obligation-recorded" {
            /// The ticket's idempotency key; names the obligation.
            key: String,
            issue: String,
            urgent: bool,
            recorded_at: Timestamp,
        },
        ObligationStarted = "obligation-started" {
            key: String,
            attempt: u32,
            started_at: Timestamp,
            lease_until: Timestamp,
        },
        ObligationRetryScheduled = "obligation-retry-scheduled" {
            key: String,
            attempt: u32,
            error: String,
            retry_at: Timestamp,
            /// Customer service refused the ticket for good under the key it
            /// was asked with: the next attempt asks under a new key.
            #[serde(default)]
            refused: bool,
        },
        ObligationFulfilled = "obligation-fulfilled" {
            key: String,
            ticket_id: String,
            fulfilled_at: Timestamp,
        },
        /// A customer notification could not be sent; the order is not undone.
        NotificationGaveUp = "notification-gave-up" {
            step: SagaStep,
            reason: String,
            gave_up_at: Timestamp,
        },
        SagaCompleted = "saga-completed" {
            shipment_id: String,
            tracking_number: String,
            completed_at: Timestamp,
        },
        SagaCompensated = "saga-compensated" {
            failed_step: Option<SagaStep>,
            reason: String,
            completed_at: Timestamp,
        },
        /// The saga ended with compensations that people must finish.
        SagaCompensationFailed = "saga-compensation-failed" {
            failed_step: Option<SagaStep>,
            reason: String,
            pending: Vec<String>,
            completed_at: Timestamp,
        },
        /// Someone asked the saga to retry now: every back-off it is waiting
        /// out (a step's, a compensation's, an obligation's) ends at
        /// `requested_at`. Attempts, leases and in-doubt calls are kept.
        SagaRetryRequested = "saga-retry-requested" {
            requested_by: String,
            requested_at: Timestamp,
        },
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentInfo {
    pub transaction_id: String,
    pub amount_paid: Money,
    pub confirmed_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationInfo {
    pub all_items_allocated: bool,
    pub allocated_items: Vec<String>,
    pub allocated_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingInfo {
    pub shipment_id: String,
    pub carrier: CarrierCode,
    pub tracking_number: String,
    pub shipped_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryInfo {
    pub delivered_at: Timestamp,
    pub signed_by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationInfo {
    pub reason: String,
    pub cancelled_by: String,
    pub cancelled_at: Timestamp,
}

/// Where one return's claim on the order's items stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimState {
    Open,
    Refunded,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnClaim {
    pub items: Vec<ItemQuantity>,
    pub state: ClaimState,
}

/// The order as folded from its events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub order_id: String,
    pub customer_id: String,
    pub status: OrderStatus,
    pub items: Vec<OrderItem>,
    pub subtotal: Money,
    pub tax: Money,
    pub shipping_cost: Money,
    pub total: Money,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    pub payment_method: Option<PaymentMethod>,
    pub created_at: Timestamp,
    pub placed_at: Option<Timestamp>,
    pub payment: Option<PaymentInfo>,
    pub allocation: Option<AllocationInfo>,
    pub shipping: Option<ShippingInfo>,
    pub delivery: Option<DeliveryInfo>,
    pub cancellation: Option<CancellationInfo>,
    pub refunded: Money,
    pub notes: Vec<String>,
    pub returns: BTreeMap<String, ReturnClaim>,
    pub saga: SagaState,
    /// Number of events folded.
    pub version: u64,
}

impl Order {
    /// Folds a stream's events; `None` for an empty stream.
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a OrderEvent>) -> Option<Order> {
        let mut order: Option<Order> = None;
        for event in events {
            order = Some(Order::apply(order, event));
        }
        order
    }

    /// Evolves the state by one event. Events are facts: this never fails.
    pub fn apply(state: Option<Order>, event: &OrderEvent) -> Order {
        let mut order = match (state, event) {
            (
                None,
                OrderEvent::DraftCreated {
                    order_id,
                    customer_id,
                    items,
                    shipping_address,
                    billing_address,
                    payment_method,
                    created_at,
                },
            ) => {
                let mut o = Order::empty(order_id, customer_id, *created_at);
                o.status = OrderStatus::Draft;
                o.set_items(items.clone());
                o.shipping_address = shipping_address.clone();
                o.billing_address = billing_address.clone();
                o.payment_method = *payment_method;
                o
            }
            (
                None,
                OrderEvent::OrderPlaced {
                    order_id,
                    customer_id,
                    placed_at,
                    ..
                },
            ) => Order::empty(order_id, customer_id, *placed_at),
            (Some(o), _) => o,
            // A stream that does not start with a creation event is corrupt;
            // keep folding on a placeholder so queries still show something.
            (None, _) => Order::empty("", "", 0),
        };
        order.version += 1;
        order.evolve(event);
        order
    }

    fn empty(order_id: &str, customer_id: &str, at: Timestamp) -> Order {
        let zero = Money::zero(Currency::usd());
        Order {
            order_id: order_id.to_string(),
            customer_id: customer_id.to_string(),
            status: OrderStatus::Draft,
            items: Vec::new(),
            subtotal: zero.clone(),
            tax: zero.clone(),
            shipping_cost: zero.clone(),
            total: zero.clone(),
            shipping_address: None,
            billing_address: None,
            payment_method: None,
            created_at: at,
            placed_at: None,
            payment: None,
            allocation: None,
            shipping: None,
            delivery: None,
            cancellation: None,
            refunded: zero,
            notes: Vec::new(),
            returns: BTreeMap::new(),
            saga: SagaState::default(),
            version: 0,
        }
    }

    fn set_items(&mut self, items: Vec<OrderItem>) {
        // Draft totals are informational; pricing happens at placement.
        let sub = subtotal(&items).unwrap_or_else(|_| Money::zero(Currency::usd()));
        let zero = Money::zero(sub.currency.clone());
        self.items = items;
        self.tax = zero.clone();
        self.shipping_cost = zero.clone();
        self.refunded = zero;
        self.total = sub.clone();
        self.subtotal = sub;
    }

    fn evolve(&mut self, event: &OrderEvent) {
        match event {
            OrderEvent::DraftCreated { .. } => {}
            OrderEvent::DraftUpdated {
                items,
                shipping_address,
                billing_address,
                payment_method,
                ..
            } => {
                if let Some(items) = items {
                    self.set_items(items.clone());
                }
                if shipping_address.is_some() {
                    self.shipping_address = shipping_address.clone();
                }
                if billing_address.is_some() {
                    self.billing_address = billing_address.clone();
                }
                if payment_method.is_some() {
                    self.payment_method = *payment_method;
                }
            }
            OrderEvent::OrderPlaced {
                items,
                subtotal,
                tax,
                shipping_cost,
                total,
                shipping_address,
                billing_address,
                payment_method,
                placed_at,
                ..
            } => {
                self.status = OrderStatus::Pending;
                self.items = items.clone();
                self.subtotal = subtotal.clone();
                self.tax = tax.clone();
                self.shipping_cost = shipping_cost.clone();
                self.total = total.clone();
                self.refunded = Money::zero(total.currency.clone());
                self.shipping_address = Some(shipping_address.clone());
                self.billing_address = Some(billing_address.clone());
                self.payment_method = Some(*payment_method);
                self.placed_at = Some(*placed_at);
            }
            OrderEvent::PaymentConfirmed {
                transaction_id,
                amount_paid,
                confirmed_at,
                ..
            } => {
                self.status = OrderStatus::Confirmed;
                self.payment = Some(PaymentInfo {
                    transaction_id: transaction_id.clone(),
                    amount_paid: amount_paid.clone(),
                    confirmed_at: *confirmed_at,
                });
            }
            OrderEvent::InventoryAllocated {
                all_items_allocated,
                allocated_items,
                allocated_at,
                ..
            } => {
                self.allocation = Some(AllocationInfo {
                    all_items_allocated: *all_items_allocated,
                    allocated_items: allocated_items.clone(),
                    allocated_at: *allocated_at,
                });
            }
            OrderEvent::OrderShipped {
                shipment_id,
                carrier,
                tracking_number,
                shipped_at,
                ..
            } => {
                self.status = OrderStatus::Shipped;
                self.shipping = Some(ShippingInfo {
                    shipment_id: shipment_id.clone(),
                    carrier: *carrier,
                    tracking_number: tracking_number.clone(),
                    shipped_at: *shipped_at,
                });
            }
            OrderEvent::OrderDelivered {
                delivered_at,
                signed_by,
                ..
            } => {
                self.status = OrderStatus::Delivered;
                self.delivery = Some(DeliveryInfo {
                    delivered_at: *delivered_at,
                    signed_by: signed_by.clone(),
                });
            }
            OrderEvent::OrderCancelled {
                reason,
                cancelled_by,
                cancelled_at,
                ..
            } => {
                self.status = OrderStatus::Cancelled;
                self.cancellation = Some(CancellationInfo {
                    reason: reason.clone(),
                    cancelled_by: cancelled_by.clone(),
                    cancelled_at: *cancelled_at,
                });
            }
            OrderEvent::ReturnOpened {
                return_id, items, ..
            } => {
                self.returns.insert(
                    return_id.clone(),
                    ReturnClaim {
                        items: items.clone(),
                        state: ClaimState::Open,
                    },
                );
            }
            OrderEvent::ReturnReleased { return_id, .. } => {
                self.returns.remove(return_id);
            }
            OrderEvent::OrderRefunded {
                return_id, amount, ..
            } => {
                self.refunded.amount = self.refunded.amount.saturating_add(amount.amount);
                if let Some(claim) = return_id.as_ref().and_then(|id| self.returns.get_mut(id)) {
                    claim.state = ClaimState::Refunded;
                }
            }
            OrderEvent::OrderReturned { .. } => self.status = OrderStatus::Returned,
            OrderEvent::NoteRecorded { note, .. } => self.notes.push(note.clone()),
            saga_event => self.saga.apply(saga_event),
        }
    }

    /// The quantity of a line already claimed by open or refunded returns.
    pub fn returned_quantity(&self, item_id: &str) -> u32 {
        self.returns
            .values()
            .flat_map(|c| c.items.iter())
            .filter(|i| i.item_id == item_id)
            .map(|i| i.quantity)
            .sum()
    }

    /// True when every unit of every line is in a refunded return.
    pub fn fully_returned_and_refunded(&self) -> bool {
        self.items.iter().all(|item| {
            let refunded: u32 = self
                .returns
                .values()
                .filter(|c| c.state == ClaimState::Refunded)
                .flat_map(|c| c.items.iter())
                .filter(|i| i.item_id == item.item_id)
                .map(|i| i.quantity)
                .sum();
            refunded >= item.quantity
        })
    }

    /// Money paid and not yet refunded.
    pub fn refundable(&self) -> Money {
        match &self.payment {
            Some(p) => Money {
                amount: p.amount_paid.amount.saturating_sub(self.refunded.amount),
                currency: p.amount_paid.currency.clone(),
            },
            None => Money::zero(self.total.currency.clone()),
        }
    }

    fn refuse(&self, command: &str) -> DomainError {
        DomainError::transition(Entity::Order, self.status, command)
    }
}

/// `create-draft`, validated.
#[derive(Clone, Debug)]
pub struct CreateDraft {
    pub order_id: String,
    pub customer_id: String,
    pub items: Vec<OrderItem>,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    pub payment_method: Option<PaymentMethod>,
}

impl CreateDraft {
    #[allow(clippy::too_many_arguments)]
    pub fn validate(
        order_id: &str,
        customer_id: &str,
        items: Vec<OrderItemInput>,
        shipping_address: Option<Address>,
        billing_address: Option<Address>,
        payment_method: Option<PaymentMethod>,
    ) -> DomainResult<Self> {
        Ok(CreateDraft {
            order_id: parse_uuid("order-id", order_id)?,
            customer_id: parse_uuid("customer-id", customer_id)?,
            items: validate_items("items", items, false)?,
            shipping_address: shipping_address
                .map(|a| a.validated("shipping-address"))
                .transpose()?,
            billing_address: billing_address
                .map(|a| a.validated("billing-address"))
                .transpose()?,
            payment_method,
        })
    }
}

pub fn decide_create_draft(
    existing: Option<&Order>,
    cmd: CreateDraft,
    now: Timestamp,
) -> DomainResult<Vec<OrderEvent>> {
    if let Some(order) = existing {
        return Err(order.refuse("create-draft"));
    }
    Ok(vec![OrderEvent::DraftCreated {
        order_id: cmd.order_id,
        customer_id: cmd.customer_id,
        items: cmd.items,
        shipping_address: cmd.shipping_address,
        billing_address: cmd.billing_address,
        payment_method: cmd.payment_method,
        created_at: now,
    }])
}

/// `update-draft`, validated.
#[derive(Clone, Debug)]
pub struct UpdateDraft {
    pub items: Option<Vec<OrderItem>>,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    pub payment_method: Option<PaymentMethod>,
}

impl UpdateDraft {
    pub fn validate(
        items: Option<Vec<OrderItemInput>>,
        shipping_address: Option<Address>,
        billing_address: Option<Address>,
        payment_method: Option<PaymentMethod>,
    ) -> DomainResult<Self> {
        Ok(UpdateDraft {
            items: items
                .map(|i| validate_items("items", i, false))
                .transpose()?,
            shipping_address: shipping_address
                .map(|a| a.validated("shipping-address"))
                .transpose()?,
            billing_address: billing_address
                .map(|a| a.validated("billing-address"))
                .transpose()?,
            payment_method,
        })
    }
}

pub fn decide_update_draft(
    order: &Order,
    cmd: UpdateDraft,
    now: Timestamp,
) -> DomainResult<Vec<OrderEvent>> {
    if order.status != OrderStatus::Draft {
        return Err(order.refuse("update-draft"));
    }
    Ok(vec![OrderEvent::DraftUpdated {
        items: cmd.items,
        shipping_address: cmd.shipping_address,
        billing_address: cmd.billing_address,
        payment_method: cmd.payment_method,
        updated_at: now,
    }])
}

/// `place-order`, validated and priced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlaceOrder {
    pub order_id: String,
    pub customer_id: String,
    pub items: Vec<OrderItem>,
    pub subtotal: Money,
    pub shipping_address: Address,
    pub billing_address: Address,
    pub payment_method: PaymentMethod,
}

impl PlaceOrder {
    pub fn validate(
        order_id: &str,
        customer_id: &str,
        items: Vec<OrderItemInput>,
        shipping_address: Address,
        billing_address: Address,
        payment_method: PaymentMethod,
    ) -> DomainResult<Self> {
        let order_id = parse_uuid("order-id", order_id)?;
        let customer_id = parse_uuid("customer-id", customer_id)?;
        let items = validate_items("items", items, true)?;
        let subtotal = subtotal(&items)?;
        Ok(PlaceOrder {
            order_id,
            customer_id,
            items,
            subtotal,
            shipping_address: shipping_address.validated("shipping-address")?,
            billing_address: billing_address.validated("billing-address")?,
            payment_method,
        })
    }
}

/// Decides `place-order` given the tax and shipping quoted by the pricing
/// policy. Returns no events for an exact repeat of a placement.
pub fn decide_place_order(
    existing: Option<&Order>,
    cmd: PlaceOrder,
    tax: Money,
    shipping_cost: Money,
    now: Timestamp,
) -> DomainResult<Vec<OrderEvent>> {
    let currency_field = "pricing";
    cmd.subtotal
        .same_currency(&tax, &format!("{currency_field}.tax"))?;
    cmd.subtotal
        .same_currency(&shipping_cost, &format!("{currency_field}.shipping-cost"))?;
    let total = cmd
        .subtotal
        .checked_add(&tax, "total")?
        .checked_add(&shipping_cost, "total")?;
    if let Some(order) = existing {
        match order.status {
            OrderStatus::Draft if order.customer_id != cmd.customer_id => {
                return Err(DomainError::rule(
                    "customer-mismatch",
                    Some("customer-id"),
                    "the draft belongs to another customer",
                ));
            }
            OrderStatus::Draft => {}
            OrderStatus::Pending
                if order.customer_id == cmd.customer_id
                    && order.items == cmd.items
                    && order.shipping_address.as_ref() == Some(&cmd.shipping_address)
                    && order.billing_address.as_ref() == Some(&cmd.billing_address)
                    && order.payment_method == Some(cmd.payment_method) =>
            {
                return Ok(Vec::new());
            }
            _ => return Err(order.refuse("place-order")),
        }
    }
    Ok(vec![OrderEvent::OrderPlaced {
        order_id: cmd.order_id,
        customer_id: cmd.customer_id,
        items: cmd.items,
        subtotal: cmd.subtotal,
        tax,
        shipping_cost,
        total,
        shipping_address: cmd.shipping_address,
        billing_address: cmd.billing_address,
        payment_method: cmd.payment_method,
        placed_at: now,
    }])
}

pub fn decide_confirm_payment(
    order: &Order,
    transaction_id: &str,
    amount_paid: Money,
    now: Timestamp,
) -> DomainResult<Vec<OrderEvent>> {
    check_len("transaction-id", transaction_id, 1, 100)?;
    if order.status != OrderStatus::Pending {
        return Err(order.refuse("confirm-payment"));
    }
    order
        .total
        .same_currency(&amount_paid, "amount-paid.currency")?;
    if amount_paid.amount != order.total.amount {
        return Err(DomainError::validation(
            "amount-paid",
            format!(
                "must equal the order total {}, is {amount_paid}",
                order.total
            ),
        ));
    }
    Ok(vec![OrderEvent::PaymentConfirmed {
        order_id: order.order_id.clone(),
        transaction_id: transaction_id.to_string(),
        amount_paid,
        confirmed_at: now,
    }])
}

pub fn decide_allocate_inventory(
    order: &Order,
    allocations: &[(String, bool)],
    now: Timestamp,
) -> DomainResult<Vec<OrderEvent>> {
    if order.status != OrderStatus::Confirmed {
        return Err(order.refuse("allocate-inventory"));
    }
    if order
        .allocation
        .as_ref()
        .is_some_and(|a| a.all_items_allocated)
    {
        return Err(DomainError::rule(
            "already-allocated",
            Some("allocations"),
            "every item of the order is already allocated",
        ));
    }
    let mut allocated = Vec::new();
    for (i, (item_id, is_allocated)) in allocations.iter().enumerate() {
        let field = format!("allocations[{i}].item-id");
        let item_id = parse_uuid(&field, item_id)?;
        if !order.items.iter().any(|it| it.item_id == item_id) {
            return Err(DomainError::validation(
                field,
                format!("{item_id} is not a line of this order"),
            ));
        }
        if allocations[..i]
            .iter()
            .any(|(other, _)| parse_uuid("", other).ok().as_deref() == Some(item_id.as_str()))
        {
            return Err(DomainError::validation(field, "listed twice"));
        }
        if *is_allocated {
            allocated.push(item_id);
        }
    }
    if allocations.len() != order.items.len() {
        return Err(DomainError::validation(
            "allocations",
            format!(
                "must list every line of the order ({}), lists {}",
                order.items.len(),
                allocations.len()
            ),
        ));
    }
    Ok(vec![OrderEvent::InventoryAllocated {
        order_id: order.order_id.clone(),
        all_items_allocated: allocated.len() == order.items.len(),
        allocated_items: allocated,
        allocated_at: now,
    }])
}

pub fn decide_ship_order(
    order: &Order,
    shipment_id: &str,
    carrier: CarrierCode,
    tracking_number: &str,
    now: Timestamp,
) -> DomainResult<Vec<OrderEvent>> {
    let shipment_id = parse_uuid("shipment-id", shipment_id)?;
    check_len("tracking-number", tracking_number, 1, 100)?;
    if order.status != OrderStatus::Confirmed {
        return Err(order.refuse("ship-order"));
    }
    if !order
        .allocation
        .as_ref()
        .is_some_and(|a| a.all_items_allocated)
    {
        return Err(DomainError::rule(
            "not-allocated",
            None,
            "an order ships only once every item is allocated",
        ));
    }
    Ok(vec![OrderEvent::OrderShipped {
        order_id: order.order_id.clone(),
        shipment_id,
        carrier,
        tracking_number: tracking_number.to_string(),
        shipped_at: now,
    }])
}

pub fn decide_deliver_order(
    order: &Order,
    delivered_at: Timestamp,
    signed_by: Option<String>,
) -> DomainResult<Vec<OrderEvent>> {
    check_opt_len("signed-by", signed_by.as_deref(), 1, 100)?;
    if order.status != OrderStatus::Shipped {
        return Err(order.refuse("deliver-order"));
    }
    if let Some(shipping) = &order.shipping
        && delivered_at < shipping.shipped_at
    {
        return Err(DomainError::validation(
            "delivered-at",
            "must not be before the order was shipped",
        ));
    }
    Ok(vec![OrderEvent::OrderDelivered {
        order_id: order.order_id.clone(),
        delivered_at,
        signed_by,
    }])
}

pub fn decide_cancel_order(
    order: &Order,
    reason: &str,
    cancelled_by: &str,
    now: Timestamp,
) -> DomainResult<Vec<OrderEvent>> {
    check_len("reason", reason, 1, 500)?;
    check_len("cancelled-by", cancelled_by, 1, 100)?;
    if !matches!(
        order.status,
        OrderStatus::Draft | OrderStatus::Pending | OrderStatus::Confirmed
    ) {
        return Err(order.refuse("cancel-order"));
    }
    Ok(vec![OrderEvent::OrderCancelled {
        order_id: order.order_id.clone(),
        reason: reason.to_string(),
        cancelled_by: cancelled_by.to_string(),
        cancelled_at: now,
    }])
}

/// The payment outcome recorded by the saga, if the saga charged.
pub fn saga_payment(order: &Order) -> Option<(String, Money)> {
    match &order.saga.step(SagaStep::ProcessPayment).outcome {
        Some(StepOutcome::Paid {
            transaction_id,
            amount,
        }) => Some((transaction_id.clone(), amount.clone())),
        _ => None,
    }
}
