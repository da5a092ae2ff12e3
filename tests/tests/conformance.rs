//! Proves that the bundled wasmtime host (order-host's library) passes the
//! embedders' conformance kit, `conformance/scenarios.json`: each scenario's
//! steps, the external calls with their idempotency keys, and the final
//! timers and tags, read as data. The Node runner (`tests/js/lib/conformance.js`)
//! runs the same file; the kit's rules for the imports are in
//! docs/embedding.md.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use order_host::bindings::customer_service as cs;
use order_host::bindings::inbound::InboundOutcome;
use order_host::bindings::inventory_service as inv;
use order_host::bindings::kebab_case;
use order_host::bindings::payment_gateway as pay;
use order_host::bindings::shipping_carrier as car;
use order_host::bindings::types::{CarrierCode, CommandError};
use order_host::carrier::ShippingCarrier;
use order_host::customer::CustomerService;
use order_host::engine::{CompileCache, RuntimeConfig};
use order_host::inventory::{AllocateError, InventoryService};
use order_host::payment::PaymentGateway;
use order_host::policy::{Pricing, RetryPolicy};
use order_host::store::{AppendBatch, RecordedEvent, SagaTimer, StoreError, StoreStats};
use order_host::{
    Backends, Clock as _, EventStore, ExternalError, ManualClock, MemoryStore, OrderService,
    Runtime, ServiceError, StorePolicy,
};
use order_server::dto;
use order_server::webhooks::{InboundEvent, Source};
use serde::Serialize;
use serde_json::{Value, json};

fn kit() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../conformance/scenarios.json");
    let text = std::fs::read_to_string(path).expect("the conformance kit is readable");
    serde_json::from_str(&text).expect("the conformance kit is JSON")
}

/// Enum values as the kit writes them (kebab-case WIT names): the derived
/// serde of the generated bindings writes Rust variant names (`CreditCard`).
const ENUM_FIELDS: &[&str] = &[
    "payment_method",
    "carrier",
    "shipping_status",
    "notification_type",
    "priority",
];

fn wire(value: &impl Serialize) -> Value {
    fn fix(v: Value) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| match v {
                        Value::String(s) if ENUM_FIELDS.contains(&k.as_str()) => {
                            (k, Value::String(kebab_case(&s)))
                        }
                        v => (k, fix(v)),
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.into_iter().map(fix).collect()),
            v => v,
        }
    }
    fix(serde_json::to_value(value).expect("a WIT value serializes"))
}

/// `$now` in the kit's inputs is the clock's time.
fn with_now(v: &Value, now: u64) -> Value {
    match v {
        Value::String(s) if s == "$now" => json!(now),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), with_now(v, now)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| with_now(v, now)).collect()),
        v => v.clone(),
    }
}

/// True when `expected` is contained in `actual`: objects by their listed
/// members, arrays element by element with the same length, `null` also
/// matching an absent member.
fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (_, Value::Null) => actual.is_null(),
        (Value::Array(a), Value::Array(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(a, e)| contains(a, e))
        }
        (Value::Object(a), Value::Object(e)) => e
            .iter()
            .all(|(k, e)| contains(a.get(k).unwrap_or(&Value::Null), e)),
        (a, e) => a == e,
    }
}

// ----- the imports, by the kit's rules ---------------------------------------

#[derive(Default)]
struct Script {
    calls: Vec<Value>,
    /// Outcomes by key: a success or a permanent failure is answered again.
    outcomes: HashMap<String, Box<dyn Any + Send>>,
    /// (operation, error notation), oldest first.
    faults: Vec<(String, Value)>,
    /// transaction id -> (charged, refunded).
    charges: HashMap<String, (u64, u64)>,
    tickets: u32,
}

struct Scripted {
    script: Mutex<Script>,
    clock: Arc<ManualClock>,
    transaction_id: String,
    shipment_id: String,
    tracking_number: String,
    ticket_id: String,
}

fn external(notation: &Value) -> ExternalError {
    let (kind, message) = notation
        .as_object()
        .and_then(|m| m.iter().next())
        .expect("a fault's error is {\"<case>\": \"<message>\"}");
    let message = message.as_str().unwrap_or_default().to_string();
    match kind.as_str() {
        "transient" => ExternalError::Transient(message),
        "permanent" => ExternalError::Permanent(message),
        "in-doubt" => ExternalError::InDoubt(message),
        other => panic!("unknown error case {other} in the kit"),
    }
}

impl Scripted {
    fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    fn call<T, E>(
        &self,
        operation: &str,
        key: &str,
        request: &impl Serialize,
        fault: impl FnOnce(ExternalError) -> E,
        is_transient: impl Fn(&E) -> bool,
        perform: impl FnOnce(&mut Script) -> Result<T, E>,
    ) -> Result<T, E>
    where
        T: Clone + Send + 'static,
        E: Clone + Send + 'static,
    {
        let mut s = self.script.lock().expect("the script lock");
        s.calls
            .push(json!({"operation": operation, "key": key, "request": wire(request)}));
        if let Some(stored) = s.outcomes.get(key) {
            return stored
                .downcast_ref::<Result<T, E>>()
                .expect("a key is used for one operation")
                .clone();
        }
        let outcome = match s.faults.iter().position(|(op, _)| op == operation) {
            Some(i) => Err(fault(external(&s.faults.remove(i).1))),
            None => perform(&mut s),
        };
        let transient = outcome.as_ref().err().is_some_and(&is_transient);
        if !transient {
            s.outcomes
                .insert(key.to_string(), Box::new(outcome.clone()));
        }
        outcome
    }

    fn ext<T: Clone + Send + 'static>(
        &self,
        operation: &str,
        key: &str,
        request: &impl Serialize,
        perform: impl FnOnce(&mut Script) -> Result<T, ExternalError>,
    ) -> Result<T, ExternalError> {
        self.call(
            operation,
            key,
            request,
            |e| e,
            |e| matches!(e, ExternalError::Transient(_)),
            perform,
        )
    }

    fn sent(
        &self,
        operation: &str,
        key: &str,
        request: &impl Serialize,
        customer_id: &str,
        notification_type: cs::NotificationType,
    ) -> Result<cs::NotificationSent, ExternalError> {
        let sent_at = self.now();
        self.ext(operation, key, request, |_| {
            Ok(cs::NotificationSent {
                customer_id: customer_id.to_string(),
                notification_type,
                sent_at,
            })
        })
    }
}

impl PaymentGateway for Scripted {
    fn process_payment(
        &self,
        key: &str,
        r: &pay::ProcessPaymentRequest,
    ) -> Result<pay::PaymentSucceeded, ExternalError> {
        let transaction_id = self.transaction_id.replace("{order_id}", &r.order_id);
        let now = self.now();
        self.ext("process-payment", key, r, |s| {
            s.charges
                .insert(transaction_id.clone(), (r.payment_amount.amount, 0));
            Ok(pay::PaymentSucceeded {
                transaction_id,
                order_id: r.order_id.clone(),
                payment_amount: r.payment_amount.clone(),
                processed_at: now,
            })
        })
    }

    fn refund_payment(
        &self,
        key: &str,
        r: &pay::RefundPaymentRequest,
    ) -> Result<pay::RefundCompleted, ExternalError> {
        let now = self.now();
        self.ext("refund-payment", key, r, |s| {
            let Some((charged, refunded)) = s.charges.get_mut(&r.transaction_id) else {
                return Err(ExternalError::Permanent(format!(
                    "unknown transaction {}",
                    r.transaction_id
                )));
            };
            if r.refund_amount.amount > *charged - *refunded {
                return Err(ExternalError::Permanent(
                    "refund exceeds what is left of the charge".to_string(),
                ));
            }
            *refunded += r.refund_amount.amount;
            Ok(pay::RefundCompleted {
                transaction_id: r.transaction_id.clone(),
                refund_amount: r.refund_amount.clone(),
                refunded_at: now,
            })
        })
    }
}

impl InventoryService for Scripted {
    fn allocate_stock(
        &self,
        key: &str,
        r: &inv::AllocateStockRequest,
    ) -> Result<inv::StockAllocated, AllocateError> {
        let now = self.now();
        self.call(
            "allocate-stock",
            key,
            r,
            AllocateError::Failed,
            |e| matches!(e, AllocateError::Failed(ExternalError::Transient(_))),
            |_| {
                Ok(inv::StockAllocated {
                    order_id: r.order_id.clone(),
                    all_items_allocated: true,
                    allocated_at: now,
                })
            },
        )
    }

    fn release_stock(
        &self,
        key: &str,
        r: &inv::ReleaseStockRequest,
    ) -> Result<inv::StockReleased, ExternalError> {
        let now = self.now();
        self.ext("release-stock", key, r, |_| {
            Ok(inv::StockReleased {
                order_id: r.order_id.clone(),
                released_at: now,
            })
        })
    }

    fn restock_items(
        &self,
        key: &str,
        r: &inv::RestockItemsRequest,
    ) -> Result<inv::StockRestocked, ExternalError> {
        let now = self.now();
        self.ext("restock-items", key, r, |_| {
            Ok(inv::StockRestocked {
                return_id: r.return_id.clone(),
                restocked_at: now,
            })
        })
    }
}

impl ShippingCarrier for Scripted {
    fn create_shipment(
        &self,
        key: &str,
        r: &car::CreateShipmentRequest,
    ) -> Result<car::ShipmentCreatedByCarrier, ExternalError> {
        let now = self.now();
        self.ext("create-shipment", key, r, |_| {
            Ok(car::ShipmentCreatedByCarrier {
                shipment_id: self.shipment_id.clone(),
                order_id: r.order_id.clone(),
                carrier: r.carrier,
                tracking_number: self.tracking_number.clone(),
                estimated_delivery: None,
                created_at: now,
            })
        })
    }

    fn cancel_shipment(
        &self,
        key: &str,
        r: &car::CancelShipmentRequest,
    ) -> Result<car::ShipmentCancelled, ExternalError> {
        let now = self.now();
        self.ext("cancel-shipment", key, r, |_| {
            Ok(car::ShipmentCancelled {
                shipment_id: r.shipment_id.clone(),
                cancelled_at: now,
            })
        })
    }
}

impl CustomerService for Scripted {
    fn send_order_confirmation(
        &self,
        key: &str,
        r: &cs::SendOrderConfirmationRequest,
    ) -> Result<cs::NotificationSent, ExternalError> {
        let t = cs::NotificationType::OrderConfirmation;
        self.sent("send-order-confirmation", key, r, &r.customer_id, t)
    }

    fn send_order_cancellation(
        &self,
        key: &str,
        r: &cs::SendOrderCancellationRequest,
    ) -> Result<cs::NotificationSent, ExternalError> {
        let t = cs::NotificationType::OrderCancellation;
        self.sent("send-order-cancellation", key, r, &r.customer_id, t)
    }

    fn send_shipping_update(
        &self,
        key: &str,
        r: &cs::SendShippingUpdateRequest,
    ) -> Result<cs::NotificationSent, ExternalError> {
        let t = cs::NotificationType::ShippingUpdate;
        self.sent("send-shipping-update", key, r, &r.customer_id, t)
    }

    fn create_support_ticket(
        &self,
        key: &str,
        r: &cs::CreateSupportTicketRequest,
    ) -> Result<cs::SupportTicketCreated, ExternalError> {
        let now = self.now();
        self.ext("create-support-ticket", key, r, |s| {
            s.tickets += 1;
            Ok(cs::SupportTicketCreated {
                ticket_id: self.ticket_id.replace("{n}", &s.tickets.to_string()),
                order_id: r.order_id.clone(),
                created_at: now,
            })
        })
    }
}

fn retry(v: &Value) -> RetryPolicy {
    RetryPolicy {
        max_attempts: v["max_attempts"].as_u64().unwrap_or(3) as u32,
        base_delay_ms: v["base_delay_ms"].as_u64().unwrap_or(100),
        max_delay_ms: v["max_delay_ms"].as_u64().unwrap_or(1_000),
        jitter_permille: v["jitter_permille"].as_u64().unwrap_or(0) as u32,
    }
}

fn policy(v: &Value) -> StorePolicy {
    assert_eq!(v["tax"], 0, "this runner quotes no tax, as the kit asks");
    assert_eq!(v["shipping_cost"], 0, "this runner quotes no shipping");
    assert_eq!(v["default_carrier"], "ups");
    StorePolicy {
        return_window_days: v["return_window_days"].as_u64().unwrap_or(30) as u32,
        default_carrier: CarrierCode::Ups,
        retry: retry(&v["retry"]),
        notification_retry: retry(&v["notification_retry"]),
        call_lease_ms: v["call_lease_ms"].as_u64().unwrap_or(1_000),
        pricing: Pricing::default(),
    }
}

// ----- steps ----------------------------------------------------------------

struct Run {
    service: OrderService,
    store: Arc<dyn EventStore>,
    clock: Arc<ManualClock>,
}

/// `entity-kind` as its WIT name (`order`).
fn entity_name(entity: &impl Serialize) -> String {
    match serde_json::to_value(entity) {
        Ok(Value::String(name)) => kebab_case(&name),
        other => panic!("an entity kind serializes to its name, not {other:?}"),
    }
}

fn error_summary(e: ServiceError) -> Value {
    let ServiceError::Domain(error) = e else {
        panic!("the component broke: {e}");
    };
    match error {
        CommandError::Validation(v) => {
            json!({"tag": "validation", "field": v.field, "reason": v.reason})
        }
        CommandError::InvalidTransition(t) => json!({
            "tag": "invalid-transition", "entity": entity_name(&t.entity),
            "state": t.state, "command": t.command,
        }),
        CommandError::NotFound(n) => {
            json!({"tag": "not-found", "entity": entity_name(&n.entity), "id": n.id})
        }
        CommandError::Conflict(m) => json!({"tag": "conflict", "message": m}),
        CommandError::RuleViolated(r) => json!({"tag": "rule-violated", "rule": wire(&r)}),
        CommandError::External(x) => json!({"tag": "external", "error": wire(&x)}),
        CommandError::Storage(m) => json!({"tag": "storage", "message": m}),
    }
}

fn answer<T>(result: Result<T, ServiceError>, ok: impl FnOnce(T) -> Value) -> Value {
    match result {
        Ok(v) => json!({ "ok": ok(v) }),
        Err(e) => json!({ "error": error_summary(e) }),
    }
}

fn saga_summary(report: order_host::bindings::fulfillment_saga::SagaReport) -> Value {
    let r = serde_json::to_value(dto::SagaReport::from(report)).expect("a saga report");
    json!({
        "phase": r["phase"],
        "outcome": r["outcome"]["kind"],
        "failed_step": r["outcome"]["failed_step"],
        "next_wake_at": r["next_wake_at"],
    })
}

fn input_str(input: &Value, field: &str) -> String {
    input[field]
        .as_str()
        .unwrap_or_else(|| panic!("the step's input has a string {field}"))
        .to_string()
}

impl Run {
    fn timers(&self) -> Vec<(String, u64)> {
        let timers = self.store.all_timers().expect("timers are readable");
        timers.into_iter().map(|t| (t.saga_id, t.due_at)).collect()
    }

    fn advance(&self, order_id: &str) -> order_host::bindings::fulfillment_saga::SagaReport {
        let id = order_id.to_string();
        self.service.advance_saga(&id).expect("advance succeeds")
    }

    /// The driver's duty as the kit states it: while a timer exists, advance
    /// every due saga (earliest first); when none is due, move the clock to
    /// the earliest timer. At most 50 advances.
    fn drive(&self) -> Value {
        let mut last = Value::Null;
        let mut advances = 0;
        while advances < 50 {
            let now = self.clock.now_ms();
            let due = self.store.due_timers(now, 100).expect("due timers");
            if due.is_empty() {
                let Some(earliest) = self.timers().into_iter().map(|(_, at)| at).min() else {
                    return last;
                };
                self.clock.set(earliest.max(now));
                continue;
            }
            for timer in due {
                last = saga_summary(self.advance(&timer.saga_id));
                advances += 1;
            }
        }
        panic!("sagas still have timers after 50 advances");
    }

    fn step(&self, step: &Value) -> Value {
        let now = self.clock.now_ms();
        let input = with_now(&step["input"], now);
        let service = &self.service;
        match step["do"].as_str().expect("a step names what it does") {
            "place-order" => {
                let request: dto::PlaceOrderRequest =
                    serde_json::from_value(input).expect("a place-order request");
                let dto::Placement::Place(cmd) = request.into_placement().expect("complete") else {
                    panic!("the kit places orders, not drafts");
                };
                answer(service.place_order(&cmd), |o| json!(dto::Order::from(o)))
            }
            "cancel-order" => {
                let order_id = input_str(&input, "order_id");
                let mut body = input.clone();
                body.as_object_mut().map(|m| m.remove("order_id"));
                let request: dto::CancelOrderRequest =
                    serde_json::from_value(body).expect("a cancel request");
                // The kit names the actor in the body; the HTTP API takes it
                // from the credential instead.
                let actor = request.cancelled_by.clone().unwrap_or_default();
                let cmd = request
                    .into_command(order_id, actor)
                    .expect("a well-formed cancel request");
                answer(service.cancel_order(&cmd), |o| json!(dto::Order::from(o)))
            }
            "get-order" => {
                let id = input_str(&input, "order_id");
                answer(service.get_order(&id), |o| json!(dto::Order::from(o)))
            }
            "orders-of-customer" => {
                let id = input_str(&input, "customer_id");
                answer(service.orders_of_customer(&id), |os| {
                    json!(os.into_iter().map(dto::Order::from).collect::<Vec<_>>())
                })
            }
            "shipments-of-order" => {
                let id = input_str(&input, "order_id");
                answer(service.shipments_of_order(&id), |ss| {
                    json!(ss.into_iter().map(dto::Shipment::from).collect::<Vec<_>>())
                })
            }
            "inbound" => {
                let event_type = input_str(&input, "type");
                let source = [Source::Payment, Source::Inventory, Source::Carrier]
                    .into_iter()
                    .find(|s| s.event_types().contains(&event_type.as_str()))
                    .expect("a known event type");
                // The kit's data are the WIT's (times in milliseconds); the
                // parser is the HTTP API's, whose times are RFC 3339.
                let mut data = input["data"].clone();
                dto::times_as_rfc3339(&mut data);
                let event = InboundEvent::parse(source, &event_type, data)
                    .expect("the event's data is well formed");
                answer(event.dispatch(service), |o| match o {
                    InboundOutcome::Applied => json!("applied"),
                    InboundOutcome::Duplicate => json!("duplicate"),
                })
            }
            "advance" => {
                let id = input_str(&input, "order_id");
                let report = saga_summary(self.advance(&id));
                let timer = self.timers().into_iter().find(|(s, _)| *s == id);
                json!({
                    "saga": report,
                    "timer_after_now": timer.is_some_and(|(_, at)| at > self.clock.now_ms()),
                })
            }
            "retry-saga-now" => {
                let id = input_str(&input, "order_id");
                let by = input_str(&input, "requested_by");
                match service.retry_saga_now(&id, &by) {
                    Ok(report) => {
                        let timer = self.timers().into_iter().find(|(s, _)| *s == id);
                        json!({
                            "saga": saga_summary(report),
                            "timer_after_now": timer.is_some_and(|(_, at)| at > self.clock.now_ms()),
                        })
                    }
                    Err(e) => json!({ "error": error_summary(e) }),
                }
            }
            "saga-status" => {
                let id = input_str(&input, "order_id");
                let report = service.saga_status(&id).expect("the saga's status");
                json!({ "saga": saga_summary(report) })
            }
            "drive" => json!({ "saga": self.drive() }),
            "advance-clock" => {
                let ms = step["input"]["ms"].as_u64().expect("ms");
                self.clock.advance(Duration::from_millis(ms));
                json!({})
            }
            other => panic!("unknown step {other}"),
        }
    }
}

/// A store that indexes only the tags `keep` accepts: an embedding that
/// gets the tag duty wrong, which the kit must catch.
struct SomeTags {
    inner: MemoryStore,
    keep: fn(&str) -> bool,
}

impl EventStore for SomeTags {
    fn load(&self, stream_id: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.load(stream_id)
    }
    fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
        self.inner.stream_version(stream_id)
    }
    fn append(&self, batch: &AppendBatch) -> Result<(), StoreError> {
        let mut batch = batch.clone();
        for s in &mut batch.streams {
            s.tags.retain(|t| (self.keep)(t));
        }
        self.inner.append(&batch)
    }
    fn find_streams(&self, tag: &str) -> Result<Vec<String>, StoreError> {
        self.inner.find_streams(tag)
    }
    fn due_timers(&self, now_ms: u64, limit: usize) -> Result<Vec<SagaTimer>, StoreError> {
        self.inner.due_timers(now_ms, limit)
    }
    fn all_timers(&self) -> Result<Vec<SagaTimer>, StoreError> {
        self.inner.all_timers()
    }
    fn stats(&self) -> Result<StoreStats, StoreError> {
        self.inner.stats()
    }
}

fn run_scenario(kit: &Value, scenario: &Value) -> Vec<String> {
    run_scenario_on(kit, scenario, |_| true)
}

fn run_scenario_on(kit: &Value, scenario: &Value, keep: fn(&str) -> bool) -> Vec<String> {
    let clock = Arc::new(ManualClock::new(
        kit["start_ms"].as_u64().expect("start_ms"),
    ));
    let store: Arc<dyn EventStore> = Arc::new(SomeTags {
        inner: MemoryStore::new(clock.clone()),
        keep,
    });
    let backend = &kit["backend"];
    let faults = scenario["faults"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| {
            let op = f["operation"]
                .as_str()
                .expect("a fault's operation")
                .to_string();
            let times = f["times"].as_u64().unwrap_or(1) as usize;
            std::iter::repeat_n((op, f["error"].clone()), times)
        })
        .collect();
    let scripted = Arc::new(Scripted {
        script: Mutex::new(Script {
            faults,
            ..Script::default()
        }),
        clock: clock.clone(),
        transaction_id: backend["transaction_id"]
            .as_str()
            .unwrap_or_default()
            .into(),
        shipment_id: backend["shipment_id"].as_str().unwrap_or_default().into(),
        tracking_number: backend["tracking_number"]
            .as_str()
            .unwrap_or_default()
            .into(),
        ticket_id: backend["ticket_id"].as_str().unwrap_or_default().into(),
    });
    let backends = Backends {
        store: store.clone(),
        payment: scripted.clone(),
        inventory: scripted.clone(),
        carrier: scripted.clone(),
        customer: scripted.clone(),
        policy: policy(&kit["policy"]),
        clock: clock.clone(),
    };
    let component = order_host::embedded_component().expect("the component (run `make build`)");
    let config = RuntimeConfig {
        max_instances: 4,
        cache: CompileCache::Default,
        ..RuntimeConfig::default()
    };
    let runtime = Arc::new(Runtime::new(component, backends, config).expect("the runtime starts"));
    let run = Run {
        service: OrderService::new(runtime),
        store: store.clone(),
        clock,
    };

    let mut failures = Vec::new();
    for (i, step) in scenario["steps"]
        .as_array()
        .expect("a scenario has steps")
        .iter()
        .enumerate()
    {
        let got = run.step(step);
        let expected = &step["expect"];
        if !expected.is_null() && !contains(&got, expected) {
            failures.push(format!(
                "step {i} ({}): expected {expected}, got {got}",
                step["do"]
            ));
        }
    }
    let calls = Value::Array(scripted.script.lock().expect("the script").calls.clone());
    if !contains(&calls, &scenario["calls"]) {
        failures.push(format!(
            "calls: expected {}, got {calls}",
            scenario["calls"]
        ));
    }
    let end = &scenario["final"];
    if let Some(expected) = end["timers"].as_object() {
        let timers = run.timers();
        let matches = timers.len() == expected.len()
            && timers
                .iter()
                .all(|(id, at)| expected.get(id) == Some(&json!(at)));
        if !matches {
            failures.push(format!("timers: expected {end}, got {timers:?}"));
        }
    }
    if let Some(tags) = end["tags"].as_object() {
        for (tag, streams) in tags {
            let got = json!(store.find_streams(tag).expect("find-streams"));
            if !contains(&got, streams) {
                failures.push(format!("tag {tag}: expected {streams}, got {got}"));
            }
        }
    }
    if let Some(streams) = end["streams"].as_u64() {
        let stats = store.stats().expect("store stats");
        if stats.streams != streams {
            failures.push(format!(
                "streams: expected {streams}, got {}",
                stats.streams
            ));
        }
    }
    failures
}

#[test]
fn the_bundled_host_passes_every_scenario_of_the_conformance_kit() {
    let kit = kit();
    let scenarios = kit["scenarios"].as_array().expect("scenarios");
    assert!(scenarios.len() >= 5, "the kit has its scenarios");
    let mut failures = Vec::new();
    for scenario in scenarios {
        for f in run_scenario(&kit, scenario) {
            failures.push(format!("{}: {f}", scenario["name"]));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn an_embedding_that_indexes_only_customer_tags_fails_the_kit() {
    let kit = kit();
    let named = |name: &str| {
        kit["scenarios"]
            .as_array()
            .and_then(|all| all.iter().find(|s| s["name"] == name))
            .cloned()
            .expect("the scenario is in the kit")
    };
    let only_customers: fn(&str) -> bool = |tag| tag.starts_with("customer-");
    let journey = run_scenario_on(&kit, &named("journey-place-ship-deliver"), only_customers);
    assert!(
        journey.iter().any(|f| f.contains("shipments-of-order")),
        "{journey:?}"
    );
    let refund = run_scenario_on(
        &kit,
        &named("cancellation-refunds-the-charge"),
        only_customers,
    );
    assert!(refund.iter().any(|f| f.contains("inbound")), "{refund:?}");
}

#[test]
fn the_kit_matcher_refuses_what_differs() {
    assert!(contains(&json!({"a": 1, "b": 2}), &json!({"a": 1})));
    assert!(!contains(&json!({"a": 1}), &json!({"a": 2})));
    assert!(!contains(&json!([1, 2]), &json!([1])));
    assert!(contains(&json!({}), &json!({"a": null})));
    assert_eq!(kebab_case("CreditCard"), "credit-card");
}
