//! `Idempotency-Key` on every command (`POST` but the signed webhooks, which
//! deduplicate by their event id), with Stripe's semantics: the first
//! response to a key is kept in the event store for 24 hours and replayed
//! to a retry with the same body (`Idempotent-Replayed: true`); the same
//! key with another body is 422 `idempotency-key-reused`; the same key
//! while its first request still runs is 409 `idempotency-key-in-use`.
//!
//! Keys are per principal (two clients cannot collide or read each other's
//! answers). A 5xx answer is not kept (the key is freed, so a retry runs
//! again); a request whose process died keeps the key for
//! [`RUNNING_LIMIT`], then a retry runs again.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use sha2::{Digest as _, Sha256};

use super::AppState;
use super::auth::Principal;
use super::problem::Problem;
use order_runtime::store::{IdempotencyRecord, IdempotencyWindow};

/// The request header.
pub const HEADER: &str = "idempotency-key";

/// How long a finished request's response is replayed.
pub const RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a request that never finished (its process died) holds its key.
pub const RUNNING_LIMIT: Duration = Duration::from_secs(5 * 60);

/// The longest key accepted.
const MAX_KEY: usize = 255;

#[derive(serde::Serialize, serde::Deserialize)]
struct Kept {
    status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    body: String,
}

fn problem(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Response {
    Problem::new(status, kind, title, detail)
        .with_field("Idempotency-Key")
        .into_response()
}

/// The middleware (runs after authentication: keys are per principal).
pub async fn idempotent(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST || request.uri().path().starts_with("/webhooks/") {
        return next.run(request).await;
    }
    let Some(value) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let key = match value.to_str() {
        Ok(key) if !key.trim().is_empty() && key.len() <= MAX_KEY => key.trim().to_owned(),
        _ => {
            return Problem::validation(
                "Idempotency-Key",
                format!("must be 1..={MAX_KEY} visible ASCII characters"),
            )
            .into_response();
        }
    };
    let Some(principal) = request.extensions().get::<Principal>().cloned() else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    // `admit` has read the body into memory already (within its limit).
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(error) => return Problem::internal(&error).into_response(),
    };
    let mut hasher = Sha256::new();
    hasher.update(parts.uri.path().as_bytes());
    hasher.update(b"\n");
    hasher.update(&bytes);
    let fingerprint = hex::encode(hasher.finalize());
    let scoped = format!("{}\n{key}", principal.actor());
    let window = IdempotencyWindow {
        now_ms: state.now_ms(),
        retention_ms: RETENTION.as_millis() as u64,
        running_ms: RUNNING_LIMIT.as_millis() as u64,
    };
    let begun = {
        let (scoped, fingerprint) = (scoped.clone(), fingerprint.clone());
        state
            .blocking(move |host| {
                host.store
                    .begin_idempotent(&scoped, &fingerprint, window)
                    .map_err(store_problem)
            })
            .await
    };
    match begun {
        Err(problem) => problem.into_response(),
        Ok(IdempotencyRecord::Running { fingerprint: held }) if held == fingerprint => {
            let mut response = problem(
                StatusCode::CONFLICT,
                "idempotency-key-in-use",
                "Request with this key still running",
                "a request with this Idempotency-Key is still being processed; retry in a moment",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Ok(IdempotencyRecord::Finished {
            fingerprint: held,
            response,
        }) if held == fingerprint => replay(&response),
        Ok(IdempotencyRecord::Started) => {
            let request = Request::from_parts(parts, axum::body::Body::from(bytes));
            let response = next.run(request).await;
            keep(&state, scoped, response).await
        }
        Ok(_) => problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency-key-reused",
            "Idempotency key used for another request",
            "this Idempotency-Key was used with another path or body in the last 24 hours; \
             use a new key for a new request",
        ),
    }
}

/// Stores the response under the key (or frees the key for a 5xx) and
/// returns it.
async fn keep(state: &AppState, scoped: String, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(error) => return Problem::internal(&error).into_response(),
    };
    let header_text = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let kept = Kept {
        status: parts.status.as_u16(),
        content_type: header_text(header::CONTENT_TYPE),
        location: header_text(header::LOCATION),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    let server_error = parts.status.is_server_error();
    let stored = state
        .blocking(move |host| {
            let result = if server_error {
                host.store.abandon_idempotent(&scoped)
            } else {
                let text = serde_json::to_string(&kept).map_err(|e| Problem::internal(&e))?;
                host.store.finish_idempotent(&scoped, &text)
            };
            result.map_err(store_problem)
        })
        .await;
    if let Err(problem) = stored {
        // The command itself is durable; a retry runs it again, which every
        // command answers safely (a placement of the same content is 200).
        tracing::warn!(detail = %problem.detail, "an idempotency record could not be stored");
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// A store failure: 503 `storage` (retrying may succeed).
fn store_problem(error: order_runtime::store::StoreError) -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "storage",
        "Event store unavailable",
        format!("the idempotency record could not be read or written: {error}"),
    )
}

/// The kept response, marked as a replay.
fn replay(text: &str) -> Response {
    let Ok(kept) = serde_json::from_str::<Kept>(text) else {
        return Problem::internal(&"an idempotency record is unreadable").into_response();
    };
    let mut response = Response::new(axum::body::Body::from(kept.body));
    *response.status_mut() = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, kept.content_type),
        (header::LOCATION, kept.location),
    ] {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, value);
        }
    }
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
