//! The HTTP API keeps its published contract on the real `order-host serve`:
//! times are RFC 3339 in what it answers and what it reads, a body not sent
//! as application/json is 415 (and changes nothing), the shipments and
//! returns of an unknown order are 404, a malformed body is a problem in
//! plain words naming the field, and the served /openapi.json holds the
//! contract's rules (unique camelCase operation ids, the bearer scheme, a
//! problem body for every error).

mod support;

use std::time::Duration;

use hmac::{Hmac, Mac};
use order_server::dto::time;
use serde_json::{Value, json};
use sha2::Sha256;
use support::{Launch, Server, admin_bearer, id, order, read_all, send};

const SECRET: &str = "contract-secret";

fn start(dir: &std::path::Path) -> Server {
    Server::start(
        dir,
        &Launch::serve(dir.join("orders.db")).env("ORDER_HOST_WEBHOOK_SECRET", SECRET),
    )
}

/// `text` is written as the API writes every time: UTC, milliseconds.
fn assert_rfc3339(text: &Value, what: &str) {
    let text = text
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {text}"));
    assert_eq!(text.len(), 24, "{what}: {text}");
    assert!(
        text.ends_with('Z') && text.as_bytes()[10] == b'T',
        "{what}: {text}"
    );
    assert!(time::parse(text).is_some(), "{what}: {text}");
}

/// Sends `method path` with `content_type` over a raw connection (the
/// harness always sends JSON); the status and the body.
fn raw(server: &Server, method: &str, path: &str, content_type: &str, body: &str) -> (u16, Value) {
    raw_with(server, method, path, content_type, body, &[])
}

fn raw_with(
    server: &Server,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
    headers: &[(&str, String)],
) -> (u16, Value) {
    let mut stream = server.connect();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut extra = String::new();
    for (name, value) in headers {
        extra.push_str(&format!("{name}: {value}\r\n"));
    }
    let type_line = if content_type.is_empty() {
        String::new()
    } else {
        format!("Content-Type: {content_type}\r\n")
    };
    send(
        &mut stream,
        &format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\nAuthorization: {}\r\n{type_line}{extra}\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            admin_bearer(),
            body.len()
        ),
    );
    let answer = read_all(&mut stream);
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[test]
fn every_time_the_api_answers_is_rfc_3339() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let body = order("rfc3339", "alice");
    let order_id = body["order_id"].as_str().unwrap().to_owned();
    let placed = server.post("/orders", &body);
    assert_eq!(placed.status, 201, "{}", placed.text);
    assert_rfc3339(&placed.json["created_at"], "created_at");
    assert_rfc3339(&placed.json["placed_at"], "placed_at");

    let events = server.get(&format!("/orders/{order_id}/events"));
    assert_eq!(events.status, 200, "{}", events.text);
    let events = events.json.as_array().unwrap().clone();
    assert!(!events.is_empty());
    for event in &events {
        assert_rfc3339(&event["recorded_at"], "recorded_at");
    }
    // The stored event's own times too.
    let placed_event = events
        .iter()
        .find(|e| e["event_type"] == "order-placed")
        .unwrap_or_else(|| panic!("no order-placed in {events:?}"));
    let payload = placed_event["payload"].to_string();
    assert!(
        !payload.contains(&format!(
            "{}",
            time::parse(placed.json["placed_at"].as_str().unwrap()).unwrap()
        )),
        "milliseconds left in {payload}"
    );
    let saga = server.get(&format!("/orders/{order_id}/saga"));
    assert_eq!(saga.status, 200, "{}", saga.text);
    let wake = &saga.json["next_wake_at"];
    assert!(
        wake.is_null() || time::parse(wake.as_str().unwrap()).is_some(),
        "{wake}"
    );

    // A shipment's times, once the saga booked one.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let shipped = loop {
        let now = server.get(&format!("/orders/{order_id}"));
        if now.json["status"] == "shipped" {
            break now.json;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never shipped: {}",
            now.text
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_rfc3339(&shipped["payment"]["confirmed_at"], "payment.confirmed_at");
    assert_rfc3339(&shipped["shipping"]["shipped_at"], "shipping.shipped_at");
    let shipment = shipped["shipping"]["shipment_id"].as_str().unwrap();
    let shipment = server.get(&format!("/shipments/{shipment}"));
    assert_eq!(shipment.status, 200, "{}", shipment.text);
    assert_rfc3339(&shipment.json["created_at"], "shipment created_at");
    assert_rfc3339(
        &shipment.json["tracking_history"][0]["timestamp"],
        "tracking timestamp",
    );
}

#[test]
fn a_body_not_sent_as_application_json_is_415_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let body = order("media", "bob");
    let order_id = body["order_id"].as_str().unwrap().to_owned();
    let text = body.to_string();
    for content_type in ["text/plain", "application/merge-patch+json", ""] {
        let (status, problem) = raw(&server, "POST", "/orders", content_type, &text);
        assert_eq!(status, 415, "{content_type:?}: {problem}");
        assert_eq!(
            problem["type"],
            "urn:order-host:problem:unsupported-media-type"
        );
    }
    assert_eq!(server.get(&format!("/orders/{order_id}")).status, 404);
    // With a charset the same body is taken.
    let (status, placed) = raw(
        &server,
        "POST",
        "/orders",
        "application/json; charset=utf-8",
        &text,
    );
    assert_eq!(status, 201, "{placed}");

    let (status, problem) = raw(
        &server,
        "PATCH",
        &format!("/orders/{order_id}"),
        "application/merge-patch+json",
        r#"{"payment_method": "paypal"}"#,
    );
    assert_eq!(status, 415, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("application/merge-patch+json"),
        "{problem}"
    );

    // A correctly signed webhook sent as text/plain is refused too.
    let event = json!({"id": "evt_text", "type": "shipment-cancelled",
        "data": {"shipment_id": id("none"), "cancelled_at": time::format(1)}})
    .to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{now}.{event}").as_bytes());
    let signature = format!("t={now},v1={}", hex::encode(mac.finalize().into_bytes()));
    let (status, problem) = raw_with(
        &server,
        "POST",
        "/webhooks/carrier",
        "text/plain",
        &event,
        &[("Order-Signature", signature)],
    );
    assert_eq!(status, 415, "{problem}");
}

#[test]
fn the_shipments_and_returns_of_an_unknown_order_are_404() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let unknown = id("order:nobody");
    for list in ["shipments", "returns"] {
        let reply = server.get(&format!("/orders/{unknown}/{list}"));
        reply.assert_problem(404, None, list);
        assert_eq!(reply.json["entity"], "order", "{}", reply.text);
    }
    // A known order without any is an empty list.
    let body = order("lists", "carol");
    assert_eq!(server.post("/orders", &body).status, 201);
    let known = body["order_id"].as_str().unwrap();
    let returns = server.get(&format!("/orders/{known}/returns"));
    assert_eq!(returns.status, 200, "{}", returns.text);
    assert_eq!(returns.json, json!([]));
}

#[test]
fn a_malformed_body_is_a_problem_in_plain_words_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let mut body = order("words", "dave");
    body["items"][0]["quantity"] = json!(-1);
    let reply = server.post("/orders", &body);
    reply.assert_problem(400, Some("items[0].quantity"), "negative quantity");
    assert_eq!(
        reply.json["detail"],
        "`items[0].quantity` must be a whole number from 1 to 4294967295 (written without a fraction), not -1"
    );

    let reply = server.request("POST", "/orders", Some("[1, 2, 3]"), &[]);
    reply.assert_problem(400, None, "an array");
    assert_eq!(
        reply.json["detail"],
        "the body must be a JSON object, not an array"
    );

    let mut body = order("words-2", "dave");
    body["payment_method"] = json!("cash");
    let reply = server.post("/orders", &body);
    reply.assert_problem(400, Some("payment_method"), "unknown variant");
    let detail = reply.json["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("`payment_method` must be one of "),
        "{detail}"
    );

    let reply = server.post(
        &format!("/returns/{}/receive", id("return:none")),
        &json!({"condition": "fine", "all_items_received": true, "received_at": 1_700_000_000_000_u64}),
    );
    reply.assert_problem(400, Some("received_at"), "a time in milliseconds");
    let detail = reply.json["detail"].as_str().unwrap();
    assert!(detail.contains("an RFC 3339 time such as"), "{detail}");

    let reply = server.get("/metrics/daily?dat=2026-12-01");
    reply.assert_problem(400, Some("dat"), "a misspelt query parameter");
    assert_eq!(
        reply.json["detail"],
        "`?dat` is not a field here; the fields are date"
    );

    let reply = server.request("POST", "/orders", Some(""), &[]);
    reply.assert_problem(400, None, "an empty body");
    assert_eq!(
        reply.json["detail"],
        "the body is empty; send a JSON object"
    );

    for reply in [
        server.post("/orders", &json!({"order_id": "x"})),
        server.request("POST", "/orders", Some("[1]"), &[]),
    ] {
        let detail = reply.json["detail"].as_str().unwrap();
        for internal in ["struct", "u32", "u64", "elements", "PlaceOrderRequest"] {
            assert!(!detail.contains(internal), "{internal} in {detail}");
        }
    }
}

#[test]
fn the_served_document_holds_the_contracts_rules() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let reply = server.get("/openapi.json");
    assert_eq!(reply.status, 200, "{}", reply.text);
    let broken = order_server::contract::check(&reply.json);
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    let anonymous = server.request("GET", "/openapi.json", None, &[("authorization", "")]);
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
}
