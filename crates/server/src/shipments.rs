//! `/shipments`: a shipment with its carrier and tracking history.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;

use super::AppState;
use super::dto::{HistoryEntry, Shipment};
use super::page::{PageParams, history_route, view_route};
use super::problem::{Problem, ReadProblems};

view_route!(
    /// A shipment with its tracking history, oldest entry first.
    get, "/shipments/{id}", "getShipment", "shipments", "Shipment id (UUID)", Shipment, get_shipment
);

history_route!(
    /// A shipment's history: every event of its stream, oldest first.
    events, "/shipments/{id}/events", "listShipmentEvents", "shipments", "Shipment id", shipment_history
);
