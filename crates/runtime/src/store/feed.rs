//! The global feed of stored events and the outbound webhook endpoints that
//! follow it.
//!
//! Every appended event gets a store-wide **position** in the same
//! transaction that stores it, so the feed never shows an event that was not
//! stored and never misses one. Positions grow in commit order: a reader
//! that saw position P never later finds a new event below P (SQLite has one
//! writer; PostgreSQL serialises the assignment on a one-row counter locked
//! inside the append transaction). Positions may have gaps only where a
//! backend says so; none of ours leaves any.
//!
//! The webhook endpoints, their saved positions, leases and delivery logs
//! live in the same database, so a restart resumes each endpoint where its
//! last acknowledged delivery left it.

use super::{RecordedEvent, StoreError};

/// An event as the feed shows it: its store-wide position and the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    /// The event's place in the whole store, from 1, growing in commit order.
    pub position: u64,
    /// The event as stored.
    pub event: RecordedEvent,
}

/// A subscription of an outside system to the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// The endpoint's id (chosen by the caller, unique).
    pub id: String,
    /// Where deliveries are POSTed (http or https).
    pub url: String,
    /// The public event types it receives; empty means every type.
    pub event_types: Vec<String>,
    /// The key that signs its deliveries (HMAC-SHA256).
    pub secret: String,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created_at: u64,
    /// The feed position up to which every matching event was acknowledged
    /// (a 2xx) or needed no delivery.
    pub position: u64,
}

/// One attempt to deliver one event to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// The log's own order, from 1, growing per store (0 in a new record).
    pub seq: u64,
    /// The endpoint delivered to.
    pub endpoint_id: String,
    /// The public event id sent.
    pub event_id: String,
    /// The event's feed position.
    pub position: u64,
    /// 1 for the first attempt of this event, growing with each retry;
    /// redeliveries count on.
    pub attempt: u32,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why the attempt failed without an answer (time-out, refused, ...).
    pub error: Option<String>,
    /// When the attempt was made, in milliseconds since the Unix epoch.
    pub attempted_at: u64,
}

impl WebhookDelivery {
    /// True when the receiver acknowledged it (a 2xx).
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

pub(crate) fn no_feed() -> StoreError {
    StoreError::Unavailable("this event store keeps no event feed".to_owned())
}

/// Checks an endpoint before it is stored, so every backend refuses the same
/// records with the same message.
pub(crate) fn validate_endpoint(endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
    if endpoint.id.is_empty() {
        return Err(StoreError::Invalid(
            "webhook endpoint id is empty".to_owned(),
        ));
    }
    if endpoint.url.is_empty() {
        return Err(StoreError::Invalid(
            "webhook endpoint url is empty".to_owned(),
        ));
    }
    if endpoint.secret.is_empty() {
        return Err(StoreError::Invalid(
            "webhook endpoint secret is empty".to_owned(),
        ));
    }
    Ok(())
}

/// The refusal of an endpoint whose id is taken.
pub(crate) fn endpoint_exists(endpoint: &WebhookEndpoint) -> StoreError {
    StoreError::Invalid(format!("webhook endpoint `{}` exists already", endpoint.id))
}
