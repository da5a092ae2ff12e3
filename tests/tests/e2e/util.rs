//! Shared set-up of the end-to-end tests: a host running the real component
//! (embedded at build time, see tests/README.md) with simulated backends, a
//! manual clock, and builders for valid commands.

use std::sync::Arc;
use std::time::Duration;

use order_host::bindings::orders::{OrderView, PlaceOrderCommand};
use order_host::bindings::types::{Address, CommandError, Money, OrderItemInput, PaymentMethod};
use order_host::engine::{CompileCache, RuntimeConfig};
use order_host::simulation::{CallEntry, FaultPlan};
use order_host::{
    Clock as _, Host, HostOptions, ManualClock, ServiceError, StoreChoice, StorePolicy,
};

/// 2026-11-24T12:00:00Z, a fixed start so dates in assertions are stable.
pub const START_MS: u64 = 1_795_521_600_000;

pub struct TestHost {
    pub host: Host,
    pub clock: Arc<ManualClock>,
}

pub fn runtime_config() -> RuntimeConfig {
    RuntimeConfig {
        max_instances: 32,
        cache: CompileCache::Default,
        ..RuntimeConfig::default()
    }
}

pub fn start_with(store: StoreChoice, policy: StorePolicy, faults: FaultPlan) -> TestHost {
    let clock = Arc::new(ManualClock::new(START_MS));
    let host = Host::start(HostOptions {
        store,
        seed: 42,
        faults,
        policy,
        clock: clock.clone(),
        runtime: runtime_config(),
        ..HostOptions::in_memory()
    })
    .expect("the host starts with the embedded component (run `make build` first)");
    TestHost { host, clock }
}

/// A host on an in-memory store with fast retries.
pub fn start() -> TestHost {
    start_with(StoreChoice::Memory, fast_policy(), FaultPlan::default())
}

/// The default policy with short retry delays, so tests move the manual
/// clock by little.
pub fn fast_policy() -> StorePolicy {
    let mut p = StorePolicy::default();
    p.retry.base_delay_ms = 100;
    p.retry.max_delay_ms = 1_000;
    p.retry.max_attempts = 3;
    p.notification_retry.base_delay_ms = 100;
    p.notification_retry.max_delay_ms = 1_000;
    p.notification_retry.max_attempts = 3;
    p.call_lease_ms = 1_000;
    p
}

pub fn uuid(name: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()).to_string()
}

pub fn usd(amount: u64) -> Money {
    Money {
        amount,
        currency: "USD".to_string(),
    }
}

pub fn address() -> Address {
    Address {
        street1: "1 Market Street".to_string(),
        street2: None,
        city: "San Francisco".to_string(),
        state_province: "CA".to_string(),
        postal_code: "94105".to_string(),
        country: "US".to_string(),
    }
}

pub fn line(name: &str, quantity: u32, cents: u64) -> OrderItemInput {
    OrderItemInput {
        item_id: uuid(&format!("item:{name}")),
        product_id: uuid(&format!("product:{name}")),
        sku: format!("SKU-{name}"),
        product_name: name.to_string(),
        quantity,
        unit_price: usd(cents),
    }
}

/// A valid order of two lines (2 x 25.00 + 1 x 10.00 = 60.00 USD).
pub fn order(name: &str, customer: &str) -> PlaceOrderCommand {
    PlaceOrderCommand {
        order_id: uuid(&format!("order:{name}")),
        customer_id: uuid(&format!("customer:{customer}")),
        items: vec![line("mug", 2, 2_500), line("tea", 1, 1_000)],
        shipping_address: address(),
        billing_address: address(),
        payment_method: PaymentMethod::CreditCard,
    }
}

impl TestHost {
    pub fn place(&self, cmd: &PlaceOrderCommand) -> Result<OrderView, ServiceError> {
        self.host.service.place_order(cmd)
    }

    pub fn get_order(&self, order_id: &str) -> OrderView {
        let id = order_id.to_string();
        self.host.service.get_order(&id).expect("the order exists")
    }

    pub fn history_len(&self, order_id: &str) -> usize {
        let id = order_id.to_string();
        self.host
            .service
            .order_history(&id)
            .map(|h| h.len())
            .unwrap_or(0)
    }

    /// The simulated carrier picks the shipment up and the host hears of it.
    pub fn pick_up(&self, shipment_id: &str) {
        let picked = self.host.sim.carrier.pick_up(shipment_id).expect("pick up");
        self.host
            .service
            .on_shipment_picked_up(&picked)
            .expect("picked up");
    }

    /// The simulated carrier delivers the shipment, signed by `signer`, and
    /// the host hears of it.
    pub fn deliver(&self, shipment_id: &str, signer: &str) {
        let delivered = self
            .host
            .sim
            .carrier
            .deliver(shipment_id, Some(signer.to_string()))
            .expect("deliver");
        self.host
            .service
            .on_shipment_delivered_by_carrier(&delivered)
            .expect("delivered");
    }

    /// Runs every due saga, moving the clock to each retry time, until none is left.
    pub fn drive(&self) {
        for _ in 0..200 {
            self.host.driver.run_due().expect("driver pass");
            let timers = self.host.store.all_timers().expect("timers");
            let Some(next) = timers.iter().map(|t| t.due_at).min() else {
                return;
            };
            if next > self.clock.now_ms() {
                self.clock.set(next);
            }
        }
        panic!("sagas still scheduled after 200 passes");
    }

    /// Every external call made so far, as `operation key` lines.
    pub fn calls(&self) -> Vec<String> {
        self.host
            .sim
            .log()
            .entries()
            .iter()
            .map(|e: &CallEntry| format!("{} {}", e.operation, e.key))
            .collect()
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }
}

/// The command error of a failed call; panics on success or a host failure.
pub fn command_error<T: std::fmt::Debug>(result: Result<T, ServiceError>) -> CommandError {
    match result {
        Err(ServiceError::Domain(e)) => e,
        other => panic!("expected a command error, got {other:?}"),
    }
}
