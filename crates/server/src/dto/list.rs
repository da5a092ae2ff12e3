//! `GET /orders` and `/customers/{id}/orders`: order summaries from the
//! read model, a page at a time.

use super::*;
use order_runtime::store::{OrderSummary as StoredSummary, SagaState as StoredSagaState};

/// Where an order's fulfilment saga stands, as the order list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SagaState {
    /// Placed, not finished, nothing stuck.
    Running,
    /// Every step succeeded.
    Completed,
    /// A step failed or the order was cancelled; every compensation ran.
    Compensated,
    /// Compensation is incomplete (ended so, or a compensation is stalled):
    /// the sagas an operator looks after.
    CompensationFailed,
}

impl From<StoredSagaState> for SagaState {
    fn from(state: StoredSagaState) -> Self {
        match state {
            StoredSagaState::Running => SagaState::Running,
            StoredSagaState::Completed => SagaState::Completed,
            StoredSagaState::Compensated => SagaState::Compensated,
            StoredSagaState::CompensationFailed => SagaState::CompensationFailed,
        }
    }
}

/// An order in a list: what the read model keeps of it (read it whole with
/// `GET /orders/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderSummary {
    /// The order id (UUID).
    pub order_id: String,
    /// The customer (UUID).
    pub customer_id: String,
    /// The order's status, as `GET /orders/{id}` reports it.
    #[schema(value_type = OrderStatus)]
    pub status: String,
    /// The saga's state; null for a draft (no saga yet).
    pub saga: Option<SagaState>,
    /// The order's total (a draft's: the sum of its lines).
    pub total: Money,
    /// When the draft was created (for an order placed directly: its placement).
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: u64,
    /// When it was placed; null for a draft.
    #[serde(with = "time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub placed_at: Option<u64>,
    /// When its last event was recorded.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: u64,
    /// The number of events in its stream.
    pub version: u64,
}

impl From<StoredSummary> for OrderSummary {
    fn from(s: StoredSummary) -> Self {
        Self {
            order_id: s.order_id,
            customer_id: s.customer_id,
            status: s.status,
            saga: s.saga.map(Into::into),
            total: Money {
                amount: s.total,
                currency: s.currency,
            },
            created_at: s.created_at,
            placed_at: s.placed_at,
            updated_at: s.updated_at,
            version: s.version,
        }
    }
}

/// A page of orders, newest first (by placement; a draft by its creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderPage {
    /// At most `limit` orders.
    pub items: Vec<OrderSummary>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}
