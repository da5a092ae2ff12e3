//! The shared [`EventStore`]: one PostgreSQL database for several hosts.
//!
//! - The schema is created and upgraded by versioned migrations
//!   (`crates/runtime/migrations/postgres/V<n>__<name>.sql`, applied in order inside
//!   one transaction under an advisory lock, recorded in
//!   `order_host_migrations`), so hosts starting at once do not race, and a
//!   host refuses a database that a newer host has migrated further.
//! - An append is one transaction: it locks its streams' rows in stream-id
//!   order (no deadlock between two multi-stream batches), checks every
//!   expected version, then writes events, tags and timers. A conflict rolls
//!   everything back.
//! - Due sagas are claimed with a lease (`FOR UPDATE SKIP LOCKED` on the
//!   timers, an owner, an expiry and a fencing token from a sequence), so
//!   several hosts share the work and a dead host's sagas are taken over
//!   once its lease has run out.
//! - Connections come from a bounded pool with time-outs; a lost or
//!   unreachable server is [`StoreError::Unavailable`] (the HTTP API's 503).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use postgres::error::SqlState;
use postgres::{Client, NoTls, Transaction};
use r2d2::{Pool, PooledConnection};
use r2d2_postgres::PostgresConnectionManager;

use super::feed_postgres as feed;
use super::read_model::{self, OrderQuery, OrderSummary};
use super::rows::{
    self, Columns as _, EVENT_COLUMNS, bound, from_sql, postgres_unavailable as unavailable, to_sql,
};
use super::{
    AppendBatch, EventStore, RecordedEvent, SagaClaim, SagaTimer, StateRecord, StoreError,
    StoreStats, StreamTail, validate_batch, validate_stream_id,
};
use super::{FeedEvent, IdempotencyRecord, IdempotencyWindow, WebhookDelivery, WebhookEndpoint};
use crate::clock::Clock;

/// The migrations this code knows, in order: (version, name, SQL).
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "event_store",
        include_str!("../../migrations/postgres/V1__event_store.sql"),
    ),
    (
        2,
        "saga_leases",
        include_str!("../../migrations/postgres/V2__saga_leases.sql"),
    ),
    (
        3,
        "idempotency_keys",
        include_str!("../../migrations/postgres/V3__idempotency_keys.sql"),
    ),
    (
        4,
        "order_summaries",
        include_str!("../../migrations/postgres/V4__order_summaries.sql"),
    ),
    (
        5,
        "event_feed_and_webhooks",
        include_str!("../../migrations/postgres/V5__event_feed_and_webhooks.sql"),
    ),
    (
        6,
        "stream_states",
        include_str!("../../migrations/postgres/V6__stream_states.sql"),
    ),
];

/// The key of the advisory lock that serialises migrations.
const MIGRATION_LOCK: i64 = 0x6f72_6465_725f_6d67; // "order_mg"

/// How often an append is retried after PostgreSQL aborted it for a
/// deadlock or a serialisation failure (nothing was written then).
const TRANSIENT_RETRIES: usize = 3;

/// Settings of a [`PostgresStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostgresOptions {
    /// Connections in the pool.
    pub pool_size: u32,
    /// How long a call waits for a free connection (or a new one) before it
    /// fails with `unavailable`.
    pub checkout_timeout: Duration,
    /// How long opening one connection may take.
    pub connect_timeout: Duration,
    /// The server cancels a statement that runs longer than this.
    pub statement_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            pool_size: 8,
            checkout_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(10),
        }
    }
}

/// An [`EventStore`] in a PostgreSQL database.
pub struct PostgresStore {
    pool: Pool<PostgresConnectionManager<NoTls>>,
    clock: Arc<dyn Clock>,
    /// The URL without its password, for messages.
    display: String,
}

impl PostgresStore {
    /// Whether `text` names a PostgreSQL store (`postgres://` or `postgresql://`).
    pub fn is_url(text: &str) -> bool {
        super::is_postgres_url(text)
    }

    /// Connects to `url` with the default [`PostgresOptions`] and migrates
    /// the schema.
    pub fn open(url: &str, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        Self::open_with(url, clock, PostgresOptions::default())
    }

    /// Connects to `url` with `options` and migrates the schema.
    pub fn open_with(
        url: &str,
        clock: Arc<dyn Clock>,
        options: PostgresOptions,
    ) -> anyhow::Result<Self> {
        let display = redact(url);
        let mut config = postgres::Config::from_str(url)
            .with_context(|| format!("the store URL {display} is not a PostgreSQL URL"))?;
        Self::open_config(&mut config, display, clock, options)
    }

    /// Connects with a parsed configuration (tests use it to pick a schema
    /// through `options`); `display` names the store in messages.
    pub fn open_config(
        config: &mut postgres::Config,
        display: String,
        clock: Arc<dyn Clock>,
        options: PostgresOptions,
    ) -> anyhow::Result<Self> {
        config.connect_timeout(options.connect_timeout);
        if config.get_application_name().is_none() {
            config.application_name("order-host");
        }
        let statement_timeout = options.statement_timeout.as_millis();
        let existing = config.get_options().unwrap_or_default().to_owned();
        config.options(format!("{existing} -c statement_timeout={statement_timeout}").trim());
        let manager = PostgresConnectionManager::new(config.clone(), NoTls);
        let pool = Pool::builder()
            .max_size(options.pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(options.checkout_timeout)
            .test_on_check_out(false)
            .build(manager)
            .with_context(|| format!("connecting to the event store {display}"))?;
        let store = Self {
            pool,
            clock,
            display,
        };
        store
            .migrate()
            .with_context(|| format!("migrating the event store {}", store.display))?;
        Ok(store)
    }

    /// The store's URL without its password.
    pub fn display_url(&self) -> &str {
        &self.display
    }

    /// The schema version the database has (the last migration applied).
    pub fn schema_version(&self) -> Result<i32, StoreError> {
        let mut conn = self.conn()?;
        let row = conn
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM order_host_migrations",
                &[],
            )
            .map_err(unavailable)?;
        Ok(row.get(0))
    }

    fn conn(&self) -> Result<PooledConnection<PostgresConnectionManager<NoTls>>, StoreError> {
        self.pool
            .get()
            .map_err(|e| StoreError::Unavailable(format!("postgres {}: {e}", self.display)))
    }

    fn migrate(&self) -> anyhow::Result<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // Every host starting at once waits here for the first to finish.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS order_host_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT    NOT NULL,
                applied_at BIGINT  NOT NULL
            )",
        )?;
        let applied: i32 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM order_host_migrations",
                &[],
            )?
            .get(0);
        let known = MIGRATIONS.last().map_or(0, |m| m.0);
        if applied > known {
            bail!(
                "the store has schema version {applied}; this host understands versions up to {known}"
            );
        }
        let now = to_sql(self.clock.now_ms())?;
        for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > applied) {
            tx.batch_execute(sql)
                .with_context(|| format!("applying migration V{version}__{name}"))?;
            if *version == read_model::postgres::MIGRATION {
                read_model::postgres::backfill(&mut tx)
                    .context("back-filling the order read model from the stored events")?;
            }
            tx.execute(
                "INSERT INTO order_host_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                &[version, name, &now],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn try_append(&self, client: &mut Client, batch: &AppendBatch) -> Result<(), TxError> {
        let mut tx = client.transaction()?;
        let mut streams: Vec<&super::StreamAppend> = batch.streams.iter().collect();
        streams.sort_by(|a, b| a.stream_id.cmp(&b.stream_id));
        let ids: Vec<&str> = streams.iter().map(|s| s.stream_id.as_str()).collect();

        if !ids.is_empty() {
            // New streams get a row at version 0 (a concurrent creator makes
            // this wait, then do nothing); then every row is locked in order.
            tx.execute(
                "INSERT INTO streams (stream_id, version)
                 SELECT id, 0 FROM unnest($1::text[]) AS s(id) ORDER BY id
                 ON CONFLICT (stream_id) DO NOTHING",
                &[&ids],
            )?;
            let rows = tx.query(
                "SELECT stream_id, version FROM streams
                 WHERE stream_id = ANY($1) ORDER BY stream_id FOR UPDATE",
                &[&ids],
            )?;
            for (stream, row) in streams.iter().zip(&rows) {
                let found: &str = row.get(0);
                let actual = from_sql(row.get(1))?;
                debug_assert_eq!(found, stream.stream_id);
                if actual != stream.expected_version {
                    // Dropping `tx` rolls back, also the version-0 rows.
                    return Err(TxError::Store(StoreError::Conflict {
                        stream_id: stream.stream_id.clone(),
                        expected: stream.expected_version,
                        actual,
                    }));
                }
            }
        }

        let recorded_at = to_sql(self.clock.now_ms())?;
        let (mut event_streams, mut versions, mut types, mut payloads) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut tag_names, mut tag_streams) = (Vec::new(), Vec::new());
        let (mut bumped, mut new_versions) = (Vec::new(), Vec::new());
        let (mut state_streams, mut state_versions, mut states) =
            (Vec::new(), Vec::new(), Vec::new());
        for stream in &streams {
            if let Some(state) = &stream.state {
                state_streams.push(stream.stream_id.as_str());
                state_versions.push(to_sql(stream.version_after())?);
                states.push(state.as_str());
            }
            for (version, event) in (stream.expected_version + 1..).zip(&stream.events) {
                event_streams.push(stream.stream_id.as_str());
                versions.push(to_sql(version)?);
                types.push(event.event_type.as_str());
                payloads.push(event.payload.as_str());
            }
            if !stream.events.is_empty() {
                bumped.push(stream.stream_id.as_str());
                new_versions.push(to_sql(stream.version_after())?);
            }
            for tag in &stream.tags {
                tag_names.push(tag.as_str());
                tag_streams.push(stream.stream_id.as_str());
            }
        }
        if !bumped.is_empty() {
            tx.execute(
                "UPDATE streams SET version = n.version
                 FROM unnest($1::text[], $2::bigint[]) AS n(stream_id, version)
                 WHERE streams.stream_id = n.stream_id",
                &[&bumped, &new_versions],
            )?;
            tx.execute(
                "INSERT INTO events (stream_id, version, event_type, payload, recorded_at)
                 SELECT s, v, t, p, $5
                 FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) AS e(s, v, t, p)",
                &[&event_streams, &versions, &types, &payloads, &recorded_at],
            )?;
            // Last before the commit: the feed's counter row stays locked
            // for as short a time as the append allows.
            feed::assign_positions(&mut tx, &event_streams, &versions)?;
        }
        if !tag_names.is_empty() {
            // WITH ORDINALITY keeps the batch's order in `seq`.
            tx.execute(
                "INSERT INTO stream_tags (tag, stream_id)
                 SELECT t, s FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(t, s, n)
                 ORDER BY n
                 ON CONFLICT (tag, stream_id) DO NOTHING",
                &[&tag_names, &tag_streams],
            )?;
        }
        if !states.is_empty() {
            tx.execute(
                "INSERT INTO stream_states (stream_id, version, state)
                 SELECT s, v, t FROM unnest($1::text[], $2::bigint[], $3::text[]) AS x(s, v, t)
                 ON CONFLICT (stream_id) DO UPDATE
                 SET version = excluded.version, state = excluded.state",
                &[&state_streams, &state_versions, &states],
            )?;
        }
        for timer in &batch.timers {
            match timer.due_at {
                Some(due_at) => tx.execute(
                    "INSERT INTO saga_timers (saga_id, due_at) VALUES ($1, $2)
                     ON CONFLICT (saga_id) DO UPDATE SET due_at = excluded.due_at",
                    &[&timer.saga_id, &to_sql(due_at)?],
                ),
                None => tx.execute(
                    "DELETE FROM saga_timers WHERE saga_id = $1",
                    &[&timer.saga_id],
                ),
            }?;
        }
        read_model::postgres::apply(&mut tx, batch, from_sql(recorded_at)?)?;
        commit(tx)
    }

    fn query_timers(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<SagaTimer>, StoreError> {
        rows::postgres_rows(&mut *self.conn()?, sql, params, rows::timer)
    }
}

/// Why one attempt of a transaction failed.
pub(super) enum TxError {
    Store(StoreError),
    Postgres(postgres::Error),
}

impl From<postgres::Error> for TxError {
    fn from(error: postgres::Error) -> Self {
        TxError::Postgres(error)
    }
}

impl From<StoreError> for TxError {
    fn from(error: StoreError) -> Self {
        TxError::Store(error)
    }
}

fn commit(tx: Transaction<'_>) -> Result<(), TxError> {
    tx.commit().map_err(|error| {
        // A commit whose answer was lost may or may not have happened; the
        // caller is told the store is unavailable, and its retry meets
        // either the write (a version conflict) or nothing.
        TxError::Postgres(error)
    })
}

fn is_retryable(error: &postgres::Error) -> bool {
    matches!(
        error.code(),
        Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
    )
}

impl EventStore for PostgresStore {
    fn load(&self, stream_id: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        validate_stream_id(stream_id)?;
        rows::postgres_rows(
            &mut *self.conn()?,
            &format!("SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY version"),
            &[&stream_id],
            |row| rows::recorded_event(row, 0),
        )
    }

    fn load_tail(&self, stream_id: &str) -> Result<StreamTail, StoreError> {
        validate_stream_id(stream_id)?;
        // One statement, so one snapshot: the record and the events after
        // it, one row per event (one row without an event when none
        // follows); the record's state travels in the first row only.
        let rows = rows::postgres_rows(
            &mut *self.conn()?,
            &format!(
                "SELECT r.version,
                        CASE WHEN row_number() OVER (ORDER BY e.version) = 1 THEN r.state END,
                        e.*
                 FROM (VALUES (1)) AS one (x)
                 LEFT JOIN stream_states r ON r.stream_id = $1
                 LEFT JOIN LATERAL (
                     SELECT {EVENT_COLUMNS} FROM events
                     WHERE stream_id = $1 AND version > COALESCE(r.version, 0)
                 ) AS e ON true
                 ORDER BY e.version"
            ),
            &[&stream_id],
            |row| {
                let event = if row.maybe_text(2)?.is_some() {
                    Some(rows::recorded_event(row, 2)?)
                } else {
                    None
                };
                Ok((row.maybe_int(0)?, row.maybe_text(1)?, event))
            },
        )?;
        let mut tail = StreamTail {
            state: None,
            events: Vec::with_capacity(rows.len()),
        };
        for (version, state, event) in rows {
            if let (Some(version), Some(state)) = (version, state) {
                tail.state = Some(StateRecord {
                    version: from_sql(version)?,
                    state,
                });
            }
            tail.events.extend(event);
        }
        Ok(tail)
    }

    fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
        validate_stream_id(stream_id)?;
        let row = self
            .conn()?
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM streams WHERE stream_id = $1",
                &[&stream_id],
            )
            .map_err(unavailable)?;
        from_sql(row.get(0))
    }

    fn append(&self, batch: &AppendBatch) -> Result<(), StoreError> {
        validate_batch(batch)?;
        let mut conn = self.conn()?;
        let mut attempt = 0;
        loop {
            match self.try_append(&mut conn, batch) {
                Ok(()) => return Ok(()),
                Err(TxError::Store(error)) => return Err(error),
                Err(TxError::Postgres(error))
                    if is_retryable(&error) && attempt < TRANSIENT_RETRIES =>
                {
                    attempt += 1;
                }
                Err(TxError::Postgres(error)) => return Err(unavailable(error)),
            }
        }
    }

    fn find_streams(&self, tag: &str) -> Result<Vec<String>, StoreError> {
        let rows = self
            .conn()?
            .query(
                "SELECT stream_id FROM stream_tags WHERE tag = $1 ORDER BY seq",
                &[&tag],
            )
            .map_err(unavailable)?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    fn due_timers(&self, now_ms: u64, limit: usize) -> Result<Vec<SagaTimer>, StoreError> {
        self.query_timers(
            "SELECT saga_id, due_at FROM saga_timers WHERE due_at <= $1
             ORDER BY due_at, saga_id LIMIT $2",
            &[&bound(now_ms), &bound(limit)],
        )
    }

    fn all_timers(&self) -> Result<Vec<SagaTimer>, StoreError> {
        self.query_timers(
            "SELECT saga_id, due_at FROM saga_timers ORDER BY due_at, saga_id",
            &[],
        )
    }

    fn stats(&self) -> Result<StoreStats, StoreError> {
        let row = self
            .conn()?
            .query_one(
                "SELECT (SELECT COUNT(*) FROM streams WHERE version > 0),
                        (SELECT COALESCE(SUM(version), 0)::bigint FROM streams),
                        (SELECT COUNT(*) FROM saga_timers)",
                &[],
            )
            .map_err(unavailable)?;
        Ok(StoreStats {
            streams: from_sql(row.get(0))?,
            events: from_sql(row.get(1))?,
            timers: from_sql(row.get(2))?,
        })
    }

    fn claim_due(
        &self,
        owner: &str,
        now_ms: u64,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<SagaClaim>, StoreError> {
        let now = bound(now_ms);
        let expires = to_sql(now_ms.saturating_add(lease_ms).min(i64::MAX as u64))?;
        let limit = bound(limit);
        // Timers locked by another host's claim are skipped, not waited
        // for; a lease that another host holds and that has not expired is
        // left alone (the ON CONFLICT condition reads the newest lease row,
        // so two hosts can never both take one saga).
        rows::postgres_rows(
            &mut *self.conn()?,
            "WITH due AS (
                    SELECT t.saga_id, t.due_at FROM saga_timers t
                    LEFT JOIN saga_leases l ON l.saga_id = t.saga_id
                    WHERE t.due_at <= $1
                      AND (l.saga_id IS NULL OR l.expires_at <= $1 OR l.owner = $2)
                    ORDER BY t.due_at, t.saga_id
                    LIMIT $4
                    FOR UPDATE OF t SKIP LOCKED
                 ), claimed AS (
                    INSERT INTO saga_leases (saga_id, owner, token, expires_at)
                    SELECT saga_id, $2, nextval('saga_lease_tokens'), $3 FROM due
                    ON CONFLICT (saga_id) DO UPDATE
                        SET owner = excluded.owner, token = excluded.token,
                            expires_at = excluded.expires_at
                        WHERE saga_leases.expires_at <= $1 OR saga_leases.owner = $2
                    RETURNING saga_id, token
                 )
                 SELECT c.saga_id, d.due_at, c.token FROM claimed c JOIN due d USING (saga_id)
                 ORDER BY d.due_at, c.saga_id",
            &[&now, &owner, &expires, &limit],
            |row| {
                Ok(SagaClaim {
                    token: row.number(2)?,
                    ..SagaClaim::unleased(rows::timer(row)?)
                })
            },
        )
    }

    fn release_claim(&self, claim: &SagaClaim) -> Result<bool, StoreError> {
        let token = to_sql(claim.token)?;
        let released = self
            .conn()?
            .execute(
                "DELETE FROM saga_leases WHERE saga_id = $1 AND token = $2",
                &[&claim.saga_id, &token],
            )
            .map_err(unavailable)?;
        Ok(released == 1)
    }

    fn release_claims(&self, claims: &[SagaClaim]) -> Result<usize, StoreError> {
        if claims.is_empty() {
            return Ok(0);
        }
        let ids: Vec<&str> = claims.iter().map(|c| c.saga_id.as_str()).collect();
        let tokens = claims
            .iter()
            .map(|c| to_sql(c.token))
            .collect::<Result<Vec<i64>, _>>()?;
        // One statement for the lot: each lease goes only with its own token.
        let released = self
            .conn()?
            .execute(
                "DELETE FROM saga_leases l
                 USING unnest($1::text[], $2::bigint[]) AS r(saga_id, token)
                 WHERE l.saga_id = r.saga_id AND l.token = r.token",
                &[&ids, &tokens],
            )
            .map_err(unavailable)?;
        Ok(usize::try_from(released).unwrap_or(usize::MAX))
    }

    fn begin_idempotent(
        &self,
        key: &str,
        fingerprint: &str,
        window: IdempotencyWindow,
    ) -> Result<IdempotencyRecord, StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction().map_err(unavailable)?;
        let now = to_sql(window.now_ms)?;
        // Of concurrent inserters one wins; the others wait for its commit
        // and then see its row.
        let inserted = tx
            .execute(
                "INSERT INTO idempotency_keys (key, fingerprint, started_at, response)
                 VALUES ($1, $2, $3, NULL) ON CONFLICT (key) DO NOTHING",
                &[&key, &fingerprint, &now],
            )
            .map_err(unavailable)?;
        if inserted == 1 {
            tx.commit().map_err(unavailable)?;
            return Ok(IdempotencyRecord::Started);
        }
        let row = tx
            .query_one(
                "SELECT fingerprint, started_at, response FROM idempotency_keys
                 WHERE key = $1 FOR UPDATE",
                &[&key],
            )
            .map_err(unavailable)?;
        if let Some(record) =
            IdempotencyRecord::held(window, row.text(0)?, row.number(1)?, row.maybe_text(2)?)
        {
            return Ok(record);
        }
        tx.execute(
            "UPDATE idempotency_keys SET fingerprint = $2, started_at = $3, response = NULL
             WHERE key = $1",
            &[&key, &fingerprint, &now],
        )
        .map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        Ok(IdempotencyRecord::Started)
    }

    fn finish_idempotent(&self, key: &str, response: &str) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "UPDATE idempotency_keys SET response = $2 WHERE key = $1",
                &[&key, &response],
            )
            .map_err(unavailable)?;
        Ok(())
    }

    fn abandon_idempotent(&self, key: &str) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "DELETE FROM idempotency_keys WHERE key = $1 AND response IS NULL",
                &[&key],
            )
            .map_err(unavailable)?;
        Ok(())
    }

    fn read_feed(&self, after: u64, limit: usize) -> Result<Vec<FeedEvent>, StoreError> {
        feed::read_feed(&mut *self.conn()?, after, limit)
    }

    fn feed_head(&self) -> Result<u64, StoreError> {
        feed::feed_head(&mut *self.conn()?)
    }

    fn create_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        feed::create_endpoint(&mut *self.conn()?, endpoint)
    }

    fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        feed::endpoints(&mut *self.conn()?)
    }

    fn webhook_endpoint(&self, id: &str) -> Result<Option<WebhookEndpoint>, StoreError> {
        feed::endpoint(&mut *self.conn()?, id)
    }

    fn delete_webhook_endpoint(&self, id: &str) -> Result<bool, StoreError> {
        feed::delete_endpoint(&mut *self.conn()?, id)
    }

    fn advance_webhook_endpoint(&self, id: &str, position: u64) -> Result<bool, StoreError> {
        feed::advance_endpoint(&mut *self.conn()?, id, position)
    }

    fn record_webhook_delivery(&self, delivery: &WebhookDelivery) -> Result<u64, StoreError> {
        feed::record_delivery(&mut *self.conn()?, delivery)
    }

    fn webhook_deliveries(
        &self,
        endpoint_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        feed::deliveries(&mut *self.conn()?, endpoint_id, after, limit)
    }

    fn lease_webhook_endpoint(
        &self,
        id: &str,
        owner: &str,
        now_ms: u64,
        lease_ms: u64,
    ) -> Result<bool, StoreError> {
        feed::lease_endpoint(&mut *self.conn()?, id, owner, now_ms, lease_ms)
    }

    fn list_orders(&self, query: &OrderQuery) -> Result<Vec<OrderSummary>, StoreError> {
        query.validate()?;
        read_model::postgres::list(&mut *self.conn()?, query)
    }

    fn order_summary(&self, order_id: &str) -> Result<Option<OrderSummary>, StoreError> {
        read_model::postgres::summary(&mut *self.conn()?, order_id)
    }
}

/// `url` without the password of its user, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info
                .split_once(':')
                .map_or(user_info, |(name, _)| name);
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        _ => url.to_owned(),
    }
}

/// The URL of the PostgreSQL server the tests use, from `ORDER_TEST_POSTGRES`.
///
/// # Panics
/// When it is not set: a test that needs PostgreSQL fails loudly rather than
/// passing without one (`make test` starts a throwaway server and sets it).
#[cfg(test)]
pub(crate) fn test_url() -> String {
    match std::env::var("ORDER_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "ORDER_TEST_POSTGRES is not set: run the tests with `make test` (it starts a \
             throwaway PostgreSQL) or set it to postgres://USER@HOST:PORT/DB of a server \
             whose database may be written to"
        ),
    }
}

/// A store in a fresh schema of the test server; dropping the guard drops the schema.
#[cfg(test)]
pub(crate) fn test_store(clock: Arc<dyn Clock>) -> (PostgresStore, TestSchema) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let url = test_url();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let schema = format!(
        "t_{}_{}_{}",
        std::process::id(),
        nanos,
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin =
        postgres::Client::connect(&url, NoTls).expect("connecting to ORDER_TEST_POSTGRES");
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap();
    let mut config = postgres::Config::from_str(&url).unwrap();
    config.options(&format!("-c search_path={schema}"));
    let store = PostgresStore::open_config(
        &mut config,
        redact(&url),
        clock,
        PostgresOptions {
            pool_size: 4,
            ..PostgresOptions::default()
        },
    )
    .unwrap();
    (store, TestSchema { admin, schema })
}

/// Drops its schema when dropped.
#[cfg(test)]
pub(crate) struct TestSchema {
    admin: postgres::Client,
    schema: String,
}

#[cfg(test)]
impl TestSchema {
    /// Another host's store on the same schema.
    pub(crate) fn second_host(&self, clock: Arc<dyn Clock>) -> PostgresStore {
        let mut config = postgres::Config::from_str(&test_url()).unwrap();
        config.options(&format!("-c search_path={}", self.schema));
        PostgresStore::open_config(
            &mut config,
            "second".into(),
            clock,
            PostgresOptions::default(),
        )
        .unwrap()
    }
}

#[cfg(test)]
impl Drop for TestSchema {
    fn drop(&mut self) {
        let _ = self
            .admin
            .batch_execute(&format!("DROP SCHEMA {} CASCADE", self.schema));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::TimerChange;
    use crate::store::conformance::{
        new_stream_with_timer, order_append, order_event, placed_event,
    };

    crate::store::conformance::conformance_tests!(|clock: Arc<ManualClock>| test_store(clock));

    #[test]
    fn a_second_host_on_the_same_schema_sees_the_writes_and_conflicts() {
        let clock = Arc::new(ManualClock::new(0));
        let (first, schema) = test_store(clock.clone());
        let second = schema.second_host(clock);
        first
            .append(&new_stream_with_timer("order-a", &[], 5))
            .unwrap();
        assert_eq!(second.load("order-a").unwrap().len(), 1);
        let error = second
            .append(&new_stream_with_timer("order-a", &[], 5))
            .unwrap_err();
        assert_eq!(
            error,
            StoreError::Conflict {
                stream_id: "order-a".to_owned(),
                expected: 0,
                actual: 1
            }
        );
        // The second host found every migration applied by the first.
        assert_eq!(
            second.schema_version().unwrap(),
            MIGRATIONS.last().map_or(0, |m| m.0)
        );
    }

    #[test]
    fn a_database_migrated_before_the_read_model_is_back_filled_by_v4() {
        let clock = Arc::new(ManualClock::new(0));
        let (first, schema) = test_store(clock.clone());
        for (order, customer) in [("o-1", "c-1"), ("o-2", "c-2")] {
            first
                .append(&order_append(
                    order,
                    0,
                    vec![
                        placed_event(order, customer, 7, 5),
                        order_event("order-cancelled", ""),
                    ],
                ))
                .unwrap();
        }
        let query = crate::store::OrderQuery {
            limit: 10,
            ..Default::default()
        };
        let before = first.list_orders(&query).unwrap();
        assert_eq!(before.len(), 2);
        // The database as a host before V4 left it.
        first
            .conn()
            .unwrap()
            .batch_execute(
                "DROP TABLE order_summaries; DROP TABLE webhook_deliveries, webhook_leases, \
                 webhook_endpoints, event_feed, event_feed_head; \
                 DELETE FROM order_host_migrations WHERE version >= 4",
            )
            .unwrap();
        assert_eq!(first.schema_version().unwrap(), 3);

        let second = schema.second_host(clock);
        assert_eq!(
            second.schema_version().unwrap(),
            MIGRATIONS.last().map_or(0, |m| m.0),
            "migrated to the newest version again"
        );
        let after = second.list_orders(&query).unwrap();
        assert_eq!(after, before, "back-filled from the events");
        assert_eq!(after[0].status, "cancelled");
    }

    #[test]
    fn a_claimed_saga_is_not_claimed_by_another_host_until_its_lease_runs_out() {
        let clock = Arc::new(ManualClock::new(0));
        let (store, _schema) = test_store(clock);
        store
            .append(&new_stream_with_timer("order-a", &[], 10))
            .unwrap();
        store
            .append(&new_stream_with_timer("order-b", &[], 20))
            .unwrap();

        let first = store.claim_due("host-1", 100, 1_000, 10).unwrap();
        assert_eq!(
            first.iter().map(|c| c.saga_id.as_str()).collect::<Vec<_>>(),
            ["order-a", "order-b"]
        );
        assert!(
            store
                .claim_due("host-2", 500, 1_000, 10)
                .unwrap()
                .is_empty()
        );

        // Past the lease host-2 takes over, with newer fencing tokens.
        let taken = store.claim_due("host-2", 1_100, 1_000, 10).unwrap();
        assert_eq!(taken.len(), 2);
        assert!(taken[0].token > first[0].token && taken[1].token > first[1].token);
        // host-1's stale token no longer releases the lease.
        assert!(!store.release_claim(&first[0]).unwrap());
        assert!(
            store
                .claim_due("host-1", 1_200, 1_000, 10)
                .unwrap()
                .is_empty()
        );
        assert!(store.release_claim(&taken[0]).unwrap());
        let again = store.claim_due("host-1", 1_200, 1_000, 10).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].saga_id, "order-a");
    }

    #[test]
    fn claims_given_back_together_free_only_the_leases_of_their_own_tokens() {
        let clock = Arc::new(ManualClock::new(0));
        let (store, _schema) = test_store(clock);
        for saga in ["order-a", "order-b", "order-c"] {
            store.append(&new_stream_with_timer(saga, &[], 10)).unwrap();
        }
        let first = store.claim_due("host-1", 100, 1_000, 10).unwrap();
        assert_eq!(first.len(), 3);
        // host-1 claims order-a again: its first token is stale now.
        let renewed = store.claim_due("host-1", 200, 1_000, 1).unwrap();
        assert_eq!(renewed[0].saga_id, "order-a");

        assert_eq!(store.release_claims(&first).unwrap(), 2);
        assert_eq!(store.release_claims(&[]).unwrap(), 0);
        let other = store.claim_due("host-2", 300, 1_000, 10).unwrap();
        assert_eq!(
            other.iter().map(|c| c.saga_id.as_str()).collect::<Vec<_>>(),
            ["order-b", "order-c"],
            "order-a stays host-1's"
        );
        assert_eq!(store.release_claims(&renewed).unwrap(), 1);
        assert_eq!(
            store.claim_due("host-2", 300, 1_000, 10).unwrap()[0].saga_id,
            "order-a"
        );
    }

    #[test]
    fn racing_claims_hand_each_saga_to_one_host() {
        let clock = Arc::new(ManualClock::new(0));
        let (store, _schema) = test_store(clock);
        for n in 0..40 {
            store
                .append(&new_stream_with_timer(&format!("order-{n:02}"), &[], 1))
                .unwrap();
        }
        let store = &store;
        // Four hosts claim, "run" (clear the timer, as a finished saga's
        // last append does) and release, until nothing is due.
        let claimed: Vec<Vec<String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|host| {
                    scope.spawn(move || {
                        let mut mine = Vec::new();
                        for _ in 0..100 {
                            let claims = store
                                .claim_due(&format!("host-{host}"), 10, 60_000, 3)
                                .unwrap();
                            if claims.is_empty() {
                                break;
                            }
                            for claim in claims {
                                store
                                    .append(&AppendBatch {
                                        streams: vec![],
                                        timers: vec![TimerChange {
                                            saga_id: claim.saga_id.clone(),
                                            due_at: None,
                                        }],
                                    })
                                    .unwrap();
                                assert!(store.release_claim(&claim).unwrap());
                                mine.push(claim.saga_id);
                            }
                        }
                        mine
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut all: Vec<&String> = claimed.iter().flatten().collect();
        assert_eq!(all.len(), 40, "every saga ran once: {claimed:?}");
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 40, "no saga ran on two hosts: {claimed:?}");
        assert!(store.all_timers().unwrap().is_empty());
    }

    #[test]
    fn an_unreachable_server_is_unavailable_not_a_panic() {
        let error = PostgresStore::open_with(
            "postgres://nobody@127.0.0.1:1/none",
            Arc::new(ManualClock::new(0)),
            PostgresOptions {
                checkout_timeout: Duration::from_millis(500),
                connect_timeout: Duration::from_millis(200),
                ..PostgresOptions::default()
            },
        )
        .err()
        .unwrap();
        assert!(
            format!("{error:#}")
                .contains("connecting to the event store postgres://nobody@127.0.0.1:1/none"),
            "{error:#}"
        );
    }

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("postgres://shop:secret@db:5432/orders"),
            "postgres://shop:***@db:5432/orders"
        );
        assert_eq!(
            redact("postgres://shop@db/orders"),
            "postgres://shop@db/orders"
        );
    }
}
