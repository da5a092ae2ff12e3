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
use super::page::{PageParams, history_route, list_route, view_route};
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

list_route!(
    /// The returns of an order, oldest first.
    list_for_order, "/orders/{id}/returns", "listOrderReturns", "returns", "Order id", Return,
    |svc, id| {
        // An unknown order is a 404, not an empty list.
        svc.get_order(id)?;
        svc.returns_of_order(id)
    }
);

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

view_route!(
    /// A return as it stands.
    get, "/returns/{id}", "getReturn", "returns", "Return id (UUID)", Return, get_return
);

history_route!(
    /// A return's history: every event of its stream, oldest first.
    events, "/returns/{id}/events", "listReturnEvents", "returns", "Return id", return_history
);

/// A command on a return: `POST /returns/{id}/<verb>`, its body made into
/// the command by `$make` (given the body, the return id, the caller and the
/// state), run by `$call` serialised on the return's order, answered with
/// the return as it stands.
macro_rules! return_command {
    ($(#[doc = $doc:tt])* $name:ident, $path:tt, $operation:tt, $body:ident, $call:path,
     |$request:ident, $id:ident, $principal:ident, $state:ident| $make:expr) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            post,
            path = $path,
            operation_id = $operation,
            tag = "returns",
            params(("id" = String, Path, description = "Return id")),
            request_body = $body,
            responses((status = 200, body = Return), CommandProblems)
        )]
        pub async fn $name(
            State($state): State<AppState>,
            Path($id): Path<String>,
            Extension($principal): Extension<Principal>,
            JsonBody($request): JsonBody<$body>,
        ) -> Result<Json<Return>, Problem> {
            let cmd = $make;
            on_return(&$state, &$id, cmd, $call).await
        }
    };
}

return_command!(
    /// Approve a requested return (`approve-return`), optionally with a return label.
    approve, "/returns/{id}/approve", "approveReturn", ApproveReturnRequest,
    OrderService::approve_return,
    |request, id, principal, state| request.into_command(id.clone(), principal.actor())?
);

return_command!(
    /// Deny a requested return (`deny-return`); its items may be returned again later.
    deny, "/returns/{id}/deny", "denyReturn", DenyReturnRequest,
    OrderService::deny_return,
    |request, id, principal, state| request.into_command(id.clone(), principal.actor())?
);

return_command!(
    /// Record that the customer shipped the items back (`ship-return`).
    ship, "/returns/{id}/ship", "shipReturn", ShipReturnRequest,
    OrderService::ship_return,
    |request, id, _principal, state| request.into_command(id.clone())
);

return_command!(
    /// Record receipt at the warehouse (`receive-return`); with
    /// `all_items_received` the returned units are restocked.
    receive, "/returns/{id}/receive", "receiveReturn", ReceiveReturnRequest,
    OrderService::receive_return,
    |request, id, _principal, state| request.into_command(id.clone(), state.now_ms())
);

return_command!(
    /// Refund a received return through the payment gateway (`process-refund`).
    ///
    /// At most what was paid minus what was refunded already (422
    /// `rule-violated` otherwise). When every unit of the order is returned and
    /// refunded, the order becomes `returned`.
    refund, "/returns/{id}/refund", "refundReturn", ProcessRefundRequest,
    OrderService::process_refund,
    |request, id, _principal, state| request.into_command(id.clone())
);

return_command!(
    /// Close an approved or shipped return without refund (`close-return`).
    close, "/returns/{id}/close", "closeReturn", CloseReturnRequest,
    OrderService::close_return,
    |request, id, _principal, state| request.into_command(id.clone())
);
