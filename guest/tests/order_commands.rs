//! The Order aggregate's commands, decided against orders folded from
//! events: each command's success emits exactly the expected event (totals
//! recomputed from quantity x unit price plus the quoted tax and shipping),
//! each command is refused with `InvalidTransition` in every state where it
//! is not allowed, and every bound of every input is enforced at its limit
//! with a `Validation` error that names the field's path.

mod common;

use common::*;
use order_core::domain::order::*;
use order_core::domain::values::*;
use order_core::domain::{DomainError, DomainResult, Entity};

const NOW: Timestamp = T0 + 10 * MINUTE;

fn place(existing: Option<&Order>, cmd: PlaceOrder) -> DomainResult<Vec<OrderEvent>> {
    decide_place_order(existing, cmd, usd(TAX), usd(SHIPPING), NOW)
}

/// `place-order` with item A changed by `f` (item B untouched).
fn place_item_a(f: impl FnOnce(&mut OrderItemInput)) -> DomainResult<PlaceOrder> {
    place_changed(|p| f(&mut p.items[0]))
}

/// `place-order` with item B (index 1) changed by `f`.
fn place_item_b(f: impl FnOnce(&mut OrderItemInput)) -> DomainResult<PlaceOrder> {
    place_changed(|p| f(&mut p.items[1]))
}

fn place_shipping_to(f: impl FnOnce(&mut Address)) -> DomainResult<PlaceOrder> {
    place_changed(|p| f(&mut p.shipping))
}

fn place_billed_to(f: impl FnOnce(&mut Address)) -> DomainResult<PlaceOrder> {
    place_changed(|p| f(&mut p.billing))
}

/// Two like parts of `place-order` that a text bound is tried on: past
/// the bound on the first, empty on the second, each error naming the
/// field within its part's path.
struct LikeParts<P> {
    first: fn(&mut PlaceArgs) -> &mut P,
    first_path: &'static str,
    second: fn(&mut PlaceArgs) -> &mut P,
    second_path: &'static str,
}

const LINES: LikeParts<OrderItemInput> = LikeParts {
    first: |p| &mut p.items[0],
    first_path: "items[0]",
    second: |p| &mut p.items[1],
    second_path: "items[1]",
};

const ADDRESSES: LikeParts<Address> = LikeParts {
    first: |p| &mut p.shipping,
    first_path: "shipping-address",
    second: |p| &mut p.billing,
    second_path: "billing-address",
};

/// Then: the text `set` writes into a part takes `max` characters and is
/// refused past them in the first of `parts`, and is refused empty in the
/// second.
#[track_caller]
fn assert_text_bound<P>(parts: &LikeParts<P>, set: fn(&mut P, String), max: usize, name: &str) {
    let with = |part: fn(&mut PlaceArgs) -> &mut P, t: String| place_changed(|p| set(part(p), t));
    assert!(with(parts.first, text(max)).is_ok(), "{name} of {max}");
    assert_validation(
        with(parts.first, text(max + 1)),
        &format!("{}.{name}", parts.first_path),
    );
    assert_validation(
        with(parts.second, String::new()),
        &format!("{}.{name}", parts.second_path),
    );
}

fn all_allocated() -> Vec<(String, bool)> {
    vec![(ITEM_A.to_string(), true), (ITEM_B.to_string(), true)]
}

fn create_draft_cmd() -> CreateDraft {
    CreateDraft::validate(
        ORDER_ID,
        CUSTOMER_ID,
        vec![item_a()],
        Some(address()),
        None,
        Some(PaymentMethod::Paypal),
    )
    .unwrap()
}

// ----- create-draft ---------------------------------------------------------

#[test]
fn create_draft_records_the_draft_with_its_lines_totalled() {
    let events = decide_create_draft(None, create_draft_cmd(), NOW).unwrap();
    let mut line = validate_items("items", vec![item_a()], false).unwrap();
    assert_eq!(line[0].total_price, usd(2 * PRICE_A));
    assert_eq!(
        events,
        vec![OrderEvent::DraftCreated {
            order_id: ORDER_ID.to_string(),
            customer_id: CUSTOMER_ID.to_string(),
            items: std::mem::take(&mut line),
            shipping_address: Some(address()),
            billing_address: None,
            payment_method: Some(PaymentMethod::Paypal),
            created_at: NOW,
        }]
    );
    let draft = given(events);
    assert_eq!(draft.status, OrderStatus::Draft);
    assert_eq!(draft.subtotal, usd(2 * PRICE_A));
}

#[test]
fn create_draft_accepts_a_draft_without_lines() {
    let cmd = CreateDraft::validate(ORDER_ID, CUSTOMER_ID, vec![], None, None, None).unwrap();
    let events = decide_create_draft(None, cmd, NOW).unwrap();
    assert!(matches!(&events[..], [OrderEvent::DraftCreated { items, .. }] if items.is_empty()));
}

#[test]
fn create_draft_on_an_existing_order_is_rejected_in_every_state() {
    for status in ALL_STATUSES {
        let order = order_in(status);
        assert_transition(
            decide_create_draft(Some(&order), create_draft_cmd(), NOW),
            Entity::Order,
            &status.to_string(),
            "create-draft",
        );
    }
}

#[test]
fn create_draft_rejects_non_uuid_ids_and_invalid_addresses() {
    let v = |order_id: &str, customer_id: &str, ship: Option<Address>, bill: Option<Address>| {
        CreateDraft::validate(order_id, customer_id, vec![], ship, bill, None)
    };
    assert_validation(v("nope", CUSTOMER_ID, None, None), "order-id");
    assert_validation(v(ORDER_ID, "42", None, None), "customer-id");
    let mut bad = address();
    bad.city = String::new();
    assert_validation(
        v(ORDER_ID, CUSTOMER_ID, Some(bad.clone()), None),
        "shipping-address.city",
    );
    assert_validation(
        v(ORDER_ID, CUSTOMER_ID, None, Some(bad)),
        "billing-address.city",
    );
    let mut item = item_a();
    item.sku = letters(51);
    assert_validation(
        CreateDraft::validate(ORDER_ID, CUSTOMER_ID, vec![item], None, None, None),
        "items[0].sku",
    );
}

// ----- update-draft ---------------------------------------------------------

#[test]
fn update_draft_records_the_changes_and_retotals_the_lines() {
    let draft = order_in(OrderStatus::Draft);
    let cmd = UpdateDraft::validate(
        Some(vec![item_b()]),
        None,
        Some(billing_address()),
        Some(PaymentMethod::GiftCard),
    )
    .unwrap();
    let events = decide_update_draft(&draft, cmd, NOW).unwrap();
    let expected_items = validate_items("items", vec![item_b()], false).unwrap();
    assert_eq!(
        events,
        vec![OrderEvent::DraftUpdated {
            items: Some(expected_items.clone()),
            shipping_address: None,
            billing_address: Some(billing_address().validated("billing-address").unwrap()),
            payment_method: Some(PaymentMethod::GiftCard),
            updated_at: NOW,
        }]
    );
    let after = applied(&draft, &events);
    assert_eq!(after.items, expected_items);
    assert_eq!(after.subtotal, usd(PRICE_B));
    assert_eq!(
        after.shipping_address,
        Some(address()),
        "kept when not given"
    );
    assert_eq!(after.payment_method, Some(PaymentMethod::GiftCard));
    assert_eq!(after.status, OrderStatus::Draft);
}

#[test]
fn update_draft_outside_draft_is_rejected() {
    for status in statuses_except(&[OrderStatus::Draft]) {
        let order = order_in(status);
        let cmd = UpdateDraft::validate(None, None, None, Some(PaymentMethod::Paypal)).unwrap();
        assert_transition(
            decide_update_draft(&order, cmd, NOW),
            Entity::Order,
            &status.to_string(),
            "update-draft",
        );
    }
}

#[test]
fn update_draft_validates_lines_and_addresses() {
    let mut item = item_a();
    item.quantity = 0;
    assert_validation(
        UpdateDraft::validate(Some(vec![item_b(), item]), None, None, None),
        "items[1].quantity",
    );
    let mut a = address();
    a.postal_code = letters(21);
    assert_validation(
        UpdateDraft::validate(None, Some(a), None, None),
        "shipping-address.postal-code",
    );
}

// ----- place-order ----------------------------------------------------------

#[test]
fn place_order_recomputes_line_totals_subtotal_and_total_from_the_quote() {
    let events = place(None, place_cmd()).unwrap();
    let lines = items();
    assert_eq!(
        lines[0].total_price,
        usd(2 * PRICE_A),
        "quantity x unit price"
    );
    assert_eq!(lines[1].total_price, usd(PRICE_B));
    assert_eq!(
        events,
        vec![OrderEvent::OrderPlaced {
            order_id: ORDER_ID.to_string(),
            customer_id: CUSTOMER_ID.to_string(),
            items: lines,
            subtotal: usd(3499),
            tax: usd(280),
            shipping_cost: usd(500),
            total: usd(4279),
            shipping_address: address(),
            billing_address: billing_address(),
            payment_method: PaymentMethod::CreditCard,
            placed_at: NOW,
        }]
    );
    let order = given(events);
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(order.total, usd(4279));
    assert_eq!(order.placed_at, Some(NOW));
}

#[test]
fn place_order_with_a_zero_quote_totals_the_subtotal() {
    let events = decide_place_order(None, place_cmd(), usd(0), usd(0), NOW).unwrap();
    let OrderEvent::OrderPlaced { total, tax, .. } = &events[0] else {
        panic!("expected order-placed, got {events:?}");
    };
    assert_eq!(total, &usd(SUBTOTAL));
    assert_eq!(tax, &usd(0));
}

#[test]
fn place_order_normalises_ids_and_country() {
    let cmd = place_changed(|p| {
        p.order_id = ORDER_ID.to_uppercase();
        p.customer_id = CUSTOMER_ID.to_uppercase();
        p.shipping.country = "us".to_string();
    })
    .unwrap();
    assert_eq!(cmd.order_id, ORDER_ID);
    assert_eq!(cmd.customer_id, CUSTOMER_ID);
    assert_eq!(cmd.shipping_address.country, "US");
}

#[test]
fn place_order_on_own_draft_places_it() {
    let draft = order_in(OrderStatus::Draft);
    let events = place(Some(&draft), place_cmd()).unwrap();
    assert!(matches!(&events[..], [OrderEvent::OrderPlaced { total, .. }] if *total == usd(TOTAL)));
    let order = applied(&draft, &events);
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(order.items, items());
    assert_eq!(order.billing_address, Some(billing_address()));
}

#[test]
fn place_order_on_a_draft_of_another_customer_is_rejected() {
    let draft = order_in(OrderStatus::Draft);
    let cmd = place_changed(|p| p.customer_id = OTHER_CUSTOMER_ID.to_string()).unwrap();
    assert_rule(
        place(Some(&draft), cmd),
        "customer-mismatch",
        Some("customer-id"),
    );
}

#[test]
fn repeating_the_same_place_order_on_a_pending_order_yields_no_events() {
    let pending = given(place(None, place_cmd()).unwrap());
    assert_eq!(place(Some(&pending), place_cmd()).unwrap(), vec![]);
}

/// Then: `cmd`, another placement than the pending order's, is an invalid
/// transition there.
#[track_caller]
fn assert_refused_on_pending(pending: &Order, cmd: PlaceOrder) {
    assert_transition(
        place(Some(pending), cmd),
        Entity::Order,
        "pending",
        "place-order",
    );
}

#[test]
fn a_different_place_order_on_a_pending_order_is_rejected() {
    let pending = order_in(OrderStatus::Pending);
    let other_lines = place_with(vec![item_a()]).unwrap();
    assert_refused_on_pending(&pending, other_lines);
    let other_method = PlaceOrder {
        payment_method: PaymentMethod::Paypal,
        ..place_cmd()
    };
    assert_refused_on_pending(&pending, other_method);
    let other_customer = PlaceOrder {
        customer_id: OTHER_CUSTOMER_ID.to_string(),
        ..place_cmd()
    };
    assert_refused_on_pending(&pending, other_customer);
}

#[test]
fn place_order_after_pending_is_rejected_in_every_state() {
    for status in statuses_except(&[OrderStatus::Draft, OrderStatus::Pending]) {
        let order = order_in(status);
        assert_transition(
            place(Some(&order), place_cmd()),
            Entity::Order,
            &status.to_string(),
            "place-order",
        );
    }
}

#[test]
fn place_order_needs_at_least_one_line() {
    assert_validation(place_with(vec![]), "items");
}

#[test]
fn place_order_accepts_100_lines_and_rejects_101() {
    let line = |i: usize| OrderItemInput {
        item_id: format!("a1000000-0000-4000-8000-{i:012}"),
        quantity: 1,
        unit_price_amount: 1,
        ..item_a()
    };
    assert!(place_with((0..100).map(line).collect()).is_ok());
    assert_validation(place_with((0..101).map(line).collect()), "items");
}

#[test]
fn place_order_rejects_the_same_line_id_twice() {
    let mut b = item_b();
    b.item_id = ITEM_A.to_string();
    assert_validation(place_with(vec![item_a(), b]), "items[1].item-id");
}

#[test]
fn place_order_rejects_non_uuid_ids() {
    assert_validation(
        place_changed(|p| p.order_id = "order-1".to_string()),
        "order-id",
    );
    assert_validation(
        place_changed(|p| p.customer_id = String::new()),
        "customer-id",
    );
    assert_validation(place_item_a(|i| i.item_id = "x".into()), "items[0].item-id");
    assert_validation(
        place_item_b(|i| i.product_id = "1234".into()),
        "items[1].product-id",
    );
}

#[test]
fn sku_is_1_to_50_characters() {
    assert!(place_item_a(|i| i.sku = text(1)).is_ok());
    assert_text_bound(&LINES, |i, t| i.sku = t, 50, "sku");
}

#[test]
fn product_name_is_1_to_200_characters() {
    assert_text_bound(&LINES, |i, t| i.product_name = t, 200, "product-name");
}

#[test]
fn quantity_must_be_positive() {
    assert!(place_item_a(|i| i.quantity = 1).is_ok());
    assert_validation(place_item_a(|i| i.quantity = 0), "items[0].quantity");
}

#[test]
fn unit_price_is_at_most_9_999_999_999_minor_units() {
    let max = place_with(vec![OrderItemInput {
        quantity: 1,
        unit_price_amount: MAX_AMOUNT,
        ..item_a()
    }])
    .unwrap();
    assert_eq!(max.subtotal, usd(9_999_999_999));
    assert_validation(
        place_item_a(|i| i.unit_price_amount = MAX_AMOUNT + 1),
        "items[0].unit-price.amount",
    );
}

#[test]
fn a_zero_unit_price_is_allowed() {
    let cmd = place_with(vec![OrderItemInput {
        unit_price_amount: 0,
        ..item_a()
    }])
    .unwrap();
    assert_eq!(cmd.subtotal, usd(0));
}

#[test]
fn currency_is_three_letters_upper_cased_and_empty_means_usd() {
    let empty = place_with(vec![OrderItemInput {
        unit_price_currency: String::new(),
        ..item_a()
    }])
    .unwrap();
    assert_eq!(empty.items[0].unit_price.currency.as_str(), "USD");
    let lower = place_with(vec![OrderItemInput {
        unit_price_currency: "eur".into(),
        ..item_a()
    }])
    .unwrap();
    assert_eq!(lower.subtotal.currency.as_str(), "EUR");
    for bad in ["EU", "EURO", "E1R", "€UR"] {
        assert_validation(
            place_item_a(|i| i.unit_price_currency = bad.into()),
            "items[0].unit-price.currency",
        );
    }
}

#[test]
fn mixed_currencies_in_one_order_are_rejected() {
    assert_validation(
        place_item_b(|i| i.unit_price_currency = "EUR".into()),
        "items[1].unit-price.currency",
    );
    // An empty currency is USD, so it mixes with USD lines.
    assert!(place_item_b(|i| i.unit_price_currency = String::new()).is_ok());
}

#[test]
fn a_quote_in_another_currency_is_rejected() {
    assert_validation(
        decide_place_order(None, place_cmd(), money(1, "EUR"), usd(0), NOW),
        "pricing.tax",
    );
    assert_validation(
        decide_place_order(None, place_cmd(), usd(0), money(1, "EUR"), NOW),
        "pricing.shipping-cost",
    );
}

#[test]
fn overflowing_totals_are_rejected() {
    // A line total past the maximum.
    assert!(
        place_with(vec![OrderItemInput {
            quantity: 1,
            unit_price_amount: MAX_AMOUNT,
            ..item_a()
        }])
        .is_ok()
    );
    assert_validation(
        place_with(vec![OrderItemInput {
            quantity: 2,
            unit_price_amount: MAX_AMOUNT / 2 + 1,
            ..item_a()
        }]),
        "items[0].total-price",
    );
    // A subtotal past the maximum.
    let half = OrderItemInput {
        quantity: 1,
        unit_price_amount: MAX_AMOUNT / 2 + 1,
        ..item_a()
    };
    let other_half = OrderItemInput {
        item_id: ITEM_B.to_string(),
        ..half.clone()
    };
    assert_validation(place_with(vec![half, other_half]), "subtotal");
    // A total past the maximum once tax and shipping are added.
    let at_max = place_with(vec![OrderItemInput {
        quantity: 1,
        unit_price_amount: MAX_AMOUNT - 1,
        ..item_a()
    }])
    .unwrap();
    assert!(decide_place_order(None, at_max.clone(), usd(1), usd(0), NOW).is_ok());
    assert_validation(
        decide_place_order(None, at_max.clone(), usd(1), usd(1), NOW),
        "total",
    );
    assert_validation(
        decide_place_order(None, at_max, usd(0), usd(2), NOW),
        "total",
    );
}

#[test]
fn street1_is_1_to_100_characters() {
    assert_text_bound(&ADDRESSES, |a, t| a.street1 = t, 100, "street1");
}

#[test]
fn street2_is_optional_but_1_to_100_characters_when_given() {
    assert!(place_shipping_to(|a| a.street2 = None).is_ok());
    assert!(place_shipping_to(|a| a.street2 = Some(text(100))).is_ok());
    assert_validation(
        place_shipping_to(|a| a.street2 = Some(text(101))),
        "shipping-address.street2",
    );
    assert_validation(
        place_billed_to(|a| a.street2 = Some(String::new())),
        "billing-address.street2",
    );
}

#[test]
fn city_is_1_to_50_characters() {
    assert_text_bound(&ADDRESSES, |a, t| a.city = t, 50, "city");
}

#[test]
fn state_province_is_1_to_50_characters() {
    assert_text_bound(
        &ADDRESSES,
        |a, t| a.state_province = t,
        50,
        "state-province",
    );
}

#[test]
fn postal_code_is_1_to_20_characters() {
    assert_text_bound(&ADDRESSES, |a, t| a.postal_code = t, 20, "postal-code");
}

#[test]
fn country_is_2_or_3_letters() {
    assert!(place_shipping_to(|a| a.country = "DE".into()).is_ok());
    assert!(place_shipping_to(|a| a.country = "DEU".into()).is_ok());
    for bad in ["D", "DEUT", "D1", ""] {
        assert_validation(
            place_shipping_to(|a| a.country = bad.into()),
            "shipping-address.country",
        );
    }
    assert_validation(
        place_billed_to(|a| a.country = "12".into()),
        "billing-address.country",
    );
}

// ----- confirm-payment ------------------------------------------------------

#[test]
fn confirm_payment_of_the_total_confirms_the_order() {
    let pending = order_in(OrderStatus::Pending);
    let events = decide_confirm_payment(&pending, "txn-42", usd(TOTAL), NOW).unwrap();
    assert_eq!(
        events,
        vec![OrderEvent::PaymentConfirmed {
            order_id: ORDER_ID.to_string(),
            transaction_id: "txn-42".to_string(),
            amount_paid: usd(TOTAL),
            confirmed_at: NOW,
        }]
    );
    let after = applied(&pending, &events);
    assert_eq!(after.status, OrderStatus::Confirmed);
    assert_eq!(after.payment.unwrap().transaction_id, "txn-42");
}

#[test]
fn confirm_payment_outside_pending_is_rejected() {
    for status in statuses_except(&[OrderStatus::Pending]) {
        let order = order_in(status);
        assert_transition(
            decide_confirm_payment(&order, "txn-42", order.total.clone(), NOW),
            Entity::Order,
            &status.to_string(),
            "confirm-payment",
        );
    }
}

#[test]
fn amount_paid_must_equal_the_total() {
    let pending = order_in(OrderStatus::Pending);
    assert_validation(
        decide_confirm_payment(&pending, "txn-42", usd(TOTAL - 1), NOW),
        "amount-paid",
    );
    assert_validation(
        decide_confirm_payment(&pending, "txn-42", usd(TOTAL + 1), NOW),
        "amount-paid",
    );
    assert_validation(
        decide_confirm_payment(&pending, "txn-42", money(TOTAL, "EUR"), NOW),
        "amount-paid.currency",
    );
}

#[test]
fn transaction_id_is_1_to_100_characters() {
    let pending = order_in(OrderStatus::Pending);
    assert_required_text(
        |txn| decide_confirm_payment(&pending, txn, usd(TOTAL), NOW),
        100,
        "transaction-id",
    );
}

// ----- allocate-inventory ---------------------------------------------------

#[test]
fn allocate_inventory_of_every_line_records_a_full_allocation() {
    let confirmed = order_in(OrderStatus::Confirmed);
    let events = decide_allocate_inventory(&confirmed, &all_allocated(), NOW).unwrap();
    assert_eq!(
        events,
        vec![OrderEvent::InventoryAllocated {
            order_id: ORDER_ID.to_string(),
            all_items_allocated: true,
            allocated_items: vec![ITEM_A.to_string(), ITEM_B.to_string()],
            allocated_at: NOW,
        }]
    );
    let after = applied(&confirmed, &events);
    assert_eq!(
        after.status,
        OrderStatus::Confirmed,
        "allocation keeps the state"
    );
    assert!(after.allocation.unwrap().all_items_allocated);
}

#[test]
fn a_partial_allocation_is_recorded_and_can_be_completed_later() {
    let confirmed = order_in(OrderStatus::Confirmed);
    let partial = vec![(ITEM_A.to_string(), true), (ITEM_B.to_string(), false)];
    let events = decide_allocate_inventory(&confirmed, &partial, NOW).unwrap();
    assert_eq!(
        events,
        vec![OrderEvent::InventoryAllocated {
            order_id: ORDER_ID.to_string(),
            all_items_allocated: false,
            allocated_items: vec![ITEM_A.to_string()],
            allocated_at: NOW,
        }]
    );
    let partly = applied(&confirmed, &events);
    let full = decide_allocate_inventory(&partly, &all_allocated(), NOW).unwrap();
    assert!(matches!(
        &full[..],
        [OrderEvent::InventoryAllocated {
            all_items_allocated: true,
            ..
        }]
    ));
}

#[test]
fn allocating_a_fully_allocated_order_again_is_rejected() {
    let allocated = given(allocated_events());
    assert_rule(
        decide_allocate_inventory(&allocated, &all_allocated(), NOW),
        "already-allocated",
        Some("allocations"),
    );
}

#[test]
fn allocate_inventory_outside_confirmed_is_rejected() {
    for status in statuses_except(&[OrderStatus::Confirmed]) {
        let order = order_in(status);
        assert_transition(
            decide_allocate_inventory(&order, &all_allocated(), NOW),
            Entity::Order,
            &status.to_string(),
            "allocate-inventory",
        );
    }
}

#[test]
fn allocate_inventory_needs_every_line_exactly_once() {
    let confirmed = order_in(OrderStatus::Confirmed);
    let decide = |a: &[(&str, bool)]| {
        let a: Vec<(String, bool)> = a.iter().map(|(i, b)| (i.to_string(), *b)).collect();
        decide_allocate_inventory(&confirmed, &a, NOW)
    };
    assert_validation(decide(&[(ITEM_A, true)]), "allocations");
    assert_validation(decide(&[]), "allocations");
    assert_validation(
        decide(&[(ITEM_A, true), (ITEM_A, true)]),
        "allocations[1].item-id",
    );
    assert_validation(
        decide(&[(ITEM_A, true), (&ITEM_A.to_uppercase(), true)]),
        "allocations[1].item-id",
    );
    assert_validation(
        decide(&[(ITEM_A, true), (ITEM_UNKNOWN, true)]),
        "allocations[1].item-id",
    );
    assert_validation(
        decide(&[(ITEM_A, true), (ITEM_B, true), (ITEM_UNKNOWN, true)]),
        "allocations[2].item-id",
    );
    assert_validation(
        decide(&[("line-a", true), (ITEM_B, true)]),
        "allocations[0].item-id",
    );
    assert!(
        decide(&[(ITEM_B, true), (ITEM_A, true)]).is_ok(),
        "any order"
    );
}

// ----- ship-order -----------------------------------------------------------

#[test]
fn ship_order_of_an_allocated_order_ships_it() {
    let allocated = given(allocated_events());
    let events =
        decide_ship_order(&allocated, SHIPMENT_ID, CarrierCode::Fedex, "TRK-1", NOW).unwrap();
    assert_eq!(
        events,
        vec![OrderEvent::OrderShipped {
            order_id: ORDER_ID.to_string(),
            shipment_id: SHIPMENT_ID.to_string(),
            carrier: CarrierCode::Fedex,
            tracking_number: "TRK-1".to_string(),
            shipped_at: NOW,
        }]
    );
    let after = applied(&allocated, &events);
    assert_eq!(after.status, OrderStatus::Shipped);
    assert_eq!(after.shipping.unwrap().carrier, CarrierCode::Fedex);
}

#[test]
fn ship_order_needs_every_line_allocated() {
    let confirmed = order_in(OrderStatus::Confirmed);
    assert_rule(
        decide_ship_order(&confirmed, SHIPMENT_ID, CarrierCode::Ups, "TRK", NOW),
        "not-allocated",
        None,
    );
    let partly = applied(
        &confirmed,
        &decide_allocate_inventory(
            &confirmed,
            &[(ITEM_A.to_string(), true), (ITEM_B.to_string(), false)],
            NOW,
        )
        .unwrap(),
    );
    assert_rule(
        decide_ship_order(&partly, SHIPMENT_ID, CarrierCode::Ups, "TRK", NOW),
        "not-allocated",
        None,
    );
}

#[test]
fn ship_order_outside_confirmed_is_rejected() {
    for status in statuses_except(&[OrderStatus::Confirmed]) {
        let order = order_in(status);
        assert_transition(
            decide_ship_order(&order, SHIPMENT_ID, CarrierCode::Ups, "TRK", NOW),
            Entity::Order,
            &status.to_string(),
            "ship-order",
        );
    }
}

#[test]
fn ship_order_validates_shipment_id_and_tracking_number() {
    let allocated = given(allocated_events());
    let ship = |id: &str, trk: &str| decide_ship_order(&allocated, id, CarrierCode::Dhl, trk, NOW);
    assert_validation(ship("parcel-1", "TRK"), "shipment-id");
    assert_required_text(|trk| ship(SHIPMENT_ID, trk), 100, "tracking-number");
}

// ----- deliver-order --------------------------------------------------------

#[test]
fn deliver_order_of_a_shipped_order_delivers_it() {
    let shipped = order_in(OrderStatus::Shipped);
    let events =
        decide_deliver_order(&shipped, SHIPPED_AT + DAY, Some("Front desk".into())).unwrap();
    assert_eq!(
        events,
        vec![OrderEvent::OrderDelivered {
            order_id: ORDER_ID.to_string(),
            delivered_at: SHIPPED_AT + DAY,
            signed_by: Some("Front desk".to_string()),
        }]
    );
    let after = applied(&shipped, &events);
    assert_eq!(after.status, OrderStatus::Delivered);
    assert_eq!(after.delivery.unwrap().delivered_at, SHIPPED_AT + DAY);
}

#[test]
fn deliver_order_outside_shipped_is_rejected() {
    for status in statuses_except(&[OrderStatus::Shipped]) {
        let order = order_in(status);
        assert_transition(
            decide_deliver_order(&order, SHIPPED_AT + DAY, None),
            Entity::Order,
            &status.to_string(),
            "deliver-order",
        );
    }
}

#[test]
fn signed_by_is_optional_but_1_to_100_characters_when_given() {
    let shipped = order_in(OrderStatus::Shipped);
    let at = SHIPPED_AT + DAY;
    assert_optional_text(
        |signed_by| decide_deliver_order(&shipped, at, signed_by),
        100,
        "signed-by",
    );
}

#[test]
fn delivery_before_shipment_is_rejected() {
    let shipped = order_in(OrderStatus::Shipped);
    assert_not_before(
        |at| decide_deliver_order(&shipped, at, None),
        SHIPPED_AT,
        "delivered-at",
    );
}

// ----- cancel-order ---------------------------------------------------------

#[test]
fn cancel_order_before_shipment_cancels_it() {
    for status in [
        OrderStatus::Draft,
        OrderStatus::Pending,
        OrderStatus::Confirmed,
    ] {
        let order = order_in(status);
        let events = decide_cancel_order(&order, "changed my mind", "csr-7", NOW).unwrap();
        assert_eq!(
            events,
            vec![OrderEvent::OrderCancelled {
                order_id: ORDER_ID.to_string(),
                reason: "changed my mind".to_string(),
                cancelled_by: "csr-7".to_string(),
                cancelled_at: NOW,
            }],
            "from {status}"
        );
        let after = applied(&order, &events);
        assert_eq!(after.status, OrderStatus::Cancelled);
        assert_eq!(after.cancellation.unwrap().cancelled_by, "csr-7");
    }
}

#[test]
fn cancel_order_of_an_allocated_order_is_allowed() {
    let allocated = given(allocated_events());
    assert!(decide_cancel_order(&allocated, "fraud", "csr-7", NOW).is_ok());
}

#[test]
fn cancel_after_shipment_is_rejected() {
    for status in [
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
        OrderStatus::Returned,
    ] {
        let order = order_in(status);
        assert_transition(
            decide_cancel_order(&order, "too late", "csr-7", NOW),
            Entity::Order,
            &status.to_string(),
            "cancel-order",
        );
    }
}

#[test]
fn cancel_reason_is_1_to_500_characters() {
    let pending = order_in(OrderStatus::Pending);
    assert_required_text(
        |reason| decide_cancel_order(&pending, reason, "csr", NOW),
        500,
        "reason",
    );
}

#[test]
fn cancelled_by_is_1_to_100_characters() {
    let pending = order_in(OrderStatus::Pending);
    assert_required_text(
        |by| decide_cancel_order(&pending, "why", by, NOW),
        100,
        "cancelled-by",
    );
}

#[test]
fn errors_name_the_field_in_their_message() {
    let pending = order_in(OrderStatus::Pending);
    let err = decide_cancel_order(&pending, "", "csr", NOW).unwrap_err();
    assert!(err.to_string().contains("reason"), "{err}");
    let err = decide_cancel_order(&order_in(OrderStatus::Shipped), "r", "csr", NOW).unwrap_err();
    assert!(matches!(err, DomainError::InvalidTransition { .. }));
    let message = err.to_string();
    assert!(
        message.contains("cancel-order") && message.contains("shipped"),
        "{message}"
    );
}
