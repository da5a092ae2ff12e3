//! [`Simulation`]: the four simulated contexts on one [`SimControl`], in
//! memory or durable (rebuilt from the journal on open). The simulated
//! backends live beside their traits (`crate::<context>::simulated`); the
//! machinery they share is [`crate::simulation`]. This is where the two
//! meet, so neither imports the other.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;

use crate::carrier::simulated::SimulatedCarrier;
use crate::clock::Clock;
use crate::customer::simulated::SimulatedCustomer;
use crate::inventory::simulated::SimulatedInventory;
use crate::payment::simulated::SimulatedPayment;
use crate::policy::StorePolicy;
use crate::simulation::journal::Entry;
use crate::simulation::{CallLog, Replay, SimControl};
use crate::state::Backends;
use crate::store::EventStore;

pub struct Simulation {
    /// The shared seed, clock, call log and faults.
    pub control: SimControl,
    /// The payment gateway.
    pub payment: Arc<SimulatedPayment>,
    /// The inventory service.
    pub inventory: Arc<SimulatedInventory>,
    /// The shipping carrier.
    pub carrier: Arc<SimulatedCarrier>,
    /// Customer service.
    pub customer: Arc<SimulatedCustomer>,
}

impl Simulation {
    /// Four fault-free simulated contexts seeded with `seed`; every product
    /// starts with [`SimulatedInventory::DEFAULT_STOCK`] units. Everything
    /// lives in memory.
    pub fn new(seed: u64, clock: Arc<dyn Clock>) -> Self {
        Self::with_control(SimControl::new(seed, clock))
    }

    /// Like [`Simulation::new`], but durable: every call that completes
    /// (and every change made by hand: stock levels, card limits, parcels
    /// picked up and delivered) is appended to the SQLite file at `path`
    /// before its answer is returned, and opening an existing file replays
    /// it, so the simulation answers a repeated idempotency key with its
    /// first outcome and holds the same charges, refunds, stock,
    /// allocations, shipments, messages and call log as before the
    /// restart. Faults and scripts are settings of the process, not state:
    /// they are not kept.
    pub fn open_durable(
        seed: u64,
        clock: Arc<dyn Clock>,
        path: impl AsRef<Path>,
    ) -> anyhow::Result<Self> {
        let path = path.as_ref();
        let (control, entries) = SimControl::open_durable(seed, clock, path)?;
        let sim = Self::with_control(control);
        for entry in &entries {
            let backend: &dyn Replay = match entry.context.as_str() {
                "payment" => &*sim.payment,
                "inventory" => &*sim.inventory,
                "carrier" => &*sim.carrier,
                "customer" => &*sim.customer,
                context => Err(anyhow::anyhow!("unknown action {context}.{}", entry.action))
                    .with_context(|| replaying(entry, path))?,
            };
            sim.control
                .replay(entry, backend)
                .with_context(|| replaying(entry, path))?;
        }
        Ok(sim)
    }

    fn with_control(control: SimControl) -> Self {
        Self {
            payment: Arc::new(SimulatedPayment::new(control.clone())),
            inventory: Arc::new(SimulatedInventory::new(control.clone())),
            carrier: Arc::new(SimulatedCarrier::new(control.clone())),
            customer: Arc::new(SimulatedCustomer::new(control.clone())),
            control,
        }
    }

    /// The runtime's backends with every context served by this
    /// simulation, `store` and `policy`, telling time by the simulation's
    /// clock; [`crate::wiring::backends`] swaps in the contexts configured
    /// http.
    pub fn backends(&self, store: Arc<dyn EventStore>, policy: StorePolicy) -> Backends {
        Backends {
            store,
            payment: self.payment.clone(),
            inventory: self.inventory.clone(),
            carrier: self.carrier.clone(),
            customer: self.customer.clone(),
            policy,
            clock: self.control.clock().clone(),
        }
    }

    /// The journal file, when the simulation is durable.
    pub fn journal_path(&self) -> Option<&Path> {
        self.control.journal_path()
    }

    /// The log of every call to the four contexts.
    pub fn log(&self) -> &CallLog {
        self.control.log()
    }
}

/// What a failed replay says: which entry of which file.
fn replaying(entry: &Entry, path: &Path) -> String {
    format!(
        "replaying entry {} ({}.{} [{}]) of the simulation state {}",
        entry.seq,
        entry.context,
        entry.action,
        entry.key,
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::oms::order_management::types::CarrierCode;
    use crate::carrier::CreateShipmentRequest;
    use crate::carrier::ShippingCarrier as _;
    use crate::carrier::simulated::CarrierSimError;
    use crate::carrier::simulated::ShipmentState;
    use crate::clock::ManualClock;
    use crate::customer::CustomerService as _;
    use crate::customer::SendOrderCancellationRequest;
    use crate::external::{ExternalError, Operation};
    use crate::inventory::AllocateError;
    use crate::inventory::InventoryService as _;
    use crate::payment::PaymentGateway as _;
    use crate::payment::RefundPaymentRequest;
    use crate::simulation::fixtures::{self, allocate, charge, usd};
    use crate::simulation::{FaultPlan, Scripted};

    fn book_dhl(order: &str) -> CreateShipmentRequest {
        fixtures::book(order, CarrierCode::Dhl, None)
    }

    /// Everything a simulation holds that a restart must not forget.
    fn state(sim: &Simulation) -> String {
        format!(
            "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
            sim.payment.charges(),
            sim.payment.refunds(),
            (
                sim.inventory.available("p1"),
                sim.inventory.available("p2"),
                sim.inventory.available("p3"),
                sim.inventory.default_stock()
            ),
            sim.inventory.holdings(),
            sim.carrier.shipments(),
            sim.customer.messages(),
            sim.log().entries(),
        )
    }

    #[test]
    fn a_reopened_simulation_answers_every_key_with_its_first_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim.db");
        let clock = Arc::new(ManualClock::new(1_000));
        let first = Simulation::open_durable(5, clock.clone(), &path).unwrap();
        assert_eq!(first.journal_path(), Some(path.as_path()));
        first.inventory.set_default_stock(10);
        first.inventory.set_stock("p2", 3);
        first
            .control
            .set_fault_plan("payment=transient:0.5".parse().unwrap());
        // Transient failures first (drawn), then the charge.
        let paid = loop {
            match first
                .payment
                .process_payment("order-1/pay", &charge("order-1", 900))
            {
                Ok(paid) => break paid,
                Err(e) => assert!(e.is_transient()),
            }
        };
        first.control.set_fault_plan(FaultPlan::new());
        first
            .control
            .script(Operation::ProcessPayment, [Scripted::Permanent]);
        let declined = first
            .payment
            .process_payment("order-2/pay", &charge("order-2", 500));
        assert!(matches!(declined, Err(ExternalError::Permanent(_))));
        let refund = RefundPaymentRequest {
            transaction_id: paid.transaction_id.clone(),
            refund_amount: usd(400),
            reason: "partly returned".to_owned(),
        };
        first
            .payment
            .refund_payment("order-1/refund", &refund)
            .unwrap();
        first
            .inventory
            .allocate_stock(
                "order-1/alloc",
                &allocate("order-1", &[("p1", 4), ("p2", 2)]),
            )
            .unwrap();
        let short = first
            .inventory
            .allocate_stock("order-3/alloc", &allocate("order-3", &[("p2", 5)]));
        assert!(matches!(short, Err(AllocateError::OutOfStock(_))));
        let booked = first
            .carrier
            .create_shipment("order-1/ship", &book_dhl("order-1"))
            .unwrap();
        clock.advance(std::time::Duration::from_secs(60));
        let picked = first.carrier.pick_up(&booked.shipment_id).unwrap();
        let cancellation = SendOrderCancellationRequest {
            order_id: "order-2".to_owned(),
            customer_id: "customer-1".to_owned(),
            reason: "payment declined".to_owned(),
        };
        first
            .customer
            .send_order_cancellation("order-2/notice", &cancellation)
            .unwrap();
        // A replayed key is journaled too (it is in the call log).
        first
            .payment
            .process_payment("order-1/pay", &charge("order-1", 900))
            .unwrap();
        let before = state(&first);
        drop(first);

        clock.advance(std::time::Duration::from_secs(3_600));
        let second = Simulation::open_durable(5, clock.clone(), &path).unwrap();
        assert_eq!(state(&second), before);
        assert_eq!(second.inventory.available("p1"), 6);
        assert_eq!(second.inventory.available("p2"), 1);
        assert_eq!(second.inventory.available("p3"), 10);
        assert_eq!(
            second.carrier.shipment(&booked.shipment_id).unwrap().state,
            ShipmentState::PickedUp
        );
        assert_eq!(
            second
                .carrier
                .shipment(&booked.shipment_id)
                .unwrap()
                .picked_up_event(),
            Some(picked)
        );

        // Every key answers as the first time, with no new effect, even
        // though the time moved on and the script is gone.
        assert_eq!(
            second
                .payment
                .process_payment("order-1/pay", &charge("order-1", 900)),
            Ok(paid)
        );
        assert_eq!(
            second
                .payment
                .process_payment("order-2/pay", &charge("order-2", 500)),
            declined
        );
        assert_eq!(
            second
                .inventory
                .allocate_stock("order-3/alloc", &allocate("order-3", &[("p2", 5)])),
            short
        );
        assert_eq!(
            second
                .carrier
                .create_shipment("order-1/ship", &book_dhl("order-1")),
            Ok(booked.clone())
        );
        assert!(matches!(
            second.carrier.pick_up(&booked.shipment_id),
            Err(CarrierSimError::WrongState { .. })
        ));
        assert_eq!(second.payment.charges().len(), 1);
        assert_eq!(second.payment.total_refunded(), 400);
        assert_eq!(second.customer.messages().len(), 1);
        assert_eq!(second.inventory.total_held(), 6);

        // Work after the restart is journaled as well.
        second
            .inventory
            .release_stock(
                "order-1/release",
                &crate::inventory::ReleaseStockRequest {
                    order_id: "order-1".to_owned(),
                    stock_items: Vec::new(),
                },
            )
            .unwrap();
        let after = state(&second);
        drop(second);
        let third = Simulation::open_durable(5, clock, &path).unwrap();
        assert_eq!(state(&third), after);
        assert_eq!(third.inventory.available("p1"), 10);
        assert_eq!(third.inventory.total_held(), 0);
    }

    #[test]
    fn a_lost_answer_is_journaled_and_a_reopened_simulation_answers_with_its_effect() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim.db");
        let clock = Arc::new(ManualClock::new(1_000));
        let first = Simulation::open_durable(5, clock.clone(), &path).unwrap();
        first
            .control
            .script(Operation::ProcessPayment, [Scripted::Lost]);
        let lost = first
            .payment
            .process_payment("order-1/pay", &charge("order-1", 900));
        assert!(matches!(lost, Err(ExternalError::InDoubt(_))), "{lost:?}");
        assert_eq!(first.payment.charges().len(), 1, "the charge was made");
        let before = state(&first);
        drop(first);
        let second = Simulation::open_durable(5, clock, &path).unwrap();
        assert_eq!(state(&second), before);
        let learnt = second
            .payment
            .process_payment("order-1/pay", &charge("order-1", 900))
            .unwrap();
        assert_eq!(learnt.payment_amount.amount, 900);
        assert_eq!(second.payment.charges().len(), 1, "not charged again");
    }

    #[test]
    fn a_second_open_of_one_state_fails_at_once_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim.db");
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(0));
        let first = Simulation::open_durable(1, clock.clone(), &path).unwrap();
        let error = Simulation::open_durable(1, clock.clone(), &path)
            .err()
            .expect("refused");
        let message = format!("{error:#}");
        assert!(message.contains("is in use"), "{message}");
        assert!(
            message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
        drop(first);
        Simulation::open_durable(1, clock, &path).unwrap();
    }

    #[test]
    fn an_in_memory_simulation_has_no_journal() {
        let sim = Simulation::new(1, Arc::new(ManualClock::new(0)));
        assert_eq!(sim.journal_path(), None);
    }

    #[test]
    fn an_event_store_is_not_taken_for_a_simulation_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("orders.db");
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(0));
        drop(crate::store::SqliteStore::open(&path, clock.clone()).unwrap());
        let error = Simulation::open_durable(1, clock, &path)
            .err()
            .expect("refused");
        assert!(format!("{error:#}").contains("event store"), "{error:#}");
    }

    #[test]
    fn a_journal_that_does_not_replay_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim.db");
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(0));
        let sim = Simulation::open_durable(1, clock.clone(), &path).unwrap();
        sim.payment
            .process_payment("k", &charge("order-1", 100))
            .unwrap();
        drop(sim);
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute("UPDATE sim_journal SET result = 'tampered'", [])
            .unwrap();
        drop(conn);
        let error = Simulation::open_durable(1, clock, &path)
            .err()
            .expect("refused");
        assert!(
            format!("{error:#}").contains("does not replay")
                || format!("{error:#}").contains("instead of"),
            "{error:#}"
        );
    }
}
