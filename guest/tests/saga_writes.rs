//! How a saga's progress reaches the store: the outcome of one call and
//! the start of the next (its attempt and lease) are one append, so that a
//! durable store commits once per call instead of twice; the first call's
//! start goes with the saga's own start, the last outcome with its end.
//! Every call's start is still durable before the call is made, and a call
//! that waits out a back-off is started in a write of its own when it is due.

mod common;

use common::fakes::*;
use common::*;
use std::cell::Cell;

use order_core::app::ports::*;
use order_core::domain::order::OrderEvent;

/// The world's store, which also writes each batch it accepts into the
/// world's call log (op `append`, the batch's event types as the detail),
/// so that appends and external calls can be read in the order they happened.
/// With `race_before` set to `n`, another writer records a retry request
/// on the order just before the store's `n`-th append (counted from 1) of
/// this app, which then conflicts.
struct Witnessed<'a> {
    world: &'a World,
    appends: Cell<usize>,
    race_before: Option<usize>,
}

impl<'a> Witnessed<'a> {
    fn new(world: &'a World) -> Self {
        Witnessed {
            world,
            appends: Cell::new(0),
            race_before: None,
        }
    }
}

impl EventStore for Witnessed<'_> {
    fn load(&self, stream_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
        self.world.store.load(stream_id)
    }

    fn load_tail(&self, stream_id: &str) -> Result<StreamTail, StoreError> {
        self.world.store.load_tail(stream_id)
    }

    fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
        self.world.store.stream_version(stream_id)
    }

    fn find_streams(&self, tag: &str) -> Result<Vec<String>, StoreError> {
        self.world.store.find_streams(tag)
    }

    fn append(&self, batch: &AppendBatch) -> Result<(), StoreError> {
        self.appends.set(self.appends.get() + 1);
        if self.race_before == Some(self.appends.get()) {
            self.world.append_raw(&[OrderEvent::SagaRetryRequested {
                requested_by: "another writer".into(),
                requested_at: self.world.clock.now(),
            }]);
        }
        self.world.store.append(batch)?;
        let types: Vec<&str> = batch
            .streams
            .iter()
            .flat_map(|s| s.events.iter().map(|e| e.event_type.as_str()))
            .collect();
        self.world.log.borrow_mut().push(Call {
            op: "append",
            key: String::new(),
            detail: types.join(" "),
        });
        Ok(())
    }
}

/// The appends and calls since the log had `from` entries, as
/// `append: <types>` and `<op>` lines.
fn timeline(w: &World, from: usize) -> Vec<String> {
    w.calls()
        .split_off(from)
        .into_iter()
        .map(|c| match c.op {
            "append" => format!("append: {}", c.detail),
            op => op.to_string(),
        })
        .collect()
}

#[test]
fn a_saga_that_goes_through_commits_once_per_call() {
    let w = World::new();
    w.placed();
    let store = Witnessed::new(&w);
    let from = w.calls().len();
    w.app_over(&store).advance_saga(ORDER_ID).unwrap();
    assert_eq!(
        timeline(&w, from),
        [
            "append: saga-started saga-step-started",
            "process-payment",
            "append: saga-step-completed payment-confirmed saga-step-started",
            "allocate-stock",
            "append: saga-step-completed inventory-allocated saga-step-started",
            "create-shipment",
            "append: shipment-created saga-step-completed order-shipped saga-step-started",
            "send-order-confirmation",
            "append: saga-step-completed saga-completed",
        ]
    );
    assert_every_call_follows_its_start(&timeline(&w, from));
    assert_eq!(w.store.timer(ORDER_ID), None);
}

/// Every external call in `timeline` comes right after an append whose
/// last event of the order is a call's start.
fn assert_every_call_follows_its_start(timeline: &[String]) {
    for (i, entry) in timeline.iter().enumerate() {
        if entry.starts_with("append: ") {
            continue;
        }
        let before = i.checked_sub(1).map(|j| timeline[j].as_str());
        assert!(
            before.is_some_and(|b| b.starts_with("append: ") && b.contains("-started")),
            "{entry} is not right after the append that starts it: {timeline:#?}"
        );
    }
}

#[test]
fn a_step_that_waits_out_a_back_off_is_started_in_a_write_of_its_own() {
    let w = World::new();
    w.placed();
    w.transient("allocate-stock", "busy");
    let store = Witnessed::new(&w);
    let from = w.calls().len();
    w.app_over(&store).advance_saga(ORDER_ID).unwrap();
    let first = timeline(&w, from);
    assert_eq!(
        first,
        [
            "append: saga-started saga-step-started",
            "process-payment",
            "append: saga-step-completed payment-confirmed saga-step-started",
            "allocate-stock",
            "append: saga-step-retry-scheduled",
        ]
    );
    assert_every_call_follows_its_start(&first);
    assert!(w.store.timer(ORDER_ID).is_some_and(|t| t > w.clock.now()));

    w.clock.advance(10 * MINUTE);
    let from = w.calls().len();
    w.app_over(&store).advance_saga(ORDER_ID).unwrap();
    let second = timeline(&w, from);
    assert_eq!(second[..2], ["append: saga-step-started", "allocate-stock"]);
    assert_eq!(
        second.last().unwrap(),
        "append: saga-step-completed saga-completed"
    );
    assert_every_call_follows_its_start(&second);
}

#[test]
fn a_failed_step_starts_its_compensation_in_the_append_that_records_the_failure() {
    let w = World::new();
    w.placed();
    w.permanent("allocate-stock", "discontinued");
    let store = Witnessed::new(&w);
    let from = w.calls().len();
    let order = w.app_over(&store).advance_saga(ORDER_ID).unwrap();
    let seen = timeline(&w, from);
    assert_eq!(
        seen[4],
        "append: saga-step-failed order-cancelled compensation-started cancellation-counted"
    );
    assert_eq!(seen[5], "refund-payment");
    assert_eq!(
        seen.last().unwrap(),
        "append: compensation-completed saga-compensated"
    );
    assert_every_call_follows_its_start(&seen);
    assert_eq!(
        order.status,
        order_core::domain::order::OrderStatus::Cancelled
    );
}

#[test]
fn an_outcome_that_loses_its_race_writes_no_next_start_and_the_call_is_repeated_under_its_key() {
    let w = World::new();
    w.placed();
    // The payment's outcome, with the allocation's start, is the second
    // append: another writer comes first.
    let store = Witnessed {
        race_before: Some(2),
        ..Witnessed::new(&w)
    };
    let from = w.calls().len();
    let order = w.app_over(&store).advance_saga(ORDER_ID).unwrap();
    let seen = timeline(&w, from);
    assert_eq!(
        seen[..5],
        [
            "append: saga-started saga-step-started",
            "process-payment",
            // The lost write held the allocation's start: nothing of it is
            // in the store, so the charge's answer is fetched again first.
            "append: saga-step-started",
            "process-payment",
            "append: saga-step-completed payment-confirmed saga-step-started",
        ]
    );
    assert_eq!(seen[5], "allocate-stock");
    assert_every_call_follows_its_start(&seen);
    let charges = w.keys_of("process-payment");
    assert_eq!(charges.len(), 2);
    assert_eq!(charges[0], charges[1], "a repeat uses the first key");
    assert_eq!(w.charges(), 1);
    assert_eq!(w.keys_of("allocate-stock").len(), 1);
    assert!(order.saga.finished.is_some());
}
