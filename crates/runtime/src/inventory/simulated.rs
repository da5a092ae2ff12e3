//! An inventory service in memory with real stock levels: allocation takes
//! units off the shelf, release and restock put them back.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::{
    AllocateError, AllocateStockRequest, InventoryService, ReleaseStockRequest,
    RestockItemsRequest, StockAllocated, StockAllocationFailed, StockItem, StockReleased,
    StockRestocked, UnavailableItem,
};
use crate::external::{Context, ExternalError, Operation};
use crate::simulation::{
    CallOutcome, Memo, Records, Replay, Replayed, SimBackend, SimControl, SimFailure, request,
};

/// Units that came back with a return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restock {
    /// The return.
    pub return_id: String,
    /// The order the units were sold with.
    pub order_id: String,
    /// The product.
    pub product_id: String,
    /// How many units.
    pub quantity: u32,
}

/// The simulated [`InventoryService`].
pub struct SimulatedInventory {
    core: SimBackend<State>,
}

struct State {
    allocate_outcomes: Memo<Result<StockAllocated, AllocateError>>,
    release_outcomes: Memo<Result<StockReleased, ExternalError>>,
    restock_outcomes: Memo<Result<StockRestocked, ExternalError>>,
    stock: Stock,
}

struct Stock {
    /// Units on the shelf per product; products not listed have `default_level`.
    levels: HashMap<String, u64>,
    default_level: u64,
    /// Units reserved per order and product.
    held: BTreeMap<String, BTreeMap<String, u64>>,
    /// The orders that allocated, oldest first (released ones stay listed
    /// until they come up): past [`Records::CAPACITY`] allocations the
    /// oldest order's holding counts as consumed (shipped long ago) and is
    /// forgotten, so memory stays bounded.
    held_order: VecDeque<String>,
    /// Units of holdings forgotten that way.
    consumed: u64,
    restocks: Records<Restock>,
}

impl SimulatedInventory {
    /// Units on the shelf of a product that was never given a level.
    pub const DEFAULT_STOCK: u64 = 1_000;

    /// A warehouse where every product has [`Self::DEFAULT_STOCK`] units.
    pub fn new(sim: SimControl) -> Self {
        Self {
            core: SimBackend::with_state(
                sim,
                State {
                    allocate_outcomes: Memo::default(),
                    release_outcomes: Memo::default(),
                    restock_outcomes: Memo::default(),
                    stock: Stock {
                        levels: HashMap::new(),
                        default_level: Self::DEFAULT_STOCK,
                        held: BTreeMap::new(),
                        held_order: VecDeque::new(),
                        consumed: 0,
                        restocks: Records::default(),
                    },
                },
            ),
        }
    }

    /// Puts exactly `units` of `product_id` on the shelf.
    pub fn set_stock(&self, product_id: &str, units: u64) {
        let now = self.core.sim.now_ms();
        let mut state = self.core.lock();
        state.stock.levels.insert(product_id.to_owned(), units);
        // A failure is logged and makes every later call fail transiently.
        let _ = self.core.sim.journal_change(
            Context::Inventory,
            "set-stock",
            now,
            &(product_id, units),
            "null",
        );
    }

    /// Sets the shelf level of products that were never given one (and so
    /// were never allocated, released or restocked either).
    pub fn set_default_stock(&self, units: u64) {
        let now = self.core.sim.now_ms();
        let mut state = self.core.lock();
        state.stock.default_level = units;
        let _ = self.core.sim.journal_change(
            Context::Inventory,
            "set-default-stock",
            now,
            &units,
            "null",
        );
    }

    /// The shelf level of products that were never given one: what every
    /// product started with, unless [`Self::set_stock`] said otherwise.
    pub fn default_stock(&self) -> u64 {
        self.core.lock().stock.default_level
    }

    /// What every order holds, by order and product (orders holding
    /// nothing are left out).
    pub fn holdings(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        self.core
            .lock()
            .stock
            .held
            .iter()
            .filter(|(_, products)| products.values().any(|units| *units > 0))
            .map(|(order, products)| (order.clone(), products.clone()))
            .collect()
    }

    /// Units of `product_id` on the shelf (not reserved).
    pub fn available(&self, product_id: &str) -> u64 {
        self.core.lock().stock.available(product_id)
    }

    /// What `order_id` holds, by product.
    pub fn held_by(&self, order_id: &str) -> BTreeMap<String, u64> {
        self.core
            .lock()
            .stock
            .held
            .get(order_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Units reserved by all orders together.
    pub fn total_held(&self) -> u64 {
        self.core
            .lock()
            .stock
            .held
            .values()
            .flat_map(BTreeMap::values)
            .sum()
    }

    /// Every restock, oldest first.
    pub fn restocks(&self) -> Vec<Restock> {
        self.core.lock().stock.restocks.to_vec()
    }

    /// Units of the oldest holdings that were forgotten as consumed (see
    /// the module documentation); 0 until more than 20,000 orders held stock.
    pub fn consumed(&self) -> u64 {
        self.core.lock().stock.consumed
    }
}

impl Stock {
    fn available(&self, product_id: &str) -> u64 {
        self.levels
            .get(product_id)
            .copied()
            .unwrap_or(self.default_level)
    }

    fn allocate(
        &mut self,
        request: &AllocateStockRequest,
        now: u64,
    ) -> Result<StockAllocated, AllocateError> {
        // One product may appear on several lines; check the sum.
        let mut wanted: Vec<(&str, u64)> = Vec::new();
        for item in &request.stock_items {
            match wanted.iter_mut().find(|(p, _)| *p == item.product_id) {
                Some((_, units)) => *units += u64::from(item.quantity),
                None => wanted.push((&item.product_id, u64::from(item.quantity))),
            }
        }
        let unavailable: Vec<UnavailableItem> = wanted
            .iter()
            .filter(|(product, units)| self.available(product) < *units)
            .map(|(product, units)| UnavailableItem {
                product_id: (*product).to_owned(),
                requested_quantity: saturate(*units),
                available_quantity: saturate(self.available(product)),
            })
            .collect();
        if !unavailable.is_empty() {
            return Err(AllocateError::OutOfStock(StockAllocationFailed {
                order_id: request.order_id.clone(),
                unavailable_items: unavailable,
                failed_at: now,
            }));
        }
        // Checked above; a level never goes below zero.
        if let Some((product, units)) = wanted
            .iter()
            .find(|(product, units)| self.available(product).checked_sub(*units).is_none())
        {
            return Err(AllocateError::Failed(ExternalError::permanent(format!(
                "allocating {units} of `{product}` would take the stock below zero"
            ))));
        }
        if !self.held.contains_key(&request.order_id) {
            self.held_order.push_back(request.order_id.clone());
        }
        for (product, units) in wanted {
            let level = self.available(product).saturating_sub(units);
            self.levels.insert(product.to_owned(), level);
            *self
                .held
                .entry(request.order_id.clone())
                .or_default()
                .entry(product.to_owned())
                .or_default() += units;
        }
        while self.held_order.len() > Records::<Restock>::CAPACITY {
            let Some(oldest) = self.held_order.pop_front() else {
                break;
            };
            if let Some(products) = self.held.remove(&oldest) {
                self.consumed = self.consumed.saturating_add(products.values().sum());
            }
        }
        Ok(StockAllocated {
            order_id: request.order_id.clone(),
            all_items_allocated: true,
            allocated_at: now,
        })
    }

    fn release(&mut self, order_id: &str, now: u64) -> StockReleased {
        for (product, units) in self.held.remove(order_id).unwrap_or_default() {
            let level = self.available(&product).saturating_add(units);
            self.levels.insert(product, level);
        }
        StockReleased {
            order_id: order_id.to_owned(),
            released_at: now,
        }
    }

    fn restock(&mut self, request: &RestockItemsRequest, now: u64) -> StockRestocked {
        for StockItem {
            product_id,
            quantity,
            ..
        } in &request.stock_items
        {
            let level = self
                .available(product_id)
                .saturating_add(u64::from(*quantity));
            self.levels.insert(product_id.clone(), level);
            self.restocks.push(Restock {
                return_id: request.return_id.clone(),
                order_id: request.order_id.clone(),
                product_id: product_id.clone(),
                quantity: *quantity,
            });
        }
        StockRestocked {
            return_id: request.return_id.clone(),
            restocked_at: now,
        }
    }
}

fn saturate(units: u64) -> u32 {
    u32::try_from(units).unwrap_or(u32::MAX)
}

impl InventoryService for SimulatedInventory {
    fn allocate_stock(
        &self,
        key: &str,
        request: &AllocateStockRequest,
    ) -> Result<StockAllocated, AllocateError> {
        self.core.call(
            Operation::AllocateStock,
            key,
            request,
            |s| (&mut s.allocate_outcomes, &mut s.stock),
            |stock, now| stock.allocate(request, now),
        )
    }

    fn release_stock(
        &self,
        key: &str,
        request: &ReleaseStockRequest,
    ) -> Result<StockReleased, ExternalError> {
        self.core.call(
            Operation::ReleaseStock,
            key,
            request,
            |s| (&mut s.release_outcomes, &mut s.stock),
            |stock, now| Ok(stock.release(&request.order_id, now)),
        )
    }

    fn restock_items(
        &self,
        key: &str,
        request: &RestockItemsRequest,
    ) -> Result<StockRestocked, ExternalError> {
        self.core.call(
            Operation::RestockItems,
            key,
            request,
            |s| (&mut s.restock_outcomes, &mut s.stock),
            |stock, now| Ok(stock.restock(request, now)),
        )
    }
}

impl SimFailure for AllocateError {
    fn outcome(&self) -> CallOutcome {
        match self {
            AllocateError::OutOfStock(_) => CallOutcome::Permanent,
            AllocateError::Failed(error) => error.outcome(),
        }
    }

    fn injected(error: ExternalError) -> Self {
        AllocateError::Failed(error)
    }
}

impl Replay for SimulatedInventory {
    fn replay(&self, action: &str, key: &str, json: &str) -> anyhow::Result<Replayed> {
        Ok(match action {
            "allocate-stock" => Replayed::call(&self.allocate_stock(key, &request(json)?)),
            "release-stock" => Replayed::call(&self.release_stock(key, &request(json)?)),
            "restock-items" => Replayed::call(&self.restock_items(key, &request(json)?)),
            "set-stock" => {
                let (product_id, units): (String, u64) = request(json)?;
                self.set_stock(&product_id, units);
                Replayed::Change
            }
            "set-default-stock" => {
                self.set_default_stock(request(json)?);
                Replayed::Change
            }
            action => anyhow::bail!("unknown action inventory.{action}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulation::Scripted;
    use crate::simulation::fixtures::{allocate, stock_items};
    use crate::simulation::test_control;

    fn inventory() -> (SimulatedInventory, SimControl) {
        let sim = test_control(9);
        (SimulatedInventory::new(sim.clone()), sim)
    }

    fn release(order: &str) -> ReleaseStockRequest {
        ReleaseStockRequest {
            order_id: order.to_owned(),
            stock_items: Vec::new(),
        }
    }

    #[test]
    fn allocation_takes_stock_once_per_key() {
        let (inventory, _) = inventory();
        inventory.set_stock("p1", 10);
        let request = allocate("order-1", &[("p1", 3), ("p2", 2), ("p1", 1)]);
        let allocated = inventory.allocate_stock("k", &request).unwrap();
        assert!(allocated.all_items_allocated);
        inventory.allocate_stock("k", &request).unwrap();
        assert_eq!(inventory.available("p1"), 6);
        assert_eq!(
            inventory.available("p2"),
            SimulatedInventory::DEFAULT_STOCK - 2
        );
        assert_eq!(
            inventory.held_by("order-1"),
            BTreeMap::from([("p1".to_owned(), 4), ("p2".to_owned(), 2)])
        );
    }

    #[test]
    fn allocation_is_all_or_nothing_and_names_what_is_missing() {
        let (inventory, _) = inventory();
        inventory.set_stock("p1", 2);
        inventory.set_stock("p3", 0);
        let request = allocate("order-1", &[("p1", 2), ("p2", 1), ("p3", 1), ("p1", 1)]);
        let Err(AllocateError::OutOfStock(failed)) = inventory.allocate_stock("k", &request) else {
            panic!("expected out of stock");
        };
        assert_eq!(
            failed.unavailable_items,
            [
                UnavailableItem {
                    product_id: "p1".to_owned(),
                    requested_quantity: 3,
                    available_quantity: 2
                },
                UnavailableItem {
                    product_id: "p3".to_owned(),
                    requested_quantity: 1,
                    available_quantity: 0
                },
            ]
        );
        assert_eq!(inventory.available("p1"), 2);
        assert_eq!(inventory.available("p2"), SimulatedInventory::DEFAULT_STOCK);
        assert_eq!(inventory.total_held(), 0);
    }

    #[test]
    fn release_gives_back_exactly_what_the_order_holds() {
        let (inventory, _) = inventory();
        inventory.set_default_stock(5);
        inventory
            .allocate_stock("a", &allocate("order-1", &[("p1", 4)]))
            .unwrap();
        inventory
            .allocate_stock("b", &allocate("order-2", &[("p1", 1)]))
            .unwrap();
        assert_eq!(inventory.available("p1"), 0);
        inventory.release_stock("r1", &release("order-1")).unwrap();
        assert_eq!(inventory.available("p1"), 4);
        // A second release (new key) and a release of nothing change nothing.
        inventory.release_stock("r2", &release("order-1")).unwrap();
        inventory.release_stock("r3", &release("order-9")).unwrap();
        assert_eq!(inventory.available("p1"), 4);
        assert_eq!(inventory.held_by("order-2").get("p1"), Some(&1));
    }

    #[test]
    fn restock_puts_returned_units_back() {
        let (inventory, _) = inventory();
        inventory.set_stock("p1", 1);
        let request = RestockItemsRequest {
            return_id: "return-1".to_owned(),
            order_id: "order-1".to_owned(),
            stock_items: stock_items(&[("p1", 2)]),
        };
        inventory.restock_items("k", &request).unwrap();
        inventory.restock_items("k", &request).unwrap();
        assert_eq!(inventory.available("p1"), 3);
        assert_eq!(inventory.restocks().len(), 1);
    }

    #[test]
    fn an_injected_fault_is_a_failed_allocation_and_takes_nothing() {
        let (inventory, sim) = inventory();
        sim.script(
            Operation::AllocateStock,
            [Scripted::Transient, Scripted::Permanent],
        );
        let request = allocate("order-1", &[("p1", 1)]);
        assert!(matches!(
            inventory.allocate_stock("k1", &request),
            Err(AllocateError::Failed(ExternalError::Transient(_)))
        ));
        assert!(matches!(
            inventory.allocate_stock("k1", &request),
            Err(AllocateError::Failed(ExternalError::Permanent(_)))
        ));
        assert_eq!(inventory.total_held(), 0);
    }
}
