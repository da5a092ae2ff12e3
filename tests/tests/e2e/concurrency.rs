//! Concurrency: many simultaneous advances and cancellations of the same
//! order produce one consistent history (every append carries its expected
//! version; a loser reads again) and no duplicate external effect (every call
//! carries its idempotency key).

use std::sync::Barrier;
use std::time::Duration;

use order_host::StoreChoice;
use order_host::bindings::orders::CancelOrderCommand;
use order_host::bindings::types::{CommandError, OrderStatus};

use crate::util::*;

fn event_types(t: &TestHost, order_id: &str) -> Vec<String> {
    let id = order_id.to_string();
    let history = t.host.service.order_history(&id).expect("history");
    for (i, e) in history.iter().enumerate() {
        assert_eq!(e.version, i as u64 + 1, "versions are gap-free");
    }
    history.into_iter().map(|e| e.event_type).collect()
}

fn count(types: &[String], name: &str) -> usize {
    types.iter().filter(|t| *t == name).count()
}

#[test]
fn concurrent_advances_of_one_saga_charge_allocate_and_ship_once() {
    let t = start();
    let cmd = order("racing", "alice");
    t.place(&cmd).expect("placed");
    let barrier = Barrier::new(8);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                barrier.wait();
                // Losing a race is fine; the winner's history is what counts.
                let _ = t.host.driver.advance(&cmd.order_id);
            });
        }
    });
    t.drive();
    let id = &cmd.order_id;
    assert_eq!(t.get_order(id).status, OrderStatus::Shipped);
    // Two advances never both act: each call was made once, by whoever
    // recorded its start first; the others waited for it.
    assert_eq!(t.calls().len(), 4, "{:#?}", t.calls());
    assert_eq!(t.host.sim.payment.charges_for_order(id), 1);
    assert_eq!(t.host.sim.carrier.shipments_for_order(id).len(), 1);
    assert_eq!(t.host.sim.customer.messages_for_order(id).len(), 1);
    assert_eq!(t.host.sim.inventory.held_by(id).values().sum::<u64>(), 3);
    let types = event_types(&t, id);
    for once in [
        "order-placed",
        "saga-started",
        "payment-confirmed",
        "inventory-allocated",
        "order-shipped",
        "saga-completed",
    ] {
        assert_eq!(count(&types, once), 1, "{once} in {types:?}");
    }
    assert_eq!(count(&types, "saga-step-completed"), 4);
}

#[test]
fn concurrent_advances_and_cancels_end_in_one_consistent_outcome() {
    // Slow backends widen the windows in which a cancel can land: before
    // payment, between steps, while the carrier books.
    let faults = "payment=latency:2ms;inventory=latency:2ms;carrier=latency:2ms"
        .parse()
        .expect("fault spec");
    let t = start_with(StoreChoice::Memory, fast_policy(), faults);
    for n in 0..12 {
        let cmd = order(&format!("contested-{n}"), "bob");
        let id = cmd.order_id.clone();
        t.place(&cmd).expect("placed");
        let barrier = Barrier::new(8);
        std::thread::scope(|s| {
            for worker in 0..8 {
                let barrier = &barrier;
                let t = &t;
                let id = id.clone();
                s.spawn(move || {
                    barrier.wait();
                    if worker % 4 == 0 {
                        std::thread::sleep(Duration::from_millis((n % 6) * 4));
                        let cancel = CancelOrderCommand {
                            order_id: id,
                            reason: "changed my mind".to_string(),
                            cancelled_by: format!("worker {worker}"),
                        };
                        let result = t.host.service.retrying(|svc| svc.cancel_order(&cancel));
                        if let Err(e) = result {
                            assert!(
                                matches!(
                                    e.command_error(),
                                    Some(CommandError::InvalidTransition(_))
                                ),
                                "a cancel only fails because the order moved on: {e}"
                            );
                        }
                    } else {
                        let _ = t.host.driver.advance(&id);
                    }
                });
            }
        });
        t.drive();

        let o = t.get_order(&id);
        let types = event_types(&t, &id);
        let charged = t.host.sim.payment.charges_for_order(&id);
        assert!(charged <= 1, "charged {charged} times");
        match o.status {
            OrderStatus::Shipped => {
                assert_eq!(count(&types, "order-cancelled"), 0);
                assert_eq!(charged, 1);
                assert_eq!(t.host.sim.inventory.held_by(&id).values().sum::<u64>(), 3);
            }
            OrderStatus::Cancelled => {
                assert_eq!(count(&types, "order-cancelled"), 1, "{types:?}");
                assert_eq!(count(&types, "order-shipped"), 0);
                assert_eq!(count(&types, "saga-compensated"), 1);
                // A charge may have landed after the cancellation (the
                // payment call was in flight): it is refunded all the same.
                assert_eq!(
                    o.refunded.amount,
                    6_000 * charged as u64,
                    "refunded in full"
                );
                assert!(
                    t.host.sim.inventory.held_by(&id).is_empty(),
                    "stock released"
                );
                for s in t.host.sim.carrier.shipments_for_order(&id) {
                    assert_eq!(format!("{:?}", s.state), "Cancelled", "booking undone");
                }
            }
            other => panic!("order {n} ended {other:?}"),
        }
    }
    assert_eq!(
        t.host.sim.payment.total_charged() - t.host.sim.payment.total_refunded(),
        6_000
            * t.host
                .sim
                .payment
                .charges()
                .len()
                .saturating_sub(t.host.sim.payment.refunds().len()) as u64,
        "money adds up"
    );
}
