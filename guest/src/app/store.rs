//! Loading entities from their streams and writing decided events back in
//! one atomic batch, with the expected version of every stream, the saga's
//! durable timer, the tags that make streams findable, and the daily-metrics
//! facts derived from the events (each in a stream of its own).

use serde::Serialize;

use super::ports::{AppendBatch, Env, NewEvent, StoreError, StoredEvent, StreamAppend};
use crate::domain::codec::{self, Tagged};
use crate::domain::metrics::{MetricEvent, metrics_tag};
use crate::domain::order::{Order, OrderEvent};
use crate::domain::returns::{Return, ReturnEvent};
use crate::domain::saga::{SagaAction, next_action};
use crate::domain::shipment::{Shipment, ShipmentEvent};
use crate::domain::values::{Timestamp, utc_date};
use crate::domain::{DomainError, DomainResult};

pub fn order_stream(order_id: &str) -> String {
    format!("order-{order_id}")
}
pub fn shipment_stream(shipment_id: &str) -> String {
    format!("shipment-{shipment_id}")
}
pub fn return_stream(return_id: &str) -> String {
    format!("return-{return_id}")
}
pub fn customer_tag(customer_id: &str) -> String {
    format!("customer-{customer_id}")
}
pub fn order_shipments_tag(order_id: &str) -> String {
    format!("order-shipments-{order_id}")
}
pub fn order_returns_tag(order_id: &str) -> String {
    format!("order-returns-{order_id}")
}
pub fn transaction_tag(transaction_id: &str) -> String {
    format!("transaction-{transaction_id}")
}

pub(crate) fn storage(e: StoreError) -> DomainError {
    match e {
        StoreError::Conflict {
            stream_id,
            expected,
            actual,
        } => DomainError::Conflict(format!(
            "stream {stream_id} is at version {actual}, expected {expected}"
        )),
        StoreError::Unavailable(m) => DomainError::Storage(m),
        StoreError::Invalid(m) => DomainError::Storage(format!("rejected by storage: {m}")),
    }
}

fn decode<E: Tagged>(events: &[StoredEvent]) -> DomainResult<Vec<E>> {
    events
        .iter()
        .map(|e| {
            codec::decode(&e.event_type, &e.payload).map_err(|err| {
                DomainError::Storage(format!(
                    "event {} of stream {} cannot be read: {err}",
                    e.version, e.stream_id
                ))
            })
        })
        .collect()
}

fn encode<E: Serialize>(event_type: &str, event: &E) -> NewEvent {
    NewEvent {
        event_type: event_type.to_string(),
        // Serialising these plain data enums cannot fail.
        payload: serde_json::to_string(event).unwrap_or_default(),
    }
}

pub(crate) fn load_order(env: &Env<'_>, order_id: &str) -> DomainResult<Option<Order>> {
    let events = env.store.load(&order_stream(order_id)).map_err(storage)?;
    Ok(Order::fold(&decode::<OrderEvent>(&events)?))
}

/// A shipment from its stream's state record and the events after it, or
/// from every event when there is no record or it cannot be read (the
/// events are the truth; decision 0022).
pub(crate) fn load_shipment(env: &Env<'_>, shipment_id: &str) -> DomainResult<Option<Shipment>> {
    load_shipment_with(env, shipment_id, true)
}

/// [`load_shipment`] for a command that appends to the shipment without
/// reading its tracking history's entries (it may ask whether a scan is a
/// repeat): a state record's history is carried as text, not decoded.
pub(crate) fn load_shipment_to_append(
    env: &Env<'_>,
    shipment_id: &str,
) -> DomainResult<Option<Shipment>> {
    load_shipment_with(env, shipment_id, false)
}

fn load_shipment_with(
    env: &Env<'_>,
    shipment_id: &str,
    read_history: bool,
) -> DomainResult<Option<Shipment>> {
    let stream = shipment_stream(shipment_id);
    let tail = env.store.load_tail(&stream).map_err(storage)?;
    let (seed, events) = match &tail.state {
        None => (None, tail.events),
        Some(state) => {
            let follows = (state.version + 1..)
                .zip(&tail.events)
                .all(|(version, e)| e.version == version);
            match Shipment::from_state_record(state.version, &state.state) {
                Some(record)
                    if follows && (!read_history || record.tracking_history.is_readable()) =>
                {
                    (Some(record), tail.events)
                }
                _ => (None, env.store.load(&stream).map_err(storage)?),
            }
        }
    };
    Ok(Shipment::fold_from(
        seed,
        &decode::<ShipmentEvent>(&events)?,
    ))
}

pub(crate) fn load_return(env: &Env<'_>, return_id: &str) -> DomainResult<Option<Return>> {
    let events = env.store.load(&return_stream(return_id)).map_err(storage)?;
    Ok(Return::fold(&decode::<ReturnEvent>(&events)?))
}

/// Every metrics fact of `date` (`yyyy-mm-dd`): those of the streams
/// tagged `metrics-<date>`, after those of the day's single stream of the
/// same name that earlier versions appended to. A fact may be read twice
/// (the fold counts it once), never missed.
pub(crate) fn load_metrics(env: &Env<'_>, date: &str) -> DomainResult<Vec<MetricEvent>> {
    let tag = metrics_tag(date);
    let mut facts = decode(&env.store.load(&tag).map_err(storage)?)?;
    for stream in env.store.find_streams(&tag).map_err(storage)? {
        facts.extend(decode::<MetricEvent>(
            &env.store.load(&stream).map_err(storage)?,
        )?);
    }
    Ok(facts)
}

/// The append that records `fact`, of the day of `at`: the only event of
/// the fact's own stream, which must not exist yet, tagged with its day.
pub fn metric_append(at: Timestamp, fact: &MetricEvent) -> StreamAppend {
    StreamAppend {
        stream_id: fact.stream(at),
        expected_version: 0,
        tags: vec![metrics_tag(&utc_date(at))],
        events: vec![encode(fact.event_type(), fact)],
        state: None,
    }
}

/// When the saga of this order should run next (`None`: never).
pub fn saga_wake_at(order: &Order, now: Timestamp) -> Option<Timestamp> {
    match next_action(order, now) {
        SagaAction::Finished => None,
        SagaAction::Wait(t) => Some(t),
        SagaAction::Record(_) | SagaAction::Call(_) => Some(now),
    }
}

/// A batch being assembled; `commit` writes it atomically.
#[derive(Default)]
pub(crate) struct Write {
    batch: AppendBatch,
    metrics: Vec<(Timestamp, MetricEvent)>,
    /// The call that produced this write only recovered an earlier
    /// action's outcome; the caller keeps its lease and makes its own call
    /// next.
    pub keep_lease: bool,
    /// The order as the last [`Write::order`] of this batch leaves it.
    order_after: Option<Order>,
    /// Where that order's append and its timer stand in the batch, for
    /// [`Write::more_order`] to extend.
    order_at: Option<(usize, usize)>,
}

impl Write {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds order events; [`Write::commit`] answers the order as it will
    /// be after them.
    pub fn order(&mut self, before: Option<&Order>, events: Vec<OrderEvent>, now: Timestamp) {
        let mut tags = Vec::new();
        let Some(after) = self.fold_order(before.cloned(), &events, &mut tags) else {
            return;
        };
        self.order_at = Some((self.batch.streams.len(), self.batch.timers.len()));
        self.batch.streams.push(StreamAppend {
            stream_id: order_stream(&after.order_id),
            expected_version: before.map_or(0, |o| o.version),
            tags,
            events: events.iter().map(|e| encode(e.event_type(), e)).collect(),
            state: None,
        });
        self.batch
            .timers
            .push((after.order_id.clone(), saga_wake_at(&after, now)));
        self.order_after = Some(after);
    }

    /// The order as the events added so far leave it, if some were.
    pub fn order_after(&self) -> Option<&Order> {
        self.order_after.as_ref()
    }

    /// Adds more events to the order this batch already appends to, after
    /// the ones added: still one append to its stream, with the timer the
    /// order ends with. Without order events in the batch, nothing.
    pub fn more_order(&mut self, events: Vec<OrderEvent>, now: Timestamp) {
        let (Some(before), Some((append_at, timer_at))) = (self.order_after.take(), self.order_at)
        else {
            return;
        };
        let mut tags = Vec::new();
        let Some(after) = self.fold_order(Some(before), &events, &mut tags) else {
            return;
        };
        let append = &mut self.batch.streams[append_at];
        append
            .events
            .extend(events.iter().map(|e| encode(e.event_type(), e)));
        for tag in tags {
            if !append.tags.contains(&tag) {
                append.tags.push(tag);
            }
        }
        self.batch.timers[timer_at].1 = saga_wake_at(&after, now);
        self.order_after = Some(after);
    }

    /// Folds `events` onto `order`, collecting the tags they make the
    /// stream findable by and the metrics facts they count.
    fn fold_order(
        &mut self,
        mut order: Option<Order>,
        events: &[OrderEvent],
        tags: &mut Vec<String>,
    ) -> Option<Order> {
        for e in events {
            let next = Order::apply(order.take(), e);
            match e {
                OrderEvent::DraftCreated { customer_id, .. } => {
                    tags.push(customer_tag(customer_id))
                }
                OrderEvent::OrderPlaced {
                    customer_id,
                    order_id,
                    total,
                    placed_at,
                    ..
                } => {
                    tags.push(customer_tag(customer_id));
                    self.metrics.push((
                        *placed_at,
                        MetricEvent::OrderCounted {
                            order_id: order_id.clone(),
                            total: total.clone(),
                        },
                    ));
                }
                OrderEvent::PaymentConfirmed { transaction_id, .. } => {
                    tags.push(transaction_tag(transaction_id))
                }
                OrderEvent::SagaStepCompleted {
                    outcome: crate::domain::saga::StepOutcome::Paid { transaction_id, .. },
                    ..
                } => tags.push(transaction_tag(transaction_id)),
                // Only placed orders count: a cancelled draft was never an order.
                OrderEvent::OrderCancelled {
                    order_id,
                    cancelled_at,
                    ..
                } if next.placed_at.is_some() => self.metrics.push((
                    *cancelled_at,
                    MetricEvent::CancellationCounted {
                        order_id: order_id.clone(),
                        currency: next.total.currency.clone(),
                    },
                )),
                _ => {}
            }
            order = Some(next);
        }
        order
    }

    pub fn shipment(
        &mut self,
        before: Option<&Shipment>,
        events: Vec<ShipmentEvent>,
    ) -> Option<Shipment> {
        let mut after = before.cloned();
        let mut tags = Vec::new();
        for e in &events {
            if let ShipmentEvent::ShipmentCreated { order_id, .. } = e {
                tags.push(order_shipments_tag(order_id));
            }
            after = Shipment::apply(after, e);
        }
        if let Some(s) = &after {
            self.batch.streams.push(StreamAppend {
                stream_id: shipment_stream(&s.shipment_id),
                expected_version: before.map_or(0, |s| s.version),
                tags,
                events: events.iter().map(|e| encode(e.event_type(), e)).collect(),
                state: s.state_record(),
            });
        }
        after
    }

    pub fn ret(&mut self, before: Option<&Return>, events: Vec<ReturnEvent>) -> Option<Return> {
        let mut after = before.cloned();
        let mut tags = Vec::new();
        for e in &events {
            match e {
                ReturnEvent::ReturnRequested { order_id, .. } => {
                    tags.push(order_returns_tag(order_id))
                }
                ReturnEvent::RefundProcessed {
                    return_id,
                    refund_amount,
                    processed_at,
                    ..
                } => self.metrics.push((
                    *processed_at,
                    MetricEvent::RefundCounted {
                        return_id: return_id.clone(),
                        amount: refund_amount.clone(),
                    },
                )),
                _ => {}
            }
            after = Return::apply(after, e);
        }
        if let Some(r) = &after {
            self.batch.streams.push(StreamAppend {
                stream_id: return_stream(&r.return_id),
                expected_version: before.map_or(0, |r| r.version),
                tags,
                events: events.iter().map(|e| encode(e.event_type(), e)).collect(),
                state: None,
            });
        }
        after
    }

    /// Writes everything atomically, the metrics facts in streams of their
    /// own. A conflict (on an entity's stream, or on a fact's stream that
    /// an earlier write of the same event created) is returned as
    /// [`DomainError::Conflict`]: nothing was written. Answers the order as
    /// the last [`Write::order`] of the batch left it, if one was added.
    pub fn commit(mut self, env: &Env<'_>) -> DomainResult<Option<Order>> {
        for (at, fact) in &self.metrics {
            self.batch.streams.push(metric_append(*at, fact));
        }
        env.store.append(&self.batch).map_err(storage)?;
        Ok(self.order_after)
    }
}
