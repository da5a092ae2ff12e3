//! Retrying is safe, on the real `order-host serve`: a placement repeated
//! with the same id and content answers 200 with the order as it is now
//! (whatever its state; 50 parallel copies never get an error), the same id
//! with other content is 409 `id-already-used`; and `Idempotency-Key` has
//! Stripe's semantics on every command: the first response replayed to a
//! retry with the same body (also after a restart: the records are in the
//! store), 422 for the same key with another body, and one execution for
//! concurrent requests with one key.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Launch, Server, admin_bearer, at_once, order};

struct Answer {
    status: u16,
    replayed: bool,
    json: Value,
}

fn call(server: &Server, path: &str, body: &Value, key: Option<&str>) -> Answer {
    let mut headers = vec![("authorization", admin_bearer())];
    if let Some(key) = key {
        headers.push(("idempotency-key", key.to_owned()));
    }
    let url = format!("http://{}{path}", server.address());
    let body = Some(("application/json", body.to_string()));
    let mut response = support::exchange(
        &support::agent(Duration::from_secs(30)),
        "POST",
        &url,
        body,
        &headers,
    )
    .expect("the server answers");
    let replayed = response
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true");
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Answer {
        status: response.status().as_u16(),
        replayed,
        json: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

fn wait_until_not_pending(server: &Server, order_id: &str) -> Value {
    let started = Instant::now();
    loop {
        let order = server.get(&format!("/orders/{order_id}")).json;
        if order["status"] != "pending" {
            return order;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the saga moved the order on"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_repeated_placement_answers_the_order_as_it_is_now_and_other_content_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &Launch::serve(dir.path().join("orders.db")));
    let body = order("repeat", "store-tests");
    let order_id = body["order_id"].as_str().unwrap().to_owned();
    assert_eq!(call(&server, "/orders", &body, None).status, 201);
    let moved_on = wait_until_not_pending(&server, &order_id);

    let again = call(&server, "/orders", &body, None);
    assert_eq!(again.status, 200, "{}", again.json);
    assert_eq!(again.json["order_id"], order_id.as_str());
    assert_ne!(again.json["status"], "pending", "the order as it is now");
    assert!(
        again.json["version"].as_u64() >= moved_on["version"].as_u64(),
        "never an older state"
    );

    let mut other = body.clone();
    other["items"][0]["quantity"] = json!(7);
    let refused = call(&server, "/orders", &other, None);
    assert_eq!(refused.status, 409, "{}", refused.json);
    assert_eq!(
        refused.json["type"],
        "urn:order-host:problem:id-already-used"
    );
    assert_eq!(refused.json["field"], "order_id");
}

#[test]
fn fifty_parallel_identical_placements_all_succeed_and_place_one_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &Launch::serve(dir.path().join("orders.db")));
    let body = order("parallel", "store-tests");
    let statuses = at_once(50, |_| call(&server, "/orders", &body, None).status);
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 201),
        "never an error: {statuses:?}"
    );
    assert!(statuses.contains(&201), "one placed it: {statuses:?}");
    let orders = server
        .get(&format!(
            "/customers/{}/orders",
            body["customer_id"].as_str().unwrap()
        ))
        .json;
    assert_eq!(
        orders["items"].as_array().map(Vec::len),
        Some(1),
        "one order"
    );
}

#[test]
fn an_idempotency_key_replays_the_first_answer_even_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("orders.db");
    let server = Server::start(dir.path(), &Launch::serve(&store));
    let mut draft = order("keyed", "store-tests");
    draft["draft"] = json!(true);
    let order_id = draft["order_id"].as_str().unwrap().to_owned();
    assert_eq!(call(&server, "/orders", &draft, None).status, 201);

    let cancel = json!({"reason": "changed my mind"});
    let path = format!("/orders/{order_id}/cancel");
    let first = call(&server, &path, &cancel, Some("cancel-1"));
    assert_eq!(first.status, 200, "{}", first.json);
    assert!(!first.replayed);
    // Without the key the retry is refused: the order is cancelled already.
    assert_eq!(call(&server, &path, &cancel, None).status, 409);
    // With it, the first answer again.
    let retry = call(&server, &path, &cancel, Some("cancel-1"));
    assert_eq!((retry.status, retry.replayed), (200, true));
    assert_eq!(retry.json, first.json);
    // The same key for another body is a mistake of the client.
    let reused = call(
        &server,
        &path,
        &json!({"reason": "other"}),
        Some("cancel-1"),
    );
    assert_eq!(reused.status, 422, "{}", reused.json);
    assert_eq!(
        reused.json["type"],
        "urn:order-host:problem:idempotency-key-reused"
    );
    // A malformed key names the header.
    let long = "k".repeat(256);
    let malformed = call(&server, &path, &cancel, Some(&long));
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.json["field"], "Idempotency-Key");
    drop(server);

    let server = Server::start(dir.path(), &Launch::serve(&store));
    let after = call(&server, &path, &cancel, Some("cancel-1"));
    assert_eq!(
        (after.status, after.replayed),
        (200, true),
        "kept in the store"
    );
    assert_eq!(after.json, first.json);
}

#[test]
fn concurrent_requests_with_one_key_run_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &Launch::serve(dir.path().join("orders.db")));
    let body = order("one-key", "store-tests");
    let answers = at_once(20, |_| call(&server, "/orders", &body, Some("place-1")));
    let ran: Vec<_> = answers
        .iter()
        .filter(|a| !a.replayed && a.status == 201)
        .collect();
    assert_eq!(ran.len(), 1, "exactly one ran");
    for answer in &answers {
        match answer.status {
            201 => assert_eq!(answer.json["order_id"], body["order_id"]),
            409 => assert_eq!(
                answer.json["type"],
                "urn:order-host:problem:idempotency-key-in-use"
            ),
            other => panic!("unexpected {other}: {}", answer.json),
        }
    }
}
