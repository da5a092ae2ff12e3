//! In-memory implementations of the application's ports: an event store
//! that honours expected versions atomically across a batch and keeps tags
//! and timers, a settable clock, a pricing policy, and a recording fake for
//! each external context that logs every call (operation, idempotency key,
//! detail) in one shared log and can be scripted to fail.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::rc::Rc;

use order_core::app::App;
use order_core::app::ports::*;
use order_core::domain::ExternalError;
use order_core::domain::values::*;

use order_core::domain::order::{Order, OrderEvent};
use order_core::domain::returns::RequestReturn;

use super::{
    CUSTOMER_ID, ITEM_B, MINUTE, ORDER_ID, PRODUCT_B, RETURN_ID, SUBTOTAL, T0, place_cmd,
    return_item, saga_policy,
};

/// Tax the fake policy quotes: 8% of the subtotal, rounded down.
pub const TAX_PERCENT: u64 = 8;
/// Shipping the fake policy quotes, flat.
pub const FLAT_SHIPPING: u64 = 500;
/// The total the fake policy quotes for [`place_cmd`].
pub const QUOTED_TOTAL: u64 = SUBTOTAL + SUBTOTAL * TAX_PERCENT / 100 + FLAT_SHIPPING;

/// One call to an external context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub op: &'static str,
    pub key: String,
    pub detail: String,
}

pub type Log = Rc<RefCell<Vec<Call>>>;

fn log(log: &Log, op: &'static str, key: &str, detail: String) {
    log.borrow_mut().push(Call {
        op,
        key: key.to_string(),
        detail,
    });
}

/// How a scripted call fails.
#[derive(Clone, Debug)]
pub enum Failure {
    External(ExternalError),
    OutOfStock(Vec<Unavailable>),
    /// The call takes effect, and its answer is lost: the caller sees
    /// `in-doubt`.
    Lost,
}

/// Failures queued per operation, consumed one per call.
#[derive(Default)]
pub struct Script(RefCell<HashMap<&'static str, VecDeque<Failure>>>);

impl Script {
    pub fn fail(&self, op: &'static str, failure: Failure) {
        self.0
            .borrow_mut()
            .entry(op)
            .or_default()
            .push_back(failure);
    }

    pub fn transient(&self, op: &'static str, message: &str) {
        self.fail(
            op,
            Failure::External(ExternalError::Transient(message.to_string())),
        );
    }

    pub fn permanent(&self, op: &'static str, message: &str) {
        self.fail(
            op,
            Failure::External(ExternalError::Permanent(message.to_string())),
        );
    }

    /// The call acts, but its answer is lost (`in-doubt`).
    pub fn lost(&self, op: &'static str) {
        self.fail(op, Failure::Lost);
    }

    /// The outcome is unknown and the call did nothing (`in-doubt`).
    pub fn in_doubt(&self, op: &'static str, message: &str) {
        self.fail(
            op,
            Failure::External(ExternalError::InDoubt(message.to_string())),
        );
    }

    fn next(&self, op: &'static str) -> Option<Failure> {
        self.0
            .borrow_mut()
            .get_mut(op)
            .and_then(VecDeque::pop_front)
    }

    fn external(&self, op: &'static str) -> Result<(), ExternalError> {
        self.external_then(op, || ())
    }

    /// Fails as scripted, or acts with `effect`; a lost answer acts and
    /// then fails in doubt.
    fn external_then<T>(
        &self,
        op: &'static str,
        effect: impl FnOnce() -> T,
    ) -> Result<T, ExternalError> {
        match self.next(op) {
            None => Ok(effect()),
            Some(Failure::External(e)) => Err(e),
            Some(Failure::OutOfStock(_)) => Err(ExternalError::Permanent("out of stock".into())),
            Some(Failure::Lost) => {
                effect();
                Err(ExternalError::InDoubt(format!("{op}: the answer was lost")))
            }
        }
    }
}

// ----- clock -----------------------------------------------------------------

#[derive(Clone)]
pub struct FakeClock(Rc<Cell<Timestamp>>);

impl FakeClock {
    pub fn now(&self) -> Timestamp {
        self.0.get()
    }

    pub fn set(&self, t: Timestamp) {
        self.0.set(t);
    }

    pub fn advance(&self, ms: Timestamp) {
        self.0.set(self.0.get() + ms);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        FakeClock::now(self)
    }
}

// ----- event store -----------------------------------------------------------

/// Streams, tags and saga timers in memory, written as the store contract
/// says: a batch checks every stream's expected version first and is then
/// written whole, or not at all. Shared by [`MemStore`] and the simulation.
#[derive(Default)]
pub struct Streams {
    streams: RefCell<BTreeMap<String, Vec<StoredEvent>>>,
    tags: RefCell<BTreeMap<String, Vec<String>>>,
    timers: RefCell<BTreeMap<String, Timestamp>>,
    states: RefCell<BTreeMap<String, StoredState>>,
}

impl Streams {
    /// The stream's state record and the events after it.
    pub fn tail(&self, stream_id: &str) -> StreamTail {
        let state = self.states.borrow().get(stream_id).cloned();
        let after = state.as_ref().map_or(0, |s| s.version as usize);
        let events = self.events(stream_id).split_off(after);
        StreamTail { state, events }
    }

    /// Replaces the stream's state record (to damage one, for example).
    pub fn set_state(&self, stream_id: &str, state: StoredState) {
        self.states.borrow_mut().insert(stream_id.to_owned(), state);
    }

    pub fn events(&self, stream_id: &str) -> Vec<StoredEvent> {
        self.streams
            .borrow()
            .get(stream_id)
            .cloned()
            .unwrap_or_default()
    }

    pub fn version(&self, stream_id: &str) -> u64 {
        self.streams.borrow().get(stream_id).map_or(0, Vec::len) as u64
    }

    /// The version of every stream: equal snapshots mean nothing was written.
    pub fn versions(&self) -> BTreeMap<String, usize> {
        self.streams
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.len()))
            .collect()
    }

    pub fn names(&self) -> Vec<String> {
        self.streams.borrow().keys().cloned().collect()
    }

    pub fn contains(&self, stream_id: &str) -> bool {
        self.streams.borrow().contains_key(stream_id)
    }

    pub fn total_events(&self) -> usize {
        self.streams.borrow().values().map(Vec::len).sum()
    }

    /// The saga timer of an order, if set.
    pub fn timer(&self, saga_id: &str) -> Option<Timestamp> {
        self.timers.borrow().get(saga_id).copied()
    }

    pub fn find(&self, tag: &str) -> Vec<String> {
        self.tags.borrow().get(tag).cloned().unwrap_or_default()
    }

    /// Writes `batch` recorded at `now`, or nothing if a stream's expected
    /// version is not its current one.
    pub fn write(&self, batch: &AppendBatch, now: Timestamp) -> Result<(), StoreError> {
        let mut streams = self.streams.borrow_mut();
        // Check every stream first: either the whole batch is written or nothing.
        let mut staged: BTreeMap<&str, u64> = BTreeMap::new();
        for s in &batch.streams {
            let current = staged
                .get(s.stream_id.as_str())
                .copied()
                .unwrap_or_else(|| streams.get(&s.stream_id).map_or(0, |e| e.len() as u64));
            if s.expected_version != current {
                return Err(StoreError::Conflict {
                    stream_id: s.stream_id.clone(),
                    expected: s.expected_version,
                    actual: current,
                });
            }
            staged.insert(&s.stream_id, current + s.events.len() as u64);
        }
        let mut tags = self.tags.borrow_mut();
        for s in &batch.streams {
            let stream = streams.entry(s.stream_id.clone()).or_default();
            for e in &s.events {
                stream.push(StoredEvent {
                    stream_id: s.stream_id.clone(),
                    version: stream.len() as u64 + 1,
                    event_type: e.event_type.clone(),
                    payload: e.payload.clone(),
                    recorded_at: now,
                });
            }
            if let Some(state) = &s.state {
                let version = stream.len() as u64;
                self.states.borrow_mut().insert(
                    s.stream_id.clone(),
                    StoredState {
                        version,
                        state: state.clone(),
                    },
                );
            }
            for tag in &s.tags {
                let tagged = tags.entry(tag.clone()).or_default();
                if !tagged.contains(&s.stream_id) {
                    tagged.push(s.stream_id.clone());
                }
            }
        }
        let mut timers = self.timers.borrow_mut();
        for (saga, due) in &batch.timers {
            match due {
                Some(t) => timers.insert(saga.clone(), *t),
                None => timers.remove(saga),
            };
        }
        Ok(())
    }
}

/// The event store of the given/when/then tests: [`Streams`] on the fake clock.
pub struct MemStore {
    clock: FakeClock,
    streams: Streams,
}

impl MemStore {
    pub fn events(&self, stream_id: &str) -> Vec<StoredEvent> {
        self.streams.events(stream_id)
    }

    /// The version of every stream: equal snapshots mean nothing was written.
    pub fn versions(&self) -> BTreeMap<String, usize> {
        self.streams.versions()
    }

    pub fn total_events(&self) -> usize {
        self.streams.total_events()
    }

    /// The saga timer of an order, if set.
    pub fn timer(&self, saga_id: &str) -> Option<Timestamp> {
        self.streams.timer(saga_id)
    }

    /// The stream's state record and the events after it.
    pub fn tail(&self, stream_id: &str) -> StreamTail {
        self.streams.tail(stream_id)
    }

    /// Replaces the stream's state record.
    pub fn set_state(&self, stream_id: &str, state: StoredState) {
        self.streams.set_state(stream_id, state)
    }

    pub fn event_types(&self, stream_id: &str) -> Vec<String> {
        self.events(stream_id)
            .into_iter()
            .map(|e| e.event_type)
            .collect()
    }
}

/// The reads of an [`EventStore`] whose events are a `streams: Streams`
/// field; the implementation writes (`append`) its own way.
macro_rules! reads_from_streams {
    () => {
        fn load(&self, stream_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
            Ok(self.streams.events(stream_id))
        }

        fn load_tail(&self, stream_id: &str) -> Result<StreamTail, StoreError> {
            Ok(self.streams.tail(stream_id))
        }

        fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
            Ok(self.streams.version(stream_id))
        }

        fn find_streams(&self, tag: &str) -> Result<Vec<String>, StoreError> {
            Ok(self.streams.find(tag))
        }
    };
}
#[allow(unused_imports)]
pub(crate) use reads_from_streams;

impl EventStore for MemStore {
    reads_from_streams!();

    fn append(&self, batch: &AppendBatch) -> Result<(), StoreError> {
        self.streams.write(batch, self.clock.now())
    }
}

// ----- policy ----------------------------------------------------------------

pub struct FakePolicy;

impl Policy for FakePolicy {
    fn policy(&self) -> StorePolicy {
        StorePolicy {
            return_window_days: 30,
            default_carrier: CarrierCode::Ups,
            saga: saga_policy(),
        }
    }

    fn quote(&self, _items: &[OrderItem], subtotal: &Money, _to: &Address) -> (Money, Money) {
        (
            Money {
                amount: subtotal.amount * TAX_PERCENT / 100,
                currency: subtotal.currency.clone(),
            },
            Money {
                amount: FLAT_SHIPPING,
                currency: subtotal.currency.clone(),
            },
        )
    }
}

// ----- external contexts -----------------------------------------------------

pub struct FakePayment {
    log: Log,
    clock: FakeClock,
    pub script: Script,
    receipts: RefCell<HashMap<String, PaymentReceipt>>,
}

impl PaymentGateway for FakePayment {
    fn process_payment(
        &self,
        key: &str,
        req: &ChargeRequest,
    ) -> Result<PaymentReceipt, ExternalError> {
        let ChargeRequest {
            order_id,
            amount,
            method,
            ..
        } = req;
        log(
            &self.log,
            "process-payment",
            key,
            format!("{order_id} {amount} {method}"),
        );
        self.script.external_then("process-payment", || {
            let mut receipts = self.receipts.borrow_mut();
            let n = receipts.len() + 1;
            // The same key returns the same receipt: a retry never charges twice.
            receipts
                .entry(key.to_string())
                .or_insert_with(|| PaymentReceipt {
                    transaction_id: format!("txn-{n}"),
                    amount: (*amount).clone(),
                    processed_at: self.clock.now(),
                })
                .clone()
        })
    }

    fn refund_payment(&self, key: &str, req: &RefundRequest) -> Result<(), ExternalError> {
        let detail = format!("{} {}", req.transaction_id, req.amount);
        log(&self.log, "refund-payment", key, detail);
        self.script.external("refund-payment")
    }
}

pub struct FakeInventory {
    log: Log,
    pub script: Script,
}

/// The stock lines of a request as `2xSKU-A,1xSKU-B`.
pub fn stock_detail(items: &[StockItem]) -> String {
    items
        .iter()
        .map(|i| format!("{}x{}", i.quantity, i.sku))
        .collect::<Vec<_>>()
        .join(",")
}

impl InventoryService for FakeInventory {
    fn allocate_stock(&self, key: &str, req: &StockRequest) -> Result<bool, AllocationError> {
        log(&self.log, "allocate-stock", key, stock_detail(req.items));
        match self.script.next("allocate-stock") {
            None => Ok(true),
            Some(Failure::External(e)) => Err(AllocationError::Failed(e)),
            Some(Failure::OutOfStock(u)) => Err(AllocationError::OutOfStock(u)),
            Some(Failure::Lost) => Err(AllocationError::Failed(ExternalError::InDoubt(
                "allocate-stock: the answer was lost".into(),
            ))),
        }
    }

    fn release_stock(&self, key: &str, req: &StockRequest) -> Result<(), ExternalError> {
        log(&self.log, "release-stock", key, stock_detail(req.items));
        self.script.external("release-stock")
    }

    fn restock_items(&self, key: &str, req: &RestockRequest) -> Result<(), ExternalError> {
        log(&self.log, "restock-items", key, stock_detail(req.items));
        self.script.external("restock-items")
    }
}

pub struct FakeCarrier {
    log: Log,
    pub script: Script,
}

/// The shipment id the fake carrier books for an idempotency key.
pub fn booked_shipment_id(key: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, key.as_bytes()).to_string()
}

impl ShippingCarrier for FakeCarrier {
    fn create_shipment(&self, key: &str, req: &ShipmentRequest) -> Result<Booking, ExternalError> {
        let detail = format!("{} {}", req.order_id, req.carrier);
        log(&self.log, "create-shipment", key, detail);
        self.script.external("create-shipment")?;
        let shipment_id = booked_shipment_id(key);
        Ok(Booking {
            tracking_number: format!("TRK-{}", &shipment_id[..8]),
            shipment_id,
            carrier: req.carrier,
            estimated_delivery: None,
        })
    }

    fn cancel_shipment(&self, key: &str, req: &CancelShipmentRequest) -> Result<(), ExternalError> {
        log(
            &self.log,
            "cancel-shipment",
            key,
            req.shipment_id.to_string(),
        );
        self.script.external("cancel-shipment")
    }
}

pub struct FakeCustomer {
    log: Log,
    pub script: Script,
}

impl FakeCustomer {
    /// Logs the message and answers as scripted.
    fn send(&self, op: &'static str, key: &str, detail: String) -> Result<(), ExternalError> {
        log(&self.log, op, key, detail);
        self.script.external(op)
    }
}

impl CustomerService for FakeCustomer {
    fn send_order_confirmation(
        &self,
        key: &str,
        req: &ConfirmationRequest,
    ) -> Result<(), ExternalError> {
        let tracking = req.tracking_number.unwrap_or("-");
        let detail = format!("{} {} {tracking}", req.order_id, req.total);
        self.send("send-order-confirmation", key, detail)
    }

    fn send_order_cancellation(
        &self,
        key: &str,
        req: &CancellationRequest,
    ) -> Result<(), ExternalError> {
        let detail = format!("{} {}", req.order_id, req.reason);
        self.send("send-order-cancellation", key, detail)
    }

    fn send_shipping_update(
        &self,
        key: &str,
        req: &ShippingUpdateRequest,
    ) -> Result<(), ExternalError> {
        let detail = format!("{} {}", req.tracking_number, req.status);
        self.send("send-shipping-update", key, detail)
    }

    fn create_support_ticket(
        &self,
        key: &str,
        req: &TicketRequest,
    ) -> Result<String, ExternalError> {
        let detail = format!("{} {}", req.order_id, req.issue);
        self.send("create-support-ticket", key, detail)?;
        Ok(format!("ticket-{key}"))
    }
}

// ----- the world ---------------------------------------------------------------

/// Every port, in memory, sharing one clock and one call log.
pub struct World {
    pub clock: FakeClock,
    pub store: MemStore,
    pub policy: FakePolicy,
    pub payment: FakePayment,
    pub inventory: FakeInventory,
    pub carrier: FakeCarrier,
    pub customer: FakeCustomer,
    pub log: Log,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    /// An empty world whose clock reads [`T0`].
    pub fn new() -> Self {
        let clock = FakeClock(Rc::new(Cell::new(T0)));
        let log: Log = Rc::default();
        World {
            store: MemStore {
                clock: clock.clone(),
                streams: Streams::default(),
            },
            policy: FakePolicy,
            payment: FakePayment {
                log: log.clone(),
                clock: clock.clone(),
                script: Script::default(),
                receipts: RefCell::default(),
            },
            inventory: FakeInventory {
                log: log.clone(),
                script: Script::default(),
            },
            carrier: FakeCarrier {
                log: log.clone(),
                script: Script::default(),
            },
            customer: FakeCustomer {
                log: log.clone(),
                script: Script::default(),
            },
            clock,
            log,
        }
    }

    pub fn app(&self) -> App<'_> {
        self.app_over(&self.store)
    }

    /// The app over this world's ports with `store` in place of its own
    /// (a wrapper around it that watches or interleaves writes).
    pub fn app_over<'a>(&'a self, store: &'a dyn EventStore) -> App<'a> {
        App::new(Env {
            store,
            policy: &self.policy,
            payment: &self.payment,
            inventory: &self.inventory,
            carrier: &self.carrier,
            customer: &self.customer,
            clock: &self.clock,
        })
    }

    /// The app over this world with the order of [`place_cmd`] placed.
    pub fn app_with_placed_order(&self) -> App<'_> {
        let app = self.app();
        app.place_order(place_cmd()).unwrap();
        app
    }

    /// The script of the context that serves `op` (its WIT function name).
    pub fn script(&self, op: &str) -> &Script {
        match op {
            "process-payment" | "refund-payment" => &self.payment.script,
            "allocate-stock" | "release-stock" | "restock-items" => &self.inventory.script,
            "create-shipment" | "cancel-shipment" => &self.carrier.script,
            "send-order-confirmation"
            | "send-order-cancellation"
            | "send-shipping-update"
            | "create-support-ticket" => &self.customer.script,
            _ => panic!("no context serves `{op}`"),
        }
    }

    /// Given: the next call of `op` fails, as told.
    pub fn fails(&self, op: &'static str, failure: Failure) {
        self.script(op).fail(op, failure);
    }

    /// Given: the next call of `op` fails transiently.
    pub fn transient(&self, op: &'static str, message: &str) {
        self.script(op).transient(op, message);
    }

    /// Given: the next call of `op` is refused for good.
    pub fn permanent(&self, op: &'static str, message: &str) {
        self.script(op).permanent(op, message);
    }

    /// Given: the next call of `op` acts, and its answer is lost.
    pub fn lost(&self, op: &'static str) {
        self.script(op).lost(op);
    }

    /// Given: the next call of `op` does nothing and answers `in-doubt`.
    pub fn in_doubt(&self, op: &'static str, message: &str) {
        self.script(op).in_doubt(op, message);
    }

    /// Given: an order placed (its saga not advanced yet).
    pub fn placed(&self) -> Order {
        self.app().place_order(place_cmd()).unwrap()
    }

    /// The charges made so far: one per idempotency key that charged.
    pub fn charges(&self) -> usize {
        self.payment.receipts.borrow().len()
    }

    /// Every external call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.log.borrow().clone()
    }

    /// (operation, idempotency key) of every external call so far.
    pub fn op_keys(&self) -> Vec<(&'static str, String)> {
        self.log
            .borrow()
            .iter()
            .map(|c| (c.op, c.key.clone()))
            .collect()
    }

    /// The operations called so far, in order.
    pub fn ops(&self) -> Vec<&'static str> {
        self.log.borrow().iter().map(|c| c.op).collect()
    }

    /// The calls of one operation.
    pub fn calls_of(&self, op: &str) -> Vec<Call> {
        self.log
            .borrow()
            .iter()
            .filter(|c| c.op == op)
            .cloned()
            .collect()
    }

    /// The idempotency keys of one operation's calls, in order.
    pub fn keys_of(&self, op: &str) -> Vec<String> {
        self.calls_of(op).into_iter().map(|c| c.key).collect()
    }

    /// The details of one operation's calls, in order.
    pub fn details_of(&self, op: &str) -> Vec<String> {
        self.calls_of(op).into_iter().map(|c| c.detail).collect()
    }

    /// When: the saga advances, then follows its timer up to `rounds`
    /// times (it need not finish).
    pub fn run_rounds(&self, app: &App<'_>, rounds: usize) -> Order {
        let mut order = app.advance_saga(ORDER_ID).unwrap();
        for _ in 0..rounds {
            let Some(due) = self.store.timer(ORDER_ID) else {
                break;
            };
            self.clock.set(due.max(self.clock.now()));
            order = app.advance_saga(ORDER_ID).unwrap();
        }
        order
    }

    /// When: the saga runs until it is finished, following its timer
    /// (bounded).
    pub fn run_saga_to_the_end(&self, app: &App<'_>) -> Order {
        // A bound, not a count: one round per timer, and no saga here takes
        // more than 29 (at most 3 attempts a call, over four steps and their
        // compensations).
        let order = self.run_rounds(app, 29);
        if self.store.timer(ORDER_ID).is_some() {
            panic!("the saga did not finish: {:?}", order.saga);
        }
        order
    }

    /// Given: saga events appended as if an advance had written them and
    /// then died.
    pub fn append_raw(&self, events: &[OrderEvent]) {
        let stream = format!("order-{ORDER_ID}");
        let version = self.store.events(&stream).len() as u64;
        self.store
            .append(&AppendBatch {
                streams: vec![StreamAppend {
                    stream_id: stream,
                    expected_version: version,
                    tags: Vec::new(),
                    events: events
                        .iter()
                        .map(|e| NewEvent {
                            event_type: e.event_type().to_string(),
                            payload: serde_json::to_string(e).unwrap(),
                        })
                        .collect(),
                    state: None,
                }],
                timers: Vec::new(),
            })
            .unwrap();
    }

    /// Given: an order delivered, with a return of one unit of B received.
    pub fn received_return(&self, app: &App<'_>) {
        app.place_order(place_cmd()).unwrap();
        let order = self.run_saga_to_the_end(app);
        let shipment = order.shipping.unwrap().shipment_id;
        self.clock.advance(MINUTE);
        app.on_delivered(&shipment, self.clock.now(), None).unwrap();
        self.return_one_b_received(app);
    }

    /// Given: a return of one unit of B requested, approved and received.
    pub fn return_one_b_received(&self, app: &App<'_>) {
        app.request_return(RequestReturn {
            return_id: RETURN_ID.to_string(),
            order_id: ORDER_ID.to_string(),
            customer_id: CUSTOMER_ID.to_string(),
            return_items: vec![return_item(ITEM_B, PRODUCT_B, 1)],
            return_reason: ReturnReason::Defective,
            comments: None,
        })
        .unwrap();
        app.approve_return(RETURN_ID, "csr-1", None).unwrap();
        app.receive_return(RETURN_ID, self.clock.now(), "damaged", true)
            .unwrap();
    }
}
