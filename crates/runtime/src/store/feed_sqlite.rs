//! The feed and the webhook tables of [`super::SqliteStore`].
//!
//! A position is the rowid of `events` (schema 2), given by the append's
//! insert: SQLite has one writer, so rowids grow in commit order.
//! `AUTOINCREMENT` keeps a rolled-back or deleted position from ever being
//! handed out again.

use rusqlite::{Connection, params};

use super::feed::{endpoint_exists, validate_endpoint};
use super::rows::{
    self, DELIVERY_COLUMNS, ENDPOINT_COLUMNS, bound, from_sql, sqlite_unavailable as unavailable,
    to_sql,
};
use super::sqlite::{EVENT_COLUMNS, EVENT_JOIN};
use super::{FeedEvent, StoreError, WebhookDelivery, WebhookEndpoint};

/// Not part of the versioned schema, like the idempotency table: a file
/// without them gets them on open.
pub(super) const WEBHOOK_TABLES: &str = "
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

pub(super) fn read_feed(
    conn: &Connection,
    after: u64,
    limit: usize,
) -> Result<Vec<FeedEvent>, StoreError> {
    super::sqlite::query_rows(
        conn,
        &format!(
            "SELECT e.position, {EVENT_COLUMNS} FROM {EVENT_JOIN}
             WHERE e.position > ?1 ORDER BY e.position LIMIT ?2"
        ),
        params![bound(after), bound(limit)],
        |row| {
            Ok(FeedEvent {
                position: from_sql(row.get(0).map_err(unavailable)?)?,
                event: super::sqlite::recorded_event(row, 1)?,
            })
        },
    )
}

pub(super) fn feed_head(conn: &Connection) -> Result<u64, StoreError> {
    let head: i64 = conn
        .query_row("SELECT COALESCE(MAX(position), 0) FROM events", [], |row| {
            row.get(0)
        })
        .map_err(unavailable)?;
    from_sql(head)
}

pub(super) fn create_endpoint(
    conn: &Connection,
    endpoint: &WebhookEndpoint,
) -> Result<(), StoreError> {
    validate_endpoint(endpoint)?;
    let (id, url, types, secret, created_at, position) = rows::endpoint_values(endpoint)?;
    let inserted = conn
        .execute(
            &format!(
                "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING"
            ),
            params![id, url, types, secret, created_at, position],
        )
        .map_err(unavailable)?;
    if inserted == 0 {
        return Err(endpoint_exists(endpoint));
    }
    Ok(())
}

pub(super) fn endpoints(conn: &Connection) -> Result<Vec<WebhookEndpoint>, StoreError> {
    rows::sqlite_rows(
        conn,
        &format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id"),
        [],
        |row| rows::endpoint(row),
    )
}

pub(super) fn endpoint(conn: &Connection, id: &str) -> Result<Option<WebhookEndpoint>, StoreError> {
    rows::sqlite_row(
        conn,
        &format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?1"),
        [id],
        |row| rows::endpoint(row),
    )
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
    rows::sqlite_rows(
        conn,
        &format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
             WHERE endpoint_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
        ),
        params![endpoint_id, bound(after), bound(limit)],
        |row| rows::delivery(row, endpoint_id),
    )
}
