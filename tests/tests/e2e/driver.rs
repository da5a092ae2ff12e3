//! The saga driver: a saga whose advance keeps failing (here, an unreadable
//! event in its stream) is held back with a growing delay instead of being
//! retried in a tight loop, and healthy sagas still advance meanwhile;
//! "retry now" makes a saga's next attempt happen without its back-off
//! passing, under the same key, within the retry policy's attempts, and
//! answers a finished saga as it stands; the running driver advances a
//! saga placed while it sleeps without waiting for its poll, tries a failed
//! advance again when its hold-back ends rather than at its poll, and stops
//! at once when told.

use order_host::simulation::fixtures::unreadable_order;

use order_host::bindings::fulfillment_saga::SagaPhase;
use order_host::bindings::types::CommandError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use order_host::{Clock as _, DriverReport, SagaDriver, StoreChoice};

use crate::util::*;

#[test]
fn a_saga_that_keeps_failing_is_held_back_and_others_still_advance() {
    let t = start();
    let broken = uuid("order:broken");
    t.host
        .store
        .append(&unreadable_order(&broken, START_MS))
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

#[test]
fn retry_now_makes_the_next_attempt_now_and_leaves_a_finished_saga_as_it_is() {
    let faults = "payment.process-payment=transient:1"
        .parse()
        .expect("faults");
    let t = start_with(StoreChoice::Memory, fast_policy(), faults);
    let cmd = order("stuck", "carol");
    t.place(&cmd).expect("placed");
    t.host.driver.run_due().expect("pass");
    let payments = |t: &TestHost| {
        t.calls()
            .into_iter()
            .filter(|c| c.starts_with("process-payment "))
            .collect::<Vec<_>>()
    };
    assert_eq!(payments(&t).len(), 1);
    let due = t.host.store.all_timers().expect("timers")[0].due_at;
    assert!(due > t.clock.now_ms(), "the saga waits out its back-off");

    let report = t
        .host
        .driver
        .retry_now(&cmd.order_id, "support:sam")
        .expect("retried");
    // The clock has not moved: the attempt was made because of the request.
    assert_eq!(t.clock.now_ms(), START_MS);
    let calls = payments(&t);
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0], calls[1], "the same idempotency key");
    assert_eq!(report.steps[0].attempts, 2);
    let history = t
        .host
        .service
        .order_history(&cmd.order_id)
        .expect("history");
    let request = history
        .iter()
        .find(|e| e.event_type == "saga-retry-requested")
        .expect("the request is recorded");
    assert!(
        request.payload.contains("support:sam"),
        "{}",
        request.payload
    );

    // The third attempt is the policy's last: the step fails and the order
    // is compensated, and no retry brings it back.
    t.host
        .driver
        .retry_now(&cmd.order_id, "support:sam")
        .expect("retried");
    assert_eq!(payments(&t).len(), 3);
    t.drive();
    let report = t.host.service.saga_status(&cmd.order_id).expect("status");
    assert_eq!(report.phase, SagaPhase::Finished);
    let calls = t.calls().len();
    let events = t.history_len(&cmd.order_id);
    let again = t
        .host
        .driver
        .retry_now(&cmd.order_id, "support:sam")
        .expect("answered");
    assert_eq!(again.phase, SagaPhase::Finished);
    assert_eq!(t.calls().len(), calls, "a finished saga makes no call");
    assert_eq!(t.history_len(&cmd.order_id), events, "nor any write");
    let unknown = command_error(t.host.driver.retry_now(&uuid("nowhere"), "support:sam"));
    assert!(matches!(unknown, CommandError::NotFound(_)), "{unknown:?}");
    assert!(
        t.host.driver.held_back().is_empty(),
        "a refusal is not held back"
    );
}

/// Runs `driver.run_with` on its own thread, with a poll far longer than
/// any test so that only a wake-up advances, while `body` runs with every
/// pass the driver reports; then stops it and answers how long the stop
/// took (the scope joins the driver: a sleep on its poll would show).
fn running(
    driver: &SagaDriver,
    body: impl FnOnce(&mpsc::Receiver<Result<DriverReport, String>>),
) -> Duration {
    let stop = AtomicBool::new(false);
    let (passes, passed) = mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            driver.run_with(&stop, Duration::from_secs(600), |pass| {
                let pass = match pass {
                    Ok(report) => Ok(report.clone()),
                    Err(error) => Err(error.to_string()),
                };
                let _ = passes.send(pass);
            });
        });
        body(&passed);
        let stopping = Instant::now();
        stop.store(true, Ordering::SeqCst);
        driver.wake();
        stopping
    })
    .elapsed()
}

#[test]
fn the_running_driver_is_woken_by_a_placement_not_by_its_poll() {
    let t = start();
    let cmd = order("woken", "dora");
    let stopped_in = running(&t.host.driver.clone().with_workers(2), |passed| {
        // The first claim, on start, finds nothing due.
        let first = passed
            .recv_timeout(Duration::from_secs(10))
            .expect("a first pass");
        assert_eq!(
            first,
            Ok(DriverReport::default()),
            "nothing was due on start"
        );

        t.place(&cmd).expect("placed");
        let deadline = Instant::now() + Duration::from_secs(20);
        while t.get_order(&cmd.order_id).status != order_host::bindings::types::OrderStatus::Shipped
        {
            assert!(Instant::now() < deadline, "the saga was not advanced");
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    assert!(
        stopped_in < Duration::from_secs(5),
        "the driver stopped once told: {stopped_in:?}"
    );
    assert!(
        t.host.store.all_timers().expect("timers").is_empty(),
        "the saga finished"
    );
}

#[test]
fn the_running_driver_tries_a_failed_advance_again_when_its_hold_back_ends_not_at_its_poll() {
    let t = start();
    let broken = uuid("order:held-back");
    t.host
        .store
        .append(&unreadable_order(&broken, START_MS))
        .expect("appended");
    let driver = t.host.driver.clone().with_workers(2);
    let stopped_in = running(&driver, |passes| {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut failed = 0;
        while failed < 2 {
            let left = deadline.saturating_duration_since(Instant::now());
            let pass = passes.recv_timeout(left).expect("a second try within 10 s");
            failed += pass.expect("claimed").failed;
        }
        let held = driver.held_back();
        assert_eq!(held.len(), 1, "{held:?}");
        assert_eq!(held[0].0, broken);
        assert!(held[0].1 >= 2, "{held:?}");
    });
    assert!(
        stopped_in < Duration::from_secs(5),
        "stopped in {stopped_in:?}"
    );
}
