//! A long shipment stream carries a state record (decision 0022): from its
//! sixteenth event on, every append stores the folded shipment with it, a
//! command reads the record and only the events after it, and what it sees
//! is what folding every event gives. A record that cannot be trusted (of
//! another shape, damaged, or of a version the stream's events do not
//! follow) is ignored and the whole stream folded; a short stream stores
//! none.

mod common;

use common::fakes::*;
use common::*;
use order_core::app::inbound::Inbound;
use order_core::app::ports::StoredState;
use order_core::domain::shipment::{STATE_RECORD_FROM_VERSION, Shipment, ShipmentEvent};
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
            state: record.state.replacen("\"shape\":1", "\"shape\":2", 1),
        },
        // a version its shipment was not folded at
        StoredState {
            version: record.version - 1,
            state: record.state.clone(),
        },
    ];
    for state in untrusted {
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
