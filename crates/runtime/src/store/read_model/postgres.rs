//! The order read model in PostgreSQL: the `order_summaries` table of
//! migration V4, written in the transaction of each append (whose stream
//! rows are locked, so one order's row has one writer at a time).

use postgres::types::ToSql;
use postgres::{GenericClient, Row};

use super::{OrderQuery, OrderSummary, SagaState, order_id_of_stream};
use crate::store::{AppendBatch, StoreError};

const COLUMNS: &str = "order_id, customer_id, status, saga, currency, total, created_at, \
                       placed_at, updated_at, version, saga_finished, stalled";

/// The migration version that creates the table; [`backfill`] runs with it.
pub(crate) const MIGRATION: i32 = 4;

/// Fills the new table from every order stream already stored (inside the
/// migration's transaction).
pub(crate) fn backfill(client: &mut impl GenericClient) -> Result<(), postgres::Error> {
    let rows = client.query(
        "SELECT stream_id, version, event_type, payload, recorded_at FROM events
         WHERE stream_id >= 'order-' AND stream_id < 'order.' ORDER BY stream_id, version",
        &[],
    )?;
    let mut current: Option<(String, Option<OrderSummary>)> = None;
    let mut done: Vec<OrderSummary> = Vec::new();
    for row in &rows {
        let stream: &str = row.get(0);
        let Some(order_id) = order_id_of_stream(stream) else {
            continue;
        };
        if current.as_ref().is_none_or(|(s, _)| s != stream) {
            if let Some((_, Some(summary))) = current.take() {
                done.push(summary);
            }
            current = Some((stream.to_owned(), None));
        }
        if let Some((_, summary)) = current.as_mut() {
            *summary = OrderSummary::evolve(
                summary.take(),
                order_id,
                row.get(2),
                row.get(3),
                unclamp(row.get(1)),
                unclamp(row.get(4)),
            );
        }
    }
    if let Some((_, Some(summary))) = current {
        done.push(summary);
    }
    for summary in &done {
        write(client, summary)?;
    }
    Ok(())
}

/// Folds the order events of `batch` into their summaries, inside the
/// append's transaction.
pub(crate) fn apply(
    client: &mut impl GenericClient,
    batch: &AppendBatch,
    recorded_at: u64,
) -> Result<(), postgres::Error> {
    for stream in &batch.streams {
        let Some(order_id) = order_id_of_stream(&stream.stream_id) else {
            continue;
        };
        if stream.events.is_empty() {
            continue;
        }
        let mut summary = client
            .query_opt(
                &format!("SELECT {COLUMNS} FROM order_summaries WHERE order_id = $1"),
                &[&order_id],
            )?
            .map(|row| from_row(&row));
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
            write(client, &summary)?;
        }
    }
    Ok(())
}

fn write(client: &mut impl GenericClient, s: &OrderSummary) -> Result<(), postgres::Error> {
    client.execute(
        "INSERT INTO order_summaries (order_id, customer_id, status, saga, currency, total,
             created_at, placed_at, listed_at, updated_at, version, saga_finished, stalled)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (order_id) DO UPDATE SET customer_id = excluded.customer_id,
             status = excluded.status, saga = excluded.saga, currency = excluded.currency,
             total = excluded.total, created_at = excluded.created_at,
             placed_at = excluded.placed_at, listed_at = excluded.listed_at,
             updated_at = excluded.updated_at, version = excluded.version,
             saga_finished = excluded.saga_finished, stalled = excluded.stalled",
        &[
            &s.order_id,
            &s.customer_id,
            &s.status,
            &s.saga.map(SagaState::as_str),
            &s.currency,
            &clamp(s.total),
            &clamp(s.created_at),
            &s.placed_at.map(clamp),
            &clamp(s.listed_at()),
            &clamp(s.updated_at),
            &clamp(s.version),
            &s.saga_finished,
            &s.stalled.join(","),
        ],
    )?;
    Ok(())
}

/// The summary of `order_id`, if it has one.
pub(crate) fn summary(
    client: &mut impl GenericClient,
    order_id: &str,
) -> Result<Option<OrderSummary>, StoreError> {
    client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM order_summaries WHERE order_id = $1"),
            &[&order_id],
        )
        .map(|row| row.map(|row| from_row(&row)))
        .map_err(unavailable)
}

/// The summaries `query` selects, newest first.
pub(crate) fn list(
    client: &mut impl GenericClient,
    query: &OrderQuery,
) -> Result<Vec<OrderSummary>, StoreError> {
    let customer = query.customer_id.clone();
    let statuses: Vec<String> = query.statuses.clone();
    let sagas: Vec<String> = query.sagas.iter().map(|s| s.as_str().to_owned()).collect();
    let from = query.placed_from.map(clamp);
    let to = query.placed_to.map(clamp);
    let since = query.updated_since.map(clamp);
    let after_at = query.after.as_ref().map(|a| clamp(a.listed_at));
    let after_id = query.after.as_ref().map(|a| a.order_id.clone());
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);

    let mut filters: Vec<String> = Vec::new();
    let mut params: Vec<&(dyn ToSql + Sync)> = Vec::new();
    if let Some(customer) = &customer {
        params.push(customer);
        filters.push(format!("customer_id = ${}", params.len()));
    }
    if !statuses.is_empty() {
        params.push(&statuses);
        filters.push(format!("status = ANY(${})", params.len()));
    }
    if !sagas.is_empty() {
        params.push(&sagas);
        filters.push(format!("saga = ANY(${})", params.len()));
    }
    if let Some(from) = &from {
        params.push(from);
        filters.push(format!("placed_at >= ${}", params.len()));
    }
    if let Some(to) = &to {
        params.push(to);
        filters.push(format!("placed_at < ${}", params.len()));
    }
    if let Some(since) = &since {
        params.push(since);
        filters.push(format!("updated_at >= ${}", params.len()));
    }
    if let (Some(at), Some(id)) = (&after_at, &after_id) {
        params.push(at);
        params.push(id);
        filters.push(format!(
            "(listed_at, order_id) < (${}, ${})",
            params.len() - 1,
            params.len()
        ));
    }
    let mut sql = format!("SELECT {COLUMNS} FROM order_summaries");
    if !filters.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&filters.join(" AND "));
    }
    params.push(&limit);
    sql.push_str(&format!(
        " ORDER BY listed_at DESC, order_id DESC LIMIT ${}",
        params.len()
    ));
    let rows = client.query(&sql, &params).map_err(unavailable)?;
    Ok(rows.iter().map(from_row).collect())
}

fn from_row(row: &Row) -> OrderSummary {
    let saga: Option<String> = row.get(3);
    let stalled: String = row.get(11);
    OrderSummary {
        order_id: row.get(0),
        customer_id: row.get(1),
        status: row.get(2),
        saga: saga.as_deref().and_then(SagaState::parse),
        currency: row.get(4),
        total: unclamp(row.get(5)),
        created_at: unclamp(row.get(6)),
        placed_at: row.get::<_, Option<i64>>(7).map(unclamp),
        updated_at: unclamp(row.get(8)),
        version: unclamp(row.get(9)),
        saga_finished: row.get(10),
        stalled: stalled
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

fn clamp(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn unclamp(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn unavailable(error: postgres::Error) -> StoreError {
    StoreError::Unavailable(format!("postgres: {error}"))
}
