//! Durable event storage behind the `event-store` import.
//!
//! [`EventStore`] is the one trait every backend implements: [`MemoryStore`]
//! for tests and benchmarks, [`SqliteStore`] as the embedded default,
//! `PostgresStore` for several hosts sharing one database (cargo feature
//! `postgres`, on by default). The
//! trait speaks host-side types; the conversions to and from the generated
//! WIT types live at the bottom of this file and nowhere else.

mod feed;
#[cfg(feature = "postgres")]
mod feed_postgres;
mod feed_sqlite;
mod group_commit;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
pub mod read_model;
mod rows;
mod sqlite;

pub use feed::{FeedEvent, WebhookDelivery, WebhookEndpoint};
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresOptions, PostgresStore};
pub use read_model::{OrderCursor, OrderQuery, OrderSummary, SagaState};
pub use sqlite::{SqliteOptions, SqliteStore, Synchronous};

use std::collections::HashSet;

/// Whether `text` names a PostgreSQL store (`postgres://` or
/// `postgresql://`), in a build with or without the PostgreSQL store.
pub fn is_postgres_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

use crate::bindings::oms::order_management::event_store as wit;

/// An event to append: its kebab-case type and its JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The event's type, for example `order-placed`.
    pub event_type: String,
    /// The event's body as a JSON object (stored as given).
    pub payload: String,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// The stream it belongs to.
    pub stream_id: String,
    /// Its position in the stream, starting at 1.
    pub version: u64,
    /// The event's type.
    pub event_type: String,
    /// The event's body.
    pub payload: String,
    /// When the store wrote it, in milliseconds since the Unix epoch.
    pub recorded_at: u64,
}

/// Events, tags and an expected version for one stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamAppend {
    /// The stream to append to.
    pub stream_id: String,
    /// How many events the writer saw in the stream (0: the stream must not exist yet).
    pub expected_version: u64,
    /// Labels under which [`EventStore::find_streams`] finds the stream.
    pub tags: Vec<String>,
    /// The events, in order; may be empty when only tags or timers change.
    pub events: Vec<NewEvent>,
    /// The stream's folded state after these events, as the component
    /// encoded it: replaces the stream's state record in the same atomic
    /// append, valid at `expected_version` plus the number of events.
    /// `None` leaves the record as it is.
    pub state: Option<String>,
}

impl StreamAppend {
    /// The stream's version once this append is written.
    pub fn version_after(&self) -> u64 {
        self.expected_version + self.events.len() as u64
    }
}

/// A stream's folded state at one of its versions, as the component wrote
/// it (the WIT's `state-record`; decision 0022).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRecord {
    /// The stream's version the state was folded at.
    pub version: u64,
    /// The state, stored as given.
    pub state: String,
}

/// A stream's latest state record and the events after it (the WIT's
/// `stream-tail`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamTail {
    /// The latest state record; `None` when the stream has none.
    pub state: Option<StateRecord>,
    /// The events after the record's version; every event without one.
    pub events: Vec<RecordedEvent>,
}

/// Sets or clears the durable wake-up timer of a saga.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerChange {
    /// The saga (the order id for the fulfilment saga).
    pub saga_id: String,
    /// When to wake it; `None` removes the timer.
    pub due_at: Option<u64>,
}

/// One atomic write: every stream append and timer change, or nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppendBatch {
    /// The stream appends; a stream may appear only once.
    pub streams: Vec<StreamAppend>,
    /// The timer changes, applied in order.
    pub timers: Vec<TimerChange>,
}

/// A saga timer that is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SagaTimer {
    /// The saga to wake.
    pub saga_id: String,
    /// When, in milliseconds since the Unix epoch.
    pub due_at: u64,
}

/// A due saga that one host has claimed, until its lease runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SagaClaim {
    /// The saga to run.
    pub saga_id: String,
    /// When its timer was due.
    pub due_at: u64,
    /// The fencing token: grows with every claim of any saga, so a newer
    /// claim of this saga always has a larger token than an older one; 0 for
    /// stores without leases.
    pub token: u64,
}

impl SagaClaim {
    /// The claim of a store without leases: the timer, token 0.
    pub fn unleased(timer: SagaTimer) -> Self {
        Self {
            saga_id: timer.saga_id,
            due_at: timer.due_at,
            token: 0,
        }
    }
}

/// How much a store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStats {
    /// Streams with at least one event.
    pub streams: u64,
    /// Events in all streams.
    pub events: u64,
    /// Saga timers that are set.
    pub timers: u64,
}

/// What [`EventStore::begin_idempotent`] found under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyRecord {
    /// Nothing (or only an expired record, now replaced): this caller holds
    /// the key and runs the request, then finishes or abandons it.
    Started,
    /// Another request with this key is running.
    Running {
        /// The fingerprint that request was begun with.
        fingerprint: String,
    },
    /// A request with this key finished; its response is kept.
    Finished {
        /// The fingerprint of that request.
        fingerprint: String,
        /// Its response, as the caller stored it.
        response: String,
    },
}

impl IdempotencyRecord {
    /// What a stored record (begun at `started_at`, finished when it has a
    /// `response`) says under `window`; `None` when it has expired and the
    /// key is free again.
    pub(crate) fn held(
        window: IdempotencyWindow,
        fingerprint: String,
        started_at: u64,
        response: Option<String>,
    ) -> Option<Self> {
        if window.expired(started_at, response.is_some()) {
            return None;
        }
        Some(match response {
            Some(response) => Self::Finished {
                fingerprint,
                response,
            },
            None => Self::Running { fingerprint },
        })
    }
}

/// How long idempotency records are kept, and when a running one counts as
/// abandoned (its process died before finishing it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdempotencyWindow {
    /// The time of the call, in milliseconds since the Unix epoch.
    pub now_ms: u64,
    /// A record begun longer ago than this is forgotten.
    pub retention_ms: u64,
    /// A record still running after this long is taken over.
    pub running_ms: u64,
}

impl IdempotencyWindow {
    /// True when a record begun at `started_at` (`finished` or not) no
    /// longer holds its key.
    pub fn expired(&self, started_at: u64, finished: bool) -> bool {
        let age = self.now_ms.saturating_sub(started_at);
        age >= self.retention_ms || (!finished && age >= self.running_ms)
    }
}

/// Why a storage call failed; in every case nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Another writer appended to `stream_id` first.
    #[error(
        "version conflict on stream `{stream_id}`: expected version {expected}, found {actual}"
    )]
    Conflict {
        /// The stream concerned.
        stream_id: String,
        /// The version the writer expected.
        expected: u64,
        /// The version the stream has.
        actual: u64,
    },
    /// The storage is unreachable or failed.
    #[error("event store unavailable: {0}")]
    Unavailable(String),
    /// The request is malformed.
    #[error("invalid store request: {0}")]
    Invalid(String),
}

/// Durable, append-only event storage with optimistic concurrency, tags and
/// saga timers.
///
/// Implementations must be safe to share between threads and, for durable
/// backends, between processes: the expected-version check and the write
/// happen in one transaction.
pub trait EventStore: Send + Sync {
    /// Every event of `stream_id` in order; empty if the stream does not exist.
    fn load(&self, stream_id: &str) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The latest state record of `stream_id` and the events after it;
    /// without a record, every event. The record is replaced only by an
    /// append that carries one, in the same transaction as its events.
    ///
    /// The default, for a store that keeps no state records: every event.
    fn load_tail(&self, stream_id: &str) -> Result<StreamTail, StoreError> {
        Ok(StreamTail {
            state: None,
            events: self.load(stream_id)?,
        })
    }

    /// The number of events in `stream_id` (0 if it does not exist).
    fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError>;

    /// Appends `batch` atomically. Every stream's expected version is
    /// checked before anything is written; on a mismatch the call fails with
    /// [`StoreError::Conflict`] and writes nothing, not even the other
    /// streams' events or the batch's timers. Every event of the batch gets
    /// the same `recorded_at`, read from the store's clock.
    fn append(&self, batch: &AppendBatch) -> Result<(), StoreError>;

    /// The streams tagged with `tag`, in the order they were first tagged.
    fn find_streams(&self, tag: &str) -> Result<Vec<String>, StoreError>;

    /// Up to `limit` timers due at or before `now_ms`, earliest first (ties
    /// by saga id).
    fn due_timers(&self, now_ms: u64, limit: usize) -> Result<Vec<SagaTimer>, StoreError>;

    /// Every timer that is set, earliest first (ties by saga id).
    fn all_timers(&self) -> Result<Vec<SagaTimer>, StoreError>;

    /// How many streams, events and timers the store holds.
    fn stats(&self) -> Result<StoreStats, StoreError>;

    /// How the store keeps its data, in words for people (`order-host
    /// init`): for SQLite the file's schema version, and whether this open
    /// upgraded it. `None` where there is nothing to say.
    fn format(&self) -> Option<String> {
        None
    }

    /// A readiness probe: proves the store takes a durable write now and
    /// reads it back, without touching any stream (`/readyz`). The default
    /// reads the stats, for backends with nothing better.
    fn probe(&self) -> Result<(), StoreError> {
        self.stats().map(drop)
    }

    /// Claims up to `limit` sagas due at or before `now_ms` for `owner`,
    /// for `lease_ms`: until the lease runs out (or is released) no other
    /// owner gets them from this call; `owner` may claim its own again.
    /// Earliest first (ties by saga id).
    ///
    /// The default, for stores that one process owns, claims every due
    /// timer without a lease.
    fn claim_due(
        &self,
        owner: &str,
        now_ms: u64,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<SagaClaim>, StoreError> {
        let _ = (owner, lease_ms);
        Ok(self
            .due_timers(now_ms, limit)?
            .into_iter()
            .map(SagaClaim::unleased)
            .collect())
    }

    /// Gives a claim back before its lease runs out. `false` when the lease
    /// is no longer this claim's (it ran out and another owner took it: its
    /// token is newer). The default has no leases and always succeeds.
    fn release_claim(&self, claim: &SagaClaim) -> Result<bool, StoreError> {
        let _ = claim;
        Ok(true)
    }

    /// Gives several claims back at once; how many were still this owner's
    /// (see [`EventStore::release_claim`]). The default releases them one
    /// by one.
    fn release_claims(&self, claims: &[SagaClaim]) -> Result<usize, StoreError> {
        let mut released = 0;
        for claim in claims {
            released += usize::from(self.release_claim(claim)?);
        }
        Ok(released)
    }

    /// Takes the idempotency `key` for a request with `fingerprint`, or says
    /// who holds it, atomically: of concurrent callers exactly one gets
    /// [`IdempotencyRecord::Started`]. An expired record (see
    /// [`IdempotencyWindow::expired`]) is replaced. Durable like the events.
    fn begin_idempotent(
        &self,
        key: &str,
        fingerprint: &str,
        window: IdempotencyWindow,
    ) -> Result<IdempotencyRecord, StoreError> {
        let _ = (key, fingerprint, window);
        Err(no_idempotency())
    }

    /// Stores the `response` of the request that began `key`.
    fn finish_idempotent(&self, key: &str, response: &str) -> Result<(), StoreError> {
        let _ = (key, response);
        Err(no_idempotency())
    }

    /// Forgets a running `key` (the request failed in a way worth
    /// retrying); a finished record is left alone.
    fn abandon_idempotent(&self, key: &str) -> Result<(), StoreError> {
        let _ = key;
        Err(no_idempotency())
    }

    // --- the feed and the webhook endpoints (see `feed.rs`) ---------------

    /// Up to `limit` events with a position above `after`, in position
    /// order. Positions are assigned in the append's transaction and grow
    /// in commit order: an event this returns was stored, and no event
    /// stored later can appear below the last position returned.
    fn read_feed(&self, after: u64, limit: usize) -> Result<Vec<FeedEvent>, StoreError> {
        let _ = (after, limit);
        Err(feed::no_feed())
    }

    /// The highest position of the feed (0 when it is empty).
    fn feed_head(&self) -> Result<u64, StoreError> {
        Err(feed::no_feed())
    }

    /// Stores a new endpoint; an id already used is [`StoreError::Invalid`].
    fn create_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        let _ = endpoint;
        Err(feed::no_feed())
    }

    /// Every endpoint, oldest first (ties by id).
    fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        Err(feed::no_feed())
    }

    /// One endpoint, `None` when there is none with this id.
    fn webhook_endpoint(&self, id: &str) -> Result<Option<WebhookEndpoint>, StoreError> {
        let _ = id;
        Err(feed::no_feed())
    }

    /// Deletes an endpoint with its lease and delivery log; `false` when
    /// there was none.
    fn delete_webhook_endpoint(&self, id: &str) -> Result<bool, StoreError> {
        let _ = id;
        Err(feed::no_feed())
    }

    /// Moves an endpoint's saved position forward to `position` (never
    /// back); `false` when the endpoint is gone.
    fn advance_webhook_endpoint(&self, id: &str, position: u64) -> Result<bool, StoreError> {
        let _ = (id, position);
        Err(feed::no_feed())
    }

    /// Appends one attempt to the endpoint's delivery log (its `seq` is
    /// assigned by the store) and returns the `seq`.
    fn record_webhook_delivery(&self, delivery: &WebhookDelivery) -> Result<u64, StoreError> {
        let _ = delivery;
        Err(feed::no_feed())
    }

    /// Up to `limit` attempts of the endpoint's log with a `seq` above
    /// `after`, oldest first.
    fn webhook_deliveries(
        &self,
        endpoint_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let _ = (endpoint_id, after, limit);
        Err(feed::no_feed())
    }

    /// Takes or renews the right to deliver to endpoint `id` for `lease_ms`
    /// as `owner`: `false` while another owner's lease runs. The default,
    /// for stores that one process owns, always grants it.
    fn lease_webhook_endpoint(
        &self,
        id: &str,
        owner: &str,
        now_ms: u64,
        lease_ms: u64,
    ) -> Result<bool, StoreError> {
        let _ = (id, owner, now_ms, lease_ms);
        Ok(true)
    }

    /// Up to `query.limit` order summaries of the read model that `query`
    /// selects, newest first (by placement, a draft by its creation; ties
    /// by order id, descending). The read model is written in the same
    /// transaction as the order's events: it is never behind or ahead.
    fn list_orders(&self, query: &OrderQuery) -> Result<Vec<OrderSummary>, StoreError> {
        let _ = query;
        Err(no_read_model())
    }

    /// The read model's summary of one order; `None` when there is none.
    fn order_summary(&self, order_id: &str) -> Result<Option<OrderSummary>, StoreError> {
        let _ = order_id;
        Err(no_read_model())
    }
}

fn no_read_model() -> StoreError {
    StoreError::Unavailable("this event store keeps no order read model".to_owned())
}

fn no_idempotency() -> StoreError {
    StoreError::Unavailable("this event store keeps no idempotency records".to_owned())
}

/// Why a store could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreOpenError {
    /// A command that only uses an existing store found none.
    #[error(
        "the event store {path} does not exist (check --store); `order-host init`, `serve` \
         or `load` create one"
    )]
    Missing {
        /// The path given.
        path: String,
    },
    /// The file is damaged or is not an event store; it was left untouched.
    #[error("the event store {path} is corrupt or not an event store: {reason}")]
    Corrupt {
        /// The file.
        path: String,
        /// What the check found.
        reason: String,
    },
}

/// The largest number any backend can store (SQLite integers are signed).
const MAX_STORABLE: u64 = i64::MAX as u64;

/// Rejects batches that no backend could store, so every backend refuses
/// the same inputs with the same message.
pub(crate) fn validate_batch(batch: &AppendBatch) -> Result<(), StoreError> {
    let mut seen = HashSet::new();
    for (index, stream) in batch.streams.iter().enumerate() {
        if stream.stream_id.is_empty() {
            return Err(invalid(format!("streams[{index}].stream-id is empty")));
        }
        if !seen.insert(stream.stream_id.as_str()) {
            // Two appends to one stream in a batch have no defined order of
            // version checks; the writer must merge them.
            return Err(invalid(format!(
                "stream `{}` appears more than once in the batch",
                stream.stream_id
            )));
        }
        let last = u64::try_from(stream.events.len())
            .ok()
            .and_then(|count| stream.expected_version.checked_add(count));
        if last.is_none_or(|last| last > MAX_STORABLE) {
            return Err(invalid(format!(
                "streams[{index}]: version {} plus {} events is out of range",
                stream.expected_version,
                stream.events.len()
            )));
        }
        if let Some(position) = stream.events.iter().position(|e| e.event_type.is_empty()) {
            return Err(invalid(format!(
                "streams[{index}].events[{position}].event-type is empty"
            )));
        }
        if let Some(position) = stream.tags.iter().position(String::is_empty) {
            return Err(invalid(format!(
                "streams[{index}].tags[{position}] is empty"
            )));
        }
    }
    for (index, timer) in batch.timers.iter().enumerate() {
        if timer.saga_id.is_empty() {
            return Err(invalid(format!("timers[{index}].saga-id is empty")));
        }
        if timer.due_at.is_some_and(|due| due > MAX_STORABLE) {
            return Err(invalid(format!("timers[{index}].due-at is out of range")));
        }
    }
    Ok(())
}

pub(crate) fn validate_stream_id(stream_id: &str) -> Result<(), StoreError> {
    if stream_id.is_empty() {
        return Err(invalid("stream-id is empty".to_owned()));
    }
    Ok(())
}

fn invalid(message: String) -> StoreError {
    StoreError::Invalid(message)
}

// --- WIT conversions -------------------------------------------------------

impl From<wit::NewEvent> for NewEvent {
    fn from(event: wit::NewEvent) -> Self {
        Self {
            event_type: event.event_type,
            payload: event.payload,
        }
    }
}

impl From<wit::StreamAppend> for StreamAppend {
    fn from(append: wit::StreamAppend) -> Self {
        Self {
            stream_id: append.stream_id,
            expected_version: append.expected_version,
            tags: append.tags,
            events: append.events.into_iter().map(Into::into).collect(),
            state: append.state,
        }
    }
}

impl From<wit::SagaTimer> for TimerChange {
    fn from(timer: wit::SagaTimer) -> Self {
        Self {
            saga_id: timer.saga_id,
            due_at: timer.due_at,
        }
    }
}

impl From<wit::AppendBatch> for AppendBatch {
    fn from(batch: wit::AppendBatch) -> Self {
        Self {
            streams: batch.streams.into_iter().map(Into::into).collect(),
            timers: batch.timers.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<RecordedEvent> for wit::RecordedEvent {
    fn from(event: RecordedEvent) -> Self {
        Self {
            stream_id: event.stream_id,
            version: event.version,
            event_type: event.event_type,
            payload: event.payload,
            recorded_at: event.recorded_at,
        }
    }
}

impl From<StreamTail> for wit::StreamTail {
    fn from(tail: StreamTail) -> Self {
        Self {
            state: tail.state.map(|s| wit::StateRecord {
                version: s.version,
                state: s.state,
            }),
            events: tail.events.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<StoreError> for wit::StoreError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict {
                stream_id,
                expected,
                actual,
            } => Self::Conflict(wit::VersionConflict {
                stream_id,
                expected,
                actual,
            }),
            StoreError::Unavailable(message) => Self::Unavailable(message),
            StoreError::Invalid(message) => Self::Invalid(message),
        }
    }
}

import_view! {
    /// The `event-store` import as one store serves it: the event store, and nothing
    /// else of the host.
    EventStoreView(&dyn EventStore),
    "event-store",
    "the event store"
}

impl wit::Host for EventStoreView<'_> {
    fn load(&mut self, stream_id: String) -> Result<Vec<wit::RecordedEvent>, wit::StoreError> {
        let events = self.0.load(&stream_id)?;
        Ok(events.into_iter().map(Into::into).collect())
    }

    fn load_tail(&mut self, stream_id: String) -> Result<wit::StreamTail, wit::StoreError> {
        Ok(self.0.load_tail(&stream_id)?.into())
    }

    fn stream_version(&mut self, stream_id: String) -> Result<u64, wit::StoreError> {
        Ok(self.0.stream_version(&stream_id)?)
    }

    fn append(&mut self, batch: wit::AppendBatch) -> Result<(), wit::StoreError> {
        Ok(self.0.append(&batch.into())?)
    }

    fn find_streams(&mut self, tag: String) -> Result<Vec<String>, wit::StoreError> {
        Ok(self.0.find_streams(&tag)?)
    }
}

#[cfg(test)]
pub(crate) mod conformance;
