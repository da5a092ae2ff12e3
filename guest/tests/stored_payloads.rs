//! Stored events keep their bytes: every event type (and every step
//! outcome) encodes to exactly the payload earlier versions stored, under
//! the same stored type, and decodes from it to the same value, read
//! straight into its variant; a payload the fast path does not take (its
//! type differs from the stored one, a tag not first, a malformed payload)
//! decodes, or fails with the message, exactly as serde's derive does.

#[path = "stored/samples.rs"]
mod samples;

use std::collections::BTreeSet;

use order_core::domain::codec;
use order_core::domain::metrics::MetricEvent;
use order_core::domain::order::OrderEvent;
use order_core::domain::returns::ReturnEvent;
use order_core::domain::saga::StepOutcome;
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
        out.push((
            e.event_type().to_string(),
            serde_json::to_string(e).unwrap(),
        ));
    }
    for e in samples::shipment_events() {
        out.push((
            e.event_type().to_string(),
            serde_json::to_string(&e).unwrap(),
        ));
    }
    for e in samples::return_events() {
        out.push((
            e.event_type().to_string(),
            serde_json::to_string(&e).unwrap(),
        ));
    }
    for e in samples::metric_events() {
        out.push((
            e.event_type().to_string(),
            serde_json::to_string(&e).unwrap(),
        ));
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

/// Every fixture line decoded through the codec with its stored type.
fn decode_all<E>(lines: &[(&str, &str)], expected: &[E])
where
    E: codec::Tagged + PartialEq + std::fmt::Debug,
{
    assert_eq!(lines.len(), expected.len());
    for ((ty, payload), e) in lines.iter().zip(expected) {
        let derived: E = serde_json::from_str(payload).unwrap();
        let streamed: E = codec::streamed(ty, payload)
            .unwrap_or_else(|err| panic!("{ty} is not read by the fast path: {err}"));
        assert_eq!(&streamed, e, "{ty}, streamed");
        assert_eq!(&derived, e, "{ty}, derived");
        assert_eq!(&codec::decode::<E>(ty, payload).unwrap(), e, "{ty}");
    }
}

#[test]
fn every_stored_payload_decodes_straight_into_its_variant_as_serde_decodes_it() {
    let stored = stored();
    let (orders, rest) = stored.split_at(samples::order_events().len() + 5);
    let (shipments, rest) = rest.split_at(4);
    let (returns, metrics) = rest.split_at(10);
    let expected_orders: Vec<OrderEvent> = samples::order_events()
        .into_iter()
        .chain(samples::step_outcomes())
        .collect();
    decode_all(orders, &expected_orders);
    decode_all(shipments, &samples::shipment_events());
    decode_all(returns, &samples::return_events());
    decode_all(metrics, &samples::metric_events());
}

#[test]
fn the_fixture_holds_every_event_type_and_every_step_outcome() {
    let types: BTreeSet<&str> = stored().iter().map(|(ty, _)| *ty).collect();
    for ty in OrderEvent::TYPES
        .iter()
        .chain(ShipmentEvent::TYPES)
        .chain(ReturnEvent::TYPES)
        .chain(MetricEvent::TYPES)
    {
        assert!(types.contains(ty), "no sample of {ty}");
    }
    let kinds: BTreeSet<&str> = samples::step_outcomes()
        .iter()
        .filter_map(|e| match e {
            OrderEvent::SagaStepCompleted { outcome, .. } => Some(outcome.kind()),
            _ => None,
        })
        .collect();
    assert_eq!(kinds.len(), StepOutcome::TYPES.len());
}

const NOTE: &str = r#"{"type":"note-recorded","note":"gift wrap","recorded_at":7}"#;

#[test]
fn a_payload_whose_type_differs_from_the_stored_type_decodes_as_the_payload_says() {
    for stored_type in ["order-placed", "no-such-type", ""] {
        assert!(codec::streamed::<OrderEvent>(stored_type, NOTE).is_err());
        assert_eq!(
            codec::decode::<OrderEvent>(stored_type, NOTE).unwrap(),
            OrderEvent::NoteRecorded {
                note: "gift wrap".into(),
                recorded_at: 7
            },
            "stored as {stored_type:?}"
        );
    }
}

#[test]
fn an_outcome_whose_kind_is_not_first_decodes_as_before() {
    let payload = r#"{"type":"saga-step-completed","step":"allocate-inventory","outcome":{"all_items_allocated":true,"kind":"allocated"},"completed_at":3}"#;
    assert!(codec::streamed::<OrderEvent>("saga-step-completed", payload).is_err());
    assert_eq!(
        codec::decode::<OrderEvent>("saga-step-completed", payload).unwrap(),
        serde_json::from_str::<OrderEvent>(payload).unwrap()
    );
}

#[test]
fn a_field_after_the_tag_or_a_repeated_tag_reads_as_serde_reads_it() {
    let later = r#"{"note":"n","type":"note-recorded","recorded_at":1,"extra":[1,{"a":null}]}"#;
    assert_eq!(
        codec::streamed::<OrderEvent>("note-recorded", later).unwrap(),
        serde_json::from_str::<OrderEvent>(later).unwrap()
    );
    let twice = r#"{"type":"note-recorded","type":"note-recorded","note":"n","recorded_at":1}"#;
    assert_eq!(
        codec::decode::<OrderEvent>("note-recorded", twice)
            .unwrap_err()
            .to_string(),
        serde_json::from_str::<OrderEvent>(twice)
            .unwrap_err()
            .to_string()
    );
}

#[test]
fn a_malformed_payload_gives_the_error_serde_gives() {
    let cases = [
        r#"{"note":"gift wrap","recorded_at":7}"#,
        r#"{"type":"no-such-type","note":"gift wrap","recorded_at":7}"#,
        r#"{"type":"note-recorded","recorded_at":7}"#,
        r#"{"type":"note-recorded","note":5,"recorded_at":7}"#,
        r#"{"type":"note-recorded","note":"n","recorded_at":-1}"#,
        r#"{"type":"note-recorded","note":"n","note":"m","recorded_at":7}"#,
        r#"{"type":"note-recorded","note":"n","recorded_at":7} x"#,
        r#"{"type":"note-recorded","note":"n""#,
        r#"{"type":"saga-step-completed","step":"allocate-inventory","outcome":{"kind":"lost"},"completed_at":3}"#,
        r#"{"type":"saga-step-completed","step":"allocate-inventory","outcome":{"kind":"paid","amount":{"amount":1,"currency":"USD"}},"completed_at":3}"#,
        r#"["note-recorded","n",7]"#,
        "null",
        "",
    ];
    for payload in cases {
        let ours = codec::decode::<OrderEvent>("note-recorded", payload);
        let serde = serde_json::from_str::<OrderEvent>(payload);
        // The streamed path itself, under the type the payload claims, takes
        // nothing serde refuses, and what it takes it reads as serde does
        // (it may leave to serde what serde accepts, such as a sequence).
        let stored = if payload.contains("saga-step-completed") {
            "saga-step-completed"
        } else {
            "note-recorded"
        };
        if let Ok(streamed) = codec::streamed::<OrderEvent>(stored, payload) {
            assert_eq!(serde.as_ref().ok(), Some(&streamed), "{payload}");
        }
        match (ours, serde) {
            (Err(ours), Err(serde)) => {
                assert_eq!(ours.to_string(), serde.to_string(), "{payload}")
            }
            (ours, serde) => assert_eq!(ours.ok(), serde.ok(), "{payload}"),
        }
    }
}
