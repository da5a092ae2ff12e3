//! `/orders`: place (or open a draft), read, edit a draft, history, saga,
//! cancel, shipments.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;

use super::auth::Principal;
use super::dto::{
    CancelOrderRequest, HistoryEntry, Order, PlaceOrderRequest, Placement, SagaReport, Shipment,
    UpdateDraftRequest,
};
use super::page::{PageParams, history_route, list_route, view_route};
use super::problem::{CommandProblems, JsonBody, Problem, ReadProblems};
use super::{AppState, created};

/// Place an order, or open a draft.
///
/// Places the order (`place-order`): validates it, prices it with the
/// store's policy and records it as `pending`, then answers 201 with the
/// order. The fulfilment saga (payment, stock allocation, shipment,
/// confirmation) is scheduled in the same write and runs in the background:
/// poll `GET /orders/{id}` (or `/orders/{id}/saga`) to follow it. Placing a
/// draft's id places the draft. Repeating a placement with the same id and
/// content answers 200 with the order as it is now, whatever its state;
/// the same id with other content is 409 `id-already-used`.
///
/// With `"draft": true`, opens a cart in `draft` (`create-draft`) instead;
/// addresses and payment method may be missing and the items empty.
#[utoipa::path(
    post,
    path = "/orders",
    operation_id = "placeOrder",
    tag = "orders",
    request_body = PlaceOrderRequest,
    responses(
        (status = 201, description = "Placed (pending; the saga runs in the background) or drafted", body = Order,
         headers(("Location" = String, description = "/orders/{id}"))),
        (status = 200, description = "The same placement again: the order as it is now", body = Order),
        CommandProblems
    )
)]
pub async fn place(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<PlaceOrderRequest>,
) -> Result<Response, Problem> {
    let order_id = request.order_id.clone();
    let placement = request.clone().into_placement().map_err(|field| {
        Problem::validation(
            field,
            "is required to place an order (or send \"draft\": true)",
        )
    })?;
    let placed = match placement {
        Placement::Draft(cmd) => {
            state
                .on_order(Some(&order_id), move |host| {
                    if let Some(existing) = placed_already(host, &cmd.order_id)? {
                        return Ok(Err(existing));
                    }
                    host.service.retrying(|svc| svc.create_draft(&cmd)).map(Ok)
                })
                .await?
        }
        Placement::Place(cmd) => {
            state
                .on_order(Some(&order_id), move |host| {
                    if let Some(existing) = placed_already(host, &cmd.order_id)? {
                        return Ok(Err(existing));
                    }
                    match host.service.retrying(|svc| svc.place_order(&cmd)) {
                        Ok(order) => Ok(Ok(order)),
                        // Another host wrote the order between the look
                        // above and this placement: answered as a repeat.
                        Err(error) => match placed_already(host, &cmd.order_id)? {
                            Some(existing) => Ok(Err(existing)),
                            None => Err(error),
                        },
                    }
                })
                .await?
        }
    };
    match placed {
        Ok(order) => {
            let order = Order::from(order);
            Ok(created(format!("/orders/{}", order.order_id), order))
        }
        // The order was placed before: the same content is a retry, answered
        // with the order as it is now; other content is another order.
        Err(existing) => {
            if !request.draft && same_placement(&request, &existing) {
                Ok(axum::response::IntoResponse::into_response(Json(existing)))
            } else {
                Err(Problem::new(
                    axum::http::StatusCode::CONFLICT,
                    "id-already-used",
                    "Order id already used",
                    format!(
                        "the order {} was already placed with other content; choose a new \
                         order_id for a new order (a repeat of the same placement answers 200 \
                         with the order as it is now)",
                        existing.order_id
                    ),
                )
                .with_field("order_id"))
            }
        }
    }
}

/// The order `order_id` when it exists and is no longer a draft (a draft is
/// placed, or replaced by a new draft, by the component itself).
fn placed_already(
    host: &order_runtime::Host,
    order_id: &str,
) -> Result<Option<Order>, order_runtime::service::ServiceError> {
    use order_runtime::bindings::types::CommandError;
    use order_runtime::service::ServiceError;
    match host.service.get_order(order_id) {
        Ok(order) => {
            let order = Order::from(order);
            Ok((order.status != super::dto::OrderStatus::Draft).then_some(order))
        }
        Err(ServiceError::Domain(CommandError::NotFound(_))) => Ok(None),
        // A malformed id: the placement itself names the field.
        Err(ServiceError::Domain(CommandError::Validation(_))) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Whether `request` asks for what `order` was placed with: the customer,
/// the lines, the addresses and the payment method (ids and currencies
/// compared as the component normalises them).
fn same_placement(request: &PlaceOrderRequest, order: &Order) -> bool {
    let norm = |s: &str| s.trim().to_ascii_lowercase();
    let currency = |c: &str| {
        if c.trim().is_empty() {
            "usd".to_owned()
        } else {
            norm(c)
        }
    };
    let address = |a: &Option<super::dto::Address>| {
        a.as_ref().map(|a| {
            (
                norm(&a.street1),
                a.street2.as_deref().map(norm),
                norm(&a.city),
                norm(&a.state_province),
                norm(&a.postal_code),
                norm(&a.country),
            )
        })
    };
    // The request's lines and the order's are different types with the
    // same fields: one expression compares them.
    macro_rules! lines {
        ($items:expr) => {
            $items
                .iter()
                .map(|i| {
                    (
                        norm(&i.item_id),
                        norm(&i.product_id),
                        i.sku.trim().to_owned(),
                        i.product_name.trim().to_owned(),
                        i.quantity,
                        i.unit_price.amount,
                        currency(&i.unit_price.currency),
                    )
                })
                .collect::<Vec<_>>()
        };
    }
    norm(&request.customer_id) == norm(&order.customer_id)
        && lines!(request.items) == lines!(order.items)
        && address(&request.shipping_address) == address(&order.shipping_address)
        && address(&request.billing_address) == address(&order.billing_address)
        && request.payment_method == order.payment_method
}

view_route!(
    /// An order as it stands.
    get, "/orders/{id}", "getOrder", "orders", "Order id (UUID)", Order, get_order
);

/// Edit a draft (`update-draft`): each field present replaces the draft's.
#[utoipa::path(
    patch,
    path = "/orders/{id}",
    operation_id = "updateDraft",
    tag = "orders",
    params(("id" = String, Path, description = "Order id of a draft")),
    request_body = UpdateDraftRequest,
    responses((status = 200, body = Order), CommandProblems)
)]
pub async fn update_draft(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<UpdateDraftRequest>,
) -> Result<Json<Order>, Problem> {
    let cmd = request.into_command(id.clone());
    let order = state
        .command(&id, move |svc| svc.update_draft(&cmd))
        .await?;
    Ok(Json(order.into()))
}

history_route!(
    /// An order's history: every event, oldest first.
    events, "/orders/{id}/events", "listOrderEvents", "orders", "Order id", order_history
);

/// Where the order's fulfilment saga stands (without running it).
#[utoipa::path(
    get,
    path = "/orders/{id}/saga",
    operation_id = "getOrderSaga",
    tag = "orders",
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = SagaReport), ReadProblems)
)]
pub async fn saga(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SagaReport>, Problem> {
    Ok(Json(
        state.query(move |svc| svc.saga_status(&id)).await?.into(),
    ))
}

/// Retry the order's saga now (for a stuck one, `retry-now`): the server
/// forgets its hold-back after failed advances, and a back-off the saga
/// decided itself (a step's, a compensation's or a support ticket's wait
/// before its next attempt) ends now, recorded as `saga-retry-requested`
/// with the caller (`role:name`) as `requested-by`; the saga then advances
/// at once, as far as it goes. Attempt counts and the retry policy's limit
/// still hold, and an in-doubt call is repeated under its idempotency key.
/// A saga with nothing to wait out records the request too and is advanced.
/// A finished saga is answered
/// as it stands (phase `finished`, nothing written); a draft answers 409,
/// an unknown order 404.
#[utoipa::path(
    post,
    path = "/orders/{id}/saga/retry",
    operation_id = "retrySaga",
    tag = "orders",
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = SagaReport), CommandProblems)
)]
pub async fn retry_saga(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<SagaReport>, Problem> {
    let order_id = id.clone();
    let actor = principal.actor();
    let report = state
        .on_order(Some(&id), move |host| {
            host.driver.retry_now(&order_id, &actor)
        })
        .await?;
    Ok(Json(report.into()))
}

/// Cancel an order (`cancel-order`), allowed in draft, pending and confirmed.
///
/// The order is `cancelled` when this answers; the compensations (refund of
/// what was paid, release of allocated stock, cancellation of a booked
/// shipment, the notice to the customer) run through the saga, retried in
/// the background until done. A shipped order answers 409 with its state.
#[utoipa::path(
    post,
    path = "/orders/{id}/cancel",
    operation_id = "cancelOrder",
    tag = "orders",
    params(("id" = String, Path, description = "Order id")),
    request_body = CancelOrderRequest,
    responses((status = 200, description = "Cancelled", body = Order), CommandProblems)
)]
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Extension(principal): Extension<Principal>,
    JsonBody(request): JsonBody<CancelOrderRequest>,
) -> Result<Json<Order>, Problem> {
    let cmd = request.into_command(id.clone(), principal.actor())?;
    let order = state
        .command(&id, move |svc| svc.cancel_order(&cmd))
        .await?;
    Ok(Json(order.into()))
}

list_route!(
    /// The shipments of an order, oldest first.
    shipments, "/orders/{id}/shipments", "listOrderShipments", "orders", "Order id", Shipment,
    |svc, id| {
        // An unknown order is a 404, not an empty list.
        svc.get_order(id)?;
        svc.shipments_of_order(id)
    }
);
