//! The behaviour every [`EventStore`] must show, run against each backend by
//! [`conformance_tests!`]: optimistic concurrency that writes all or nothing,
//! versions from 1, de-duplicated tags in first-tagged order, timers, and a
//! readiness probe that leaves the streams alone.

use std::sync::Arc;

use super::{
    AppendBatch, EventStore, IdempotencyRecord, IdempotencyWindow, NewEvent, OrderQuery, SagaState,
    SagaTimer, StateRecord, StoreError, StoreStats, StreamAppend, TimerChange, WebhookDelivery,
    WebhookEndpoint,
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
            the_feed_numbers_every_stored_event_in_commit_order,
            concurrent_appenders_never_show_a_position_out_of_order,
            webhook_endpoints_are_kept_advanced_and_logged,
            the_order_read_model_follows_every_append_of_an_order,
            a_failed_append_leaves_the_order_read_model_alone,
            order_listings_filter_and_page_newest_first_without_gaps,
            a_malformed_order_query_is_invalid,
            a_stream_without_a_state_record_loads_every_event_as_its_tail,
            a_state_record_is_kept_at_its_append_and_the_tail_follows_it,
            a_conflicting_append_writes_no_state_record,
            an_append_of_only_a_state_record_keeps_it_at_the_stream_version,
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
        state: None,
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

/// A batch that creates `stream` with one `order-placed` event (an empty
/// body), tagged with `tags`, and sets its saga's timer to `due_at`.
pub(crate) fn new_stream_with_timer(stream: &str, tags: &[&str], due_at: u64) -> AppendBatch {
    batch(
        vec![StreamAppend {
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            events: vec![NewEvent {
                event_type: "order-placed".to_owned(),
                payload: "{}".to_owned(),
            }],
            ..append(stream, 0, &[])
        }],
        vec![timer(stream, Some(due_at))],
    )
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

pub(crate) fn the_feed_numbers_every_stored_event_in_commit_order(
    store: &dyn EventStore,
    clock: &Arc<ManualClock>,
) {
    assert_eq!(store.feed_head().unwrap(), 0);
    assert!(store.read_feed(0, 10).unwrap().is_empty());
    store
        .append(&batch(
            vec![append("order-a", 0, &["order-placed", "payment-confirmed"])],
            vec![],
        ))
        .unwrap();
    clock.advance(std::time::Duration::from_millis(5));
    store
        .append(&batch(
            vec![append("return-r", 0, &["return-requested"])],
            vec![],
        ))
        .unwrap();
    // A conflicting batch and a tag-only append take no position.
    assert!(
        store
            .append(&batch(
                vec![append("order-a", 0, &["order-placed"])],
                vec![]
            ))
            .is_err()
    );
    store
        .append(&batch(
            vec![append("order-a", 2, &[])],
            vec![timer("order-a", Some(9))],
        ))
        .unwrap();
    store
        .append(&batch(
            vec![append("order-a", 2, &["order-shipped"])],
            vec![],
        ))
        .unwrap();

    let feed = store.read_feed(0, 100).unwrap();
    let seen: Vec<(u64, &str, u64, &str)> = feed
        .iter()
        .map(|f| {
            (
                f.position,
                f.event.stream_id.as_str(),
                f.event.version,
                f.event.event_type.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (1, "order-a", 1, "order-placed"),
            (2, "order-a", 2, "payment-confirmed"),
            (3, "return-r", 1, "return-requested"),
            (4, "order-a", 3, "order-shipped"),
        ]
    );
    assert_eq!(feed[0].event.payload, r#"{"type":"order-placed"}"#);
    assert_eq!(feed[0].event.recorded_at, 1_000);
    assert_eq!(feed[2].event.recorded_at, 1_005);
    assert_eq!(store.feed_head().unwrap(), 4);
    // Pages continue after the last position read.
    let page: Vec<u64> = store
        .read_feed(1, 2)
        .unwrap()
        .iter()
        .map(|f| f.position)
        .collect();
    assert_eq!(page, [2, 3]);
    assert!(store.read_feed(4, 10).unwrap().is_empty());
    assert!(store.read_feed(u64::MAX, 10).unwrap().is_empty());
}

pub(crate) fn concurrent_appenders_never_show_a_position_out_of_order(
    store: &dyn EventStore,
    _: &Arc<ManualClock>,
) {
    const WRITERS: usize = 4;
    const EVENTS: u64 = 25;
    let done = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for writer in 0..WRITERS {
            let done = &done;
            scope.spawn(move || {
                let stream = format!("order-{writer}");
                for version in 0..EVENTS {
                    store
                        .append(&batch(
                            vec![append(&stream, version, &["order-placed"])],
                            vec![],
                        ))
                        .unwrap();
                }
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            });
        }
        // A reader polling while they write: every read is the previous
        // one plus new events above it, without holes to be filled later.
        let mut previous: Vec<(u64, String, u64)> = Vec::new();
        let mut polls = 0;
        loop {
            let finished = done.load(std::sync::atomic::Ordering::SeqCst) == WRITERS;
            let now: Vec<(u64, String, u64)> = store
                .read_feed(0, 10_000)
                .unwrap()
                .into_iter()
                .map(|f| (f.position, f.event.stream_id, f.event.version))
                .collect();
            let positions: Vec<u64> = now.iter().map(|e| e.0).collect();
            let expected: Vec<u64> = (1..=now.len() as u64).collect();
            assert_eq!(positions, expected, "no gap and no reordering");
            assert_eq!(
                &now[..previous.len()],
                &previous[..],
                "an event appeared below a position already read"
            );
            previous = now;
            polls += 1;
            if finished || polls > 100_000 {
                break;
            }
        }
    });
    assert_eq!(previous_len(store), WRITERS * EVENTS as usize);
    // Each stream's events are in version order along the feed.
    let feed = store.read_feed(0, 10_000).unwrap();
    for writer in 0..WRITERS {
        let stream = format!("order-{writer}");
        let versions: Vec<u64> = feed
            .iter()
            .filter(|f| f.event.stream_id == stream)
            .map(|f| f.event.version)
            .collect();
        assert_eq!(versions, (1..=EVENTS).collect::<Vec<_>>());
    }
}

fn previous_len(store: &dyn EventStore) -> usize {
    store.read_feed(0, 10_000).unwrap().len()
}

fn endpoint(id: &str, created_at: u64) -> WebhookEndpoint {
    WebhookEndpoint {
        id: id.to_owned(),
        url: format!("http://127.0.0.1:9/{id}"),
        event_types: vec!["order.placed".to_owned(), "order.paid".to_owned()],
        secret: format!("whsec_{id}"),
        created_at,
        position: 3,
    }
}

fn attempt(endpoint_id: &str, position: u64, attempt: u32, status: Option<u16>) -> WebhookDelivery {
    WebhookDelivery {
        seq: 0,
        endpoint_id: endpoint_id.to_owned(),
        event_id: format!("evt_{position}"),
        position,
        attempt,
        status,
        error: status.is_none().then(|| "connection refused".to_owned()),
        attempted_at: 2_000 + u64::from(attempt),
    }
}

pub(crate) fn webhook_endpoints_are_kept_advanced_and_logged(
    store: &dyn EventStore,
    _: &Arc<ManualClock>,
) {
    assert!(store.webhook_endpoints().unwrap().is_empty());
    store
        .create_webhook_endpoint(&endpoint("we_b", 10))
        .unwrap();
    store
        .create_webhook_endpoint(&endpoint("we_a", 20))
        .unwrap();
    let mut all_types = endpoint("we_c", 20);
    all_types.event_types.clear();
    store.create_webhook_endpoint(&all_types).unwrap();
    assert!(matches!(
        store.create_webhook_endpoint(&endpoint("we_a", 30)),
        Err(StoreError::Invalid(m)) if m.contains("we_a")
    ));
    let mut no_secret = endpoint("we_d", 1);
    no_secret.secret.clear();
    assert!(matches!(
        store.create_webhook_endpoint(&no_secret),
        Err(StoreError::Invalid(m)) if m.contains("secret")
    ));
    let ids: Vec<String> = store
        .webhook_endpoints()
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, ["we_b", "we_a", "we_c"], "oldest first, ties by id");
    assert_eq!(
        store.webhook_endpoint("we_a").unwrap(),
        Some(endpoint("we_a", 20))
    );
    assert_eq!(store.webhook_endpoint("we_c").unwrap(), Some(all_types));
    assert_eq!(store.webhook_endpoint("we_x").unwrap(), None);

    // The saved position only moves forward.
    assert!(store.advance_webhook_endpoint("we_a", 7).unwrap());
    assert!(store.advance_webhook_endpoint("we_a", 5).unwrap());
    assert_eq!(store.webhook_endpoint("we_a").unwrap().unwrap().position, 7);
    assert!(!store.advance_webhook_endpoint("we_x", 7).unwrap());

    let first = store
        .record_webhook_delivery(&attempt("we_a", 4, 1, Some(500)))
        .unwrap();
    let second = store
        .record_webhook_delivery(&attempt("we_a", 4, 2, None))
        .unwrap();
    store
        .record_webhook_delivery(&attempt("we_b", 4, 1, Some(200)))
        .unwrap();
    let third = store
        .record_webhook_delivery(&attempt("we_a", 4, 3, Some(204)))
        .unwrap();
    assert!(first < second && second < third);
    let log = store.webhook_deliveries("we_a", 0, 10).unwrap();
    let seen: Vec<(u64, u32, Option<u16>, bool)> = log
        .iter()
        .map(|d| (d.seq, d.attempt, d.status, d.error.is_some()))
        .collect();
    assert_eq!(
        seen,
        [
            (first, 1, Some(500), false),
            (second, 2, None, true),
            (third, 3, Some(204), false)
        ]
    );
    assert_eq!(log[1].event_id, "evt_4");
    assert_eq!(log[1].attempted_at, 2_002);
    assert!(log[2].succeeded() && !log[0].succeeded());
    let page = store.webhook_deliveries("we_a", first, 1).unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].seq, second);

    assert!(store.delete_webhook_endpoint("we_a").unwrap());
    assert!(!store.delete_webhook_endpoint("we_a").unwrap());
    assert_eq!(store.webhook_endpoint("we_a").unwrap(), None);
    assert!(store.webhook_deliveries("we_a", 0, 10).unwrap().is_empty());
    assert_eq!(store.webhook_deliveries("we_b", 0, 10).unwrap().len(), 1);
    // The others are left alone.
    assert_eq!(store.webhook_endpoints().unwrap().len(), 2);
}

/// An event of an order stream: `body` goes after its `type` field.
pub(crate) fn order_event(event_type: &str, body: &str) -> NewEvent {
    NewEvent {
        event_type: event_type.to_owned(),
        payload: format!(r#"{{"type":"{event_type}"{body}}}"#),
    }
}

/// `order-placed` of `order` for `customer`, `total` in euro cents.
pub(crate) fn placed_event(order: &str, customer: &str, placed_at: u64, total: u64) -> NewEvent {
    order_event(
        "order-placed",
        &format!(
            r#","order_id":"{order}","customer_id":"{customer}","placed_at":{placed_at},"total":{{"amount":{total},"currency":"EUR"}}"#
        ),
    )
}

/// A batch that appends `events` to the stream of `order`.
pub(crate) fn order_append(order: &str, expected: u64, events: Vec<NewEvent>) -> AppendBatch {
    batch(
        vec![StreamAppend {
            stream_id: format!("order-{order}"),
            expected_version: expected,
            tags: Vec::new(),
            events,
            state: None,
        }],
        vec![],
    )
}

pub(crate) fn the_order_read_model_follows_every_append_of_an_order(
    store: &dyn EventStore,
    clock: &Arc<ManualClock>,
) {
    assert_eq!(store.order_summary("o-1").unwrap(), None);
    store
        .append(&order_append(
            "o-1",
            0,
            vec![
                placed_event("o-1", "c-1", 900, 4_250),
                order_event("saga-started", ""),
            ],
        ))
        .unwrap();
    let placed = store.order_summary("o-1").unwrap().expect("a summary");
    assert_eq!(
        (placed.status.as_str(), placed.saga, placed.version),
        ("pending", Some(SagaState::Running), 2)
    );
    assert_eq!((placed.customer_id.as_str(), placed.total), ("c-1", 4_250));
    assert_eq!(
        (placed.currency.as_str(), placed.placed_at),
        ("EUR", Some(900))
    );
    assert_eq!(placed.updated_at, 1_000);

    clock.advance(std::time::Duration::from_millis(500));
    store
        .append(&order_append(
            "o-1",
            2,
            vec![
                order_event("payment-confirmed", ""),
                order_event("order-shipped", ""),
                order_event("saga-completed", ""),
            ],
        ))
        .unwrap();
    let shipped = store.order_summary("o-1").unwrap().expect("a summary");
    assert_eq!(
        (shipped.status.as_str(), shipped.saga, shipped.version),
        ("shipped", Some(SagaState::Completed), 5)
    );
    assert_eq!((shipped.updated_at, shipped.placed_at), (1_500, Some(900)));
    // Other streams never make a summary.
    store
        .append(&batch(
            vec![append("shipment-1", 0, &["shipment-created"])],
            vec![],
        ))
        .unwrap();
    assert_eq!(store.order_summary("1").unwrap(), None);
    let listed = store
        .list_orders(&OrderQuery {
            limit: 10,
            ..OrderQuery::default()
        })
        .unwrap();
    assert_eq!(listed, vec![shipped]);
}

pub(crate) fn a_failed_append_leaves_the_order_read_model_alone(
    store: &dyn EventStore,
    _: &Arc<ManualClock>,
) {
    store
        .append(&order_append(
            "o-1",
            0,
            vec![placed_event("o-1", "c-1", 5, 1)],
        ))
        .unwrap();
    let before = store.order_summary("o-1").unwrap();
    let mut conflicting = order_append("o-2", 0, vec![placed_event("o-2", "c-1", 6, 1)]);
    conflicting.streams.push(StreamAppend {
        stream_id: "order-o-1".to_owned(),
        expected_version: 0,
        tags: Vec::new(),
        events: vec![order_event("order-cancelled", "")],
        state: None,
    });
    assert!(matches!(
        store.append(&conflicting),
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(store.order_summary("o-2").unwrap(), None);
    assert_eq!(store.order_summary("o-1").unwrap(), before);
    let all = store
        .list_orders(&OrderQuery {
            limit: 10,
            ..OrderQuery::default()
        })
        .unwrap();
    assert_eq!(all.len(), 1);
}

pub(crate) fn order_listings_filter_and_page_newest_first_without_gaps(
    store: &dyn EventStore,
    clock: &Arc<ManualClock>,
) {
    // 30 orders of two customers; placement times repeat so that ties are
    // broken by the order id; every third is shipped, every fifth cancelled.
    for n in 0..30u64 {
        let order = format!("o-{n:02}");
        let customer = if n % 2 == 0 { "c-even" } else { "c-odd" };
        let mut events = vec![placed_event(&order, customer, 100 + n / 3, n)];
        if n % 3 == 0 {
            events.push(order_event("payment-confirmed", ""));
            events.push(order_event("order-shipped", ""));
        } else if n % 5 == 0 {
            events.push(order_event("order-cancelled", ""));
            events.push(order_event("saga-compensated", ""));
        }
        clock.advance(std::time::Duration::from_millis(10));
        store.append(&order_append(&order, 0, events)).unwrap();
    }
    let everything = store
        .list_orders(&OrderQuery {
            limit: 100,
            ..OrderQuery::default()
        })
        .unwrap();
    assert_eq!(everything.len(), 30);
    let keys: Vec<(u64, String)> = everything
        .iter()
        .map(|s| (s.listed_at(), s.order_id.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(keys, sorted, "newest first, ties by order id descending");

    // Pages of 7 by cursor: every order once, in the same order.
    let mut paged = Vec::new();
    let mut query = OrderQuery {
        limit: 7,
        ..OrderQuery::default()
    };
    for _ in 0..10 {
        let page = store.list_orders(&query).unwrap();
        assert!(page.len() <= 7);
        let Some(last) = page.last() else { break };
        query.after = Some(last.cursor());
        paged.extend(page);
    }
    assert_eq!(paged, everything);

    let ids = |query: OrderQuery| -> Vec<String> {
        store
            .list_orders(&OrderQuery {
                limit: 100,
                ..query
            })
            .unwrap()
            .into_iter()
            .map(|s| s.order_id)
            .collect()
    };
    let expect = |keep: &dyn Fn(u64) -> bool| -> Vec<String> {
        (0..30u64)
            .rev()
            .filter(|n| keep(*n))
            .map(|n| format!("o-{n:02}"))
            .collect()
    };
    assert_eq!(
        ids(OrderQuery {
            customer_id: Some("c-odd".into()),
            ..OrderQuery::default()
        }),
        expect(&|n| n % 2 == 1)
    );
    assert_eq!(
        ids(OrderQuery {
            statuses: vec!["shipped".into()],
            ..OrderQuery::default()
        }),
        expect(&|n| n % 3 == 0)
    );
    assert_eq!(
        ids(OrderQuery {
            customer_id: Some("c-even".into()),
            statuses: vec!["cancelled".into(), "pending".into()],
            ..OrderQuery::default()
        }),
        expect(&|n| n % 2 == 0 && n % 3 != 0)
    );
    assert_eq!(
        ids(OrderQuery {
            sagas: vec![SagaState::Compensated],
            ..OrderQuery::default()
        }),
        expect(&|n| n % 3 != 0 && n % 5 == 0)
    );
    assert_eq!(
        ids(OrderQuery {
            placed_from: Some(102),
            placed_to: Some(104),
            ..OrderQuery::default()
        }),
        expect(&|n| (6..12).contains(&n))
    );
    // Order n was recorded at 1_000 + 10 (n + 1).
    assert_eq!(
        ids(OrderQuery {
            updated_since: Some(1_000 + 10 * 26),
            ..OrderQuery::default()
        }),
        expect(&|n| n >= 25)
    );
}

pub(crate) fn a_malformed_order_query_is_invalid(store: &dyn EventStore, _: &Arc<ManualClock>) {
    let error = store
        .list_orders(&OrderQuery {
            statuses: vec!["lost".into()],
            limit: 1,
            ..OrderQuery::default()
        })
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::Invalid(m) if m.contains("`lost`")),
        "{error}"
    );
    let error = store
        .list_orders(&OrderQuery {
            updated_since: Some(u64::MAX),
            limit: 1,
            ..OrderQuery::default()
        })
        .unwrap_err();
    assert!(matches!(error, StoreError::Invalid(_)));
}

/// `append` carrying a state record.
fn append_with_state(stream: &str, expected: u64, events: &[&str], state: &str) -> StreamAppend {
    StreamAppend {
        state: Some(state.to_owned()),
        ..append(stream, expected, events)
    }
}

fn tail_versions(store: &dyn EventStore, stream: &str) -> (Option<StateRecord>, Vec<u64>) {
    let tail = store.load_tail(stream).unwrap();
    (tail.state, tail.events.iter().map(|e| e.version).collect())
}

pub(crate) fn a_stream_without_a_state_record_loads_every_event_as_its_tail(
    store: &dyn EventStore,
    _: &Arc<ManualClock>,
) {
    assert_eq!(tail_versions(store, "shipment-1"), (None, vec![]));
    store
        .append(&batch(vec![append("shipment-1", 0, &["a", "b"])], vec![]))
        .unwrap();
    let tail = store.load_tail("shipment-1").unwrap();
    assert_eq!(tail.state, None);
    assert_eq!(tail.events, store.load("shipment-1").unwrap());
    assert!(matches!(
        store.load_tail(""),
        Err(StoreError::Invalid(m)) if m.contains("stream-id")
    ));
}

pub(crate) fn a_state_record_is_kept_at_its_append_and_the_tail_follows_it(
    store: &dyn EventStore,
    _: &Arc<ManualClock>,
) {
    let record = |version: u64, state: &str| {
        Some(StateRecord {
            version,
            state: state.to_owned(),
        })
    };
    // Stored as given, unicode and quotes included, at the version after
    // the append's events.
    let first = r#"{"shape":1,"note":"größe \"α\""}"#;
    store
        .append(&batch(
            vec![append_with_state("shipment-1", 0, &["a", "b", "c"], first)],
            vec![],
        ))
        .unwrap();
    assert_eq!(
        tail_versions(store, "shipment-1"),
        (record(3, first), vec![])
    );
    // An append without a record leaves it; the tail is what came after.
    store
        .append(&batch(vec![append("shipment-1", 3, &["d", "e"])], vec![]))
        .unwrap();
    assert_eq!(
        tail_versions(store, "shipment-1"),
        (record(3, first), vec![4, 5])
    );
    let tail = store.load_tail("shipment-1").unwrap();
    assert_eq!(tail.events, store.load("shipment-1").unwrap()[3..].to_vec());
    // The next record replaces it; other streams keep their own.
    store
        .append(&batch(
            vec![
                append_with_state("shipment-1", 5, &["f"], "second"),
                append_with_state("shipment-2", 0, &["a"], "other"),
            ],
            vec![],
        ))
        .unwrap();
    assert_eq!(
        tail_versions(store, "shipment-1"),
        (record(6, "second"), vec![])
    );
    assert_eq!(
        tail_versions(store, "shipment-2"),
        (record(1, "other"), vec![])
    );
    assert_eq!(
        versions(store, "shipment-1"),
        [1, 2, 3, 4, 5, 6],
        "events stay"
    );
}

pub(crate) fn a_conflicting_append_writes_no_state_record(
    store: &dyn EventStore,
    _: &Arc<ManualClock>,
) {
    store
        .append(&batch(
            vec![append_with_state("shipment-1", 0, &["a"], "kept")],
            vec![],
        ))
        .unwrap();
    store
        .append(&batch(vec![append("order-1", 0, &["a"])], vec![]))
        .unwrap();
    // The record's stream is right, another stream of the batch is not.
    let error = store
        .append(&batch(
            vec![
                append_with_state("shipment-1", 1, &["b"], "lost"),
                append("order-1", 0, &["b"]),
            ],
            vec![],
        ))
        .unwrap_err();
    assert!(matches!(error, StoreError::Conflict { .. }), "{error:?}");
    let kept = Some(StateRecord {
        version: 1,
        state: "kept".to_owned(),
    });
    assert_eq!(tail_versions(store, "shipment-1"), (kept, vec![]));
}

pub(crate) fn an_append_of_only_a_state_record_keeps_it_at_the_stream_version(
    store: &dyn EventStore,
    _: &Arc<ManualClock>,
) {
    store
        .append(&batch(vec![append("shipment-1", 0, &["a", "b"])], vec![]))
        .unwrap();
    // No events: the record is valid at the version the stream has.
    store
        .append(&batch(
            vec![append_with_state("shipment-1", 2, &[], "folded")],
            vec![],
        ))
        .unwrap();
    let folded = Some(StateRecord {
        version: 2,
        state: "folded".to_owned(),
    });
    assert_eq!(tail_versions(store, "shipment-1"), (folded.clone(), vec![]));
    assert_eq!(versions(store, "shipment-1"), [1, 2], "no event is added");
    assert_eq!(store.stream_version("shipment-1").unwrap(), 2);
    // At a version the stream has left behind it is a conflict, and the
    // record stays.
    let error = store
        .append(&batch(
            vec![append_with_state("shipment-1", 1, &[], "stale")],
            vec![],
        ))
        .unwrap_err();
    assert_eq!(
        error,
        StoreError::Conflict {
            stream_id: "shipment-1".to_owned(),
            expected: 1,
            actual: 2,
        }
    );
    assert_eq!(tail_versions(store, "shipment-1"), (folded, vec![]));
}
