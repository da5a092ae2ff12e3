//! The Shipment entity's commands: `init-shipment` creates an active
//! shipment awaiting pickup (an exact repeat is a no-op), `update-tracking`
//! appends to the tracking history in order, `mark-delivered` and
//! `mark-failed` end it, after which every command is refused with
//! `InvalidTransition`; every text bound is enforced at its limit, and the
//! end statuses cannot be reported through `update-tracking`.

mod common;

use common::*;
use order_core::domain::Entity;
use order_core::domain::shipment::*;
use order_core::domain::values::*;

const NOW: Timestamp = SHIPMENT_CREATED_AT + 10 * MINUTE;

fn init_cmd() -> InitShipment {
    InitShipment {
        shipment_id: SHIPMENT_ID.to_string(),
        order_id: ORDER_ID.to_string(),
        carrier: CarrierCode::Ups,
        tracking_number: TRACKING_NUMBER.to_string(),
        shipping_address: address(),
        items: shipment_items(),
    }
}

fn active() -> Shipment {
    given_shipment(vec![shipment_created()])
}

fn tracking(status: ShipmentStatus, location: Option<&str>, at: Timestamp) -> ShipmentEvent {
    ShipmentEvent::TrackingUpdated {
        shipment_id: SHIPMENT_ID.to_string(),
        status,
        location: location.map(str::to_string),
        description: format!("{status}"),
        updated_at: at,
    }
}

fn delivered() -> Shipment {
    given_shipment(vec![
        shipment_created(),
        ShipmentEvent::ShipmentDelivered {
            shipment_id: SHIPMENT_ID.to_string(),
            order_id: ORDER_ID.to_string(),
            delivered_at: NOW,
            signed_by: None,
        },
    ])
}

fn failed() -> Shipment {
    given_shipment(vec![
        shipment_created(),
        ShipmentEvent::ShipmentFailed {
            shipment_id: SHIPMENT_ID.to_string(),
            order_id: ORDER_ID.to_string(),
            reason: "address not found".to_string(),
            failed_at: NOW,
        },
    ])
}

// ----- init-shipment --------------------------------------------------------

#[test]
fn init_shipment_creates_an_active_shipment_awaiting_pickup() {
    let cmd = init_cmd().validate().unwrap();
    let events = decide_init_shipment(None, cmd, SHIPMENT_CREATED_AT).unwrap();
    assert_eq!(events, vec![shipment_created()]);
    let s = given_shipment(events);
    assert_eq!(s.state, ShipmentState::Active);
    assert_eq!(s.status, ShipmentStatus::AwaitingPickup);
    assert_eq!(s.order_id, ORDER_ID);
    assert_eq!(s.tracking_history.len(), 1);
    assert_eq!(s.tracking_history[0].status, ShipmentStatus::AwaitingPickup);
    assert_eq!(s.tracking_history[0].timestamp, SHIPMENT_CREATED_AT);
}

#[test]
fn an_identical_init_shipment_yields_no_events() {
    let cmd = init_cmd().validate().unwrap();
    assert_eq!(
        decide_init_shipment(Some(&active()), cmd, NOW).unwrap(),
        vec![]
    );
}

#[test]
fn a_different_init_shipment_for_an_existing_id_is_rejected() {
    let cmd = InitShipment {
        tracking_number: "OTHER".to_string(),
        ..init_cmd()
    }
    .validate()
    .unwrap();
    assert_transition(
        decide_init_shipment(Some(&active()), cmd.clone(), NOW),
        Entity::Shipment,
        "active",
        "init-shipment",
    );
    assert_transition(
        decide_init_shipment(Some(&delivered()), cmd, NOW),
        Entity::Shipment,
        "delivery-complete",
        "init-shipment",
    );
}

#[test]
fn init_shipment_validates_its_fields() {
    let v = |f: fn(&mut InitShipment)| {
        let mut cmd = init_cmd();
        f(&mut cmd);
        cmd.validate()
    };
    assert_validation(v(|c| c.shipment_id = "s-1".into()), "shipment-id");
    assert_validation(v(|c| c.order_id = "o-1".into()), "order-id");
    assert!(v(|c| c.tracking_number = text(100)).is_ok());
    assert_validation(v(|c| c.tracking_number = text(101)), "tracking-number");
    assert_validation(v(|c| c.tracking_number = String::new()), "tracking-number");
    assert_validation(
        v(|c| c.shipping_address.city = text(51)),
        "shipping-address.city",
    );
    assert_validation(v(|c| c.items.clear()), "items");
    assert_validation(v(|c| c.items[1].quantity = 0), "items[1].quantity");
    assert_validation(v(|c| c.items[0].item_id = "i".into()), "items[0].item-id");
    assert_validation(
        v(|c| c.items[0].product_id = "p".into()),
        "items[0].product-id",
    );
}

// ----- update-tracking ------------------------------------------------------

#[test]
fn update_tracking_records_the_new_status() {
    let s = active();
    let events = decide_update_tracking(
        &s,
        ShipmentStatus::PickedUp,
        Some("Depot 4".into()),
        "picked up",
        NOW,
    )
    .unwrap();
    assert_eq!(
        events,
        vec![ShipmentEvent::TrackingUpdated {
            shipment_id: SHIPMENT_ID.to_string(),
            status: ShipmentStatus::PickedUp,
            location: Some("Depot 4".to_string()),
            description: "picked up".to_string(),
            updated_at: NOW,
        }]
    );
    let after = Shipment::apply(Some(s), &events[0]).unwrap();
    assert_eq!(after.status, ShipmentStatus::PickedUp);
    assert_eq!(after.state, ShipmentState::Active);
}

#[test]
fn tracking_history_is_appended_in_order() {
    let s = given_shipment(vec![
        shipment_created(),
        tracking(ShipmentStatus::PickedUp, None, NOW),
        tracking(ShipmentStatus::InTransit, Some("Hub A"), NOW + 1),
        tracking(ShipmentStatus::InTransit, Some("Hub B"), NOW + 2),
        tracking(ShipmentStatus::OutForDelivery, None, NOW + 3),
        ShipmentEvent::ShipmentDelivered {
            shipment_id: SHIPMENT_ID.to_string(),
            order_id: ORDER_ID.to_string(),
            delivered_at: NOW + 4,
            signed_by: Some("Pat".into()),
        },
    ]);
    let history: Vec<(ShipmentStatus, Option<&str>, Timestamp)> = s
        .tracking_history
        .iter()
        .map(|t| (t.status, t.location.as_deref(), t.timestamp))
        .collect();
    assert_eq!(
        history,
        vec![
            (ShipmentStatus::AwaitingPickup, None, SHIPMENT_CREATED_AT),
            (ShipmentStatus::PickedUp, None, NOW),
            (ShipmentStatus::InTransit, Some("Hub A"), NOW + 1),
            (ShipmentStatus::InTransit, Some("Hub B"), NOW + 2),
            (ShipmentStatus::OutForDelivery, None, NOW + 3),
            (ShipmentStatus::Delivered, None, NOW + 4),
        ]
    );
    assert_eq!(
        s.tracking_history.last().unwrap().description,
        "delivered, signed by Pat"
    );
    assert_eq!(s.version, 6);
}

#[test]
fn update_tracking_accepts_every_in_flight_status() {
    let s = active();
    for status in [
        ShipmentStatus::AwaitingPickup,
        ShipmentStatus::PickedUp,
        ShipmentStatus::InTransit,
        ShipmentStatus::OutForDelivery,
        ShipmentStatus::ReturnedToSender,
    ] {
        assert!(
            decide_update_tracking(&s, status, None, "update", NOW).is_ok(),
            "{status}"
        );
    }
}

#[test]
fn update_tracking_refuses_the_delivered_and_delivery_failed_statuses() {
    let s = active();
    for status in [ShipmentStatus::Delivered, ShipmentStatus::DeliveryFailed] {
        assert_validation(
            decide_update_tracking(&s, status, None, "done", NOW),
            "status",
        );
    }
}

#[test]
fn location_is_optional_but_1_to_200_characters_when_given() {
    let s = active();
    let upd = |loc: Option<String>| {
        decide_update_tracking(&s, ShipmentStatus::InTransit, loc, "moving", NOW)
    };
    assert_optional_text(upd, 200, "location");
}

#[test]
fn description_is_1_to_500_characters() {
    let s = active();
    let upd = |d: &str| decide_update_tracking(&s, ShipmentStatus::InTransit, None, d, NOW);
    assert!(upd(&text(500)).is_ok());
    assert_validation(upd(&text(501)), "description");
    assert_validation(upd(""), "description");
}

// ----- mark-delivered -------------------------------------------------------

#[test]
fn mark_delivered_completes_the_delivery() {
    let s = active();
    let events = decide_mark_delivered(&s, NOW, Some("Pat".into())).unwrap();
    assert_eq!(
        events,
        vec![ShipmentEvent::ShipmentDelivered {
            shipment_id: SHIPMENT_ID.to_string(),
            order_id: ORDER_ID.to_string(),
            delivered_at: NOW,
            signed_by: Some("Pat".to_string()),
        }]
    );
    let after = Shipment::apply(Some(s), &events[0]).unwrap();
    assert_eq!(after.state, ShipmentState::DeliveryComplete);
    assert_eq!(after.status, ShipmentStatus::Delivered);
    assert_eq!(after.delivered_at, Some(NOW));
    assert_eq!(after.signed_by.as_deref(), Some("Pat"));
}

#[test]
fn mark_delivered_before_creation_is_rejected() {
    let s = active();
    assert_not_before(
        |at| decide_mark_delivered(&s, at, None),
        SHIPMENT_CREATED_AT,
        "delivered-at",
    );
}

#[test]
fn signed_by_on_delivery_is_1_to_100_characters() {
    let s = active();
    assert_optional_text(
        |signed_by| decide_mark_delivered(&s, NOW, signed_by),
        100,
        "signed-by",
    );
}

// ----- mark-failed ----------------------------------------------------------

#[test]
fn mark_failed_ends_the_shipment_with_the_reason() {
    let s = active();
    let events = decide_mark_failed(&s, "address not found", NOW).unwrap();
    assert_eq!(
        events,
        vec![ShipmentEvent::ShipmentFailed {
            shipment_id: SHIPMENT_ID.to_string(),
            order_id: ORDER_ID.to_string(),
            reason: "address not found".to_string(),
            failed_at: NOW,
        }]
    );
    let after = Shipment::apply(Some(s), &events[0]).unwrap();
    assert_eq!(after.state, ShipmentState::DeliveryFailed);
    assert_eq!(after.status, ShipmentStatus::DeliveryFailed);
    assert_eq!(after.failure_reason.as_deref(), Some("address not found"));
    assert_eq!(
        after.tracking_history.last().unwrap().status,
        ShipmentStatus::DeliveryFailed
    );
}

#[test]
fn failure_reason_is_1_to_500_characters() {
    let s = active();
    assert!(decide_mark_failed(&s, &text(500), NOW).is_ok());
    assert_validation(decide_mark_failed(&s, &text(501), NOW), "reason");
    assert_validation(decide_mark_failed(&s, "", NOW), "reason");
}

// ----- after the end --------------------------------------------------------

/// Then: every command on `s`, ended in `state`, is an invalid transition
/// from it (the tracking update asks for `tracking`, the failure says
/// `reason`).
fn assert_every_command_is_refused(
    s: &Shipment,
    state: &str,
    tracking: (ShipmentStatus, &str),
    reason: &str,
) {
    assert_transition(
        decide_update_tracking(s, tracking.0, None, tracking.1, NOW),
        Entity::Shipment,
        state,
        "update-tracking",
    );
    assert_transition(
        decide_mark_delivered(s, NOW, None),
        Entity::Shipment,
        state,
        "mark-delivered",
    );
    assert_transition(
        decide_mark_failed(s, reason, NOW),
        Entity::Shipment,
        state,
        "mark-failed",
    );
}

#[test]
fn commands_after_delivery_complete_or_failed_are_rejected() {
    let cases = [
        (
            delivered(),
            ShipmentState::DeliveryComplete,
            "delivery-complete",
            (ShipmentStatus::InTransit, "late"),
            "lost",
        ),
        (
            failed(),
            ShipmentState::DeliveryFailed,
            "delivery-failed",
            (ShipmentStatus::ReturnedToSender, "back"),
            "again",
        ),
    ];
    for (s, state, name, tracking, reason) in cases {
        assert_eq!(s.state, state);
        assert_every_command_is_refused(&s, name, tracking, reason);
    }
}

#[test]
fn a_stream_without_shipment_created_folds_to_nothing() {
    assert_eq!(
        Shipment::fold(&[tracking(ShipmentStatus::PickedUp, None, NOW)]),
        None
    );
}
