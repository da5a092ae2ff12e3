//! The feed and the webhook tables of [`super::SqliteStore`].
//!
//! A position is the rowid of `event_feed`, inserted by the append in the
//! same transaction (and savepoint) as its event: SQLite has one writer, so
//! rowids grow in commit order. `AUTOINCREMENT` keeps a rolled-back or
//! deleted position from ever being handed out again.

use rusqlite::{Connection, OptionalExtension as _, params};

use super::feed::{join_types, split_types, validate_endpoint};
use super::{FeedEvent, RecordedEvent, StoreError, WebhookDelivery, WebhookEndpoint};

/// Not part of the versioned schema, like the idempotency table: a file
/// without it gets it on open, with every event already stored given a
/// position in the order it was recorded.
pub(super) const FEED_TABLES: &str = "
CREATE TABLE IF NOT EXISTS event_feed (
    position  INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id TEXT    NOT NULL,
    version   INTEGER NOT NULL,
    UNIQUE (stream_id, version)
);

CREATE TABLE IF NOT EXISTS webhook_endpoints (
    id          TEXT    PRIMARY KEY,
    url         TEXT    NOT NULL,
    event_types TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    position    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS webhook_deliveries (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id  TEXT    NOT NULL,
    event_id     TEXT    NOT NULL,
    position     INTEGER NOT NULL,
    attempt      INTEGER NOT NULL,
    status       INTEGER,
    error        TEXT,
    attempted_at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS webhook_deliveries_by_endpoint
    ON webhook_deliveries (endpoint_id, seq);
";

/// Creates the tables inside the open transaction; a file that had no feed
/// yet gets its events numbered (oldest recorded first).
pub(super) fn prepare(conn: &Connection) -> rusqlite::Result<()> {
    let had_feed: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'event_feed')",
        [],
        |row| row.get(0),
    )?;
    conn.execute_batch(FEED_TABLES)?;
    if !had_feed {
        conn.execute(
            "INSERT INTO event_feed (stream_id, version)
             SELECT stream_id, version FROM events ORDER BY recorded_at, stream_id, version",
            [],
        )?;
    }
    Ok(())
}

/// The append's hook: the next position for one event just inserted.
pub(super) fn insert_position(
    conn: &Connection,
    stream_id: &str,
    version: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO event_feed (stream_id, version) VALUES (?1, ?2)")
        .and_then(|mut s| s.execute(params![stream_id, version]))
        .map(drop)
        .map_err(unavailable)
}

pub(super) fn read_feed(
    conn: &Connection,
    after: u64,
    limit: usize,
) -> Result<Vec<FeedEvent>, StoreError> {
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut statement = conn
        .prepare_cached(
            "SELECT f.position, e.stream_id, e.version, e.event_type, e.payload, e.recorded_at
             FROM event_feed f JOIN events e ON e.stream_id = f.stream_id AND e.version = f.version
             WHERE f.position > ?1 ORDER BY f.position LIMIT ?2",
        )
        .map_err(unavailable)?;
    let rows = statement
        .query_map(params![after, limit], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, i64>(5)?,
            ))
        })
        .map_err(unavailable)?;
    let mut events = Vec::new();
    for row in rows {
        let (position, stream_id, version, event_type, payload, recorded_at) =
            row.map_err(unavailable)?;
        events.push(FeedEvent {
            position: from_sql(position)?,
            event: RecordedEvent {
                stream_id,
                version: from_sql(version)?,
                event_type,
                payload,
                recorded_at: from_sql(recorded_at)?,
            },
        });
    }
    Ok(events)
}

pub(super) fn feed_head(conn: &Connection) -> Result<u64, StoreError> {
    let head: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(position), 0) FROM event_feed",
            [],
            |row| row.get(0),
        )
        .map_err(unavailable)?;
    from_sql(head)
}

pub(super) fn create_endpoint(
    conn: &Connection,
    endpoint: &WebhookEndpoint,
) -> Result<(), StoreError> {
    validate_endpoint(endpoint)?;
    let inserted = conn
        .execute(
            "INSERT INTO webhook_endpoints (id, url, event_types, secret, created_at, position)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING",
            params![
                endpoint.id,
                endpoint.url,
                join_types(&endpoint.event_types),
                endpoint.secret,
                to_sql(endpoint.created_at)?,
                to_sql(endpoint.position)?
            ],
        )
        .map_err(unavailable)?;
    if inserted == 0 {
        return Err(StoreError::Invalid(format!(
            "webhook endpoint `{}` exists already",
            endpoint.id
        )));
    }
    Ok(())
}

const ENDPOINT_COLUMNS: &str = "id, url, event_types, secret, created_at, position";

fn endpoint_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(WebhookEndpoint, i64, i64)> {
    Ok((
        WebhookEndpoint {
            id: row.get(0)?,
            url: row.get(1)?,
            event_types: split_types(&row.get::<_, String>(2)?),
            secret: row.get(3)?,
            created_at: 0,
            position: 0,
        },
        row.get(4)?,
        row.get(5)?,
    ))
}

fn finish_endpoint(
    (mut endpoint, created_at, position): (WebhookEndpoint, i64, i64),
) -> Result<WebhookEndpoint, StoreError> {
    endpoint.created_at = from_sql(created_at)?;
    endpoint.position = from_sql(position)?;
    Ok(endpoint)
}

pub(super) fn endpoints(conn: &Connection) -> Result<Vec<WebhookEndpoint>, StoreError> {
    let mut statement = conn
        .prepare_cached(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id"
        ))
        .map_err(unavailable)?;
    let rows = statement.query_map([], endpoint_row).map_err(unavailable)?;
    rows.map(|row| finish_endpoint(row.map_err(unavailable)?))
        .collect()
}

pub(super) fn endpoint(conn: &Connection, id: &str) -> Result<Option<WebhookEndpoint>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?1"
    ))
    .and_then(|mut s| s.query_row([id], endpoint_row).optional())
    .map_err(unavailable)?
    .map(finish_endpoint)
    .transpose()
}

pub(super) fn delete_endpoint(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    conn.execute(
        "DELETE FROM webhook_deliveries WHERE endpoint_id = ?1",
        [id],
    )
    .map_err(unavailable)?;
    let deleted = conn
        .execute("DELETE FROM webhook_endpoints WHERE id = ?1", [id])
        .map_err(unavailable)?;
    Ok(deleted == 1)
}

pub(super) fn advance_endpoint(
    conn: &Connection,
    id: &str,
    position: u64,
) -> Result<bool, StoreError> {
    let position = to_sql(position)?;
    let exists = conn
        .execute(
            "UPDATE webhook_endpoints SET position = MAX(position, ?2) WHERE id = ?1",
            params![id, position],
        )
        .map_err(unavailable)?;
    Ok(exists == 1)
}

pub(super) fn record_delivery(
    conn: &Connection,
    delivery: &WebhookDelivery,
) -> Result<u64, StoreError> {
    conn.execute(
        "INSERT INTO webhook_deliveries
             (endpoint_id, event_id, position, attempt, status, error, attempted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            delivery.endpoint_id,
            delivery.event_id,
            to_sql(delivery.position)?,
            delivery.attempt,
            delivery.status,
            delivery.error,
            to_sql(delivery.attempted_at)?
        ],
    )
    .map_err(unavailable)?;
    from_sql(conn.last_insert_rowid())
}

pub(super) fn deliveries(
    conn: &Connection,
    endpoint_id: &str,
    after: u64,
    limit: usize,
) -> Result<Vec<WebhookDelivery>, StoreError> {
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut statement = conn
        .prepare_cached(
            "SELECT seq, event_id, position, attempt, status, error, attempted_at
             FROM webhook_deliveries WHERE endpoint_id = ?1 AND seq > ?2
             ORDER BY seq LIMIT ?3",
        )
        .map_err(unavailable)?;
    let rows = statement
        .query_map(params![endpoint_id, after, limit], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, u32>(3)?,
                row.get::<_, Option<u16>>(4)?,
                row.get::<_, Option<String>>(5)?,
                row.get::<_, i64>(6)?,
            ))
        })
        .map_err(unavailable)?;
    let mut log = Vec::new();
    for row in rows {
        let (seq, event_id, position, attempt, status, error, attempted_at) =
            row.map_err(unavailable)?;
        log.push(WebhookDelivery {
            seq: from_sql(seq)?,
            endpoint_id: endpoint_id.to_owned(),
            event_id,
            position: from_sql(position)?,
            attempt,
            status,
            error,
            attempted_at: from_sql(attempted_at)?,
        });
    }
    Ok(log)
}

fn unavailable(error: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {error}"))
}

fn to_sql(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Invalid(format!("{value} is too large to store")))
}

fn from_sql(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value)
        .map_err(|_| StoreError::Unavailable(format!("corrupt store: negative number {value}")))
}
