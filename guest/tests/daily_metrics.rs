//! The daily metrics without a shared stream: two placements of different
//! orders on one day, interleaved, both commit at the first attempt and
//! write no stream in common; every fact is the only event of its own
//! stream, tagged with its day; a repeated fact is a conflict and counts
//! once; and the facts of a day's single `metrics-<day>` stream, as earlier
//! versions wrote them, still count, once each, beside the new ones.

mod common;

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;

use common::fakes::*;
use common::*;
use order_core::app::App;
use order_core::app::ports::*;
use order_core::app::store::metric_append;
use order_core::domain::metrics::MetricEvent;
use order_core::domain::order::PlaceOrder;
use order_core::domain::values::*;

/// The world's store, seen through a writer that lets another command
/// commit between this command's reads and its first append (the race two
/// concurrent placements run), and that records every append's streams and
/// every conflict the store answers.
struct Interleaving<'w> {
    world: &'w World,
    /// A placement to commit just before the next append goes through.
    cut_in: RefCell<Option<PlaceOrder>>,
    appended: RefCell<Vec<BTreeSet<String>>>,
    conflicts: Cell<usize>,
}

impl<'w> Interleaving<'w> {
    fn new(world: &'w World, cut_in: PlaceOrder) -> Self {
        Interleaving {
            world,
            cut_in: RefCell::new(Some(cut_in)),
            appended: RefCell::default(),
            conflicts: Cell::new(0),
        }
    }

    fn app(&self) -> App<'_> {
        self.world.app_over(self)
    }
}

impl EventStore for Interleaving<'_> {
    fn load(&self, stream_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
        self.world.store.load(stream_id)
    }

    fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
        self.world.store.stream_version(stream_id)
    }

    fn append(&self, batch: &AppendBatch) -> Result<(), StoreError> {
        let cut_in = self.cut_in.borrow_mut().take();
        if let Some(cmd) = cut_in {
            self.app()
                .place_order(cmd)
                .expect("the placement that cuts in commits");
        }
        self.appended
            .borrow_mut()
            .push(batch.streams.iter().map(|s| s.stream_id.clone()).collect());
        let result = self.world.store.append(batch);
        if matches!(result, Err(StoreError::Conflict { .. })) {
            self.conflicts.set(self.conflicts.get() + 1);
        }
        result
    }

    fn find_streams(&self, tag: &str) -> Result<Vec<String>, StoreError> {
        self.world.store.find_streams(tag)
    }
}

fn other_order() -> PlaceOrder {
    PlaceOrder {
        order_id: OTHER_ORDER_ID.to_string(),
        customer_id: OTHER_CUSTOMER_ID.to_string(),
        ..place_cmd()
    }
}

/// The facts of a day's single stream as earlier versions stored them.
fn legacy_fact(json: &str) -> NewEvent {
    let event_type = serde_json::from_str::<serde_json::Value>(json).unwrap()["type"]
        .as_str()
        .unwrap()
        .to_string();
    NewEvent {
        event_type,
        payload: json.to_string(),
    }
}

fn legacy_order(order_id: &str, amount: u64, currency: &str) -> NewEvent {
    legacy_fact(&format!(
        r#"{{"type":"order-counted","order_id":"{order_id}","total":{{"amount":{amount},"currency":"{currency}"}}}}"#
    ))
}

fn append_legacy(w: &World, day: &str, facts: Vec<NewEvent>) {
    let stream_id = format!("metrics-{day}");
    let expected_version = w.store.stream_version(&stream_id).unwrap();
    w.store
        .append(&AppendBatch {
            streams: vec![StreamAppend {
                stream_id,
                expected_version,
                tags: Vec::new(),
                events: facts,
                state: None,
            }],
            timers: Vec::new(),
        })
        .unwrap();
}

/// A fresh world whose day `T0` holds `facts` in its single stream.
fn world_with_legacy_day(facts: Vec<NewEvent>) -> (World, String) {
    let w = World::new();
    let today = utc_date(T0);
    append_legacy(&w, &today, facts);
    (w, today)
}

#[test]
fn two_placements_of_different_orders_on_one_day_commit_without_a_conflict() {
    let w = World::new();
    let store = Interleaving::new(&w, other_order());

    let first = store.app().place_order(place_cmd()).unwrap();

    assert_eq!(
        store.conflicts.get(),
        0,
        "no append of either placement met a conflict"
    );
    let appended = store.appended.borrow();
    assert_eq!(appended.len(), 2, "one append per placement, no retry");
    assert!(
        appended[0].is_disjoint(&appended[1]),
        "the two placements share no stream: {appended:?}"
    );
    let other = w.app().get_order(OTHER_ORDER_ID).unwrap();
    let day = w.app().daily_metrics(&utc_date(T0)).unwrap();
    assert_eq!(day.order_count(), 2);
    assert_eq!(
        day.by_currency["USD"].total_revenue,
        first.total.amount + other.total.amount
    );
}

#[test]
fn every_fact_is_the_only_event_of_its_own_stream_tagged_with_its_day() {
    let w = World::new();
    let app = w.app();
    let order = app.place_order(place_cmd()).unwrap();
    app.place_order(other_order()).unwrap();
    w.clock.advance(DAY);
    app.cancel_order(OTHER_ORDER_ID, "duplicate", "customer")
        .unwrap();

    let today = utc_date(T0);
    let tomorrow = utc_date(T0 + DAY);
    let metric_streams: Vec<(String, usize)> = w
        .store
        .versions()
        .into_iter()
        .filter(|(s, _)| s.starts_with("metrics-"))
        .collect();
    assert_eq!(
        metric_streams,
        vec![
            (format!("metrics-{today}-placed-{ORDER_ID}"), 1),
            (format!("metrics-{today}-placed-{OTHER_ORDER_ID}"), 1),
            (format!("metrics-{tomorrow}-cancelled-{OTHER_ORDER_ID}"), 1),
        ]
    );
    assert_eq!(
        w.store.find_streams(&format!("metrics-{today}")).unwrap(),
        vec![
            format!("metrics-{today}-placed-{ORDER_ID}"),
            format!("metrics-{today}-placed-{OTHER_ORDER_ID}"),
        ]
    );
    assert_eq!(
        w.store
            .event_types(&format!("metrics-{today}-placed-{ORDER_ID}")),
        vec!["order-counted"]
    );
    let next = app.daily_metrics(&tomorrow).unwrap();
    assert_eq!(next.order_count(), 0);
    assert_eq!(next.cancellation_count(), 1);
    assert_eq!(
        app.daily_metrics(&today).unwrap().by_currency["USD"].total_revenue,
        2 * order.total.amount
    );
}

#[test]
fn a_repeated_fact_is_a_conflict_and_counts_once() {
    let w = World::new();
    let order = w.app().place_order(place_cmd()).unwrap();
    let fact = MetricEvent::OrderCounted {
        order_id: ORDER_ID.to_string(),
        total: order.total.clone(),
    };
    let today = utc_date(T0);

    let again = w.store.append(&AppendBatch {
        streams: vec![metric_append(T0, &fact)],
        timers: Vec::new(),
    });
    assert_eq!(
        again,
        Err(StoreError::Conflict {
            stream_id: format!("metrics-{today}-placed-{ORDER_ID}"),
            expected: 0,
            actual: 1,
        })
    );

    // The same fact in the day's single stream too (as if an earlier
    // version had written it) is still one order.
    append_legacy(
        &w,
        &today,
        vec![NewEvent {
            event_type: "order-counted".to_string(),
            payload: serde_json::to_string(&fact).unwrap(),
        }],
    );
    let day = w.app().daily_metrics(&today).unwrap();
    assert_eq!(day.order_count(), 1);
    assert_eq!(day.by_currency["USD"].total_revenue, order.total.amount);
}

#[test]
fn facts_of_the_single_day_stream_of_earlier_versions_still_count_once_each() {
    let (w, today) = world_with_legacy_day(vec![
        legacy_order("o-1", 1000, "USD"),
        legacy_order("o-2", 1001, "USD"),
        legacy_order("o-3", 700, "EUR"),
        legacy_fact(r#"{"type":"cancellation-counted","order_id":"o-2","currency":"USD"}"#),
        legacy_fact(
            r#"{"type":"refund-counted","return_id":"r-1","amount":{"amount":250,"currency":"EUR"}}"#,
        ),
    ]);
    let placed = w.app().place_order(place_cmd()).unwrap();
    w.app()
        .cancel_order(ORDER_ID, "changed my mind", "customer")
        .unwrap();

    let day = w.app().daily_metrics(&today).unwrap();
    assert_eq!(day.date, today);
    assert_eq!(day.order_count(), 4);
    assert_eq!(day.cancellation_count(), 2);
    assert_eq!(day.refund_count(), 1);
    let usd = &day.by_currency["USD"];
    let revenue = 1000 + 1001 + placed.total.amount;
    assert_eq!(usd.order_count, 3);
    assert_eq!(usd.total_revenue, revenue);
    assert_eq!(usd.average_order_value(), (revenue + 1) / 3, "half up");
    assert_eq!(usd.cancellation_count, 2);
    assert_eq!(usd.refund_count, 0);
    let eur = &day.by_currency["EUR"];
    assert_eq!(
        (
            eur.order_count,
            eur.total_revenue,
            eur.average_order_value()
        ),
        (1, 700, 700)
    );
    assert_eq!((eur.refund_count, eur.refund_total), (1, 250));
}

#[test]
fn the_average_order_value_rounds_half_up() {
    let (w, today) = world_with_legacy_day(vec![
        legacy_order("o-1", 1000, "USD"),
        legacy_order("o-2", 1001, "USD"),
    ]);
    let day = w.app().daily_metrics(&today).unwrap();
    assert_eq!(day.by_currency["USD"].average_order_value(), 1001);
}
