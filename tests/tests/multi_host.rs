//! Several `order-host serve` processes sharing one PostgreSQL store and one
//! `order-host simulate` behave as one order service: orders placed through
//! any host survive SIGKILLs of random hosts at random moments, every saga
//! finishes (a dead host's sagas are taken over after its lease), nothing is
//! charged twice, every cancelled paid order is refunded exactly once, and
//! the stock adds up; concurrent commands for one order through two hosts
//! leave one history.
//!
//! Needs a PostgreSQL server: `ORDER_TEST_POSTGRES` (set by `make test`,
//! which starts a throwaway one); each test works in a database of its own
//! and drops it at the end. The kill test is bounded by `DEADLINE` (about
//! 20 s on a 2-core machine).

mod support;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use order_e2e::Rng;
use serde_json::{Value, json};
use support::{Launch, Server, at_once, id};

/// How long the kill test may take from the first order to the last check.
const DEADLINE: Duration = Duration::from_secs(60);
/// Short retries; a call lease (how long a saga waits for a call that may
/// still be in flight, also one lost with a killed host) far above any call.
const POLICY: &str = r#"{
  "retry": {"max-attempts": 50, "base-delay-ms": 10, "max-delay-ms": 100, "jitter-permille": 200},
  "notification-retry": {"max-attempts": 50, "base-delay-ms": 10, "max-delay-ms": 100, "jitter-permille": 200},
  "call-lease-ms": 1000
}"#;
/// How long a host's claim on a saga lasts; a killed host's sagas are taken
/// over after it.
const SAGA_LEASE_MS: &str = "1500";

// --- the database -----------------------------------------------------------

/// The test server's URL; fails the test loudly without one.
fn server_url() -> String {
    match std::env::var("ORDER_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "ORDER_TEST_POSTGRES is not set: run the tests with `make test` (it starts a \
             throwaway PostgreSQL) or point it at a server, e.g. \
             ORDER_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres"
        ),
    }
}

/// A database of its own on the test server, dropped when this is dropped.
struct Database {
    /// Behind a mutex so that the cluster can be shared between threads.
    admin: Mutex<postgres::Client>,
    name: String,
    url: String,
}

impl Database {
    fn create(label: &str) -> Database {
        let server = server_url();
        let mut admin = postgres::Client::connect(&server, postgres::NoTls)
            .unwrap_or_else(|e| panic!("connecting to ORDER_TEST_POSTGRES: {e}"));
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("mh_{label}_{}_{nanos}", std::process::id());
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        // Same server, same user, the new database.
        let base = server
            .rsplit_once('/')
            .map_or(server.as_str(), |(base, _)| base);
        let url = format!("{base}/{name}");
        Database {
            admin: Mutex::new(admin),
            name,
            url,
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let admin = self.admin.get_mut().unwrap_or_else(|e| e.into_inner());
        let _ = admin.batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

// --- the processes ----------------------------------------------------------

/// The shared backends and how to start hosts against them.
struct Cluster {
    dir: tempfile::TempDir,
    db: Database,
    sim: Server,
}

impl Cluster {
    fn start(label: &str) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("policy.json"), POLICY).unwrap();
        let db = Database::create(label);
        let sim_state = dir.path().join("sim.db");
        let sim = Server::start(
            dir.path(),
            &Launch::simulate().global(&[
                "--seed",
                "7",
                "--sim-state",
                sim_state.to_str().unwrap(),
            ]),
        );
        Cluster { dir, db, sim }
    }

    fn host(&self, name: &str) -> Server {
        let mut launch = Launch::serve(&self.db.url)
            .named(name)
            .global(&[
                "--policy",
                self.dir.path().join("policy.json").to_str().unwrap(),
            ])
            .args(&["--saga-lease-ms", SAGA_LEASE_MS]);
        for context in ["payment", "inventory", "carrier", "customer"] {
            let backend = format!("{context}={}", self.sim.base);
            launch = launch.global(&["--backend", backend.as_str()]);
        }
        Server::start(self.dir.path(), &launch)
    }
}

// --- HTTP -------------------------------------------------------------------

/// `(status, body)`, or `None` when the host could not be reached or did
/// not answer (it may have been killed mid-request).
fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    body: Option<&Value>,
) -> Option<(u16, Value)> {
    let body = body.map(Value::to_string);
    let reply = support::request(agent, method, url, body.as_deref(), &[]).ok()?;
    Some((reply.status, reply.json))
}

/// 2 mugs at 25.00 and 1 tea at 10.00, shared products so stock is
/// contended; a customer of its own.
fn order(name: &str) -> Value {
    support::order(name, name)
}

// --- the tests --------------------------------------------------------------

const HOSTS: usize = 3;
const ORDERS: usize = 60;
const CANCEL_EVERY: usize = 3;
const KILLS: usize = 4;

#[test]
fn three_hosts_with_random_kills_lose_no_order_finish_every_saga_and_never_charge_twice() {
    let seed = std::env::var("MULTI_HOST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("multi-host seed {seed} (replay with MULTI_HOST_SEED={seed})");
    let started = Instant::now();
    let cluster = Cluster::start("kill");
    let hosts: Vec<Mutex<Server>> = (0..HOSTS)
        .map(|n| Mutex::new(cluster.host(&format!("host-{n}"))))
        .collect();
    let bases: Vec<Mutex<String>> = hosts
        .iter()
        .map(|h| Mutex::new(h.lock().unwrap().base.clone()))
        .collect();
    let agent = support::agent(Duration::from_secs(10));

    let kills = AtomicUsize::new(0);
    // (order id, acknowledged, cancel accepted)
    let outcomes: Mutex<Vec<(String, bool, bool)>> = Mutex::new(Vec::new());

    std::thread::scope(|scope| {
        // The killer: SIGKILLs a random host at a random moment, restarts it.
        scope.spawn(|| {
            let mut rng = Rng::new(seed ^ 0x5eed);
            for _ in 0..KILLS {
                std::thread::sleep(Duration::from_millis(300 + rng.below(900)));
                if started.elapsed() > DEADLINE / 2 {
                    break;
                }
                let victim = rng.below(HOSTS as u64) as usize;
                let mut host = hosts[victim].lock().unwrap();
                host.kill();
                kills.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(rng.below(400)));
                *host = cluster.host(&format!("host-{victim}"));
                *bases[victim].lock().unwrap() = host.base.clone();
            }
        });

        // Two clients placing orders through all hosts, cancelling some.
        let mut clients = Vec::new();
        for client in 0..2 {
            let (agent, bases, outcomes) = (&agent, &bases, &outcomes);
            clients.push(scope.spawn(move || {
                let mut rng = Rng::new(seed.wrapping_add(client));
                for n in (client as usize..ORDERS).step_by(2) {
                    let body = order(&format!("{seed}-{n}"));
                    let order_id = body["order_id"].as_str().unwrap().to_owned();
                    let mut acknowledged = false;
                    // Retry on another host until one answers; a repeat of
                    // an order that did get in answers 200 with the order as
                    // it is now (409 never: the content is the same).
                    for attempt in 0..40 {
                        let base = bases[(n + attempt) % HOSTS].lock().unwrap().clone();
                        match send(agent, "POST", &format!("{base}/orders"), Some(&body)) {
                            Some((201, _)) => {
                                acknowledged = true;
                                break;
                            }
                            Some((200, _)) if attempt > 0 => {
                                acknowledged = true;
                                break;
                            }
                            Some((status, reply)) if status < 500 => {
                                panic!("placing {order_id}: {status} {reply}")
                            }
                            _ => std::thread::sleep(Duration::from_millis(50)),
                        }
                    }
                    let mut cancelled = false;
                    if acknowledged && n % CANCEL_EVERY == 0 {
                        // Right away (racing the payment) or a little later.
                        std::thread::sleep(Duration::from_millis(rng.below(60)));
                        let cancel =
                            json!({"reason": "changed my mind", "cancelled_by": "customer"});
                        for attempt in 0..40 {
                            let base = bases[(n + attempt + 1) % HOSTS].lock().unwrap().clone();
                            let url = format!("{base}/orders/{order_id}/cancel");
                            match send(agent, "POST", &url, Some(&cancel)) {
                                Some((200, _)) => {
                                    cancelled = true;
                                    break;
                                }
                                // Already shipped, or (after an unanswered
                                // try) already cancelled by that try.
                                Some((409, reply)) => {
                                    cancelled = reply["state"] == "cancelled";
                                    break;
                                }
                                Some((status, reply)) if status < 500 => {
                                    panic!("cancelling {order_id}: {status} {reply}")
                                }
                                _ => std::thread::sleep(Duration::from_millis(50)),
                            }
                        }
                    }
                    outcomes
                        .lock()
                        .unwrap()
                        .push((order_id, acknowledged, cancelled));
                }
            }));
        }
        for client in clients {
            client.join().unwrap();
        }
    });
    let outcomes = outcomes.into_inner().unwrap();
    assert_eq!(outcomes.len(), ORDERS);
    assert!(
        outcomes.iter().all(|(_, acknowledged, _)| *acknowledged),
        "some orders were never acknowledged by any host: {outcomes:?}"
    );
    eprintln!(
        "{} kill(s); {} orders placed, {} cancelled, in {} ms",
        kills.load(Ordering::SeqCst),
        outcomes.len(),
        outcomes.iter().filter(|o| o.2).count(),
        started.elapsed().as_millis()
    );
    assert!(kills.load(Ordering::SeqCst) >= 1, "no kill landed");

    // Every saga finishes, whichever host runs it.
    let base = bases[0].lock().unwrap().clone();
    let mut unfinished: Vec<String> = outcomes.iter().map(|o| o.0.clone()).collect();
    while !unfinished.is_empty() {
        assert!(
            started.elapsed() < DEADLINE,
            "{} saga(s) unfinished after {DEADLINE:?}, e.g. {}",
            unfinished.len(),
            send(
                &agent,
                "GET",
                &format!("{base}/orders/{}/saga", unfinished[0]),
                None
            )
            .map(|(_, v)| v.to_string())
            .unwrap_or_default()
        );
        unfinished.retain(|order_id| {
            let saga = send(
                &agent,
                "GET",
                &format!("{base}/orders/{order_id}/saga"),
                None,
            );
            !matches!(saga, Some((200, ref s)) if s["phase"] == "finished")
        });
        if !unfinished.is_empty() {
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    // The backends' view: one charge per order at most, every cancelled
    // charge refunded once and in full, stock held only by live orders.
    let (status, state) = send(
        &agent,
        "GET",
        &format!("{}/sim/state", cluster.sim.base),
        None,
    )
    .unwrap();
    assert_eq!(status, 200);
    let charges = state["charges"].as_array().unwrap();
    let refunds = state["refunds"].as_array().unwrap();
    for (order_id, _, cancelled) in &outcomes {
        let (status, order) =
            send(&agent, "GET", &format!("{base}/orders/{order_id}"), None).unwrap();
        assert_eq!(
            status, 200,
            "acknowledged order {order_id} is missing: {order}"
        );
        let (_, saga) = send(
            &agent,
            "GET",
            &format!("{base}/orders/{order_id}/saga"),
            None,
        )
        .unwrap();
        assert_ne!(
            saga["outcome"]["kind"], "compensation-failed",
            "order {order_id}: {saga}"
        );
        let mine: Vec<&Value> = charges
            .iter()
            .filter(|c| c["order_id"] == *order_id)
            .collect();
        assert!(
            mine.len() <= 1,
            "order {order_id} charged {} times: {mine:?}",
            mine.len()
        );
        let held = &state["holdings"][order_id];
        if *cancelled {
            assert_eq!(order["status"], "cancelled", "{order}");
            if let Some(charge) = mine.first() {
                let its_refunds: Vec<&Value> = refunds
                    .iter()
                    .filter(|r| r["transaction_id"] == charge["transaction_id"])
                    .collect();
                assert_eq!(its_refunds.len(), 1, "order {order_id}: {its_refunds:?}");
                assert_eq!(
                    its_refunds[0]["amount"], charge["amount"],
                    "order {order_id}"
                );
                assert_eq!(charge["refunded"], charge["amount"], "order {order_id}");
            }
            assert!(
                held.is_null(),
                "cancelled order {order_id} still holds {held}"
            );
        } else if order["status"] == "cancelled" {
            // Failed and compensated (a decline or no stock): nothing kept.
            if let Some(charge) = mine.first() {
                assert_eq!(charge["refunded"], charge["amount"], "order {order_id}");
            }
            assert!(
                held.is_null(),
                "cancelled order {order_id} still holds {held}"
            );
        } else {
            assert_eq!(order["status"], "shipped", "{order}");
            assert_eq!(mine.len(), 1, "shipped order {order_id} has no charge");
            assert_eq!(
                mine[0]["amount"], order["total"]["amount"],
                "order {order_id}"
            );
            assert_eq!(mine[0]["refunded"], 0, "order {order_id}");
            let mug = id("product:mug");
            let tea = id("product:tea");
            assert_eq!(held[&mug], 2, "order {order_id} holds {held}");
            assert_eq!(held[&tea], 1, "order {order_id} holds {held}");
        }
    }
    // Stock adds up: what is held is exactly what the live orders hold.
    let shipped = outcomes
        .iter()
        .filter(|(order_id, _, _)| {
            send(&agent, "GET", &format!("{base}/orders/{order_id}"), None)
                .is_some_and(|(_, o)| o["status"] == "shipped")
        })
        .count() as u64;
    assert_eq!(state["total_held"], 3 * shipped, "{state}");
    let refunded_transactions: std::collections::BTreeSet<&str> = refunds
        .iter()
        .map(|r| r["transaction_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        refunded_transactions.len(),
        refunds.len(),
        "a charge was refunded twice: {refunds:?}"
    );
    eprintln!("checked in {} ms", started.elapsed().as_millis());
}

#[test]
fn concurrent_commands_for_one_order_through_two_hosts_leave_one_history() {
    let cluster = Cluster::start("race");
    let first = cluster.host("host-a");
    let second = cluster.host("host-b");
    let hosts = [first.base.clone(), second.base.clone()];
    let agent = support::agent(Duration::from_secs(10));

    for round in 0..3 {
        let body = order(&format!("race-{round}-{}", std::process::id()));
        let order_id = body["order_id"].as_str().unwrap().to_owned();
        let replies = at_once(4, |i| {
            send(
                &agent,
                "POST",
                &format!("{}/orders", hosts[i % 2]),
                Some(&body),
            )
            .expect("the host answers")
        });
        // Placing is idempotent by order id: the placement that wrote the
        // order answers 201, an identical one 200 with the order as it is
        // now (the history below has one `order-placed`).
        assert!(
            replies.iter().all(|r| r.0 == 200 || r.0 == 201),
            "{replies:?}"
        );
        assert!(replies.iter().any(|r| r.0 == 201), "{replies:?}");
        assert!(
            replies.iter().all(|r| r.1["order_id"] == order_id),
            "{replies:?}"
        );

        let cancels = at_once(6, |i| {
            let body = json!({"reason": format!("attempt {i}"), "cancelled_by": "customer"});
            send(
                &agent,
                "POST",
                &format!("{}/orders/{order_id}/cancel", hosts[i % 2]),
                Some(&body),
            )
            .expect("the host answers")
        });
        let won = cancels.iter().filter(|r| r.0 == 200).count();
        let shipped_first = cancels
            .iter()
            .all(|r| r.0 == 409 && r.1["state"] == "shipped");
        assert!(won == 1 || shipped_first, "{cancels:?}");

        // Both hosts read the same history, versions 1..=n without a gap.
        let (_, events_a) = send(
            &agent,
            "GET",
            &format!("{}/orders/{order_id}/events", hosts[0]),
            None,
        )
        .unwrap();
        let (_, events_b) = send(
            &agent,
            "GET",
            &format!("{}/orders/{order_id}/events", hosts[1]),
            None,
        )
        .unwrap();
        let events = events_a.as_array().unwrap();
        let types: Vec<&str> = events
            .iter()
            .map(|e| e["event_type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types.iter().filter(|t| **t == "order-placed").count(),
            1,
            "{types:?}"
        );
        assert_eq!(
            types.iter().filter(|t| **t == "order-cancelled").count(),
            usize::from(won == 1),
            "{types:?}"
        );
        let versions: Vec<u64> = events
            .iter()
            .map(|e| e["version"].as_u64().unwrap())
            .collect();
        assert_eq!(versions, (1..=versions.len() as u64).collect::<Vec<_>>());
        let prefix =
            &events_b.as_array().unwrap()[..events.len().min(events_b.as_array().unwrap().len())];
        assert_eq!(
            prefix,
            &events[..prefix.len()],
            "the hosts disagree on the history"
        );
    }
}
