//! A model-based simulation proves that random histories of commands,
//! inbound events (in any order, duplicated), saga advances interleaved
//! inside backend calls, lease expiries, lost answers, host crashes and
//! store faults keep money, stock, bookings, returns and metrics consistent
//! after every step and once the saga has come to rest.
//!
//! `SIM_SEED=n` replays one seed with its trace; `SIM_SEEDS=n` sets how
//! many seeds the run tries; `SIM_SECONDS=s` runs seeds for that long (the
//! long run, `make sim`). See tests/README.md.

mod common;

mod sim {
    pub mod check;
    pub mod model;
    pub mod races;
    pub mod rng;
    pub mod world;
}

use std::time::{Duration, Instant};

use sim::check::{report, run};
use sim::model::generate;

/// Operations per history (half to all of it).
const LEN: usize = 40;
/// Seeds of the short run in the normal test suite.
const SHORT_SEEDS: u64 = 1_500;
/// The short run stops early after this long, whatever the seed count.
const SHORT_BOUND: Duration = Duration::from_secs(30);

/// (invariant, why, reproducer).
type KnownOpen = (&'static str, &'static str, fn() -> Vec<sim::model::Op>);

/// Invariants that break on the current code for a reason reported and not
/// yet fixed, each with its reproducer. The runs look past them (the other
/// invariants are still checked in the same history) unless `SIM_STRICT=1`;
/// `known_open_issues_are_listed_with_a_reproducer` prints whether each
/// still reproduces. Empty the entry when the fix lands.
const KNOWN_OPEN: &[KnownOpen] = &[
    (
        "a-kept-order-has-one-booking",
        "the carrier reports a booking of its own for an order already shipped \
         with another shipment: the second booking stays live",
        || {
            use sim::model::Op::*;
            vec![Place(0), Advance(0), CarrierBooks(0)]
        },
    ),
    (
        "a-recorded-refund-is-the-refund-made",
        "a return's refund answered in doubt (it was made) and retried by staff \
         with another amount is made twice: the refund key names its amount, so \
         the retry is a new refund (race 7 of sim/races.rs)",
        || {
            sim::races::races()
                .into_iter()
                .find(|(name, _)| name.starts_with("7:"))
                .map(|(_, case)| case.ops)
                .unwrap_or_default()
        },
    ),
];

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Runs seeds from `first` until `count` or `bound`; panics with the shrunk
/// reproducer of the first failing seed.
fn run_seeds(first: u64, count: u64, bound: Duration) -> (u64, u64, u64, Duration) {
    let started = Instant::now();
    let (mut seeds, mut ops, mut crashes) = (0u64, 0u64, 0u64);
    for seed in first..first.saturating_add(count) {
        if started.elapsed() >= bound {
            break;
        }
        let case = generate(seed, LEN);
        match run(&case, false).0 {
            Ok(stats) => {
                ops += stats.ops;
                crashes += stats.crashes;
            }
            Err(f) => panic!("{}", report(seed, &case, &f)),
        }
        seeds += 1;
    }
    (seeds, ops, crashes, started.elapsed())
}

fn print_figures(what: &str, (seeds, ops, crashes, took): (u64, u64, u64, Duration)) {
    let secs = took.as_secs_f64().max(1e-9);
    println!(
        "{what}: {seeds} seeds, {ops} operations, {crashes} host crashes in {:.1} s ({:.0} operations/s, {:.0} seeds/s)",
        secs,
        ops as f64 / secs,
        seeds as f64 / secs
    );
}

/// Runs `count` seeds without stopping and prints, per broken invariant,
/// how many seeds break it and the shortest reproducer found.
fn survey(first: u64, count: u64) {
    let mut found: std::collections::BTreeMap<String, (u64, u64, usize)> = Default::default();
    for seed in first..first + count {
        let case = generate(seed, LEN);
        if let Err(f) = run(&case, false).0 {
            let e = found
                .entry(f.invariant.clone())
                .or_insert((0, seed, usize::MAX));
            e.0 += 1;
            if e.0 <= 5 {
                let small = sim::check::shrink(&case, &f.invariant);
                println!("{}: seed {seed}: {:?}", f.invariant, small.ops);
                if small.ops.len() < e.2 {
                    e.1 = seed;
                    e.2 = small.ops.len();
                }
            }
        }
    }
    println!("survey of seeds {first}..{}:", first + count);
    for (inv, (n, seed, len)) in &found {
        println!("  {inv}: {n} seeds; shortest of the first five: seed {seed} ({len} operations)");
    }
    assert!(found.is_empty(), "{} invariants broken", found.len());
}

#[test]
fn random_histories_keep_money_stock_and_bookings_consistent() {
    sim::check::set_known_open(&KNOWN_OPEN.iter().map(|k| k.0).collect::<Vec<_>>());
    if let Some(seed) = env_u64("SIM_SEED") {
        let case = generate(seed, LEN);
        let (result, trace) = run(&case, true);
        for line in trace {
            println!("{line}");
        }
        if let Err(f) = result {
            panic!("{}", report(seed, &case, &f));
        }
        println!("seed {seed}: every invariant holds");
        return;
    }
    let first = env_u64("SIM_FIRST_SEED").unwrap_or(0);
    if let Some(count) = env_u64("SIM_SURVEY") {
        survey(first, count);
        return;
    }
    let figures = match env_u64("SIM_SECONDS") {
        Some(s) => run_seeds(first, u64::MAX, Duration::from_secs(s)),
        None => run_seeds(
            first,
            env_u64("SIM_SEEDS").unwrap_or(SHORT_SEEDS),
            SHORT_BOUND,
        ),
    };
    print_figures("simulation", figures);
    assert!(figures.0 > 0, "no seed ran");
}

/// Whether `invariant` is a known open issue that the runs look past.
fn known_open(invariant: &str) -> bool {
    !std::env::var("SIM_STRICT").is_ok_and(|v| v == "1")
        && KNOWN_OPEN.iter().any(|k| k.0 == invariant)
}

#[test]
fn known_open_issues_are_listed_with_a_reproducer() {
    for (invariant, why, ops) in KNOWN_OPEN {
        let case = sim::model::Case {
            stock_a: 4,
            stock_b: 2,
            ops: ops(),
        };
        let still = sim::check::run_strict(&case).is_err();
        println!(
            "known open `{invariant}` ({why}): {}",
            if still {
                "still reproduces"
            } else {
                "no longer reproduces; remove it from KNOWN_OPEN"
            }
        );
    }
}

#[test]
fn the_races_of_the_issue_keep_every_invariant() {
    let mut broken = Vec::new();
    for (race, case) in sim::races::races() {
        if let Err(f) = sim::check::run_strict(&case) {
            if known_open(&f.invariant) {
                println!("race {race}: breaks `{}`, a known open issue", f.invariant);
                continue;
            }
            let (_, trace) = run(&case, true);
            broken.push(format!(
                "race {race} breaks `{}`: {}\n    {}",
                f.invariant,
                f.detail,
                trace.join("\n    ")
            ));
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n\n"));
}

#[test]
fn a_seed_replays_the_same_history() {
    for seed in [3, 17, 101] {
        let case = generate(seed, LEN);
        let a = run(&case, true);
        let b = run(&case, true);
        assert_eq!(a.1, b.1, "seed {seed} ran differently twice");
        assert!(
            a.1.len() > case.ops.len(),
            "the trace has a line per operation"
        );
    }
}
