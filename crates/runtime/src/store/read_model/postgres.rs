//! The order read model in PostgreSQL: the `order_summaries` table of
//! migration V4, written in the transaction of each append (whose stream
//! rows are locked, so one order's row has one writer at a time).

use postgres::GenericClient;
use postgres::types::ToSql;

use super::{Backfill, OrderQuery, OrderSummary, SagaState, fold_append, order_appends};
use crate::store::postgres::TxError;
use crate::store::rows::{
    self, ORDER_EVENTS_SQL, SUMMARY_COLUMNS, clamp, postgres_unavailable as unavailable,
};
use crate::store::{AppendBatch, StoreError};

/// The migration version that creates the table; [`backfill`] runs with it.
pub(crate) const MIGRATION: i32 = 4;

/// Fills the new table from every order stream already stored (inside the
/// migration's transaction).
pub(crate) fn backfill(client: &mut impl GenericClient) -> Result<(), StoreError> {
    let events = rows::postgres_rows(client, ORDER_EVENTS_SQL, &[], |row| {
        rows::recorded_event(row, 0)
    })?;
    let mut backfill = Backfill::default();
    let mut done: Vec<OrderSummary> = events.iter().filter_map(|e| backfill.push(e)).collect();
    done.extend(backfill.finish());
    for summary in &done {
        write(client, summary).map_err(unavailable)?;
    }
    Ok(())
}

/// Folds the order events of `batch` into their summaries, inside the
/// append's transaction (a deadlock here fails the attempt like any other
/// statement of the append, which is then retried).
pub(in crate::store) fn apply(
    client: &mut impl GenericClient,
    batch: &AppendBatch,
    recorded_at: u64,
) -> Result<(), TxError> {
    for (order_id, stream) in order_appends(batch) {
        let before = client
            .query_opt(
                &format!("SELECT {SUMMARY_COLUMNS} FROM order_summaries WHERE order_id = $1"),
                &[&order_id],
            )?
            .as_ref()
            .map(rows::summary)
            .transpose()?;
        if let Some(summary) = fold_append(before, order_id, stream, recorded_at) {
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
            &format!("SELECT {SUMMARY_COLUMNS} FROM order_summaries WHERE order_id = $1"),
            &[&order_id],
        )
        .map_err(unavailable)?
        .as_ref()
        .map(rows::summary)
        .transpose()
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
    let limit = rows::bound(query.limit);

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
    let mut sql = format!("SELECT {SUMMARY_COLUMNS} FROM order_summaries");
    if !filters.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&filters.join(" AND "));
    }
    params.push(&limit);
    sql.push_str(&format!(
        " ORDER BY listed_at DESC, order_id DESC LIMIT ${}",
        params.len()
    ));
    rows::postgres_rows(client, &sql, &params, rows::summary)
}
