//! `/shipments`: a shipment with its carrier and tracking history.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;

use super::AppState;
use super::dto::{HistoryEntry, Shipment};
use super::page::{PageParams, history_route};
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

history_route!(
    /// A shipment's history: every event of its stream, oldest first.
    events, "/shipments/{id}/events", "listShipmentEvents", "shipments", "Shipment id", shipment_history
);
