//! The Return entity and the rules a real store needs: a return is requested
//! only on a delivered order, by the order's customer, within the return
//! window, for lines of the order with the right product and never more
//! units than are still returnable (denied and closed returns give theirs
//! back); each transition of the Return is allowed only from its states;
//! every text bound holds at its limit; refunds are positive, in the order's
//! currency and never exceed what was paid minus what was refunded; and the
//! order moves to `returned` only once every unit is in a refunded return.

mod common;

use std::collections::BTreeMap;

use common::*;
use order_core::domain::Entity;
use order_core::domain::order::{Order, OrderEvent, OrderStatus};
use order_core::domain::returns::*;
use order_core::domain::values::*;

const WINDOW_DAYS: u32 = 30;
const NOW: Timestamp = DELIVERED_AT + DAY;

fn request(return_id: &str, items: Vec<ReturnItem>) -> RequestReturn {
    RequestReturn {
        return_id: return_id.to_string(),
        order_id: ORDER_ID.to_string(),
        customer_id: CUSTOMER_ID.to_string(),
        return_items: items,
        return_reason: ReturnReason::Defective,
        comments: Some("the lid is cracked".to_string()),
    }
}

fn all_units() -> Vec<ReturnItem> {
    vec![
        return_item(ITEM_A, PRODUCT_A, 2),
        return_item(ITEM_B, PRODUCT_B, 1),
    ]
}

fn delivered() -> Order {
    order_in(OrderStatus::Delivered)
}

/// An order with its returns, evolved by the decisions the tests make.
struct Store {
    order: Order,
    returns: BTreeMap<String, Return>,
}

impl Store {
    fn delivered() -> Self {
        Store {
            order: delivered(),
            returns: BTreeMap::new(),
        }
    }

    /// Given: a delivered order with a return of `items` received.
    fn with_received(items: Vec<ReturnItem>) -> Self {
        let mut store = Store::delivered();
        store.open(RETURN_ID, items);
        store.receive(RETURN_ID);
        store
    }

    /// Given: a delivered order with a return of every unit received.
    fn with_every_unit_received() -> Self {
        Store::with_received(all_units())
    }

    fn record(&mut self, id: &str, ret: Vec<ReturnEvent>, order: Vec<OrderEvent>) {
        let before = self.returns.remove(id);
        let after = ret.iter().fold(before, Return::apply);
        if let Some(r) = after {
            self.returns.insert(id.to_string(), r);
        }
        self.order = applied(&self.order, &order);
    }

    fn get(&self, id: &str) -> &Return {
        &self.returns[id]
    }

    fn request(
        &mut self,
        id: &str,
        items: Vec<ReturnItem>,
    ) -> order_core::domain::DomainResult<()> {
        let cmd = request(id, items).validate()?;
        let (ret, order) =
            decide_request_return(self.returns.get(id), &self.order, cmd, WINDOW_DAYS, NOW)?;
        self.record(id, ret, order);
        Ok(())
    }

    /// Given: a return of `items` requested.
    fn open(&mut self, id: &str, items: Vec<ReturnItem>) {
        self.request(id, items).unwrap();
    }

    fn approve(&mut self, id: &str) {
        let events = decide_approve_return(self.get(id), "csr-1", None, NOW).unwrap();
        self.record(id, events, vec![]);
    }

    fn deny(&mut self, id: &str) {
        let (r, o) = decide_deny_return(self.get(id), "csr-1", "worn", NOW).unwrap();
        self.record(id, r, o);
    }

    fn close(&mut self, id: &str) {
        let (r, o) = decide_close_return(self.get(id), "never sent back", NOW).unwrap();
        self.record(id, r, o);
    }

    fn receive(&mut self, id: &str) {
        self.approve(id);
        let events = decide_receive_return(self.get(id), NOW, "as new", true).unwrap();
        self.record(id, events, vec![]);
    }

    /// Refunds `amount`; returns the order events it produced.
    fn refund(
        &mut self,
        id: &str,
        amount: Money,
    ) -> order_core::domain::DomainResult<Vec<OrderEvent>> {
        let (r, o) = decide_process_refund(
            self.get(id),
            &self.order,
            amount,
            PaymentMethod::CreditCard,
            NOW,
        )?;
        self.record(id, r, o.clone());
        Ok(o)
    }
}

fn requested_event() -> ReturnEvent {
    ReturnEvent::ReturnRequested {
        return_id: RETURN_ID.to_string(),
        order_id: ORDER_ID.to_string(),
        customer_id: CUSTOMER_ID.to_string(),
        return_items: all_units(),
        return_reason: ReturnReason::Defective,
        comments: None,
        requested_at: NOW,
    }
}

fn approved_event() -> ReturnEvent {
    ReturnEvent::ReturnApproved {
        return_id: RETURN_ID.to_string(),
        approved_by: "csr-1".to_string(),
        return_label: Some("https://labels.example/1".to_string()),
        approved_at: NOW,
    }
}

/// A return in `status`.
fn return_in(status: ReturnStatus) -> Return {
    let shipped = ReturnEvent::ReturnShipped {
        return_id: RETURN_ID.to_string(),
        carrier: CarrierCode::Usps,
        tracking_number: "RET-1".to_string(),
        shipped_at: NOW,
    };
    let received = ReturnEvent::ReturnReceived {
        return_id: RETURN_ID.to_string(),
        received_at: NOW,
        condition: "as new".to_string(),
        all_items_received: true,
    };
    let events = match status {
        ReturnStatus::Requested => vec![requested_event()],
        ReturnStatus::Approved => vec![requested_event(), approved_event()],
        ReturnStatus::Shipped => vec![requested_event(), approved_event(), shipped],
        ReturnStatus::Received => vec![requested_event(), approved_event(), shipped, received],
        ReturnStatus::Refunded => vec![
            requested_event(),
            approved_event(),
            received,
            ReturnEvent::RefundProcessed {
                return_id: RETURN_ID.to_string(),
                order_id: ORDER_ID.to_string(),
                refund_amount: usd(100),
                refund_method: PaymentMethod::CreditCard,
                processed_at: NOW,
            },
        ],
        ReturnStatus::Denied => vec![
            requested_event(),
            ReturnEvent::ReturnDenied {
                return_id: RETURN_ID.to_string(),
                denied_by: "csr-1".to_string(),
                reason: "worn".to_string(),
                denied_at: NOW,
            },
        ],
        ReturnStatus::Closed => vec![
            requested_event(),
            approved_event(),
            ReturnEvent::ReturnClosed {
                return_id: RETURN_ID.to_string(),
                reason: "never sent".to_string(),
                closed_at: NOW,
            },
        ],
    };
    let r = given_return(events);
    assert_eq!(r.status, status, "fixture for {status}");
    r
}

const ALL_RETURN_STATUSES: [ReturnStatus; 7] = ReturnStatus::ALL;

fn return_statuses_except(allowed: &[ReturnStatus]) -> Vec<ReturnStatus> {
    ALL_RETURN_STATUSES
        .into_iter()
        .filter(|s| !allowed.contains(s))
        .collect()
}

/// Then: `command`, decided by `decide` on a return in each status but
/// `allowed`, is an invalid transition naming that status.
#[track_caller]
fn assert_only_from<T: std::fmt::Debug>(
    allowed: &[ReturnStatus],
    command: &str,
    decide: impl Fn(&Return) -> order_core::domain::DomainResult<T>,
) {
    for status in return_statuses_except(allowed) {
        assert_transition(
            decide(&return_in(status)),
            Entity::Return,
            &status.to_string(),
            command,
        );
    }
}

// ----- request-return -------------------------------------------------------

#[test]
fn request_return_on_a_delivered_order_opens_the_return_and_claims_the_units() {
    let order = delivered();
    let cmd = request(RETURN_ID, vec![return_item(ITEM_A, PRODUCT_A, 1)])
        .validate()
        .unwrap();
    let (ret, ord) = decide_request_return(None, &order, cmd, WINDOW_DAYS, NOW).unwrap();
    assert_eq!(
        ret,
        vec![ReturnEvent::ReturnRequested {
            return_id: RETURN_ID.to_string(),
            order_id: ORDER_ID.to_string(),
            customer_id: CUSTOMER_ID.to_string(),
            return_items: vec![return_item(ITEM_A, PRODUCT_A, 1)],
            return_reason: ReturnReason::Defective,
            comments: Some("the lid is cracked".to_string()),
            requested_at: NOW,
        }]
    );
    assert!(matches!(
        &ord[..],
        [OrderEvent::ReturnOpened { return_id, items, opened_at }]
            if return_id == RETURN_ID && *opened_at == NOW
                && items.len() == 1 && items[0].item_id == ITEM_A && items[0].quantity == 1
    ));
    let r = given_return(ret);
    assert_eq!(r.status, ReturnStatus::Requested);
    assert_eq!(r.refund_status(), RefundStatus::Pending);
    assert_eq!(applied(&order, &ord).returned_quantity(ITEM_A), 1);
}

#[test]
fn request_return_on_an_undelivered_order_is_rejected() {
    for status in statuses_except(&[OrderStatus::Delivered]) {
        let order = order_in(status);
        let cmd = request(RETURN_ID, vec![return_item(ITEM_A, PRODUCT_A, 1)])
            .validate()
            .unwrap();
        assert_transition(
            decide_request_return(None, &order, cmd, WINDOW_DAYS, NOW),
            Entity::Order,
            &status.to_string(),
            "request-return",
        );
    }
}

#[test]
fn an_identical_request_return_yields_no_events_and_a_different_one_is_rejected() {
    let mut store = Store::delivered();
    store.open(RETURN_ID, all_units());
    let same = request(RETURN_ID, all_units()).validate().unwrap();
    let (r, o) = decide_request_return(
        Some(store.get(RETURN_ID)),
        &store.order,
        same,
        WINDOW_DAYS,
        NOW,
    )
    .unwrap();
    assert!(r.is_empty() && o.is_empty());
    let different = request(RETURN_ID, vec![return_item(ITEM_B, PRODUCT_B, 1)])
        .validate()
        .unwrap();
    assert_transition(
        decide_request_return(
            Some(store.get(RETURN_ID)),
            &store.order,
            different,
            WINDOW_DAYS,
            NOW,
        ),
        Entity::Return,
        "requested",
        "request-return",
    );
}

#[test]
fn the_customer_must_be_the_orders() {
    let order = delivered();
    let cmd = RequestReturn {
        customer_id: OTHER_CUSTOMER_ID.to_string(),
        ..request(RETURN_ID, all_units())
    }
    .validate()
    .unwrap();
    assert_rule(
        decide_request_return(None, &order, cmd, WINDOW_DAYS, NOW),
        "customer-mismatch",
        Some("customer-id"),
    );
}

#[test]
fn the_return_window_ends_exactly_30_days_after_delivery() {
    let order = delivered();
    let at = |now: Timestamp| {
        let cmd = request(RETURN_ID, all_units()).validate().unwrap();
        decide_request_return(None, &order, cmd, WINDOW_DAYS, now)
    };
    assert!(at(DELIVERED_AT).is_ok());
    assert!(at(DELIVERED_AT + 30 * DAY).is_ok(), "at the limit");
    assert_rule(
        at(DELIVERED_AT + 30 * DAY + 1),
        "return-window-expired",
        Some("order-id"),
    );
}

#[test]
fn the_return_window_is_configurable() {
    let order = delivered();
    let cmd = || request(RETURN_ID, all_units()).validate().unwrap();
    assert!(decide_request_return(None, &order, cmd(), 7, DELIVERED_AT + 7 * DAY).is_ok());
    assert_rule(
        decide_request_return(None, &order, cmd(), 7, DELIVERED_AT + 7 * DAY + 1),
        "return-window-expired",
        Some("order-id"),
    );
}

#[test]
fn returned_items_must_be_lines_of_the_order() {
    let mut store = Store::delivered();
    assert_validation(
        store.request(
            RETURN_ID,
            vec![
                return_item(ITEM_A, PRODUCT_A, 1),
                return_item(ITEM_UNKNOWN, PRODUCT_B, 1),
            ],
        ),
        "return-items[1].item-id",
    );
    assert!(store.returns.is_empty());
}

#[test]
fn the_product_must_match_the_line() {
    let mut store = Store::delivered();
    assert_validation(
        store.request(RETURN_ID, vec![return_item(ITEM_A, PRODUCT_B, 1)]),
        "return-items[0].product-id",
    );
}

#[test]
fn quantities_never_exceed_what_was_ordered() {
    let mut store = Store::delivered();
    assert_rule(
        store.request(
            RETURN_ID,
            vec![
                return_item(ITEM_B, PRODUCT_B, 1),
                return_item(ITEM_A, PRODUCT_A, 3),
            ],
        ),
        "quantity-exceeds-returnable",
        Some("return-items[1].quantity"),
    );
    assert!(
        store.request(RETURN_ID, all_units()).is_ok(),
        "exactly the ordered quantities"
    );
}

#[test]
fn quantities_never_exceed_ordered_minus_earlier_open_returns() {
    let mut store = Store::delivered();
    store.open(RETURN_ID, vec![return_item(ITEM_A, PRODUCT_A, 1)]);
    assert_rule(
        store.request(RETURN_ID_2, vec![return_item(ITEM_A, PRODUCT_A, 2)]),
        "quantity-exceeds-returnable",
        Some("return-items[0].quantity"),
    );
    assert!(
        store
            .request(RETURN_ID_2, vec![return_item(ITEM_A, PRODUCT_A, 1)])
            .is_ok()
    );
    assert_eq!(store.order.returned_quantity(ITEM_A), 2);
}

#[test]
fn quantities_never_exceed_ordered_minus_earlier_refunded_returns() {
    let mut store = Store::with_received(vec![return_item(ITEM_A, PRODUCT_A, 2)]);
    store.refund(RETURN_ID, usd(2 * PRICE_A)).unwrap();
    assert_rule(
        store.request(RETURN_ID_2, vec![return_item(ITEM_A, PRODUCT_A, 1)]),
        "quantity-exceeds-returnable",
        Some("return-items[0].quantity"),
    );
}

#[test]
fn a_denied_return_frees_its_quantities() {
    let mut store = Store::delivered();
    store.open(RETURN_ID, all_units());
    assert!(
        store
            .request(RETURN_ID_2, vec![return_item(ITEM_A, PRODUCT_A, 1)])
            .is_err()
    );
    store.deny(RETURN_ID);
    assert_eq!(store.get(RETURN_ID).refund_status(), RefundStatus::Denied);
    assert_eq!(store.order.returned_quantity(ITEM_A), 0);
    assert!(store.request(RETURN_ID_2, all_units()).is_ok());
}

#[test]
fn a_closed_return_frees_its_quantities() {
    let mut store = Store::delivered();
    store.open(RETURN_ID, all_units());
    store.approve(RETURN_ID);
    assert!(
        store
            .request(RETURN_ID_2, vec![return_item(ITEM_B, PRODUCT_B, 1)])
            .is_err()
    );
    store.close(RETURN_ID);
    assert_eq!(store.get(RETURN_ID).status, ReturnStatus::Closed);
    assert!(store.request(RETURN_ID_2, all_units()).is_ok());
}

#[test]
fn request_return_validates_ids_items_and_comments() {
    let v = |f: fn(&mut RequestReturn)| {
        let mut cmd = request(RETURN_ID, all_units());
        f(&mut cmd);
        cmd.validate()
    };
    assert_validation(v(|c| c.return_id = "r".into()), "return-id");
    assert_validation(v(|c| c.order_id = "o".into()), "order-id");
    assert_validation(v(|c| c.customer_id = "c".into()), "customer-id");
    assert_validation(v(|c| c.return_items.clear()), "return-items");
    assert_validation(
        v(|c| c.return_items[1].item_id = "i".into()),
        "return-items[1].item-id",
    );
    assert_validation(
        v(|c| c.return_items[0].product_id = "p".into()),
        "return-items[0].product-id",
    );
    assert_validation(
        v(|c| c.return_items[1].quantity = 0),
        "return-items[1].quantity",
    );
    assert_validation(
        v(|c| c.return_items[1].item_id = ITEM_A.into()),
        "return-items[1].item-id",
    );
}

#[test]
fn item_condition_is_1_to_100_characters() {
    let v = |condition: &str| {
        let mut cmd = request(RETURN_ID, all_units());
        cmd.return_items[1].condition = condition.to_string();
        cmd.validate()
    };
    assert_required_text(v, 100, "return-items[1].condition");
}

#[test]
fn comments_are_optional_but_1_to_1000_characters_when_given() {
    let v = |comments: Option<String>| {
        RequestReturn {
            comments,
            ..request(RETURN_ID, all_units())
        }
        .validate()
    };
    assert_optional_text(v, 1000, "comments");
}

// ----- transitions of the Return --------------------------------------------

#[test]
fn approve_return_from_requested_approves_it() {
    let r = return_in(ReturnStatus::Requested);
    let events = decide_approve_return(&r, "csr-1", Some("label-url".into()), NOW).unwrap();
    assert_eq!(
        events,
        vec![ReturnEvent::ReturnApproved {
            return_id: RETURN_ID.to_string(),
            approved_by: "csr-1".to_string(),
            return_label: Some("label-url".to_string()),
            approved_at: NOW,
        }]
    );
    let r = Return::apply(Some(r), &events[0]).unwrap();
    assert_eq!(r.status, ReturnStatus::Approved);
    assert_eq!(r.refund_status(), RefundStatus::Approved);
}

#[test]
fn approve_return_outside_requested_is_rejected() {
    assert_only_from(&[ReturnStatus::Requested], "approve-return", |r| {
        decide_approve_return(r, "csr-1", None, NOW)
    });
}

#[test]
fn deny_return_from_requested_denies_it_and_releases_the_claim() {
    let r = return_in(ReturnStatus::Requested);
    let (ret, ord) = decide_deny_return(&r, "csr-1", "worn", NOW).unwrap();
    assert_eq!(
        ret,
        vec![ReturnEvent::ReturnDenied {
            return_id: RETURN_ID.to_string(),
            denied_by: "csr-1".to_string(),
            reason: "worn".to_string(),
            denied_at: NOW,
        }]
    );
    assert_eq!(
        ord,
        vec![OrderEvent::ReturnReleased {
            return_id: RETURN_ID.to_string(),
            released_at: NOW,
        }]
    );
}

#[test]
fn deny_return_outside_requested_is_rejected() {
    assert_only_from(&[ReturnStatus::Requested], "deny-return", |r| {
        decide_deny_return(r, "csr-1", "no", NOW)
    });
}

#[test]
fn ship_return_from_approved_ships_it() {
    let r = return_in(ReturnStatus::Approved);
    let events = decide_ship_return(&r, CarrierCode::Usps, "RET-9", NOW).unwrap();
    assert_eq!(
        events,
        vec![ReturnEvent::ReturnShipped {
            return_id: RETURN_ID.to_string(),
            carrier: CarrierCode::Usps,
            tracking_number: "RET-9".to_string(),
            shipped_at: NOW,
        }]
    );
    let r = Return::apply(Some(r), &events[0]).unwrap();
    assert_eq!(r.status, ReturnStatus::Shipped);
    assert_eq!(r.return_tracking_number.as_deref(), Some("RET-9"));
}

#[test]
fn ship_return_outside_approved_is_rejected() {
    assert_only_from(&[ReturnStatus::Approved], "ship-return", |r| {
        decide_ship_return(r, CarrierCode::Usps, "RET-9", NOW)
    });
}

#[test]
fn receive_return_from_approved_or_shipped_receives_it() {
    for status in [ReturnStatus::Approved, ReturnStatus::Shipped] {
        let r = return_in(status);
        let events = decide_receive_return(&r, NOW + 1, "scuffed", false).unwrap();
        assert_eq!(
            events,
            vec![ReturnEvent::ReturnReceived {
                return_id: RETURN_ID.to_string(),
                received_at: NOW + 1,
                condition: "scuffed".to_string(),
                all_items_received: false,
            }],
            "from {status}"
        );
        let r = Return::apply(Some(r), &events[0]).unwrap();
        assert_eq!(r.status, ReturnStatus::Received);
    }
}

#[test]
fn receive_return_before_the_request_is_rejected() {
    let r = return_in(ReturnStatus::Approved);
    assert_validation(
        decide_receive_return(&r, NOW - 1, "ok", true),
        "received-at",
    );
}

#[test]
fn receive_return_elsewhere_is_rejected() {
    assert_only_from(
        &[ReturnStatus::Approved, ReturnStatus::Shipped],
        "receive-return",
        |r| decide_receive_return(r, NOW, "ok", true),
    );
}

#[test]
fn process_refund_from_received_refunds_it() {
    let mut store = Store::with_received(vec![return_item(ITEM_A, PRODUCT_A, 1)]);
    let (ret, ord) = decide_process_refund(
        store.get(RETURN_ID),
        &store.order,
        usd(PRICE_A),
        PaymentMethod::CreditCard,
        NOW,
    )
    .unwrap();
    assert_eq!(
        ret,
        vec![ReturnEvent::RefundProcessed {
            return_id: RETURN_ID.to_string(),
            order_id: ORDER_ID.to_string(),
            refund_amount: usd(PRICE_A),
            refund_method: PaymentMethod::CreditCard,
            processed_at: NOW,
        }]
    );
    assert_eq!(
        ord,
        vec![OrderEvent::OrderRefunded {
            return_id: Some(RETURN_ID.to_string()),
            amount: usd(PRICE_A),
            refunded_at: NOW,
        }]
    );
    store.record(RETURN_ID, ret, ord);
    assert_eq!(store.get(RETURN_ID).status, ReturnStatus::Refunded);
    assert_eq!(
        store.get(RETURN_ID).refund_status(),
        RefundStatus::Processed
    );
    assert_eq!(store.order.refunded, usd(PRICE_A));
    assert_eq!(store.order.refundable(), usd(TOTAL - PRICE_A));
}

#[test]
fn process_refund_outside_received_is_rejected() {
    let mut store = Store::delivered();
    store.open(RETURN_ID, all_units());
    let received = [ReturnStatus::Received];
    assert_only_from(&received, "process-refund", |r| {
        check_refund(r, &store.order, &usd(100))
    });
    assert_only_from(&received, "process-refund", |r| {
        decide_process_refund(r, &store.order, usd(100), PaymentMethod::CreditCard, NOW)
    });
}

#[test]
fn close_return_from_approved_or_shipped_closes_it() {
    for status in [ReturnStatus::Approved, ReturnStatus::Shipped] {
        let (ret, ord) = decide_close_return(&return_in(status), "never sent", NOW).unwrap();
        assert_eq!(
            ret,
            vec![ReturnEvent::ReturnClosed {
                return_id: RETURN_ID.to_string(),
                reason: "never sent".to_string(),
                closed_at: NOW,
            }],
            "from {status}"
        );
        assert_eq!(
            ord,
            vec![OrderEvent::ReturnReleased {
                return_id: RETURN_ID.to_string(),
                released_at: NOW,
            }]
        );
    }
}

#[test]
fn close_return_elsewhere_is_rejected() {
    assert_only_from(
        &[ReturnStatus::Approved, ReturnStatus::Shipped],
        "close-return",
        |r| decide_close_return(r, "why", NOW),
    );
}

// ----- bounds of the transitions --------------------------------------------

#[test]
fn approved_by_is_1_to_100_characters() {
    let r = return_in(ReturnStatus::Requested);
    assert_required_text(
        |by| decide_approve_return(&r, by, None, NOW),
        100,
        "approved-by",
    );
}

#[test]
fn return_label_is_optional_but_1_to_500_characters_when_given() {
    let r = return_in(ReturnStatus::Requested);
    assert_optional_text(
        |label| decide_approve_return(&r, "csr", label, NOW),
        500,
        "return-label",
    );
}

#[test]
fn denied_by_is_1_to_100_characters_and_the_reason_1_to_500() {
    let r = return_in(ReturnStatus::Requested);
    assert!(decide_deny_return(&r, &text(100), &text(500), NOW).is_ok());
    assert_required_text(|by| decide_deny_return(&r, by, "no", NOW), 100, "denied-by");
    assert_required_text(
        |reason| decide_deny_return(&r, "csr", reason, NOW),
        500,
        "reason",
    );
}

#[test]
fn receive_condition_is_1_to_200_characters() {
    let r = return_in(ReturnStatus::Shipped);
    assert_required_text(
        |condition| decide_receive_return(&r, NOW, condition, true),
        200,
        "condition",
    );
}

#[test]
fn close_reason_is_1_to_500_characters() {
    let r = return_in(ReturnStatus::Approved);
    assert_required_text(|reason| decide_close_return(&r, reason, NOW), 500, "reason");
}

#[test]
fn return_tracking_number_is_1_to_100_characters() {
    let r = return_in(ReturnStatus::Approved);
    assert!(decide_ship_return(&r, CarrierCode::Dhl, &text(100), NOW).is_ok());
    assert_validation(
        decide_ship_return(&r, CarrierCode::Dhl, &text(101), NOW),
        "tracking-number",
    );
}

// ----- refunds ----------------------------------------------------------------

#[test]
fn a_refund_never_exceeds_what_was_paid() {
    let store = Store::with_every_unit_received();
    let r = store.get(RETURN_ID);
    assert_rule(
        check_refund(r, &store.order, &usd(TOTAL + 1)),
        "refund-exceeds-paid",
        Some("refund-amount"),
    );
    assert!(check_refund(r, &store.order, &usd(TOTAL)).is_ok());
}

#[test]
fn a_refund_never_exceeds_what_was_paid_minus_what_was_refunded() {
    let mut store = Store::with_received(vec![return_item(ITEM_A, PRODUCT_A, 1)]);
    store.refund(RETURN_ID, usd(3000)).unwrap();
    store.open(RETURN_ID_2, vec![return_item(ITEM_B, PRODUCT_B, 1)]);
    store.receive(RETURN_ID_2);
    assert_rule(
        store.refund(RETURN_ID_2, usd(TOTAL - 3000 + 1)),
        "refund-exceeds-paid",
        Some("refund-amount"),
    );
    assert_eq!(
        store.get(RETURN_ID_2).status,
        ReturnStatus::Received,
        "unchanged"
    );
    assert!(store.refund(RETURN_ID_2, usd(TOTAL - 3000)).is_ok());
    assert_eq!(store.order.refundable(), usd(0));
}

#[test]
fn a_refund_in_another_currency_is_rejected() {
    let store = Store::with_every_unit_received();
    assert_validation(
        check_refund(store.get(RETURN_ID), &store.order, &money(100, "EUR")),
        "refund-amount.currency",
    );
}

#[test]
fn a_zero_refund_is_rejected() {
    let mut store = Store::with_every_unit_received();
    assert_validation(store.refund(RETURN_ID, usd(0)), "refund-amount.amount");
    assert!(store.refund(RETURN_ID, usd(1)).is_ok());
}

// ----- the order's move to `returned` ------------------------------------------

#[test]
fn refunding_a_return_of_every_unit_moves_the_order_to_returned() {
    let mut store = Store::with_every_unit_received();
    let events = store.refund(RETURN_ID, usd(SUBTOTAL)).unwrap();
    assert_eq!(
        events,
        vec![
            OrderEvent::OrderRefunded {
                return_id: Some(RETURN_ID.to_string()),
                amount: usd(SUBTOTAL),
                refunded_at: NOW,
            },
            OrderEvent::OrderReturned {
                order_id: ORDER_ID.to_string(),
                returned_at: NOW,
            },
        ]
    );
    assert_eq!(store.order.status, OrderStatus::Returned);
}

#[test]
fn a_partial_return_leaves_the_order_delivered() {
    let mut store = Store::with_received(vec![
        return_item(ITEM_A, PRODUCT_A, 1),
        return_item(ITEM_B, PRODUCT_B, 1),
    ]);
    let events = store.refund(RETURN_ID, usd(PRICE_A + PRICE_B)).unwrap();
    assert_eq!(events.len(), 1, "only order-refunded: {events:?}");
    assert_eq!(store.order.status, OrderStatus::Delivered);
    assert!(!store.order.fully_returned_and_refunded());
}

#[test]
fn the_last_refunded_return_moves_the_order_to_returned() {
    let mut store = Store::delivered();
    store.open(RETURN_ID, vec![return_item(ITEM_A, PRODUCT_A, 2)]);
    store.open(RETURN_ID_2, vec![return_item(ITEM_B, PRODUCT_B, 1)]);
    store.receive(RETURN_ID);
    store.receive(RETURN_ID_2);
    // Every unit is claimed, but only the first return is refunded.
    let first = store.refund(RETURN_ID, usd(2 * PRICE_A)).unwrap();
    assert!(
        !first
            .iter()
            .any(|e| matches!(e, OrderEvent::OrderReturned { .. })),
        "{first:?}"
    );
    assert_eq!(store.order.status, OrderStatus::Delivered);
    let second = store.refund(RETURN_ID_2, usd(PRICE_B)).unwrap();
    assert!(matches!(
        second.last(),
        Some(OrderEvent::OrderReturned { .. })
    ));
    assert_eq!(store.order.status, OrderStatus::Returned);
}

#[test]
fn a_returned_order_accepts_no_further_return() {
    let mut store = Store::with_every_unit_received();
    store.refund(RETURN_ID, usd(SUBTOTAL)).unwrap();
    let cmd = request(RETURN_ID_2, vec![return_item(ITEM_A, PRODUCT_A, 1)])
        .validate()
        .unwrap();
    assert_transition(
        decide_request_return(None, &store.order, cmd, WINDOW_DAYS, NOW),
        Entity::Order,
        "returned",
        "request-return",
    );
}
