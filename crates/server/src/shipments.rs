//! `/shipments`: a shipment with its carrier and tracking history.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;

use super::AppState;
use super::dto::{HistoryEntry, Shipment};
use super::page::PageParams;
use super::problem::{Problem, ReadProblems};

/// A shipment with its tracking history, oldest entry first.
#[utoipa::path(
    get,
    path = "/shipments/{id}",
    operation_id = "getShipment",
    tag = "shipments",
    params(("id" = String, Path, description = "Shipment id (UUID)")),
    responses((status = 200, body = Shipment), ReadProblems)
)]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Shipment>, Problem> {
    Ok(Json(
        state.query(move |svc| svc.get_shipment(&id)).await?.into(),
    ))
}

/// A shipment's history: every event of its stream, oldest first.
#[utoipa::path(
    get,
    path = "/shipments/{id}/events",
    operation_id = "listShipmentEvents",
    tag = "shipments",
    params(("id" = String, Path, description = "Shipment id"), PageParams),
    responses((status = 200, body = Vec<HistoryEntry>, headers(("Link" = String, description = "The next page, `<...>; rel=\"next\"`, when there is one"))), ReadProblems)
)]
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, Problem> {
    state
        .query_page::<_, HistoryEntry>(&uri, move |svc| svc.shipment_history(&id))
        .await
}
