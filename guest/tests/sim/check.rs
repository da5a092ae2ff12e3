//! Running a history with the invariants checked after every operation,
//! driving it to quiescence (faults off, the saga run to its end) and
//! checking the end-state invariants, and shrinking a failing history to a
//! short reproducer.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use order_core::domain::order::{Order, OrderStatus};
use order_core::domain::returns::{Return, ReturnStatus};
use order_core::domain::values::{PaymentMethod, utc_date};

use super::model::{Case, Op, exec, kept, load, order_id, placed, return_id};
use super::world::{HostCrash, Sim};
use crate::common::{LEASE_MS, PRODUCT_A, PRODUCT_B, usd};

/// A broken invariant.
#[derive(Clone, Debug)]
pub struct Failure {
    pub invariant: String,
    pub detail: String,
    /// The operation after which it broke (`None`: at quiescence).
    pub step: Option<usize>,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub ops: u64,
    pub crashes: u64,
}

fn fail(invariant: &str, detail: String, step: Option<usize>) -> Failure {
    Failure {
        invariant: invariant.to_string(),
        detail,
        step,
    }
}

/// Host crashes unwind silently; every other panic is reported as usual.
pub fn quiet_crashes() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<HostCrash>().is_none() {
                default(info);
            }
        }));
    });
}

enum Ran {
    Done(super::model::Outcome),
    Crashed,
    Panicked(String),
}

fn run_op(sim: &Sim, op: &Op) -> Ran {
    sim.depth.set(0);
    match catch_unwind(AssertUnwindSafe(|| exec(sim, op))) {
        Ok(out) => Ran::Done(out),
        Err(p) if p.downcast_ref::<HostCrash>().is_some() => Ran::Crashed,
        Err(p) => Ran::Panicked(
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".to_string()),
        ),
    }
}

fn orders(sim: &Sim) -> Vec<(u8, Order)> {
    (0..2u8)
        .filter_map(|o| load(sim, o).map(|x| (o, x)))
        .collect()
}

fn returns_of(sim: &Sim, o: u8) -> Vec<Return> {
    (0..2u8)
        .map(|r| return_id(o, r))
        .filter(|rid| sim.has_stream(&format!("return-{rid}")))
        .filter_map(|rid| sim.app().get_return(&rid).ok())
        .collect()
}

/// Runs `case`; `trace` collects a line per operation and per call.
pub fn run(case: &Case, trace: bool) -> (Result<Stats, Failure>, Vec<String>) {
    quiet_crashes();
    let sim = Sim::new(
        &[(PRODUCT_A, case.stock_a), (PRODUCT_B, case.stock_b)],
        trace,
    );
    let result = run_in(&sim, case);
    let lines = sim.trace.borrow_mut().take().unwrap_or_default();
    (result, lines)
}

fn run_in(sim: &Sim, case: &Case) -> Result<Stats, Failure> {
    let mut stats = Stats::default();
    for (i, op) in case.ops.iter().enumerate() {
        let versions = sim.stream_versions();
        let effects = sim.effects.get();
        let inner = sim.inner_ops.get();
        sim.note(|| format!("#{i} {op:?}"));
        stats.ops += 1;
        match run_op(sim, op) {
            Ran::Done(out) => {
                sim.note(|| format!("   -> {}", out.text));
                if out.refused && sim.inner_ops.get() == inner {
                    if sim.stream_versions() != versions {
                        return Err(fail(
                            "a-refused-operation-changes-nothing",
                            format!("{op:?} was refused ({}) but wrote events", out.text),
                            Some(i),
                        ));
                    }
                    if sim.effects.get() != effects {
                        return Err(fail(
                            "a-refused-operation-changes-nothing",
                            format!("{op:?} was refused ({}) but called out", out.text),
                            Some(i),
                        ));
                    }
                }
            }
            Ran::Crashed => {
                stats.crashes += 1;
                sim.note(|| "   -> the host died; it restarts".to_string());
            }
            Ran::Panicked(m) => {
                return Err(fail("no-panic", format!("{op:?} panicked: {m}"), Some(i)));
            }
        }
        let os = orders(sim);
        settle_outside(sim, &os);
        let mut broken = Vec::new();
        always(sim, &os, &mut broken);
        first(broken, Some(i))?;
    }
    quiesce(sim)?;
    let mut broken = Vec::new();
    let os = orders(sim);
    always(sim, &os, &mut broken);
    at_rest(sim, &mut broken);
    first(broken, None)?;
    Ok(stats)
}

/// Invariants left out of the checks (`SIM_IGNORE=a,b`), to look past a
/// known failure for the next one; empty unless set.
fn ignored() -> &'static [String] {
    static IGNORED: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    IGNORED.get_or_init(|| {
        std::env::var("SIM_IGNORE")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

thread_local! {
    /// Invariants known to break for a reported, open reason (see
    /// `KNOWN_OPEN` in sim.rs); looked past unless `SIM_STRICT=1`.
    static OPEN: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
    static STRICT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

pub fn set_known_open(invariants: &[&str]) {
    let strict = std::env::var("SIM_STRICT").is_ok_and(|v| v == "1");
    OPEN.with(|o| {
        *o.borrow_mut() = if strict {
            Vec::new()
        } else {
            invariants.iter().map(|s| s.to_string()).collect()
        }
    });
}

/// Runs with every invariant checked, known open ones included.
pub fn run_strict(case: &Case) -> Result<Stats, Failure> {
    STRICT.with(|s| s.set(true));
    let r = run(case, false).0;
    STRICT.with(|s| s.set(false));
    r
}

fn looked_past(inv: &str) -> bool {
    ignored().iter().any(|i| i == inv)
        || (!STRICT.with(|s| s.get()) && OPEN.with(|o| o.borrow().iter().any(|i| i == inv)))
}

fn first(broken: Vec<Broken>, step: Option<usize>) -> Result<(), Failure> {
    match broken.into_iter().find(|(inv, _)| !looked_past(inv)) {
        Some((inv, d)) => Err(fail(inv, d, step)),
        None => Ok(()),
    }
}

/// A charge or booking made outside the application that the application
/// did not take up is the outside party's to give back.
fn settle_outside(sim: &Sim, os: &[(u8, Order)]) {
    let mut pay = sim.pay.borrow_mut();
    for c in pay
        .charges
        .iter_mut()
        .filter(|c| c.key.starts_with("outside/") && !c.outside)
    {
        let taken = os.iter().any(|(_, o)| {
            o.order_id == c.order_id
                && o.payment
                    .as_ref()
                    .is_some_and(|p| p.transaction_id == c.txn)
        });
        if !taken {
            c.outside = true;
        }
    }
    drop(pay);
    let known: Vec<String> = sim.stream_names();
    let mut car = sim.car.borrow_mut();
    for b in car
        .bookings
        .iter_mut()
        .filter(|b| b.key.starts_with("outside/") && !b.outside)
    {
        let taken = known.contains(&format!("shipment-{}", b.shipment_id))
            || os.iter().any(|(_, o)| {
                o.shipping
                    .as_ref()
                    .is_some_and(|s| s.shipment_id == b.shipment_id)
            });
        if !taken {
            b.outside = true;
            b.cancelled = true;
        }
    }
}

type Broken = (&'static str, String);

/// Invariants that hold after every operation.
fn always(sim: &Sim, os: &[(u8, Order)], out: &mut Vec<Broken>) {
    out.extend(sim.violations.borrow().iter().cloned());
    let inv = sim.inv.borrow();
    for d in &inv.over_released {
        out.push(("release-only-what-is-held", d.clone()));
    }
    for (p, initial) in &inv.initial {
        let held: u64 = inv
            .held
            .iter()
            .filter(|((_, q), _)| q == p)
            .map(|(_, n)| n)
            .sum();
        let avail = inv.available.get(p).copied().unwrap_or(0);
        let restocked = inv.restocked.get(p).copied().unwrap_or(0);
        if avail + held != initial + restocked {
            out.push((
                "stock-is-conserved",
                format!(
                    "{p}: {avail} available + {held} held != {initial} initial + {restocked} restocked"
                ),
            ));
        }
    }
    drop(inv);
    let mut days: BTreeMap<String, (u32, u64, u32, u32, u64)> = BTreeMap::new();
    for (o, order) in os {
        let o = *o;
        // Refunds recorded never exceed what the gateway charged for the
        // order (the saga may refund a charge it recovered after a
        // cancellation, so the order's own payment record is not the bound).
        let paid: u64 = sim
            .pay
            .borrow()
            .charges
            .iter()
            .filter(|c| c.order_id == order.order_id && !c.outside)
            .map(|c| c.amount)
            .sum();
        if order.refunded.amount > paid {
            out.push((
                "refunds-never-exceed-payments",
                format!(
                    "order {o} records {} refunded of {paid} charged",
                    order.refunded.amount
                ),
            ));
        }
        // Returned quantities never exceed what was ordered.
        let rets = returns_of(sim, o);
        for line in &order.items {
            let claimed: u32 = rets
                .iter()
                .filter(|r| !matches!(r.status, ReturnStatus::Denied | ReturnStatus::Closed))
                .flat_map(|r| r.return_items.iter())
                .filter(|i| i.item_id == line.item_id)
                .map(|i| i.quantity)
                .sum();
            if claimed > line.quantity {
                out.push((
                    "returns-never-exceed-the-order",
                    format!(
                        "order {o} line {}: {claimed} returned of {}",
                        line.item_id, line.quantity
                    ),
                ));
            }
        }
        let refunded_by_returns: u64 = rets
            .iter()
            .filter_map(|r| r.refund_amount.as_ref())
            .map(|m| m.amount)
            .sum();
        if refunded_by_returns > paid {
            out.push((
                "refunds-never-exceed-payments",
                format!("order {o}: returns refunded {refunded_by_returns} of {paid} paid"),
            ));
        }
        // The facts the daily metrics must show.
        if let Some(at) = order.placed_at {
            let d = days.entry(utc_date(at)).or_default();
            d.0 += 1;
            d.1 += order.total.amount;
            if let Some(c) = &order.cancellation {
                days.entry(utc_date(c.cancelled_at)).or_default().2 += 1;
            }
        }
        for r in &rets {
            if let (Some(m), Some(at)) = (&r.refund_amount, r.refunded_at) {
                let d = days.entry(utc_date(at)).or_default();
                d.3 += 1;
                d.4 += m.amount;
            }
        }
    }
    for (day, (count, revenue, cancelled, refunds, refund_total)) in days {
        let m = match sim.app().daily_metrics(&day) {
            Ok(m) => m,
            Err(e) => {
                out.push(("metrics-are-readable", e.to_string()));
                continue;
            }
        };
        let t = m.by_currency.get("USD").cloned().unwrap_or_default();
        let seen = (
            t.order_count,
            t.total_revenue,
            t.cancellation_count,
            t.refund_count,
            t.refund_total,
        );
        let want = (count, revenue, cancelled, refunds, refund_total);
        if seen != want {
            out.push((
                "metrics-match-the-orders",
                format!("{day}: metrics (orders, revenue, cancellations, refunds, refunded) {seen:?}, orders say {want:?}"),
            ));
        }
    }
}

/// Faults off; refunds that the gateway made but the application did not
/// record are asked again (as staff would), and every saga is driven to
/// its end.
fn quiesce(sim: &Sim) -> Result<(), Failure> {
    sim.disarm();
    for o in 0..2u8 {
        for ret in returns_of(sim, o) {
            if ret.status != ReturnStatus::Received {
                continue;
            }
            let prefix = format!("return-{}/refund", ret.return_id);
            let refunded = sim
                .pay
                .borrow()
                .refunds
                .iter()
                .rfind(|r| r.key.starts_with(&prefix))
                .map(|r| r.amount);
            if let Some(amount) = refunded {
                let _ = catch_unwind(AssertUnwindSafe(|| {
                    sim.app()
                        .process_refund(&ret.return_id, usd(amount), PaymentMethod::CreditCard)
                }));
            }
        }
    }
    for round in 0..60 {
        let mut open = false;
        for o in 0..2u8 {
            let Some(order) = load(sim, o) else { continue };
            if !placed(&order) || order.saga.finished.is_some() {
                continue;
            }
            open = true;
            if let Ran::Panicked(m) = run_op(sim, &Op::Advance(o)) {
                return Err(fail("no-panic", format!("advance panicked: {m}"), None));
            }
        }
        if !open {
            return Ok(());
        }
        sim.note(|| format!("quiescence round {round}"));
        sim.clock.set(sim.clock.get() + LEASE_MS + 1);
    }
    let stuck: Vec<String> = orders(sim)
        .iter()
        .filter(|(_, o)| placed(o) && o.saga.finished.is_none())
        .map(|(i, o)| format!("order {i} ({})", o.status))
        .collect();
    Err(fail(
        "every-saga-finishes",
        format!("still running after faults stopped: {}", stuck.join(", ")),
        None,
    ))
}

/// Invariants once everything has come to rest.
fn at_rest(sim: &Sim, out: &mut Vec<Broken>) {
    for (o, order) in orders(sim) {
        let id = order_id(o);
        let pay = sim.pay.borrow();
        let charges: Vec<super::world::Charge> = pay
            .charges
            .iter()
            .filter(|c| c.order_id == id && !c.outside)
            .cloned()
            .collect();
        let charged: u64 = charges.iter().map(|c| c.amount).sum();
        let refunded: u64 = pay
            .refunds
            .iter()
            .filter(|r| charges.iter().any(|c| c.txn == r.txn))
            .map(|r| r.amount)
            .sum();
        let rets = returns_of(sim, o);
        for r in &rets {
            let prefix = format!("return-{}/refund", r.return_id);
            let at_gateway: u64 = pay
                .refunds
                .iter()
                .filter(|x| x.key.starts_with(&prefix))
                .map(|x| x.amount)
                .sum();
            let recorded = r.refund_amount.as_ref().map_or(0, |m| m.amount);
            if at_gateway != recorded {
                out.push((
                    "a-recorded-refund-is-the-refund-made",
                    format!(
                        "return {} of order {o} records {recorded}, the gateway refunded {at_gateway}",
                        r.return_id
                    ),
                ));
            }
        }
        drop(pay);
        let by_returns: u64 = rets
            .iter()
            .filter_map(|r| r.refund_amount.as_ref())
            .map(|m| m.amount)
            .sum();
        let net = charged - refunded.min(charged);
        let list = || {
            charges
                .iter()
                .map(|c| format!("{} {} ({})", c.txn, c.amount, c.key))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !placed(&order) || !kept(&order) {
            if net != 0 {
                out.push((
                    "a-cancelled-order-keeps-no-money",
                    format!(
                        "order {o} is {} and keeps {net} of {charged} charged [{}], {refunded} refunded",
                        order.status,
                        list()
                    ),
                ));
            }
        } else if net + by_returns != order.total.amount
            // A duplicate charge that could not be refunded at once is
            // handed to people with a ticket: then paid at least once.
            && !(handed_over(sim, id, "process-payment")
                && net + by_returns > order.total.amount)
        {
            out.push((
                "a-kept-order-is-charged-once",
                format!(
                    "order {o} is {}: total {}, charged {charged} [{}], refunded {refunded} ({by_returns} by returns)",
                    order.status,
                    order.total.amount,
                    list()
                ),
            ));
        }
        // Stock.
        let inv = sim.inv.borrow();
        for line in &order.items {
            let held = inv
                .held
                .get(&(id.to_string(), line.product_id.clone()))
                .copied()
                .unwrap_or(0);
            let want = if kept(&order) && placed(&order) {
                u64::from(line.quantity)
            } else {
                0
            };
            if held != want {
                out.push((
                    if want == 0 {
                        "no-stock-held-for-a-cancelled-order"
                    } else {
                        "a-shipped-order-holds-its-stock"
                    },
                    format!(
                        "order {o} is {}: {held} of {} held for its line {} (wanted {want})",
                        order.status, line.product_id, line.item_id
                    ),
                ));
            }
        }
        drop(inv);
        // Bookings.
        let car = sim.car.borrow();
        let live: Vec<&str> = car
            .bookings
            .iter()
            .filter(|b| b.order_id == id && !b.cancelled)
            .map(|b| b.shipment_id.as_str())
            .collect();
        if !kept(&order) {
            if !live.is_empty() {
                out.push((
                    "no-booking-left-for-a-cancelled-order",
                    format!("order {o} is cancelled; bookings still live: {live:?}"),
                ));
            }
        } else if placed(&order) {
            let shipped = order.shipping.as_ref().map(|s| s.shipment_id.as_str());
            let one =
                live.len() == 1 || (handed_over(sim, id, "create-shipment") && !live.is_empty());
            if !one || !shipped.is_some_and(|s| live.contains(&s)) {
                out.push((
                    "a-kept-order-has-one-booking",
                    format!(
                        "order {o} is {} with shipment {shipped:?}; live bookings {live:?}",
                        order.status
                    ),
                ));
            }
        }
        drop(car);
        if placed(&order)
            && kept(&order)
            && !matches!(
                order.status,
                OrderStatus::Shipped | OrderStatus::Delivered | OrderStatus::Returned
            )
        {
            out.push((
                "a-kept-order-ships",
                format!("order {o} is {} after its saga ended", order.status),
            ));
        }
    }
}

/// A duplicate effect of `step` was handed to people (a support ticket).
fn handed_over(sim: &Sim, order_id: &str, step: &str) -> bool {
    let key = format!("order-{order_id}/support-ticket/{step}/duplicate");
    sim.tickets.borrow().contains(&key)
}

// ----- shrinking ----------------------------------------------------------------

fn fails_with(case: &Case, invariant: &str, budget: &mut u32) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    matches!(run(case, false).0, Err(f) if f.invariant == invariant)
}

/// The shortest history found (within a budget of runs) that still breaks
/// the same invariant.
pub fn shrink(case: &Case, invariant: &str) -> Case {
    let mut best = case.clone();
    let mut budget = 4_000u32;
    loop {
        let before = best.ops.len() + inner_len(&best);
        let mut chunk = (best.ops.len() / 2).max(1);
        while chunk >= 1 {
            let mut i = 0;
            while i < best.ops.len() {
                let mut c = best.clone();
                let end = (i + chunk).min(c.ops.len());
                c.ops.drain(i..end);
                if fails_with(&c, invariant, &mut budget) {
                    best = c;
                } else {
                    i += chunk;
                }
            }
            if chunk == 1 {
                break;
            }
            chunk /= 2;
        }
        // Inside slow calls: drop inner operations.
        for i in 0..best.ops.len() {
            let mut j = 0;
            while let Op::Arm(t, super::world::Fault::Slow(inner)) = &best.ops[i] {
                if j >= inner.len() {
                    break;
                }
                let mut inner = inner.clone();
                inner.remove(j);
                let mut c = best.clone();
                c.ops[i] = Op::Arm(*t, super::world::Fault::Slow(inner));
                if fails_with(&c, invariant, &mut budget) {
                    best = c;
                } else {
                    j += 1;
                }
            }
        }
        // Simpler faults.
        for i in 0..best.ops.len() {
            if let Op::Arm(t, f) = &best.ops[i]
                && !matches!(f, super::world::Fault::Transient)
            {
                let mut c = best.clone();
                c.ops[i] = Op::Arm(*t, super::world::Fault::Transient);
                if fails_with(&c, invariant, &mut budget) {
                    best = c;
                }
            }
        }
        if best.ops.len() + inner_len(&best) >= before || budget == 0 {
            return best;
        }
    }
}

fn inner_len(case: &Case) -> usize {
    case.ops
        .iter()
        .map(|o| match o {
            Op::Arm(_, super::world::Fault::Slow(v)) => v.len(),
            _ => 0,
        })
        .sum()
}

/// The report a failing seed prints: enough to replay and to read.
pub fn report(seed: u64, case: &Case, failure: &Failure) -> String {
    let small = shrink(case, &failure.invariant);
    let (result, trace) = run(&small, true);
    let mut s = String::new();
    let _ = writeln!(s, "\nsimulation seed {seed} breaks `{}`", failure.invariant);
    let _ = writeln!(
        s,
        "  first seen after operation {:?} of {}: {}",
        failure.step,
        case.ops.len(),
        failure.detail
    );
    let _ = writeln!(
        s,
        "  shrunk to {} operations (stock A {}, B {}):",
        small.ops.len(),
        small.stock_a,
        small.stock_b
    );
    for (i, op) in small.ops.iter().enumerate() {
        let _ = writeln!(s, "    #{i} {op:?}");
    }
    match result {
        Err(f) => {
            let _ = writeln!(
                s,
                "  the shrunk history breaks it {}: {}",
                f.step
                    .map_or("at quiescence".to_string(), |i| format!("after #{i}")),
                f.detail
            );
        }
        Ok(_) => {
            let _ = writeln!(s, "  (the shrunk history no longer fails; replay the seed)");
        }
    }
    let _ = writeln!(s, "  trace of the shrunk history:");
    for line in trace {
        let _ = writeln!(s, "    {line}");
    }
    let _ = writeln!(
        s,
        "  replay: SIM_SEED={seed} cargo test -p order-core --test sim -- --nocapture"
    );
    s
}
