//! An in-process [`EventStore`] for tests, benchmarks and the demo: fast, and
//! gone when the process ends.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::feed::{endpoint_exists, validate_endpoint};
use super::read_model::{self, OrderQuery, OrderSummary};
use super::{
    AppendBatch, EventStore, FeedEvent, IdempotencyRecord, IdempotencyWindow, RecordedEvent,
    SagaTimer, StateRecord, StoreError, StoreStats, StreamTail, WebhookDelivery, WebhookEndpoint,
    validate_batch, validate_stream_id,
};
use crate::clock::Clock;

/// An [`EventStore`] held in memory behind one lock, which reads share.
pub struct MemoryStore {
    clock: Arc<dyn Clock>,
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    streams: HashMap<String, Vec<RecordedEvent>>,
    tags: HashMap<String, Tagged>,
    timers: HashMap<String, u64>,
    /// Idempotency records: key -> (fingerprint, begun at, response).
    idempotency: HashMap<String, (String, u64, Option<String>)>,
    /// The feed: position `i + 1` is the `index`th event of `stream`.
    feed: Vec<(String, usize)>,
    /// The webhook endpoints, in creation order.
    endpoints: Vec<WebhookEndpoint>,
    /// Every endpoint's delivery log, `seq` order.
    deliveries: Vec<WebhookDelivery>,
    /// The order read model: order id -> summary.
    orders: HashMap<String, OrderSummary>,
    /// The latest state record of each stream that has one.
    states: HashMap<String, StateRecord>,
}

/// The streams of one tag, in first-tagged order, with a set for de-duplication.
#[derive(Default)]
struct Tagged {
    order: Vec<String>,
    members: HashSet<String>,
}

impl MemoryStore {
    /// An empty store whose `recorded_at` stamps come from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            inner: RwLock::new(Inner::default()),
        }
    }

    // No code path panics while holding the lock with the data half written
    // (appends validate before mutating), so the data behind a poisoned lock
    // is still consistent.

    /// The store for reading: loads of different streams run side by side.
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl EventStore for MemoryStore {
    fn load(&self, stream_id: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        validate_stream_id(stream_id)?;
        Ok(self
            .read()
            .streams
            .get(stream_id)
            .cloned()
            .unwrap_or_default())
    }

    fn load_tail(&self, stream_id: &str) -> Result<StreamTail, StoreError> {
        validate_stream_id(stream_id)?;
        let inner = self.read();
        let state = inner.states.get(stream_id).cloned();
        let after = state.as_ref().map_or(0, |s| s.version as usize);
        let events = inner
            .streams
            .get(stream_id)
            .and_then(|e| e.get(after..))
            .map(<[RecordedEvent]>::to_vec)
            .unwrap_or_default();
        Ok(StreamTail { state, events })
    }

    fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
        validate_stream_id(stream_id)?;
        Ok(self
            .read()
            .streams
            .get(stream_id)
            .map_or(0, |e| e.len() as u64))
    }

    fn append(&self, batch: &AppendBatch) -> Result<(), StoreError> {
        validate_batch(batch)?;
        let mut inner = self.write();
        for stream in &batch.streams {
            let actual = inner
                .streams
                .get(&stream.stream_id)
                .map_or(0, |e| e.len() as u64);
            if actual != stream.expected_version {
                return Err(StoreError::Conflict {
                    stream_id: stream.stream_id.clone(),
                    expected: stream.expected_version,
                    actual,
                });
            }
        }

        let recorded_at = self.clock.now_ms();
        let inner = &mut *inner;
        for stream in &batch.streams {
            if !stream.events.is_empty() {
                let events = inner.streams.entry(stream.stream_id.clone()).or_default();
                for (version, event) in (stream.expected_version + 1..).zip(&stream.events) {
                    inner.feed.push((stream.stream_id.clone(), events.len()));
                    events.push(RecordedEvent {
                        stream_id: stream.stream_id.clone(),
                        version,
                        event_type: event.event_type.clone(),
                        payload: event.payload.clone(),
                        recorded_at,
                    });
                }
            }
            if let Some(state) = &stream.state {
                inner.states.insert(
                    stream.stream_id.clone(),
                    StateRecord {
                        version: stream.version_after(),
                        state: state.clone(),
                    },
                );
            }
            if let Some(order_id) = read_model::order_id_of_stream(&stream.stream_id) {
                let before = inner.orders.remove(order_id);
                if let Some(summary) =
                    read_model::fold_append(before, order_id, stream, recorded_at)
                {
                    inner.orders.insert(order_id.to_owned(), summary);
                }
            }
            for tag in &stream.tags {
                let tagged = inner.tags.entry(tag.clone()).or_default();
                if tagged.members.insert(stream.stream_id.clone()) {
                    tagged.order.push(stream.stream_id.clone());
                }
            }
        }
        for timer in &batch.timers {
            match timer.due_at {
                Some(due_at) => inner.timers.insert(timer.saga_id.clone(), due_at),
                None => inner.timers.remove(&timer.saga_id),
            };
        }
        Ok(())
    }

    fn find_streams(&self, tag: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .read()
            .tags
            .get(tag)
            .map(|tagged| tagged.order.clone())
            .unwrap_or_default())
    }

    fn due_timers(&self, now_ms: u64, limit: usize) -> Result<Vec<SagaTimer>, StoreError> {
        Ok(self.timers_due_by(now_ms, limit))
    }

    fn all_timers(&self) -> Result<Vec<SagaTimer>, StoreError> {
        Ok(self.timers_due_by(u64::MAX, usize::MAX))
    }

    fn stats(&self) -> Result<StoreStats, StoreError> {
        let inner = self.read();
        Ok(StoreStats {
            streams: inner.streams.len() as u64,
            events: inner.streams.values().map(|e| e.len() as u64).sum(),
            timers: inner.timers.len() as u64,
        })
    }

    fn begin_idempotent(
        &self,
        key: &str,
        fingerprint: &str,
        window: IdempotencyWindow,
    ) -> Result<IdempotencyRecord, StoreError> {
        let mut inner = self.write();
        if let Some((held, started, response)) = inner.idempotency.get(key).cloned()
            && let Some(record) = IdempotencyRecord::held(window, held, started, response)
        {
            return Ok(record);
        }
        inner.idempotency.insert(
            key.to_owned(),
            (fingerprint.to_owned(), window.now_ms, None),
        );
        Ok(IdempotencyRecord::Started)
    }

    fn finish_idempotent(&self, key: &str, response: &str) -> Result<(), StoreError> {
        if let Some(record) = self.write().idempotency.get_mut(key) {
            record.2 = Some(response.to_owned());
        }
        Ok(())
    }

    fn abandon_idempotent(&self, key: &str) -> Result<(), StoreError> {
        let mut inner = self.write();
        if inner.idempotency.get(key).is_some_and(|r| r.2.is_none()) {
            inner.idempotency.remove(key);
        }
        Ok(())
    }

    fn read_feed(&self, after: u64, limit: usize) -> Result<Vec<FeedEvent>, StoreError> {
        Ok(self.read_feed_impl(after, limit))
    }

    fn feed_head(&self) -> Result<u64, StoreError> {
        Ok(self.read().feed.len() as u64)
    }

    fn create_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        validate_endpoint(endpoint)?;
        let mut inner = self.write();
        if inner.endpoints.iter().any(|e| e.id == endpoint.id) {
            return Err(endpoint_exists(endpoint));
        }
        inner.endpoints.push(endpoint.clone());
        Ok(())
    }

    fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let mut all = self.read().endpoints.clone();
        all.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(all)
    }

    fn webhook_endpoint(&self, id: &str) -> Result<Option<WebhookEndpoint>, StoreError> {
        Ok(self.read().endpoints.iter().find(|e| e.id == id).cloned())
    }

    fn delete_webhook_endpoint(&self, id: &str) -> Result<bool, StoreError> {
        let mut inner = self.write();
        let before = inner.endpoints.len();
        inner.endpoints.retain(|e| e.id != id);
        inner.deliveries.retain(|d| d.endpoint_id != id);
        Ok(inner.endpoints.len() != before)
    }

    fn advance_webhook_endpoint(&self, id: &str, position: u64) -> Result<bool, StoreError> {
        let mut inner = self.write();
        Ok(match inner.endpoints.iter_mut().find(|e| e.id == id) {
            Some(endpoint) => {
                endpoint.position = endpoint.position.max(position);
                true
            }
            None => false,
        })
    }

    fn record_webhook_delivery(&self, delivery: &WebhookDelivery) -> Result<u64, StoreError> {
        let mut inner = self.write();
        let seq = inner.deliveries.last().map_or(0, |d| d.seq) + 1;
        inner.deliveries.push(WebhookDelivery {
            seq,
            ..delivery.clone()
        });
        Ok(seq)
    }

    fn webhook_deliveries(
        &self,
        endpoint_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        Ok(self
            .read()
            .deliveries
            .iter()
            .filter(|d| d.endpoint_id == endpoint_id && d.seq > after)
            .take(limit)
            .cloned()
            .collect())
    }

    fn list_orders(&self, query: &OrderQuery) -> Result<Vec<OrderSummary>, StoreError> {
        self.list(query)
    }

    fn order_summary(&self, order_id: &str) -> Result<Option<OrderSummary>, StoreError> {
        Ok(self.read().orders.get(order_id).cloned())
    }
}

impl MemoryStore {
    fn feed_event(inner: &Inner, position: usize) -> Option<FeedEvent> {
        let (stream, index) = inner.feed.get(position.checked_sub(1)?)?;
        let event = inner.streams.get(stream)?.get(*index)?.clone();
        Some(FeedEvent {
            position: position as u64,
            event,
        })
    }
}

impl MemoryStore {
    /// The feed and webhook part of [`EventStore`], kept apart from the
    /// append path.
    fn read_feed_impl(&self, after: u64, limit: usize) -> Vec<FeedEvent> {
        let inner = self.read();
        let first = usize::try_from(after)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        (first..=inner.feed.len())
            .take(limit)
            .filter_map(|position| Self::feed_event(&inner, position))
            .collect()
    }
}

impl MemoryStore {
    fn list(&self, query: &OrderQuery) -> Result<Vec<OrderSummary>, StoreError> {
        query.validate()?;
        let mut found: Vec<OrderSummary> = self
            .read()
            .orders
            .values()
            .filter(|s| query.matches(s))
            .cloned()
            .collect();
        read_model::sort_newest_first(&mut found);
        found.truncate(query.limit);
        Ok(found)
    }
}

impl MemoryStore {
    /// Up to `limit` timers due at or before `until`, earliest first (ties
    /// by saga id).
    fn timers_due_by(&self, until: u64, limit: usize) -> Vec<SagaTimer> {
        let mut due: Vec<SagaTimer> = self
            .read()
            .timers
            .iter()
            .filter(|(_, due_at)| **due_at <= until)
            .map(|(saga_id, due_at)| SagaTimer {
                saga_id: saga_id.clone(),
                due_at: *due_at,
            })
            .collect();
        due.sort_by(|a, b| {
            a.due_at
                .cmp(&b.due_at)
                .then_with(|| a.saga_id.cmp(&b.saga_id))
        });
        due.truncate(limit);
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    crate::store::conformance::conformance_tests!(|clock: Arc<ManualClock>| {
        (MemoryStore::new(clock), ())
    });
}
