//! The real `order-host serve` binary, driven over HTTP exactly as a client
//! would: the three journeys (place -> saga -> carrier webhooks ->
//! delivered; a customer's orders and a shipment's tracking; return ->
//! approve -> receive -> refund); every malformed, misspelt or out-of-bounds
//! input answers 400 naming the field and changes nothing; forged, stale and
//! replayed webhooks are refused or ignored; a restart (after a kill) keeps
//! every order, remembers processed webhooks and finishes unfinished sagas;
//! concurrent commands on one order stay consistent; settings come from the
//! file, then the environment, then flags; SIGTERM stops the server cleanly;
//! and /openapi.json lists every route the server serves.
//!
//! The binary is `target/debug/order-host`, built by `make build` (or
//! `cargo build -p order-host`); each test starts its own server on a free
//! port with its own store in a temporary directory, and kills it at the end.

mod support;

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;
use support::{Launch, Reply, Server, at_once, id, line, order, order_host};

const SECRET: &str = "whsec_http_tests";

// --- the server -------------------------------------------------------------

/// A server on `store` with the test secret, a fast driver and a free port.
fn launch(store: &Path) -> Launch {
    Launch::serve(store).env("ORDER_HOST_WEBHOOK_SECRET", SECRET)
}

/// What these tests do through a server, on top of the harness's requests.
impl Server {
    /// Sends a webhook signed with `secret` at `timestamp`.
    fn webhook_signed(&self, source: &str, body: &str, secret: &str, timestamp: u64) -> Reply {
        let header = signature(secret, timestamp, body);
        self.request(
            "POST",
            &format!("/webhooks/{source}"),
            Some(body),
            &[("Order-Signature", header.as_str())],
        )
    }

    /// Sends the event `id` of `event_type` with `data`, signed now with the
    /// test secret.
    fn webhook(&self, source: &str, id: &str, event_type: &str, data: Value) -> Reply {
        let body = json!({"id": id, "type": event_type, "data": data}).to_string();
        self.webhook_signed(source, &body, SECRET, now_secs())
    }

    fn order(&self, order_id: &str) -> Value {
        let reply = self.get(&format!("/orders/{order_id}"));
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json
    }

    /// Polls the order until `done` holds (the saga runs in the background).
    fn wait_for(&self, order_id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let order = self.order(order_id);
            if done(&order) {
                return order;
            }
            assert!(
                Instant::now() < deadline,
                "order {order_id} never became {what}: {order:#}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_for_status(&self, order_id: &str, status: &str) -> Value {
        self.wait_for(order_id, status, |o| o["status"] == status)
    }

    fn event_types(&self, order_id: &str) -> Vec<String> {
        let reply = self.get(&format!("/orders/{order_id}/events"));
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply
            .json
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_type"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Places `body` and waits until its saga shipped it; returns the shipment id.
    fn place_and_ship(&self, body: &Value) -> String {
        let reply = self.post("/orders", body);
        assert_eq!(reply.status, 201, "{}", reply.text);
        let order = self.wait_for_status(body["order_id"].as_str().unwrap(), "shipped");
        order["shipping"]["shipment_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Places, ships and delivers an order through carrier webhooks.
    fn delivered(&self, body: &Value) -> Value {
        let shipment = self.place_and_ship(body);
        let at = now_ms();
        let picked = self.webhook(
            "carrier",
            &format!("pick-{shipment}"),
            "shipment-picked-up",
            json!({"shipment_id": shipment, "location": "Origin depot", "picked_up_at": rfc(at)}),
        );
        assert_eq!(picked.status, 200, "{}", picked.text);
        let delivered = self.webhook(
            "carrier",
            &format!("deliver-{shipment}"),
            "shipment-delivered-by-carrier",
            json!({"shipment_id": shipment, "delivered_at": rfc(at + 1), "signed_by": "A. Customer"}),
        );
        assert_eq!(delivered.status, 200, "{}", delivered.text);
        self.order(body["order_id"].as_str().unwrap())
    }
}

// --- data -------------------------------------------------------------------

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// `ms` as the API writes times (RFC 3339, UTC, milliseconds).
fn rfc(ms: u64) -> String {
    order_server::dto::time::format(ms)
}

fn now_secs() -> u64 {
    now_ms() / 1000
}

/// The documented signature, computed independently of the host's code.
fn signature(secret: &str, timestamp: u64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// A return of `quantity` mugs of `order`.
fn return_of(order: &Value, name: &str, quantity: u32) -> Value {
    json!({
        "return_id": id(&format!("return:{name}")),
        "customer_id": order["customer_id"],
        "return_items": [{
            "item_id": order["items"][0]["item_id"],
            "product_id": order["items"][0]["product_id"],
            "quantity": quantity,
            "return_reason": "defective",
            "condition": "handle cracked"
        }],
        "return_reason": "defective",
        "comments": "The handle cracked on the first day."
    })
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap()
}

// --- the three journeys -----------------------------------------------------

#[test]
fn placing_an_order_runs_its_saga_and_carrier_webhooks_deliver_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &launch(&dir.path().join("orders.db")));
    let body = order("journey-1", "alice");
    let order_id = str_of(&body["order_id"]);

    let placed = server.post("/orders", &body);
    assert_eq!(placed.status, 201, "{}", placed.text);
    assert_eq!(
        placed.location.as_deref(),
        Some(&*format!("/orders/{order_id}"))
    );
    assert_eq!(
        placed.json["total"],
        json!({"amount": 6_000, "currency": "USD"})
    );
    assert_eq!(placed.json["items"][0]["total_price"]["amount"], 5_000);
    assert_eq!(placed.json["payment_method"], "credit-card");

    // The saga runs in the background: payment, stock, carrier, confirmation.
    let shipped = server.wait_for_status(order_id, "shipped");
    assert_eq!(shipped["payment"]["amount_paid"]["amount"], 6_000);
    assert_eq!(shipped["allocation"]["all_items_allocated"], true);
    assert_eq!(shipped["shipping"]["carrier"], "ups");
    let shipment = str_of(&shipped["shipping"]["shipment_id"]).to_owned();
    let saga = server.wait_for(order_id, "confirmed to the customer", |_| {
        server.get(&format!("/orders/{order_id}/saga")).json["phase"] == "finished"
    });
    assert_eq!(saga["status"], "shipped");
    let report = server.get(&format!("/orders/{order_id}/saga")).json;
    assert_eq!(report["outcome"]["kind"], "completed", "{report:#}");
    assert!(
        report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "completed")
    );

    // The carrier reports progress through signed webhooks.
    let at = now_ms();
    let events = [
        (
            "shipment-picked-up",
            json!({"shipment_id": shipment, "location": "Origin depot", "picked_up_at": rfc(at)}),
        ),
        (
            "shipment-in-transit",
            json!({"shipment_id": shipment, "current_location": "Oakland hub", "updated_at": rfc(at + 1)}),
        ),
        (
            "shipment-out-for-delivery",
            json!({"shipment_id": shipment, "location": "San Francisco", "updated_at": rfc(at + 2)}),
        ),
        (
            "shipment-delivered-by-carrier",
            json!({"shipment_id": shipment, "delivered_at": rfc(at + 3), "signed_by": "A. Customer"}),
        ),
    ];
    for (n, (event_type, data)) in events.into_iter().enumerate() {
        let reply = server.webhook("carrier", &format!("evt_{n}"), event_type, data);
        assert_eq!(reply.status, 200, "{event_type}: {}", reply.text);
        assert_eq!(
            reply.json,
            json!({"status": "applied", "id": format!("evt_{n}")})
        );
    }
    let delivered = server.order(order_id);
    assert_eq!(delivered["status"], "delivered");
    assert_eq!(delivered["delivery"]["signed_by"], "A. Customer");
    assert_eq!(delivered["delivery"]["delivered_at"], rfc(at + 3));

    let history = server.event_types(order_id);
    for expected in [
        "order-placed",
        "payment-confirmed",
        "inventory-allocated",
        "order-shipped",
        "saga-completed",
        "order-delivered",
    ] {
        assert!(
            history.iter().any(|e| e == expected),
            "{expected} in {history:?}"
        );
    }
    let first = &server.get(&format!("/orders/{order_id}/events")).json[0];
    assert_eq!(first["version"], 1);
    assert_eq!(
        first["payload"]["total"]["amount"], 6_000,
        "payloads are JSON objects"
    );
}

#[test]
fn a_customer_tracks_their_orders_and_a_shipments_history() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &launch(&dir.path().join("orders.db")));
    let first = order("track-1", "bob");
    let second = order("track-2", "bob");
    let shipment = server.place_and_ship(&first);
    server.place_and_ship(&second);
    assert_eq!(
        server
            .webhook("carrier", "t1", "shipment-picked-up",
                json!({"shipment_id": shipment, "location": "Origin depot", "picked_up_at": rfc(now_ms())}))
            .status,
        200
    );
    assert_eq!(
        server
            .webhook("carrier", "t2", "shipment-in-transit",
                json!({"shipment_id": shipment, "current_location": "Reno hub", "updated_at": rfc(now_ms() + 1)}))
            .status,
        200
    );

    let orders = server.get(&format!("/customers/{}/orders", id("customer:bob")));
    assert_eq!(orders.status, 200, "{}", orders.text);
    let items = orders.json["items"].as_array().unwrap();
    let mut ids: Vec<&str> = items.iter().map(|o| str_of(&o["order_id"])).collect();
    let placed: Vec<&str> = items.iter().map(|o| str_of(&o["placed_at"])).collect();
    assert!(
        placed.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {placed:?}"
    );
    assert_eq!(orders.json["next_cursor"], Value::Null, "one page");
    ids.sort_unstable();
    let mut expected = [str_of(&first["order_id"]), str_of(&second["order_id"])];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    let nobody = server.get(&format!("/customers/{}/orders", id("customer:nobody")));
    assert_eq!(nobody.json, json!({"items": [], "next_cursor": null}));

    let tracked = server.get(&format!("/shipments/{shipment}"));
    assert_eq!(tracked.status, 200, "{}", tracked.text);
    assert_eq!(tracked.json["order_id"], first["order_id"]);
    assert_eq!(tracked.json["carrier"], "ups");
    assert!(
        tracked.json["tracking_number"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(tracked.json["state"], "active");
    assert_eq!(tracked.json["status"], "in-transit");
    let history: Vec<(&str, Option<&str>)> = tracked.json["tracking_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (str_of(&e["status"]), e["location"].as_str()))
        .collect();
    assert_eq!(
        history,
        [
            ("awaiting-pickup", None),
            ("picked-up", Some("Origin depot")),
            ("in-transit", Some("Reno hub"))
        ]
    );
    let events = server.get(&format!("/shipments/{shipment}/events"));
    assert_eq!(events.status, 200, "{}", events.text);
    assert_eq!(
        events.json.as_array().unwrap().len(),
        3,
        "created, picked up, in transit"
    );
    let of_order = server.get(&format!("/orders/{}/shipments", str_of(&first["order_id"])));
    assert_eq!(of_order.json[0]["shipment_id"], shipment.as_str());

    server
        .get(&format!("/shipments/{}", id("shipment:missing")))
        .assert_problem(404, None, "an unknown shipment");
}

#[test]
fn a_delivered_order_is_returned_approved_received_and_refunded() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &launch(&dir.path().join("orders.db")));
    let body = order("journey-3", "carol");
    let order_id = str_of(&body["order_id"]);
    assert_eq!(server.delivered(&body)["status"], "delivered");

    let request = return_of(&body, "carol-1", 2);
    let return_id = str_of(&request["return_id"]).to_owned();
    let requested = server.post(&format!("/orders/{order_id}/returns"), &request);
    assert_eq!(requested.status, 201, "{}", requested.text);
    assert_eq!(
        requested.location.as_deref(),
        Some(&*format!("/returns/{return_id}"))
    );
    assert_eq!(requested.json["status"], "requested");
    assert_eq!(requested.json["refund_status"], "pending");

    let approved = server.post(
        &format!("/returns/{return_id}/approve"),
        &json!({"approved_by": "Sam (support)", "return_label": "https://labels.example/RMA-1"}),
    );
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.json["status"], "approved");
    assert_eq!(
        approved.json["return_label"],
        "https://labels.example/RMA-1"
    );

    let received = server.post(
        &format!("/returns/{return_id}/receive"),
        &json!({"condition": "handle cracked, otherwise new", "all_items_received": true}),
    );
    assert_eq!(received.status, 200, "{}", received.text);
    assert_eq!(received.json["status"], "received");

    // More than the mugs cost is a business rule, not a malformed request.
    let too_much = server.post(
        &format!("/returns/{return_id}/refund"),
        &json!({"refund_amount": {"amount": 6_001, "currency": "USD"}, "refund_method": "credit-card"}),
    );
    too_much.assert_problem(422, None, "a refund above what was paid");
    assert!(too_much.json["rule"].is_string(), "{}", too_much.text);

    let refunded = server.post(
        &format!("/returns/{return_id}/refund"),
        &json!({"refund_amount": {"amount": 5_000, "currency": "USD"}, "refund_method": "credit-card"}),
    );
    assert_eq!(refunded.status, 200, "{}", refunded.text);
    assert_eq!(refunded.json["status"], "refunded");
    assert_eq!(refunded.json["refund_status"], "processed");

    // The refund is recorded as started (its key and amount) before the
    // gateway is called, so a lost answer leaves it in doubt, not forgotten.
    let history = server.get(&format!("/returns/{return_id}/events"));
    let types: Vec<&str> = history
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        types,
        [
            "return-requested",
            "return-approved",
            "return-received",
            "refund-started",
            "refund-processed"
        ],
        "{}",
        history.text
    );
    let fetched = server.get(&format!("/returns/{return_id}"));
    assert_eq!(fetched.json["refund_amount"]["amount"], 5_000);
    assert_eq!(fetched.json["refund_method"], "credit-card");
    let after = server.order(order_id);
    assert_eq!(after["refunded"]["amount"], 5_000);
    assert_eq!(after["status"], "delivered", "the tea was not returned");

    // The tea comes back too, but this time customer service says no.
    let tea = json!({
        "return_id": id("return:carol-2"),
        "customer_id": body["customer_id"],
        "return_items": [{
            "item_id": body["items"][1]["item_id"], "product_id": body["items"][1]["product_id"],
            "quantity": 1, "return_reason": "no-longer-needed", "condition": "unopened"
        }],
        "return_reason": "no-longer-needed"
    });
    assert_eq!(
        server
            .post(&format!("/orders/{order_id}/returns"), &tea)
            .status,
        201
    );
    let tea_id = id("return:carol-2");
    let denied = server.post(
        &format!("/returns/{tea_id}/deny"),
        &json!({"denied_by": "Sam (support)", "reason": "opened food cannot be returned"}),
    );
    assert_eq!(denied.json["status"], "denied", "{}", denied.text);
    let again = server.post(
        &format!("/returns/{tea_id}/approve"),
        &json!({"approved_by": "Sam"}),
    );
    again.assert_problem(409, None, "approving a denied return");
    assert_eq!(again.json["state"], "denied", "{}", again.text);
    assert_eq!(again.json["command"], "approve-return", "{}", again.text);
    let listed = server.get(&format!("/orders/{order_id}/returns"));
    assert_eq!(listed.json.as_array().unwrap().len(), 2);

    let today = server.get(&format!(
        "/metrics/daily?date={}",
        order_server::text::date(now_ms())
    ));
    assert_eq!(today.status, 200, "{}", today.text);
    assert_eq!(today.json["order_count"], 1);
    assert_eq!(today.json["refund_count"], 1);
    assert_eq!(today.json["totals"][0]["refund_total"], 5_000);

    let metrics = server.get("/metrics");
    assert!(
        metrics.content_type.starts_with("text/plain"),
        "{}",
        metrics.content_type
    );
    for expected in [
        r#"order_host_http_requests_total{method="POST",route="/returns/{id}/refund",status="422"} 1"#,
        r#"order_host_http_request_duration_seconds_count{method="POST",route="/orders"} 1"#,
        r#"order_host_webhooks_total{source="carrier",outcome="applied"} 2"#,
        "order_host_saga_advances_total",
        "order_host_store_events",
    ] {
        assert!(
            metrics.text.contains(expected),
            "{expected} in\n{}",
            metrics.text
        );
    }
    assert_eq!(server.get("/healthz").json["status"], "ok");
}

// --- refused input ------------------------------------------------------------

/// A copy of `value` with `path` (`a.b[0].c`) set to `new`, or removed when
/// `new` is `None`.
fn with(value: &Value, path: &str, new: Option<Value>) -> Value {
    let mut value = value.clone();
    let mut keys: Vec<String> = Vec::new();
    for part in path.split('.') {
        match part.split_once('[') {
            Some((key, index)) => {
                keys.push(key.to_owned());
                keys.push(format!("[{}", index.trim_end_matches(']')));
            }
            None => keys.push(part.to_owned()),
        }
    }
    let (last, parents) = keys.split_last().unwrap();
    let mut cursor = &mut value;
    for key in parents {
        cursor = match key.strip_prefix('[') {
            Some(index) => &mut cursor[index.parse::<usize>().unwrap()],
            None => &mut cursor[key.as_str()],
        };
    }
    match new {
        Some(new) => cursor[last.as_str()] = new,
        None => {
            cursor.as_object_mut().unwrap().remove(last.as_str());
        }
    }
    value
}

fn chars(n: usize) -> Value {
    Value::String("x".repeat(n))
}

#[test]
fn bad_json_unknown_fields_and_every_bound_violated_answer_400_naming_the_field_and_change_nothing()
{
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &launch(&dir.path().join("orders.db")));
    let valid = order("bounds", "dave");
    let order_id = str_of(&valid["order_id"]).to_owned();

    // (path, new value or removal, the field the answer names)
    let cases: Vec<(&str, Option<Value>, &str)> = vec![
        ("order_id", Some(json!("not-a-uuid")), "order_id"),
        ("customer_id", Some(json!("42")), "customer_id"),
        ("items", Some(json!([])), "items"),
        (
            "items[0].item_id",
            Some(json!("line-1")),
            "items[0].item_id",
        ),
        (
            "items[0].product_id",
            Some(json!("")),
            "items[0].product_id",
        ),
        ("items[0].sku", Some(json!("")), "items[0].sku"),
        ("items[0].sku", Some(chars(51)), "items[0].sku"),
        (
            "items[0].product_name",
            Some(json!("")),
            "items[0].product_name",
        ),
        (
            "items[1].product_name",
            Some(chars(201)),
            "items[1].product_name",
        ),
        ("items[0].quantity", Some(json!(0)), "items[0].quantity"),
        ("items[0].quantity", Some(json!(-1)), "items[0].quantity"),
        ("items[0].quantity", Some(json!("2")), "items[0].quantity"),
        (
            "items[0].unit_price.amount",
            Some(json!(10_000_000_000_u64)),
            "items[0].unit_price.amount",
        ),
        (
            "items[0].unit_price.amount",
            Some(json!(12.5)),
            "items[0].unit_price.amount",
        ),
        (
            "items[0].unit_price.currency",
            Some(json!("US")),
            "items[0].unit_price.currency",
        ),
        (
            "items[1].unit_price.currency",
            Some(json!("EUR")),
            "items[1].unit_price.currency",
        ),
        (
            "items[0].quantity",
            Some(json!(4_000_000_000_u64)),
            "items[0].total_price",
        ),
        (
            "shipping_address.street1",
            Some(json!("")),
            "shipping_address.street1",
        ),
        (
            "shipping_address.street1",
            Some(chars(101)),
            "shipping_address.street1",
        ),
        (
            "shipping_address.street2",
            Some(json!("")),
            "shipping_address.street2",
        ),
        (
            "shipping_address.street2",
            Some(chars(101)),
            "shipping_address.street2",
        ),
        (
            "shipping_address.city",
            Some(chars(51)),
            "shipping_address.city",
        ),
        (
            "shipping_address.state_province",
            Some(chars(51)),
            "shipping_address.state_province",
        ),
        (
            "shipping_address.postal_code",
            Some(chars(21)),
            "shipping_address.postal_code",
        ),
        (
            "shipping_address.country",
            Some(json!("U")),
            "shipping_address.country",
        ),
        (
            "billing_address.country",
            Some(json!("USAX")),
            "billing_address.country",
        ),
        (
            "billing_address.city",
            Some(json!("")),
            "billing_address.city",
        ),
        ("billing_address.city", None, "billing_address.city"),
        ("shipping_address", None, "shipping_address"),
        ("payment_method", None, "payment_method"),
        ("payment_method", Some(json!("cash")), "payment_method"),
        (
            "payment_method",
            Some(json!("CreditCard")),
            "payment_method",
        ),
        ("colour", Some(json!("red")), "colour"),
        ("items[0].colour", Some(json!("red")), "items[0].colour"),
        (
            "shipping_address.floor",
            Some(json!(3)),
            "shipping_address.floor",
        ),
        ("order_id", None, "order_id"),
    ];
    for (path, new, field) in &cases {
        let body = with(&valid, path, new.clone());
        server.post("/orders", &body).assert_problem(
            400,
            Some(field),
            &format!("{path} = {new:?}"),
        );
    }
    // Two lines with one id, and more lines than an order may have.
    let twice = with(
        &valid,
        "items[1].item_id",
        Some(valid["items"][0]["item_id"].clone()),
    );
    server.post("/orders", &twice).assert_problem(
        400,
        Some("items[1].item_id"),
        "a line listed twice",
    );
    let lines: Vec<Value> = (0..101)
        .map(|n| line(&format!("l{n}"), &format!("l{n}"), 1, 100))
        .collect();
    let many = with(&valid, "items", Some(Value::Array(lines)));
    server
        .post("/orders", &many)
        .assert_problem(400, Some("items"), "101 lines");

    // Bodies that are not JSON, or not an object.
    for (body, context) in [
        ("{\"order_id\": ", "truncated JSON"),
        ("", "no body"),
        ("[]", "an array"),
        ("{} {}", "trailing data"),
    ] {
        server
            .request("POST", "/orders", Some(body), &[])
            .assert_problem(400, None, context);
    }
    server
        .request(
            "POST",
            "/orders",
            Some(&valid.to_string()),
            &[("content-type", "text/plain")],
        )
        .assert_problem(415, None, "not JSON");

    // Nothing was created.
    server
        .get(&format!("/orders/{order_id}"))
        .assert_problem(404, None, "the refused order");
    assert_eq!(
        server
            .get(&format!("/customers/{}/orders", id("customer:dave")))
            .json,
        json!({"items": [], "next_cursor": null})
    );

    // Commands on an existing order and its return change nothing when refused.
    let delivered = server.delivered(&valid);
    let version = delivered["version"].clone();
    let cancel = json!({"reason": "changed my mind", "cancelled_by": "customer"});
    for (path, new, field) in [
        ("reason", Some(json!("")), "reason"),
        ("reason", Some(chars(501)), "reason"),
        ("cancelled_by", Some(chars(101)), "cancelled_by"),
        // A missing `cancelled_by` is no longer an error: the order records
        // the authenticated caller (tests/tests/api_auth.rs).
        ("why", Some(json!("x")), "why"),
    ] {
        server
            .post(
                &format!("/orders/{order_id}/cancel"),
                &with(&cancel, path, new.clone()),
            )
            .assert_problem(400, Some(field), &format!("cancel {path} = {new:?}"));
    }
    server
        .post("/orders/not-an-id/cancel", &cancel)
        .assert_problem(400, Some("order_id"), "cancel with a malformed id");

    let request = return_of(&valid, "dave-1", 1);
    for (path, new, field) in [
        ("return_id", Some(json!("r-1")), "return_id"),
        ("customer_id", Some(json!("c")), "customer_id"),
        ("return_items", Some(json!([])), "return_items"),
        (
            "return_items[0].item_id",
            Some(json!("i")),
            "return_items[0].item_id",
        ),
        (
            "return_items[0].quantity",
            Some(json!(0)),
            "return_items[0].quantity",
        ),
        (
            "return_items[0].condition",
            Some(json!("")),
            "return_items[0].condition",
        ),
        (
            "return_items[0].condition",
            Some(chars(101)),
            "return_items[0].condition",
        ),
        (
            "return_items[0].return_reason",
            Some(json!("meh")),
            "return_items[0].return_reason",
        ),
        ("return_reason", None, "return_reason"),
        ("comments", Some(json!("")), "comments"),
        ("comments", Some(chars(1001)), "comments"),
    ] {
        server
            .post(
                &format!("/orders/{order_id}/returns"),
                &with(&request, path, new.clone()),
            )
            .assert_problem(400, Some(field), &format!("return {path} = {new:?}"));
    }
    assert_eq!(
        server.get(&format!("/orders/{order_id}/returns")).json,
        json!([])
    );

    let return_id = str_of(&request["return_id"]).to_owned();
    assert_eq!(
        server
            .post(&format!("/orders/{order_id}/returns"), &request)
            .status,
        201
    );
    let approve = json!({"approved_by": "Sam", "return_label": "RMA-1"});
    for (path, new, field) in [
        ("approved_by", Some(json!("")), "approved_by"),
        ("approved_by", Some(chars(101)), "approved_by"),
        ("return_label", Some(chars(501)), "return_label"),
    ] {
        server
            .post(
                &format!("/returns/{return_id}/approve"),
                &with(&approve, path, new.clone()),
            )
            .assert_problem(400, Some(field), &format!("approve {path} = {new:?}"));
    }
    let deny = json!({"denied_by": "Sam", "reason": "no"});
    for (path, new, field) in [
        ("denied_by", Some(chars(101)), "denied_by"),
        ("reason", Some(chars(501)), "reason"),
        ("reason", Some(json!("")), "reason"),
    ] {
        server
            .post(
                &format!("/returns/{return_id}/deny"),
                &with(&deny, path, new.clone()),
            )
            .assert_problem(400, Some(field), &format!("deny {path} = {new:?}"));
    }
    assert_eq!(
        server
            .post(&format!("/returns/{return_id}/approve"), &approve)
            .status,
        200
    );
    let receive = json!({"condition": "fine", "all_items_received": true});
    for (path, new, field) in [
        ("condition", Some(chars(201)), "condition"),
        ("condition", Some(json!("")), "condition"),
        (
            "all_items_received",
            Some(json!("yes")),
            "all_items_received",
        ),
    ] {
        server
            .post(
                &format!("/returns/{return_id}/receive"),
                &with(&receive, path, new.clone()),
            )
            .assert_problem(400, Some(field), &format!("receive {path} = {new:?}"));
    }
    assert_eq!(
        server
            .post(&format!("/returns/{return_id}/receive"), &receive)
            .status,
        200
    );
    let refund = json!({"refund_amount": {"amount": 2_500, "currency": "USD"}, "refund_method": "credit-card"});
    for (path, new, field) in [
        (
            "refund_amount.currency",
            Some(json!("DOLLARS")),
            "refund_amount.currency",
        ),
        (
            "refund_amount.amount",
            Some(json!(10_000_000_000_u64)),
            "refund_amount.amount",
        ),
        ("refund_method", Some(json!("cash")), "refund_method"),
    ] {
        server
            .post(
                &format!("/returns/{return_id}/refund"),
                &with(&refund, path, new.clone()),
            )
            .assert_problem(400, Some(field), &format!("refund {path} = {new:?}"));
    }
    let the_return = server.get(&format!("/returns/{return_id}")).json;
    assert_eq!(
        the_return["status"], "received",
        "the refused refunds changed nothing"
    );
    assert_eq!(the_return["version"], 3);
    let after = server.order(&order_id);
    assert_eq!(after["status"], "delivered");
    assert_eq!(after["refunded"]["amount"], 0);
    assert!(
        after["version"].as_u64() > version.as_u64(),
        "only the accepted return touched the order"
    );

    // Webhook data and queries are checked the same way.
    let shipment = str_of(&delivered["shipping"]["shipment_id"]).to_owned();
    for (data, field) in [
        (
            json!({"shipment_id": shipment, "picked_up_at": "soon"}),
            "data.picked_up_at",
        ),
        (
            json!({"shipment_id": shipment, "picked_up_at": rfc(1), "speed": 3}),
            "data.speed",
        ),
        (json!({"picked_up_at": rfc(1)}), "data.shipment_id"),
    ] {
        server
            .webhook("carrier", "bad-data", "shipment-picked-up", data)
            .assert_problem(400, Some(field), "webhook data");
    }
    server
        .webhook("carrier", "bad-type", "payment-succeeded", json!({}))
        .assert_problem(400, Some("type"), "a payment event at the carrier endpoint");
    server
        .webhook(
            "carrier",
            "",
            "shipment-picked-up",
            json!({"shipment_id": shipment, "picked_up_at": rfc(1)}),
        )
        .assert_problem(400, Some("id"), "an empty event id");
    server
        .get("/metrics/daily?date=2026-13-01")
        .assert_problem(400, Some("date"), "month 13");
    server
        .get("/metrics/daily")
        .assert_problem(400, Some("date"), "no date");
    let tracked = server.get(&format!("/shipments/{shipment}")).json;
    assert_eq!(
        tracked["tracking_history"].as_array().unwrap().len(),
        3,
        "pickup and delivery only"
    );
}

// --- webhooks -----------------------------------------------------------------

#[test]
fn forged_stale_and_replayed_webhooks_are_refused_or_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &launch(&dir.path().join("orders.db")));
    let shipment = server.place_and_ship(&order("webhooks", "erin"));
    let history_len = || {
        server.get(&format!("/shipments/{shipment}")).json["tracking_history"]
            .as_array()
            .unwrap()
            .len()
    };
    let picked = |location: &str, at: u64| {
        json!({"id": "evt_pick", "type": "shipment-picked-up",
               "data": {"shipment_id": shipment, "location": location, "picked_up_at": rfc(at)}})
        .to_string()
    };
    let body = picked("Origin depot", now_ms());
    let now = now_secs();

    // Refused with 401 before the body is even read, and nothing changes.
    let refusals = [
        (
            server.webhook_signed("carrier", &body, "not-the-secret", now),
            "forged with another secret",
        ),
        (
            server.webhook_signed("carrier", &body, SECRET, now - 301),
            "stale: older than five minutes",
        ),
        (
            server.webhook_signed("carrier", &body, SECRET, now + 301),
            "from the future",
        ),
        (
            server.request("POST", "/webhooks/carrier", Some(&body), &[]),
            "unsigned",
        ),
        (
            server.request(
                "POST",
                "/webhooks/carrier",
                Some(&picked("Elsewhere", 1)),
                &[("Order-Signature", &signature(SECRET, now, &body))],
            ),
            "signed for another body",
        ),
        (
            server.request(
                "POST",
                "/webhooks/carrier",
                Some(&body),
                &[("Order-Signature", "t=1,v1=zz")],
            ),
            "malformed signature",
        ),
        (
            server.webhook_signed("carrier", "not json", "not-the-secret", now),
            "forged garbage",
        ),
    ];
    for (reply, context) in &refusals {
        reply.assert_problem(401, None, context);
    }
    assert_eq!(history_len(), 1, "no refused delivery changed the shipment");

    // Delivered once; a redelivery is acknowledged as a duplicate.
    let first = server.webhook_signed("carrier", &body, SECRET, now);
    assert_eq!(
        first.json,
        json!({"status": "applied", "id": "evt_pick"}),
        "{}",
        first.text
    );
    let again = server.webhook_signed("carrier", &body, SECRET, now_secs());
    assert_eq!(
        again.json,
        json!({"status": "duplicate", "id": "evt_pick"}),
        "{}",
        again.text
    );
    // The ledger, not the content, decides: the same id with other data is
    // still the event already processed.
    let other = server.webhook_signed(
        "carrier",
        &picked("Elsewhere", now_ms() + 5),
        SECRET,
        now_secs(),
    );
    assert_eq!(other.json["status"], "duplicate", "{}", other.text);
    // A new id carrying an event already applied is recognised by the component.
    let renamed = body.replace("evt_pick", "evt_pick_again");
    let renamed = server.webhook_signed("carrier", &renamed, SECRET, now_secs());
    assert_eq!(renamed.json["status"], "duplicate", "{}", renamed.text);
    assert_eq!(history_len(), 2, "one pickup, whatever the redeliveries");

    // Without a configured secret, every delivery is refused.
    drop(server);
    let unconfigured = Server::start(
        dir.path(),
        &launch(&dir.path().join("orders.db")).without_env("ORDER_HOST_WEBHOOK_SECRET"),
    );
    unconfigured
        .webhook("carrier", "evt_x", "shipment-picked-up", json!({}))
        .assert_problem(503, None, "no secret configured");
}

// --- durability ---------------------------------------------------------------

#[test]
fn a_restart_after_a_kill_keeps_every_order_remembers_webhooks_and_finishes_sagas() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("orders.db");
    // The carrier is down: the saga pays, allocates, then waits to retry the booking.
    let policy = dir.path().join("policy.json");
    std::fs::write(
        &policy,
        r#"{"retry": {"max-attempts": 20, "base-delay-ms": 1000, "max-delay-ms": 1000, "jitter-permille": 0}}"#,
    )
    .unwrap();
    let launch = launch(&store).global(&["--policy", policy.to_str().unwrap()]);
    let flaky = launch.clone().global(&["--fault", "carrier=transient:1"]);

    let mut server = Server::start(dir.path(), &launch);
    let delivered = server.delivered(&order("durable-1", "frank"));
    let shipment = str_of(&delivered["shipping"]["shipment_id"]).to_owned();
    let draft = with(&order("durable-2", "frank"), "draft", Some(json!(true)));
    let draft = with(&draft, "payment_method", None);
    assert_eq!(server.post("/orders", &draft).status, 201);
    // A cart the customer abandons (a draft: no saga can ship it first).
    let cancelled = with(&order("durable-3", "frank"), "draft", Some(json!(true)));
    assert_eq!(server.post("/orders", &cancelled).status, 201);
    let cancel = json!({"reason": "duplicate order", "cancelled_by": "customer"});
    let cancel_reply = server.post(
        &format!("/orders/{}/cancel", str_of(&cancelled["order_id"])),
        &cancel,
    );
    assert_eq!(cancel_reply.status, 200, "{}", cancel_reply.text);
    // Wait until no saga has anything left to do, so the orders stand still.
    let before: Vec<Value> = ["durable-1", "durable-2", "durable-3"]
        .iter()
        .map(|name| {
            server.wait_for(&id(&format!("order:{name}")), "settled", |o| {
                let saga = server.get(&format!("/orders/{}/saga", str_of(&o["order_id"])));
                saga.status != 200 || saga.json["next_wake_at"].is_null()
            })
        })
        .collect();
    server.kill();

    let mut server = Server::start(dir.path(), &flaky);
    for order in &before {
        let now = server.order(str_of(&order["order_id"]));
        assert_eq!(&now, order, "the order survived the restart unchanged");
    }
    assert_eq!(before[1]["status"], "draft");
    assert_eq!(before[2]["status"], "cancelled");
    let orders = server.get(&format!("/customers/{}/orders", id("customer:frank")));
    assert_eq!(orders.json["items"].as_array().unwrap().len(), 3);
    // The webhook ledger is durable too.
    let redelivered = server.webhook(
        "carrier",
        &format!("pick-{shipment}"),
        "shipment-picked-up",
        json!({"shipment_id": shipment, "location": "Somewhere else", "picked_up_at": rfc(now_ms())}),
    );
    assert_eq!(
        redelivered.json["status"], "duplicate",
        "{}",
        redelivered.text
    );

    // A saga stuck on the carrier when the host dies...
    let stuck = order("durable-4", "frank");
    let stuck_id = str_of(&stuck["order_id"]).to_owned();
    assert_eq!(server.post("/orders", &stuck).status, 201);
    server.wait_for(&stuck_id, "waiting for the carrier", |_| {
        let saga = server.get(&format!("/orders/{stuck_id}/saga")).json;
        saga["steps"][2]["status"] == "retrying"
    });
    assert_eq!(server.order(&stuck_id)["status"], "confirmed");
    server.kill();

    // ...finishes after the restart, paid once.
    let server = Server::start(dir.path(), &launch);
    let shipped = server.wait_for_status(&stuck_id, "shipped");
    assert_eq!(shipped["payment"]["amount_paid"]["amount"], 6_000);
    let history = server.event_types(&stuck_id);
    assert_eq!(
        history.iter().filter(|e| *e == "payment-confirmed").count(),
        1,
        "{history:?}"
    );
}

// --- concurrency --------------------------------------------------------------

#[test]
fn concurrent_cancellations_of_one_order_leave_exactly_one() {
    let dir = tempfile::tempdir().unwrap();
    // The carrier is down, so the saga (paying, allocating, retrying the
    // booking) races the cancellations but can never ship the order first.
    let policy = dir.path().join("policy.json");
    std::fs::write(
        &policy,
        r#"{"retry": {"max-attempts": 50, "base-delay-ms": 20, "max-delay-ms": 100}}"#,
    )
    .unwrap();
    let launch = launch(&dir.path().join("orders.db")).global(&[
        "--policy",
        policy.to_str().unwrap(),
        "--fault",
        "carrier=transient:1",
    ]);
    let server = Server::start(dir.path(), &launch);

    for round in 0..3 {
        let body = order(&format!("race-cancel-{round}"), "gina");
        let order_id = str_of(&body["order_id"]).to_owned();
        assert_eq!(server.post("/orders", &body).status, 201);
        let replies = at_once(8, |i| {
            server.post(
                &format!("/orders/{order_id}/cancel"),
                &json!({"reason": format!("attempt {i}"), "cancelled_by": "customer"}),
            )
        });
        let won: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
        assert_eq!(won.len(), 1, "{replies:#?}");
        for lost in replies.iter().filter(|r| r.status != 200) {
            lost.assert_problem(409, None, "a cancellation that lost");
            assert_eq!(lost.json["state"], "cancelled", "{}", lost.text);
            assert_eq!(lost.json["command"], "cancel-order", "{}", lost.text);
        }
        let cancelled = server.order(&order_id);
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(
            cancelled["cancellation"]["reason"],
            won[0].json["cancellation"]["reason"]
        );
        let history = server.event_types(&order_id);
        assert_eq!(
            history.iter().filter(|e| *e == "order-cancelled").count(),
            1,
            "{history:?}"
        );
    }
}

#[test]
fn concurrent_commands_on_one_order_stay_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &launch(&dir.path().join("orders.db")));

    // Six returns claim the same two mugs at once: one gets them.
    let body = order("race-return", "gina");
    let order_id = str_of(&body["order_id"]).to_owned();
    server.delivered(&body);
    let replies = at_once(6, |i| {
        server.post(
            &format!("/orders/{order_id}/returns"),
            &return_of(&body, &format!("race-{i}"), 2),
        )
    });
    assert_eq!(
        replies.iter().filter(|r| r.status == 201).count(),
        1,
        "{replies:#?}"
    );
    for lost in replies.iter().filter(|r| r.status != 201) {
        lost.assert_problem(422, None, "a return claiming units already claimed");
    }
    let returns = server.get(&format!("/orders/{order_id}/returns")).json;
    assert_eq!(returns.as_array().unwrap().len(), 1);

    // Approval and denial of that return race: exactly one decides it.
    let return_id = str_of(&returns[0]["return_id"]).to_owned();
    let replies = at_once(6, |i| {
        if i % 2 == 0 {
            server.post(
                &format!("/returns/{return_id}/approve"),
                &json!({"approved_by": format!("agent {i}")}),
            )
        } else {
            server.post(
                &format!("/returns/{return_id}/deny"),
                &json!({"denied_by": format!("agent {i}"), "reason": "no"}),
            )
        }
    });
    assert_eq!(
        replies.iter().filter(|r| r.status == 200).count(),
        1,
        "{replies:#?}"
    );
    assert!(
        replies
            .iter()
            .filter(|r| r.status != 200)
            .all(|r| r.status == 409),
        "{replies:#?}"
    );
    let decided = server.get(&format!("/returns/{return_id}")).json;
    assert_eq!(
        decided["version"], 2,
        "requested, then one decision: {decided:#}"
    );

    // Tracking updates of one shipment, delivered at once, are all kept.
    let body = order("race-tracking", "gina");
    let shipment = server.place_and_ship(&body);
    let base = now_ms();
    let replies = at_once(8, |i| {
        server.webhook(
            "carrier",
            &format!("transit-{i}"),
            "shipment-in-transit",
            json!({"shipment_id": shipment, "current_location": format!("hub {i}"), "updated_at": rfc(base + i as u64)}),
        )
    });
    assert!(
        replies
            .iter()
            .all(|r| r.status == 200 && r.json["status"] == "applied"),
        "{replies:#?}"
    );
    let tracked = server.get(&format!("/shipments/{shipment}")).json;
    assert_eq!(
        tracked["tracking_history"].as_array().unwrap().len(),
        9,
        "{tracked:#}"
    );
}

// --- the contract -------------------------------------------------------------

/// Every route of the API, as the documentation promises it.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/orders"),
    ("get", "/orders"),
    ("get", "/orders/{id}"),
    ("patch", "/orders/{id}"),
    ("get", "/orders/{id}/events"),
    ("get", "/orders/{id}/saga"),
    ("post", "/orders/{id}/saga/retry"),
    ("post", "/orders/{id}/cancel"),
    ("get", "/orders/{id}/shipments"),
    ("get", "/orders/{id}/returns"),
    ("post", "/orders/{id}/returns"),
    ("get", "/customers/{id}/orders"),
    ("get", "/shipments/{id}"),
    ("get", "/shipments/{id}/events"),
    ("get", "/returns/{id}"),
    ("get", "/returns/{id}/events"),
    ("post", "/returns/{id}/approve"),
    ("post", "/returns/{id}/deny"),
    ("post", "/returns/{id}/ship"),
    ("post", "/returns/{id}/receive"),
    ("post", "/returns/{id}/refund"),
    ("post", "/returns/{id}/close"),
    ("get", "/metrics/daily"),
    ("get", "/metrics"),
    ("post", "/webhooks/payment"),
    ("post", "/webhooks/inventory"),
    ("post", "/webhooks/carrier"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/openapi.json"),
    ("get", "/events"),
    ("post", "/webhook-endpoints"),
    ("get", "/webhook-endpoints"),
    ("get", "/webhook-endpoints/{id}"),
    ("delete", "/webhook-endpoints/{id}"),
    ("get", "/webhook-endpoints/{id}/deliveries"),
    (
        "post",
        "/webhook-endpoints/{id}/deliveries/{event_id}/redeliver",
    ),
];

#[test]
fn the_openapi_document_lists_every_route_the_server_serves() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &launch(&dir.path().join("orders.db")));
    let reply = server.get("/openapi.json");
    assert_eq!(reply.status, 200);
    let doc = reply.json;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{doc:#}"
    );
    let paths = doc["paths"].as_object().expect("paths");

    // Every route is documented, with its error responses as problem+json...
    for (method, path) in ROUTES {
        let operation = &doc["paths"][path][method];
        assert!(
            operation.is_object(),
            "{} {path} is not in /openapi.json",
            method.to_uppercase()
        );
        assert!(
            operation["responses"].is_object(),
            "{method} {path} documents its responses"
        );
    }
    let cancel = &doc["paths"]["/orders/{id}/cancel"]["post"]["responses"];
    for status in ["400", "404", "409", "422", "500", "502", "503"] {
        assert!(
            cancel[status]["content"]["application/problem+json"].is_object(),
            "cancel documents {status}: {cancel:#}"
        );
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["schemas"]["ShipmentPickedUp"].is_object());

    // ...and everything documented is served (nothing answers "no such route").
    let documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    assert_eq!(documented.len(), ROUTES.len(), "{documented:?}");
    for (method, path) in &documented {
        let concrete = path
            .replace("{id}", &id("nothing"))
            .replace("{event_id}", "evt_order-nothing.1");
        let body = (method != "get").then_some("{}");
        let reply = server.request(&method.to_uppercase(), &concrete, body, &[]);
        assert_ne!(
            reply.json["type"], "urn:order-host:problem:no-such-route",
            "{method} {path}"
        );
        assert_ne!(reply.status, 405, "{method} {path}");
    }
    // And what is not documented is not served.
    server
        .get("/admin")
        .assert_problem(404, None, "an undocumented path");
    server
        .request("DELETE", &format!("/orders/{}", id("x")), None, &[])
        .assert_problem(405, None, "an undocumented method");
}

// --- settings, CLI and signals ------------------------------------------------

#[test]
fn settings_come_from_the_file_then_the_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("order-host.toml"),
        "store = \"from-file.db\"\nbind = \"127.0.0.1:0\"\n\n[webhooks]\nsecret = \"file-secret\"\n",
    )
    .unwrap();
    // A signature the server accepts reaches the component, which does not
    // know the shipment (404); one it refuses is a 401.
    let accepts = |server: &Server, secret: &str| {
        let body = json!({"id": "e", "type": "shipment-cancelled",
                          "data": {"shipment_id": id("unknown"), "cancelled_at": rfc(1)}})
        .to_string();
        match server
            .webhook_signed("carrier", &body, secret, now_secs())
            .status
        {
            404 => true,
            401 => false,
            other => panic!("unexpected status {other}"),
        }
    };
    let bare = Launch::serve_from_settings();

    // The file alone (found in the working directory).
    let server = Server::start(dir.path(), &bare);
    assert!(accepts(&server, "file-secret"));
    assert!(dir.path().join("from-file.db").is_file());
    drop(server);

    // The environment overrides the file.
    let env = bare
        .clone()
        .env("ORDER_HOST_WEBHOOK_SECRET", "env-secret")
        .env(
            "ORDER_HOST_STORE",
            dir.path().join("from-env.db").to_str().unwrap(),
        );
    let server = Server::start(dir.path(), &env);
    assert!(accepts(&server, "env-secret"));
    assert!(!accepts(&server, "file-secret"));
    assert!(dir.path().join("from-env.db").is_file());
    drop(server);

    // Flags override both.
    let flags = env
        .args(&["--webhook-secret", "flag-secret"])
        .global(&["--store", dir.path().join("from-flag.db").to_str().unwrap()]);
    let server = Server::start(dir.path(), &flags);
    assert!(accepts(&server, "flag-secret"));
    assert!(!accepts(&server, "env-secret"));
    assert!(dir.path().join("from-flag.db").is_file());
    drop(server);

    // An explicit --config file replaces the one in the working directory.
    let other = dir.path().join("other.toml");
    std::fs::write(
        &other,
        "store = \"memory\"\n[webhooks]\nsecret = \"other-secret\"\n",
    )
    .unwrap();
    let server = Server::start(
        dir.path(),
        &bare
            .global(&["--config", other.to_str().unwrap()])
            .args(&["--bind", "127.0.0.1:0"]),
    );
    assert!(accepts(&server, "other-secret"));
}

#[test]
fn usage_errors_exit_with_2_and_domain_errors_with_1() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("orders.db");
    let run = |args: &[&str]| support::cli(dir.path(), &store, args);
    for args in [
        &["serve", "--bind", "localhost"][..],
        &["--config", "missing.toml", "serve"],
        &["--fault", "payment=often", "order", "get", "x"],
        &["serve", "--no-such-flag"],
        &["return", "refund", "x", "--amount", "5", "--method", "cash"],
    ] {
        let output = run(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    std::fs::write(dir.path().join("order-host.toml"), "colour = \"red\"\n").unwrap();
    let output = run(&["order", "get", &id("o")]);
    assert_eq!(output.status.code(), Some(2), "a bad settings file");
    assert!(String::from_utf8_lossy(&output.stderr).contains("colour"));
    std::fs::remove_file(dir.path().join("order-host.toml")).unwrap();

    assert_eq!(run(&["init"]).status.code(), Some(0));
    let output = run(&["order", "get", &id("missing")]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("not found"));
}

#[test]
fn every_subcommand_explains_itself_with_examples() {
    let dir = tempfile::tempdir().unwrap();
    for command in [
        "",
        "demo",
        "order",
        "order place",
        "order get",
        "order events",
        "order cancel",
        "customer",
        "customer orders",
        "shipment",
        "shipment get",
        "metrics",
        "metrics daily",
        "saga",
        "saga resume",
        "saga status",
        "return",
        "return request",
        "return get",
        "return approve",
        "return deny",
        "return receive",
        "return refund",
        "serve",
        "load",
        "init",
    ] {
        let output = order_host(dir.path())
            .args(command.split_whitespace())
            .arg("--help")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{command} --help");
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(
            help.contains("Examples:"),
            "`order-host {command} --help` shows examples:\n{help}"
        );
    }
}

#[test]
fn the_cli_decides_returns_on_the_store_the_server_used_once_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("orders.db");
    let sim = dir.path().join("sim.db");
    let launch = launch(&store).global(&["--sim-state", sim.to_str().unwrap()]);
    let server = Server::start(dir.path(), &launch);
    let body = order("cli-return", "hana");
    server.delivered(&body);
    let mut request = return_of(&body, "cli-1", 1);
    request["order_id"] = body["order_id"].clone();
    let file = dir.path().join("return.json");
    std::fs::write(&file, request.to_string()).unwrap();
    let return_id = str_of(&request["return_id"]).to_owned();

    let cli_output = |args: &[&str]| {
        order_host(dir.path())
            .args(["--store", store.to_str().unwrap()])
            .args(["--sim-state", sim.to_str().unwrap()])
            .args(args)
            .output()
            .unwrap()
    };
    // One owner per store: while the server runs, the CLI is refused.
    let refused = cli_output(&["--json", "return", "get", &return_id]);
    assert_eq!(refused.status.code(), Some(5));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains(&format!("pid {}", server.pid())),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    server.stop();

    let cli = |args: &[&str]| {
        let output = cli_output(args);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    };
    let human = cli(&["return", "request", "-f", file.to_str().unwrap()]);
    assert!(
        human.contains(&format!("return {return_id}")) && human.contains("requested"),
        "{human}"
    );
    let approved = cli(&["return", "approve", &return_id, "--by", "Sam (support)"]);
    assert!(
        approved.contains("approved") && approved.contains("Sam (support)"),
        "{approved}"
    );
    let received: Value = serde_json::from_str(&cli(&[
        "--json",
        "return",
        "receive",
        &return_id,
        "--condition",
        "as new",
    ]))
    .unwrap();
    assert_eq!(received["status"], "received");
    assert_eq!(received["all_items_received"], true);
    // The server sees what the CLI did, and refunds through the gateway
    // that took the payment (its state kept in the simulation file).
    let server = Server::start(dir.path(), &launch);
    let refunded = server.post(
        &format!("/returns/{return_id}/refund"),
        &json!({"refund_amount": {"amount": 2_500}, "refund_method": "paypal"}),
    );
    assert_eq!(refunded.status, 200, "{}", refunded.text);
    server.stop();
    let shown: Value =
        serde_json::from_str(&cli(&["--json", "return", "get", &return_id])).unwrap();
    assert_eq!(shown["status"], "refunded");
    assert_eq!(shown["refund_method"], "paypal");
    assert_eq!(
        shown["refund_amount"],
        json!({"amount": 2_500, "currency": "USD"})
    );
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_server_cleanly_and_sagas_resume_on_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("orders.db");
    let mut server = Server::start(dir.path(), &launch(&store));
    let body = order("sigterm", "ivan");
    assert_eq!(server.post("/orders", &body).status, 201);
    server.terminate();
    let (exit, _) = server
        .wait_exit(Duration::from_secs(20))
        .expect("the server stops on SIGTERM");
    assert!(exit.success(), "{exit:?}");
    let log = server.log();
    assert!(
        log.contains("shutting down") && log.contains("stopped"),
        "{log}"
    );
    drop(server);

    let server = Server::start(dir.path(), &launch(&store));
    server.wait_for_status(str_of(&body["order_id"]), "shipped");
}
