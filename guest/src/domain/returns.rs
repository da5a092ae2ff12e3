//! The Return entity and the rules a real store needs: the order is
//! delivered and within the return window, the customer is the order's,
//! items belong to the order and are not returned twice, and refunds never
//! exceed what was paid minus what was already refunded.

use serde::{Deserialize, Serialize};

use super::error::{DomainError, DomainResult, Entity};
use super::order::{ItemQuantity, Order, OrderEvent, OrderStatus};
use super::values::*;

pub use super::cases::{RefundStatus, ReturnStatus};

/// One item coming back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnItem {
    pub item_id: String,
    pub product_id: String,
    pub quantity: u32,
    pub return_reason: ReturnReason,
    pub condition: String,
}

crate::tagged_enum! {
    #[tag("type", event_type)]
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum ReturnEvent {
        ReturnRequested = "return-requested" {
            return_id: String,
            order_id: String,
            customer_id: String,
            return_items: Vec<ReturnItem>,
            return_reason: ReturnReason,
            comments: Option<String>,
            requested_at: Timestamp,
        },
        ReturnApproved = "return-approved" {
            return_id: String,
            approved_by: String,
            return_label: Option<String>,
            approved_at: Timestamp,
        },
        ReturnDenied = "return-denied" {
            return_id: String,
            denied_by: String,
            reason: String,
            denied_at: Timestamp,
        },
        ReturnShipped = "return-shipped" {
            return_id: String,
            carrier: CarrierCode,
            tracking_number: String,
            shipped_at: Timestamp,
        },
        ReturnReceived = "return-received" {
            return_id: String,
            received_at: Timestamp,
            condition: String,
            all_items_received: bool,
        },
        RefundProcessed = "refund-processed" {
            return_id: String,
            order_id: String,
            refund_amount: Money,
            refund_method: PaymentMethod,
            processed_at: Timestamp,
        },
        ReturnClosed = "return-closed" {
            return_id: String,
            reason: String,
            closed_at: Timestamp,
        },
        /// The gateway confirmed the refund asynchronously.
        RefundCompleted = "refund-completed" {
            return_id: String,
            transaction_id: String,
            refund_amount: Money,
            refunded_at: Timestamp,
        },
        /// A refund is asked of the gateway under `key`: until the key is
        /// answered for good (refunded, or refused) it is in doubt.
        RefundStarted = "refund-started" {
            return_id: String,
            refund_amount: Money,
            key: String,
            started_at: Timestamp,
        },
        /// The gateway refused the refund under its key for good: nothing was
        /// refunded, and it is no longer in doubt.
        RefundRefused = "refund-refused" {
            return_id: String,
            refund_amount: Money,
            reason: String,
            refused_at: Timestamp,
        },
    }
}

/// The return folded from its events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Return {
    pub return_id: String,
    pub order_id: String,
    pub customer_id: String,
    pub status: ReturnStatus,
    pub return_items: Vec<ReturnItem>,
    pub return_reason: ReturnReason,
    pub comments: Option<String>,
    pub requested_at: Timestamp,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub denial_reason: Option<String>,
    pub return_label: Option<String>,
    pub return_tracking_number: Option<String>,
    pub received_at: Option<Timestamp>,
    pub received_condition: Option<String>,
    pub all_items_received: Option<bool>,
    pub refund_amount: Option<Money>,
    pub refund_method: Option<PaymentMethod>,
    pub refunded_at: Option<Timestamp>,
    pub refund_confirmed: bool,
    /// A refund asked of the gateway and not answered for good: its amount
    /// and key.
    pub refund_in_doubt: Option<(Money, String)>,
    pub version: u64,
}

impl Return {
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a ReturnEvent>) -> Option<Return> {
        let mut r: Option<Return> = None;
        for e in events {
            r = Return::apply(r, e);
        }
        r
    }

    pub fn apply(state: Option<Return>, event: &ReturnEvent) -> Option<Return> {
        let mut r = match (state, event) {
            (
                None,
                ReturnEvent::ReturnRequested {
                    return_id,
                    order_id,
                    customer_id,
                    return_items,
                    return_reason,
                    comments,
                    requested_at,
                },
            ) => Return {
                return_id: return_id.clone(),
                order_id: order_id.clone(),
                customer_id: customer_id.clone(),
                status: ReturnStatus::Requested,
                return_items: return_items.clone(),
                return_reason: *return_reason,
                comments: comments.clone(),
                requested_at: *requested_at,
                decided_by: None,
                decided_at: None,
                denial_reason: None,
                return_label: None,
                return_tracking_number: None,
                received_at: None,
                received_condition: None,
                all_items_received: None,
                refund_amount: None,
                refund_method: None,
                refunded_at: None,
                refund_confirmed: false,
                refund_in_doubt: None,
                version: 0,
            },
            (Some(r), _) => r,
            (None, _) => return None,
        };
        r.version += 1;
        match event {
            ReturnEvent::ReturnRequested { .. } => {}
            ReturnEvent::ReturnApproved {
                approved_by,
                return_label,
                approved_at,
                ..
            } => {
                r.status = ReturnStatus::Approved;
                r.decided_by = Some(approved_by.clone());
                r.decided_at = Some(*approved_at);
                r.return_label = return_label.clone();
            }
            ReturnEvent::ReturnDenied {
                denied_by,
                reason,
                denied_at,
                ..
            } => {
                r.status = ReturnStatus::Denied;
                r.decided_by = Some(denied_by.clone());
                r.decided_at = Some(*denied_at);
                r.denial_reason = Some(reason.clone());
            }
            ReturnEvent::ReturnShipped {
                tracking_number, ..
            } => {
                r.status = ReturnStatus::Shipped;
                r.return_tracking_number = Some(tracking_number.clone());
            }
            ReturnEvent::ReturnReceived {
                received_at,
                condition,
                all_items_received,
                ..
            } => {
                r.status = ReturnStatus::Received;
                r.received_at = Some(*received_at);
                r.received_condition = Some(condition.clone());
                r.all_items_received = Some(*all_items_received);
            }
            ReturnEvent::RefundProcessed {
                refund_amount,
                refund_method,
                processed_at,
                ..
            } => {
                r.status = ReturnStatus::Refunded;
                r.refund_amount = Some(refund_amount.clone());
                r.refund_method = Some(*refund_method);
                r.refunded_at = Some(*processed_at);
                r.refund_in_doubt = None;
            }
            ReturnEvent::RefundStarted {
                refund_amount, key, ..
            } => r.refund_in_doubt = Some((refund_amount.clone(), key.clone())),
            ReturnEvent::RefundRefused { refund_amount, .. } => {
                if r.refund_in_doubt
                    .as_ref()
                    .is_some_and(|(m, _)| m == refund_amount)
                {
                    r.refund_in_doubt = None;
                }
            }
            ReturnEvent::ReturnClosed { reason, .. } => {
                r.status = ReturnStatus::Closed;
                r.denial_reason = Some(reason.clone());
            }
            ReturnEvent::RefundCompleted { .. } => r.refund_confirmed = true,
        }
        Some(r)
    }

    pub fn refund_status(&self) -> RefundStatus {
        match self.status {
            ReturnStatus::Requested => RefundStatus::Pending,
            ReturnStatus::Approved | ReturnStatus::Shipped | ReturnStatus::Received => {
                RefundStatus::Approved
            }
            ReturnStatus::Refunded => RefundStatus::Processed,
            ReturnStatus::Denied | ReturnStatus::Closed => RefundStatus::Denied,
        }
    }

    fn refuse(&self, command: &str) -> DomainError {
        DomainError::transition(Entity::Return, self.status, command)
    }
}

/// `request-return`, validated (independently of the order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestReturn {
    pub return_id: String,
    pub order_id: String,
    pub customer_id: String,
    pub return_items: Vec<ReturnItem>,
    pub return_reason: ReturnReason,
    pub comments: Option<String>,
}

impl RequestReturn {
    pub fn validate(mut self) -> DomainResult<Self> {
        self.return_id = parse_uuid("return-id", &self.return_id)?;
        self.order_id = parse_uuid("order-id", &self.order_id)?;
        self.customer_id = parse_uuid("customer-id", &self.customer_id)?;
        check_opt_len("comments", self.comments.as_deref(), 1, 1000)?;
        if self.return_items.is_empty() {
            return Err(DomainError::validation(
                "return-items",
                "must have at least one item",
            ));
        }
        for i in 0..self.return_items.len() {
            let f = |name: &str| format!("return-items[{i}].{name}");
            let item = &mut self.return_items[i];
            item.item_id = parse_uuid(&f("item-id"), &item.item_id)?;
            item.product_id = parse_uuid(&f("product-id"), &item.product_id)?;
            check_quantity(&f("quantity"), item.quantity)?;
            check_len(&f("condition"), &item.condition, 1, 100)?;
            let id = item.item_id.clone();
            if self.return_items[..i].iter().any(|o| o.item_id == id) {
                return Err(DomainError::validation(f("item-id"), "listed twice"));
            }
        }
        Ok(self)
    }
}

/// Decides `request-return` against the order: events for the return's
/// stream and for the order's stream (which keeps the claimed quantities).
pub fn decide_request_return(
    existing: Option<&Return>,
    order: &Order,
    cmd: RequestReturn,
    return_window_days: u32,
    now: Timestamp,
) -> DomainResult<(Vec<ReturnEvent>, Vec<OrderEvent>)> {
    if let Some(r) = existing {
        let same = r.order_id == cmd.order_id
            && r.customer_id == cmd.customer_id
            && r.return_items == cmd.return_items
            && r.return_reason == cmd.return_reason
            && r.comments == cmd.comments;
        return if same {
            Ok((Vec::new(), Vec::new()))
        } else {
            Err(r.refuse("request-return"))
        };
    }
    if order.status != OrderStatus::Delivered {
        return Err(DomainError::transition(
            Entity::Order,
            order.status,
            "request-return",
        ));
    }
    if order.customer_id != cmd.customer_id {
        return Err(DomainError::rule(
            "customer-mismatch",
            Some("customer-id"),
            "the return's customer is not the order's customer",
        ));
    }
    let delivered_at = order.delivery.as_ref().map_or(0, |d| d.delivered_at);
    if now > delivered_at.saturating_add(days_ms(return_window_days)) {
        return Err(DomainError::rule(
            "return-window-expired",
            Some("order-id"),
            format!("returns are accepted within {return_window_days} days of delivery"),
        ));
    }
    for (i, item) in cmd.return_items.iter().enumerate() {
        let Some(line) = order.items.iter().find(|l| l.item_id == item.item_id) else {
            return Err(DomainError::validation(
                format!("return-items[{i}].item-id"),
                format!("{} is not a line of order {}", item.item_id, order.order_id),
            ));
        };
        if line.product_id != item.product_id {
            return Err(DomainError::validation(
                format!("return-items[{i}].product-id"),
                format!("line {} holds product {}", line.item_id, line.product_id),
            ));
        }
        let returnable = line
            .quantity
            .saturating_sub(order.returned_quantity(&line.item_id));
        if item.quantity > returnable {
            return Err(DomainError::rule(
                "quantity-exceeds-returnable",
                Some(&format!("return-items[{i}].quantity")),
                format!(
                    "{} units of line {} can still be returned, {} requested",
                    returnable, line.item_id, item.quantity
                ),
            ));
        }
    }
    let claim = cmd
        .return_items
        .iter()
        .map(|i| ItemQuantity {
            item_id: i.item_id.clone(),
            quantity: i.quantity,
        })
        .collect();
    Ok((
        vec![ReturnEvent::ReturnRequested {
            return_id: cmd.return_id.clone(),
            order_id: cmd.order_id,
            customer_id: cmd.customer_id,
            return_items: cmd.return_items,
            return_reason: cmd.return_reason,
            comments: cmd.comments,
            requested_at: now,
        }],
        vec![OrderEvent::ReturnOpened {
            return_id: cmd.return_id,
            items: claim,
            opened_at: now,
        }],
    ))
}

pub fn decide_approve_return(
    r: &Return,
    approved_by: &str,
    return_label: Option<String>,
    now: Timestamp,
) -> DomainResult<Vec<ReturnEvent>> {
    check_len("approved-by", approved_by, 1, 100)?;
    check_opt_len("return-label", return_label.as_deref(), 1, 500)?;
    if r.status != ReturnStatus::Requested {
        return Err(r.refuse("approve-return"));
    }
    Ok(vec![ReturnEvent::ReturnApproved {
        return_id: r.return_id.clone(),
        approved_by: approved_by.to_string(),
        return_label,
        approved_at: now,
    }])
}

/// Denying frees the claimed quantities on the order.
pub fn decide_deny_return(
    r: &Return,
    denied_by: &str,
    reason: &str,
    now: Timestamp,
) -> DomainResult<(Vec<ReturnEvent>, Vec<OrderEvent>)> {
    check_len("denied-by", denied_by, 1, 100)?;
    check_len("reason", reason, 1, 500)?;
    if r.status != ReturnStatus::Requested {
        return Err(r.refuse("deny-return"));
    }
    Ok((
        vec![ReturnEvent::ReturnDenied {
            return_id: r.return_id.clone(),
            denied_by: denied_by.to_string(),
            reason: reason.to_string(),
            denied_at: now,
        }],
        vec![OrderEvent::ReturnReleased {
            return_id: r.return_id.clone(),
            released_at: now,
        }],
    ))
}

pub fn decide_ship_return(
    r: &Return,
    carrier: CarrierCode,
    tracking_number: &str,
    now: Timestamp,
) -> DomainResult<Vec<ReturnEvent>> {
    check_len("tracking-number", tracking_number, 1, 100)?;
    if r.status != ReturnStatus::Approved {
        return Err(r.refuse("ship-return"));
    }
    Ok(vec![ReturnEvent::ReturnShipped {
        return_id: r.return_id.clone(),
        carrier,
        tracking_number: tracking_number.to_string(),
        shipped_at: now,
    }])
}

pub fn decide_receive_return(
    r: &Return,
    received_at: Timestamp,
    condition: &str,
    all_items_received: bool,
) -> DomainResult<Vec<ReturnEvent>> {
    check_len("condition", condition, 1, 200)?;
    if !matches!(r.status, ReturnStatus::Approved | ReturnStatus::Shipped) {
        return Err(r.refuse("receive-return"));
    }
    if received_at < r.requested_at {
        return Err(DomainError::validation(
            "received-at",
            "must not be before the return was requested",
        ));
    }
    Ok(vec![ReturnEvent::ReturnReceived {
        return_id: r.return_id.clone(),
        received_at,
        condition: condition.to_string(),
        all_items_received,
    }])
}

/// Checks a refund before the gateway is called.
pub fn check_refund(r: &Return, order: &Order, amount: &Money) -> DomainResult<()> {
    if r.status != ReturnStatus::Received {
        return Err(r.refuse("process-refund"));
    }
    if amount.amount == 0 {
        return Err(DomainError::validation(
            "refund-amount.amount",
            "must be greater than 0",
        ));
    }
    // A refund in doubt may have been made: another amount would be a
    // second refund under another key. The same amount repeats its key.
    if let Some((pending, key)) = &r.refund_in_doubt
        && pending != amount
    {
        return Err(DomainError::rule(
            "refund-in-doubt",
            Some("refund-amount"),
            format!(
                "a refund of {pending} for return {} is in doubt (key {key}); repeat it with {pending} to learn its outcome before refunding another amount, {amount} asked",
                r.return_id
            ),
        ));
    }
    let refundable = order.refundable();
    refundable.same_currency(amount, "refund-amount.currency")?;
    if order.payment.is_none() || amount.amount > refundable.amount {
        return Err(DomainError::rule(
            "refund-exceeds-paid",
            Some("refund-amount"),
            format!(
                "at most {refundable} can be refunded (paid minus already refunded), {amount} asked"
            ),
        ));
    }
    Ok(())
}

/// Decides `process-refund` once the gateway refunded: the return is
/// refunded, the order records the money, and moves to `returned` when
/// every item has been returned and refunded.
pub fn decide_process_refund(
    r: &Return,
    order: &Order,
    amount: Money,
    method: PaymentMethod,
    now: Timestamp,
) -> DomainResult<(Vec<ReturnEvent>, Vec<OrderEvent>)> {
    check_refund(r, order, &amount)?;
    let mut order_events = vec![OrderEvent::OrderRefunded {
        return_id: Some(r.return_id.clone()),
        amount: amount.clone(),
        refunded_at: now,
    }];
    let after = Order::apply(Some(order.clone()), &order_events[0]);
    if after.status == OrderStatus::Delivered && after.fully_returned_and_refunded() {
        order_events.push(OrderEvent::OrderReturned {
            order_id: order.order_id.clone(),
            returned_at: now,
        });
    }
    Ok((
        vec![ReturnEvent::RefundProcessed {
            return_id: r.return_id.clone(),
            order_id: r.order_id.clone(),
            refund_amount: amount,
            refund_method: method,
            processed_at: now,
        }],
        order_events,
    ))
}

/// Closing frees the claimed quantities on the order.
pub fn decide_close_return(
    r: &Return,
    reason: &str,
    now: Timestamp,
) -> DomainResult<(Vec<ReturnEvent>, Vec<OrderEvent>)> {
    check_len("reason", reason, 1, 500)?;
    if !matches!(r.status, ReturnStatus::Approved | ReturnStatus::Shipped) {
        return Err(r.refuse("close-return"));
    }
    Ok((
        vec![ReturnEvent::ReturnClosed {
            return_id: r.return_id.clone(),
            reason: reason.to_string(),
            closed_at: now,
        }],
        vec![OrderEvent::ReturnReleased {
            return_id: r.return_id.clone(),
            released_at: now,
        }],
    ))
}
