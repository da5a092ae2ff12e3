//! The behaviour every [`EventStore`] must show, run against each backend by
//! [`conformance_tests!`]: optimistic concurrency that writes all or nothing,
//! versions from 1, de-duplicated tags in first-tagged order, timers, and a
//! readiness probe that leaves the streams alone.

use std::sync::Arc;

use super::{
    AppendBatch, EventStore, IdempotencyRecord, IdempotencyWindow, NewEvent, SagaTimer, StoreError,
    StoreStats, StreamAppend, TimerChange,
};
use crate::clock::ManualClock;

/// Generates one `#[test]` per conformance check for a backend. `$make` is a
/// closure from `Arc<ManualClock>` to `(store, guard)`, where `guard` is kept
/// alive for the test (for example a temporary directory).
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::store::conformance::conformance_tests!(@tests $make;
            versions_start_at_one_and_continue,
            an_unknown_stream_loads_empty,
            a_wrong_expected_version_writes_nothing_of_the_batch,
            a_tag_only_append_still_checks_the_version,
            tags_are_deduplicated_in_first_tagged_order,
            timers_are_set_replaced_cleared_and_due_in_order,
            recorded_at_comes_from_the_store_clock,
            malformed_batches_are_invalid_and_write_nothing,
            racing_writers_get_exactly_one_success,
            stats_count_streams_events_and_timers,
            a_readiness_probe_succeeds_and_changes_no_stream,
            an_idempotency_key_is_held_once_then_replays_its_response,
            idempotency_records_expire_and_abandoned_ones_free_the_key,
            racing_requests_with_one_idempotency_key_start_once,
            stream_ids_are_listed_by_prefix_in_byte_order_after_a_cursor,
        );
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let clock = ::std::sync::Arc::new($crate::clock::ManualClock::new(1_000));
                #[allow(clippy::redundant_closure_call)]
                let (store, _guard) = ($make)(clock.clone());
                $crate::store::conformance::$name(&store, &clock);
            }
        )*
    };
}
pub(crate) use conformance_tests;

fn event(event_type: &str) -> NewEvent {
    NewEvent {
        event_type: event_type.to_owned(),
        payload: format!(r#"{{"type":"{event_type}"}}"#),
    }
}

fn append(stream: &str, expected: u64, events: &[&str]) -> StreamAppend {
    StreamAppend {
        stream_id: stream.to_owned(),
        expected_version: expected,
        tags: Vec::new(),
        events: events.iter().map(|e| event(e)).collect(),
    }
}

fn timer(saga: &str, due_at: Option<u64>) -> TimerChange {
    TimerChange {
        saga_id: saga.to_owned(),
        due_at,
    }
}

fn batch(streams: Vec<StreamAppend>, timers: Vec<TimerChange>) -> AppendBatch {
    AppendBatch { streams, timers }
}

fn versions(store: &dyn EventStore, stream: &str) -> Vec<u64> {
    store
        .load(stream)
        .unwrap()
        .iter()
        .map(|e| e.version)
        .collect()
}

pub(crate) fn versions_start_at_one_and_continue(store: &dyn EventStore, _: &Arc<ManualClock>) {
    store
        .append(&batch(vec![append("order-1", 0, &["a", "b"])], vec![]))
        .unwrap();
    store
        .append(&batch(vec![append("order-1", 2, &["c"])], vec![]))
        .unwrap();
    assert_eq!(store.stream_version("order-1").unwrap(), 3);
    let events = store.load("order-1").unwrap();
    assert_eq!(
        events
            .iter()
            .map(|e| (e.version, e.event_type.as_str()))
            .collect::<Vec<_>>(),
        [(1, "a"), (2, "b"), (3, "c")]
    );
    assert!(events.iter().all(|e| e.stream_id == "order-1"));
    assert_eq!(events[0].payload, r#"{"type":"a"}"#);
}

pub(crate) fn an_unknown_stream_loads_empty(store: &dyn EventStore, _: &Arc<ManualClock>) {
    assert!(store.load("order-none").unwrap().is_empty());
    assert_eq!(store.stream_version("order-none").unwrap(), 0);
    assert!(store.find_streams("customer-none").unwrap().is_empty());
}

pub(crate) fn a_wrong_expected_version_writes_nothing_of_the_batch(
    store: &dyn EventStore,
    _: &Arc<ManualClock>,
) {
    store
        .append(&batch(
            vec![
                append("order-1", 0, &["placed"]),
                append("metrics-1", 0, &["m"]),
            ],
            vec![timer("order-1", Some(50))],
        ))
        .unwrap();

    let mut tagged = append("order-2", 0, &["placed"]);
    tagged.tags.push("customer-9".to_owned());
    let error = store
        .append(&batch(
            vec![
                tagged,
                append("metrics-1", 1, &["m"]),
                append("order-1", 0, &["again"]),
            ],
            vec![timer("order-1", None), timer("order-2", Some(10))],
        ))
        .unwrap_err();

    assert_eq!(
        error,
        StoreError::Conflict {
            stream_id: "order-1".to_owned(),
            expected: 0,
            actual: 1
        }
    );
    assert!(
        store.load("order-2").unwrap().is_empty(),
        "other stream written"
    );
    assert_eq!(versions(store, "metrics-1"), [1], "other stream written");
    assert!(
        store.find_streams("customer-9").unwrap().is_empty(),
        "tag written"
    );
    assert_eq!(
        store.all_timers().unwrap(),
        [SagaTimer {
            saga_id: "order-1".to_owned(),
            due_at: 50
        }],
        "timers changed"
    );
}

pub(crate) fn a_tag_only_append_still_checks_the_version(
    store: &dyn EventStore,
    _: &Arc<ManualClock>,
) {
    store
        .append(&batch(vec![append("order-1", 0, &["placed"])], vec![]))
        .unwrap();
    let mut tag_only = append("order-1", 0, &[]);
    tag_only.tags.push("customer-1".to_owned());
    let error = store
        .append(&batch(vec![tag_only.clone()], vec![]))
        .unwrap_err();
    assert!(
        matches!(error, StoreError::Conflict { actual: 1, .. }),
        "{error:?}"
    );

    tag_only.expected_version = 1;
    store.append(&batch(vec![tag_only], vec![])).unwrap();
    assert_eq!(store.find_streams("customer-1").unwrap(), ["order-1"]);
    assert_eq!(versions(store, "order-1"), [1]);
}

pub(crate) fn tags_are_deduplicated_in_first_tagged_order(
    store: &dyn EventStore,
    _: &Arc<ManualClock>,
) {
    let tagged = |stream: &str, expected: u64, tags: &[&str]| StreamAppend {
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        ..append(stream, expected, &["e"])
    };
    store
        .append(&batch(
            vec![tagged("order-b", 0, &["customer-1", "customer-1"])],
            vec![],
        ))
        .unwrap();
    store
        .append(&batch(
            vec![
                tagged("order-a", 0, &["customer-1"]),
                tagged("order-c", 0, &["customer-2"]),
            ],
            vec![],
        ))
        .unwrap();
    store
        .append(&batch(
            vec![tagged("order-b", 1, &["customer-1", "customer-2"])],
            vec![],
        ))
        .unwrap();

    assert_eq!(
        store.find_streams("customer-1").unwrap(),
        ["order-b", "order-a"]
    );
    assert_eq!(
        store.find_streams("customer-2").unwrap(),
        ["order-c", "order-b"]
    );
}

pub(crate) fn timers_are_set_replaced_cleared_and_due_in_order(
    store: &dyn EventStore,
    _: &Arc<ManualClock>,
) {
    store
        .append(&batch(
            vec![],
            vec![
                timer("saga-c", Some(300)),
                timer("saga-a", Some(100)),
                timer("saga-b", Some(100)),
                timer("saga-d", Some(900)),
            ],
        ))
        .unwrap();
    // Replace one, clear one, and clear one that was never set.
    store
        .append(&batch(
            vec![],
            vec![
                timer("saga-c", Some(50)),
                timer("saga-d", None),
                timer("saga-x", None),
            ],
        ))
        .unwrap();

    let due = |now, limit| -> Vec<(String, u64)> {
        store
            .due_timers(now, limit)
            .unwrap()
            .into_iter()
            .map(|t| (t.saga_id, t.due_at))
            .collect()
    };
    let owned = |items: &[(&str, u64)]| -> Vec<(String, u64)> {
        items.iter().map(|(s, d)| ((*s).to_owned(), *d)).collect()
    };
    assert_eq!(due(49, 10), owned(&[]));
    assert_eq!(
        due(100, 10),
        owned(&[("saga-c", 50), ("saga-a", 100), ("saga-b", 100)])
    );
    assert_eq!(due(100, 2), owned(&[("saga-c", 50), ("saga-a", 100)]));
    assert_eq!(due(u64::MAX, 10).len(), 3);
    assert_eq!(store.all_timers().unwrap().len(), 3);

    // A timer change may ride along with events, in the same batch.
    store
        .append(&batch(
            vec![append("order-a", 0, &["e"])],
            vec![timer("saga-a", None)],
        ))
        .unwrap();
    assert_eq!(due(1_000, 10), owned(&[("saga-c", 50), ("saga-b", 100)]));
}

pub(crate) fn recorded_at_comes_from_the_store_clock(
    store: &dyn EventStore,
    clock: &Arc<ManualClock>,
) {
    clock.set(1_700_000_000_000);
    store
        .append(&batch(vec![append("order-1", 0, &["a", "b"])], vec![]))
        .unwrap();
    clock.set(1_700_000_000_500);
    store
        .append(&batch(vec![append("order-1", 2, &["c"])], vec![]))
        .unwrap();
    let stamps: Vec<u64> = store
        .load("order-1")
        .unwrap()
        .iter()
        .map(|e| e.recorded_at)
        .collect();
    assert_eq!(
        stamps,
        [1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_500]
    );
}

pub(crate) fn malformed_batches_are_invalid_and_write_nothing(
    store: &dyn EventStore,
    _: &Arc<ManualClock>,
) {
    let good = append("order-1", 0, &["a"]);
    let mut no_type = append("order-2", 0, &["x"]);
    no_type.events[0].event_type.clear();
    let mut empty_tag = append("order-2", 0, &["x"]);
    empty_tag.tags.push(String::new());
    let bad_batches = [
        batch(vec![good.clone(), append("", 0, &["a"])], vec![]),
        batch(vec![good.clone(), append("order-1", 0, &["b"])], vec![]),
        batch(vec![good.clone(), no_type], vec![]),
        batch(vec![good.clone(), empty_tag], vec![]),
        batch(vec![good.clone()], vec![timer("", Some(1))]),
        batch(vec![good.clone()], vec![timer("saga", Some(u64::MAX))]),
        batch(vec![append("order-1", u64::MAX, &["a"])], vec![]),
    ];
    for bad in &bad_batches {
        let error = store.append(bad).unwrap_err();
        assert!(
            matches!(error, StoreError::Invalid(_)),
            "{bad:?} gave {error:?}"
        );
    }
    assert!(matches!(store.load(""), Err(StoreError::Invalid(_))));
    assert!(matches!(
        store.stream_version(""),
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.stats().unwrap(), StoreStats::default());
}

pub(crate) fn racing_writers_get_exactly_one_success(store: &dyn EventStore, _: &Arc<ManualClock>) {
    let results: Vec<Result<(), StoreError>> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..8)
            .map(|i| {
                scope.spawn(move || {
                    store.append(&batch(
                        vec![append("order-race", 0, &["placed"])],
                        vec![timer("order-race", Some(i))],
                    ))
                })
            })
            .collect();
        writers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(StoreError::Unavailable("panic".into())))
            })
            .collect()
    });
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(
                e,
                StoreError::Conflict {
                    expected: 0,
                    actual: 1,
                    ..
                }
            )),
        "{results:?}"
    );
    assert_eq!(versions(store, "order-race"), [1]);
}

pub(crate) fn stats_count_streams_events_and_timers(store: &dyn EventStore, _: &Arc<ManualClock>) {
    store
        .append(&batch(
            vec![
                append("order-1", 0, &["a", "b"]),
                append("order-2", 0, &["a"]),
            ],
            vec![timer("order-1", Some(5))],
        ))
        .unwrap();
    assert_eq!(
        store.stats().unwrap(),
        StoreStats {
            streams: 2,
            events: 3,
            timers: 1
        }
    );
}

pub(crate) fn a_readiness_probe_succeeds_and_changes_no_stream(
    store: &dyn EventStore,
    _: &Arc<ManualClock>,
) {
    store
        .append(&batch(
            vec![append("order-1", 0, &["a"])],
            vec![timer("order-1", Some(5))],
        ))
        .unwrap();
    let before = store.stats().unwrap();
    store.probe().unwrap();
    store.probe().unwrap();
    assert_eq!(store.stats().unwrap(), before);
    assert_eq!(versions(store, "order-1"), [1]);
}

fn window(now_ms: u64) -> IdempotencyWindow {
    IdempotencyWindow {
        now_ms,
        retention_ms: 86_400_000,
        running_ms: 60_000,
    }
}

pub(crate) fn an_idempotency_key_is_held_once_then_replays_its_response(
    store: &dyn EventStore,
    _: &Arc<ManualClock>,
) {
    assert_eq!(
        store.begin_idempotent("k1", "fp-a", window(1_000)),
        Ok(IdempotencyRecord::Started)
    );
    // While it runs, the next caller learns so, with the first fingerprint.
    assert_eq!(
        store.begin_idempotent("k1", "fp-b", window(2_000)),
        Ok(IdempotencyRecord::Running {
            fingerprint: "fp-a".to_owned()
        })
    );
    store.finish_idempotent("k1", "{\"status\":201}").unwrap();
    let finished = IdempotencyRecord::Finished {
        fingerprint: "fp-a".to_owned(),
        response: "{\"status\":201}".to_owned(),
    };
    assert_eq!(
        store.begin_idempotent("k1", "fp-a", window(3_000)),
        Ok(finished.clone())
    );
    // Abandoning a finished key changes nothing.
    store.abandon_idempotent("k1").unwrap();
    assert_eq!(
        store.begin_idempotent("k1", "fp-a", window(4_000)),
        Ok(finished)
    );
    // Another key is another record.
    assert_eq!(
        store.begin_idempotent("k2", "fp-a", window(4_000)),
        Ok(IdempotencyRecord::Started)
    );
    // No stream is touched.
    assert_eq!(store.stats().unwrap().streams, 0);
}

pub(crate) fn idempotency_records_expire_and_abandoned_ones_free_the_key(
    store: &dyn EventStore,
    _: &Arc<ManualClock>,
) {
    let day = 86_400_000;
    assert_eq!(
        store.begin_idempotent("old", "fp-a", window(1_000)),
        Ok(IdempotencyRecord::Started)
    );
    store.finish_idempotent("old", "first").unwrap();
    // Just before the retention ends it still replays; at its end, it is forgotten.
    assert!(matches!(
        store.begin_idempotent("old", "fp-b", window(1_000 + day - 1)),
        Ok(IdempotencyRecord::Finished { .. })
    ));
    assert_eq!(
        store.begin_idempotent("old", "fp-b", window(1_000 + day)),
        Ok(IdempotencyRecord::Started)
    );
    // A request that never finished frees its key after the running limit.
    assert_eq!(
        store.begin_idempotent("stuck", "fp-a", window(0)),
        Ok(IdempotencyRecord::Started)
    );
    assert!(matches!(
        store.begin_idempotent("stuck", "fp-a", window(59_999)),
        Ok(IdempotencyRecord::Running { .. })
    ));
    assert_eq!(
        store.begin_idempotent("stuck", "fp-a", window(60_000)),
        Ok(IdempotencyRecord::Started)
    );
    // An abandoned one at once.
    store.abandon_idempotent("stuck").unwrap();
    assert_eq!(
        store.begin_idempotent("stuck", "fp-c", window(60_001)),
        Ok(IdempotencyRecord::Started)
    );
}

pub(crate) fn racing_requests_with_one_idempotency_key_start_once(
    store: &dyn EventStore,
    _: &Arc<ManualClock>,
) {
    let started = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                if store.begin_idempotent("race", "fp", window(1_000))
                    == Ok(IdempotencyRecord::Started)
                {
                    started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
    });
    assert_eq!(started.into_inner(), 1, "exactly one request holds the key");
}

pub(crate) fn stream_ids_are_listed_by_prefix_in_byte_order_after_a_cursor(
    store: &dyn EventStore,
    _: &Arc<ManualClock>,
) {
    for stream in ["order-b", "return-a", "order-a", "order-c", "orders"] {
        store
            .append(&batch(vec![append(stream, 0, &["e", "f"])], vec![]))
            .unwrap();
    }
    assert_eq!(
        store.stream_ids("order-", None, 10).unwrap(),
        ["order-a", "order-b", "order-c"],
        "one id per stream, only those with the prefix"
    );
    assert_eq!(
        store.stream_ids("order-", None, 2).unwrap(),
        ["order-a", "order-b"]
    );
    assert_eq!(
        store.stream_ids("order-", Some("order-b"), 10).unwrap(),
        ["order-c"],
        "the cursor is exclusive"
    );
    assert!(
        store
            .stream_ids("order-", Some("order-c"), 10)
            .unwrap()
            .is_empty()
    );
    assert!(store.stream_ids("shipment-", None, 10).unwrap().is_empty());
}
