//! A guest call that runs too long is interrupted and fails that request
//! only; the host keeps serving, and nothing half-done is lost or repeated.

use std::time::Duration;

use order_host::engine::RuntimeConfig;
use order_host::simulation::FaultPlan;
use order_host::{Host, HostOptions, ManualClock, StoreChoice};
use std::sync::Arc;

use crate::util::*;

#[test]
fn a_runaway_call_is_interrupted_and_the_host_keeps_serving() {
    // Payment answers after 400 ms; the host allows a guest call 100 ms.
    let faults: FaultPlan = "payment=latency:400ms".parse().expect("fault spec");
    let clock = Arc::new(ManualClock::new(START_MS));
    let host = Host::start(HostOptions {
        store: StoreChoice::Memory,
        faults,
        clock,
        runtime: RuntimeConfig {
            call_time_limit: Duration::from_millis(100),
            ..runtime_config()
        },
        ..HostOptions::in_memory()
    })
    .expect("host");
    let cmd = order("slow", "alice");
    host.service
        .call(|api, s| api.oms_order_management_orders().call_place_order(s, &cmd))
        .expect("placing does not call payment");

    let err = host
        .driver
        .advance(&cmd.order_id)
        .expect_err("the saga's payment call outlives the time limit");
    assert!(
        format!("{err}").contains("time limit"),
        "the error says why: {err}"
    );

    // The host still serves, the order is intact and the saga still scheduled.
    let o = host
        .service
        .call(|api, s| {
            api.oms_order_management_queries()
                .call_get_order(s, &cmd.order_id)
        })
        .expect("the host keeps serving");
    assert_eq!(o.order_id, cmd.order_id);
    assert_eq!(host.store.all_timers().expect("timers").len(), 1);
    assert_eq!(
        host.sim.payment.charges().len(),
        1,
        "the interrupted call charged once"
    );
}
