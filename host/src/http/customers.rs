//! `/customers`: a customer's order history.

use axum::Json;
use axum::extract::{Path, State};

use super::AppState;
use super::dto::Order;
use super::problem::{Problem, ReadProblems};

/// A customer's orders, oldest first (empty for an unknown customer).
#[utoipa::path(
    get,
    path = "/customers/{id}/orders",
    operation_id = "listCustomerOrders",
    tag = "customers",
    params(("id" = String, Path, description = "Customer id (UUID)")),
    responses((status = 200, body = Vec<Order>), ReadProblems)
)]
pub async fn orders(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<Order>>, Problem> {
    let orders = state.query(move |svc| svc.orders_of_customer(&id)).await?;
    Ok(Json(orders.into_iter().map(Into::into).collect()))
}
