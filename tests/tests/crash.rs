//! The crash test of the fulfilment saga: a host killed at any moment, with
//! answers lost at every step, loses no order, leaves no saga stuck, leaves
//! no money or stock behind, and never charges, refunds, allocates or ships
//! twice; and a second host cannot open the simulation state in use.
//!
//! It runs the real `order-host` binary (the one cargo built, next to this
//! test's executable) as `order-host load` on a SQLite store and a durable
//! simulation (`--sim-state`), with transient and permanent faults, lost
//! answers (the call takes effect, the answer is lost: in doubt) at every
//! step and latency on, a few hundred orders and every fifth one cancelled, and kills
//! it with SIGKILL five times, restarting the same command after each kill;
//! then it lets the command run to completion. Each kill lands at a random
//! point of the work (once the command reports a random number of orders
//! settled, plus a few random milliseconds), so kills fall while orders are
//! being placed, cancelled, charged, allocated, shipped and delivered.
//! Finally it opens the store and the simulation state with the host library
//! (no process) and checks, for every order of the workload:
//!
//! - the order exists (none lost) and is `delivered` or `cancelled` (the
//!   workload drives every shipped order to delivery);
//! - its saga is finished (`completed` for a delivered order, `compensated`
//!   for a cancelled one, or `compensation-failed` with a support ticket
//!   opened for the order) and no saga timer is left in the store;
//! - payment: at most one charge; a delivered order has exactly one, of its
//!   total, never refunded; a cancelled order that was charged was refunded
//!   exactly once and in full (one refund, equal to the charge, and the
//!   order says so); an order that was not charged has no refund, and every
//!   refund belongs to a charge of the workload;
//! - stock, per product, with D the level every product started with
//!   (`--stock`): `available + held by all orders = D` (nothing created or
//!   lost), and only delivered orders hold stock, each exactly its lines'
//!   quantities (a delivered order's allocation is the consumed stock; a
//!   cancelled order holds nothing: released, or never allocated);
//! - carrier: a delivered order has exactly one shipment, delivered, the one
//!   its order names; a cancelled order has no shipment that was not
//!   cancelled;
//! - customer: at most one confirmation and one cancellation notice per
//!   order; a delivered order got its confirmation and no cancellation, a
//!   cancelled order its cancellation and no confirmation, unless the notice
//!   gave up after all its attempts and a note on the order says so.
//!
//! The seed (env `CRASH_SEED`, else the time) is printed, and decides the
//! orders, the faults and the kill points (thread timing does the rest); the
//! assertions hold for any. A failing run keeps its directory (the store and
//! the simulation state) and prints where it is.
//!
//! `make test` builds the binary first; after changing the host, run
//! `cargo build -p order-host` (or `make build`) before running this test
//! alone, or it tests the previous binary.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use order_e2e::Rng;
use order_host::Simulation;
use order_host::bindings::fulfillment_saga::{SagaOutcome, SagaPhase};
use order_host::bindings::orders::OrderView;
use order_host::bindings::types::OrderStatus;
use order_host::carrier::simulated::ShipmentState;
use order_host::customer::NotificationType;
use order_host::engine::RuntimeConfig;
use order_host::store::SqliteStore;
use order_host::{EventStore as _, Host, HostOptions, StoreChoice, StorePolicy, SystemClock, load};

const ORDERS: usize = 300;
const CANCEL_EVERY: usize = 5;
const STOCK: u64 = 60;
const KILLS: usize = 5;
const FAULTS: &str = "payment=transient:0.2,lost:0.1;payment.process-payment=permanent:0.03;\
                      inventory=transient:0.1,lost:0.1;inventory.allocate-stock=permanent:0.02;\
                      carrier=transient:0.1,lost:0.1,latency:2ms;customer=transient:0.2,lost:0.1";
/// Short retries so the run takes seconds; a call lease (how long a saga
/// waits for a call in flight, also one lost to a kill) far above any call.
const POLICY: &str = r#"{
  "retry": {"max-attempts": 4, "base-delay-ms": 5, "max-delay-ms": 40, "jitter-permille": 200},
  "notification-retry": {"max-attempts": 6, "base-delay-ms": 5, "max-delay-ms": 40, "jitter-permille": 200},
  "call-lease-ms": 2000
}"#;

/// The test's directory: removed when the test passes, kept (and named)
/// when it fails, for a look at the store and the simulation state.
struct Workdir(Option<tempfile::TempDir>);

impl Workdir {
    fn path(&self) -> &Path {
        self.0
            .as_ref()
            .map(tempfile::TempDir::path)
            .expect("the directory")
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Some(dir) = self.0.take()
        {
            eprintln!(
                "the failed run's files are kept in {}",
                dir.keep().display()
            );
        }
    }
}

fn seed() -> u64 {
    match std::env::var("CRASH_SEED") {
        Ok(text) => text.trim().parse().expect("CRASH_SEED must be a number"),
        Err(_) => {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            Rng::new(nanos ^ u64::from(std::process::id())).below(1_000_000)
        }
    }
}

struct Run<'a> {
    dir: &'a Path,
    seed: u64,
}

/// A running `order-host load`, its progress read from its log.
struct Running {
    child: Child,
    /// Orders settled (delivered or cancelled), as the command reports them.
    settled: mpsc::Receiver<usize>,
    /// Everything else it wrote on stderr.
    stderr: std::thread::JoinHandle<String>,
}

impl Run<'_> {
    fn spawn(&self, json: bool) -> Running {
        let path = |name: &str| self.dir.join(name);
        // Only the flags below configure it (and no settings file: the
        // working directory is the test's own).
        let mut command = support::order_host(self.dir);
        command
            .arg("--store")
            .arg(path("orders.db"))
            .arg("--sim-state")
            .arg(path("sim.db"))
            .arg("--policy")
            .arg(path("policy.json"))
            .args(["--seed", &self.seed.to_string(), "--fault", FAULTS]);
        if json {
            command.arg("--json");
        }
        command
            .args(["load", "--orders", &ORDERS.to_string()])
            .args([
                "--concurrency",
                "4",
                "--cancel-every",
                &CANCEL_EVERY.to_string(),
            ])
            .args(["--cancel-after-ms", "300", "--wait", "60"])
            .args(["--stock", &STOCK.to_string()])
            .env("RUST_LOG", "error,order_host::load=debug")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("starting order-host");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, settled) = mpsc::channel();
        let stderr = std::thread::spawn(move || {
            let mut rest = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                match settled_count(&line) {
                    // The test may have stopped listening; the log goes on.
                    Some(count) => drop(tx.send(count)),
                    None => {
                        rest.push_str(&line);
                        rest.push('\n');
                    }
                }
            }
            rest
        });
        Running {
            child,
            settled,
            stderr,
        }
    }
}

/// `N` from a log line `... progress: N/M orders settled, ...`.
fn settled_count(line: &str) -> Option<usize> {
    let rest = &line[line.find("progress: ")? + "progress: ".len()..];
    rest[..rest.find('/')?].parse().ok()
}

impl Running {
    /// Waits until the command reports at least `target` settled orders,
    /// or ends; returns the last count seen.
    fn wait_for(&mut self, target: usize, limit: Duration) -> usize {
        let deadline = Instant::now() + limit;
        let mut last = 0;
        while Instant::now() < deadline {
            match self.settled.recv_timeout(Duration::from_millis(50)) {
                Ok(count) => {
                    last = count;
                    if count >= target {
                        break;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                // Its stderr closed: it has ended.
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        last
    }

    /// Waits for the end at most `limit`; kills it and fails after that.
    fn finish(mut self, limit: Duration) -> (ExitStatus, String, String) {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("waiting for order-host") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("order-host load did not finish within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stdout = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            let _ = out.read_to_string(&mut stdout);
        }
        let stderr = self.stderr.join().unwrap_or_default();
        (status, stdout, stderr)
    }
}

#[test]
fn a_host_killed_at_random_moments_loses_nothing_and_never_acts_twice() {
    let seed = seed();
    eprintln!("crash test seed: {seed} (run again with CRASH_SEED={seed})");
    let dir = Workdir(Some(tempfile::tempdir().expect("a temporary directory")));
    std::fs::write(dir.path().join("policy.json"), POLICY).expect("writing the policy");
    let run = Run {
        dir: dir.path(),
        seed,
    };
    let started = Instant::now();

    // Each kill lands when the work has reached a random point (so many
    // orders settled), plus a random few milliseconds: anywhere in placing,
    // cancelling, the sagas and the deliveries, which all run at once.
    let mut random = Rng::new(seed ^ 0x00C0_FFEE);
    let mut targets: Vec<usize> = (0..KILLS)
        .map(|_| random.below(ORDERS as u64) as usize)
        .collect();
    targets.sort_unstable();
    let mut landed = 0;
    for (kill, target) in targets.into_iter().enumerate() {
        let mut running = run.spawn(false);
        let seen = running.wait_for(target, Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(random.below(40)));
        match running.child.try_wait().expect("polling order-host") {
            None => {
                running.child.kill().expect("SIGKILL");
                running.child.wait().expect("reaping order-host");
                landed += 1;
                eprintln!(
                    "kill {}: SIGKILL at {seen}/{ORDERS} settled (target {target}); {}",
                    kill + 1,
                    progress(dir.path())
                );
            }
            Some(_) => {
                let (status, _, stderr) = running.finish(Duration::from_secs(1));
                assert!(
                    status.success(),
                    "order-host load failed: {status}\n{stderr}"
                );
                eprintln!("kill {}: the run had finished (target {target})", kill + 1);
            }
        }
    }

    let (status, stdout, stderr) = run.spawn(true).finish(Duration::from_secs(90));
    assert!(
        status.success(),
        "the last run must finish the work: {status}\n{stdout}\n{stderr}"
    );
    let summary: serde_json::Value = serde_json::from_str(&stdout).expect("the summary is JSON");
    eprintln!(
        "{landed} kill(s) landed; the last run finished in {} ms: {} delivered, {} cancelled; {:?} in all",
        summary["elapsed_ms"],
        summary["delivered"],
        summary["cancelled"],
        started.elapsed()
    );
    assert_eq!(summary["unfinished"], 0, "{summary}");
    assert_eq!(summary["sagas_unfinished"], 0, "{summary}");
    assert_eq!(summary["errors"], 0, "{summary}");

    check_invariants(dir.path(), seed);
}

/// Where the work stood when the host was killed, for the log.
fn progress(dir: &Path) -> String {
    let clock = Arc::new(SystemClock);
    let store = match SqliteStore::open(dir.join("orders.db"), clock.clone()) {
        Ok(store) => store,
        Err(e) => return format!("no store yet ({e})"),
    };
    let sim = match Simulation::open_durable(0, clock, dir.join("sim.db")) {
        Ok(sim) => sim,
        Err(e) => return format!("no simulation state yet ({e:#})"),
    };
    let stats = store.stats().unwrap_or_default();
    let shipments = sim.carrier.shipments();
    let delivered = shipments
        .iter()
        .filter(|s| s.state == ShipmentState::Delivered)
        .count();
    format!(
        "{} events, {} sagas scheduled, {} charges, {} shipments booked, {delivered} delivered",
        stats.events,
        stats.timers,
        sim.payment.charges().len(),
        shipments.len()
    )
}

fn check_invariants(dir: &Path, seed: u64) {
    let policy: StorePolicy = serde_json::from_str(POLICY).expect("the policy");
    let host = Host::start(HostOptions {
        store: StoreChoice::Sqlite(dir.join("orders.db")),
        sim_state: Some(dir.join("sim.db")),
        seed,
        policy,
        clock: Arc::new(SystemClock),
        runtime: RuntimeConfig {
            max_instances: 4,
            ..RuntimeConfig::default()
        },
        ..HostOptions::in_memory()
    })
    .expect("the host opens the store and replays the simulation state");
    let sim = &host.sim;

    assert_eq!(
        host.store.all_timers().expect("timers"),
        [],
        "no saga may be left scheduled"
    );

    let charges = sim.payment.charges();
    let refunds = sim.payment.refunds();
    let shipments = sim.carrier.shipments();
    let messages = sim.customer.messages();
    let tickets = sim.customer.tickets();
    let holdings = sim.inventory.holdings();
    let mut charged_and_refunded = 0;

    let orders: Vec<OrderView> = (0..ORDERS)
        .map(|index| {
            let id = load::order_id(seed, index);
            host.service
                .get_order(&id)
                .unwrap_or_else(|e| panic!("order {index} ({id}) was lost: {e}"))
        })
        .collect();

    for (index, order) in orders.iter().enumerate() {
        let id = &order.order_id;
        let what = format!("order {index} ({id}, {:?})", order.status);
        assert!(
            matches!(
                order.status,
                OrderStatus::Delivered | OrderStatus::Cancelled
            ),
            "{what} must end delivered or cancelled"
        );
        let delivered = order.status == OrderStatus::Delivered;

        // The saga.
        let report = host.service.saga_status(id).expect("saga status");
        assert_eq!(report.phase, SagaPhase::Finished, "{what}: {report:?}");
        assert_eq!(report.next_wake_at, None, "{what}: {report:?}");
        match (&report.outcome, delivered) {
            (Some(SagaOutcome::Completed(_)), true)
            | (Some(SagaOutcome::Compensated(_)), false) => {}
            (Some(SagaOutcome::CompensationFailed(failed)), false) => assert!(
                tickets.iter().any(|t| &t.order_id == id),
                "{what}: compensation failed ({failed:?}) without a support ticket"
            ),
            (outcome, _) => panic!("{what}: the saga ended {outcome:?}"),
        }

        // Payment.
        let mine: Vec<_> = charges.iter().filter(|c| &c.order_id == id).collect();
        assert!(mine.len() <= 1, "{what} was charged {} times", mine.len());
        let refunds_of = |txn: &str| -> Vec<u64> {
            refunds
                .iter()
                .filter(|r| r.transaction_id == txn)
                .map(|r| r.amount.amount)
                .collect()
        };
        match mine.first() {
            Some(charge) if delivered => {
                assert_eq!(charge.amount, order.total, "{what}: charged the total");
                assert_eq!(refunds_of(&charge.transaction_id), [0u64; 0], "{what}");
                let paid = order.payment.as_ref().expect("a delivered order is paid");
                assert_eq!(paid.transaction_id, charge.transaction_id, "{what}");
            }
            Some(charge) => {
                assert_eq!(
                    refunds_of(&charge.transaction_id),
                    [charge.amount.amount],
                    "{what}: a charged cancelled order is refunded once, in full"
                );
                assert_eq!(charge.refunded, charge.amount.amount, "{what}");
                assert_eq!(
                    order.refunded, charge.amount,
                    "{what}: the order records it"
                );
                charged_and_refunded += 1;
            }
            None => {
                assert!(!delivered, "{what}: delivered without being charged");
                assert_eq!(
                    order.refunded.amount, 0,
                    "{what}: refunded without a charge"
                );
            }
        }

        // Stock.
        let held = holdings.get(id).cloned().unwrap_or_default();
        if delivered {
            let mut lines: BTreeMap<String, u64> = BTreeMap::new();
            for item in &order.items {
                *lines.entry(item.product_id.clone()).or_default() += u64::from(item.quantity);
            }
            assert_eq!(held, lines, "{what} holds exactly its lines");
        } else {
            assert_eq!(held, BTreeMap::new(), "{what} holds no stock");
        }

        // Carrier.
        let booked: Vec<_> = shipments.iter().filter(|s| &s.order_id == id).collect();
        if delivered {
            assert_eq!(booked.len(), 1, "{what}: one shipment");
            assert_eq!(booked[0].state, ShipmentState::Delivered, "{what}");
            let shipping = order.shipping.as_ref().expect("shipping details");
            assert_eq!(booked[0].shipment_id, shipping.shipment_id, "{what}");
        } else {
            assert!(booked.len() <= 1, "{what}: {} shipments", booked.len());
            assert!(
                booked.iter().all(|s| s.state == ShipmentState::Cancelled),
                "{what}: a shipment of a cancelled order was not cancelled: {booked:?}"
            );
        }

        // Customer.
        let sent = |kind: NotificationType| {
            messages
                .iter()
                .filter(|m| &m.order_id == id && m.kind == kind)
                .count()
        };
        let gave_up = |notice: &str| order.notes.iter().any(|n| n.contains(notice));
        let (confirmations, cancellations) = (
            sent(NotificationType::OrderConfirmation),
            sent(NotificationType::OrderCancellation),
        );
        if delivered {
            assert_eq!(cancellations, 0, "{what}");
            assert!(
                confirmations == 1 || (confirmations == 0 && gave_up("order confirmation")),
                "{what}: {confirmations} confirmations"
            );
        } else {
            assert_eq!(confirmations, 0, "{what}");
            assert!(
                cancellations == 1 || (cancellations == 0 && gave_up("cancellation notice")),
                "{what}: {cancellations} cancellation notices"
            );
        }
    }

    // Nothing outside the workload was charged, and every refund belongs to
    // one of the charges checked above.
    let ours: HashMap<&str, &OrderView> = orders.iter().map(|o| (o.order_id.as_str(), o)).collect();
    assert!(
        charges
            .iter()
            .all(|c| ours.contains_key(c.order_id.as_str())),
        "a charge for an order outside the workload"
    );
    assert_eq!(
        refunds.len(),
        charged_and_refunded,
        "every refund is the one refund of a charged cancelled order"
    );

    // Stock adds up per product.
    for product in load::product_ids(seed) {
        let held: u64 = holdings
            .values()
            .filter_map(|products| products.get(&product))
            .sum();
        assert_eq!(
            sim.inventory.available(&product) + held,
            STOCK,
            "product {product}: available + held must be the initial stock"
        );
        assert!(
            sim.inventory.available(&product) <= STOCK,
            "product {product}: more on the shelf than ever was"
        );
    }
}

/// Two hosts on one simulation state would each act on charges and stock
/// the other does not see: the second `order-host load` fails at once,
/// naming the process that holds the state, and changes nothing.
#[test]
fn a_second_host_on_the_same_simulation_state_fails_at_once_naming_the_holder() {
    let dir = Workdir(Some(tempfile::tempdir().expect("a temporary directory")));
    std::fs::write(dir.path().join("policy.json"), POLICY).expect("writing the policy");
    let run = Run {
        dir: dir.path(),
        seed: 11,
    };
    let mut first = run.spawn(false);
    let seen = first.wait_for(1, Duration::from_secs(60));
    assert!(seen >= 1, "the first host settles orders");
    let holder = first.child.id();

    let started = Instant::now();
    let second = support::order_host(dir.path())
        .arg("--store")
        .arg(dir.path().join("other-orders.db"))
        .arg("--sim-state")
        .arg(dir.path().join("sim.db"))
        .args(["--seed", "11", "load", "--orders", "10"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("running the second order-host");
    let took = started.elapsed();
    let still_running = first.child.try_wait().expect("polling").is_none();
    let _ = first.child.kill();
    let _ = first.child.wait();

    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        !second.status.success(),
        "the second host must fail: {stderr}"
    );
    assert!(
        stderr.contains(&format!("pid {holder}")),
        "the message names the holder (pid {holder}): {stderr}"
    );
    assert!(
        took < Duration::from_secs(10),
        "it fails at once, not after {took:?}"
    );
    assert!(still_running, "the first host was not disturbed");
}
