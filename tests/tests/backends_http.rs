//! The `http` backends of the four external contexts keep the JSON contract
//! of `docs/backends.md`. Against a stub server on 127.0.0.1 (an ephemeral
//! port, started and stopped by each test) that records what it receives,
//! they prove that every operation POSTs its WIT request record as JSON to
//! its path with the component's key in `Idempotency-Key`, that 2xx bodies
//! decode into the WIT result records, that 503, 429, 408 and a refused
//! connection are transient failures naming the context, operation and
//! cause, that a server that does not answer within the time-out, 409 "in
//! progress", 500 and an unreadable success body are in doubt (the server
//! may have acted), that other 4xx and redirects are permanent (with the
//! server's message), and that an allocation refused with 409 and a list of
//! items is the out-of-stock case with those items. Then a whole host
//! (`Host::start`) with the payment context set to `http` and the others
//! simulated charges and refunds through the stub while its sagas run; and
//! a host with all four contexts over http whose services act on a call,
//! answer it too late and refuse the retries with 503: what the lost call
//! did is undone (refund, release, cancellation) or, for a message, a
//! support ticket is opened, as the services' own records show.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use order_host::bindings::orders::PlaceOrderCommand;
use order_host::bindings::types::{
    CarrierCode, Money, OrderItem, OrderStatus, PaymentMethod, ShipmentStatus,
};
use order_host::carrier::remote::HttpShippingCarrier;
use order_host::carrier::{
    CancelShipmentRequest, CreateShipmentRequest, PackageItem, ShipmentCancelled,
    ShipmentCreatedByCarrier, ShippingCarrier,
};
use order_host::config::{BackendKind, BackendsConfig, ContextBackend};
use order_host::customer::remote::HttpCustomerService;
use order_host::customer::{
    CreateSupportTicketRequest, CustomerService, NotificationSent, NotificationType, OrderDetails,
    SendOrderCancellationRequest, SendOrderConfirmationRequest, SendShippingUpdateRequest,
    SupportTicketCreated, TicketPriority,
};
use order_host::inventory::remote::HttpInventoryService;
use order_host::inventory::{
    AllocateError, AllocateStockRequest, InventoryService, ReleaseStockRequest,
    RestockItemsRequest, StockAllocated, StockAllocationFailed, StockItem, StockReleased,
    StockRestocked, UnavailableItem,
};
use order_host::payment::remote::HttpPaymentGateway;
use order_host::payment::{
    PaymentGateway, PaymentSucceeded, ProcessPaymentRequest, RefundCompleted, RefundPaymentRequest,
};
use order_host::remote::HttpBackendConfig;
use order_host::simulation::fixtures::{self, address};
use order_host::wiring::{BackendSetupError, backends};
use order_host::{
    Backends, Context, ExternalError, Host, HostOptions, ManualClock, MemoryStore, Simulation,
    StorePolicy,
};
use serde_json::{Value, json};

// ---------------------------------------------------------------- the stub

/// Held while a test binds an ephemeral port, and by the refused-connection
/// test while the port it freed must stay free: no stub of a test running
/// beside it can be handed that port meanwhile.
static PORTS: Mutex<()> = Mutex::new(());

fn ports() -> MutexGuard<'static, ()> {
    PORTS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A request the stub received.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    /// Header names in lower case.
    headers: Vec<(String, String)>,
    body: Value,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the stub does with a request.
enum Reply {
    /// Answers with a status, extra headers and a body (sent as JSON).
    Answer(u16, Vec<(&'static str, String)>, String),
    /// Never answers (until the stub stops).
    Hang,
    /// Reads the request, then closes the connection without an answer.
    Close,
}

fn reply(status: u16, body: Value) -> Reply {
    Reply::Answer(status, Vec::new(), body.to_string())
}

/// An HTTP/1.1 responder on 127.0.0.1 that serves one connection at a time,
/// closes each after one answer, and records every request. Dropping it
/// stops it and joins its thread.
struct Stub {
    server: Local,
    requests: Arc<Mutex<Vec<Recorded>>>,
    wake: mpsc::Sender<()>,
}

impl Stub {
    /// The HTTP payment gateway of this stub's configuration.
    fn payment(&self) -> HttpPaymentGateway {
        HttpPaymentGateway::new(&self.config()).unwrap()
    }

    fn inventory(&self) -> HttpInventoryService {
        HttpInventoryService::new(&self.config()).unwrap()
    }

    fn carrier(&self) -> HttpShippingCarrier {
        HttpShippingCarrier::new(&self.config()).unwrap()
    }

    fn customer(&self) -> HttpCustomerService {
        HttpCustomerService::new(&self.config()).unwrap()
    }

    fn start(respond: impl Fn(&Recorded) -> Reply + Send + 'static) -> Stub {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (wake, woken) = mpsc::channel();
        let recorded = requests.clone();
        let server = Local::start(move |stream| {
            // A client that broke off is the client's business.
            let _ = serve(stream, &respond, &recorded, &woken);
        });
        Stub {
            server,
            requests,
            wake,
        }
    }

    fn base_url(&self) -> String {
        self.server.base_url()
    }

    fn config(&self) -> HttpBackendConfig {
        HttpBackendConfig::new(self.base_url())
            .with_timeout(Duration::from_secs(5))
            .with_user_agent("backends-http-test/1")
    }

    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        // Ends a `Hang` before the server stops (a field, dropped next).
        self.server.stopping.store(true, Ordering::SeqCst);
        let _ = self.wake.send(());
    }
}

/// A server on 127.0.0.1 that hands each connection to `accept`, in turn,
/// on one thread. Dropping it stops the loop and joins the thread (and with
/// it whatever `accept` owns).
struct Local {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Local {
    fn start(mut accept: impl FnMut(TcpStream) + Send + 'static) -> Local {
        let listener = {
            let _ports = ports();
            TcpListener::bind("127.0.0.1:0").unwrap()
        };
        let addr = listener.local_addr().unwrap();
        let stopping = Arc::new(AtomicBool::new(false));
        let stop = stopping.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                accept(stream);
            }
        });
        Local {
            addr,
            stopping,
            thread: Some(thread),
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Unblocks `accept` so the loop sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

/// Threads joined when dropped.
#[derive(Default)]
struct Joined(Vec<JoinHandle<()>>);

impl Drop for Joined {
    fn drop(&mut self) {
        for handler in self.0.drain(..) {
            let _ = handler.join();
        }
    }
}

fn serve(
    stream: TcpStream,
    respond: &impl Fn(&Recorded) -> Reply,
    requests: &Mutex<Vec<Recorded>>,
    woken: &mpsc::Receiver<()>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .map_or(0, |(_, value)| value.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let recorded = Recorded {
        method,
        path,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    requests.lock().unwrap().push(recorded.clone());
    match respond(&recorded) {
        Reply::Hang => {
            let _ = woken.recv_timeout(Duration::from_secs(30));
            Ok(())
        }
        Reply::Close => stream.shutdown(std::net::Shutdown::Both),
        Reply::Answer(status, extra, body) => {
            let mut head = format!(
                "HTTP/1.1 {status} Stub\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (name, value) in extra {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let mut stream = stream;
            stream.write_all(head.as_bytes())?;
            stream.write_all(body.as_bytes())?;
            stream.flush()
        }
    }
}

// ------------------------------------------------------------ the records

const ORDER: &str = "6f1c2e1a-0b7d-4d3e-9a51-2f0c8d4b7e10";
const CUSTOMER: &str = "0d9e4b62-5a1f-4c8e-8f3b-7c2a1e6d9b04";
const PRODUCT: &str = "a3b8c1d2-e4f5-4a6b-8c7d-9e0f1a2b3c4d";
const RETURN: &str = "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918";
const ITEM: &str = "11111111-2222-4333-8444-555555555555";

fn usd(amount: u64) -> Money {
    Money {
        amount,
        currency: "USD".to_owned(),
    }
}

fn charge() -> ProcessPaymentRequest {
    ProcessPaymentRequest {
        order_id: ORDER.to_owned(),
        payment_amount: usd(2_500),
        payment_method: PaymentMethod::CreditCard,
        customer_id: CUSTOMER.to_owned(),
    }
}

fn refund() -> RefundPaymentRequest {
    RefundPaymentRequest {
        transaction_id: "txn_1".to_owned(),
        refund_amount: usd(1_000),
        reason: "returned".to_owned(),
    }
}

fn stock() -> Vec<StockItem> {
    vec![StockItem {
        product_id: PRODUCT.to_owned(),
        sku: "SKU-1".to_owned(),
        quantity: 2,
    }]
}

fn allocation() -> AllocateStockRequest {
    AllocateStockRequest {
        order_id: ORDER.to_owned(),
        stock_items: stock(),
    }
}

fn booking() -> CreateShipmentRequest {
    CreateShipmentRequest {
        order_id: ORDER.to_owned(),
        carrier: CarrierCode::OtherCarrier,
        shipping_address: address(),
        package_items: vec![PackageItem {
            product_id: PRODUCT.to_owned(),
            quantity: 2,
            weight_grams: Some(350),
        }],
    }
}

fn confirmation() -> SendOrderConfirmationRequest {
    SendOrderConfirmationRequest {
        order_id: ORDER.to_owned(),
        customer_id: CUSTOMER.to_owned(),
        order_details: OrderDetails {
            items: vec![OrderItem {
                item_id: ITEM.to_owned(),
                product_id: PRODUCT.to_owned(),
                sku: "SKU-1".to_owned(),
                product_name: "Mug".to_owned(),
                quantity: 2,
                unit_price: usd(1_250),
                total_price: usd(2_500),
            }],
            total: usd(2_500),
            tracking_number: None,
        },
    }
}

fn money_json(amount: u64) -> Value {
    json!({ "amount": amount, "currency": "USD" })
}

/// Each operation's path, the JSON its request must have become, and the
/// 200 body the stub answers with.
fn contract() -> Vec<(&'static str, Value, Value)> {
    let stock_json = json!([{ "product_id": PRODUCT, "sku": "SKU-1", "quantity": 2 }]);
    vec![
        (
            "/api/payments",
            json!({
                "order_id": ORDER,
                "payment_amount": money_json(2_500),
                "payment_method": "credit-card",
                "customer_id": CUSTOMER,
            }),
            json!({
                "transaction_id": "txn_1",
                "order_id": ORDER,
                "payment_amount": money_json(2_500),
                "processed_at": 1_700_000_000_000_u64,
            }),
        ),
        (
            "/api/refunds",
            json!({
                "transaction_id": "txn_1",
                "refund_amount": money_json(1_000),
                "reason": "returned",
            }),
            json!({
                "transaction_id": "txn_1",
                "refund_amount": money_json(1_000),
                "refunded_at": 1_700_000_000_001_u64,
            }),
        ),
        (
            "/api/allocations",
            json!({ "order_id": ORDER, "stock_items": stock_json }),
            json!({
                "order_id": ORDER,
                "all_items_allocated": true,
                "allocated_at": 1_700_000_000_002_u64,
            }),
        ),
        (
            "/api/releases",
            json!({ "order_id": ORDER, "stock_items": stock_json }),
            json!({ "order_id": ORDER, "released_at": 1_700_000_000_003_u64 }),
        ),
        (
            "/api/restocks",
            json!({ "return_id": RETURN, "order_id": ORDER, "stock_items": stock_json }),
            json!({ "return_id": RETURN, "restocked_at": 1_700_000_000_004_u64 }),
        ),
        (
            "/api/shipments",
            json!({
                "order_id": ORDER,
                "carrier": "other-carrier",
                "shipping_address": {
                    "street1": "1 Main St",
                    "street2": null,
                    "city": "Springfield",
                    "state_province": "IL",
                    "postal_code": "62701",
                    "country": "US",
                },
                "package_items": [{ "product_id": PRODUCT, "quantity": 2, "weight_grams": 350 }],
            }),
            json!({
                "shipment_id": "shp/42",
                "order_id": ORDER,
                "carrier": "other-carrier",
                "tracking_number": "1Z999",
                "estimated_delivery": 1_700_086_400_000_u64,
                "created_at": 1_700_000_000_005_u64,
            }),
        ),
        (
            "/api/shipments/shp%2F42/cancel",
            json!({ "shipment_id": "shp/42", "reason": "order cancelled" }),
            json!({ "shipment_id": "shp/42", "cancelled_at": 1_700_000_000_006_u64 }),
        ),
        (
            "/api/notifications/order-confirmation",
            json!({
                "order_id": ORDER,
                "customer_id": CUSTOMER,
                "order_details": {
                    "items": [{
                        "item_id": ITEM,
                        "product_id": PRODUCT,
                        "sku": "SKU-1",
                        "product_name": "Mug",
                        "quantity": 2,
                        "unit_price": money_json(1_250),
                        "total_price": money_json(2_500),
                    }],
                    "total": money_json(2_500),
                    "tracking_number": null,
                },
            }),
            json!({
                "customer_id": CUSTOMER,
                "notification_type": "order-confirmation",
                "sent_at": 1_700_000_000_007_u64,
            }),
        ),
        (
            "/api/notifications/order-cancellation",
            json!({ "order_id": ORDER, "customer_id": CUSTOMER, "reason": "out of stock" }),
            json!({
                "customer_id": CUSTOMER,
                "notification_type": "order-cancellation",
                "sent_at": 1_700_000_000_008_u64,
            }),
        ),
        (
            "/api/notifications/shipping-update",
            json!({
                "order_id": ORDER,
                "customer_id": CUSTOMER,
                "tracking_number": "1Z999",
                "shipping_status": "out-for-delivery",
            }),
            json!({
                "customer_id": CUSTOMER,
                "notification_type": "shipping-update",
                "sent_at": 1_700_000_000_009_u64,
            }),
        ),
        (
            "/api/tickets",
            json!({
                "order_id": ORDER,
                "customer_id": CUSTOMER,
                "issue": "refund failed",
                "priority": "urgent",
            }),
            json!({
                "ticket_id": "T-7",
                "order_id": ORDER,
                "created_at": 1_700_000_000_010_u64,
            }),
        ),
    ]
}

/// A stub answering every path of [`contract`] with its 200 body.
fn contract_stub() -> Stub {
    let answers = contract();
    Stub::start(move |request| {
        answers
            .iter()
            .find(|(path, _, _)| *path == request.path)
            .map_or_else(
                || reply(404, json!({ "error": "no such path" })),
                |(_, _, answer)| reply(200, answer.clone()),
            )
    })
}

// ------------------------------------------------------------------ tests

#[test]
fn every_operation_posts_its_record_with_the_idempotency_key_and_decodes_the_answer() {
    let stub = contract_stub();
    let payment = stub.payment();
    let inventory = stub.inventory();
    let carrier = stub.carrier();
    let customer = stub.customer();

    assert_eq!(
        payment.process_payment("k-01", &charge()).unwrap(),
        PaymentSucceeded {
            transaction_id: "txn_1".to_owned(),
            order_id: ORDER.to_owned(),
            payment_amount: usd(2_500),
            processed_at: 1_700_000_000_000,
        }
    );
    assert_eq!(
        payment.refund_payment("k-02", &refund()).unwrap(),
        RefundCompleted {
            transaction_id: "txn_1".to_owned(),
            refund_amount: usd(1_000),
            refunded_at: 1_700_000_000_001,
        }
    );
    assert_eq!(
        inventory.allocate_stock("k-03", &allocation()).unwrap(),
        StockAllocated {
            order_id: ORDER.to_owned(),
            all_items_allocated: true,
            allocated_at: 1_700_000_000_002,
        }
    );
    let release = ReleaseStockRequest {
        order_id: ORDER.to_owned(),
        stock_items: stock(),
    };
    assert_eq!(
        inventory.release_stock("k-04", &release).unwrap(),
        StockReleased {
            order_id: ORDER.to_owned(),
            released_at: 1_700_000_000_003,
        }
    );
    let restock = RestockItemsRequest {
        return_id: RETURN.to_owned(),
        order_id: ORDER.to_owned(),
        stock_items: stock(),
    };
    assert_eq!(
        inventory.restock_items("k-05", &restock).unwrap(),
        StockRestocked {
            return_id: RETURN.to_owned(),
            restocked_at: 1_700_000_000_004,
        }
    );
    assert_eq!(
        carrier.create_shipment("k-06", &booking()).unwrap(),
        ShipmentCreatedByCarrier {
            shipment_id: "shp/42".to_owned(),
            order_id: ORDER.to_owned(),
            carrier: CarrierCode::OtherCarrier,
            tracking_number: "1Z999".to_owned(),
            estimated_delivery: Some(1_700_086_400_000),
            created_at: 1_700_000_000_005,
        }
    );
    let cancel = CancelShipmentRequest {
        shipment_id: "shp/42".to_owned(),
        reason: "order cancelled".to_owned(),
    };
    assert_eq!(
        carrier.cancel_shipment("k-07", &cancel).unwrap(),
        ShipmentCancelled {
            shipment_id: "shp/42".to_owned(),
            cancelled_at: 1_700_000_000_006,
        }
    );
    let sent = |notification_type, sent_at| NotificationSent {
        customer_id: CUSTOMER.to_owned(),
        notification_type,
        sent_at,
    };
    assert_eq!(
        customer
            .send_order_confirmation("k-08", &confirmation())
            .unwrap(),
        sent(NotificationType::OrderConfirmation, 1_700_000_000_007)
    );
    let cancellation = SendOrderCancellationRequest {
        order_id: ORDER.to_owned(),
        customer_id: CUSTOMER.to_owned(),
        reason: "out of stock".to_owned(),
    };
    assert_eq!(
        customer
            .send_order_cancellation("k-09", &cancellation)
            .unwrap(),
        sent(NotificationType::OrderCancellation, 1_700_000_000_008)
    );
    let update = SendShippingUpdateRequest {
        order_id: ORDER.to_owned(),
        customer_id: CUSTOMER.to_owned(),
        tracking_number: "1Z999".to_owned(),
        shipping_status: ShipmentStatus::OutForDelivery,
    };
    assert_eq!(
        customer.send_shipping_update("k-10", &update).unwrap(),
        sent(NotificationType::ShippingUpdate, 1_700_000_000_009)
    );
    let ticket = CreateSupportTicketRequest {
        order_id: ORDER.to_owned(),
        customer_id: CUSTOMER.to_owned(),
        issue: "refund failed".to_owned(),
        priority: TicketPriority::Urgent,
    };
    assert_eq!(
        customer.create_support_ticket("k-11", &ticket).unwrap(),
        SupportTicketCreated {
            ticket_id: "T-7".to_owned(),
            order_id: ORDER.to_owned(),
            created_at: 1_700_000_000_010,
        }
    );

    let received = stub.requests();
    let expected = contract();
    assert_eq!(received.len(), expected.len());
    for (index, (request, (path, body, _))) in received.iter().zip(&expected).enumerate() {
        assert_eq!(request.method, "POST", "{path}");
        assert_eq!(request.path, *path);
        assert_eq!(request.body, *body, "{path}");
        let key = format!("k-{:02}", index + 1);
        assert_eq!(request.header("idempotency-key"), Some(key.as_str()));
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("accept"), Some("application/json"));
        assert_eq!(request.header("user-agent"), Some("backends-http-test/1"));
    }
}

#[test]
fn one_config_builds_all_four_backends() {
    let stub = contract_stub();
    let built = |config: &BackendsConfig| -> Result<Backends, BackendSetupError> {
        let clock = Arc::new(ManualClock::new(0));
        let sim = Simulation::new(0, clock.clone());
        backends(
            config,
            &sim,
            Arc::new(MemoryStore::new(clock)),
            StorePolicy::default(),
        )
    };
    let backends = built(&BackendsConfig::all_http(&stub.base_url())).unwrap();
    backends.payment.process_payment("p", &charge()).unwrap();
    backends
        .inventory
        .allocate_stock("i", &allocation())
        .unwrap();
    backends.carrier.create_shipment("c", &booking()).unwrap();
    backends
        .customer
        .send_order_confirmation("n", &confirmation())
        .unwrap();
    let paths: Vec<_> = stub.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            "/api/payments",
            "/api/allocations",
            "/api/shipments",
            "/api/notifications/order-confirmation"
        ]
    );

    let mut config = BackendsConfig::all_http(&stub.base_url());
    config.carrier.base_url = Some("carrier.example.com".to_owned());
    let error = built(&config).err().unwrap();
    assert_eq!(error.context, Context::Carrier);
    assert!(error.to_string().contains("carrier.example.com"), "{error}");
}

/// A stub that answers every request with `status` and `body`.
fn answering(status: u16, body: &str) -> Stub {
    let body = body.to_owned();
    Stub::start(move |_| Reply::Answer(status, Vec::new(), body.clone()))
}

/// The message of `result`'s failure, which must be of the `kind` named
/// (`transient`, `permanent`, `in-doubt`).
fn failure(kind: &str, result: Result<impl std::fmt::Debug, ExternalError>) -> String {
    let (found, message) = match result {
        Err(ExternalError::Transient(message)) => ("transient", message),
        Err(ExternalError::Permanent(message)) => ("permanent", message),
        Err(ExternalError::InDoubt(message)) => ("in-doubt", message),
        Ok(answer) => panic!("expected a {kind} failure, got {answer:?}"),
    };
    assert_eq!(found, kind, "expected a {kind} failure, got: {message}");
    message
}

fn transient(result: Result<impl std::fmt::Debug, ExternalError>) -> String {
    failure("transient", result)
}

fn permanent(result: Result<impl std::fmt::Debug, ExternalError>) -> String {
    failure("permanent", result)
}

fn in_doubt(result: Result<impl std::fmt::Debug, ExternalError>) -> String {
    failure("in-doubt", result)
}

#[test]
fn unavailability_and_rate_limits_are_transient_and_server_failures_in_doubt() {
    let unavailable = answering(503, r#"{"error": "down for maintenance"}"#);
    let message = transient(unavailable.payment().process_payment("k", &charge()));
    assert_eq!(
        message,
        "the payment gateway answered process-payment with 503 Service Unavailable: down for maintenance"
    );

    let broken = answering(500, "<html>Internal Server Error</html>");
    let message = in_doubt(broken.carrier().create_shipment("k", &booking()));
    assert_eq!(
        message,
        "the shipping carrier answered create-shipment with 500 Internal Server Error"
    );

    let limited = Stub::start(|_| {
        Reply::Answer(
            429,
            vec![("Retry-After", "2".to_owned())],
            json!({ "error": "slow down" }).to_string(),
        )
    });
    let message = transient(
        limited
            .customer()
            .send_order_confirmation("k", &confirmation()),
    );
    assert_eq!(
        message,
        "the customer service answered send-order-confirmation with 429 Too Many Requests: \
         slow down (Retry-After: 2)"
    );

    // 409 without a list of items: the same key is still being processed,
    // so its outcome is not known yet.
    let in_flight = answering(
        409,
        r#"{"error": "a request with this key is in progress"}"#,
    );
    let inventory = in_flight.inventory();
    match inventory.allocate_stock("k", &allocation()) {
        Err(AllocateError::Failed(ExternalError::InDoubt(message))) => {
            assert!(message.contains("409 Conflict"), "{message}");
            assert!(message.contains("in progress"), "{message}");
        }
        other => panic!("expected an in-doubt failure, got {other:?}"),
    }
}

#[test]
fn client_errors_are_permanent_with_the_servers_message() {
    let declined = answering(400, r#"{"error": "card declined"}"#);
    let message = permanent(declined.payment().process_payment("k", &charge()));
    assert_eq!(
        message,
        "the payment gateway refused process-payment with 400 Bad Request: card declined"
    );

    // No JSON error body: the status text is the message.
    let unknown = answering(404, "");
    let cancel = CancelShipmentRequest {
        shipment_id: "shp_gone".to_owned(),
        reason: "order cancelled".to_owned(),
    };
    let message = permanent(unknown.carrier().cancel_shipment("k", &cancel));
    assert_eq!(
        message,
        "the shipping carrier refused cancel-shipment with 404 Not Found"
    );

    // An RFC 9457 problem is understood too.
    let reused = answering(
        422,
        r#"{"title": "Idempotency-Key is already used", "detail": "the key was used with another body"}"#,
    );
    let inventory = reused.inventory();
    let release = ReleaseStockRequest {
        order_id: ORDER.to_owned(),
        stock_items: stock(),
    };
    assert_eq!(
        permanent(inventory.release_stock("k", &release)),
        "the inventory service refused release-stock with 422 Unprocessable Entity: \
         the key was used with another body"
    );
    match inventory.allocate_stock("k", &allocation()) {
        Err(AllocateError::Failed(ExternalError::Permanent(message))) => {
            assert!(message.contains("422"), "{message}");
        }
        other => panic!("expected a permanent failure, got {other:?}"),
    }
}

#[test]
fn out_of_stock_is_a_409_that_lists_the_missing_items() {
    let body = json!({
        "error": "out of stock",
        "order_id": ORDER,
        "unavailable_items": [
            { "product_id": PRODUCT, "requested_quantity": 2, "available_quantity": 1 },
        ],
        "failed_at": 1_700_000_000_000_u64,
    });
    let stub = answering(409, &body.to_string());
    let inventory = stub.inventory();
    assert_eq!(
        inventory.allocate_stock("k", &allocation()),
        Err(AllocateError::OutOfStock(StockAllocationFailed {
            order_id: ORDER.to_owned(),
            unavailable_items: vec![UnavailableItem {
                product_id: PRODUCT.to_owned(),
                requested_quantity: 2,
                available_quantity: 1,
            }],
            failed_at: 1_700_000_000_000,
        }))
    );

    // A list that does not fit the record cannot be read: what the server
    // did is unknown.
    let garbled = answering(409, r#"{"unavailable_items": [{"product_id": 7}]}"#);
    let inventory = garbled.inventory();
    match inventory.allocate_stock("k", &allocation()) {
        Err(AllocateError::Failed(ExternalError::InDoubt(message))) => assert!(
            message.starts_with(
                "the inventory service answered allocate-stock with 409 Conflict and an unreadable body: "
            ),
            "{message}"
        ),
        other => panic!("expected an in-doubt failure, got {other:?}"),
    }
}

#[test]
fn a_malformed_success_body_is_in_doubt() {
    let stub = answering(200, r#"{"transaction_id": "txn_1"}"#);
    let message = in_doubt(stub.payment().process_payment("k", &charge()));
    assert!(
        message.starts_with(
            "the payment gateway answered process-payment with 200 OK and an unreadable body: missing field"
        ),
        "{message}"
    );

    let unknown_carrier = json!({
        "shipment_id": "s", "order_id": ORDER, "carrier": "pony-express",
        "tracking_number": "t", "created_at": 1,
    });
    let stub = answering(201, &unknown_carrier.to_string());
    let message = in_doubt(stub.carrier().create_shipment("k", &booking()));
    assert!(message.contains("pony-express"), "{message}");
}

#[test]
fn a_redirect_is_not_followed_and_is_permanent() {
    let stub = Stub::start(|_| {
        Reply::Answer(
            308,
            vec![("Location", "https://elsewhere.example/tickets".to_owned())],
            String::new(),
        )
    });
    let ticket = CreateSupportTicketRequest {
        order_id: ORDER.to_owned(),
        customer_id: CUSTOMER.to_owned(),
        issue: "where is it".to_owned(),
        priority: TicketPriority::Low,
    };
    let message = permanent(stub.customer().create_support_ticket("k", &ticket));
    assert!(
        message.contains("redirect to https://elsewhere.example/tickets"),
        "{message}"
    );
    assert_eq!(stub.requests().len(), 1);
}

#[test]
fn a_server_that_does_not_answer_in_time_is_in_doubt() {
    let stub = Stub::start(|_| Reply::Hang);
    let config = stub.config().with_timeout(Duration::from_millis(200));
    let payment = HttpPaymentGateway::new(&config).unwrap();
    let started = Instant::now();
    let message = in_doubt(payment.process_payment("k", &charge()));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_secs(3),
        "waited {waited:?}"
    );
    assert_eq!(
        message,
        format!(
            "the payment gateway did not answer process-payment within 200 ms (POST {}/payments); \
             the request may have been acted on",
            stub.base_url()
        )
    );
    // The request did arrive: only the answer was missing.
    assert_eq!(stub.requests().len(), 1);
}

#[test]
fn a_connection_closed_after_the_request_is_in_doubt() {
    let stub = Stub::start(|_| Reply::Close);
    let carrier = stub.carrier();
    let message = in_doubt(carrier.create_shipment("k", &booking()));
    assert!(
        message.starts_with(
            "the shipping carrier broke off create-shipment after the request was sent"
        ),
        "{message}"
    );
    assert_eq!(stub.requests().len(), 1, "the request did arrive");
}

#[test]
fn a_refused_connection_is_transient() {
    // A port that was just free: nothing listens on it any more.
    let ports = ports();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = HttpBackendConfig::new(format!("http://127.0.0.1:{port}"))
        .with_timeout(Duration::from_secs(2));
    let started = Instant::now();
    let message = transient(
        HttpCustomerService::new(&config)
            .unwrap()
            .send_shipping_update(
                "k",
                &SendShippingUpdateRequest {
                    order_id: ORDER.to_owned(),
                    customer_id: CUSTOMER.to_owned(),
                    tracking_number: "1Z999".to_owned(),
                    shipping_status: ShipmentStatus::Delivered,
                },
            ),
    );
    drop(ports);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        message.starts_with(&format!(
            "the customer service could not be reached for send-shipping-update \
             (POST http://127.0.0.1:{port}/notifications/shipping-update): "
        )),
        "{message}"
    );
}

// ------------------------------------------- a host with http payment

/// The payment gateway of a [`Stub`]: charges answer `payment-succeeded`
/// for the amount asked, refunds `refund-completed`; anything else is 404.
fn payment_stub() -> Stub {
    Stub::start(|request| match request.path.as_str() {
        "/api/payments" => reply(
            200,
            json!({
                "transaction_id": format!("txn_stub_{}", request.body["order_id"].as_str().unwrap_or("")),
                "order_id": request.body["order_id"],
                "payment_amount": request.body["payment_amount"],
                "processed_at": 1_795_521_600_000u64,
            }),
        ),
        "/api/refunds" => reply(
            200,
            json!({
                "transaction_id": request.body["transaction_id"],
                "refund_amount": request.body["refund_amount"],
                "refunded_at": 1_795_521_600_500u64,
            }),
        ),
        _ => reply(404, json!({ "error": "no such path" })),
    })
}

/// The sample order of two mugs, under ids derived from `name`, for
/// `CUSTOMER`, of `product`.
fn order_command(name: &str, product: &str) -> PlaceOrderCommand {
    let id = |what: &str| {
        uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("{what}:{name}").as_bytes(),
        )
        .to_string()
    };
    let mut order = fixtures::place_order(&id("order"));
    order.customer_id = CUSTOMER.to_owned();
    order.items[0].item_id = id("item");
    order.items[0].product_id = product.to_owned();
    order
}

/// `Host::start` with the payment context set to `http`: the saga charges
/// (and refunds) through the stub with the component's idempotency keys,
/// while inventory, carrier and customer service stay simulated.
#[test]
fn a_host_with_http_payment_charges_through_the_server_and_simulates_the_rest() {
    let stub = payment_stub();
    let backends = BackendsConfig {
        payment: ContextBackend {
            kind: Some(BackendKind::Http),
            base_url: Some(stub.base_url()),
            timeout_ms: Some(5_000),
            ..ContextBackend::default()
        },
        ..BackendsConfig::default()
    };
    let host = Host::start(HostOptions {
        backends,
        ..HostOptions::in_memory()
    })
    .expect("the host starts with the embedded component (run `make build` first)");
    assert!(!host.is_simulated(Context::Payment));
    assert!(host.is_simulated(Context::Carrier));

    let get = |order_id: &String| host.service.get_order(order_id).unwrap();
    let place = |cmd: &PlaceOrderCommand| {
        host.service.place_order(cmd).unwrap();
        host.driver.run_until_idle(Duration::from_secs(30)).unwrap();
    };

    // An order that goes through: charged by the server, shipped by the
    // simulated carrier.
    let shipped = order_command("shipped", PRODUCT);
    place(&shipped);
    let order = get(&shipped.order_id);
    assert_eq!(order.status, OrderStatus::Shipped, "{order:?}");
    let payment = order.payment.expect("the order is paid");
    assert_eq!(
        payment.transaction_id,
        format!("txn_stub_{}", shipped.order_id)
    );
    let charges = stub.requests();
    assert_eq!(charges.len(), 1, "{charges:?}");
    assert_eq!(charges[0].method, "POST");
    assert_eq!(charges[0].path, "/api/payments");
    assert_eq!(
        charges[0].header("idempotency-key"),
        Some(format!("order-{}/process-payment/action", shipped.order_id).as_str())
    );
    assert_eq!(charges[0].body["order_id"], json!(shipped.order_id));
    assert_eq!(
        charges[0].body["payment_amount"]["amount"],
        json!(order.total.amount)
    );
    assert!(
        host.sim.payment.charges().is_empty(),
        "nothing reaches the simulated gateway"
    );
    assert_eq!(
        host.sim
            .carrier
            .shipments_for_order(&shipped.order_id)
            .len(),
        1
    );

    // An order the simulated inventory cannot serve: the saga refunds the
    // charge through the server with the compensation's key.
    let product = "b4c9d2e3-f5a6-4b7c-9d8e-0f1a2b3c4d5e";
    host.sim.inventory.set_stock(product, 0);
    let refused = order_command("out-of-stock", product);
    place(&refused);
    assert_eq!(get(&refused.order_id).status, OrderStatus::Cancelled);
    let keys: Vec<_> = stub
        .requests()
        .iter()
        .skip(1)
        .map(|r| {
            (
                r.path.clone(),
                r.header("idempotency-key").unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            (
                "/api/payments".to_owned(),
                format!("order-{}/process-payment/action", refused.order_id)
            ),
            (
                "/api/refunds".to_owned(),
                format!("order-{}/process-payment/compensation", refused.order_id)
            ),
        ]
    );
    assert!(host.sim.payment.refunds().is_empty());
}

// ----------------------------------- lost answers through the http backends

/// What the fake services did, in order: one line per effect, `path key`
/// for a new key (a repeated key only repeats its first answer).
type Effects = Arc<Mutex<Vec<String>>>;

/// The four external services over HTTP on 127.0.0.1, keeping their own
/// record of effects and honouring idempotency keys. The first call to
/// `lost_path` takes effect but is answered only after the client has given
/// up (`late`), and the next `down_for` calls to that path are refused with
/// 503 (the service is down for every retry of the step); after that the
/// service is back and answers a repeated key with what it did. A thread
/// per connection, so a late answer holds up nothing else. Dropping it
/// stops it.
struct FakeServices {
    server: Local,
    effects: Effects,
}

impl FakeServices {
    fn start(lost_path: &'static str, late: Duration, down_for: usize) -> Self {
        let effects: Effects = Arc::default();
        let recorded = effects.clone();
        let answered: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut handlers = Joined::default();
        let server = Local::start(move |stream| {
            let (effects, answered, calls) = (recorded.clone(), answered.clone(), calls.clone());
            handlers.0.push(std::thread::spawn(move || {
                let lost = Lost {
                    path: lost_path,
                    late,
                    down_for,
                    calls: &calls,
                };
                let _ = serve_fake(stream, &lost, &effects, &answered);
            }));
        });
        FakeServices { server, effects }
    }

    fn base_url(&self) -> String {
        self.server.base_url()
    }

    fn effects(&self) -> Vec<String> {
        self.effects.lock().unwrap().clone()
    }
}

/// The answer of a fake service to a new key at `path`.
fn fake_answer(path: &str, key: &str, body: &Value) -> (u16, Value) {
    let now = 1_795_521_600_000u64;
    let order = &body["order_id"];
    let answer = match path {
        "/api/payments" => json!({
            "transaction_id": format!("txn_{}", key.len() + key.bytes().map(usize::from).sum::<usize>()),
            "order_id": order, "payment_amount": body["payment_amount"], "processed_at": now,
        }),
        "/api/refunds" => json!({
            "transaction_id": body["transaction_id"], "refund_amount": body["refund_amount"],
            "refunded_at": now,
        }),
        "/api/allocations" => {
            json!({ "order_id": order, "all_items_allocated": true, "allocated_at": now })
        }
        "/api/releases" => json!({ "order_id": order, "released_at": now }),
        "/api/shipments" => json!({
            "shipment_id": uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, key.as_bytes()).to_string(),
            "order_id": order, "carrier": body["carrier"], "tracking_number": "1ZFAKE",
            "estimated_delivery": null, "created_at": now,
        }),
        "/api/notifications/order-confirmation" => json!({
            "customer_id": body["customer_id"], "notification_type": "order-confirmation", "sent_at": now,
        }),
        "/api/notifications/order-cancellation" => json!({
            "customer_id": body["customer_id"], "notification_type": "order-cancellation", "sent_at": now,
        }),
        "/api/notifications/shipping-update" => json!({
            "customer_id": body["customer_id"], "notification_type": "shipping-update", "sent_at": now,
        }),
        "/api/tickets" => {
            json!({ "ticket_id": format!("T-{}", key.len()), "order_id": order, "created_at": now })
        }
        p if p.starts_with("/api/shipments/") && p.ends_with("/cancel") => {
            json!({ "shipment_id": body["shipment_id"], "cancelled_at": now })
        }
        _ => return (404, json!({ "error": format!("no such path {path}") })),
    };
    (200, answer)
}

/// Which path loses its first answer, and what follows.
struct Lost<'a> {
    path: &'static str,
    late: Duration,
    down_for: usize,
    /// Calls to `path` so far.
    calls: &'a std::sync::atomic::AtomicUsize,
}

fn serve_fake(
    stream: TcpStream,
    lost: &Lost<'_>,
    effects: &Mutex<Vec<String>>,
    answered: &Mutex<HashMap<String, Value>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let (mut length, mut key) = (0, String::new());
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "idempotency-key" => value.trim().clone_into(&mut key),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let call = if path == lost.path {
        lost.calls.fetch_add(1, Ordering::SeqCst) + 1
    } else {
        0
    };
    let lost_now = call == 1;
    let (status, answer) = if call > 1 && call <= 1 + lost.down_for {
        (503, json!({ "error": "down for maintenance" }))
    } else {
        let slot = format!("{path} {key}");
        let mut answered = answered.lock().unwrap();
        match answered.get(&slot) {
            Some(previous) => (200, previous.clone()),
            None => {
                let (status, answer) = fake_answer(&path, &key, &body);
                if status == 200 {
                    answered.insert(slot.clone(), answer.clone());
                    let what = match path.as_str() {
                        "/api/refunds" => format!("{slot} {}", body["transaction_id"]),
                        p if p.ends_with("/cancel") => format!("{slot} {}", body["shipment_id"]),
                        _ => slot,
                    };
                    effects.lock().unwrap().push(what);
                }
                (status, answer)
            }
        }
    };
    if lost_now {
        // The effect is done; the answer comes after the client gave up.
        std::thread::sleep(lost.late);
    }
    let answer = answer.to_string();
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} Fake\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    )?;
    stream.flush()
}

/// A host whose four contexts are the fake services, with a client
/// time-out of 200 ms and quick retries.
fn host_on(fake: &FakeServices) -> Host {
    let context = || ContextBackend {
        kind: Some(BackendKind::Http),
        base_url: Some(fake.base_url()),
        timeout_ms: Some(200),
        ..ContextBackend::default()
    };
    let backends = BackendsConfig {
        payment: context(),
        inventory: context(),
        carrier: context(),
        customer: context(),
        ..BackendsConfig::default()
    };
    let policy: StorePolicy = serde_json::from_value(json!({
        "retry": {"max-attempts": 3, "base-delay-ms": 5, "max-delay-ms": 20, "jitter-permille": 0},
        "notification-retry": {"max-attempts": 3, "base-delay-ms": 5, "max-delay-ms": 20, "jitter-permille": 0},
        "call-lease-ms": 2000
    }))
    .unwrap();
    Host::start(HostOptions {
        backends,
        policy,
        ..HostOptions::in_memory()
    })
    .expect("the host starts with the embedded component (run `make build` first)")
}

/// Places one order on a host over `fake`, runs its saga to the end and
/// returns the order and the services' effects.
fn lost_answer_case(
    lost_path: &'static str,
    name: &str,
) -> (order_host::bindings::orders::OrderView, Vec<String>, String) {
    // The step's other two attempts meet a service that is down.
    let fake = FakeServices::start(lost_path, Duration::from_millis(400), 2);
    let host = host_on(&fake);
    let cmd = order_command(name, PRODUCT);
    host.service.place_order(&cmd).unwrap();
    host.driver.run_until_idle(Duration::from_secs(30)).unwrap();
    let order = host.service.get_order(&cmd.order_id).unwrap();
    let effects = fake.effects();
    (order, effects, cmd.order_id)
}

fn count(effects: &[String], prefix: &str) -> usize {
    effects.iter().filter(|e| e.starts_with(prefix)).count()
}

/// Runs [`lost_answer_case`] and checks the order's status and, for each
/// `(prefix, calls, what)`, how many of the services' effects start with
/// `prefix`. Returns the effects and the order's id.
fn lost_answer_ends(
    lost_path: &'static str,
    name: &str,
    status: OrderStatus,
    counts: &[(&str, usize, &str)],
) -> (Vec<String>, String) {
    let (order, effects, id) = lost_answer_case(lost_path, name);
    assert_eq!(order.status, status, "{order:?} {effects:?}");
    for &(prefix, calls, what) in counts {
        assert_eq!(
            count(&effects, prefix),
            calls,
            "{what} {prefix}: {effects:?}"
        );
    }
    (effects, id)
}

#[test]
fn a_lost_confirmation_answer_opens_a_ticket_and_keeps_the_order() {
    lost_answer_ends(
        "/api/notifications/order-confirmation",
        "lost-confirmation",
        OrderStatus::Shipped,
        &[
            ("/api/notifications/order-confirmation ", 1, "sent once"),
            ("/api/tickets ", 1, "a ticket"),
            ("/api/refunds ", 0, "no refund"),
            ("/api/releases ", 0, "no release"),
        ],
    );
}

#[test]
fn a_lost_charge_answer_is_refunded_when_the_retries_meet_503() {
    let (effects, id) = lost_answer_ends(
        "/api/payments",
        "lost-charge",
        OrderStatus::Cancelled,
        &[
            ("/api/payments ", 1, "charged once"),
            ("/api/refunds ", 1, "refunded once"),
            ("/api/allocations ", 0, "no allocation"),
        ],
    );
    assert!(
        effects
            .iter()
            .any(|e| e.starts_with("/api/notifications/order-cancellation")),
        "the customer is told: {effects:?}"
    );
    assert!(effects[0].ends_with(&format!("order-{id}/process-payment/action")));
}

#[test]
fn a_lost_allocation_answer_is_released_when_the_retries_meet_503() {
    lost_answer_ends(
        "/api/allocations",
        "lost-allocation",
        OrderStatus::Cancelled,
        &[
            ("/api/allocations ", 1, "allocated once"),
            ("/api/releases ", 1, "released"),
            ("/api/refunds ", 1, "refunded"),
            ("/api/shipments", 0, "no booking"),
        ],
    );
}

#[test]
fn a_lost_booking_answer_is_cancelled_when_the_retries_meet_503() {
    let (effects, _) = lost_answer_ends(
        "/api/shipments",
        "lost-booking",
        OrderStatus::Cancelled,
        &[
            ("/api/shipments ", 1, "booked once"),
            ("/api/releases ", 1, "released"),
            ("/api/refunds ", 1, "refunded"),
        ],
    );
    let cancels: Vec<&String> = effects.iter().filter(|e| e.contains("/cancel ")).collect();
    assert_eq!(cancels.len(), 1, "the booking is cancelled: {effects:?}");
}
