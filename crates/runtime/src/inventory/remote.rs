//! The inventory service over HTTP: `POST {base}/allocations`,
//! `POST {base}/releases` and `POST {base}/restocks`, each with the
//! component's idempotency key in an `Idempotency-Key` header. An allocation
//! the stock cannot cover is a `409 Conflict` whose body lists what is
//! missing. The contract is `docs/backends.md`.

use serde::Deserialize;

use super::{
    AllocateError, AllocateStockRequest, InventoryService, ReleaseStockRequest,
    RestockItemsRequest, StockAllocated, StockAllocationFailed, StockReleased, StockRestocked,
};
use crate::external::{Context, ExternalError, Operation};
use crate::remote::{
    HttpBackendConfig, HttpClient, HttpConfigError, decode_derived, encode_derived, from_json,
};

/// The [`InventoryService`] of a server that speaks the contract.
pub struct HttpInventoryService {
    client: HttpClient,
}

impl HttpInventoryService {
    /// A service at `config.base_url`; nothing is contacted until the first call.
    pub fn new(config: &HttpBackendConfig) -> Result<Self, HttpConfigError> {
        Ok(Self {
            client: HttpClient::new(Context::Inventory, config)?,
        })
    }
}

impl InventoryService for HttpInventoryService {
    fn allocate_stock(
        &self,
        key: &str,
        request: &AllocateStockRequest,
    ) -> Result<StockAllocated, AllocateError> {
        let operation = Operation::AllocateStock;
        let answer = self
            .client
            .post(operation, "/allocations", key, encode_derived(request))?;
        if answer.is_success() {
            return Ok(self.client.decode(operation, &answer, decode_derived())?);
        }
        // 409 is also how a server says "this key is still being
        // processed"; only a body that lists items means out of stock.
        if answer.status == 409 && lists_unavailable_items(&answer.body) {
            let failed: StockAllocationFailed =
                self.client.decode(operation, &answer, decode_derived())?;
            if failed.unavailable_items.is_empty() {
                return Err(ExternalError::permanent(
                    "the inventory service answered allocate-stock with an unexpected body: \
                     out of stock, but no unavailable item listed",
                )
                .into());
            }
            return Err(AllocateError::OutOfStock(failed));
        }
        Err(self.client.refusal(operation, &answer).into())
    }

    fn release_stock(
        &self,
        key: &str,
        request: &ReleaseStockRequest,
    ) -> Result<StockReleased, ExternalError> {
        self.client.call(
            Operation::ReleaseStock,
            "/releases",
            key,
            encode_derived(request),
            decode_derived(),
        )
    }

    fn restock_items(
        &self,
        key: &str,
        request: &RestockItemsRequest,
    ) -> Result<StockRestocked, ExternalError> {
        self.client.call(
            Operation::RestockItems,
            "/restocks",
            key,
            encode_derived(request),
            decode_derived(),
        )
    }
}

/// True when `body` is a JSON object with an `unavailable_items` member.
fn lists_unavailable_items(body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        unavailable_items: Option<serde::de::IgnoredAny>,
    }
    from_json(body, |d| Probe::deserialize(d)).is_ok_and(|probe| probe.unavailable_items.is_some())
}
