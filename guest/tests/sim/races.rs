//! The races of the issue "Races that move money", written as simulation
//! histories: each one broke an invariant before the saga's fixes.

use super::model::Amount::{Half, Lines};
use super::model::Case;
use super::model::Op::{self, *};
use super::world::Fault::{Crash, Lost, Permanent, Slow, Transient};
use super::world::Target::{self, Allocate, Book, Charge};
use crate::common::LEASE_MS;

const PAST_LEASE: u64 = LEASE_MS + 1;

fn case(ops: Vec<Op>) -> Case {
    Case {
        stock_a: 4,
        stock_b: 2,
        ops,
    }
}

/// (the race, its history).
pub fn races() -> Vec<(&'static str, Case)> {
    vec![
        (
            "1: shipped another way while the saga's booking is out, the repeat refused for good",
            case(vec![
                Place(0),
                Arm(
                    Book,
                    Slow(vec![
                        ShipManually(0),
                        Tick(PAST_LEASE),
                        Arm(Book, Permanent),
                        Advance(0),
                    ]),
                ),
                Advance(0),
            ]),
        ),
        (
            "2: payment-failed during the saga's own unanswered charge",
            case(vec![
                Place(0),
                Arm(Charge, Slow(vec![PaymentFailed(0)])),
                Advance(0),
            ]),
        ),
        (
            "3a: the host dies after charging, a clerk confirms, the next attempt is transient",
            case(vec![
                Place(0),
                Arm(Charge, Crash),
                Advance(0),
                ClerkConfirm(0),
                Tick(PAST_LEASE),
                Arm(Charge, Transient),
                Advance(0),
                Tick(PAST_LEASE),
                Arm(Charge, Transient),
                Advance(0),
            ]),
        ),
        (
            "3b: an allocation outlives its lease, the repeat is transient until the step fails",
            case(vec![
                Place(0),
                Arm(
                    Allocate,
                    Slow(vec![
                        Tick(PAST_LEASE),
                        Arm(Allocate, Transient),
                        Arm(Allocate, Transient),
                        Arm(Allocate, Transient),
                        Advance(0),
                        Tick(PAST_LEASE),
                        Advance(0),
                        Tick(PAST_LEASE),
                        Advance(0),
                    ]),
                ),
                Advance(0),
            ]),
        ),
        (
            "4: a slow charge outlives its lease, a webhook confirms another transaction, the order is cancelled",
            case(vec![
                Place(0),
                Arm(
                    Charge,
                    Slow(vec![Tick(PAST_LEASE), PaidWebhookOther(0), Cancel(0)]),
                ),
                Advance(0),
            ]),
        ),
        (
            "5: a partial allocation is compensated",
            Case {
                stock_a: 4,
                stock_b: 0,
                ops: vec![Place(0), Advance(0)],
            },
        ),
        (
            "6a: the carrier books a parcel for an order not ready to ship",
            case(vec![Place(0), CarrierBooks(0), Advance(0)]),
        ),
        (
            "6b: the carrier books a parcel for a cancelled order",
            case(vec![Place(0), Cancel(0), CarrierBooks(0)]),
        ),
        (
            "7: a refund in doubt is retried with another amount",
            case(vec![
                Place(0),
                Advance(0),
                Deliver(0),
                RequestReturn(0, 0, 1, 0),
                Approve(0, 0),
                Receive(0, 0),
                Arm(Target::Refund, Lost),
                Refund(0, 0, Half),
                Refund(0, 0, Lines),
            ]),
        ),
    ]
}
