//! A long shipment stream carries a state record (decision 0022): from its
//! sixteenth event on, every append stores the folded shipment with it, a
//! command reads the record and only the events after it, and what it sees
//! is what folding every event gives. A record that cannot be trusted (of
//! another shape, damaged, or of a version the stream's events do not
//! follow) is ignored and the whole stream folded; a short stream stores
//! none. The record's history is text a command passes on (shape 2): its
//! shape is pinned, a record of shape 1 is still read, and what the text
//! gives is what the events give.

mod common;

use common::fakes::*;
use common::*;
use order_core::app::inbound::Inbound;
use order_core::app::ports::StoredState;
use order_core::domain::shipment::{
    STATE_RECORD_FROM_VERSION, Shipment, ShipmentEvent, ShipmentItem,
};
use order_core::domain::values::*;

/// A world with a fulfilled order whose shipment has had `updates`
/// tracking updates (alternating in transit and out for delivery, a minute
/// apart); returns the shipment id and its stream.
fn tracked(w: &World, updates: u64) -> (String, String) {
    w.placed();
    w.clock.advance(MINUTE);
    let order = w.app().advance_saga(ORDER_ID).unwrap();
    let sid = order.shipping.unwrap().shipment_id;
    let start = w.clock.now();
    for n in 0..updates {
        let status = if n % 2 == 0 {
            ShipmentStatus::InTransit
        } else {
            ShipmentStatus::OutForDelivery
        };
        let applied = w
            .app()
            .on_tracking(&sid, status, Some(format!("hub {n}")), start + n * MINUTE)
            .unwrap();
        assert_eq!(applied, Inbound::Applied, "update {n}");
    }
    let stream = format!("shipment-{sid}");
    (sid, stream)
}

/// The shipment folded from every event of its stream, the record aside.
fn folded(w: &World, stream: &str) -> Shipment {
    let events: Vec<ShipmentEvent> = w
        .store
        .events(stream)
        .iter()
        .map(|e| serde_json::from_str(&e.payload).unwrap())
        .collect();
    Shipment::fold(&events).unwrap()
}

#[test]
fn a_normal_shipment_stores_no_state_record() {
    let w = World::new();
    let (_, stream) = tracked(&w, 3);
    let tail = w.store.tail(&stream);
    assert_eq!(tail.state, None);
    assert_eq!(tail.events.len(), 4);
}

#[test]
fn a_long_shipment_stores_its_state_with_every_append_from_the_threshold_on() {
    let w = World::new();
    let (sid, stream) = tracked(&w, STATE_RECORD_FROM_VERSION - 2);
    assert_eq!(w.store.tail(&stream).state, None, "one event short");
    tracked_once_more(&w, &sid, 0);
    let tail = w.store.tail(&stream);
    let state = tail.state.expect("a state record at the threshold");
    assert_eq!(state.version, STATE_RECORD_FROM_VERSION);
    assert!(tail.events.is_empty(), "the record is of the last append");
    assert_eq!(
        Shipment::from_state_record(state.version, &state.state),
        Some(folded(&w, &stream))
    );
    tracked_once_more(&w, &sid, 1);
    let state = w.store.tail(&stream).state.unwrap();
    assert_eq!(state.version, STATE_RECORD_FROM_VERSION + 1);
}

fn tracked_once_more(w: &World, sid: &str, n: u64) {
    let at = w.clock.now() + 600 * MINUTE + n * MINUTE;
    let applied = w
        .app()
        .on_tracking(sid, ShipmentStatus::InTransit, None, at)
        .unwrap();
    assert_eq!(applied, Inbound::Applied);
}

#[test]
fn a_command_reads_the_record_and_the_events_after_it_as_the_whole_stream() {
    let w = World::new();
    let (sid, stream) = tracked(&w, 30);
    // The record is older than the stream: an event was appended after it
    // by a writer that stored no record.
    let version = w.store.tail(&stream).state.unwrap().version;
    w.store.set_state(
        &stream,
        StoredState {
            version: version - 3,
            state: record_at(&w, &stream, version - 3),
        },
    );
    assert_eq!(w.store.tail(&stream).events.len(), 3);
    assert_eq!(w.app().get_shipment(&sid).unwrap(), folded(&w, &stream));
    // It is the record that is read, not the whole stream: a record that
    // says something the events do not is believed.
    let mut marked = folded(&w, &stream);
    marked.tracking_number = "FROM-THE-RECORD".to_owned();
    w.store.set_state(
        &stream,
        StoredState {
            version,
            state: marked.state_record().unwrap(),
        },
    );
    assert_eq!(
        w.app().get_shipment(&sid).unwrap().tracking_number,
        "FROM-THE-RECORD"
    );
    w.store.set_state(
        &stream,
        StoredState {
            version,
            state: record_at(&w, &stream, version),
        },
    );
    // A repeat of an update the record holds is still a duplicate.
    let first = folded(&w, &stream).tracking_history[1].clone();
    let versions = w.store.versions();
    assert_eq!(
        w.app()
            .on_tracking(&sid, first.status, first.location, first.timestamp),
        Ok(Inbound::Duplicate)
    );
    assert_eq!(w.store.versions(), versions);
}

/// The state record of the shipment as it was at `version`.
fn record_at(w: &World, stream: &str, version: u64) -> String {
    let events: Vec<ShipmentEvent> = w.store.events(stream)[..version as usize]
        .iter()
        .map(|e| serde_json::from_str(&e.payload).unwrap())
        .collect();
    Shipment::fold(&events).unwrap().state_record().unwrap()
}

#[test]
fn a_record_that_cannot_be_trusted_is_ignored_and_the_stream_folded() {
    let w = World::new();
    let (sid, stream) = tracked(&w, 20);
    let record = w.store.tail(&stream).state.unwrap();
    let whole = folded(&w, &stream);
    let untrusted = [
        // damaged
        StoredState {
            version: record.version,
            state: "{\"shape\":1,\"shipment\":".to_owned(),
        },
        // another shape
        StoredState {
            version: record.version,
            state: record.state.replacen("\"shape\":2", "\"shape\":3", 1),
        },
        // a history whose scan keys are not its entries'
        StoredState {
            version: record.version,
            state: record
                .state
                .replacen("[\"in-transit\",", "[\"picked-up\",", 1),
        },
        // a history that is not a list
        StoredState {
            version: record.version,
            state: format!(
                "{},\"history\":{{}}}}",
                record.state.split(",\"history\":").next().unwrap()
            ),
        },
        // a version its shipment was not folded at
        StoredState {
            version: record.version - 1,
            state: record.state.clone(),
        },
    ];
    for state in untrusted {
        assert_ne!(state, record, "the case changes the record");
        w.store.set_state(&stream, state.clone());
        assert_eq!(
            w.app().get_shipment(&sid).unwrap(),
            whole,
            "record {state:?}"
        );
    }
    // The next append writes a good record again.
    tracked_once_more(&w, &sid, 0);
    let state = w.store.tail(&stream).state.unwrap();
    assert_eq!(state.version, record.version + 1);
    assert_eq!(
        Shipment::from_state_record(state.version, &state.state),
        Some(folded(&w, &stream))
    );
}

/// The shipment of the golden record: created, one scan, at the threshold.
fn fixed_shipment() -> Shipment {
    let events = [
        ShipmentEvent::ShipmentCreated {
            shipment_id: "s-1".to_owned(),
            order_id: "o-1".to_owned(),
            carrier: CarrierCode::Ups,
            tracking_number: "1Z999".to_owned(),
            shipping_address: Address {
                street1: "1 Main St".to_owned(),
                street2: None,
                city: "Springfield".to_owned(),
                state_province: "IL".to_owned(),
                postal_code: "62701".to_owned(),
                country: "US".to_owned(),
            },
            items: vec![ShipmentItem {
                item_id: "i-1".to_owned(),
                product_id: "p-1".to_owned(),
                quantity: 2,
            }],
            created_at: 1_000,
        },
        ShipmentEvent::TrackingUpdated {
            shipment_id: "s-1".to_owned(),
            status: ShipmentStatus::InTransit,
            location: Some("hub \"north\"".to_owned()),
            description: "in transit".to_owned(),
            updated_at: 2_000,
        },
    ];
    let mut s = Shipment::fold(&events).unwrap();
    s.version = STATE_RECORD_FROM_VERSION;
    s
}

const GOLDEN_RECORD: &str = concat!(
    r#"{"shape":2,"shipment":{"shipment_id":"s-1","order_id":"o-1","carrier":"ups","#,
    r#""tracking_number":"1Z999","shipping_address":{"street1":"1 Main St","street2":null,"#,
    r#""city":"Springfield","state_province":"IL","postal_code":"62701","country":"US"},"#,
    r#""items":[{"item_id":"i-1","product_id":"p-1","quantity":2}],"state":"active","#,
    r#""status":"in-transit","created_at":1000,"delivered_at":null,"signed_by":null,"#,
    r#""failure_reason":null,"version":16},"#,
    r#""seen":[["awaiting-pickup",1000],["in-transit",2000]],"#,
    r#""history":[{"status":"awaiting-pickup","location":null,"timestamp":1000,"#,
    r#""description":"shipment created"},{"status":"in-transit","location":"hub \"north\"","#,
    r#""timestamp":2000,"description":"in transit"}]}"#
);

#[test]
fn the_state_record_has_the_pinned_shape() {
    assert_eq!(fixed_shipment().state_record().unwrap(), GOLDEN_RECORD);
    assert_eq!(
        Shipment::from_state_record(STATE_RECORD_FROM_VERSION, GOLDEN_RECORD),
        Some(fixed_shipment())
    );
}

#[test]
fn an_entry_appended_to_a_record_s_history_text_is_what_encoding_every_entry_gives() {
    let next = ShipmentEvent::TrackingUpdated {
        shipment_id: "s-1".to_owned(),
        status: ShipmentStatus::OutForDelivery,
        location: None,
        description: "out for delivery".to_owned(),
        updated_at: 3_000,
    };
    let from_text = Shipment::from_state_record(STATE_RECORD_FROM_VERSION, GOLDEN_RECORD);
    let from_text = Shipment::apply(from_text, &next).unwrap();
    let decoded = Shipment::apply(Some(fixed_shipment()), &next).unwrap();
    assert_eq!(from_text.state_record(), decoded.state_record());
    assert!(
        from_text
            .state_record()
            .unwrap()
            .ends_with(r#"{"status":"out-for-delivery","location":null,"timestamp":3000,"description":"out for delivery"}]}"#)
    );
    assert_eq!(from_text, decoded);
    assert_eq!(from_text.tracking_history.len(), 3);
}

/// The record of shape 1 that earlier versions wrote: the shipment with
/// its history inside.
fn shape_1_record(s: &Shipment) -> String {
    let mut shipment = serde_json::to_value(s).unwrap();
    shipment["tracking_history"] = serde_json::to_value(&s.tracking_history[..]).unwrap();
    serde_json::json!({"shape": 1, "shipment": shipment}).to_string()
}

#[test]
fn a_record_of_shape_1_is_still_read() {
    assert_eq!(
        Shipment::from_state_record(
            STATE_RECORD_FROM_VERSION,
            &shape_1_record(&fixed_shipment())
        ),
        Some(fixed_shipment())
    );
    let w = World::new();
    let (sid, stream) = tracked(&w, 20);
    let version = w.store.tail(&stream).state.unwrap().version;
    let mut marked = folded(&w, &stream);
    marked.tracking_number = "FROM-THE-RECORD".to_owned();
    w.store.set_state(
        &stream,
        StoredState {
            version,
            state: shape_1_record(&marked),
        },
    );
    assert_eq!(w.app().get_shipment(&sid).unwrap(), marked);
    // A repeat of an update the old record holds is still a duplicate.
    let first = marked.tracking_history[1].clone();
    assert_eq!(
        w.app()
            .on_tracking(&sid, first.status, first.location, first.timestamp),
        Ok(Inbound::Duplicate)
    );
    // The next append writes the current shape.
    tracked_once_more(&w, &sid, 0);
    let state = w.store.tail(&stream).state.unwrap();
    assert!(state.state.starts_with("{\"shape\":2,"), "{}", state.state);
    let mut expected = folded(&w, &stream);
    expected.tracking_number = "FROM-THE-RECORD".to_owned();
    assert_eq!(w.app().get_shipment(&sid).unwrap(), expected);
    // A shape-1 record without a history is damaged.
    let mut damaged: serde_json::Value = serde_json::from_str(&shape_1_record(&marked)).unwrap();
    damaged["shipment"]
        .as_object_mut()
        .unwrap()
        .remove("tracking_history");
    w.store.set_state(
        &stream,
        StoredState {
            version: state.version,
            state: damaged.to_string(),
        },
    );
    assert_eq!(w.app().get_shipment(&sid).unwrap(), folded(&w, &stream));
}

#[test]
fn scans_carried_past_records_are_recognised_and_shown_as_the_events_say() {
    let w = World::new();
    let (sid, stream) = tracked(&w, 20);
    // Scans through the carrier's events pass the history on as text, one
    // record after the other.
    for n in 0..5 {
        tracked_once_more(&w, &sid, n);
    }
    let state = w.store.tail(&stream).state.unwrap();
    assert_eq!(state.version, 26);
    let whole = folded(&w, &stream);
    assert_eq!(w.app().get_shipment(&sid).unwrap(), whole);
    assert_eq!(
        Shipment::from_state_record(state.version, &state.state),
        Some(whole.clone())
    );
    assert_eq!(state.state, whole.state_record().unwrap());
    // A repeat of any earlier scan, the first, one from before the
    // threshold, and the last, is a duplicate and writes nothing.
    let versions = w.store.versions();
    for entry in [&whole.tracking_history[1], &whole.tracking_history[10]]
        .into_iter()
        .chain(whole.tracking_history.last())
    {
        assert_eq!(
            w.app()
                .on_tracking(&sid, entry.status, entry.location.clone(), entry.timestamp),
            Ok(Inbound::Duplicate),
            "{entry:?}"
        );
    }
    assert_eq!(w.store.versions(), versions);
}
