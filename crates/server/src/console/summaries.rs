//! The one function the console's lists read orders through:
//! [`orders_page`], a page of orders under a filter, with the pagination
//! shape of the API (`limit`, an opaque `cursor`, the next cursor or none).
//!
//! The page comes from the event store's order read model
//! ([`EventStore::list_orders`], the index `GET /orders` uses): the filter
//! and the cursor select at most `limit` summaries, newest first, and only
//! those orders are then read through the component for their lines,
//! money and addresses. A page costs `limit` order reads however large the
//! store is.

use crate::dto;
use crate::page;
use order_runtime::service::{OrderService, ServiceError};
use order_runtime::store::{EventStore, OrderCursor, OrderQuery, SagaState};

/// The largest page.
pub const MAX_LIMIT: usize = 200;
/// The page size when none is asked for.
pub const DEFAULT_LIMIT: usize = 50;
/// What a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Only this customer's orders.
    pub customer_id: Option<String>,
    /// Only these statuses (kebab-case, e.g. `confirmed`); all when empty.
    pub statuses: Vec<String>,
    /// Only orders whose saga is in one of these states; all when empty.
    pub sagas: Vec<SagaState>,
    /// Only orders placed on this UTC day, `YYYY-MM-DD` (drafts, never
    /// placed, are left out).
    pub day: Option<String>,
}

impl OrderFilter {
    /// The read model's query for this filter: `(placed_from, placed_to)`
    /// of the day, or an error naming a day that is not `YYYY-MM-DD`.
    fn query(&self, after: Option<OrderCursor>, limit: usize) -> Result<OrderQuery, ServiceError> {
        let (placed_from, placed_to) = match &self.day {
            None => (None, None),
            Some(day) => {
                let from =
                    dto::time::parse(&format!("{}T00:00:00Z", day.trim())).ok_or_else(|| {
                        ServiceError::Runtime(anyhow::anyhow!(
                            "the day `{day}` is not a date such as 2026-12-01"
                        ))
                    })?;
                (Some(from), Some(from + 86_400_000))
            }
        };
        Ok(OrderQuery {
            customer_id: self.customer_id.clone(),
            statuses: self.statuses.clone(),
            sagas: self.sagas.clone(),
            placed_from,
            placed_to,
            updated_since: None,
            after,
            limit,
        })
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
    /// How many order summaries the read model gave for the page.
    pub scanned: usize,
}

/// A page of the orders that match `filter`, after `cursor` (from an
/// earlier page's `next_cursor`), at most `limit` (1..=200).
pub fn orders_page(
    service: &OrderService,
    store: &dyn EventStore,
    filter: &OrderFilter,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page<dto::Order>, ServiceError> {
    let limit = limit.clamp(1, MAX_LIMIT);
    let after = cursor
        .map(|c| {
            page::parse_key_cursor(c).map_err(|_| {
                ServiceError::Runtime(anyhow::anyhow!(
                    "the page cursor `{c}` is not one this console gave"
                ))
            })
        })
        .transpose()?;
    // One more than a page, to know whether a next page exists.
    let mut found = store
        .list_orders(&filter.query(after, limit + 1)?)
        .map_err(|e| ServiceError::Runtime(anyhow::anyhow!(e)))?;
    let scanned = found.len();
    let next_cursor = if found.len() > limit {
        found.truncate(limit);
        found.last().map(|last| page::key_cursor(&last.cursor()))
    } else {
        None
    };
    let mut items = Vec::with_capacity(found.len());
    for summary in found {
        items.push(dto::Order::from(service.get_order(&summary.order_id)?));
    }
    Ok(Page {
        items,
        next_cursor,
        scanned,
    })
}
