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

impl From<AllocateError> for wit::AllocationError {
    fn from(error: AllocateError) -> Self {
        match error {
            AllocateError::OutOfStock(failed) => Self::OutOfStock(failed),
            AllocateError::Failed(error) => Self::Failed(error.into()),
        }
    }
}

keyed_import! {
    InventoryView serves "inventory-service" ("the inventory service"):
    /// Stock levels. Every call carries an idempotency key: the first completed
    /// outcome for a key is the outcome of every later call with it.
    pub trait InventoryService {
        /// Reserves every requested item for the order, or nothing.
        fn allocate_stock(AllocateStockRequest) -> StockAllocated,
            AllocateError as wit::AllocationError;

        /// Gives back what the order holds; succeeds and changes nothing if it
        /// holds nothing.
        fn release_stock(ReleaseStockRequest) -> StockReleased;

        /// Puts returned items back into available stock.
        fn restock_items(RestockItemsRequest) -> StockRestocked;
    }
}
