//! The inventory service behind the `inventory-service` import.

pub mod remote;
pub mod simulated;

use crate::bindings::oms::order_management::inventory_service as wit;
use crate::bindings::oms::order_management::types::ExternalError as WitExternalError;
use crate::external::ExternalError;

pub use wit::{
    AllocateStockRequest, ReleaseStockRequest, RestockItemsRequest, StockAllocated,
    StockAllocationFailed, StockItem, StockReleased, StockRestocked, UnavailableItem,
};

/// Why an allocation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocateError {
    /// Not enough stock; nothing was reserved. A permanent failure.
    #[error("out of stock for {} product(s)", .0.unavailable_items.len())]
    OutOfStock(StockAllocationFailed),
    /// Any other failure.
    #[error(transparent)]
    Failed(#[from] ExternalError),
}

/// Stock levels. Every call carries an idempotency key: the first completed
/// outcome for a key is the outcome of every later call with it.
pub trait InventoryService: Send + Sync {
    /// Reserves every requested item for the order, or nothing.
    fn allocate_stock(
        &self,
        key: &str,
        request: &AllocateStockRequest,
    ) -> Result<StockAllocated, AllocateError>;

    /// Gives back what the order holds; succeeds and changes nothing if it
    /// holds nothing.
    fn release_stock(
        &self,
        key: &str,
        request: &ReleaseStockRequest,
    ) -> Result<StockReleased, ExternalError>;

    /// Puts returned items back into available stock.
    fn restock_items(
        &self,
        key: &str,
        request: &RestockItemsRequest,
    ) -> Result<StockRestocked, ExternalError>;
}

impl From<AllocateError> for wit::AllocationError {
    fn from(error: AllocateError) -> Self {
        match error {
            AllocateError::OutOfStock(failed) => Self::OutOfStock(failed),
            AllocateError::Failed(error) => Self::Failed(error.into()),
        }
    }
}

import_view! {
    /// The `inventory-service` import as one store serves it: the inventory service, and nothing
    /// else of the host.
    InventoryView(&dyn InventoryService),
    "inventory-service",
    "the inventory service"
}

impl wit::Host for InventoryView<'_> {
    fn allocate_stock(
        &mut self,
        key: String,
        request: AllocateStockRequest,
    ) -> Result<StockAllocated, wit::AllocationError> {
        Ok(self.0.allocate_stock(&key, &request)?)
    }

    fn release_stock(
        &mut self,
        key: String,
        request: ReleaseStockRequest,
    ) -> Result<StockReleased, WitExternalError> {
        Ok(self.0.release_stock(&key, &request)?)
    }

    fn restock_items(
        &mut self,
        key: String,
        request: RestockItemsRequest,
    ) -> Result<StockRestocked, WitExternalError> {
        Ok(self.0.restock_items(&key, &request)?)
    }
}
