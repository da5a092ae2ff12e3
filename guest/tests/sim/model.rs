//! The operations of the simulation (commands, inbound events, saga
//! advances, time, armed faults), how each runs against the application,
//! and how a seed generates a list of them.

use std::fmt;

use order_core::app::inbound::Inbound;
use order_core::domain::order::{Order, OrderStatus, PlaceOrder};
use order_core::domain::returns::{RequestReturn, ReturnItem};
use order_core::domain::values::*;
use order_core::domain::{DomainError, DomainResult};

use super::rng::Rng;
use super::world::{Fault, Sim, Target};
use crate::common::{
    CUSTOMER_ID, ITEM_A, ITEM_B, LEASE_MS, ORDER_ID, OTHER_ORDER_ID, PRODUCT_A, PRODUCT_B, address,
    billing_address, item_inputs, usd,
};

/// How much a refund asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Amount {
    /// The returned lines' value.
    Lines,
    /// Half of it.
    Half,
    /// One cent.
    Cent,
    /// More than the order's total.
    Over,
}

/// One step of a simulated history. Orders and returns are small indexes
/// (order 0 or 1, return 0 or 1 of that order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Place(u8),
    Advance(u8),
    Cancel(u8),
    /// A clerk takes the money another way and confirms it.
    ClerkConfirm(u8),
    /// The gateway reports the saga's latest charge (a redelivery, or one
    /// the saga has not heard of).
    PaidWebhookSaga(u8),
    /// The customer paid another way; the gateway reports it.
    PaidWebhookOther(u8),
    PaymentFailed(u8),
    /// The inventory reports what it holds for the order.
    StockAllocated(u8),
    StockAllocationFailed(u8),
    /// The carrier booked a parcel itself and reports it.
    CarrierBooks(u8),
    /// The carrier reports its latest booking for the order again.
    CarrierRedelivers(u8),
    /// Staff booked a parcel at the carrier's counter and ship the order.
    ShipManually(u8),
    PickUp(u8),
    Deliver(u8),
    RequestReturn(u8, u8, u32, u32),
    Approve(u8, u8),
    Deny(u8, u8),
    Receive(u8, u8),
    Refund(u8, u8, Amount),
    Tick(u64),
    Arm(Target, Fault),
}

pub fn order_id(o: u8) -> &'static str {
    if o == 0 { ORDER_ID } else { OTHER_ORDER_ID }
}

pub fn return_id(o: u8, r: u8) -> String {
    format!("7e000000-0000-4000-8000-00000000{o:02}{r:02}")
}

/// What an operation did, for the trace and the checks.
pub struct Outcome {
    pub text: String,
    /// The application refused it (validation, state, not found, rule):
    /// it must have changed nothing.
    pub refused: bool,
}

impl Outcome {
    /// This outcome after an outside party made `made` first (a charge, a
    /// booking): the world has changed whatever the application answered,
    /// so it is not a refusal that changed nothing.
    fn after_outside(self, made: &str) -> Outcome {
        Outcome {
            text: format!("{made}: {}", self.text),
            refused: false,
        }
    }
}

fn outcome<T: fmt::Debug>(r: DomainResult<T>, brief: impl FnOnce(&T) -> String) -> Outcome {
    match r {
        Ok(t) => Outcome {
            text: format!("ok {}", brief(&t)),
            refused: false,
        },
        Err(e) => Outcome {
            refused: matches!(
                e,
                DomainError::Validation { .. }
                    | DomainError::InvalidTransition { .. }
                    | DomainError::NotFound { .. }
                    | DomainError::RuleViolated { .. }
            ),
            text: format!("err {e}"),
        },
    }
}

fn skipped(why: &str) -> Outcome {
    Outcome {
        text: format!("skipped: {why}"),
        refused: false,
    }
}

fn order_brief(o: &Order) -> String {
    format!("{} v{}", o.status, o.version)
}

fn inbound_brief(i: &Inbound) -> String {
    format!("{i:?}")
}

pub fn load(sim: &Sim, o: u8) -> Option<Order> {
    sim.app().get_order(order_id(o)).ok()
}

/// Runs one operation against the application.
pub fn exec(sim: &Sim, op: &Op) -> Outcome {
    let app = sim.app();
    let now = sim.clock.get();
    match op {
        Op::Place(o) => {
            let cmd = PlaceOrder::validate(
                order_id(*o),
                CUSTOMER_ID,
                item_inputs(),
                address(),
                billing_address(),
                PaymentMethod::CreditCard,
            );
            outcome(cmd.and_then(|c| app.place_order(c)), order_brief)
        }
        Op::Advance(o) => outcome(app.advance_saga(order_id(*o)), order_brief),
        Op::Cancel(o) => outcome(
            app.cancel_order(order_id(*o), "customer asked", "csr-1"),
            order_brief,
        ),
        Op::ClerkConfirm(o) | Op::PaidWebhookOther(o) => {
            let Some(order) = load(sim, *o).filter(|x| x.placed_at.is_some()) else {
                return skipped("no placed order");
            };
            let txn = sim.external_charge(&order.order_id, order.total.amount);
            let out = if matches!(op, Op::ClerkConfirm(_)) {
                outcome(
                    app.confirm_payment(&order.order_id, &txn, order.total.clone()),
                    order_brief,
                )
            } else {
                outcome(
                    app.on_payment_succeeded(&order.order_id, &txn, order.total.clone()),
                    inbound_brief,
                )
            };
            out.after_outside(&txn)
        }
        Op::PaidWebhookSaga(o) => {
            let id = order_id(*o);
            let charge = sim
                .pay
                .borrow()
                .charges
                .iter()
                .rev()
                .find(|c| c.order_id == id && c.key.starts_with("order-"))
                .cloned();
            let Some(c) = charge else {
                return skipped("no charge by the saga");
            };
            outcome(app.on_payment_succeeded(id, &c.txn, usd(c.amount)), |i| {
                format!("{} {i:?}", c.txn)
            })
        }
        Op::PaymentFailed(o) => outcome(
            app.on_payment_failed(order_id(*o), "card declined"),
            inbound_brief,
        ),
        Op::StockAllocated(o) => {
            let Some(order) = load(sim, *o) else {
                return skipped("no order");
            };
            let inv = sim.inv.borrow();
            let held = |p: &str| {
                inv.held
                    .get(&(order.order_id.clone(), p.to_string()))
                    .copied()
                    .unwrap_or(0)
            };
            if order.items.iter().all(|i| held(&i.product_id) == 0) {
                return skipped("the inventory holds nothing for it");
            }
            let all = order
                .items
                .iter()
                .all(|i| held(&i.product_id) >= u64::from(i.quantity));
            drop(inv);
            outcome(app.on_stock_allocated(&order.order_id, all), inbound_brief)
        }
        Op::StockAllocationFailed(o) => outcome(
            app.on_stock_allocation_failed(order_id(*o), "warehouse empty"),
            inbound_brief,
        ),
        Op::CarrierBooks(o) | Op::ShipManually(o) => {
            let Some(order) = load(sim, *o).filter(|x| x.placed_at.is_some()) else {
                return skipped("no placed order");
            };
            let (sid, trk) = sim.external_booking(&order.order_id);
            let out = if matches!(op, Op::CarrierBooks(_)) {
                outcome(
                    app.on_shipment_created(&sid, &order.order_id, CarrierCode::Ups, &trk),
                    inbound_brief,
                )
            } else {
                outcome(
                    app.ship_order(&order.order_id, &sid, CarrierCode::Ups, &trk),
                    order_brief,
                )
            };
            out.after_outside(&sid)
        }
        Op::CarrierRedelivers(o) => {
            let id = order_id(*o);
            // Not a counter booking the application refused: the model has
            // its outside party take that back, so the carrier no longer
            // reports it.
            let booking = sim
                .car
                .borrow()
                .bookings
                .iter()
                .rev()
                .find(|b| b.order_id == id && !b.outside)
                .cloned();
            let Some(b) = booking else {
                return skipped("no booking");
            };
            outcome(
                app.on_shipment_created(&b.shipment_id, id, CarrierCode::Ups, &b.tracking),
                inbound_brief,
            )
        }
        Op::PickUp(o) | Op::Deliver(o) => {
            let Some(sid) = load(sim, *o).and_then(|x| x.shipping.map(|s| s.shipment_id)) else {
                return skipped("not shipped");
            };
            let picked = {
                let mut car = sim.car.borrow_mut();
                match car
                    .bookings
                    .iter_mut()
                    .find(|b| b.shipment_id == sid && !b.cancelled)
                {
                    Some(b) => {
                        b.picked_up = true;
                        true
                    }
                    None => false,
                }
            };
            if !picked {
                return skipped("the carrier has no live booking");
            }
            if matches!(op, Op::PickUp(_)) {
                outcome(
                    app.on_tracking(&sid, ShipmentStatus::PickedUp, None, now),
                    inbound_brief,
                )
            } else {
                outcome(
                    app.on_delivered(&sid, now, Some("J. Doe".to_string())),
                    inbound_brief,
                )
            }
        }
        Op::RequestReturn(o, r, a, b) => {
            let mut items = Vec::new();
            let line = |item: &str, product: &str, q: u32| ReturnItem {
                item_id: item.to_string(),
                product_id: product.to_string(),
                quantity: q,
                return_reason: ReturnReason::Defective,
                condition: "unopened".to_string(),
            };
            if *a > 0 {
                items.push(line(ITEM_A, PRODUCT_A, *a));
            }
            if *b > 0 || *a == 0 {
                items.push(line(ITEM_B, PRODUCT_B, (*b).max(1)));
            }
            let cmd = RequestReturn {
                return_id: return_id(*o, *r),
                order_id: order_id(*o).to_string(),
                customer_id: CUSTOMER_ID.to_string(),
                return_items: items,
                return_reason: ReturnReason::Defective,
                comments: None,
            };
            outcome(app.request_return(cmd), |r| r.status.to_string())
        }
        Op::Approve(o, r) => outcome(app.approve_return(&return_id(*o, *r), "csr-1", None), |r| {
            r.status.to_string()
        }),
        Op::Deny(o, r) => outcome(
            app.deny_return(&return_id(*o, *r), "csr-1", "outside the policy"),
            |r| r.status.to_string(),
        ),
        Op::Receive(o, r) => outcome(
            app.receive_return(&return_id(*o, *r), now, "as sold", true),
            |r| r.status.to_string(),
        ),
        Op::Refund(o, r, amount) => {
            let rid = return_id(*o, *r);
            let Ok(ret) = app.get_return(&rid) else {
                return skipped("no such return");
            };
            let Some(order) = load(sim, *o) else {
                return skipped("no order");
            };
            let lines: u64 = ret
                .return_items
                .iter()
                .map(|i| {
                    let price = order
                        .items
                        .iter()
                        .find(|l| l.item_id == i.item_id)
                        .map_or(0, |l| l.unit_price.amount);
                    price * u64::from(i.quantity)
                })
                .sum();
            let cents = match amount {
                Amount::Lines => lines,
                Amount::Half => (lines / 2).max(1),
                Amount::Cent => 1,
                Amount::Over => order.total.amount + 1,
            };
            outcome(
                app.process_refund(&rid, usd(cents), PaymentMethod::CreditCard),
                |r| format!("{} {cents}", r.status),
            )
        }
        Op::Tick(ms) => {
            sim.clock.set(now + ms);
            Outcome {
                text: format!("now T0+{}ms", sim.clock.get() - crate::common::T0),
                refused: false,
            }
        }
        Op::Arm(t, f) => {
            sim.arm(*t, f.clone());
            Outcome {
                text: "armed".to_string(),
                refused: false,
            }
        }
    }
}

/// Whether an order counts as placed (it has a saga).
pub fn placed(o: &Order) -> bool {
    o.placed_at.is_some()
}

pub fn kept(o: &Order) -> bool {
    o.status != OrderStatus::Cancelled
}

// ----- generation -----------------------------------------------------------------

/// A simulated history: starting stock and operations.
#[derive(Clone, Debug)]
pub struct Case {
    pub stock_a: u64,
    pub stock_b: u64,
    pub ops: Vec<Op>,
}

const TICKS: [u64; 5] = [200, 1_500, 6_000, 11_000, LEASE_MS + 1];

fn order(rng: &mut Rng, two: bool) -> u8 {
    if two && rng.below(3) == 0 { 1 } else { 0 }
}

/// One operation; `depth` > 0 inside a slow call (no further nesting).
fn op(rng: &mut Rng, two: bool, depth: u32) -> Op {
    let o = order(rng, two);
    let r = rng.below(2) as u8;
    let w = rng.below(100);
    match w {
        0..=21 => Op::Advance(o),
        22..=29 => Op::Tick(TICKS[rng.below(TICKS.len() as u64) as usize]),
        30..=47 => {
            let t = target(rng);
            let mut f = fault(rng, two, depth);
            // A compensation refused for good is handed to people (the
            // saga ends `compensation-failed` with a ticket): not a race,
            // so not generated.
            if f == Fault::Permanent
                && matches!(t, Target::Refund | Target::Release | Target::CancelBooking)
            {
                f = Fault::Transient;
            }
            Op::Arm(t, f)
        }
        48..=50 => Op::Place(o),
        51..=53 => Op::Cancel(o),
        54..=55 => Op::ClerkConfirm(o),
        56..=58 => Op::PaidWebhookSaga(o),
        59..=60 => Op::PaidWebhookOther(o),
        61..=62 => Op::PaymentFailed(o),
        63..=64 => Op::StockAllocated(o),
        65..=66 => Op::StockAllocationFailed(o),
        67..=68 => Op::CarrierBooks(o),
        69..=70 => Op::CarrierRedelivers(o),
        71..=72 => Op::ShipManually(o),
        73..=75 => Op::PickUp(o),
        76..=79 => Op::Deliver(o),
        80..=83 => Op::RequestReturn(o, r, rng.below(3) as u32, rng.below(2) as u32),
        84..=86 => Op::Approve(o, r),
        87 => Op::Deny(o, r),
        88..=91 => Op::Receive(o, r),
        _ => Op::Refund(
            o,
            r,
            [
                Amount::Lines,
                Amount::Lines,
                Amount::Half,
                Amount::Cent,
                Amount::Over,
            ][rng.below(5) as usize],
        ),
    }
}

fn target(rng: &mut Rng) -> Target {
    const T: [Target; 12] = [
        Target::Charge,
        Target::Charge,
        Target::Charge,
        Target::Allocate,
        Target::Allocate,
        Target::Book,
        Target::Book,
        Target::Refund,
        Target::Release,
        Target::CancelBooking,
        Target::Notify,
        Target::Append,
    ];
    let t = T[rng.below(T.len() as u64) as usize];
    if t == Target::Refund && rng.below(3) == 0 {
        Target::Restock
    } else {
        t
    }
}

fn fault(rng: &mut Rng, two: bool, depth: u32) -> Fault {
    match rng.below(100) {
        0..=24 => Fault::Transient,
        25..=44 => Fault::Lost,
        45..=54 => Fault::Permanent,
        55..=64 => Fault::Crash,
        65..=69 => Fault::CrashBefore,
        _ if depth == 0 => {
            let n = 1 + rng.below(4) as usize;
            let mut inner = Vec::with_capacity(n + 1);
            for _ in 0..n {
                inner.push(op(rng, two, depth + 1));
            }
            // Most slow calls outlive their lease.
            if rng.below(3) != 0 {
                inner.insert(rng.below(n as u64 + 1) as usize, Op::Tick(LEASE_MS + 1));
            }
            Fault::Slow(inner)
        }
        _ => Fault::Transient,
    }
}

/// The history a seed stands for.
pub fn generate(seed: u64, len: usize) -> Case {
    // The histories of the recorded seeds stay what they were.
    let mut rng = Rng::new(seed ^ 0x5DEE_CE66_D1CE_4E5B);
    let two = rng.below(3) == 0;
    let mut ops = vec![Op::Place(0)];
    if two {
        ops.push(Op::Place(1));
    }
    let n = len / 2 + rng.below(len as u64 / 2 + 1) as usize;
    for _ in 0..n {
        ops.push(op(&mut rng, two, 0));
    }
    Case {
        stock_a: 2 + rng.below(3),
        stock_b: rng.below(3),
        ops,
    }
}
