//! `GET /events`: the store's feed of events as public events, for systems
//! that poll; the outbound webhooks send the same events.
//!
//! The one mapping from stored event types to public ones is [`PUBLIC_TYPES`]
//! (the same table is in docs/http-api.md). Bookkeeping events (the saga's
//! progress, drafts, counters) are not public and are skipped; the cursor
//! still moves past them.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::dto::time;
use super::page::{self, QueryParams};
use super::problem::{Problem, ReadProblems};
use order_runtime::store::{EventStore, FeedEvent, StoreError};

/// Stored event type → public event type.
pub const PUBLIC_TYPES: &[(&str, &str)] = &[
    ("order-placed", "order.placed"),
    ("payment-confirmed", "order.paid"),
    ("inventory-allocated", "order.allocated"),
    ("order-shipped", "order.shipped"),
    ("order-delivered", "order.delivered"),
    ("order-cancelled", "order.cancelled"),
    ("order-returned", "order.returned"),
    ("order-refunded", "order.refunded"),
    ("shipment-created", "shipment.created"),
    ("tracking-updated", "shipment.tracking_updated"),
    ("shipment-delivered", "shipment.delivered"),
    ("shipment-failed", "shipment.failed"),
    ("return-requested", "return.requested"),
    ("return-approved", "return.approved"),
    ("return-denied", "return.denied"),
    ("return-shipped", "return.shipped"),
    ("return-received", "return.received"),
    ("refund-processed", "refund.processed"),
    ("return-closed", "return.closed"),
];

/// The public type of a stored event type, `None` for bookkeeping events.
pub fn public_type(stored: &str) -> Option<&'static str> {
    PUBLIC_TYPES
        .iter()
        .find(|(from, _)| *from == stored)
        .map(|(_, to)| *to)
}

/// True when `name` is a public event type.
pub fn is_public_type(name: &str) -> bool {
    PUBLIC_TYPES.iter().any(|(_, to)| *to == name)
}

/// The id of the event at `version` of `stream_id`: stable, the same in the
/// feed and in every webhook delivery (`evt_order-A1.3`).
pub fn event_id(stream_id: &str, version: u64) -> String {
    format!("evt_{stream_id}.{version}")
}

/// `(stream id, version)` of an event id made by [`event_id`].
pub fn parse_event_id(id: &str) -> Option<(&str, u64)> {
    let (stream, version) = id.strip_prefix("evt_")?.rsplit_once('.')?;
    Some((stream, version.parse().ok()?)).filter(|(s, _)| !s.is_empty())
}

/// A public event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicEvent {
    /// Stable id, for de-duplication: a redelivery carries the same id.
    #[schema(example = "evt_order-A1.2")]
    pub id: String,
    /// The public type (see docs/http-api.md for the table).
    #[serde(rename = "type")]
    #[schema(example = "order.paid")]
    pub event_type: String,
    /// When the event was stored.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: u64,
    /// The order the event concerns.
    pub order_id: String,
    /// The event's fields in snake_case as stored (money as `{amount,
    /// currency}`), with every `*_at` time in RFC 3339.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// Maps a page of the feed to public events; the order of a shipment or
/// return event is read from its stream's first event (once per stream).
pub fn public_events(
    store: &dyn EventStore,
    feed: &[FeedEvent],
) -> Result<Vec<(u64, PublicEvent)>, StoreError> {
    let mut orders: HashMap<String, Option<String>> = HashMap::new();
    let mut out = Vec::new();
    for item in feed {
        let event = &item.event;
        let Some(public) = public_type(&event.event_type) else {
            continue;
        };
        let mut data: serde_json::Value =
            serde_json::from_str(&event.payload).unwrap_or(serde_json::Value::Null);
        let mut order_id = data
            .get("order_id")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        if order_id.is_none() {
            if !orders.contains_key(&event.stream_id) {
                let first = store.load(&event.stream_id)?.into_iter().next();
                let found = first.and_then(|e| {
                    let payload: serde_json::Value = serde_json::from_str(&e.payload).ok()?;
                    payload.get("order_id")?.as_str().map(str::to_owned)
                });
                orders.insert(event.stream_id.clone(), found);
            }
            order_id = orders.get(&event.stream_id).cloned().flatten();
        }
        if let Some(object) = data.as_object_mut() {
            object.remove("type");
        }
        times_to_rfc3339(&mut data);
        out.push((
            item.position,
            PublicEvent {
                id: event_id(&event.stream_id, event.version),
                event_type: public.to_owned(),
                occurred_at: event.recorded_at,
                order_id: order_id.unwrap_or_default(),
                data,
            },
        ));
    }
    Ok(out)
}

/// Every integer field named `*_at` (at any depth) becomes RFC 3339.
fn times_to_rfc3339(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(object) => {
            for (key, field) in object.iter_mut() {
                match field.as_u64() {
                    Some(ms) if key.ends_with("_at") => {
                        *field = serde_json::Value::String(time::format(ms));
                    }
                    _ => times_to_rfc3339(field),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(times_to_rfc3339),
        _ => {}
    }
}

/// A page of the feed (for the OpenAPI document; the handler reads the
/// query with [`QueryParams`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FeedQuery {
    /// Where to continue: the `next_cursor` of the previous page (absent:
    /// from the first event).
    after: Option<String>,
    /// The same as `after` (the name the other lists use).
    cursor: Option<String>,
    /// Events per page, 1..=200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u32>,
}

/// A page of public events.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<PublicEvent>,
    /// Pass as `after` to read on; `null` only when this page is empty (new
    /// events may arrive at any time: keep the last cursor and poll).
    pub next_cursor: Option<String>,
}

/// A cursor of this module: the feed position, as text.
fn parse_cursor(field: &str, text: &str) -> Result<u64, Problem> {
    text.strip_prefix("p")
        .and_then(|digits| digits.parse::<u64>().ok())
        .ok_or_else(|| {
            Problem::validation(
                field,
                "is not a cursor this server issued (use next_cursor of a previous page)",
            )
        })
}

pub fn cursor_of(position: u64) -> String {
    format!("p{position}")
}

/// The store's events as public events, oldest first, a page at a time.
#[utoipa::path(
    get,
    path = "/events",
    operation_id = "listEvents",
    tag = "events",
    params(FeedQuery),
    responses(
        (status = 200, body = EventPage, headers(("Link" = String, description = "`<...>; rel=\"next\"` when next_cursor is set"))),
        ReadProblems
    )
)]
pub async fn list(State(state): State<AppState>, uri: Uri) -> Result<Response, Problem> {
    let params = QueryParams::of(&uri, &["after", "cursor", "limit"])?;
    let limit = params.limit()?;
    let after = match (params.one("after")?, params.one("cursor")?) {
        (Some(_), Some(_)) => {
            return Err(Problem::validation(
                "cursor",
                "give `after` or `cursor`, not both",
            ));
        }
        (Some(text), None) => parse_cursor("after", text)?,
        (None, Some(text)) => parse_cursor("cursor", text)?,
        (None, None) => 0,
    };
    let (items, last) = state
        .blocking(move |host| read_public(host.store.as_ref(), after, limit).map_err(store_problem))
        .await?;
    Ok(page::paged(
        &uri,
        "after",
        last.map(cursor_of),
        |next_cursor| EventPage { items, next_cursor },
    ))
}

/// Up to `limit` public events after `after`, and the position the page
/// ends at (`None` when nothing lies after `after`). Bookkeeping events are
/// read past (in bounded rounds), so a page is short only at the feed's end.
pub fn read_public(
    store: &dyn EventStore,
    after: u64,
    limit: usize,
) -> Result<(Vec<PublicEvent>, Option<u64>), StoreError> {
    let mut items = Vec::new();
    let mut cursor = after;
    let mut last = None;
    // The saga writes several bookkeeping events per public one; 20 rounds
    // of 500 bound the work of one request.
    for _ in 0..20 {
        let feed = store.read_feed(cursor, 500)?;
        let Some(end) = feed.last().map(|f| f.position) else {
            break;
        };
        for (position, event) in public_events(store, &feed)? {
            items.push(event);
            last = Some(position);
            if items.len() == limit {
                return Ok((items, last));
            }
        }
        cursor = end;
        last = Some(end);
        if feed.len() < 500 {
            break;
        }
    }
    Ok((items, last))
}

pub fn store_problem(error: StoreError) -> Problem {
    match error {
        StoreError::Invalid(detail) => Problem::bad_request(detail),
        other => Problem::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "storage",
            "Event store unavailable",
            other.to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_type_maps_to_one_distinct_public_type() {
        let mut seen = std::collections::HashSet::new();
        for (stored, public) in PUBLIC_TYPES {
            assert!(seen.insert(*public), "{public} twice");
            assert_eq!(public_type(stored), Some(*public));
            assert!(is_public_type(public));
        }
        assert_eq!(public_type("saga-step-started"), None);
        assert!(!is_public_type("order-placed"));
    }

    #[test]
    fn event_ids_round_trip_even_with_dots_in_the_stream() {
        let id = event_id("order-a.b", 12);
        assert_eq!(id, "evt_order-a.b.12");
        assert_eq!(parse_event_id(&id), Some(("order-a.b", 12)));
        assert_eq!(parse_event_id("order-a.12"), None);
        assert_eq!(parse_event_id("evt_.3"), None);
        assert_eq!(parse_event_id("evt_order-a.x"), None);
    }

    #[test]
    fn times_in_data_become_rfc3339_at_any_depth() {
        let mut data = serde_json::json!({
            "placed_at": 0, "amount": {"amount": 5, "currency": "USD"},
            "lines": [{"shipped_at": 1000}], "attempt": 3
        });
        times_to_rfc3339(&mut data);
        assert_eq!(data["placed_at"], "1970-01-01T00:00:00.000Z");
        assert_eq!(data["lines"][0]["shipped_at"], "1970-01-01T00:00:01.000Z");
        assert_eq!(data["amount"]["amount"], 5);
        assert_eq!(data["attempt"], 3);
    }

    #[test]
    fn cursors_that_this_server_did_not_issue_name_the_parameter() {
        assert_eq!(parse_cursor("after", "p42").unwrap(), 42);
        assert_eq!(
            parse_cursor("after", "42").unwrap_err().field.as_deref(),
            Some("after")
        );
    }
}
