//! The guest runs under a time limit that counts its own computation only: a
//! guest call that computes for too long is interrupted and fails that
//! request alone, the host keeps serving and nothing is lost; a call that
//! merely waits for a slow backend is not cut short.

use std::time::Duration;

use order_host::engine::RuntimeConfig;
use order_host::simulation::FaultPlan;
use order_host::store::{AppendBatch, NewEvent, StreamAppend};
use order_host::{Host, HostOptions, ManualClock, StoreChoice};
use std::sync::Arc;

use crate::util::*;

fn host_with(limit: Duration, faults: FaultPlan) -> Host {
    Host::start(HostOptions {
        store: StoreChoice::Memory,
        faults,
        clock: Arc::new(ManualClock::new(START_MS)),
        runtime: RuntimeConfig {
            call_time_limit: limit,
            memory_limit: 512 << 20,
            ..runtime_config()
        },
        ..HostOptions::in_memory()
    })
    .expect("host")
}

#[test]
fn a_guest_call_that_computes_too_long_is_interrupted_and_the_host_keeps_serving() {
    let host = host_with(Duration::from_millis(5), FaultPlan::default());
    let cmd = order("huge", "alice");
    let placed = host.service.place_order(&cmd).expect("placed");
    // A pathological stream: folding 300,000 events is far more guest work
    // than 5 ms allows.
    let note = NewEvent {
        event_type: "note-recorded".to_string(),
        payload: r#"{"type":"note-recorded","note":"n","recorded_at":0}"#.to_string(),
    };
    host.store
        .append(&AppendBatch {
            streams: vec![StreamAppend {
                stream_id: format!("order-{}", cmd.order_id),
                expected_version: placed.version,
                tags: Vec::new(),
                events: vec![note; 300_000],
                state: None,
            }],
            timers: Vec::new(),
        })
        .expect("appended");

    let err = host
        .service
        .get_order(&cmd.order_id)
        .expect_err("the fold outlives the time limit");
    assert!(
        format!("{err}").contains("time limit"),
        "the error says why: {err}"
    );

    // The host still serves other requests, and the order is untouched.
    let other = order("small", "bob");
    host.service
        .place_order(&other)
        .expect("the host keeps serving");
    assert_eq!(
        host.store
            .load(&format!("order-{}", cmd.order_id))
            .expect("load")
            .len(),
        300_001
    );
}

#[test]
fn waiting_for_a_slow_backend_does_not_count_against_the_time_limit() {
    // Payment answers after 300 ms; the guest may compute for 100 ms.
    let faults: FaultPlan = "payment=latency:300ms".parse().expect("fault spec");
    let host = host_with(Duration::from_millis(100), faults);
    let cmd = order("slow", "alice");
    host.service.place_order(&cmd).expect("placed");
    let report = host
        .driver
        .advance(&cmd.order_id)
        .expect("the slow call completes");
    assert!(report.output.success, "{report:?}");
    assert_eq!(host.sim.payment.charges().len(), 1);
}
