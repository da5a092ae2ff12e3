//! `/orders/{id}/returns` and `/returns`: requesting a return, and customer
//! service's decisions, receipt and refund. Each command is serialised on
//! the return's order, like every other command on that order.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;

use super::auth::Principal;
use super::dto::{
    ApproveReturnRequest, CloseReturnRequest, DenyReturnRequest, HistoryEntry,
    ProcessRefundRequest, ReceiveReturnRequest, RequestReturnRequest, Return, ShipReturnRequest,
};
use super::page::PageParams;
use super::problem::{CommandProblems, JsonBody, Problem, ReadProblems};
use super::{AppState, created};
use order_runtime::bindings::returns::ReturnView;
use order_runtime::service::{OrderService, ServiceError};

/// Runs a command of the return `return_id`, serialised on its order.
async fn on_return<C: Send + 'static>(
    state: &AppState,
    return_id: &str,
    cmd: C,
    call: impl Fn(&OrderService, &C) -> Result<ReturnView, ServiceError> + Send + 'static,
) -> Result<Json<Return>, Problem> {
    let order_id = state.order_of_return(return_id).await?;
    let view = state.command(&order_id, move |svc| call(svc, &cmd)).await?;
    Ok(Json(view.into()))
}

/// The returns of an order, oldest first.
#[utoipa::path(
    get,
    path = "/orders/{id}/returns",
    operation_id = "listOrderReturns",
    tag = "returns",
    params(("id" = String, Path, description = "Order id"), PageParams),
    responses((status = 200, body = Vec<Return>, headers(("Link" = String, description = "The next page, `<...>; rel=\"next\"`, when there is one"))), ReadProblems)
)]
pub async fn list_for_order(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, Problem> {
    state
        .query_page::<_, Return>(&uri, move |svc| {
            // An unknown order is a 404, not an empty list.
            svc.get_order(&id)?;
            svc.returns_of_order(&id)
        })
        .await
}

/// Request a return of items of a delivered order (`request-return`).
///
/// The order must be `delivered` and within the return window; the customer
/// must be the order's; items must be lines of the order, with quantities no
/// larger than what earlier returns left. Breaking one of these rules
/// answers 422 (`rule-violated`) naming the rule; a malformed field 400.
#[utoipa::path(
    post,
    path = "/orders/{id}/returns",
    operation_id = "requestReturn",
    tag = "returns",
    params(("id" = String, Path, description = "Order id")),
    request_body = RequestReturnRequest,
    responses(
        (status = 201, description = "Requested", body = Return,
         headers(("Location" = String, description = "/returns/{id}"))),
        CommandProblems
    )
)]
pub async fn request(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<RequestReturnRequest>,
) -> Result<Response, Problem> {
    let cmd = request.into_command(id.clone());
    let view = Return::from(
        state
            .command(&id, move |svc| svc.request_return(&cmd))
            .await?,
    );
    Ok(created(format!("/returns/{}", view.return_id), view))
}

/// A return as it stands.
#[utoipa::path(
    get,
    path = "/returns/{id}",
    operation_id = "getReturn",
    tag = "returns",
    params(("id" = String, Path, description = "Return id (UUID)")),
    responses((status = 200, body = Return), ReadProblems)
)]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Return>, Problem> {
    Ok(Json(
        state.query(move |svc| svc.get_return(&id)).await?.into(),
    ))
}

/// A return's history: every event of its stream, oldest first.
#[utoipa::path(
    get,
    path = "/returns/{id}/events",
    operation_id = "listReturnEvents",
    tag = "returns",
    params(("id" = String, Path, description = "Return id"), PageParams),
    responses((status = 200, body = Vec<HistoryEntry>, headers(("Link" = String, description = "The next page, `<...>; rel=\"next\"`, when there is one"))), ReadProblems)
)]
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, Problem> {
    state
        .query_page::<_, HistoryEntry>(&uri, move |svc| svc.return_history(&id))
        .await
}

/// Approve a requested return (`approve-return`), optionally with a return label.
#[utoipa::path(
    post,
    path = "/returns/{id}/approve",
    operation_id = "approveReturn",
    tag = "returns",
    params(("id" = String, Path, description = "Return id")),
    request_body = ApproveReturnRequest,
    responses((status = 200, body = Return), CommandProblems)
)]
pub async fn approve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Extension(principal): Extension<Principal>,
    JsonBody(request): JsonBody<ApproveReturnRequest>,
) -> Result<Json<Return>, Problem> {
    let cmd = request.into_command(id.clone(), principal.actor())?;
    on_return(&state, &id, cmd, OrderService::approve_return).await
}

/// Deny a requested return (`deny-return`); its items may be returned again later.
#[utoipa::path(
    post,
    path = "/returns/{id}/deny",
    operation_id = "denyReturn",
    tag = "returns",
    params(("id" = String, Path, description = "Return id")),
    request_body = DenyReturnRequest,
    responses((status = 200, body = Return), CommandProblems)
)]
pub async fn deny(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Extension(principal): Extension<Principal>,
    JsonBody(request): JsonBody<DenyReturnRequest>,
) -> Result<Json<Return>, Problem> {
    let cmd = request.into_command(id.clone(), principal.actor())?;
    on_return(&state, &id, cmd, OrderService::deny_return).await
}

/// Record that the customer shipped the items back (`ship-return`).
#[utoipa::path(
    post,
    path = "/returns/{id}/ship",
    operation_id = "shipReturn",
    tag = "returns",
    params(("id" = String, Path, description = "Return id")),
    request_body = ShipReturnRequest,
    responses((status = 200, body = Return), CommandProblems)
)]
pub async fn ship(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<ShipReturnRequest>,
) -> Result<Json<Return>, Problem> {
    let cmd = request.into_command(id.clone());
    on_return(&state, &id, cmd, OrderService::ship_return).await
}

/// Record receipt at the warehouse (`receive-return`); with
/// `all_items_received` the returned units are restocked.
#[utoipa::path(
    post,
    path = "/returns/{id}/receive",
    operation_id = "receiveReturn",
    tag = "returns",
    params(("id" = String, Path, description = "Return id")),
    request_body = ReceiveReturnRequest,
    responses((status = 200, body = Return), CommandProblems)
)]
pub async fn receive(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<ReceiveReturnRequest>,
) -> Result<Json<Return>, Problem> {
    let cmd = request.into_command(id.clone(), state.now_ms());
    on_return(&state, &id, cmd, OrderService::receive_return).await
}

/// Refund a received return through the payment gateway (`process-refund`).
///
/// At most what was paid minus what was refunded already (422
/// `rule-violated` otherwise). When every unit of the order is returned and
/// refunded, the order becomes `returned`.
#[utoipa::path(
    post,
    path = "/returns/{id}/refund",
    operation_id = "refundReturn",
    tag = "returns",
    params(("id" = String, Path, description = "Return id")),
    request_body = ProcessRefundRequest,
    responses((status = 200, body = Return), CommandProblems)
)]
pub async fn refund(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<ProcessRefundRequest>,
) -> Result<Json<Return>, Problem> {
    let cmd = request.into_command(id.clone());
    on_return(&state, &id, cmd, OrderService::process_refund).await
}

/// Close an approved or shipped return without refund (`close-return`).
#[utoipa::path(
    post,
    path = "/returns/{id}/close",
    operation_id = "closeReturn",
    tag = "returns",
    params(("id" = String, Path, description = "Return id")),
    request_body = CloseReturnRequest,
    responses((status = 200, body = Return), CommandProblems)
)]
pub async fn close(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<CloseReturnRequest>,
) -> Result<Json<Return>, Problem> {
    let cmd = request.into_command(id.clone());
    on_return(&state, &id, cmd, OrderService::close_return).await
}
