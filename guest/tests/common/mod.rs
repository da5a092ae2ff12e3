//! Shared "given" helpers for the integration tests of `order-core`: fixed
//! ids and instants, builders for valid commands, orders folded from the
//! events that bring them to each state, and assertions on `DomainError`.
//! The in-memory fakes of the application's ports live in [`fakes`].

#![allow(dead_code)]

pub mod fakes;

use order_core::domain::order::{ItemQuantity, Order, OrderEvent, OrderStatus, PlaceOrder};
use order_core::domain::returns::{Return, ReturnEvent, ReturnItem};
use order_core::domain::saga::{Finished, RetryPolicy, SagaPolicy, SagaStep};
use order_core::domain::shipment::{Shipment, ShipmentEvent, ShipmentItem};
use order_core::domain::values::*;
use order_core::domain::{DomainError, DomainResult, Entity};

// ----- ids and instants ---------------------------------------------------

pub const ORDER_ID: &str = "0d3c5a8e-1b2f-4c6d-9e0a-1b2c3d4e5f60";
pub const OTHER_ORDER_ID: &str = "0d3c5a8e-1b2f-4c6d-9e0a-1b2c3d4e5f61";
pub const CUSTOMER_ID: &str = "c0000000-0000-4000-8000-000000000001";
pub const OTHER_CUSTOMER_ID: &str = "c0000000-0000-4000-8000-000000000002";
pub const ITEM_A: &str = "a1000000-0000-4000-8000-00000000000a";
pub const ITEM_B: &str = "a1000000-0000-4000-8000-00000000000b";
pub const ITEM_UNKNOWN: &str = "a1000000-0000-4000-8000-0000000000ff";
pub const PRODUCT_A: &str = "b2000000-0000-4000-8000-00000000000a";
pub const PRODUCT_B: &str = "b2000000-0000-4000-8000-00000000000b";
pub const SHIPMENT_ID: &str = "5e000000-0000-4000-8000-000000000001";
pub const RETURN_ID: &str = "7e000000-0000-4000-8000-000000000001";
pub const RETURN_ID_2: &str = "7e000000-0000-4000-8000-000000000002";
pub const TRANSACTION_ID: &str = "txn-0001";
pub const TRACKING_NUMBER: &str = "1Z999AA10123456784";

/// 2026-03-02T09:00:00Z.
pub const T0: Timestamp = 1_772_442_000_000;
pub const MINUTE: Timestamp = 60_000;
pub const DAY: Timestamp = 86_400_000;

/// Line A: 2 x 12.50; line B: 1 x 9.99. Subtotal 34.99.
pub const PRICE_A: u64 = 1250;
pub const PRICE_B: u64 = 999;
pub const SUBTOTAL: u64 = 2 * PRICE_A + PRICE_B;
/// The quote used by the "given" placements.
pub const TAX: u64 = 280;
pub const SHIPPING: u64 = 500;
pub const TOTAL: u64 = SUBTOTAL + TAX + SHIPPING;

/// A string of `n` characters (multi-byte, to prove bounds count characters).
pub fn text(n: usize) -> String {
    "é".repeat(n)
}

/// A string of `n` ASCII letters.
pub fn letters(n: usize) -> String {
    "x".repeat(n)
}

pub fn usd(amount: u64) -> Money {
    Money::parse("test", amount, "USD").unwrap()
}

pub fn money(amount: u64, currency: &str) -> Money {
    Money::parse("test", amount, currency).unwrap()
}

// ----- command builders ---------------------------------------------------

pub fn address() -> Address {
    Address {
        street1: "1 Main Street".to_string(),
        street2: Some("Suite 2".to_string()),
        city: "Springfield".to_string(),
        state_province: "IL".to_string(),
        postal_code: "62701".to_string(),
        country: "US".to_string(),
    }
}

pub fn billing_address() -> Address {
    Address {
        street1: "9 Billing Road".to_string(),
        street2: None,
        city: "Chicago".to_string(),
        state_province: "IL".to_string(),
        postal_code: "60601".to_string(),
        country: "USA".to_string(),
    }
}

pub fn item_a() -> OrderItemInput {
    OrderItemInput {
        item_id: ITEM_A.to_string(),
        product_id: PRODUCT_A.to_string(),
        sku: "SKU-A".to_string(),
        product_name: "Widget".to_string(),
        quantity: 2,
        unit_price_amount: PRICE_A,
        unit_price_currency: "USD".to_string(),
    }
}

pub fn item_b() -> OrderItemInput {
    OrderItemInput {
        item_id: ITEM_B.to_string(),
        product_id: PRODUCT_B.to_string(),
        sku: "SKU-B".to_string(),
        product_name: "Gadget".to_string(),
        quantity: 1,
        unit_price_amount: PRICE_B,
        unit_price_currency: "USD".to_string(),
    }
}

pub fn item_inputs() -> Vec<OrderItemInput> {
    vec![item_a(), item_b()]
}

/// The validated lines of [`item_inputs`].
pub fn items() -> Vec<OrderItem> {
    validate_items("items", item_inputs(), true).unwrap()
}

/// `place-order` with the given lines, for [`CUSTOMER_ID`].
pub fn place_with(items: Vec<OrderItemInput>) -> DomainResult<PlaceOrder> {
    place_changed(|p| p.items = items)
}

/// The arguments of a valid `place-order` (those of [`place_cmd`]), for a
/// test to change before they are validated.
pub struct PlaceArgs {
    pub order_id: String,
    pub customer_id: String,
    pub items: Vec<OrderItemInput>,
    pub shipping: Address,
    pub billing: Address,
}

/// `place-order` with the arguments of [`place_cmd`] changed by `f`.
pub fn place_changed(f: impl FnOnce(&mut PlaceArgs)) -> DomainResult<PlaceOrder> {
    let mut args = PlaceArgs {
        order_id: ORDER_ID.to_string(),
        customer_id: CUSTOMER_ID.to_string(),
        items: item_inputs(),
        shipping: address(),
        billing: billing_address(),
    };
    f(&mut args);
    PlaceOrder::validate(
        &args.order_id,
        &args.customer_id,
        args.items,
        args.shipping,
        args.billing,
        PaymentMethod::CreditCard,
    )
}

/// A valid `place-order` command for [`ORDER_ID`].
pub fn place_cmd() -> PlaceOrder {
    place_with(item_inputs()).unwrap()
}

// ----- orders in every state ----------------------------------------------

/// The order folded from `events`.
pub fn given(events: Vec<OrderEvent>) -> Order {
    Order::fold(&events).expect("a non-empty stream")
}

/// `events` followed by `more`.
pub fn and(
    mut events: Vec<OrderEvent>,
    more: impl IntoIterator<Item = OrderEvent>,
) -> Vec<OrderEvent> {
    events.extend(more);
    events
}

pub fn draft_created() -> OrderEvent {
    OrderEvent::DraftCreated {
        order_id: ORDER_ID.to_string(),
        customer_id: CUSTOMER_ID.to_string(),
        items: items(),
        shipping_address: Some(address()),
        billing_address: None,
        payment_method: None,
        created_at: T0,
    }
}

pub fn order_placed() -> OrderEvent {
    OrderEvent::OrderPlaced {
        order_id: ORDER_ID.to_string(),
        customer_id: CUSTOMER_ID.to_string(),
        items: items(),
        subtotal: usd(SUBTOTAL),
        tax: usd(TAX),
        shipping_cost: usd(SHIPPING),
        total: usd(TOTAL),
        shipping_address: address().validated("shipping-address").unwrap(),
        billing_address: billing_address().validated("billing-address").unwrap(),
        payment_method: PaymentMethod::CreditCard,
        placed_at: T0 + MINUTE,
    }
}

pub fn payment_confirmed() -> OrderEvent {
    OrderEvent::PaymentConfirmed {
        order_id: ORDER_ID.to_string(),
        transaction_id: TRANSACTION_ID.to_string(),
        amount_paid: usd(TOTAL),
        confirmed_at: T0 + 2 * MINUTE,
    }
}

pub fn inventory_allocated() -> OrderEvent {
    OrderEvent::InventoryAllocated {
        order_id: ORDER_ID.to_string(),
        all_items_allocated: true,
        allocated_items: vec![ITEM_A.to_string(), ITEM_B.to_string()],
        allocated_at: T0 + 3 * MINUTE,
    }
}

pub const SHIPPED_AT: Timestamp = T0 + 4 * MINUTE;
pub const DELIVERED_AT: Timestamp = T0 + 2 * DAY;

pub fn order_shipped() -> OrderEvent {
    OrderEvent::OrderShipped {
        order_id: ORDER_ID.to_string(),
        shipment_id: SHIPMENT_ID.to_string(),
        carrier: CarrierCode::Ups,
        tracking_number: TRACKING_NUMBER.to_string(),
        shipped_at: SHIPPED_AT,
    }
}

pub fn order_delivered() -> OrderEvent {
    OrderEvent::OrderDelivered {
        order_id: ORDER_ID.to_string(),
        delivered_at: DELIVERED_AT,
        signed_by: Some("J. Doe".to_string()),
    }
}

pub fn order_cancelled() -> OrderEvent {
    OrderEvent::OrderCancelled {
        order_id: ORDER_ID.to_string(),
        reason: "customer asked".to_string(),
        cancelled_by: "csr-1".to_string(),
        cancelled_at: T0 + 5 * MINUTE,
    }
}

pub fn draft_events() -> Vec<OrderEvent> {
    vec![draft_created()]
}

pub fn pending_events() -> Vec<OrderEvent> {
    vec![order_placed()]
}

pub fn confirmed_events() -> Vec<OrderEvent> {
    and(pending_events(), [payment_confirmed()])
}

pub fn allocated_events() -> Vec<OrderEvent> {
    and(confirmed_events(), [inventory_allocated()])
}

pub fn shipped_events() -> Vec<OrderEvent> {
    and(allocated_events(), [order_shipped()])
}

pub fn delivered_events() -> Vec<OrderEvent> {
    and(shipped_events(), [order_delivered()])
}

pub fn cancelled_events() -> Vec<OrderEvent> {
    and(pending_events(), [order_cancelled()])
}

/// Delivered, every unit returned in one refunded return.
pub fn returned_events() -> Vec<OrderEvent> {
    and(
        delivered_events(),
        [
            OrderEvent::ReturnOpened {
                return_id: RETURN_ID.to_string(),
                items: vec![
                    ItemQuantity {
                        item_id: ITEM_A.to_string(),
                        quantity: 2,
                    },
                    ItemQuantity {
                        item_id: ITEM_B.to_string(),
                        quantity: 1,
                    },
                ],
                opened_at: DELIVERED_AT + DAY,
            },
            OrderEvent::OrderRefunded {
                return_id: Some(RETURN_ID.to_string()),
                amount: usd(SUBTOTAL),
                refunded_at: DELIVERED_AT + 3 * DAY,
            },
            OrderEvent::OrderReturned {
                order_id: ORDER_ID.to_string(),
                returned_at: DELIVERED_AT + 3 * DAY,
            },
        ],
    )
}

/// The events that bring an order to `status`.
pub fn events_in(status: OrderStatus) -> Vec<OrderEvent> {
    match status {
        OrderStatus::Draft => draft_events(),
        OrderStatus::Pending => pending_events(),
        OrderStatus::Confirmed => confirmed_events(),
        OrderStatus::Shipped => shipped_events(),
        OrderStatus::Delivered => delivered_events(),
        OrderStatus::Cancelled => cancelled_events(),
        OrderStatus::Returned => returned_events(),
    }
}

/// An order in `status` (checked).
pub fn order_in(status: OrderStatus) -> Order {
    let order = given(events_in(status));
    assert_eq!(order.status, status, "fixture for {status}");
    order
}

/// Every status, in the WIT's order (the generated list).
pub const ALL_STATUSES: [OrderStatus; 7] = OrderStatus::ALL;

/// Every status except `allowed`.
pub fn statuses_except(allowed: &[OrderStatus]) -> Vec<OrderStatus> {
    ALL_STATUSES
        .into_iter()
        .filter(|s| !allowed.contains(s))
        .collect()
}

/// The order after `events` are applied to it.
pub fn applied(order: &Order, events: &[OrderEvent]) -> Order {
    events
        .iter()
        .fold(order.clone(), |o, e| Order::apply(Some(o), e))
}

// ----- shipments and returns ----------------------------------------------

pub fn shipment_items() -> Vec<ShipmentItem> {
    vec![
        ShipmentItem {
            item_id: ITEM_A.to_string(),
            product_id: PRODUCT_A.to_string(),
            quantity: 2,
        },
        ShipmentItem {
            item_id: ITEM_B.to_string(),
            product_id: PRODUCT_B.to_string(),
            quantity: 1,
        },
    ]
}

pub const SHIPMENT_CREATED_AT: Timestamp = T0 + 4 * MINUTE;

pub fn shipment_created() -> ShipmentEvent {
    ShipmentEvent::ShipmentCreated {
        shipment_id: SHIPMENT_ID.to_string(),
        order_id: ORDER_ID.to_string(),
        carrier: CarrierCode::Ups,
        tracking_number: TRACKING_NUMBER.to_string(),
        shipping_address: address().validated("shipping-address").unwrap(),
        items: shipment_items(),
        created_at: SHIPMENT_CREATED_AT,
    }
}

pub fn given_shipment(events: Vec<ShipmentEvent>) -> Shipment {
    Shipment::fold(&events).expect("a shipment stream starts with shipment-created")
}

pub fn return_item(item_id: &str, product_id: &str, quantity: u32) -> ReturnItem {
    ReturnItem {
        item_id: item_id.to_string(),
        product_id: product_id.to_string(),
        quantity,
        return_reason: ReturnReason::Defective,
        condition: "unopened".to_string(),
    }
}

pub fn given_return(events: Vec<ReturnEvent>) -> Return {
    Return::fold(&events).expect("a return stream starts with return-requested")
}

// ----- idempotency keys ------------------------------------------------------

/// The idempotency key of `step`'s call for [`ORDER_ID`] (of its
/// compensation when `compensation`).
pub fn key(step: SagaStep, compensation: bool) -> String {
    step.key(ORDER_ID, compensation)
}

/// An external call as (operation, idempotency key), the form
/// [`fakes::World::op_keys`] lists them in.
pub fn op_key(op: &'static str, step: SagaStep, compensation: bool) -> (&'static str, String) {
    (op, key(step, compensation))
}

// ----- policies -------------------------------------------------------------

pub fn retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay_ms: 1_000,
        max_delay_ms: 10_000,
        jitter_permille: 200,
    }
}

pub fn saga_policy() -> SagaPolicy {
    SagaPolicy {
        retry: retry_policy(),
        notification_retry: RetryPolicy {
            max_attempts: 2,
            base_delay_ms: 500,
            max_delay_ms: 5_000,
            jitter_permille: 0,
        },
        call_lease_ms: LEASE_MS,
    }
}

/// How long a started call is left to finish in these tests.
pub const LEASE_MS: u64 = 30_000;

// ----- assertions -----------------------------------------------------------

/// Then: an instant is taken from `earliest` on, and one just before it is
/// refused naming `field`.
#[track_caller]
pub fn assert_not_before<T: std::fmt::Debug>(
    decide: impl Fn(Timestamp) -> DomainResult<T>,
    earliest: Timestamp,
    field: &str,
) {
    assert!(decide(earliest).is_ok(), "{field} at {earliest}");
    assert_validation(decide(earliest - 1), field);
}

/// Then: a required text field takes 1..=`max` characters, and an empty
/// or longer text is refused naming `field`.
#[track_caller]
pub fn assert_required_text<T: std::fmt::Debug>(
    decide: impl Fn(&str) -> DomainResult<T>,
    max: usize,
    field: &str,
) {
    assert!(decide(&text(max)).is_ok(), "{field} of {max}");
    assert_validation(decide(&text(max + 1)), field);
    assert_validation(decide(""), field);
}

/// Then: an optional text field takes nothing or 1..=`max` characters,
/// and an empty or longer text is refused naming `field`.
#[track_caller]
pub fn assert_optional_text<T: std::fmt::Debug>(
    decide: impl Fn(Option<String>) -> DomainResult<T>,
    max: usize,
    field: &str,
) {
    assert!(decide(None).is_ok(), "{field} left out");
    assert!(decide(Some(text(max))).is_ok(), "{field} of {max}");
    assert_validation(decide(Some(text(max + 1))), field);
    assert_validation(decide(Some(String::new())), field);
}

/// Then: the saga finished the named way (`completed`, `compensated` or
/// `compensation-failed`).
pub fn assert_finished(order: &Order, how: &str) {
    let finished = order.saga.finished.as_ref().map(|f| match f {
        Finished::Completed { .. } => "completed",
        Finished::Compensated { .. } => "compensated",
        Finished::CompensationFailed { .. } => "compensation-failed",
    });
    assert_eq!(finished, Some(how), "{:?}", order.saga.finished);
}

/// Then: the saga was compensated after `step` failed.
pub fn assert_compensated_after(order: &Order, step: SagaStep) {
    assert!(
        matches!(
            &order.saga.finished,
            Some(Finished::Compensated { failed_step: Some(s), .. }) if *s == step
        ),
        "{:?}",
        order.saga.finished
    );
}

/// Then: one of the order's notes contains `text`.
pub fn assert_noted(order: &Order, text: &str) {
    assert!(
        order.notes.iter().any(|n| n.contains(text)),
        "no note contains {text:?}: {:?}",
        order.notes
    );
}

/// Asserts a `Validation` error naming `field`.
#[track_caller]
pub fn assert_validation<T: std::fmt::Debug>(result: DomainResult<T>, field: &str) {
    match result {
        Err(DomainError::Validation { field: f, .. }) => {
            assert_eq!(f, field, "validation error names the wrong field")
        }
        other => panic!("expected a validation error on `{field}`, got {other:?}"),
    }
}

/// Asserts an `InvalidTransition` on `entity` in `state` for `command`.
#[track_caller]
pub fn assert_transition<T: std::fmt::Debug>(
    result: DomainResult<T>,
    entity: Entity,
    state: &str,
    command: &str,
) {
    assert_eq!(
        result.map(|_| ()),
        Err(DomainError::InvalidTransition {
            entity,
            state: state.to_string(),
            command: command.to_string(),
        }),
        "{command} in {state}"
    );
}

/// Asserts a `RuleViolated` error with `rule` and `field`.
#[track_caller]
pub fn assert_rule<T: std::fmt::Debug>(result: DomainResult<T>, rule: &str, field: Option<&str>) {
    match result {
        Err(DomainError::RuleViolated {
            rule: r, field: f, ..
        }) => {
            assert_eq!(r, rule, "wrong rule");
            assert_eq!(f.as_deref(), field, "wrong field");
        }
        other => panic!("expected rule `{rule}` to be violated, got {other:?}"),
    }
}
