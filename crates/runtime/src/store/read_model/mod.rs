//! The order read model: one [`OrderSummary`] per order, kept by the event
//! store itself in the same transaction as the order's events, so a listing
//! is never behind or ahead of the streams (decision 0015).
//!
//! [`OrderSummary::evolve`] is the one place that maps stored order events to
//! the summary's status and saga state; every backend folds the events of an
//! append with it, and rebuilds from the streams with [`fold`]. The rules
//! follow the component's domain (`guest/src/domain/order.rs` and the saga
//! report): only the order's own stream (`order-<id>`) changes a summary.

#[cfg(feature = "postgres")]
pub(crate) mod postgres;
pub(crate) mod sqlite;

use serde_json::Value;

use super::{AppendBatch, RecordedEvent, StoreError, StreamAppend};

/// Where a saga stands, as a listing shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SagaState {
    /// Placed, not finished, nothing stuck.
    Running,
    /// Every step succeeded.
    Completed,
    /// A step failed or the order was cancelled; every compensation ran.
    Compensated,
    /// Compensation is incomplete: it ended so, or a compensation is stalled
    /// or refused while the saga still runs (the saga report says
    /// `compensation-failed` then too).
    CompensationFailed,
}

impl SagaState {
    /// Every state, in lifecycle order.
    pub const ALL: [SagaState; 4] = [
        SagaState::Running,
        SagaState::Completed,
        SagaState::Compensated,
        SagaState::CompensationFailed,
    ];

    /// The kebab-case name used in storage and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            SagaState::Running => "running",
            SagaState::Completed => "completed",
            SagaState::Compensated => "compensated",
            SagaState::CompensationFailed => "compensation-failed",
        }
    }

    /// The state named `text`, if any.
    pub fn parse(text: &str) -> Option<SagaState> {
        SagaState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The order statuses of `get-order`, in lifecycle order.
pub const ORDER_STATUSES: [&str; 7] = [
    "draft",
    "pending",
    "confirmed",
    "shipped",
    "delivered",
    "cancelled",
    "returned",
];

/// One order as the read model keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSummary {
    /// The order id.
    pub order_id: String,
    /// The customer who owns it.
    pub customer_id: String,
    /// Its status as `get-order` reports it (`draft`, `pending`, ...).
    pub status: String,
    /// Its saga's state; `None` for a draft (no saga yet).
    pub saga: Option<SagaState>,
    /// The currency of `total`.
    pub currency: String,
    /// The order's total in minor units (a draft's: the sum of its lines).
    pub total: u64,
    /// When the draft was created, or the order placed when it never was a draft.
    pub created_at: u64,
    /// When it was placed; `None` for a draft.
    pub placed_at: Option<u64>,
    /// The `recorded_at` of its last event.
    pub updated_at: u64,
    /// The number of events in its stream.
    pub version: u64,
    /// True once the saga recorded how it ended.
    pub saga_finished: bool,
    /// The saga steps whose compensation is stalled or refused, sorted.
    pub stalled: Vec<String>,
}

impl OrderSummary {
    /// The time a listing sorts by: the placement, or the creation of a draft.
    pub fn listed_at(&self) -> u64 {
        self.placed_at.unwrap_or(self.created_at)
    }

    /// Where this summary sits in a listing, as a [`OrderCursor`].
    pub fn cursor(&self) -> OrderCursor {
        OrderCursor {
            listed_at: self.listed_at(),
            order_id: self.order_id.clone(),
        }
    }

    /// The summary after one more event of the order's stream. `None` when
    /// there is still no order: the stream does not begin with
    /// `draft-created` or `order-placed` (it is not an order's stream, or it
    /// is damaged), so nothing is listed for it.
    pub fn evolve(
        before: Option<OrderSummary>,
        order_id: &str,
        event_type: &str,
        payload: &str,
        version: u64,
        recorded_at: u64,
    ) -> Option<OrderSummary> {
        let body: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
        let mut summary = match before {
            Some(summary) => summary,
            None => match event_type {
                "draft-created" | "order-placed" => OrderSummary {
                    order_id: text(&body, "order_id").unwrap_or(order_id).to_owned(),
                    customer_id: text(&body, "customer_id").unwrap_or_default().to_owned(),
                    status: "draft".to_owned(),
                    saga: None,
                    currency: "USD".to_owned(),
                    total: 0,
                    created_at: number(&body, "created_at")
                        .or_else(|| number(&body, "placed_at"))
                        .unwrap_or(recorded_at),
                    placed_at: None,
                    updated_at: recorded_at,
                    version: 0,
                    saga_finished: false,
                    stalled: Vec::new(),
                },
                _ => return None,
            },
        };
        summary.version = version;
        summary.updated_at = recorded_at;
        match event_type {
            "draft-created" => summary.set_lines(&body),
            "draft-updated" if body.get("items").is_some_and(|i| !i.is_null()) => {
                summary.set_lines(&body)
            }
            "order-placed" => {
                summary.status = "pending".to_owned();
                if let Some((amount, currency)) = body.get("total").and_then(money) {
                    summary.total = amount;
                    summary.currency = currency;
                }
                summary.placed_at = Some(number(&body, "placed_at").unwrap_or(recorded_at));
            }
            "payment-confirmed" => summary.status = "confirmed".to_owned(),
            "order-shipped" => summary.status = "shipped".to_owned(),
            "order-delivered" => summary.status = "delivered".to_owned(),
            "order-cancelled" => summary.status = "cancelled".to_owned(),
            "order-returned" => summary.status = "returned".to_owned(),
            "compensation-completed" | "compensation-skipped" | "compensation-retry-scheduled" => {
                if let Some(step) = text(&body, "step") {
                    summary.stalled.retain(|s| s != step);
                }
            }
            "compensation-stalled" | "compensation-failed" => {
                if let Some(step) = text(&body, "step")
                    && let Err(at) = summary.stalled.binary_search_by(|s| s.as_str().cmp(step))
                {
                    summary.stalled.insert(at, step.to_owned());
                }
            }
            "saga-completed" | "saga-compensated" | "saga-compensation-failed"
                if !summary.saga_finished =>
            {
                summary.saga_finished = true;
                summary.saga = Some(match event_type {
                    "saga-completed" => SagaState::Completed,
                    "saga-compensated" => SagaState::Compensated,
                    _ => SagaState::CompensationFailed,
                });
            }
            _ => {}
        }
        if !summary.saga_finished {
            summary.saga = match summary.placed_at {
                None => None,
                Some(_) if summary.stalled.is_empty() => Some(SagaState::Running),
                Some(_) => Some(SagaState::CompensationFailed),
            };
        }
        Some(summary)
    }

    /// A draft's total: the sum of its lines, in the first line's currency
    /// (USD without lines), as the component computes it.
    fn set_lines(&mut self, body: &Value) {
        let lines = body.get("items").and_then(Value::as_array);
        let lines = lines.map(Vec::as_slice).unwrap_or_default();
        let currency = lines
            .first()
            .and_then(|l| l.get("unit_price"))
            .and_then(money)
            .map_or_else(|| "USD".to_owned(), |(_, c)| c);
        let total = lines.iter().try_fold(0u64, |sum, line| {
            let (amount, _) = line.get("total_price").and_then(money)?;
            sum.checked_add(amount)
        });
        match total {
            Some(total) => {
                self.total = total;
                self.currency = currency;
            }
            None => {
                self.total = 0;
                self.currency = "USD".to_owned();
            }
        }
    }
}

fn text<'a>(body: &'a Value, field: &str) -> Option<&'a str> {
    body.get(field).and_then(Value::as_str)
}

fn number(body: &Value, field: &str) -> Option<u64> {
    body.get(field).and_then(Value::as_u64)
}

fn money(value: &Value) -> Option<(u64, String)> {
    Some((
        value.get("amount")?.as_u64()?,
        value.get("currency")?.as_str()?.to_owned(),
    ))
}

/// The order id of an order's stream (`order-<id>`); `None` for every other
/// stream (shipments, returns, metrics).
pub fn order_id_of_stream(stream_id: &str) -> Option<&str> {
    stream_id.strip_prefix("order-").filter(|id| !id.is_empty())
}

/// The summary of an order from all of its stream's events, oldest first.
pub fn fold(order_id: &str, events: &[RecordedEvent]) -> Option<OrderSummary> {
    events
        .iter()
        .fold(None, |summary, e| evolve_recorded(summary, order_id, e))
}

fn evolve_recorded(
    before: Option<OrderSummary>,
    order_id: &str,
    event: &RecordedEvent,
) -> Option<OrderSummary> {
    OrderSummary::evolve(
        before,
        order_id,
        &event.event_type,
        &event.payload,
        event.version,
        event.recorded_at,
    )
}

/// The appends of `batch` that change a summary: those of an order's
/// stream with at least one event, with the order id.
pub(crate) fn order_appends(batch: &AppendBatch) -> impl Iterator<Item = (&str, &StreamAppend)> {
    batch.streams.iter().filter_map(|stream| {
        let order_id = order_id_of_stream(&stream.stream_id)?;
        (!stream.events.is_empty()).then_some((order_id, stream))
    })
}

/// The summary `before` after the events of `stream`, every one recorded
/// at `recorded_at` (the versions follow the append's expected version).
pub(crate) fn fold_append(
    before: Option<OrderSummary>,
    order_id: &str,
    stream: &StreamAppend,
    recorded_at: u64,
) -> Option<OrderSummary> {
    (stream.expected_version + 1..)
        .zip(&stream.events)
        .fold(before, |summary, (version, event)| {
            OrderSummary::evolve(
                summary,
                order_id,
                &event.event_type,
                &event.payload,
                version,
                recorded_at,
            )
        })
}

/// Rebuilds the summaries of a store from its stored events, read stream by
/// stream (each in version order), without holding more than one summary.
#[derive(Default)]
pub(crate) struct Backfill {
    current: Option<(String, Option<OrderSummary>)>,
}

impl Backfill {
    /// Folds one more stored event; when it begins another stream, returns
    /// the finished summary of the stream before it. Events of streams that
    /// are not an order's are passed over.
    pub(crate) fn push(&mut self, event: &RecordedEvent) -> Option<OrderSummary> {
        let order_id = order_id_of_stream(&event.stream_id)?;
        let mut finished = None;
        if self
            .current
            .as_ref()
            .is_none_or(|(stream, _)| *stream != event.stream_id)
        {
            finished = self.current.take().and_then(|(_, summary)| summary);
            self.current = Some((event.stream_id.clone(), None));
        }
        if let Some((_, summary)) = self.current.as_mut() {
            *summary = evolve_recorded(summary.take(), order_id, event);
        }
        finished
    }

    /// The summary of the last stream.
    pub(crate) fn finish(self) -> Option<OrderSummary> {
        self.current.and_then(|(_, summary)| summary)
    }
}

/// A position in a listing: the last summary of a page. Listings run newest
/// first by (`listed_at`, `order_id`), so the next page holds what sorts
/// strictly below it; orders written meanwhile above it cannot shift it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderCursor {
    /// [`OrderSummary::listed_at`] of that summary.
    pub listed_at: u64,
    /// Its order id.
    pub order_id: String,
}

/// Which summaries to list, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderQuery {
    /// Only this customer's orders.
    pub customer_id: Option<String>,
    /// Only orders in one of these statuses (empty: any).
    pub statuses: Vec<String>,
    /// Only orders whose saga is in one of these states (empty: any).
    pub sagas: Vec<SagaState>,
    /// Only orders placed at or after this time (drafts never match).
    pub placed_from: Option<u64>,
    /// Only orders placed before this time (drafts never match).
    pub placed_to: Option<u64>,
    /// Only orders whose last event was recorded at or after this time.
    pub updated_since: Option<u64>,
    /// Only what sorts after this position (the next page).
    pub after: Option<OrderCursor>,
    /// At most this many summaries.
    pub limit: usize,
}

impl OrderQuery {
    /// True when `summary` passes every filter and sorts after the cursor.
    pub fn matches(&self, summary: &OrderSummary) -> bool {
        self.customer_id
            .as_ref()
            .is_none_or(|c| *c == summary.customer_id)
            && (self.statuses.is_empty() || self.statuses.contains(&summary.status))
            && (self.sagas.is_empty() || summary.saga.is_some_and(|s| self.sagas.contains(&s)))
            && self
                .placed_from
                .is_none_or(|from| summary.placed_at.is_some_and(|p| p >= from))
            && self
                .placed_to
                .is_none_or(|to| summary.placed_at.is_some_and(|p| p < to))
            && self
                .updated_since
                .is_none_or(|since| summary.updated_at >= since)
            && self.after.as_ref().is_none_or(|after| {
                (summary.listed_at(), summary.order_id.as_str())
                    < (after.listed_at, after.order_id.as_str())
            })
    }

    /// Rejects queries no backend could answer the same way.
    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        if let Some(status) = self
            .statuses
            .iter()
            .find(|s| !ORDER_STATUSES.contains(&s.as_str()))
        {
            return Err(StoreError::Invalid(format!(
                "status `{status}` is not an order status"
            )));
        }
        let too_large = [
            self.placed_from,
            self.placed_to,
            self.updated_since,
            self.after.as_ref().map(|a| a.listed_at),
        ]
        .into_iter()
        .flatten()
        .any(|t| t > super::MAX_STORABLE);
        if too_large {
            return Err(StoreError::Invalid(
                "a time of the order query is out of range".to_owned(),
            ));
        }
        Ok(())
    }
}

/// Sorts summaries newest first, as every listing returns them.
pub(crate) fn sort_newest_first(summaries: &mut [OrderSummary]) {
    summaries.sort_by(|a, b| {
        (b.listed_at(), b.order_id.as_str()).cmp(&(a.listed_at(), a.order_id.as_str()))
    });
}

#[cfg(test)]
mod tests;
