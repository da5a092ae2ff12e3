//! The simulated world: one value that is every port of the application at
//! once but the policy (event store, clock, payment gateway, inventory,
//! carrier, customer service; the prices are the fakes' policy), so that a
//! backend's call can run other operations of the application before it
//! answers. Each external context keeps the
//! ground truth (charges, refunds, stock held per order, bookings) that the
//! invariants are checked against, honours idempotency keys, and takes its
//! faults from a queue that the operation list arms.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};

use order_core::app::App;
use order_core::app::ports::*;
use order_core::domain::ExternalError;
use order_core::domain::values::*;

use super::model::{Op, exec};
use crate::common::T0;
use crate::common::fakes::{FakePolicy, Streams, reads_from_streams, stock_detail};

/// Where an armed fault strikes: the next call of this kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Charge,
    Refund,
    Allocate,
    Release,
    Restock,
    Book,
    CancelBooking,
    Notify,
    Append,
}

/// What happens to that call.
#[derive(Clone, PartialEq, Eq)]
pub enum Fault {
    /// No effect; the callee says so.
    Transient,
    /// Refused for good, no effect (an effect already made under the key
    /// is answered instead, as an idempotent callee does).
    Permanent,
    /// The effect happens; the answer is lost (`InDoubt`; for the store:
    /// written, then an error).
    Lost,
    /// The effect happens, then the host dies before it hears the answer.
    Crash,
    /// The host dies while calling; nothing happened.
    CrashBefore,
    /// These operations run before the callee acts and answers.
    Slow(Vec<Op>),
}

/// A slow call's operations read as a list after its name (`Slow[Tick(1)]`)
/// in the traces.
impl std::fmt::Debug for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Transient => f.write_str("Transient"),
            Fault::Permanent => f.write_str("Permanent"),
            Fault::Lost => f.write_str("Lost"),
            Fault::Crash => f.write_str("Crash"),
            Fault::CrashBefore => f.write_str("CrashBefore"),
            Fault::Slow(ops) => write!(f, "Slow{ops:?}"),
        }
    }
}

/// The host died: unwinds to the top of the operation, like a kill.
pub struct HostCrash;

pub fn crash() -> ! {
    std::panic::panic_any(HostCrash)
}

#[derive(Clone, Debug)]
pub struct Charge {
    pub txn: String,
    pub order_id: String,
    pub amount: u64,
    pub key: String,
    /// Made outside the application and refused by it: the gateway's own
    /// reconciliation gives it back, not the application.
    pub outside: bool,
}

#[derive(Clone, Debug)]
pub struct Refund {
    pub key: String,
    pub txn: String,
    pub amount: u64,
}

#[derive(Clone, Debug, Default)]
pub struct Payments {
    pub charges: Vec<Charge>,
    pub refunds: Vec<Refund>,
}

#[derive(Clone, Debug, Default)]
pub struct Inventory {
    pub initial: BTreeMap<String, u64>,
    pub available: BTreeMap<String, u64>,
    /// (order id, product id) -> units held for the order.
    pub held: BTreeMap<(String, String), u64>,
    pub restocked: BTreeMap<String, u64>,
    /// Units released that the order did not hold.
    pub over_released: Vec<String>,
    allocations: HashMap<String, Result<bool, Vec<Unavailable>>>,
    releases: HashMap<String, ()>,
    restocks: HashMap<String, ()>,
}

#[derive(Clone, Debug)]
pub struct BookingRec {
    pub shipment_id: String,
    pub order_id: String,
    pub tracking: String,
    pub key: String,
    pub cancelled: bool,
    pub picked_up: bool,
    /// Made outside the application and refused by it.
    pub outside: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Carrier {
    pub bookings: Vec<BookingRec>,
}

/// Every port, in memory.
pub struct Sim {
    pub clock: Cell<Timestamp>,
    pub depth: Cell<u32>,
    armed: RefCell<Vec<(Target, Fault)>>,
    pub faults_on: Cell<bool>,
    streams: Streams,
    pub pay: RefCell<Payments>,
    pub inv: RefCell<Inventory>,
    pub car: RefCell<Carrier>,
    /// Request of every idempotency key seen, to catch a key reused for
    /// another request.
    requests: RefCell<HashMap<String, String>>,
    /// Keys answered with a permanent refusal.
    refused: RefCell<std::collections::HashSet<String>>,
    /// Broken rules the fakes saw at call time (invariant, detail).
    pub violations: RefCell<Vec<(&'static str, String)>>,
    /// Effects the application caused through the ports.
    pub effects: Cell<u64>,
    /// Operations run inside backend calls so far.
    pub inner_ops: Cell<u64>,
    pub counter: Cell<u64>,
    pub trace: RefCell<Option<Vec<String>>>,
    /// Keys of the support tickets opened.
    pub tickets: RefCell<Vec<String>>,
}

impl Sim {
    pub fn new(stock: &[(&str, u64)], trace: bool) -> Self {
        let mut inv = Inventory::default();
        for (p, n) in stock {
            inv.initial.insert(p.to_string(), *n);
            inv.available.insert(p.to_string(), *n);
        }
        Sim {
            clock: Cell::new(T0),
            depth: Cell::new(0),
            armed: RefCell::default(),
            faults_on: Cell::new(true),
            streams: Streams::default(),
            pay: RefCell::default(),
            inv: RefCell::new(inv),
            car: RefCell::default(),
            requests: RefCell::default(),
            refused: RefCell::default(),
            violations: RefCell::default(),
            effects: Cell::new(0),
            inner_ops: Cell::new(0),
            counter: Cell::new(0),
            trace: RefCell::new(trace.then(Vec::new)),
            tickets: RefCell::default(),
        }
    }

    pub fn app(&self) -> App<'_> {
        App::new(Env {
            store: self,
            // The same prices and saga policy as the given/when/then tests.
            policy: &FakePolicy,
            payment: self,
            inventory: self,
            carrier: self,
            customer: self,
            clock: self,
        })
    }

    pub fn note(&self, line: impl FnOnce() -> String) {
        if let Some(t) = self.trace.borrow_mut().as_mut() {
            let depth = self.depth.get() as usize;
            t.push(format!("{}{}", "    ".repeat(depth), line()));
        }
    }

    /// Counts one effect the application caused through a port.
    fn effect_made(&self) {
        self.effects.set(self.effects.get() + 1);
    }

    pub fn next_id(&self) -> u64 {
        self.counter.set(self.counter.get() + 1);
        self.counter.get()
    }

    pub fn arm(&self, target: Target, fault: Fault) {
        self.armed.borrow_mut().push((target, fault));
    }

    pub fn disarm(&self) {
        self.armed.borrow_mut().clear();
        self.faults_on.set(false);
    }

    fn take(&self, target: Target) -> Option<Fault> {
        if !self.faults_on.get() {
            return None;
        }
        let mut armed = self.armed.borrow_mut();
        let i = armed.iter().position(|(t, _)| *t == target)?;
        let fault = armed.remove(i).1;
        drop(armed);
        self.note(|| format!("! {target:?} gets {fault:?}"));
        Some(fault)
    }

    fn violation(&self, invariant: &'static str, detail: String) {
        self.violations.borrow_mut().push((invariant, detail));
    }

    /// A key must always carry the same request (a real gateway refuses a
    /// key reused with other parameters).
    fn request(&self, key: &str, request: String) {
        let mut requests = self.requests.borrow_mut();
        match requests.get(key) {
            Some(first) if *first != request => {
                let detail = format!("key {key} first carried `{first}`, now `{request}`");
                drop(requests);
                self.violation("idempotency-key-reused-for-another-request", detail);
            }
            Some(_) => {}
            None => {
                requests.insert(key.to_string(), request);
            }
        }
    }

    /// Runs the operations of a slow call, one level deeper.
    fn run_inner(&self, ops: &[Op]) {
        self.depth.set(self.depth.get() + 1);
        for op in ops {
            self.inner_ops.set(self.inner_ops.get() + 1);
            let out = exec(self, op);
            self.note(|| format!("{op:?} -> {}", out.text));
        }
        self.depth.set(self.depth.get() - 1);
    }

    /// Applies a fault around `effect`: the shared shape of every call.
    fn call<T>(
        &self,
        target: Target,
        key: &str,
        done: impl Fn() -> Option<T>,
        effect: impl FnOnce() -> Result<T, ExternalError>,
    ) -> Result<T, ExternalError> {
        // A key refused for good stays refused: nothing ever happens under
        // it (even a slow first request that arrives later).
        let refused = || self.refused.borrow().contains(key);
        let effect = || {
            if refused() {
                Err(ExternalError::Permanent("refused".into()))
            } else {
                effect()
            }
        };
        match self.take(target) {
            None => effect(),
            Some(Fault::Transient) => Err(ExternalError::Transient("unavailable".into())),
            Some(Fault::Permanent) => match done() {
                Some(t) => Ok(t),
                None => {
                    self.refused.borrow_mut().insert(key.to_string());
                    Err(ExternalError::Permanent("refused".into()))
                }
            },
            Some(Fault::Lost) => {
                effect()?;
                Err(ExternalError::InDoubt(
                    "connection lost after sending".into(),
                ))
            }
            Some(Fault::Crash) => {
                let _ = effect();
                crash()
            }
            Some(Fault::CrashBefore) => crash(),
            Some(Fault::Slow(ops)) => {
                self.run_inner(&ops);
                effect()
            }
        }
    }

    pub fn external_charge(&self, order_id: &str, amount: u64) -> String {
        let txn = format!("ext-txn-{}", self.next_id());
        self.pay.borrow_mut().charges.push(Charge {
            txn: txn.clone(),
            order_id: order_id.to_string(),
            amount,
            key: format!("outside/{txn}"),
            outside: false,
        });
        txn
    }

    pub fn external_booking(&self, order_id: &str) -> (String, String) {
        let n = self.next_id();
        let shipment_id = format!("5e000000-0000-4000-8000-{n:012}");
        let tracking = format!("EXT-{n}");
        self.car.borrow_mut().bookings.push(BookingRec {
            shipment_id: shipment_id.clone(),
            order_id: order_id.to_string(),
            tracking: tracking.clone(),
            key: format!("outside/{shipment_id}"),
            cancelled: false,
            picked_up: false,
            outside: false,
        });
        (shipment_id, tracking)
    }

    pub fn stream_versions(&self) -> BTreeMap<String, usize> {
        self.streams.versions()
    }

    pub fn has_stream(&self, stream_id: &str) -> bool {
        self.streams.contains(stream_id)
    }

    pub fn stream_names(&self) -> Vec<String> {
        self.streams.names()
    }
}

// ----- store and clock --------------------------------------------------

impl Clock for Sim {
    fn now(&self) -> Timestamp {
        self.clock.get()
    }
}

impl Sim {
    fn write(&self, batch: &AppendBatch) -> Result<(), StoreError> {
        self.streams.write(batch, self.clock.get())
    }
}

impl EventStore for Sim {
    reads_from_streams!();

    fn append(&self, batch: &AppendBatch) -> Result<(), StoreError> {
        match self.take(Target::Append) {
            None => self.write(batch),
            Some(Fault::Transient) => Err(StoreError::Unavailable("store unavailable".into())),
            Some(Fault::Permanent) => {
                // Another writer got there first (the batch is not written).
                // A batch with no stream (only timers) has no version to lose.
                let Some(s) = batch.streams.first() else {
                    return self.write(batch);
                };
                Err(StoreError::Conflict {
                    stream_id: s.stream_id.clone(),
                    expected: s.expected_version,
                    actual: s.expected_version + 1,
                })
            }
            Some(Fault::Lost) => {
                self.write(batch)?;
                Err(StoreError::Unavailable(
                    "connection lost after commit".into(),
                ))
            }
            Some(Fault::Crash) => {
                let _ = self.write(batch);
                crash()
            }
            Some(Fault::CrashBefore) => crash(),
            Some(Fault::Slow(ops)) => {
                self.run_inner(&ops);
                self.write(batch)
            }
        }
    }
}

// ----- payment gateway -------------------------------------------------------

impl Sim {
    fn charge_of_key(&self, key: &str) -> Option<PaymentReceipt> {
        self.pay
            .borrow()
            .charges
            .iter()
            .find(|c| c.key == key)
            .map(|c| PaymentReceipt {
                transaction_id: c.txn.clone(),
                amount: Money {
                    amount: c.amount,
                    currency: Currency::usd(),
                },
                processed_at: self.clock.get(),
            })
    }
}

impl PaymentGateway for Sim {
    fn process_payment(
        &self,
        key: &str,
        req: &ChargeRequest,
    ) -> Result<PaymentReceipt, ExternalError> {
        let ChargeRequest {
            order_id, amount, ..
        } = *req;
        self.request(key, format!("charge {order_id} {amount}"));
        let result = self.call(
            Target::Charge,
            key,
            || self.charge_of_key(key),
            || {
                if let Some(r) = self.charge_of_key(key) {
                    return Ok(r);
                }
                let txn = format!("txn-{}", self.next_id());
                self.pay.borrow_mut().charges.push(Charge {
                    txn,
                    order_id: order_id.to_string(),
                    amount: amount.amount,
                    key: key.to_string(),
                    outside: false,
                });
                self.effect_made();
                Ok(self.charge_of_key(key).expect("just charged"))
            },
        );
        self.note(|| format!("process-payment {key} -> {result:?}"));
        result
    }

    fn refund_payment(&self, key: &str, req: &RefundRequest) -> Result<(), ExternalError> {
        let RefundRequest {
            transaction_id,
            amount,
            ..
        } = *req;
        self.request(key, format!("refund {transaction_id} {amount}"));
        let done = || {
            self.pay
                .borrow()
                .refunds
                .iter()
                .any(|r| r.key == key)
                .then_some(())
        };
        let result = self.call(Target::Refund, key, done, || {
            if done().is_some() {
                return Ok(());
            }
            let mut pay = self.pay.borrow_mut();
            let Some(charge) = pay.charges.iter().find(|c| c.txn == transaction_id) else {
                drop(pay);
                self.violation(
                    "refund-of-an-unknown-transaction",
                    format!("key {key} refunds `{transaction_id}`"),
                );
                return Err(ExternalError::Permanent("unknown transaction".into()));
            };
            let left = charge.amount
                - pay
                    .refunds
                    .iter()
                    .filter(|r| r.txn == transaction_id)
                    .map(|r| r.amount)
                    .sum::<u64>();
            if amount.amount > left {
                drop(pay);
                self.violation(
                    "refund-exceeds-the-charge",
                    format!("key {key} refunds {amount} of {transaction_id}, {left} left"),
                );
                return Err(ExternalError::Permanent("exceeds the charge".into()));
            }
            pay.refunds.push(Refund {
                key: key.to_string(),
                txn: transaction_id.to_string(),
                amount: amount.amount,
            });
            drop(pay);
            self.effect_made();
            Ok(())
        });
        self.note(|| format!("refund-payment {key} {transaction_id} {amount} -> {result:?}"));
        result
    }
}

// ----- inventory ---------------------------------------------------------------

impl InventoryService for Sim {
    fn allocate_stock(&self, key: &str, req: &StockRequest) -> Result<bool, AllocationError> {
        let StockRequest { order_id, items } = *req;
        self.request(key, format!("allocate {order_id} {}", stock_detail(items)));
        let done = || self.inv.borrow().allocations.get(key).cloned();
        let result = self.call(
            Target::Allocate,
            key,
            || done().filter(Result::is_ok),
            || {
                if let Some(r) = done() {
                    return Ok(r);
                }
                let mut inv = self.inv.borrow_mut();
                let mut missing = Vec::new();
                let mut got = Vec::new();
                for i in items {
                    let avail = inv.available.get(&i.product_id).copied().unwrap_or(0);
                    if avail >= u64::from(i.quantity) {
                        got.push(i);
                    } else {
                        missing.push(Unavailable {
                            product_id: i.product_id.clone(),
                            requested: i.quantity,
                            available: avail as u32,
                        });
                    }
                }
                let r = if got.is_empty() {
                    Err(missing)
                } else {
                    for i in &got {
                        *inv.available.get_mut(&i.product_id).expect("stocked") -=
                            u64::from(i.quantity);
                        *inv.held
                            .entry((order_id.to_string(), i.product_id.clone()))
                            .or_default() += u64::from(i.quantity);
                    }
                    Ok(missing.is_empty())
                };
                if r.is_ok() {
                    inv.allocations.insert(key.to_string(), r.clone());
                    drop(inv);
                    self.effect_made();
                }
                Ok(r)
            },
        );
        let result = match result {
            Ok(Ok(all)) => Ok(all),
            Ok(Err(missing)) => Err(AllocationError::OutOfStock(missing)),
            Err(e) => Err(AllocationError::Failed(e)),
        };
        self.note(|| format!("allocate-stock {key} -> {result:?}"));
        result
    }

    fn release_stock(&self, key: &str, req: &StockRequest) -> Result<(), ExternalError> {
        let StockRequest { order_id, items } = *req;
        self.request(key, format!("release {order_id} {}", stock_detail(items)));
        let done = || self.inv.borrow().releases.get(key).copied();
        let result = self.call(Target::Release, key, done, || {
            if done().is_some() {
                return Ok(());
            }
            let mut inv = self.inv.borrow_mut();
            // An empty list releases whatever the order holds (the
            // contract for a partial reservation that named no line).
            let everything: Vec<StockItem>;
            let items = if items.is_empty() {
                everything = inv
                    .held
                    .iter()
                    .filter(|((o, _), n)| o == order_id && **n > 0)
                    .map(|((_, p), n)| StockItem {
                        product_id: p.clone(),
                        sku: String::new(),
                        quantity: *n as u32,
                    })
                    .collect();
                &everything[..]
            } else {
                items
            };
            for i in items {
                let q = u64::from(i.quantity);
                let held = inv
                    .held
                    .entry((order_id.to_string(), i.product_id.clone()))
                    .or_default();
                if *held < q {
                    let detail = format!(
                        "key {key} released {q} of {} while the order held {held}",
                        i.product_id
                    );
                    *held = 0;
                    inv.over_released.push(detail);
                } else {
                    *held -= q;
                }
                // The warehouse takes the units back as told.
                *inv.available.entry(i.product_id.clone()).or_default() += q;
            }
            inv.releases.insert(key.to_string(), ());
            drop(inv);
            self.effect_made();
            Ok(())
        });
        self.note(|| format!("release-stock {key} -> {result:?}"));
        result
    }

    fn restock_items(&self, key: &str, req: &RestockRequest) -> Result<(), ExternalError> {
        let RestockRequest {
            return_id,
            order_id,
            items,
        } = *req;
        self.request(
            key,
            format!("restock {return_id} {order_id} {}", stock_detail(items)),
        );
        let done = || self.inv.borrow().restocks.get(key).copied();
        let result = self.call(Target::Restock, key, done, || {
            if done().is_some() {
                return Ok(());
            }
            let mut inv = self.inv.borrow_mut();
            for i in items {
                let q = u64::from(i.quantity);
                *inv.available.entry(i.product_id.clone()).or_default() += q;
                *inv.restocked.entry(i.product_id.clone()).or_default() += q;
            }
            inv.restocks.insert(key.to_string(), ());
            drop(inv);
            self.effect_made();
            Ok(())
        });
        self.note(|| format!("restock-items {key} -> {result:?}"));
        result
    }
}

// ----- carrier -----------------------------------------------------------------

impl Sim {
    fn booking_of_key(&self, key: &str) -> Option<Booking> {
        self.car
            .borrow()
            .bookings
            .iter()
            .find(|b| b.key == key)
            .map(|b| Booking {
                shipment_id: b.shipment_id.clone(),
                carrier: CarrierCode::Ups,
                tracking_number: b.tracking.clone(),
                estimated_delivery: None,
            })
    }
}

impl ShippingCarrier for Sim {
    fn create_shipment(&self, key: &str, req: &ShipmentRequest) -> Result<Booking, ExternalError> {
        let ShipmentRequest {
            order_id,
            carrier,
            items,
            ..
        } = *req;
        let parcel: Vec<String> = items
            .iter()
            .map(|i| format!("{}x{}", i.quantity, i.product_id))
            .collect();
        self.request(
            key,
            format!("book {order_id} {carrier} {}", parcel.join(",")),
        );
        let result = self.call(
            Target::Book,
            key,
            || self.booking_of_key(key),
            || {
                if let Some(b) = self.booking_of_key(key) {
                    return Ok(b);
                }
                let n = self.next_id();
                self.car.borrow_mut().bookings.push(BookingRec {
                    shipment_id: format!("5e000000-0000-4000-8000-{n:012}"),
                    order_id: order_id.to_string(),
                    tracking: format!("TRK-{n}"),
                    key: key.to_string(),
                    cancelled: false,
                    picked_up: false,
                    outside: false,
                });
                self.effect_made();
                Ok(self.booking_of_key(key).expect("just booked"))
            },
        );
        self.note(|| format!("create-shipment {key} -> {result:?}"));
        result
    }

    fn cancel_shipment(&self, key: &str, req: &CancelShipmentRequest) -> Result<(), ExternalError> {
        let shipment_id = req.shipment_id;
        self.request(key, format!("cancel {shipment_id}"));
        let find = |cancelled: bool| {
            self.car
                .borrow()
                .bookings
                .iter()
                .any(|b| b.shipment_id == shipment_id && b.cancelled == cancelled)
        };
        let result = self.call(
            Target::CancelBooking,
            key,
            || find(true).then_some(()),
            || {
                let mut car = self.car.borrow_mut();
                let Some(b) = car
                    .bookings
                    .iter_mut()
                    .find(|b| b.shipment_id == shipment_id)
                else {
                    drop(car);
                    self.violation(
                        "cancel-of-an-unknown-shipment",
                        format!("key {key} cancels {shipment_id}"),
                    );
                    return Err(ExternalError::Permanent("unknown shipment".into()));
                };
                if b.cancelled {
                    return Ok(());
                }
                if b.picked_up {
                    return Err(ExternalError::Permanent("already picked up".into()));
                }
                b.cancelled = true;
                drop(car);
                self.effect_made();
                Ok(())
            },
        );
        self.note(|| format!("cancel-shipment {key} {shipment_id} -> {result:?}"));
        result
    }
}

// ----- customer service --------------------------------------------------------

impl Sim {
    fn message(&self, what: &str, key: &str) -> Result<(), ExternalError> {
        let result = self.call(Target::Notify, key, || None, || Ok(()));
        self.note(|| format!("{what} {key} -> {result:?}"));
        result
    }
}

impl CustomerService for Sim {
    fn send_order_confirmation(
        &self,
        key: &str,
        _req: &ConfirmationRequest,
    ) -> Result<(), ExternalError> {
        self.message("send-order-confirmation", key)
    }

    fn send_order_cancellation(
        &self,
        key: &str,
        _req: &CancellationRequest,
    ) -> Result<(), ExternalError> {
        self.message("send-order-cancellation", key)
    }

    fn send_shipping_update(
        &self,
        key: &str,
        _req: &ShippingUpdateRequest,
    ) -> Result<(), ExternalError> {
        self.message("send-shipping-update", key)
    }

    fn create_support_ticket(
        &self,
        key: &str,
        _req: &TicketRequest,
    ) -> Result<String, ExternalError> {
        self.message("create-support-ticket", key)?;
        self.tickets.borrow_mut().push(key.to_string());
        Ok(format!("ticket-{key}"))
    }
}
