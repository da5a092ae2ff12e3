//! Every stored event is heard, on the real `order-host serve`: a receiver
//! on 127.0.0.1 that fails the first deliveries and then accepts gets every
//! public event, in feed order (so in order per order), each signed with
//! the endpoint's secret, retries carrying the same event id; the delivery
//! log shows the failures, redeliver sends an event again, and a restart in
//! the middle loses nothing and resends nothing acknowledged. `GET /events`
//! pages over a few hundred events without gaps or duplicates.

mod support;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Launch, Server, order};

/// One POST the receiver got.
#[derive(Debug, Clone)]
struct Received {
    event_id_header: String,
    signature: String,
    body: String,
    answered: u16,
}

/// A webhook receiver on 127.0.0.1: answers 500 to the first `fail_first`
/// requests and while `failing` is set, 200 otherwise.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    failing: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    fn start(fail_first: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let failing = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (got, failing, stop) = (got.clone(), failing.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let Ok((stream, _)) = listener.accept() else {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    stream.set_nonblocking(false).unwrap();
                    stream
                        .set_read_timeout(Some(Duration::from_secs(5)))
                        .unwrap();
                    let mut reader = BufReader::new(stream);
                    let mut headers = Vec::new();
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        headers.push(line.trim_end().to_owned());
                    }
                    let header = |name: &str| {
                        headers
                            .iter()
                            .filter_map(|h| h.split_once(':'))
                            .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
                            .map(|(_, v)| v.trim().to_owned())
                            .unwrap_or_default()
                    };
                    let length: usize = header("content-length").parse().unwrap_or(0);
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        continue;
                    }
                    let n = seen.fetch_add(1, Ordering::SeqCst);
                    let status = if n < fail_first || failing.load(Ordering::SeqCst) {
                        500
                    } else {
                        200
                    };
                    got.lock().unwrap().push(Received {
                        event_id_header: header("order-event-id"),
                        signature: header("order-signature"),
                        body: String::from_utf8_lossy(&body).into_owned(),
                        answered: status,
                    });
                    let mut stream = reader.into_inner();
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                    let _ = stream.flush();
                }
            })
        };
        Receiver {
            url,
            got,
            failing,
            stop,
            thread: Some(thread),
        }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// The event ids acknowledged, in the order they were.
    fn accepted_ids(&self) -> Vec<String> {
        self.received()
            .into_iter()
            .filter(|r| r.answered == 200)
            .map(|r| r.event_id_header)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn launch(store: &std::path::Path) -> Launch {
    Launch::serve(store).args(&[
        "--webhook-retry-base-ms",
        "50",
        "--webhook-retry-max-ms",
        "200",
        "--webhook-poll-ms",
        "50",
        "--webhook-timeout-ms",
        "2000",
    ])
}

/// Every public event in the feed, paging with `limit`.
fn all_events(server: &Server, limit: usize) -> Vec<Value> {
    let mut items = Vec::new();
    let mut path = format!("/events?limit={limit}");
    for _ in 0..10_000 {
        let page = server.get(&path);
        assert_eq!(page.status, 200, "{}", page.text);
        let got = page.json["items"].as_array().unwrap().clone();
        let done = got.is_empty();
        items.extend(got);
        match page.json["next_cursor"].as_str() {
            Some(cursor) if !done => path = format!("/events?after={cursor}&limit={limit}"),
            _ => return items,
        }
    }
    panic!("the feed did not end");
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the feed stops growing (the sagas have settled).
fn settled_events(server: &Server) -> Vec<Value> {
    let mut last = all_events(server, 200);
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(400));
        let now = all_events(server, 200);
        if now.len() == last.len() {
            return now;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the feed kept growing"
        );
        last = now;
    }
}

fn ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_failing_then_recovering_receiver_hears_every_event_in_order_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("events.db");
    let receiver = Receiver::start(3);
    let mut server = Server::start(dir.path(), &launch(&store));

    let created = server.post("/webhook-endpoints", &json!({"url": receiver.url}));
    assert_eq!(created.status, 201, "{}", created.text);
    let endpoint = created.json["id"].as_str().unwrap().to_owned();
    let secret = created.json["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(created.json["event_types"], json!(["*"]));
    let shown = server.get(&format!("/webhook-endpoints/{endpoint}"));
    assert_eq!(shown.status, 200);
    assert!(
        !shown.text.contains(&secret),
        "the secret is shown only once"
    );
    let listed = server.get("/webhook-endpoints");
    assert_eq!(listed.json["items"][0]["id"], endpoint.as_str());
    assert!(!listed.text.contains(&secret));

    for name in ["hear-1", "hear-2", "hear-3"] {
        let placed = server.post("/orders", &order(name, "hearer"));
        assert_eq!(placed.status, 201, "{}", placed.text);
    }
    let expected = ids(&settled_events(&server));
    assert!(expected.len() >= 6, "a few public events: {expected:?}");
    wait_until("every event acknowledged", Duration::from_secs(30), || {
        receiver.accepted_ids().len() >= expected.len()
    });
    assert_eq!(
        receiver.accepted_ids(),
        expected,
        "every event once, in feed order"
    );

    // The first three attempts failed: all of the first event, same id.
    let received = receiver.received();
    assert!(received[..3].iter().all(|r| r.answered == 500));
    assert!(
        received[..4]
            .iter()
            .all(|r| r.event_id_header == expected[0]),
        "retries carry the same event id"
    );
    let mut per_order: std::collections::HashMap<String, Vec<String>> = Default::default();
    for r in &received {
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(
            body["id"],
            r.event_id_header.as_str(),
            "the id is in the body too"
        );
        assert!(body["type"].as_str().unwrap().contains('.'));
        assert!(body["occurred_at"].as_str().unwrap().ends_with('Z'));
        order_server::webhooks::verify(
            secret.as_bytes(),
            Some(&r.signature),
            r.body.as_bytes(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            Duration::from_secs(300),
        )
        .unwrap_or_else(|e| panic!("the signature holds: {e}"));
        if r.answered == 200 {
            per_order
                .entry(body["order_id"].as_str().unwrap().to_owned())
                .or_default()
                .push(body["type"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(per_order.len(), 3);
    for types in per_order.values() {
        assert_eq!(
            types[0], "order.placed",
            "placed comes first per order: {types:?}"
        );
    }

    // The log shows the failures, then the success.
    let log = server.get(&format!("/webhook-endpoints/{endpoint}/deliveries?limit=4"));
    assert_eq!(log.status, 200, "{}", log.text);
    let attempts: Vec<(u64, Value, bool)> = log.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["attempt"].as_u64().unwrap(),
                d["status_code"].clone(),
                d["succeeded"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        attempts,
        [
            (1, json!(500), false),
            (2, json!(500), false),
            (3, json!(500), false),
            (4, json!(200), true)
        ]
    );
    assert!(
        log.json["next_cursor"].is_string(),
        "more of the log follows"
    );

    // Redeliver sends the first event again, as attempt 5.
    let again = server.post(
        &format!(
            "/webhook-endpoints/{endpoint}/deliveries/{}/redeliver",
            expected[0]
        ),
        &json!({}),
    );
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json["attempt"], 5);
    assert_eq!(again.json["status_code"], 200);
    assert_eq!(receiver.accepted_ids().last(), Some(&expected[0]));
    let unknown = server.post(
        &format!("/webhook-endpoints/{endpoint}/deliveries/evt_order-nope.1/redeliver"),
        &json!({}),
    );
    unknown.assert_problem(404, None, "an event never delivered");

    // The receiver goes down; an order placed now waits; the server restarts.
    receiver.failing.store(true, Ordering::SeqCst);
    let before_restart = receiver.accepted_ids().len();
    let placed = server.post("/orders", &order("hear-4", "hearer"));
    assert_eq!(placed.status, 201, "{}", placed.text);
    wait_until(
        "a failed attempt of the new order",
        Duration::from_secs(30),
        || {
            receiver
                .received()
                .last()
                .is_some_and(|r| r.answered == 500)
        },
    );
    server.terminate();
    assert!(
        server.wait_exit(Duration::from_secs(30)).is_some(),
        "the server stopped"
    );
    receiver.failing.store(false, Ordering::SeqCst);
    let server = Server::start(dir.path(), &launch(&store));
    let after = ids(&settled_events(&server));
    assert!(after.len() > expected.len());
    wait_until("the new order's events", Duration::from_secs(30), || {
        receiver.accepted_ids().len() >= before_restart + after.len() - expected.len()
    });
    let accepted = receiver.accepted_ids();
    assert_eq!(
        &accepted[before_restart..],
        &after[expected.len()..],
        "after the restart: exactly the events not yet acknowledged, in order"
    );
    server.stop();
}

#[test]
fn the_feed_pages_over_hundreds_of_events_without_gaps_or_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &Launch::serve("memory"));
    for i in 0..70 {
        let placed = server.post(
            "/orders",
            &order(&format!("page-{i}"), &format!("c{}", i % 7)),
        );
        assert_eq!(placed.status, 201, "{}", placed.text);
    }
    let whole = settled_events(&server);
    assert!(whole.len() >= 200, "a few hundred events: {}", whole.len());
    let all = ids(&whole);
    let unique: std::collections::HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "no duplicates");
    for limit in [1, 7, 50] {
        assert_eq!(ids(&all_events(&server, limit)), all, "pages of {limit}");
    }
    // The Link header names the next page.
    let mut request = ureq::get(format!("{}/events?limit=5", server.base))
        .header("authorization", support::admin_bearer())
        .call()
        .unwrap();
    let link = request.headers()["link"].to_str().unwrap().to_owned();
    let page: Value = serde_json::from_str(&request.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(
        link,
        format!(
            "</events?limit=5&after={}>; rel=\"next\"",
            page["next_cursor"].as_str().unwrap()
        )
    );
    // Bad parameters are 400 problems naming them.
    server
        .get("/events?limit=0")
        .assert_problem(400, Some("limit"), "limit 0");
    server
        .get("/events?limit=201")
        .assert_problem(400, Some("limit"), "limit 201");
    server
        .get("/events?after=bogus")
        .assert_problem(400, Some("after"), "a cursor not issued");
    server
        .get("/events?colour=red")
        .assert_problem(400, Some("colour"), "an unknown parameter");
    // The shape of one event.
    let first = &whole[0];
    assert_eq!(first["type"], "order.placed");
    assert!(first["order_id"].is_string());
    assert!(first["data"]["placed_at"].as_str().unwrap().ends_with('Z'));
    assert!(first["data"].get("type").is_none());
    server.stop();
}

#[test]
fn endpoints_refuse_bad_urls_and_unknown_types_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &Launch::serve("memory"));
    server
        .post("/webhook-endpoints", &json!({"url": "ftp://example.com/x"}))
        .assert_problem(400, Some("url"), "an ftp URL");
    server
        .post("/webhook-endpoints", &json!({"url": "not a url"}))
        .assert_problem(400, Some("url"), "no URL");
    server
        .post(
            "/webhook-endpoints",
            &json!({"url": "http://127.0.0.1:9/x", "event_types": ["order.placed", "order.exploded"]}),
        )
        .assert_problem(400, Some("event_types[1]"), "an unknown type");
    server
        .post("/webhook-endpoints", &json!({"event_types": []}))
        .assert_problem(400, Some("url"), "no url");
    let created = server.post(
        "/webhook-endpoints",
        &json!({"url": "http://127.0.0.1:9/x", "event_types": ["order.paid", "order.paid"]}),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.json["event_types"], json!(["order.paid"]));
    let id = created.json["id"].as_str().unwrap();
    assert_eq!(
        server
            .request("DELETE", &format!("/webhook-endpoints/{id}"), None, &[])
            .status,
        204
    );
    server
        .get(&format!("/webhook-endpoints/{id}"))
        .assert_problem(404, None, "a deleted endpoint");
    server
        .request("DELETE", &format!("/webhook-endpoints/{id}"), None, &[])
        .assert_problem(404, None, "deleted twice");
    server.stop();
}
