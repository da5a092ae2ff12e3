//! The real `order-host` binary as a person or a script uses it, on a
//! SQLite store in a temporary directory: `order place -f
//! docs/examples/order.json` (the HTTP API's body of POST /orders) runs the
//! saga; `order get`, `saga status`, `shipment get`, `customer orders` and
//! `metrics daily` print readable text, and with `--json` the HTTP API's
//! JSON (snake_case fields, kebab-case values); a usage error exits 2, a
//! refused command exits 1 naming what it refused.
//!
//! The binary is `target/debug/order-host`, built by `make build` (or
//! `cargo build -p order-host`).

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use support::{assert_fails_saying, stderr, stdout};

/// The example order of the README.
fn example() -> PathBuf {
    order_e2e::workspace_root().join("docs/examples/order.json")
}

/// Runs `order-host --store DIR/orders.db ARGS` in `dir`.
fn run(dir: &Path, args: &[&str]) -> Output {
    support::cli(dir, &dir.join("orders.db"), args)
}

/// Runs and expects success; returns stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let output = run(dir, args);
    assert!(
        output.status.success(),
        "order-host {args:?} failed with {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let text = ok(dir, &all);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn example_order() -> Value {
    serde_json::from_str(&std::fs::read_to_string(example()).unwrap()).unwrap()
}

#[test]
fn an_order_placed_from_the_example_file_reads_as_text_and_as_the_apis_json() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let file = example();
    let file = file.to_str().unwrap();
    let request = example_order();
    let order_id = request["order_id"].as_str().unwrap();
    let customer_id = request["customer_id"].as_str().unwrap();
    // Only init (or serve, load, demo) creates a store, and says its format.
    let init = ok(dir, &["init"]);
    assert!(init.contains("(SQLite schema 2) is ready"), "{init}");

    // Placing runs the saga to its end: paid, allocated, shipped.
    let placed = ok(dir, &["order", "place", "-f", file]);
    assert!(
        placed.starts_with(&format!("order {order_id}  shipped\n")),
        "{placed}"
    );

    // The JSON is GET /orders/{id}'s: snake_case fields, kebab-case values,
    // money in minor units.
    let order = json(dir, &["order", "get", order_id]);
    assert_eq!(order["order_id"], order_id);
    assert_eq!(order["customer_id"], customer_id);
    assert_eq!(order["status"], "shipped");
    assert_eq!(order["payment_method"], "credit-card");
    assert_eq!(order["items"][0]["unit_price"]["amount"], 1250);
    assert_eq!(order["items"][0]["total_price"]["amount"], 2500);
    assert_eq!(order["shipping_address"]["state_province"], "IL");
    assert_eq!(order["shipping"]["carrier"], "ups");
    assert!(order.get("OrderId").is_none() && order.get("orderId").is_none());
    let total = order["total"]["amount"].as_u64().unwrap();
    let currency = order["total"]["currency"].as_str().unwrap();
    let total_text = format!("{}.{:02} {currency}", total / 100, total % 100);

    // The text: status, total in major units, items, addresses, payment
    // and shipping, one aligned line each.
    let text = ok(dir, &["order", "get", order_id]);
    assert!(
        text.starts_with(&format!("order {order_id}  shipped\n")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("  total ") && l.ends_with(&total_text)),
        "no total {total_text}:\n{text}"
    );
    assert!(text.contains("2 x Mug (MUG-1)"), "{text}");
    assert!(text.contains("12.50 USD each"), "{text}");
    assert!(
        text.contains("  ship to    1 Main St, Apt 4B, Springfield, IL 62701, US"),
        "{text}"
    );
    assert!(text.contains("  payment    credit-card, paid "), "{text}");
    assert!(!text.contains("OrderView") && !text.contains('{'), "{text}");

    // The saga: each step with its status and attempts, and the outcome.
    let saga = ok(dir, &["saga", "status", order_id]);
    assert!(
        saga.starts_with(&format!("saga of order {order_id}  finished\n")),
        "{saga}"
    );
    for step in [
        "process-payment",
        "allocate-inventory",
        "create-shipment",
        "notify-customer",
    ] {
        assert!(
            saga.lines()
                .any(|l| l.trim_start().starts_with(step) && l.contains("completed")),
            "{step}:\n{saga}"
        );
    }
    assert!(saga.contains("  outcome    completed: shipment "), "{saga}");
    let report = json(dir, &["saga", "status", order_id]);
    assert_eq!(report["phase"], "finished");
    assert_eq!(report["steps"][0]["step"], "process-payment");
    assert_eq!(report["outcome"]["kind"], "completed");

    // The shipment and its tracking history.
    let shipment_id = order["shipping"]["shipment_id"].as_str().unwrap();
    let shipment = ok(dir, &["shipment", "get", shipment_id]);
    assert!(
        shipment.starts_with(&format!(
            "shipment {shipment_id}  awaiting-pickup (active)\n"
        )),
        "{shipment}"
    );
    assert!(shipment.contains("  tracking history:\n"), "{shipment}");
    assert!(shipment.contains(" UTC  awaiting-pickup "), "{shipment}");
    let shipment = json(dir, &["shipment", "get", shipment_id]);
    assert_eq!(shipment["tracking_history"][0]["status"], "awaiting-pickup");

    // The customer's orders, and the day's metrics.
    let orders = ok(dir, &["customer", "orders", customer_id]);
    assert!(orders.contains(&format!("{order_id}  shipped")), "{orders}");
    assert!(orders.contains(&total_text), "{orders}");
    let orders = json(dir, &["customer", "orders", customer_id]);
    assert_eq!(orders[0]["order_id"], order_id);
    // `--json` prints the API's shapes: times are RFC 3339.
    let date = &order["created_at"].as_str().expect("an RFC 3339 time")[..10];
    assert!(
        order_server::dto::time::parse(order["created_at"].as_str().unwrap()).is_some(),
        "{order}"
    );
    let metrics = ok(dir, &["metrics", "daily", date]);
    assert!(metrics.contains(&format!("metrics of {date}")), "{metrics}");
    assert!(metrics.contains(&total_text), "{metrics}");
    let metrics = json(dir, &["metrics", "daily", date]);
    assert_eq!(metrics["order_count"], 1);
    assert_eq!(metrics["totals"][0]["total_revenue"], total);
}

#[test]
fn a_draft_file_opens_a_cart_and_a_file_missing_a_field_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let mut request = example_order();
    request["draft"] = Value::Bool(true);
    request.as_object_mut().unwrap().remove("shipping_address");
    ok(dir, &["init"]);
    let draft = dir.join("draft.json");
    std::fs::write(&draft, request.to_string()).unwrap();
    let order = json(dir, &["order", "place", "-f", draft.to_str().unwrap()]);
    assert_eq!(order["status"], "draft");
    assert_eq!(order["shipping_address"], Value::Null);

    request["draft"] = Value::Bool(false);
    std::fs::write(&draft, request.to_string()).unwrap();
    let output = run(dir, &["order", "place", "-f", draft.to_str().unwrap()]);
    assert_fails_saying(&output, 1, "shipping_address");

    // The bindgen shape of old is not the API's body: refused, naming why.
    std::fs::write(&draft, r#"{"orderId": "x"}"#).unwrap();
    let output = run(dir, &["order", "place", "-f", draft.to_str().unwrap()]);
    assert_fails_saying(&output, 1, "not a valid order");
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    for args in [
        &["order", "get"][..],
        &["order", "frobnicate"],
        &["--backend", "bank=http://127.0.0.1:9", "order", "get", "x"],
        &["--backend", "payment=ftp://pay.test", "order", "get", "x"],
        &["--backend", "payment=http://127.0.0.1:9", "demo"],
        &["--latency", "carrier", "order", "get", "x"],
    ] {
        let output = run(dir, args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "order-host {args:?}\nstdout:\n{}\nstderr:\n{}",
            stdout(&output),
            stderr(&output)
        );
        assert!(!stderr(&output).is_empty(), "{args:?}");
    }
}

#[test]
fn a_refused_command_exits_1_naming_the_order() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let unknown = "0b7e3c1d-9a2f-4e6b-8c5d-1f0a2b3c4d5e";
    ok(dir, &["init"]);
    let output = run(
        dir,
        &["order", "cancel", unknown, "--reason", "changed my mind"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    let error = stderr(&output);
    assert!(error.contains(unknown), "{error}");
    assert!(error.contains("not found"), "{error}");
}

#[test]
fn faults_and_latency_from_flags_shape_a_load_run() {
    let dir = tempfile::tempdir().unwrap();
    let summary = json(
        dir.path(),
        &[
            "--seed",
            "5",
            "--fault",
            "payment=transient:0.2",
            "--latency",
            "carrier=5ms",
            "load",
            "--orders",
            "8",
        ],
    );
    assert_eq!(summary["errors"], 0, "{summary}");
    assert_eq!(summary["delivered"], 8, "{summary}");
    // Every saga waited at least once for the carrier's 5 ms.
    let fastest = summary["saga_latency_ms"]["p50"].as_f64().expect("p50");
    assert!(fastest >= 5.0, "{summary}");
}
