//! The one function the console's lists read orders through:
//! [`orders_page`], a page of order summaries under a filter, with the
//! pagination shape of the API (`limit`, an opaque `cursor`, the next
//! cursor or none).
//!
//! Until an indexed read model of the orders exists in the event store,
//! the page is made from what the store has: a customer's orders through
//! their tag, or otherwise a scan of the order streams in id order
//! ([`EventStore::stream_ids`]), reading each order through the component
//! and keeping those that match, at most [`SCAN_BUDGET`] orders per page so
//! that a page of a large store stays quick (the next cursor continues the
//! scan where it stopped). Switching to a read model is replacing the body
//! of this function.

use crate::http::dto;
use crate::service::{OrderService, ServiceError};
use crate::store::EventStore;
use crate::text;

/// The largest page.
pub const MAX_LIMIT: usize = 200;
/// The page size when none is asked for.
pub const DEFAULT_LIMIT: usize = 50;
/// The most orders one page reads while scanning the store.
pub const SCAN_BUDGET: usize = 1000;

/// What a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Only this customer's orders.
    pub customer_id: Option<String>,
    /// Only these statuses (kebab-case, e.g. `confirmed`); all when empty.
    pub statuses: Vec<String>,
    /// Only orders placed (or created, for drafts) on this UTC day, `YYYY-MM-DD`.
    pub day: Option<String>,
}

impl OrderFilter {
    fn matches(&self, order: &dto::Order) -> bool {
        let status = text::kebab(&order.status);
        if !self.statuses.is_empty() && !self.statuses.contains(&status) {
            return false;
        }
        if let Some(day) = &self.day {
            let at = order.placed_at.unwrap_or(order.created_at);
            if text::date(at) != *day {
                return false;
            }
        }
        true
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
    /// How many orders were read to make the page.
    pub scanned: usize,
}

/// The stream of an order.
const ORDER_PREFIX: &str = "order-";

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
    if let Some(customer) = &filter.customer_id {
        // A customer has few orders: read them all, page in placement order.
        let orders: Vec<dto::Order> = service
            .orders_of_customer(customer)?
            .into_iter()
            .map(dto::Order::from)
            .collect();
        let start = cursor
            .and_then(|c| orders.iter().position(|o| o.order_id == c))
            .map_or(0, |i| i + 1);
        let mut items = Vec::new();
        let mut next_cursor = None;
        for order in &orders[start.min(orders.len())..] {
            if !filter.matches(order) {
                continue;
            }
            if items.len() == limit {
                next_cursor = items.last().map(|o: &dto::Order| o.order_id.clone());
                break;
            }
            items.push(order.clone());
        }
        return Ok(Page {
            items,
            next_cursor,
            scanned: orders.len(),
        });
    }
    let mut after = cursor.map(|c| format!("{ORDER_PREFIX}{c}"));
    let mut items = Vec::new();
    let mut scanned = 0;
    loop {
        let batch = (SCAN_BUDGET - scanned).min(200);
        let ids = store
            .stream_ids(ORDER_PREFIX, after.as_deref(), batch)
            .map_err(|e| ServiceError::Runtime(anyhow::anyhow!(e)))?;
        if ids.is_empty() {
            return Ok(Page {
                items,
                next_cursor: None,
                scanned,
            });
        }
        for stream in &ids {
            let order_id = &stream[ORDER_PREFIX.len()..];
            scanned += 1;
            after = Some(stream.clone());
            match service.get_order(order_id) {
                Ok(order) => {
                    let order = dto::Order::from(order);
                    if filter.matches(&order) {
                        items.push(order);
                    }
                }
                // A stream the component does not read as an order.
                Err(ServiceError::Domain(_)) => {}
                Err(other) => return Err(other),
            }
            if items.len() == limit || scanned == SCAN_BUDGET {
                return Ok(Page {
                    items,
                    next_cursor: Some(order_id.to_owned()),
                    scanned,
                });
            }
        }
        if ids.len() < batch {
            return Ok(Page {
                items,
                next_cursor: None,
                scanned,
            });
        }
    }
}
