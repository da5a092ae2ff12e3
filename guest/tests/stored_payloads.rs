//! Stored events keep their bytes: every event type (and every step
//! outcome) encodes to exactly the payload earlier versions stored, under
//! the same stored type, and decodes from it to the same value.

#[path = "stored/samples.rs"]
mod samples;

use order_core::domain::metrics::MetricEvent;
use order_core::domain::order::OrderEvent;
use order_core::domain::returns::ReturnEvent;
use order_core::domain::shipment::ShipmentEvent;

/// The fixture: `stored type <TAB> payload`, one event a line, in the
/// order of the samples (orders, step outcomes, shipments, returns,
/// metrics).
const STORED: &str = include_str!("stored/payloads.tsv");

fn stored() -> Vec<(&'static str, &'static str)> {
    STORED
        .lines()
        .map(|line| line.split_once('\t').expect("type TAB payload"))
        .collect()
}

/// Every sample with its stored type and payload as this version writes
/// them, in the fixture's order.
fn written() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in samples::order_events()
        .iter()
        .chain(samples::step_outcomes().iter())
    {
        out.push((e.event_type().to_string(), serde_json::to_string(e).unwrap()));
    }
    for e in samples::shipment_events() {
        out.push((e.event_type().to_string(), serde_json::to_string(&e).unwrap()));
    }
    for e in samples::return_events() {
        out.push((e.event_type().to_string(), serde_json::to_string(&e).unwrap()));
    }
    for e in samples::metric_events() {
        out.push((e.event_type().to_string(), serde_json::to_string(&e).unwrap()));
    }
    out
}

#[test]
fn every_event_type_encodes_to_the_bytes_stored_before() {
    let stored = stored();
    let written = written();
    assert_eq!(written.len(), stored.len(), "one fixture line per sample");
    for ((ty, payload), (old_ty, old_payload)) in written.iter().zip(&stored) {
        assert_eq!(ty, old_ty);
        assert_eq!(payload, old_payload, "payload of {ty}");
    }
}

#[test]
fn every_sample_decodes_back_from_its_stored_payload() {
    let stored = stored();
    let (orders, rest) = stored.split_at(samples::order_events().len() + 5);
    let (shipments, rest) = rest.split_at(4);
    let (returns, metrics) = rest.split_at(10);
    let expected_orders: Vec<OrderEvent> = samples::order_events()
        .into_iter()
        .chain(samples::step_outcomes())
        .collect();
    for ((_, payload), e) in orders.iter().zip(&expected_orders) {
        assert_eq!(&serde_json::from_str::<OrderEvent>(payload).unwrap(), e);
    }
    for ((_, payload), e) in shipments.iter().zip(&samples::shipment_events()) {
        assert_eq!(&serde_json::from_str::<ShipmentEvent>(payload).unwrap(), e);
    }
    for ((_, payload), e) in returns.iter().zip(&samples::return_events()) {
        assert_eq!(&serde_json::from_str::<ReturnEvent>(payload).unwrap(), e);
    }
    for ((_, payload), e) in metrics.iter().zip(&samples::metric_events()) {
        assert_eq!(&serde_json::from_str::<MetricEvent>(payload).unwrap(), e);
    }
}
