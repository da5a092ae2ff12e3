//! In-memory ports that always answer, for running the application natively
//! (no component, no host) at the speed of the domain itself: the baseline
//! that `order-host bench` sets the component against. Thread-safe, so
//! several threads can share one [`MemoryPorts`] as several host workers
//! share one store.
//!
//! The store honours expected versions atomically across a batch, keeps
//! tags and saga timers; the external contexts accept every call and give
//! the same answer to the same idempotency key (a repeated charge returns
//! the first receipt), as the host's simulated backends do without faults.
//! Built only with the `memory-ports` feature.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use super::App;
use super::ports::*;
use crate::domain::ExternalError;
use crate::domain::saga::{RetryPolicy, SagaPolicy};
use crate::domain::values::*;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section below leaves the data consistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Milliseconds since the Unix epoch.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

#[derive(Default)]
struct Streams {
    events: HashMap<String, Vec<StoredEvent>>,
    tags: HashMap<String, Tagged>,
    timers: HashMap<String, Timestamp>,
    /// The latest state record of a stream that has one.
    states: HashMap<String, StoredState>,
}

/// The streams of one tag, in first-tagged order, with a set so that
/// tagging a stream again costs one look-up however many streams the tag has.
#[derive(Default)]
struct Tagged {
    order: Vec<String>,
    members: HashSet<String>,
}

/// An event store in memory: one lock around every stream, as the host's
/// memory store has.
#[derive(Default)]
pub struct MemoryEventStore {
    clock: SystemClock,
    inner: Mutex<Streams>,
    /// Batches written (a conflicting one is not counted).
    appends: AtomicU64,
}

impl MemoryEventStore {
    /// The saga timer of an order, if one is set.
    pub fn timer(&self, saga_id: &str) -> Option<Timestamp> {
        lock(&self.inner).timers.get(saga_id).copied()
    }

    /// Batches written: the commits a durable store would have made.
    pub fn appends(&self) -> u64 {
        self.appends.load(Ordering::Relaxed)
    }

    /// Events stored, over every stream.
    pub fn total_events(&self) -> usize {
        lock(&self.inner).events.values().map(Vec::len).sum()
    }

    /// Bytes of the stored event types and payloads (what a store has to
    /// keep at the least, before its own overhead).
    pub fn payload_bytes(&self) -> usize {
        lock(&self.inner)
            .events
            .values()
            .flatten()
            .map(|e| e.event_type.len() + e.payload.len())
            .sum()
    }
}

impl EventStore for MemoryEventStore {
    fn load(&self, stream_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
        Ok(lock(&self.inner)
            .events
            .get(stream_id)
            .cloned()
            .unwrap_or_default())
    }

    fn load_tail(&self, stream_id: &str) -> Result<StreamTail, StoreError> {
        let inner = lock(&self.inner);
        let state = inner.states.get(stream_id).cloned();
        let after = state.as_ref().map_or(0, |s| s.version as usize);
        let events = inner
            .events
            .get(stream_id)
            .map(|e| e.get(after..).unwrap_or_default().to_vec())
            .unwrap_or_default();
        Ok(StreamTail { state, events })
    }

    fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
        Ok(lock(&self.inner)
            .events
            .get(stream_id)
            .map_or(0, |e| e.len() as u64))
    }

    fn append(&self, batch: &AppendBatch) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut inner = lock(&self.inner);
        // Every stream is checked before anything is written: the whole
        // batch or nothing.
        let mut staged: HashMap<&str, u64> = HashMap::new();
        for s in &batch.streams {
            let current = staged
                .get(s.stream_id.as_str())
                .copied()
                .unwrap_or_else(|| inner.events.get(&s.stream_id).map_or(0, |e| e.len() as u64));
            if s.expected_version != current {
                return Err(StoreError::Conflict {
                    stream_id: s.stream_id.clone(),
                    expected: s.expected_version,
                    actual: current,
                });
            }
            staged.insert(&s.stream_id, current + s.events.len() as u64);
        }
        for s in &batch.streams {
            let stream = inner.events.entry(s.stream_id.clone()).or_default();
            for e in &s.events {
                let version = stream.len() as u64 + 1;
                stream.push(StoredEvent {
                    stream_id: s.stream_id.clone(),
                    version,
                    event_type: e.event_type.clone(),
                    payload: e.payload.clone(),
                    recorded_at: now,
                });
            }
            if let Some(state) = &s.state {
                let version = stream.len() as u64;
                inner.states.insert(
                    s.stream_id.clone(),
                    StoredState {
                        version,
                        state: state.clone(),
                    },
                );
            }
            for tag in &s.tags {
                let tagged = inner.tags.entry(tag.clone()).or_default();
                if tagged.members.insert(s.stream_id.clone()) {
                    tagged.order.push(s.stream_id.clone());
                }
            }
        }
        for (saga, due) in &batch.timers {
            match due {
                Some(t) => inner.timers.insert(saga.clone(), *t),
                None => inner.timers.remove(saga),
            };
        }
        self.appends.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn find_streams(&self, tag: &str) -> Result<Vec<String>, StoreError> {
        Ok(lock(&self.inner)
            .tags
            .get(tag)
            .map(|tagged| tagged.order.clone())
            .unwrap_or_default())
    }
}

/// The host's default policy: 30-day returns, UPS, the default retries,
/// no tax and no shipping cost.
#[derive(Debug, Default)]
pub struct DefaultPolicy;

impl Policy for DefaultPolicy {
    fn policy(&self) -> StorePolicy {
        StorePolicy {
            return_window_days: 30,
            default_carrier: CarrierCode::Ups,
            saga: SagaPolicy {
                retry: RetryPolicy {
                    max_attempts: 5,
                    base_delay_ms: 200,
                    max_delay_ms: 30_000,
                    jitter_permille: 200,
                },
                notification_retry: RetryPolicy {
                    max_attempts: 8,
                    base_delay_ms: 500,
                    max_delay_ms: 60_000,
                    jitter_permille: 200,
                },
                call_lease_ms: 10_000,
            },
        }
    }

    fn quote(&self, _items: &[OrderItem], subtotal: &Money, _to: &Address) -> (Money, Money) {
        let zero = Money {
            amount: 0,
            currency: subtotal.currency.clone(),
        };
        (zero.clone(), zero)
    }
}

/// An id derived from an idempotency key: the same key, the same id.
fn id_of(what: &str, key: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_OID,
        format!("{what}/{key}").as_bytes(),
    )
    .to_string()
}

/// A gateway that charges every payment, once per key.
#[derive(Default)]
pub struct AcceptingPayment {
    receipts: Mutex<HashMap<String, PaymentReceipt>>,
}

impl PaymentGateway for AcceptingPayment {
    fn process_payment(
        &self,
        key: &str,
        req: &ChargeRequest,
    ) -> Result<PaymentReceipt, ExternalError> {
        let now = SystemClock.now();
        Ok(lock(&self.receipts)
            .entry(key.to_string())
            .or_insert_with(|| PaymentReceipt {
                transaction_id: id_of("transaction", key),
                amount: req.amount.clone(),
                processed_at: now,
            })
            .clone())
    }

    fn refund_payment(&self, _key: &str, _req: &RefundRequest) -> Result<(), ExternalError> {
        Ok(())
    }
}

/// An inventory with every item on the shelf.
#[derive(Debug, Default)]
pub struct AcceptingInventory;

impl InventoryService for AcceptingInventory {
    fn allocate_stock(&self, _key: &str, _req: &StockRequest) -> Result<bool, AllocationError> {
        Ok(true)
    }

    fn release_stock(&self, _key: &str, _req: &StockRequest) -> Result<(), ExternalError> {
        Ok(())
    }

    fn restock_items(&self, _key: &str, _req: &RestockRequest) -> Result<(), ExternalError> {
        Ok(())
    }
}

/// A carrier that books every shipment, the same booking per key.
#[derive(Debug, Default)]
pub struct AcceptingCarrier;

impl ShippingCarrier for AcceptingCarrier {
    fn create_shipment(&self, key: &str, req: &ShipmentRequest) -> Result<Booking, ExternalError> {
        let shipment_id = id_of("shipment", key);
        Ok(Booking {
            tracking_number: format!("1Z{}", &shipment_id[..8]),
            shipment_id,
            carrier: req.carrier,
            estimated_delivery: None,
        })
    }

    fn cancel_shipment(
        &self,
        _key: &str,
        _req: &CancelShipmentRequest,
    ) -> Result<(), ExternalError> {
        Ok(())
    }
}

/// A customer service that sends every message.
#[derive(Debug, Default)]
pub struct AcceptingCustomer;

impl CustomerService for AcceptingCustomer {
    fn send_order_confirmation(
        &self,
        _key: &str,
        _req: &ConfirmationRequest,
    ) -> Result<(), ExternalError> {
        Ok(())
    }

    fn send_order_cancellation(
        &self,
        _key: &str,
        _req: &CancellationRequest,
    ) -> Result<(), ExternalError> {
        Ok(())
    }

    fn send_shipping_update(
        &self,
        _key: &str,
        _req: &ShippingUpdateRequest,
    ) -> Result<(), ExternalError> {
        Ok(())
    }

    fn create_support_ticket(
        &self,
        key: &str,
        _req: &TicketRequest,
    ) -> Result<String, ExternalError> {
        Ok(id_of("ticket", key))
    }
}

/// Every port, in memory; [`MemoryPorts::app`] is the application over them.
#[derive(Default)]
pub struct MemoryPorts {
    pub store: MemoryEventStore,
    pub policy: DefaultPolicy,
    pub payment: AcceptingPayment,
    pub inventory: AcceptingInventory,
    pub carrier: AcceptingCarrier,
    pub customer: AcceptingCustomer,
    pub clock: SystemClock,
}

impl MemoryPorts {
    pub fn new() -> Self {
        Self::default()
    }

    /// The application over these ports (cheap: a handful of references).
    pub fn app(&self) -> App<'_> {
        App::new(Env {
            store: &self.store,
            policy: &self.policy,
            payment: &self.payment,
            inventory: &self.inventory,
            carrier: &self.carrier,
            customer: &self.customer,
            clock: &self.clock,
        })
    }
}

/// The address the native runs and their tests ship to and bill.
pub fn sample_address() -> Address {
    Address {
        street1: "1 Market Street".into(),
        street2: None,
        city: "San Francisco".into(),
        state_province: "CA".into(),
        postal_code: "94105".into(),
        country: "US".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::order::{OrderStatus, PlaceOrder};

    #[test]
    fn a_state_record_is_kept_at_its_append_and_the_tail_follows_it() {
        let store = MemoryEventStore::default();
        let append = |expected: u64, count: usize, state: Option<&str>| AppendBatch {
            streams: vec![StreamAppend {
                stream_id: "shipment-1".into(),
                expected_version: expected,
                tags: Vec::new(),
                events: (0..count)
                    .map(|_| NewEvent {
                        event_type: "tracking-updated".into(),
                        payload: "{}".into(),
                    })
                    .collect(),
                state: state.map(str::to_owned),
            }],
            timers: Vec::new(),
        };
        assert_eq!(
            store.load_tail("shipment-1").unwrap(),
            StreamTail::default()
        );
        store.append(&append(0, 3, Some("at 3"))).unwrap();
        store.append(&append(3, 2, None)).unwrap();
        let tail = store.load_tail("shipment-1").unwrap();
        let record = StoredState {
            version: 3,
            state: "at 3".into(),
        };
        assert_eq!(tail.state, Some(record));
        assert_eq!(
            tail.events.iter().map(|e| e.version).collect::<Vec<_>>(),
            [4, 5]
        );
        store.append(&append(5, 1, Some("at 6"))).unwrap();
        let tail = store.load_tail("shipment-1").unwrap();
        assert_eq!(
            tail.state.map(|s| (s.version, s.state)),
            Some((6, "at 6".into()))
        );
        assert!(tail.events.is_empty());
    }

    #[test]
    fn a_tag_finds_its_streams_once_each_in_first_tagged_order() {
        let store = MemoryEventStore::default();
        let tag = |stream: &str, expected: u64| AppendBatch {
            streams: vec![StreamAppend {
                stream_id: stream.into(),
                expected_version: expected,
                tags: vec!["customer-1".into()],
                events: vec![NewEvent {
                    event_type: "order-placed".into(),
                    payload: "{}".into(),
                }],
                state: None,
            }],
            timers: Vec::new(),
        };
        store.append(&tag("order-b", 0)).unwrap();
        store.append(&tag("order-a", 0)).unwrap();
        store.append(&tag("order-b", 1)).unwrap();
        assert_eq!(
            store.find_streams("customer-1").unwrap(),
            ["order-b", "order-a"]
        );
        assert!(store.find_streams("customer-2").unwrap().is_empty());
    }

    #[test]
    fn an_order_runs_its_whole_lifecycle_over_the_memory_ports() {
        let ports = MemoryPorts::new();
        let app = ports.app();
        let order_id = "0b5e2f1c-6a61-4f7e-9c43-7f0d8f2a9c11";
        let cmd = PlaceOrder::validate(
            order_id,
            "5b0c3c8e-2f86-4a8e-8d6f-1b2a3c4d5e6f",
            vec![OrderItemInput {
                item_id: "7d9f3a10-1111-4a2b-9c3d-4e5f6a7b8c9d".into(),
                product_id: "8e0a4b21-2222-4b3c-8d4e-5f6a7b8c9d0e".into(),
                sku: "SKU-1".into(),
                product_name: "Product".into(),
                quantity: 2,
                unit_price_amount: 1_999,
                unit_price_currency: "USD".into(),
            }],
            sample_address(),
            sample_address(),
            PaymentMethod::CreditCard,
        )
        .unwrap();
        app.place_order(cmd).unwrap();
        assert!(
            ports.store.timer(order_id).is_some(),
            "the saga is scheduled"
        );
        let shipped = app.advance_saga(order_id).unwrap();
        assert_eq!(shipped.status, OrderStatus::Shipped);
        assert_eq!(ports.store.timer(order_id), None, "the saga finished");
        let shipment = shipped.shipping.unwrap().shipment_id;
        let now = ports.clock.now();
        app.on_tracking(&shipment, ShipmentStatus::PickedUp, None, now)
            .unwrap();
        app.on_delivered(&shipment, now, Some("Recipient".into()))
            .unwrap();
        assert_eq!(
            app.get_order(order_id).unwrap().status,
            OrderStatus::Delivered
        );
        // The same charge asked again under the same key is the first one.
        let money = Money::parse("amount", 100, "USD").unwrap();
        let charge = ChargeRequest {
            order_id,
            amount: &money,
            method: PaymentMethod::CreditCard,
            customer_id: "c",
        };
        let first = ports.payment.process_payment("k", &charge).unwrap();
        let again = ports.payment.process_payment("k", &charge).unwrap();
        assert_eq!(first, again);
    }
}
