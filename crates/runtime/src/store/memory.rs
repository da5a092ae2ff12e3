//! An in-process [`EventStore`] for tests, benchmarks and the demo: fast, and
//! gone when the process ends.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{
    AppendBatch, EventStore, IdempotencyRecord, IdempotencyWindow, RecordedEvent, SagaTimer,
    StoreError, StoreStats, validate_batch, validate_stream_id,
};
use crate::clock::Clock;

/// An [`EventStore`] held in memory behind one lock.
pub struct MemoryStore {
    clock: Arc<dyn Clock>,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    streams: HashMap<String, Vec<RecordedEvent>>,
    tags: HashMap<String, Tagged>,
    timers: HashMap<String, u64>,
    /// Idempotency records: key -> (fingerprint, begun at, response).
    idempotency: HashMap<String, (String, u64, Option<String>)>,
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
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // No code path panics while holding the lock with the data half
        // written (appends validate before mutating), so the data behind a
        // poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl EventStore for MemoryStore {
    fn load(&self, stream_id: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        validate_stream_id(stream_id)?;
        Ok(self
            .lock()
            .streams
            .get(stream_id)
            .cloned()
            .unwrap_or_default())
    }

    fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
        validate_stream_id(stream_id)?;
        Ok(self
            .lock()
            .streams
            .get(stream_id)
            .map_or(0, |e| e.len() as u64))
    }

    fn append(&self, batch: &AppendBatch) -> Result<(), StoreError> {
        validate_batch(batch)?;
        let mut inner = self.lock();
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
                    events.push(RecordedEvent {
                        stream_id: stream.stream_id.clone(),
                        version,
                        event_type: event.event_type.clone(),
                        payload: event.payload.clone(),
                        recorded_at,
                    });
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
            .lock()
            .tags
            .get(tag)
            .map(|tagged| tagged.order.clone())
            .unwrap_or_default())
    }

    fn stream_ids(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let inner = self.lock();
        let mut ids: Vec<&String> = inner
            .streams
            .iter()
            .filter(|(id, events)| {
                !events.is_empty()
                    && id.starts_with(prefix)
                    && after.is_none_or(|after| id.as_str() > after)
            })
            .map(|(id, _)| id)
            .collect();
        ids.sort_unstable();
        Ok(ids.into_iter().take(limit).cloned().collect())
    }

    fn due_timers(&self, now_ms: u64, limit: usize) -> Result<Vec<SagaTimer>, StoreError> {
        let mut due: Vec<SagaTimer> = self
            .lock()
            .timers
            .iter()
            .filter(|(_, due_at)| **due_at <= now_ms)
            .map(|(saga_id, due_at)| SagaTimer {
                saga_id: saga_id.clone(),
                due_at: *due_at,
            })
            .collect();
        sort_timers(&mut due);
        due.truncate(limit);
        Ok(due)
    }

    fn all_timers(&self) -> Result<Vec<SagaTimer>, StoreError> {
        let mut all: Vec<SagaTimer> = self
            .lock()
            .timers
            .iter()
            .map(|(saga_id, due_at)| SagaTimer {
                saga_id: saga_id.clone(),
                due_at: *due_at,
            })
            .collect();
        sort_timers(&mut all);
        Ok(all)
    }

    fn stats(&self) -> Result<StoreStats, StoreError> {
        let inner = self.lock();
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
        let mut inner = self.lock();
        match inner.idempotency.get(key) {
            Some((held, started, response)) if !window.expired(*started, response.is_some()) => {
                Ok(match response {
                    Some(response) => IdempotencyRecord::Finished {
                        fingerprint: held.clone(),
                        response: response.clone(),
                    },
                    None => IdempotencyRecord::Running {
                        fingerprint: held.clone(),
                    },
                })
            }
            _ => {
                inner.idempotency.insert(
                    key.to_owned(),
                    (fingerprint.to_owned(), window.now_ms, None),
                );
                Ok(IdempotencyRecord::Started)
            }
        }
    }

    fn finish_idempotent(&self, key: &str, response: &str) -> Result<(), StoreError> {
        if let Some(record) = self.lock().idempotency.get_mut(key) {
            record.2 = Some(response.to_owned());
        }
        Ok(())
    }

    fn abandon_idempotent(&self, key: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.idempotency.get(key).is_some_and(|r| r.2.is_none()) {
            inner.idempotency.remove(key);
        }
        Ok(())
    }
}

fn sort_timers(timers: &mut [SagaTimer]) {
    timers.sort_by(|a, b| {
        a.due_at
            .cmp(&b.due_at)
            .then_with(|| a.saga_id.cmp(&b.saga_id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    crate::store::conformance::conformance_tests!(|clock: Arc<ManualClock>| {
        (MemoryStore::new(clock), ())
    });
}
