//! `GET /healthz` (liveness: the store can be read), `GET /readyz`
//! (readiness: the store takes a write now), `GET /openapi.json`, and the
//! answers for unknown routes.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::problem::{Problem, ProblemBody};

/// Runs `check` against the store; its failure is a 503 `storage` problem
/// titled `title`.
async fn store_check<E: std::fmt::Display>(
    state: &AppState,
    title: &'static str,
    check: impl FnOnce(&order_runtime::Host) -> Result<(), E> + Send + 'static,
) -> Result<(), Problem> {
    state
        .blocking(move |host| {
            check(host).map_err(|e| {
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage",
                    title,
                    e.to_string(),
                )
            })
        })
        .await
}

/// The host's health.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The host's version.
    pub version: String,
}

/// 200 when the host can read its event store; 503 otherwise.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "getHealth",
    tag = "system",
    responses(
        (status = 200, body = Health),
        (status = 503, description = "The event store is unreachable", body = ProblemBody, content_type = "application/problem+json")
    )
)]
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, Problem> {
    store_check(&state, "Storage unavailable", |host| {
        host.store.stream_version("healthz").map(drop)
    })
    .await?;
    Ok(Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }))
}

/// The host is ready for traffic.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// `ready`.
    pub status: String,
}

/// 200 when the event store takes a durable write and reads it back now
/// (a probe row beside the events; no stream is touched). 503 with
/// `Retry-After` and the reason otherwise: the store's file was deleted or
/// replaced under the running host, the disk refuses writes, or the server
/// is shutting down.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "getReadiness",
    tag = "system",
    responses(
        (status = 200, body = Ready),
        (status = 503, description = "The event store cannot take writes, or the server is shutting down", body = ProblemBody, content_type = "application/problem+json")
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Ready>, Problem> {
    store_check(&state, "Storage not ready", |host| host.store.probe()).await?;
    Ok(Json(Ready {
        status: "ready".to_owned(),
    }))
}

/// This API's OpenAPI 3.1 document, generated from the code.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "getOpenApiDocument",
    tag = "system",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"))
)]
pub async fn openapi(State(state): State<AppState>) -> Response {
    let document = state.0.openapi.get().cloned().unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], document).into_response()
}

/// 404 for a path no route serves.
pub async fn no_route(uri: Uri) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "no-such-route",
        "No such route",
        format!("nothing is served at {}; see /openapi.json", uri.path()),
    )
}

/// 405 for a route served with other methods.
pub async fn method_not_allowed(uri: Uri) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        format!(
            "{} is served with other methods; see /openapi.json",
            uri.path()
        ),
    )
}
