//! The server keeps its promises, on the real `order-host` binary: a body
//! that never finishes is answered 408 within the body time-out, headers
//! that never finish close the connection within the header time-out, a
//! body over the limit is 413; and SIGTERM, with a half-sent request open
//! or with a backlog of sagas for the driver, exits within the shutdown
//! deadline, answers new requests 503 meanwhile, and loses nothing: every
//! acknowledged order is there after a restart.
//!
//! Time: about 10 s in all (a 3 s shutdown deadline spent on a half-sent
//! body, a shutdown with a saga backlog, two restarts).

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Launch, Server, order, read_all, send};

#[test]
fn slow_or_oversized_requests_are_cut_off_with_a_clear_answer() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("orders.db");
    let server = Server::start(
        dir.path(),
        &Launch::serve(&store).args(&[
            "--header-timeout-ms",
            "500",
            "--body-timeout-ms",
            "500",
            "--body-limit",
            "4096",
        ]),
    );

    // A body that stops half-way: 408 after the body time-out.
    let mut slow_body = server.connect();
    let started = Instant::now();
    send(
        &mut slow_body,
        "POST /orders HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"order_id\":",
    );
    let answer = read_all(&mut slow_body);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request-timeout"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // Headers that never end: the connection is closed.
    let mut slow_headers = server.connect();
    let started = Instant::now();
    send(&mut slow_headers, "GET /healthz HTTP/1.1\r\nHost: te");
    let answer = read_all(&mut slow_headers);
    assert!(!answer.contains("200 OK"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // Too large, declared or not.
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(5000));
    let reply = server.post("/orders", &serde_json::from_str::<Value>(&big).unwrap());
    assert_eq!(reply.status, 413, "{}", reply.text);
    let mut chunked = server.connect();
    send(
        &mut chunked,
        &format!(
            "POST /orders HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
            big.len()
        ),
    );
    let answer = read_all(&mut chunked);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // The server is fine afterwards.
    assert_eq!(
        server
            .post("/orders", &order("after-slow", "store-tests"))
            .status,
        201
    );
}

/// Every order in `ids` reads back 200 from a fresh server on `store`.
fn all_present(dir: &std::path::Path, store: &std::path::Path, ids: &[String]) {
    let server = Server::start(dir, &Launch::serve(store));
    for id in ids {
        let reply = server.get(&format!("/orders/{id}"));
        assert_eq!(
            reply.status, 200,
            "acknowledged order {id} is kept: {}",
            reply.text
        );
    }
}

#[cfg(unix)]
#[test]
fn sigterm_with_a_half_sent_request_exits_within_the_deadline_and_keeps_every_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("orders.db");
    let mut server = Server::start(
        dir.path(),
        &Launch::serve(&store).args(&["--shutdown-deadline", "3"]),
    );
    let mut acknowledged = Vec::new();
    for i in 0..5 {
        let body = order(&format!("half-{i}"), "store-tests");
        let reply = server.post("/orders", &body);
        assert_eq!(reply.status, 201, "{}", reply.text);
        acknowledged.push(body["order_id"].as_str().unwrap().to_owned());
    }
    // One client stalls in its headers, one in its body.
    let mut in_headers = server.connect();
    send(
        &mut in_headers,
        "POST /orders HTTP/1.1\r\nHost: test\r\nContent-Le",
    );
    let mut in_body = server.connect();
    send(
        &mut in_body,
        "POST /orders HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 900\r\n\r\n{\"order_id\":",
    );
    std::thread::sleep(Duration::from_millis(200));

    server.terminate();
    // Meanwhile a new request is refused with 503, not left hanging.
    std::thread::sleep(Duration::from_millis(200));
    if server.child.try_wait().unwrap().is_none() {
        let mut late = server.connect();
        send(
            &mut late,
            "GET /readyz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
        );
        let answer = read_all(&mut late);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 503"),
            "a request during the shutdown: {answer}"
        );
        if !answer.is_empty() {
            assert!(
                answer.to_ascii_lowercase().contains("retry-after"),
                "{answer}"
            );
        }
    }
    let (status, took) = server
        .wait_exit(Duration::from_secs(10))
        .expect("the server exits on SIGTERM despite half-open connections");
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_secs(3 + 2),
        "exited after {took:?}, deadline 3 s"
    );
    drop(server);
    all_present(dir.path(), &store, &acknowledged);
}

#[cfg(unix)]
#[test]
fn sigterm_with_a_driver_backlog_exits_within_the_deadline_and_keeps_every_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("orders.db");
    // A slow carrier: every saga waits for it, so a backlog builds up that
    // would take well over the deadline to work off.
    let global = ["--latency", "carrier=300ms"];
    let mut server = Server::start(
        dir.path(),
        &Launch::serve(&store)
            .global(&global)
            .args(&["--shutdown-deadline", "20"]),
    );
    let mut acknowledged = Vec::new();
    for i in 0..60 {
        let body = order(&format!("backlog-{i}"), "store-tests");
        let reply = server.post("/orders", &body);
        assert_eq!(reply.status, 201, "{}", reply.text);
        acknowledged.push(body["order_id"].as_str().unwrap().to_owned());
    }
    // Let the driver's first small pass end, so that SIGTERM finds it in
    // a pass over most of the backlog.
    std::thread::sleep(Duration::from_millis(1_000));
    let metrics = server.get("/metrics").text;
    let scheduled = metrics
        .lines()
        .find_map(|l| l.strip_prefix("order_host_store_saga_timers "))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .expect("the saga timer gauge");
    assert!(
        scheduled >= 20,
        "a backlog at SIGTERM: {scheduled} sagas scheduled"
    );
    eprintln!("{scheduled} sagas scheduled at SIGTERM");
    let started = Instant::now();
    server.terminate();
    let (status, _) = server
        .wait_exit(Duration::from_secs(30))
        .expect("the server exits on SIGTERM with a saga backlog");
    let took = started.elapsed();
    eprintln!("stopped {took:?} after SIGTERM");
    assert!(status.success(), "{status:?}");
    // Working off the pass would take about 5 s (some 0.4 s per saga, four
    // workers); the driver only finishes the advances it is in.
    assert!(
        took < Duration::from_secs(3),
        "exited after {took:?}: the driver kept taking sagas after SIGTERM"
    );
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(log.contains("stopped"), "{log}");
    drop(server);

    // Every acknowledged order is kept, and the unfinished sagas resume.
    let server = Server::start(dir.path(), &Launch::serve(&store));
    for id in &acknowledged {
        let reply = server.get(&format!("/orders/{id}"));
        assert_eq!(
            reply.status, 200,
            "acknowledged order {id} is kept: {}",
            reply.text
        );
    }
    let last = acknowledged.last().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let order = server.get(&format!("/orders/{last}")).json;
        if order["status"] == "shipped" {
            break;
        }
        assert!(Instant::now() < deadline, "the saga resumed: {order}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
