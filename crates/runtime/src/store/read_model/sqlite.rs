//! The order read model in SQLite: the `order_summaries` table, written in
//! the transaction of each append, created (and back-filled from the
//! events) when a file without it is opened.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};

use super::{Backfill, OrderQuery, OrderSummary, fold_append, order_appends};
use crate::store::rows::{self, SUMMARY_COLUMNS, clamp, sqlite_unavailable as unavailable};
use crate::store::sqlite as sqlite_store;
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

/// Creates the table when `existed` says it is missing, and back-fills it
/// from the events already stored (once: the table then exists).
pub(crate) fn create(conn: &Connection, existed: bool) -> Result<(), rusqlite::Error> {
    conn.execute_batch(TABLE)?;
    if existed {
        return Ok(());
    }
    backfill(conn).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.to_string().into()))
}

fn backfill(conn: &Connection) -> Result<(), StoreError> {
    let mut statement = conn
        .prepare(&sqlite_store::order_events_sql())
        .map_err(unavailable)?;
    let mut rows = statement.query([]).map_err(unavailable)?;
    let mut backfill = Backfill::default();
    while let Some(row) = rows.next().map_err(unavailable)? {
        if let Some(summary) = backfill.push(&sqlite_store::recorded_event(row, 0)?) {
            write(conn, &summary)?;
        }
    }
    match backfill.finish() {
        Some(summary) => write(conn, &summary),
        None => Ok(()),
    }
}

/// Folds the order events of `batch` into their summaries, inside the
/// append's transaction (its savepoint rolls them back with the events).
pub(crate) fn apply(
    conn: &Connection,
    batch: &AppendBatch,
    recorded_at: u64,
) -> Result<(), StoreError> {
    for (order_id, stream) in order_appends(batch) {
        let old = summary(conn, order_id)?;
        let Some(new) = fold_append(old.clone(), order_id, stream, recorded_at) else {
            continue;
        };
        match old {
            Some(old) => update(conn, &old, &new)?,
            None => write(conn, &new)?,
        }
    }
    Ok(())
}

/// The stored columns of a summary, named as in [`TABLE`].
fn columns(s: &OrderSummary) -> [(&'static str, SqlValue); 13] {
    let text = |t: &str| SqlValue::Text(t.to_owned());
    let number = |n: u64| SqlValue::Integer(clamp(n));
    [
        ("order_id", text(&s.order_id)),
        ("customer_id", text(&s.customer_id)),
        ("status", text(&s.status)),
        ("saga", s.saga.map_or(SqlValue::Null, |g| text(g.as_str()))),
        ("currency", text(&s.currency)),
        ("total", number(s.total)),
        ("created_at", number(s.created_at)),
        ("placed_at", s.placed_at.map_or(SqlValue::Null, number)),
        ("listed_at", number(s.listed_at())),
        ("updated_at", number(s.updated_at)),
        ("version", number(s.version)),
        (
            "saga_finished",
            SqlValue::Integer(i64::from(s.saga_finished)),
        ),
        ("stalled", text(&s.stalled.join(","))),
    ]
}

/// Rewrites only the columns of `old` that `new` changed: SQLite updates
/// an index only when the statement sets one of its columns, so a step that
/// keeps the status, the saga state and the listing time leaves those
/// indexes' pages alone (a whole-row replace rewrote all five, half of
/// the pages an append dirtied).
fn update(conn: &Connection, old: &OrderSummary, new: &OrderSummary) -> Result<(), StoreError> {
    let (mut sets, mut values) = (Vec::new(), Vec::new());
    for ((name, before), (_, after)) in columns(old).into_iter().zip(columns(new)) {
        if before != after {
            values.push(after);
            sets.push(format!("{name} = ?{}", values.len()));
        }
    }
    if values.is_empty() {
        return Ok(());
    }
    values.push(SqlValue::Text(old.order_id.clone()));
    let sql = format!(
        "UPDATE order_summaries SET {} WHERE order_id = ?{}",
        sets.join(", "),
        values.len()
    );
    conn.prepare_cached(&sql)
        .and_then(|mut statement| statement.execute(params_from_iter(values)))
        .map(drop)
        .map_err(unavailable)
}

fn write(conn: &Connection, s: &OrderSummary) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO order_summaries (order_id, customer_id, status, saga, currency,
             total, created_at, placed_at, listed_at, updated_at, version, saga_finished, stalled)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )
    .and_then(|mut statement| statement.execute(params_from_iter(columns(s).map(|(_, v)| v))))
    .map(drop)
    .map_err(unavailable)
}

/// The summary of `order_id`, if it has one.
pub(crate) fn summary(
    conn: &Connection,
    order_id: &str,
) -> Result<Option<OrderSummary>, StoreError> {
    rows::sqlite_row(
        conn,
        &format!("SELECT {SUMMARY_COLUMNS} FROM order_summaries WHERE order_id = ?1"),
        [order_id],
        |row| rows::summary(row),
    )
}

/// The SQL and parameters of a listing (shared with the query-plan test).
pub(crate) fn list_sql(query: &OrderQuery) -> (String, Vec<SqlValue>) {
    let mut sql = format!("SELECT {SUMMARY_COLUMNS} FROM order_summaries");
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
    let limit = next(&mut values, SqlValue::Integer(rows::bound(query.limit)));
    sql.push_str(&format!(
        " ORDER BY listed_at DESC, order_id DESC LIMIT {limit}"
    ));
    (sql, values)
}

/// The summaries `query` selects, newest first.
pub(crate) fn list(conn: &Connection, query: &OrderQuery) -> Result<Vec<OrderSummary>, StoreError> {
    let (sql, values) = list_sql(query);
    rows::sqlite_rows(conn, &sql, params_from_iter(values), |row| {
        rows::summary(row)
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::ManualClock;
    use crate::store::conformance::{order_append, order_event, placed_event};
    use crate::store::read_model::{OrderCursor, SagaState};
    use crate::store::{EventStore, SqliteStore};

    fn placed(store: &SqliteStore, order: &str, customer: &str, placed_at: u64) {
        store
            .append(&order_append(
                order,
                0,
                vec![
                    placed_event(order, customer, placed_at, 10),
                    order_event("payment-confirmed", ""),
                ],
            ))
            .unwrap();
    }

    #[test]
    fn a_file_written_before_the_read_model_is_back_filled_once_on_open() {
        let (_dir, path) = crate::store::sqlite::test_file();
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
        crate::store::sqlite::query_plan(conn, &sql, values)
    }

    #[test]
    fn the_order_listings_use_their_indexes_without_sorting() {
        let (_dir, path) = crate::store::sqlite::test_file();
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
