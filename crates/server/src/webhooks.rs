//! `POST /webhooks/{payment,inventory,carrier}`: events of the external
//! contexts, signed like Stripe's, dispatched to the component's `inbound`
//! exports.
//!
//! A delivery is a JSON envelope `{"id", "type", "data"}` with the header
//! `Order-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
//! The signature is checked first, in constant time, against the raw bytes
//! (nothing is parsed before it holds), and the timestamp must be within
//! five minutes of the host's clock either way; otherwise 401 and nothing
//! changes. An event id already in the [`WebhookLedger`] answers
//! `{"status": "duplicate"}` without touching the component; so does an
//! event the component itself recognises as applied already.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use super::AppState;
use super::dto;
use super::problem::{Problem, WebhookProblems, body_problem, from_value, parse_json};
use order_runtime::bindings::inbound::InboundOutcome;
use order_runtime::service::{OrderService, ServiceError};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Order-Signature";

/// How far a signature's timestamp may be from the host's clock, either way.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The longest event id accepted.
const MAX_EVENT_ID: usize = 200;

/// Which external context sends the event (and which endpoint takes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Payment,
    Inventory,
    Carrier,
}

impl Source {
    /// `payment`, `inventory` or `carrier`.
    pub fn name(self) -> &'static str {
        match self {
            Source::Payment => "payment",
            Source::Inventory => "inventory",
            Source::Carrier => "carrier",
        }
    }

    /// The event types this endpoint accepts.
    pub fn event_types(self) -> &'static [&'static str] {
        match self {
            Source::Payment => &["payment-succeeded", "payment-failed", "refund-completed"],
            Source::Inventory => &["stock-allocated", "stock-allocation-failed"],
            Source::Carrier => &[
                "shipment-created-by-carrier",
                "shipment-picked-up",
                "shipment-in-transit",
                "shipment-out-for-delivery",
                "shipment-delivered-by-carrier",
                "shipment-delivery-failed",
                "shipment-cancelled",
            ],
        }
    }
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `Order-Signature` value for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let tag = mac(secret, &timestamp.to_string(), body)
        .finalize()
        .into_bytes();
    format!("t={timestamp},v1={}", hex::encode(tag))
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the {SIGNATURE_HEADER} header is missing")]
    Missing,
    #[error("the {SIGNATURE_HEADER} header is malformed: {0}")]
    Malformed(&'static str),
    #[error("no v1 signature matches the body")]
    Mismatch,
    #[error("the signature's timestamp is {0} s old, more than the {1} s allowed")]
    TooOld(u64, u64),
    #[error("the signature's timestamp is {0} s in the future, more than the {1} s allowed")]
    InTheFuture(u64, u64),
}

/// Checks `header` (the `Order-Signature` value) against `body`: some `v1`
/// must be the HMAC-SHA256 of `"<t>.<body>"` under `secret` (compared in
/// constant time), and `t` within `tolerance` of `now_secs`.
pub fn verify(
    secret: &[u8],
    header: Option<&str>,
    body: &[u8],
    now_secs: u64,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            return Err(SignatureError::Malformed("expected key=value pairs"));
        };
        match key {
            "t" => timestamp = Some(value),
            "v1" => signatures.push(value),
            // Other schemes (a future v2) are ignored, as Stripe does.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed("no t= timestamp"))?;
    let seconds: u64 = timestamp
        .parse()
        .map_err(|_| SignatureError::Malformed("t= is not a number of seconds"))?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed("no v1= signature"));
    }
    let expected = mac(secret, timestamp, body);
    let matches = signatures.iter().any(|candidate| {
        hex::decode(candidate).is_ok_and(|tag| expected.clone().verify_slice(&tag).is_ok())
    });
    if !matches {
        return Err(SignatureError::Mismatch);
    }
    let tolerance = tolerance.as_secs();
    if now_secs > seconds && now_secs - seconds > tolerance {
        return Err(SignatureError::TooOld(now_secs - seconds, tolerance));
    }
    if seconds > now_secs && seconds - now_secs > tolerance {
        return Err(SignatureError::InTheFuture(seconds - now_secs, tolerance));
    }
    Ok(())
}

/// A webhook delivery. `data` holds the fields of the WIT record named by
/// `type`, in snake_case (see the `PaymentSucceeded`, `StockAllocated`,
/// `ShipmentPickedUp`, ... schemas).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEnvelope {
    /// The sender's id of this event, 1..=200 characters; a redelivery
    /// carries the same id.
    #[schema(example = "evt_01J9Z3", min_length = 1, max_length = 200)]
    pub id: String,
    /// The event type, in kebab-case (`shipment-picked-up`).
    #[serde(rename = "type")]
    #[schema(example = "shipment-picked-up")]
    pub event_type: String,
    /// The event's fields.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// What a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WebhookStatus {
    /// The event changed an order, shipment or return.
    Applied,
    /// The event was processed before; nothing changed.
    Duplicate,
}

/// The answer to a delivery that was processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookAck {
    pub status: WebhookStatus,
    /// The event id.
    pub id: String,
}

/// A parsed event, ready for its `inbound` export.
#[derive(Debug, Clone)]
pub enum InboundEvent {
    PaymentSucceeded(dto::PaymentSucceeded),
    PaymentFailed(dto::PaymentFailed),
    RefundCompleted(dto::RefundCompleted),
    StockAllocated(dto::StockAllocated),
    StockAllocationFailed(dto::StockAllocationFailed),
    ShipmentCreatedByCarrier(dto::ShipmentCreatedByCarrier),
    ShipmentPickedUp(dto::ShipmentPickedUp),
    ShipmentInTransit(dto::ShipmentInTransit),
    ShipmentOutForDelivery(dto::ShipmentOutForDelivery),
    ShipmentDeliveredByCarrier(dto::ShipmentDeliveredByCarrier),
    ShipmentDeliveryFailed(dto::ShipmentDeliveryFailed),
    ShipmentCancelled(dto::ShipmentCancelled),
}

/// Which order an event's command must be serialised on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Order(String),
    Shipment(String),
    /// `refund-completed` names a transaction only; conflicts are retried.
    Unknown,
}

impl InboundEvent {
    /// Reads `data` as the event `event_type`, which `source` must send.
    pub fn parse(
        source: Source,
        event_type: &str,
        data: serde_json::Value,
    ) -> Result<Self, Problem> {
        if !source.event_types().contains(&event_type) {
            return Err(Problem::validation(
                "type",
                format!(
                    "`{event_type}` is not a {} event; expected one of {}",
                    source.name(),
                    source.event_types().join(", ")
                ),
            ));
        }
        let d = data;
        Ok(match event_type {
            "payment-succeeded" => Self::PaymentSucceeded(from_value(d, "data")?),
            "payment-failed" => Self::PaymentFailed(from_value(d, "data")?),
            "refund-completed" => Self::RefundCompleted(from_value(d, "data")?),
            "stock-allocated" => Self::StockAllocated(from_value(d, "data")?),
            "stock-allocation-failed" => Self::StockAllocationFailed(from_value(d, "data")?),
            "shipment-created-by-carrier" => Self::ShipmentCreatedByCarrier(from_value(d, "data")?),
            "shipment-picked-up" => Self::ShipmentPickedUp(from_value(d, "data")?),
            "shipment-in-transit" => Self::ShipmentInTransit(from_value(d, "data")?),
            "shipment-out-for-delivery" => Self::ShipmentOutForDelivery(from_value(d, "data")?),
            "shipment-delivered-by-carrier" => {
                Self::ShipmentDeliveredByCarrier(from_value(d, "data")?)
            }
            "shipment-delivery-failed" => Self::ShipmentDeliveryFailed(from_value(d, "data")?),
            "shipment-cancelled" => Self::ShipmentCancelled(from_value(d, "data")?),
            other => unreachable!("`{other}` is listed in Source::event_types"),
        })
    }

    /// The order or shipment the event is about.
    pub fn target(&self) -> Target {
        match self {
            Self::PaymentSucceeded(e) => Target::Order(e.order_id.clone()),
            Self::PaymentFailed(e) => Target::Order(e.order_id.clone()),
            Self::RefundCompleted(_) => Target::Unknown,
            Self::StockAllocated(e) => Target::Order(e.order_id.clone()),
            Self::StockAllocationFailed(e) => Target::Order(e.order_id.clone()),
            Self::ShipmentCreatedByCarrier(e) => Target::Order(e.order_id.clone()),
            Self::ShipmentPickedUp(e) => Target::Shipment(e.shipment_id.clone()),
            Self::ShipmentInTransit(e) => Target::Shipment(e.shipment_id.clone()),
            Self::ShipmentOutForDelivery(e) => Target::Shipment(e.shipment_id.clone()),
            Self::ShipmentDeliveredByCarrier(e) => Target::Shipment(e.shipment_id.clone()),
            Self::ShipmentDeliveryFailed(e) => Target::Shipment(e.shipment_id.clone()),
            Self::ShipmentCancelled(e) => Target::Shipment(e.shipment_id.clone()),
        }
    }

    /// Calls the matching `inbound` export, retrying version conflicts.
    pub fn dispatch(self, service: &OrderService) -> Result<InboundOutcome, ServiceError> {
        macro_rules! inbound {
            ($call:ident, $event:expr) => {{
                let event = $event.into();
                service.retrying(|svc| svc.$call(&event))
            }};
        }
        match self {
            Self::PaymentSucceeded(e) => inbound!(on_payment_succeeded, e),
            Self::PaymentFailed(e) => inbound!(on_payment_failed, e),
            Self::RefundCompleted(e) => inbound!(on_refund_completed, e),
            Self::StockAllocated(e) => inbound!(on_stock_allocated, e),
            Self::StockAllocationFailed(e) => inbound!(on_stock_allocation_failed, e),
            Self::ShipmentCreatedByCarrier(e) => {
                inbound!(on_shipment_created_by_carrier, e)
            }
            Self::ShipmentPickedUp(e) => inbound!(on_shipment_picked_up, e),
            Self::ShipmentInTransit(e) => inbound!(on_shipment_in_transit, e),
            Self::ShipmentOutForDelivery(e) => inbound!(on_shipment_out_for_delivery, e),
            Self::ShipmentDeliveredByCarrier(e) => {
                inbound!(on_shipment_delivered_by_carrier, e)
            }
            Self::ShipmentDeliveryFailed(e) => inbound!(on_shipment_delivery_failed, e),
            Self::ShipmentCancelled(e) => inbound!(on_shipment_cancelled, e),
        }
    }
}

/// Verifies, de-duplicates and dispatches one delivery.
async fn receive(
    state: AppState,
    source: Source,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<WebhookAck>, Problem> {
    // A body that could not be read is refused before anything is counted.
    let body = body.map_err(body_problem)?;
    let result = receive_checked(&state, source, headers, body).await;
    let outcome = match &result {
        Ok(ack) if ack.status == WebhookStatus::Applied => "applied",
        Ok(_) => "duplicate",
        Err(p) if p.status == 401 => "unauthorized",
        Err(p) if p.status == 400 => "invalid",
        Err(_) => "failed",
    };
    state.metrics().webhook(source.name(), outcome);
    if let Err(problem) = &result {
        tracing::warn!(source = source.name(), status = problem.status, detail = %problem.detail, "webhook refused");
    }
    result.map(Json)
}

async fn receive_checked(
    state: &AppState,
    source: Source,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<WebhookAck, Problem> {
    let Some(secret) = state.webhook_secret() else {
        return Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "webhooks-disabled",
            "Webhooks are not configured",
            "this host has no webhook secret (set [webhooks] secret, ORDER_HOST_WEBHOOK_SECRET or --webhook-secret)",
        ));
    };
    let header = headers.get(SIGNATURE_HEADER).map(|v| {
        v.to_str()
            .map_err(|_| SignatureError::Malformed("not text"))
    });
    let header = header
        .transpose()
        .map_err(|e| Problem::unauthorized(e.to_string()))?;
    let now_secs = state.now_ms() / 1000;
    verify(secret, header, &body, now_secs, state.webhook_tolerance())
        .map_err(|e| Problem::unauthorized(e.to_string()))?;

    let envelope: WebhookEnvelope = parse_json(&body)?;
    let id = envelope.id;
    let length = id.chars().count();
    if length == 0 || length > MAX_EVENT_ID {
        return Err(Problem::validation(
            "id",
            format!("must be 1..={MAX_EVENT_ID} characters, not {length}"),
        ));
    }
    let event = InboundEvent::parse(source, &envelope.event_type, envelope.data)?;
    let event_type = envelope.event_type;

    // One delivery of an event id at a time: a concurrent redelivery waits
    // and then finds it in the ledger.
    let _delivery = state
        .locks()
        .lock(&format!("webhook/{}/{id}", source.name()))
        .await;
    let ledger = state.ledger();
    let (s, i) = (source.name(), id.clone());
    let seen = state
        .blocking(move |_| {
            ledger
                .contains(s, &i)
                .map_err(|e| Problem::internal(&format!("{e:#}")))
        })
        .await?;
    if seen {
        return Ok(WebhookAck {
            status: WebhookStatus::Duplicate,
            id,
        });
    }

    let order_id = match event.target() {
        Target::Order(order_id) => Some(order_id),
        Target::Shipment(shipment_id) => state.order_of_shipment(&shipment_id).await?,
        Target::Unknown => None,
    };
    let outcome = state
        .on_order(order_id.as_deref(), move |host| {
            event.dispatch(&host.service)
        })
        .await?;

    let ledger = state.ledger();
    let now = state.now_ms();
    let (s, i) = (source.name(), id.clone());
    state
        .blocking(move |_| {
            ledger
                .record(s, &i, &event_type, now)
                .map_err(|e| Problem::internal(&format!("{e:#}")))
        })
        .await?;
    Ok(WebhookAck {
        status: match outcome {
            InboundOutcome::Applied => WebhookStatus::Applied,
            InboundOutcome::Duplicate => WebhookStatus::Duplicate,
        },
        id,
    })
}

const SIGNATURE_DOC: &str =
    "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\">` under the shared webhook secret";

/// A signed webhook route: `POST <path>` takes an envelope from `$source`.
macro_rules! webhook_route {
    ($(#[doc = $doc:tt])* $name:ident, $path:tt, $operation:tt, $source:expr) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            post,
            path = $path,
            operation_id = $operation,
            tag = "webhooks",
            params(("Order-Signature" = String, Header, description = SIGNATURE_DOC)),
            request_body = WebhookEnvelope,
            responses(
                (status = 200, description = "Processed: applied, or a duplicate that changed nothing", body = WebhookAck),
                WebhookProblems
            )
        )]
        pub async fn $name(
            State(state): State<AppState>,
            headers: HeaderMap,
            body: Result<Bytes, BytesRejection>,
        ) -> Result<Json<WebhookAck>, Problem> {
            receive(state, $source, &headers, body).await
        }
    };
}

webhook_route!(
    /// An event of the payment gateway.
    ///
    /// Types: `payment-succeeded` (confirms payment of a pending order),
    /// `payment-failed` (the fulfilment saga fails at process-payment and
    /// compensates), `refund-completed` (recorded on the refunded return).
    payment, "/webhooks/payment", "receivePaymentEvent", Source::Payment
);

webhook_route!(
    /// An event of the inventory service.
    ///
    /// Types: `stock-allocated` (records the allocation of a confirmed order),
    /// `stock-allocation-failed` (the saga fails at allocate-inventory and
    /// compensates).
    inventory, "/webhooks/inventory", "receiveInventoryEvent", Source::Inventory
);

webhook_route!(
    /// An event of the shipping carrier.
    ///
    /// Types: `shipment-created-by-carrier` (starts tracking; ships a ready
    /// order), `shipment-picked-up`, `shipment-in-transit`,
    /// `shipment-out-for-delivery` (tracking updates),
    /// `shipment-delivered-by-carrier` (delivers the shipment and its order),
    /// `shipment-delivery-failed`, `shipment-cancelled` (the shipment fails).
    carrier, "/webhooks/carrier", "receiveCarrierEvent", Source::Carrier
);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";
    const NOW: u64 = 1_795_521_600;
    const FIVE_MINUTES: Duration = DEFAULT_TOLERANCE;

    /// `header` checked against `body` under the test secret, now, with
    /// the default five minutes' tolerance.
    fn verify_now(header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
        verify(SECRET, header, body, NOW, FIVE_MINUTES)
    }

    #[test]
    fn a_signature_made_with_the_secret_verifies() {
        let body = br#"{"id":"evt_1"}"#;
        let header = sign(SECRET, NOW, body);
        assert!(header.starts_with(&format!("t={NOW},v1=")));
        assert_eq!(verify_now(Some(&header), body), Ok(()));
    }

    #[test]
    fn a_changed_body_or_another_secret_is_refused() {
        let header = sign(SECRET, NOW, b"{}");
        assert_eq!(
            verify_now(Some(&header), b"{ }"),
            Err(SignatureError::Mismatch)
        );
        let forged = sign(b"guess", NOW, b"{}");
        assert_eq!(
            verify_now(Some(&forged), b"{}"),
            Err(SignatureError::Mismatch)
        );
        // Re-stamping a captured signature with a fresh time breaks it.
        let captured = sign(SECRET, NOW - 3_600, b"{}");
        let v1 = captured.split_once(",v1=").unwrap().1;
        let restamped = format!("t={NOW},v1={v1}");
        assert_eq!(
            verify_now(Some(&restamped), b"{}"),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn the_timestamp_must_be_within_five_minutes_either_way() {
        let at = |t: u64| verify_now(Some(&sign(SECRET, t, b"{}")), b"{}");
        assert_eq!(at(NOW - 300), Ok(()));
        assert_eq!(at(NOW + 300), Ok(()));
        assert_eq!(at(NOW - 301), Err(SignatureError::TooOld(301, 300)));
        assert_eq!(at(NOW + 301), Err(SignatureError::InTheFuture(301, 300)));
    }

    #[test]
    fn missing_or_malformed_headers_are_refused() {
        assert_eq!(verify_now(None, b"{}"), Err(SignatureError::Missing));
        for header in ["", "v1=00", "t=abc,v1=00", &format!("t={NOW}")] {
            assert!(
                matches!(
                    verify_now(Some(header), b"{}"),
                    Err(SignatureError::Malformed(_))
                ),
                "{header}"
            );
        }
        let not_hex = format!("t={NOW},v1=zz");
        assert_eq!(
            verify_now(Some(&not_hex), b"{}"),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn any_of_several_v1_signatures_may_match_during_secret_rotation() {
        let good = sign(SECRET, NOW, b"{}");
        let v1 = good.split_once(",v1=").unwrap().1;
        let header = format!("t={NOW},v1={},v1={v1}", "ab".repeat(32));
        assert_eq!(verify_now(Some(&header), b"{}"), Ok(()));
    }

    #[test]
    fn an_event_of_another_context_is_refused_naming_the_type() {
        let problem =
            InboundEvent::parse(Source::Payment, "shipment-picked-up", serde_json::json!({}))
                .unwrap_err();
        assert_eq!(problem.field.as_deref(), Some("type"));
        let problem = InboundEvent::parse(
            Source::Carrier,
            "shipment-picked-up",
            serde_json::json!({"shipment_id": "s", "picked_up_at": "soon"}),
        )
        .unwrap_err();
        assert_eq!(problem.field.as_deref(), Some("data.picked_up_at"));
        let problem = InboundEvent::parse(
            Source::Carrier,
            "shipment-picked-up",
            serde_json::json!({"shipment_id": "s", "picked_up_at": 1, "extra": 1}),
        )
        .unwrap_err();
        assert_eq!(problem.field.as_deref(), Some("data.extra"));
    }
}
