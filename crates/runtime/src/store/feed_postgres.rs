//! The feed and the webhook tables of [`super::PostgresStore`] (migration
//! V5).
//!
//! Positions come from the one-row `event_feed_head`, updated by the append
//! transaction after its events are written: the row lock is held until the
//! commit, so the appends of every host take positions one after another in
//! the order they commit, and a reader never finds a new event below a
//! position it has read. The price is that appends with events commit one
//! at a time (docs/decisions/0014-event-feed-and-webhooks.md).

use postgres::error::SqlState;
use postgres::{Client, Transaction};

use super::feed::{endpoint_exists, validate_endpoint};
use super::rows::{
    self, DELIVERY_COLUMNS, ENDPOINT_COLUMNS, bound, from_sql, postgres_unavailable as unavailable,
    to_sql,
};
use super::{FeedEvent, StoreError, WebhookDelivery, WebhookEndpoint};

/// The append's hook: positions for the events just inserted, in the
/// order given.
pub(super) fn assign_positions(
    tx: &mut Transaction<'_>,
    streams: &[&str],
    versions: &[i64],
) -> Result<(), postgres::Error> {
    if streams.is_empty() {
        return Ok(());
    }
    let count = streams.len() as i64;
    let last: i64 = tx
        .query_one(
            "UPDATE event_feed_head SET position = position + $1 WHERE id = 1 RETURNING position",
            &[&count],
        )?
        .get(0);
    let first = last - count + 1;
    tx.execute(
        "INSERT INTO event_feed (position, stream_id, version)
         SELECT $1 + n - 1, s, v FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS x(s, v, n)",
        &[&first, &streams, &versions],
    )?;
    Ok(())
}

pub(super) fn read_feed(
    client: &mut Client,
    after: u64,
    limit: usize,
) -> Result<Vec<FeedEvent>, StoreError> {
    rows::postgres_rows(
        client,
        &rows::feed_sql("$1", "$2"),
        &[&bound(after), &bound(limit)],
        rows::feed_event,
    )
}

pub(super) fn feed_head(client: &mut Client) -> Result<u64, StoreError> {
    let row = client
        .query_one("SELECT position FROM event_feed_head WHERE id = 1", &[])
        .map_err(unavailable)?;
    from_sql(row.get(0))
}

pub(super) fn create_endpoint(
    client: &mut Client,
    endpoint: &WebhookEndpoint,
) -> Result<(), StoreError> {
    validate_endpoint(endpoint)?;
    let (id, url, types, secret, created_at, position) = rows::endpoint_values(endpoint)?;
    let inserted = client
        .execute(
            &format!(
                "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING"
            ),
            &[&id, &url, &types, &secret, &created_at, &position],
        )
        .map_err(unavailable)?;
    if inserted == 0 {
        return Err(endpoint_exists(endpoint));
    }
    Ok(())
}

pub(super) fn endpoints(client: &mut Client) -> Result<Vec<WebhookEndpoint>, StoreError> {
    rows::postgres_rows(
        client,
        &format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id"),
        &[],
        rows::endpoint,
    )
}

pub(super) fn endpoint(
    client: &mut Client,
    id: &str,
) -> Result<Option<WebhookEndpoint>, StoreError> {
    client
        .query_opt(
            &format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"),
            &[&id],
        )
        .map_err(unavailable)?
        .as_ref()
        .map(rows::endpoint)
        .transpose()
}

pub(super) fn delete_endpoint(client: &mut Client, id: &str) -> Result<bool, StoreError> {
    // The lease and the delivery log go with it (ON DELETE CASCADE).
    let deleted = client
        .execute("DELETE FROM webhook_endpoints WHERE id = $1", &[&id])
        .map_err(unavailable)?;
    Ok(deleted == 1)
}

pub(super) fn advance_endpoint(
    client: &mut Client,
    id: &str,
    position: u64,
) -> Result<bool, StoreError> {
    let updated = client
        .execute(
            "UPDATE webhook_endpoints SET position = GREATEST(position, $2) WHERE id = $1",
            &[&id, &to_sql(position)?],
        )
        .map_err(unavailable)?;
    Ok(updated == 1)
}

pub(super) fn record_delivery(
    client: &mut Client,
    delivery: &WebhookDelivery,
) -> Result<u64, StoreError> {
    let attempt = i32::try_from(delivery.attempt).unwrap_or(i32::MAX);
    let status = delivery.status.map(i32::from);
    let row = client
        .query_one(
            "INSERT INTO webhook_deliveries
                 (endpoint_id, event_id, position, attempt, status, error, attempted_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
            &[
                &delivery.endpoint_id,
                &delivery.event_id,
                &to_sql(delivery.position)?,
                &attempt,
                &status,
                &delivery.error,
                &to_sql(delivery.attempted_at)?,
            ],
        )
        .map_err(|e| match e.code() {
            Some(code) if *code == SqlState::FOREIGN_KEY_VIOLATION => StoreError::Invalid(format!(
                "webhook endpoint `{}` does not exist",
                delivery.endpoint_id
            )),
            _ => unavailable(e),
        })?;
    from_sql(row.get(0))
}

pub(super) fn deliveries(
    client: &mut Client,
    endpoint_id: &str,
    after: u64,
    limit: usize,
) -> Result<Vec<WebhookDelivery>, StoreError> {
    rows::postgres_rows(
        client,
        &format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
             WHERE endpoint_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        ),
        &[&endpoint_id, &bound(after), &bound(limit)],
        |row| rows::delivery(row, endpoint_id),
    )
}

/// Takes or renews the lease of an endpoint: granted when nobody holds it,
/// when the holder's lease ran out, or when `owner` holds it already. The
/// ON CONFLICT condition reads the newest lease row, so two hosts never
/// both hold one endpoint.
pub(super) fn lease_endpoint(
    client: &mut Client,
    id: &str,
    owner: &str,
    now_ms: u64,
    lease_ms: u64,
) -> Result<bool, StoreError> {
    let now = bound(now_ms);
    let expires = to_sql(now_ms.saturating_add(lease_ms).min(i64::MAX as u64))?;
    let granted = client.query_opt(
        "INSERT INTO webhook_leases (endpoint_id, owner, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (endpoint_id) DO UPDATE
             SET owner = excluded.owner, expires_at = excluded.expires_at
             WHERE webhook_leases.expires_at <= $4 OR webhook_leases.owner = $2
         RETURNING endpoint_id",
        &[&id, &owner, &expires, &now],
    );
    match granted {
        Ok(row) => Ok(row.is_some()),
        // The endpoint was deleted: nobody delivers to it any more.
        Err(e) if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => Ok(false),
        Err(e) => Err(unavailable(e)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::clock::ManualClock;
    use crate::store::postgres::test_store;
    use crate::store::{EventStore as _, WebhookEndpoint};

    #[test]
    fn an_endpoint_is_delivered_by_one_host_until_its_lease_runs_out() {
        let (store, _schema) = test_store(Arc::new(ManualClock::new(0)));
        store
            .create_webhook_endpoint(&WebhookEndpoint {
                id: "we_1".to_owned(),
                url: "http://127.0.0.1:9/".to_owned(),
                event_types: Vec::new(),
                secret: "whsec_1".to_owned(),
                created_at: 0,
                position: 0,
            })
            .unwrap();
        // Each host in turn asks for the lease of 500 ms at a time.
        for (host, now, leased, why) in [
            ("host-a", 1_000, true, "a free lease is taken"),
            ("host-b", 1_200, false, "another host holds it"),
            ("host-a", 1_400, true, "the holder renews its own lease"),
            ("host-b", 1_800, false, "the renewed lease holds"),
            ("host-b", 1_900, true, "run out: another host takes over"),
            ("host-a", 2_000, false, "the first host is refused"),
        ] {
            assert_eq!(
                store
                    .lease_webhook_endpoint("we_1", host, now, 500)
                    .unwrap(),
                leased,
                "{host} at {now}: {why}"
            );
        }
        // A deleted endpoint is leased by nobody.
        assert!(store.delete_webhook_endpoint("we_1").unwrap());
        assert!(
            !store
                .lease_webhook_endpoint("we_1", "host-a", 9_000, 500)
                .unwrap()
        );
    }
}
