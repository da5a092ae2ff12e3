//! What the SQLite and PostgreSQL stores share below their SQL: one mapping
//! per row shape (a timer, a webhook endpoint, a delivery, an order
//! summary; an event and a feed event for PostgreSQL, whose events table
//! keeps names and payloads as text, where SQLite's schema 2 interns them
//! and encodes the payload), read through [`Columns`], which both drivers'
//! rows implement, and the conversions between the stores' signed integers
//! and the host's unsigned ones.
//!
//! A value the driver cannot read, or a negative number where only a count
//! or a time can stand, is [`StoreError::Unavailable`]: the store is
//! damaged, and nothing is made up in its place.

use super::read_model::{OrderSummary, SagaState};
#[cfg(feature = "postgres")]
use super::{FeedEvent, RecordedEvent};
use super::{SagaTimer, StoreError, WebhookDelivery, WebhookEndpoint};

/// The columns of one row, as the host reads them.
pub(super) trait Columns {
    /// A `TEXT` column.
    fn text(&self, index: usize) -> Result<String, StoreError>;
    /// A `TEXT` column that may be `NULL`.
    fn maybe_text(&self, index: usize) -> Result<Option<String>, StoreError>;
    /// An integer column.
    fn int(&self, index: usize) -> Result<i64, StoreError>;
    /// An integer column that may be `NULL`.
    fn maybe_int(&self, index: usize) -> Result<Option<i64>, StoreError>;
    /// A boolean column.
    fn flag(&self, index: usize) -> Result<bool, StoreError>;

    /// An integer column that holds a count, a version or a time.
    fn number(&self, index: usize) -> Result<u64, StoreError> {
        from_sql(self.int(index)?)
    }
}

impl Columns for rusqlite::Row<'_> {
    fn text(&self, index: usize) -> Result<String, StoreError> {
        self.get(index).map_err(sqlite_unavailable)
    }

    fn maybe_text(&self, index: usize) -> Result<Option<String>, StoreError> {
        self.get(index).map_err(sqlite_unavailable)
    }

    fn int(&self, index: usize) -> Result<i64, StoreError> {
        self.get(index).map_err(sqlite_unavailable)
    }

    fn maybe_int(&self, index: usize) -> Result<Option<i64>, StoreError> {
        self.get(index).map_err(sqlite_unavailable)
    }

    fn flag(&self, index: usize) -> Result<bool, StoreError> {
        self.get(index).map_err(sqlite_unavailable)
    }
}

#[cfg(feature = "postgres")]
impl Columns for postgres::Row {
    fn text(&self, index: usize) -> Result<String, StoreError> {
        self.try_get(index).map_err(postgres_unavailable)
    }

    fn maybe_text(&self, index: usize) -> Result<Option<String>, StoreError> {
        self.try_get(index).map_err(postgres_unavailable)
    }

    fn int(&self, index: usize) -> Result<i64, StoreError> {
        self.maybe_int(index)?.ok_or_else(|| {
            StoreError::Unavailable(format!("corrupt store: column {index} is NULL"))
        })
    }

    /// `BIGINT` and `INTEGER` columns alike (the delivery log keeps its
    /// attempt and status as `INTEGER`).
    fn maybe_int(&self, index: usize) -> Result<Option<i64>, StoreError> {
        let four_bytes = self
            .columns()
            .get(index)
            .is_some_and(|c| *c.type_() == postgres::types::Type::INT4);
        if four_bytes {
            let value: Option<i32> = self.try_get(index).map_err(postgres_unavailable)?;
            return Ok(value.map(i64::from));
        }
        self.try_get(index).map_err(postgres_unavailable)
    }

    fn flag(&self, index: usize) -> Result<bool, StoreError> {
        self.try_get(index).map_err(postgres_unavailable)
    }
}

pub(super) fn sqlite_unavailable(error: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {error}"))
}

#[cfg(feature = "postgres")]
pub(super) fn postgres_unavailable(error: postgres::Error) -> StoreError {
    StoreError::Unavailable(format!("postgres: {error}"))
}

/// A number to store; one past `i64::MAX` is refused (the batch and the
/// component bound every amount and time, so only a bad request gets here).
pub(super) fn to_sql(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Invalid(format!("{value} is too large to store")))
}

/// A stored number that only a damaged store has negative.
pub(super) fn from_sql(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value)
        .map_err(|_| StoreError::Unavailable(format!("corrupt store: negative number {value}")))
}

/// A bound of a query (a time, a position, a limit): past the largest
/// storable number every stored one is below it.
pub(super) fn bound(value: impl TryInto<i64>) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

/// The columns [`recorded_event`] reads.
#[cfg(feature = "postgres")]
pub(super) const EVENT_COLUMNS: &str = "stream_id, version, event_type, payload, recorded_at";

/// An event from [`EVENT_COLUMNS`], starting at column `first`.
#[cfg(feature = "postgres")]
pub(super) fn recorded_event(
    row: &(impl Columns + ?Sized),
    first: usize,
) -> Result<RecordedEvent, StoreError> {
    Ok(RecordedEvent {
        stream_id: row.text(first)?,
        version: row.number(first + 1)?,
        event_type: row.text(first + 2)?,
        payload: row.text(first + 3)?,
        recorded_at: row.number(first + 4)?,
    })
}

/// The feed's query, the same in both dialects but for the placeholders.
#[cfg(feature = "postgres")]
pub(super) fn feed_sql(after: &str, limit: &str) -> String {
    format!(
        "SELECT f.position, e.stream_id, e.version, e.event_type, e.payload, e.recorded_at
         FROM event_feed f JOIN events e ON e.stream_id = f.stream_id AND e.version = f.version
         WHERE f.position > {after} ORDER BY f.position LIMIT {limit}"
    )
}

/// A feed event from the columns of [`feed_sql`].
#[cfg(feature = "postgres")]
pub(super) fn feed_event(row: &(impl Columns + ?Sized)) -> Result<FeedEvent, StoreError> {
    Ok(FeedEvent {
        position: row.number(0)?,
        event: recorded_event(row, 1)?,
    })
}

/// A timer from its `saga_id, due_at` columns.
pub(super) fn timer(row: &(impl Columns + ?Sized)) -> Result<SagaTimer, StoreError> {
    Ok(SagaTimer {
        saga_id: row.text(0)?,
        due_at: row.number(1)?,
    })
}

/// The columns [`endpoint`] reads.
pub(super) const ENDPOINT_COLUMNS: &str = "id, url, event_types, secret, created_at, position";

/// A webhook endpoint from [`ENDPOINT_COLUMNS`].
pub(super) fn endpoint(row: &(impl Columns + ?Sized)) -> Result<WebhookEndpoint, StoreError> {
    Ok(WebhookEndpoint {
        id: row.text(0)?,
        url: row.text(1)?,
        // Event types never contain a space.
        event_types: split(&row.text(2)?, ' '),
        secret: row.text(3)?,
        created_at: row.number(4)?,
        position: row.number(5)?,
    })
}

/// The values of `endpoint` in the order of [`ENDPOINT_COLUMNS`].
pub(super) fn endpoint_values(
    endpoint: &WebhookEndpoint,
) -> Result<(&str, &str, String, &str, i64, i64), StoreError> {
    Ok((
        &endpoint.id,
        &endpoint.url,
        endpoint.event_types.join(" "),
        &endpoint.secret,
        to_sql(endpoint.created_at)?,
        to_sql(endpoint.position)?,
    ))
}

/// The columns [`delivery`] reads.
pub(super) const DELIVERY_COLUMNS: &str =
    "seq, event_id, position, attempt, status, error, attempted_at";

/// One attempt of `endpoint_id`'s delivery log from [`DELIVERY_COLUMNS`].
pub(super) fn delivery(
    row: &(impl Columns + ?Sized),
    endpoint_id: &str,
) -> Result<WebhookDelivery, StoreError> {
    let attempt = row.int(3)?;
    let status = row.maybe_int(4)?;
    Ok(WebhookDelivery {
        seq: row.number(0)?,
        endpoint_id: endpoint_id.to_owned(),
        event_id: row.text(1)?,
        position: row.number(2)?,
        attempt: u32::try_from(attempt).unwrap_or(0),
        status: status.and_then(|s| u16::try_from(s).ok()),
        error: row.maybe_text(5)?,
        attempted_at: row.number(6)?,
    })
}

/// The columns [`summary`] reads.
pub(super) const SUMMARY_COLUMNS: &str = "order_id, customer_id, status, saga, currency, total, \
                                          created_at, placed_at, updated_at, version, \
                                          saga_finished, stalled";

/// An order summary from [`SUMMARY_COLUMNS`]. Its numbers are read
/// leniently (a damaged negative one as 0): the summary is derived from
/// the events and rebuilt from them, never the record of anything.
pub(super) fn summary(row: &(impl Columns + ?Sized)) -> Result<OrderSummary, StoreError> {
    let saga = row.maybe_text(3)?;
    Ok(OrderSummary {
        order_id: row.text(0)?,
        customer_id: row.text(1)?,
        status: row.text(2)?,
        saga: saga.as_deref().and_then(SagaState::parse),
        currency: row.text(4)?,
        total: lenient(row.int(5)?),
        created_at: lenient(row.int(6)?),
        placed_at: row.maybe_int(7)?.map(lenient),
        updated_at: lenient(row.int(8)?),
        version: lenient(row.int(9)?),
        saga_finished: row.flag(10)?,
        stalled: split(&row.text(11)?, ','),
    })
}

/// A number of the read model to store: amounts and times are at most
/// `i64::MAX` in every store (the batch and the component bound them); the
/// clamp only keeps a damaged value from wrapping.
pub(super) fn clamp(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A stored number of the read model (a damaged negative one reads as 0;
/// the back-fill reads the events strictly).
pub(super) fn lenient(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A list kept in one column, its items separated by `separator` (which
/// none of them contains).
fn split(text: &str, separator: char) -> Vec<String> {
    text.split(separator)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Every row `sql` selects from SQLite, each mapped by `map`.
pub(super) fn sqlite_rows<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
    map: impl Fn(&dyn Columns) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = conn.prepare_cached(sql).map_err(sqlite_unavailable)?;
    let mut rows = statement.query(params).map_err(sqlite_unavailable)?;
    let mut found = Vec::new();
    while let Some(row) = rows.next().map_err(sqlite_unavailable)? {
        found.push(map(row as &dyn Columns)?);
    }
    Ok(found)
}

/// The row `sql` selects from SQLite by a unique key, if any, mapped by `map`.
pub(super) fn sqlite_row<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
    map: impl Fn(&dyn Columns) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    Ok(sqlite_rows(conn, sql, params, map)?.into_iter().next())
}

/// Every row `sql` selects from PostgreSQL, each mapped by `map`.
#[cfg(feature = "postgres")]
pub(super) fn postgres_rows<T>(
    client: &mut impl postgres::GenericClient,
    sql: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
    map: impl Fn(&postgres::Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let rows = client.query(sql, params).map_err(postgres_unavailable)?;
    rows.iter().map(map).collect()
}

/// Every event of the order streams, stream by stream in version order, as
/// [`super::read_model::Backfill`] reads them.
#[cfg(feature = "postgres")]
pub(super) const ORDER_EVENTS_SQL: &str =
    "SELECT stream_id, version, event_type, payload, recorded_at FROM events
     WHERE stream_id >= 'order-' AND stream_id < 'order.' ORDER BY stream_id, version";
