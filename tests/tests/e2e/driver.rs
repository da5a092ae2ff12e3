//! The saga driver: a saga whose advance keeps failing (here, an unreadable
//! event in its stream) is held back with a growing delay instead of being
//! retried in a tight loop, and healthy sagas still advance meanwhile.

use order_host::store::{AppendBatch, NewEvent, StreamAppend, TimerChange};

use crate::util::*;

#[test]
fn a_saga_that_keeps_failing_is_held_back_and_others_still_advance() {
    let t = start();
    let broken = uuid("order:broken");
    t.host
        .store
        .append(&AppendBatch {
            streams: vec![StreamAppend {
                stream_id: format!("order-{broken}"),
                expected_version: 0,
                tags: Vec::new(),
                events: vec![NewEvent {
                    event_type: "order-placed".to_string(),
                    payload: "not json".to_string(),
                }],
            }],
            timers: vec![TimerChange {
                saga_id: broken.clone(),
                due_at: Some(START_MS),
            }],
        })
        .expect("appended");

    let first = t.host.driver.run_due().expect("pass");
    assert_eq!((first.advanced, first.failed), (1, 1));
    // Right after a failure the broken saga is held back: no spinning.
    let second = t.host.driver.run_due().expect("pass");
    assert_eq!(second.advanced, 0, "{second:?}");

    // A healthy order placed meanwhile is not crowded out.
    let cmd = order("healthy", "bob");
    t.place(&cmd).expect("placed");
    let third = t.host.driver.run_due().expect("pass");
    assert_eq!((third.advanced, third.failed, third.finished), (1, 0, 1));
    assert_eq!(
        t.get_order(&cmd.order_id).status,
        order_host::bindings::types::OrderStatus::Shipped
    );
    // The broken saga stays scheduled: nothing is lost.
    let timers = t.host.store.all_timers().expect("timers");
    assert_eq!(timers.len(), 1);
    assert_eq!(timers[0].saga_id, broken);
}
