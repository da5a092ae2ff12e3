//! `GET /orders` and `GET /customers/{id}/orders`: order summaries from the
//! store's read model (no stream is replayed), filtered, newest first, a
//! page at a time (see [`super::page`]).

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;

use order_runtime::store::{OrderQuery, SagaState, StoreError, read_model::ORDER_STATUSES};

use super::AppState;
use super::auth::Principal;
use super::dto::{OrderPage, OrderStatus, OrderSummary, SagaState as DtoSagaState};
use super::page::{self, PageParams, QueryParams};
use super::problem::{Problem, ReadProblems};

/// The query parameters of `GET /orders`, for the OpenAPI document (the
/// handler reads them with [`QueryParams`], which accepts comma lists too).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct OrderFilters {
    /// Only this customer's orders (a UUID).
    customer_id: Option<String>,
    /// Only these statuses (repeat the parameter, or give a comma list).
    status: Option<Vec<OrderStatus>>,
    /// Only these saga states (repeat the parameter, or give a comma list).
    saga: Option<Vec<DtoSagaState>>,
    /// Placed at or after this time (RFC 3339).
    #[param(format = DateTime)]
    placed_from: Option<String>,
    /// Placed before this time (RFC 3339).
    #[param(format = DateTime)]
    placed_to: Option<String>,
    /// The last event recorded at or after this time (RFC 3339).
    #[param(format = DateTime)]
    updated_since: Option<String>,
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

const FILTERS: &[&str] = &[
    "customer_id",
    "status",
    "saga",
    "placed_from",
    "placed_to",
    "updated_since",
    "limit",
    "cursor",
];

/// Find orders: every order the caller may see, newest first.
///
/// Filters combine (all must hold): `customer_id`; `status` and `saga`
/// (repeatable, or comma lists: any of them); `placed_from` (inclusive) and
/// `placed_to` (exclusive), RFC 3339, which leave drafts out;
/// `updated_since` (inclusive, RFC 3339). `limit` (1..=200, default 50)
/// and `cursor` (the previous page's `next_cursor`) page through the
/// result; a `Link: <...>; rel="next"` header points at the next page. A
/// customer credential sees only its own orders (another `customer_id`
/// finds nothing).
#[utoipa::path(
    get,
    path = "/orders",
    operation_id = "listOrders",
    tag = "orders",
    params(OrderFilters),
    responses(
        (status = 200, description = "A page of orders, newest first", body = OrderPage,
         headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))),
        ReadProblems
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    uri: Uri,
) -> Result<Response, Problem> {
    let params = QueryParams::of(&uri, FILTERS)?;
    let customer = params
        .one("customer_id")?
        .map(|c| uuid("customer_id", c))
        .transpose()?;
    let customer = match (&principal.customer_id, customer) {
        // A customer's credential lists its own orders only.
        (Some(own), Some(asked)) if !own.eq_ignore_ascii_case(&asked) => {
            return Ok(page::with_next(
                Json(OrderPage {
                    items: Vec::new(),
                    next_cursor: None,
                }),
                &uri,
                None,
            ));
        }
        (Some(own), _) => Some(own.to_ascii_lowercase()),
        (None, asked) => asked,
    };
    let mut query = base_query(&params)?;
    query.customer_id = customer;
    query.statuses = params.all("status");
    if let Some(bad) = query
        .statuses
        .iter()
        .find(|s| !ORDER_STATUSES.contains(&s.as_str()))
    {
        return Err(Problem::validation(
            "status",
            format!(
                "`{bad}` is not an order status (one of {})",
                ORDER_STATUSES.join(", ")
            ),
        ));
    }
    query.sagas = params
        .all("saga")
        .iter()
        .map(|s| {
            SagaState::parse(s).ok_or_else(|| {
                Problem::validation(
                    "saga",
                    format!(
                        "`{s}` is not a saga state (one of running, completed, compensated, \
                         compensation-failed)"
                    ),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    query.placed_from = params.time("placed_from")?;
    query.placed_to = params.time("placed_to")?;
    query.updated_since = params.time("updated_since")?;
    respond(&state, query, &uri).await
}

/// A customer's orders, newest first (an empty page for an unknown customer).
///
/// The same summaries and paging as `GET /orders?customer_id=...`.
#[utoipa::path(
    get,
    path = "/customers/{id}/orders",
    operation_id = "listCustomerOrders",
    tag = "customers",
    params(
        ("id" = String, Path, description = "Customer id (UUID)"),
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of the customer's orders, newest first", body = OrderPage,
         headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))),
        ReadProblems
    )
)]
pub async fn of_customer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, Problem> {
    let params = QueryParams::of(&uri, &["limit", "cursor"])?;
    let mut query = base_query(&params)?;
    query.customer_id = Some(uuid("id", &id)?);
    respond(&state, query, &uri).await
}

/// The paging part of a query: `limit` and `cursor`.
fn base_query(params: &QueryParams) -> Result<OrderQuery, Problem> {
    Ok(OrderQuery {
        limit: params.limit()?,
        after: params
            .one("cursor")?
            .map(page::parse_key_cursor)
            .transpose()?,
        ..OrderQuery::default()
    })
}

/// Runs `query` for one more than a page, to know whether a next page exists.
async fn respond(state: &AppState, query: OrderQuery, uri: &Uri) -> Result<Response, Problem> {
    let limit = query.limit;
    let mut found = state
        .blocking(move |host| {
            host.store
                .list_orders(&OrderQuery {
                    limit: limit + 1,
                    ..query
                })
                .map_err(store_problem)
        })
        .await?;
    let next = if found.len() > limit {
        found.truncate(limit);
        found.last().map(|last| page::key_cursor(&last.cursor()))
    } else {
        None
    };
    let items = found.into_iter().map(OrderSummary::from).collect();
    Ok(page::paged(uri, "cursor", next, |next_cursor| OrderPage {
        items,
        next_cursor,
    }))
}

fn uuid(field: &str, text: &str) -> Result<String, Problem> {
    uuid::Uuid::parse_str(text.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| Problem::validation(field, format!("must be a UUID, not `{text}`")))
}

fn store_problem(error: StoreError) -> Problem {
    match error {
        StoreError::Invalid(detail) => Problem::bad_request(detail),
        other => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage",
            "Storage unavailable",
            other.to_string(),
        ),
    }
}
