//! The order read model in SQLite: the `order_summaries` table, written in
//! the transaction of each append, created (and back-filled from the
//! events) when a file without it is opened.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension as _, Row, params, params_from_iter};

use super::{OrderQuery, OrderSummary, SagaState, order_id_of_stream};
use crate::store::{AppendBatch, StoreError};

/// The table and the indexes of the listings: all orders, by customer, by
/// status, by saga state (each newest first), and by last update.
pub(crate) const TABLE: &str = "
CREATE TABLE IF NOT EXISTS order_summaries (
    order_id      TEXT    PRIMARY KEY,
    customer_id   TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    saga          TEXT,
    currency      TEXT    NOT NULL,
    total         INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    placed_at     INTEGER,
    listed_at     INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    saga_finished INTEGER NOT NULL,
    stalled       TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS order_summaries_by_listing ON order_summaries (listed_at, order_id);
CREATE INDEX IF NOT EXISTS order_summaries_by_customer
    ON order_summaries (customer_id, listed_at, order_id);
CREATE INDEX IF NOT EXISTS order_summaries_by_status
    ON order_summaries (status, listed_at, order_id);
CREATE INDEX IF NOT EXISTS order_summaries_by_saga ON order_summaries (saga, listed_at, order_id);
CREATE INDEX IF NOT EXISTS order_summaries_by_update ON order_summaries (updated_at);
";

const COLUMNS: &str = "order_id, customer_id, status, saga, currency, total, created_at, \
                       placed_at, updated_at, version, saga_finished, stalled";

/// Creates the table when `existed` says it is missing, and back-fills it
/// from the events already stored (once: the table then exists).
pub(crate) fn create(conn: &Connection, existed: bool) -> Result<(), rusqlite::Error> {
    conn.execute_batch(TABLE)?;
    if existed {
        return Ok(());
    }
    let mut statement = conn.prepare(
        "SELECT stream_id, version, event_type, payload, recorded_at FROM events
         WHERE stream_id >= 'order-' AND stream_id < 'order.' ORDER BY stream_id, version",
    )?;
    let mut rows = statement.query([])?;
    let mut current: Option<(String, Option<OrderSummary>)> = None;
    while let Some(row) = rows.next()? {
        let stream: String = row.get(0)?;
        let Some(order_id) = order_id_of_stream(&stream) else {
            continue;
        };
        if current.as_ref().is_none_or(|(s, _)| *s != stream) {
            if let Some((_, Some(summary))) = current.take() {
                write(conn, &summary).map_err(sql_error)?;
            }
            current = Some((stream.clone(), None));
        }
        if let Some((_, summary)) = current.as_mut() {
            *summary = OrderSummary::evolve(
                summary.take(),
                order_id,
                &row.get::<_, String>(2)?,
                &row.get::<_, String>(3)?,
                row.get::<_, i64>(1)?.max(0) as u64,
                row.get::<_, i64>(4)?.max(0) as u64,
            );
        }
    }
    if let Some((_, Some(summary))) = current {
        write(conn, &summary).map_err(sql_error)?;
    }
    Ok(())
}

fn sql_error(error: StoreError) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(error.to_string().into())
}

/// Folds the order events of `batch` into their summaries, inside the
/// append's transaction (its savepoint rolls them back with the events).
pub(crate) fn apply(
    conn: &Connection,
    batch: &AppendBatch,
    recorded_at: u64,
) -> Result<(), StoreError> {
    for stream in &batch.streams {
        let Some(order_id) = order_id_of_stream(&stream.stream_id) else {
            continue;
        };
        if stream.events.is_empty() {
            continue;
        }
        let mut summary = summary(conn, order_id)?;
        for (version, event) in (stream.expected_version + 1..).zip(&stream.events) {
            summary = OrderSummary::evolve(
                summary,
                order_id,
                &event.event_type,
                &event.payload,
                version,
                recorded_at,
            );
        }
        if let Some(summary) = summary {
            write(conn, &summary)?;
        }
    }
    Ok(())
}

fn write(conn: &Connection, s: &OrderSummary) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO order_summaries (order_id, customer_id, status, saga, currency,
             total, created_at, placed_at, listed_at, updated_at, version, saga_finished, stalled)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )
    .and_then(|mut statement| {
        statement.execute(params![
            s.order_id,
            s.customer_id,
            s.status,
            s.saga.map(SagaState::as_str),
            s.currency,
            clamp(s.total),
            clamp(s.created_at),
            s.placed_at.map(clamp),
            clamp(s.listed_at()),
            clamp(s.updated_at),
            clamp(s.version),
            s.saga_finished,
            s.stalled.join(","),
        ])
    })
    .map(drop)
    .map_err(unavailable)
}

/// The summary of `order_id`, if it has one.
pub(crate) fn summary(
    conn: &Connection,
    order_id: &str,
) -> Result<Option<OrderSummary>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM order_summaries WHERE order_id = ?1"
    ))
    .and_then(|mut statement| statement.query_row([order_id], from_row).optional())
    .map_err(unavailable)
}

/// The SQL and parameters of a listing (shared with the query-plan test).
pub(crate) fn list_sql(query: &OrderQuery) -> (String, Vec<SqlValue>) {
    let mut sql = format!("SELECT {COLUMNS} FROM order_summaries");
    let mut filters: Vec<String> = Vec::new();
    let mut values: Vec<SqlValue> = Vec::new();
    let next = |values: &mut Vec<SqlValue>, value: SqlValue| {
        values.push(value);
        format!("?{}", values.len())
    };
    if let Some(customer) = &query.customer_id {
        let p = next(&mut values, SqlValue::Text(customer.clone()));
        filters.push(format!("customer_id = {p}"));
    }
    if !query.statuses.is_empty() {
        let list: Vec<String> = query
            .statuses
            .iter()
            .map(|s| next(&mut values, SqlValue::Text(s.clone())))
            .collect();
        filters.push(format!("status IN ({})", list.join(", ")));
    }
    if !query.sagas.is_empty() {
        let list: Vec<String> = query
            .sagas
            .iter()
            .map(|s| next(&mut values, SqlValue::Text(s.as_str().to_owned())))
            .collect();
        filters.push(format!("saga IN ({})", list.join(", ")));
    }
    if let Some(from) = query.placed_from {
        let p = next(&mut values, SqlValue::Integer(clamp(from)));
        filters.push(format!("placed_at >= {p}"));
    }
    if let Some(to) = query.placed_to {
        let p = next(&mut values, SqlValue::Integer(clamp(to)));
        filters.push(format!("placed_at < {p}"));
    }
    if let Some(since) = query.updated_since {
        let p = next(&mut values, SqlValue::Integer(clamp(since)));
        filters.push(format!("updated_at >= {p}"));
    }
    if let Some(after) = &query.after {
        let at = next(&mut values, SqlValue::Integer(clamp(after.listed_at)));
        let id = next(&mut values, SqlValue::Text(after.order_id.clone()));
        filters.push(format!("(listed_at, order_id) < ({at}, {id})"));
    }
    if !filters.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&filters.join(" AND "));
    }
    let limit = next(
        &mut values,
        SqlValue::Integer(i64::try_from(query.limit).unwrap_or(i64::MAX)),
    );
    sql.push_str(&format!(
        " ORDER BY listed_at DESC, order_id DESC LIMIT {limit}"
    ));
    (sql, values)
}

/// The summaries `query` selects, newest first.
pub(crate) fn list(conn: &Connection, query: &OrderQuery) -> Result<Vec<OrderSummary>, StoreError> {
    let (sql, values) = list_sql(query);
    let mut statement = conn.prepare_cached(&sql).map_err(unavailable)?;
    let rows = statement
        .query_map(params_from_iter(values), from_row)
        .map_err(unavailable)?;
    rows.collect::<Result<_, _>>().map_err(unavailable)
}

fn from_row(row: &Row<'_>) -> Result<OrderSummary, rusqlite::Error> {
    let saga: Option<String> = row.get(3)?;
    let stalled: String = row.get(11)?;
    Ok(OrderSummary {
        order_id: row.get(0)?,
        customer_id: row.get(1)?,
        status: row.get(2)?,
        saga: saga.as_deref().and_then(SagaState::parse),
        currency: row.get(4)?,
        total: unclamp(row.get(5)?),
        created_at: unclamp(row.get(6)?),
        placed_at: row.get::<_, Option<i64>>(7)?.map(unclamp),
        updated_at: unclamp(row.get(8)?),
        version: unclamp(row.get(9)?),
        saga_finished: row.get(10)?,
        stalled: stalled
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// Amounts and times are at most `i64::MAX` in every store (the batch and
/// the component bound them); the clamp only keeps a damaged value from
/// wrapping.
fn clamp(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn unclamp(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn unavailable(error: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {error}"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::ManualClock;
    use crate::store::read_model::OrderCursor;
    use crate::store::{EventStore, NewEvent, SqliteStore, StreamAppend};

    fn placed(store: &SqliteStore, order: &str, customer: &str, placed_at: u64) {
        let payload = format!(
            r#"{{"type":"order-placed","order_id":"{order}","customer_id":"{customer}","placed_at":{placed_at},"total":{{"amount":10,"currency":"USD"}}}}"#
        );
        store
            .append(&AppendBatch {
                streams: vec![StreamAppend {
                    stream_id: format!("order-{order}"),
                    expected_version: 0,
                    tags: Vec::new(),
                    events: vec![
                        NewEvent {
                            event_type: "order-placed".to_owned(),
                            payload,
                        },
                        NewEvent {
                            event_type: "payment-confirmed".to_owned(),
                            payload: r#"{"type":"payment-confirmed"}"#.to_owned(),
                        },
                    ],
                }],
                timers: Vec::new(),
            })
            .unwrap();
    }

    #[test]
    fn a_file_written_before_the_read_model_is_back_filled_once_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.db");
        let clock = Arc::new(ManualClock::new(5_000));
        let before = {
            let store = SqliteStore::open(&path, clock.clone()).unwrap();
            for n in 0..3 {
                placed(&store, &format!("o-{n}"), "c-1", 100 + n);
            }
            store
                .list_orders(&OrderQuery {
                    limit: 10,
                    ..OrderQuery::default()
                })
                .unwrap()
        };
        assert_eq!(before.len(), 3);
        // The file as an older host left it: events, no read model.
        Connection::open(&path)
            .unwrap()
            .execute_batch("DROP TABLE order_summaries")
            .unwrap();

        let store = SqliteStore::open(&path, clock).unwrap();
        let after = store
            .list_orders(&OrderQuery {
                limit: 10,
                ..OrderQuery::default()
            })
            .unwrap();
        assert_eq!(after, before, "rebuilt from the events, the same summaries");
        assert_eq!(after[0].status, "confirmed");
        // New appends keep it up to date.
        placed(&store, "o-9", "c-2", 900);
        let newest = store
            .list_orders(&OrderQuery {
                limit: 1,
                ..OrderQuery::default()
            })
            .unwrap();
        assert_eq!(newest[0].order_id, "o-9");
    }

    /// The query plan SQLite chooses for `query`, one line per step.
    fn plan(conn: &Connection, query: &OrderQuery) -> String {
        let (sql, values) = list_sql(query);
        let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = statement
            .query_map(params_from_iter(values), |row| row.get::<_, String>(3))
            .unwrap();
        rows.collect::<Result<Vec<_>, _>>().unwrap().join("\n")
    }

    #[test]
    fn the_order_listings_use_their_indexes_without_sorting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.db");
        let store = SqliteStore::open(&path, Arc::new(ManualClock::new(5_000))).unwrap();
        for n in 0..50 {
            placed(
                &store,
                &format!("o-{n:02}"),
                &format!("c-{}", n % 5),
                100 + n,
            );
        }
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("ANALYZE").unwrap();
        let after = Some(OrderCursor {
            listed_at: 120,
            order_id: "o-20".to_owned(),
        });
        let cases = [
            (OrderQuery::default(), "order_summaries_by_listing"),
            (
                OrderQuery {
                    customer_id: Some("c-1".into()),
                    after: after.clone(),
                    ..OrderQuery::default()
                },
                "order_summaries_by_customer",
            ),
            (
                OrderQuery {
                    statuses: vec!["shipped".into()],
                    after: after.clone(),
                    ..OrderQuery::default()
                },
                "order_summaries_by_status",
            ),
            (
                OrderQuery {
                    sagas: vec![SagaState::CompensationFailed],
                    ..OrderQuery::default()
                },
                "order_summaries_by_saga",
            ),
        ];
        for (query, index) in cases {
            let query = OrderQuery { limit: 50, ..query };
            let plan = plan(&conn, &query);
            assert!(plan.contains(index), "{query:?} uses {index}:\n{plan}");
            assert!(
                !plan.contains("TEMP B-TREE"),
                "{query:?} reads in index order, no sort:\n{plan}"
            );
        }
        let since = plan(
            &conn,
            &OrderQuery {
                updated_since: Some(1),
                limit: 50,
                ..OrderQuery::default()
            },
        );
        assert!(
            since.contains("USING INDEX"),
            "an index, not a scan:\n{since}"
        );
    }
}
