//! `/webhook-endpoints`: subscriptions of outside systems to the public
//! events ([`super::feed`]), delivered by [`super::outbound`].
//!
//! An endpoint is a URL (http or https), the event types it takes (or all),
//! and a secret generated here, shown once in the creation response and
//! never again (it is kept, not hashed: it signs every delivery). A new
//! endpoint receives the events stored after its creation.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::dto::time;
use super::feed::{event_id, is_public_type, parse_event_id, public_events, store_problem};
use super::outbound;
use super::page::{self, PageParams, QueryParams};
use super::problem::{CommandProblems, Problem, ReadProblems, parse_json};
use order_runtime::store::{FeedEvent, WebhookDelivery, WebhookEndpoint};

/// The longest URL accepted.
const MAX_URL: usize = 2000;

/// A new endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookEndpoint {
    /// Where to POST the events: an absolute `http://` or `https://` URL.
    #[schema(example = "https://shop.example/hooks/orders", max_length = 2000)]
    pub url: String,
    /// The public event types to send (`order.paid`, ...); absent, empty or
    /// `["*"]`: every type.
    #[serde(default)]
    #[schema(example = json!(["order.placed", "order.shipped"]))]
    pub event_types: Vec<String>,
}

/// An endpoint as the API shows it (without its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookEndpointView {
    #[schema(example = "we_3f9a0c4d2b1e8f76")]
    pub id: String,
    pub url: String,
    /// The types it receives; `["*"]` for all.
    pub event_types: Vec<String>,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: u64,
    /// The cursor (as in `GET /events`) up to which every event it takes was
    /// acknowledged.
    pub delivered_through: String,
}

impl From<WebhookEndpoint> for WebhookEndpointView {
    fn from(e: WebhookEndpoint) -> Self {
        Self {
            id: e.id,
            url: e.url,
            event_types: if e.event_types.is_empty() {
                vec!["*".to_owned()]
            } else {
                e.event_types
            },
            created_at: e.created_at,
            delivered_through: super::feed::cursor_of(e.position),
        }
    }
}

/// The creation response: the endpoint and, this once, its secret.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedWebhookEndpoint {
    #[serde(flatten)]
    pub endpoint: WebhookEndpointView,
    /// Verifies the `Order-Signature` of the deliveries; shown only here.
    #[schema(example = "whsec_5c1d...")]
    pub secret: String,
}

/// A page of endpoints.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookEndpointPage {
    pub items: Vec<WebhookEndpointView>,
    pub next_cursor: Option<String>,
}

/// One delivery attempt.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookDeliveryView {
    /// The event id sent (`id` of the event).
    pub event_id: String,
    /// 1 for the first attempt of the event, growing with each retry and
    /// redelivery.
    pub attempt: u32,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<u16>,
    /// Why no answer came (time-out, connection refused, ...).
    pub error: Option<String>,
    /// True for a 2xx.
    pub succeeded: bool,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub attempted_at: u64,
}

impl From<WebhookDelivery> for WebhookDeliveryView {
    fn from(d: WebhookDelivery) -> Self {
        Self {
            succeeded: d.succeeded(),
            event_id: d.event_id,
            attempt: d.attempt,
            status_code: d.status,
            error: d.error,
            attempted_at: d.attempted_at,
        }
    }
}

/// A page of the delivery log, oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookDeliveryPage {
    pub items: Vec<WebhookDeliveryView>,
    pub next_cursor: Option<String>,
}

/// `limit` and `cursor` of a list, and where the page starts (the number
/// after `prefix` in the cursor, 0 without one).
fn page_query(uri: &Uri, prefix: &str) -> Result<(u64, usize), Problem> {
    let params = QueryParams::of(uri, &["limit", "cursor"])?;
    let limit = params.limit()?;
    let after = match params.one("cursor")? {
        None => 0,
        Some(text) => text
            .strip_prefix(prefix)
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| {
                Problem::validation(
                    "cursor",
                    "is not a cursor this server issued (use next_cursor of a previous page)",
                )
            })?,
    };
    Ok((after, limit))
}

fn not_found(id: &str) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "Not found",
        format!("no webhook endpoint `{id}`"),
    )
}

fn random_hex(bytes: usize) -> Result<String, Problem> {
    use std::io::Read as _;
    let mut buffer = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buffer))
        .map_err(|e| Problem::internal(&e))?;
    Ok(hex::encode(buffer))
}

/// Checks the URL: absolute, http or https, with a host.
fn check_url(url: &str) -> Result<(), Problem> {
    if url.len() > MAX_URL {
        return Err(Problem::validation(
            "url",
            format!("is longer than {MAX_URL} characters"),
        ));
    }
    let parsed: axum::http::Uri = url
        .parse()
        .map_err(|_| Problem::validation("url", "is not a URL"))?;
    match parsed.scheme_str() {
        Some("http" | "https") => {}
        _ => {
            return Err(Problem::validation(
                "url",
                "must start with http:// or https://",
            ));
        }
    }
    if parsed.host().is_none_or(str::is_empty) {
        return Err(Problem::validation("url", "has no host"));
    }
    Ok(())
}

fn check_types(types: Vec<String>) -> Result<Vec<String>, Problem> {
    if types.iter().any(|t| t == "*") {
        if types.len() > 1 {
            return Err(Problem::validation(
                "event_types",
                "`*` (every type) cannot be combined with other types",
            ));
        }
        return Ok(Vec::new());
    }
    let mut out: Vec<String> = Vec::new();
    for (index, name) in types.into_iter().enumerate() {
        if !is_public_type(&name) {
            return Err(Problem::validation(
                format!("event_types[{index}]"),
                format!(
                    "`{name}` is not a public event type (see GET /events and docs/http-api.md)"
                ),
            ));
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// Subscribes a URL to the public events; the response shows the secret
/// that signs them, once.
#[utoipa::path(
    post,
    path = "/webhook-endpoints",
    operation_id = "createWebhookEndpoint",
    tag = "webhook-endpoints",
    request_body = CreateWebhookEndpoint,
    responses((status = 201, body = CreatedWebhookEndpoint), CommandProblems)
)]
pub async fn create(State(state): State<AppState>, body: Bytes) -> Result<Response, Problem> {
    let request: CreateWebhookEndpoint = parse_json(&body)?;
    check_url(&request.url)?;
    let event_types = check_types(request.event_types)?;
    let endpoint = WebhookEndpoint {
        id: format!("we_{}", random_hex(8)?),
        url: request.url,
        event_types,
        secret: format!("whsec_{}", random_hex(32)?),
        created_at: state.now_ms(),
        position: 0,
    };
    let created = state
        .blocking(move |host| {
            let mut endpoint = endpoint;
            // It hears what is stored from now on.
            endpoint.position = host.store.feed_head().map_err(store_problem)?;
            host.store
                .create_webhook_endpoint(&endpoint)
                .map_err(store_problem)?;
            Ok(endpoint)
        })
        .await?;
    let location = format!("/webhook-endpoints/{}", created.id);
    let secret = created.secret.clone();
    Ok(super::created(
        location,
        CreatedWebhookEndpoint {
            endpoint: created.into(),
            secret,
        },
    ))
}

/// The endpoints, oldest first.
#[utoipa::path(
    get,
    path = "/webhook-endpoints",
    operation_id = "listWebhookEndpoints",
    tag = "webhook-endpoints",
    params(PageParams),
    responses((status = 200, body = WebhookEndpointPage), ReadProblems)
)]
pub async fn list(State(state): State<AppState>, uri: Uri) -> Result<Response, Problem> {
    let (offset, limit) = page_query(&uri, "o")?;
    let all = state
        .blocking(|host| host.store.webhook_endpoints().map_err(store_problem))
        .await?;
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(all.len());
    let end = start.saturating_add(limit).min(all.len());
    let next = (end < all.len()).then(|| format!("o{end}"));
    let items = all[start..end].iter().cloned().map(Into::into).collect();
    Ok(page::paged(&uri, "cursor", next, |next_cursor| {
        WebhookEndpointPage { items, next_cursor }
    }))
}

/// One endpoint (without its secret).
#[utoipa::path(
    get,
    path = "/webhook-endpoints/{id}",
    operation_id = "getWebhookEndpoint",
    tag = "webhook-endpoints",
    params(("id" = String, Path, description = "Endpoint id")),
    responses((status = 200, body = WebhookEndpointView), ReadProblems)
)]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<WebhookEndpointView>, Problem> {
    let endpoint = state
        .blocking(move |host| {
            host.store
                .webhook_endpoint(&id)
                .map_err(store_problem)?
                .ok_or_else(|| not_found(&id))
        })
        .await?;
    Ok(Json(endpoint.into()))
}

/// Deletes an endpoint with its delivery log; nothing more is sent to it.
#[utoipa::path(
    delete,
    path = "/webhook-endpoints/{id}",
    operation_id = "deleteWebhookEndpoint",
    tag = "webhook-endpoints",
    params(("id" = String, Path, description = "Endpoint id")),
    responses((status = 204, description = "Deleted"), ReadProblems)
)]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    state
        .blocking(move |host| {
            if host
                .store
                .delete_webhook_endpoint(&id)
                .map_err(store_problem)?
            {
                Ok(StatusCode::NO_CONTENT)
            } else {
                Err(not_found(&id))
            }
        })
        .await
}

/// The endpoint's delivery log, oldest first: every attempt with its status
/// or error.
#[utoipa::path(
    get,
    path = "/webhook-endpoints/{id}/deliveries",
    operation_id = "listWebhookDeliveries",
    tag = "webhook-endpoints",
    params(("id" = String, Path, description = "Endpoint id"), PageParams),
    responses((status = 200, body = WebhookDeliveryPage), ReadProblems)
)]
pub async fn deliveries(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, Problem> {
    let (after, limit) = page_query(&uri, "s")?;
    let log = state
        .blocking(move |host| {
            if host
                .store
                .webhook_endpoint(&id)
                .map_err(store_problem)?
                .is_none()
            {
                return Err(not_found(&id));
            }
            host.store
                .webhook_deliveries(&id, after, limit)
                .map_err(store_problem)
        })
        .await?;
    let next = (log.len() == limit)
        .then(|| log.last().map(|d| format!("s{}", d.seq)))
        .flatten();
    let items = log.into_iter().map(Into::into).collect();
    Ok(page::paged(&uri, "cursor", next, |next_cursor| {
        WebhookDeliveryPage { items, next_cursor }
    }))
}

/// Sends an event that was delivered (or attempted) to this endpoint again,
/// now, and answers with the attempt. The dispatcher's order is not
/// affected.
#[utoipa::path(
    post,
    path = "/webhook-endpoints/{id}/deliveries/{event_id}/redeliver",
    operation_id = "redeliverWebhookEvent",
    tag = "webhook-endpoints",
    params(
        ("id" = String, Path, description = "Endpoint id"),
        ("event_id" = String, Path, description = "The event's id, as in its deliveries")
    ),
    responses((status = 200, body = WebhookDeliveryView), CommandProblems)
)]
pub async fn redeliver(
    State(state): State<AppState>,
    Path((id, event)): Path<(String, String)>,
) -> Result<Json<WebhookDeliveryView>, Problem> {
    let timeout = state.dispatch_timeout();
    let attempt = state
        .blocking(move |host| {
            let store = host.store.as_ref();
            let endpoint = store
                .webhook_endpoint(&id)
                .map_err(store_problem)?
                .ok_or_else(|| not_found(&id))?;
            let never = || {
                Problem::new(
                    StatusCode::NOT_FOUND,
                    "not-found",
                    "Not found",
                    format!("event `{event}` was never delivered to webhook endpoint `{id}`"),
                )
            };
            let (stream, version) = parse_event_id(&event).ok_or_else(never)?;
            // The log says where the event is in the feed and how often it
            // was tried.
            let mut tried: Option<(u64, u32)> = None;
            let mut after = 0;
            loop {
                let page = store
                    .webhook_deliveries(&id, after, 500)
                    .map_err(store_problem)?;
                for d in &page {
                    if d.event_id == event {
                        tried = Some((d.position, tried.map_or(0, |t| t.1).max(d.attempt)));
                    }
                }
                match page.last() {
                    Some(last) if page.len() == 500 => after = last.seq,
                    _ => break,
                }
            }
            let (position, attempts) = tried.ok_or_else(never)?;
            let stored = store
                .load(stream)
                .map_err(store_problem)?
                .into_iter()
                .find(|e| e.version == version)
                .ok_or_else(never)?;
            debug_assert_eq!(event_id(&stored.stream_id, stored.version), event);
            let public = public_events(
                store,
                &[FeedEvent {
                    position,
                    event: stored,
                }],
            )
            .map_err(store_problem)?
            .pop()
            .ok_or_else(never)?
            .1;
            let agent = outbound::agent(timeout);
            let (_, record) = outbound::deliver_and_log(
                store,
                host.clock.as_ref(),
                &agent,
                &endpoint,
                position,
                &public,
                attempts + 1,
            );
            Ok(record)
        })
        .await?;
    Ok(Json(attempt.into()))
}
