//! The fault matrix of the fulfilment saga: a failure at each of its four
//! steps x {permanent, transient then success, transient until the attempts
//! run out, answer lost (the call took effect) then learnt by asking again}. Each case asserts the exact external calls made, in order, with
//! their idempotency keys and outcomes (which shows the compensation order),
//! and the final state of the order, its shipment, the money and the stock.

use order_host::bindings::fulfillment_saga::{SagaOutcome, SagaStep};
use order_host::bindings::types::OrderStatus;
use order_host::external::Operation;
use order_host::simulation::Scripted;

use crate::util::*;

#[derive(Clone, Copy, Debug)]
enum Step {
    Payment,
    Allocation,
    Shipment,
    Notification,
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Permanent,
    TransientThenSuccess,
    TransientExhausted,
    /// The call takes effect but its answer is lost (in doubt); the saga
    /// asks again under the same key and learns the outcome, with no second
    /// effect.
    LostThenLearnt,
    /// The call takes effect but its answer is lost, and every retry of the
    /// step finds the service down: the step fails in doubt, and its
    /// compensation first asks again under the action's key, learns what
    /// it did and undoes it.
    LostThenDown,
}

impl Step {
    fn operation(self) -> Operation {
        match self {
            Step::Payment => Operation::ProcessPayment,
            Step::Allocation => Operation::AllocateStock,
            Step::Shipment => Operation::CreateShipment,
            Step::Notification => Operation::SendOrderConfirmation,
        }
    }

    fn wit(self) -> SagaStep {
        match self {
            Step::Payment => SagaStep::ProcessPayment,
            Step::Allocation => SagaStep::AllocateInventory,
            Step::Shipment => SagaStep::CreateShipment,
            Step::Notification => SagaStep::NotifyCustomer,
        }
    }
}

/// `max-attempts` of the test policy (see `fast_policy`).
const ATTEMPTS: usize = 3;

/// One expected call: `operation key outcome`.
fn call(op: &str, order: &str, step: &str, compensation: bool, outcome: &str) -> String {
    let kind = if compensation {
        "compensation"
    } else {
        "action"
    };
    format!("{op} order-{order}/{step}/{kind} {outcome}")
}

fn expected_calls(order: &str, failing: Step, mode: Mode) -> Vec<String> {
    let forward = [
        (Step::Payment, "process-payment", "process-payment"),
        (Step::Allocation, "allocate-stock", "allocate-inventory"),
        (Step::Shipment, "create-shipment", "create-shipment"),
        (
            Step::Notification,
            "send-order-confirmation",
            "notify-customer",
        ),
    ];
    let mut calls = Vec::new();
    let mut done = Vec::new();
    for (step, op, name) in forward {
        if step as usize == failing as usize {
            match mode {
                Mode::Permanent => calls.push(call(op, order, name, false, "Permanent")),
                Mode::TransientThenSuccess => {
                    calls.push(call(op, order, name, false, "Transient"));
                    calls.push(call(op, order, name, false, "Ok"));
                    done.push(step);
                    continue;
                }
                Mode::LostThenLearnt => {
                    calls.push(call(op, order, name, false, "InDoubt"));
                    calls.push(call(op, order, name, false, "Ok (replayed)"));
                    done.push(step);
                    continue;
                }
                Mode::TransientExhausted => {
                    for _ in 0..ATTEMPTS {
                        calls.push(call(op, order, name, false, "Transient"));
                    }
                }
                Mode::LostThenDown => {
                    calls.push(call(op, order, name, false, "InDoubt"));
                    for _ in 1..ATTEMPTS {
                        calls.push(call(op, order, name, false, "Transient"));
                    }
                    if !matches!(step, Step::Notification) {
                        // Learnt before anything is undone; then undone too.
                        calls.push(call(op, order, name, false, "Ok (replayed)"));
                        done.push(step);
                    }
                }
            }
            // A failed notification never undoes the order; customer
            // service is asked to reach the customer instead.
            if matches!(step, Step::Notification) {
                calls.push(format!(
                    "create-support-ticket order-{order}/support-ticket/notify-customer/undelivered Ok"
                ));
                return calls;
            }
            // Compensations of the completed steps, in reverse order, then the notice.
            for done_step in done.iter().rev() {
                match done_step {
                    Step::Shipment => calls.push(call(
                        "cancel-shipment",
                        order,
                        "create-shipment",
                        true,
                        "Ok",
                    )),
                    Step::Allocation => calls.push(call(
                        "release-stock",
                        order,
                        "allocate-inventory",
                        true,
                        "Ok",
                    )),
                    Step::Payment => {
                        calls.push(call("refund-payment", order, "process-payment", true, "Ok"))
                    }
                    Step::Notification => {}
                }
            }
            calls.push(call(
                "send-order-cancellation",
                order,
                "notify-customer",
                true,
                "Ok",
            ));
            return calls;
        }
        calls.push(call(op, order, name, false, "Ok"));
        done.push(step);
    }
    calls
}

fn run_case(failing: Step, mode: Mode) {
    let t = start();
    let script = match mode {
        Mode::Permanent => vec![Scripted::Permanent],
        Mode::TransientThenSuccess => vec![Scripted::Transient, Scripted::Ok],
        Mode::TransientExhausted => vec![Scripted::Transient; ATTEMPTS],
        Mode::LostThenLearnt => vec![Scripted::Lost],
        Mode::LostThenDown => {
            let mut script = vec![Scripted::Lost];
            script.extend([Scripted::Unavailable].repeat(ATTEMPTS - 1));
            script
        }
    };
    t.host.sim.control.script(failing.operation(), script);
    let cmd = order(&format!("{failing:?}-{mode:?}"), "matrix");
    let mug = cmd.items[0].product_id.clone();
    let stock_before = t.host.sim.inventory.available(&mug);
    t.place(&cmd).expect("placed");
    t.drive();

    let id = &cmd.order_id;
    let calls: Vec<String> = t
        .host
        .sim
        .log()
        .entries()
        .iter()
        .map(|e| {
            let replayed = if e.replayed { " (replayed)" } else { "" };
            format!("{} {} {:?}{replayed}", e.operation, e.key, e.outcome)
        })
        .collect();
    assert_eq!(
        calls,
        expected_calls(id, failing, mode),
        "{failing:?} {mode:?}"
    );

    let o = t.get_order(id);
    let report = t.host.service.saga_status(id).expect("status");
    let succeeds = matches!(mode, Mode::TransientThenSuccess | Mode::LostThenLearnt)
        || matches!(failing, Step::Notification);
    assert!(
        t.host.store.all_timers().expect("timers").is_empty(),
        "saga finished"
    );
    assert!(
        t.host.sim.payment.charges_for_order(id) <= 1,
        "never charged twice"
    );
    if succeeds {
        assert_eq!(o.status, OrderStatus::Shipped, "{failing:?} {mode:?}");
        assert!(matches!(report.outcome, Some(SagaOutcome::Completed(_))));
        assert_eq!(t.host.sim.payment.total_charged(), 6_000);
        assert_eq!(t.host.sim.payment.total_refunded(), 0);
        assert_eq!(
            t.host.sim.inventory.available(&mug),
            stock_before - 2,
            "2 mugs held"
        );
        let shipments = t.host.sim.carrier.shipments_for_order(id);
        assert_eq!(shipments.len(), 1, "booked once");
        assert_eq!(
            o.shipping.map(|s| s.shipment_id),
            Some(shipments[0].shipment_id.clone())
        );
        if matches!(mode, Mode::LostThenLearnt) {
            assert_eq!(
                t.host.sim.customer.messages_for_order(id).len(),
                1,
                "one confirmation, sent once"
            );
        }
        if matches!(failing, Step::Notification)
            && !matches!(mode, Mode::TransientThenSuccess | Mode::LostThenLearnt)
        {
            assert_eq!(
                o.notes.len(),
                2,
                "the undelivered confirmation and the support ticket are noted: {:?}",
                o.notes
            );
            assert_eq!(t.host.sim.customer.tickets().len(), 1);
        }
    } else {
        assert_eq!(o.status, OrderStatus::Cancelled);
        let cancellation = o.cancellation.expect("cancellation");
        assert_eq!(cancellation.cancelled_by, "fulfillment-saga");
        assert!(cancellation.reason.starts_with(&format!(
            "{} failed",
            match failing {
                Step::Payment => "process-payment",
                Step::Allocation => "allocate-inventory",
                Step::Shipment => "create-shipment",
                Step::Notification => unreachable!(),
            }
        )));
        match report.outcome {
            Some(SagaOutcome::Compensated(c)) => assert_eq!(c.failed_step, failing.wit()),
            other => panic!("expected compensated, got {other:?}"),
        }
        assert_eq!(
            t.host.sim.payment.total_charged(),
            t.host.sim.payment.total_refunded(),
            "whatever was charged was refunded"
        );
        assert_eq!(o.refunded.amount, t.host.sim.payment.total_refunded());
        assert_eq!(
            t.host.sim.inventory.available(&mug),
            stock_before,
            "stock conserved"
        );
        assert!(t.host.sim.inventory.held_by(id).is_empty());
        assert!(o.shipping.is_none());
        assert_eq!(
            t.host.sim.customer.messages_for_order(id).len(),
            1,
            "the customer is told"
        );
    }
}

macro_rules! matrix {
    ($($name:ident: $step:ident, $mode:ident;)+) => {
        $(
            #[test]
            fn $name() {
                run_case(Step::$step, Mode::$mode);
            }
        )+
    };
}

matrix! {
    payment_declined_cancels_and_tells_the_customer: Payment, Permanent;
    payment_timeout_then_success_completes: Payment, TransientThenSuccess;
    payment_timeouts_exhausted_cancel_without_refund: Payment, TransientExhausted;
    out_of_stock_refunds_the_payment: Allocation, Permanent;
    inventory_timeout_then_success_completes: Allocation, TransientThenSuccess;
    inventory_timeouts_exhausted_refund_the_payment: Allocation, TransientExhausted;
    carrier_refusal_releases_stock_then_refunds: Shipment, Permanent;
    carrier_timeout_then_success_completes: Shipment, TransientThenSuccess;
    carrier_timeouts_exhausted_release_then_refund: Shipment, TransientExhausted;
    confirmation_refused_keeps_the_shipped_order: Notification, Permanent;
    confirmation_timeout_then_success_completes: Notification, TransientThenSuccess;
    confirmation_timeouts_exhausted_keep_the_shipped_order: Notification, TransientExhausted;
    a_lost_charge_answer_is_learnt_without_a_second_charge: Payment, LostThenLearnt;
    a_lost_allocation_answer_is_learnt_without_a_second_allocation: Allocation, LostThenLearnt;
    a_lost_booking_answer_is_learnt_without_a_second_booking: Shipment, LostThenLearnt;
    a_lost_confirmation_answer_is_learnt_without_a_second_message: Notification, LostThenLearnt;
    a_lost_charge_with_the_gateway_down_is_learnt_and_refunded: Payment, LostThenDown;
    a_lost_allocation_with_the_inventory_down_is_learnt_and_released: Allocation, LostThenDown;
    a_lost_booking_with_the_carrier_down_is_learnt_and_cancelled: Shipment, LostThenDown;
    a_lost_confirmation_with_the_service_down_opens_a_ticket: Notification, LostThenDown;
}
