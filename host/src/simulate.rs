//! `order-host simulate`: the simulated payment gateway, inventory service,
//! shipping carrier and customer service served over the HTTP backend
//! contract (`docs/backends.md`), so that several hosts (or a host someone
//! else wrote) share one set of backends: one gateway that knows every
//! charge, one stock level per product.
//!
//! The answers come from the same [`Simulation`] the in-process backends
//! are: the same seeds, faults and idempotency (a repeated key replays the
//! first completed outcome), and with `--sim-state FILE` the same durable
//! journal. Failures become the statuses the contract gives them:
//!
//! | simulated outcome | answer |
//! |---|---|
//! | transient (no effect) | `503` with `{"error": ...}` |
//! | permanent (declined, refused) | `402` for a charge, else `422` |
//! | out of stock | `409` with the `stock-allocation-failed` record |
//! | in doubt (the effect may exist, the answer was lost) | `504`, which a host retries under the same key |
//!
//! `GET /sim/state` shows what the backends hold (charges, refunds, stock
//! reservations, shipments, messages) for tests and people; `GET /healthz`
//! answers `ok`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::Simulation;
use crate::carrier::ShippingCarrier as _;
use crate::customer::CustomerService as _;
use crate::external::ExternalError;
use crate::inventory::{AllocateError, InventoryService as _};
use crate::payment::PaymentGateway as _;

/// Members whose values are WIT enums: the contract spells them in
/// kebab-case (`credit-card`), the generated Rust types in upper camel case.
const ENUM_MEMBERS: &[&str] = &[
    "payment_method",
    "refund_method",
    "carrier",
    "status",
    "shipping_status",
    "priority",
    "notification_type",
];

/// Serves `sim` on `bind` until SIGINT or SIGTERM. Prints
/// `listening on http://ADDR` on stdout once bound.
pub fn serve(sim: Arc<Simulation>, bind: SocketAddr) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("order-host-simulate")
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("binding {bind}"))?;
        let address = listener.local_addr().context("reading the bound address")?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on http://{address}")?;
            out.flush()?;
        }
        tracing::info!(%address, "serving the simulated backends");
        axum::serve(listener, router(sim))
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("serving HTTP")
    })
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

/// The routes of the contract, plus `/sim/state` and `/healthz`.
pub fn router(sim: Arc<Simulation>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/sim/state", get(state))
        .route(
            "/payments",
            endpoint(StatusCode::PAYMENT_REQUIRED, |s, k, r| {
                Ok(s.payment.process_payment(k, r)?)
            }),
        )
        .route(
            "/refunds",
            endpoint(REFUSED, |s, k, r| Ok(s.payment.refund_payment(k, r)?)),
        )
        .route(
            "/allocations",
            endpoint(REFUSED, |s, k, r| Ok(s.inventory.allocate_stock(k, r)?)),
        )
        .route(
            "/releases",
            endpoint(REFUSED, |s, k, r| Ok(s.inventory.release_stock(k, r)?)),
        )
        .route(
            "/restocks",
            endpoint(REFUSED, |s, k, r| Ok(s.inventory.restock_items(k, r)?)),
        )
        .route(
            "/shipments",
            endpoint(REFUSED, |s, k, r| Ok(s.carrier.create_shipment(k, r)?)),
        )
        .route("/shipments/{shipment_id}/cancel", post(cancel_shipment))
        .route(
            "/notifications/order-confirmation",
            endpoint(REFUSED, |s, k, r| {
                Ok(s.customer.send_order_confirmation(k, r)?)
            }),
        )
        .route(
            "/notifications/order-cancellation",
            endpoint(REFUSED, |s, k, r| {
                Ok(s.customer.send_order_cancellation(k, r)?)
            }),
        )
        .route(
            "/notifications/shipping-update",
            endpoint(REFUSED, |s, k, r| {
                Ok(s.customer.send_shipping_update(k, r)?)
            }),
        )
        .route(
            "/tickets",
            endpoint(REFUSED, |s, k, r| {
                Ok(s.customer.create_support_ticket(k, r)?)
            }),
        )
        .with_state(sim)
}

type Sim = State<Arc<Simulation>>;

/// How the contract answers a permanent refusal of anything but a charge.
const REFUSED: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// Runs one call of a simulated backend off the async threads (a latency
/// fault sleeps) and turns its outcome into the contract's answer.
async fn call<R, T, F>(
    sim: Arc<Simulation>,
    headers: HeaderMap,
    body: Bytes,
    permanent: StatusCode,
    f: F,
) -> Response
where
    R: DeserializeOwned + Send + 'static,
    T: Serialize + Send + 'static,
    F: FnOnce(&Simulation, &str, &R) -> Result<T, Refusal> + Send + 'static,
{
    let key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        Some(Ok(key)) if !key.is_empty() => key.to_owned(),
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "the Idempotency-Key header is not visible ASCII",
            );
        }
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                "the Idempotency-Key header is missing",
            );
        }
    };
    let request: R = match decode(&body) {
        Ok(request) => request,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
    };
    let outcome = tokio::task::spawn_blocking(move || f(&sim, &key, &request)).await;
    match outcome {
        Ok(Ok(answer)) => match serde_json::to_value(&answer) {
            Ok(mut value) => {
                to_contract(&mut value);
                (StatusCode::OK, axum::Json(value)).into_response()
            }
            Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        },
        Ok(Err(Refusal::External(ExternalError::Transient(message)))) => {
            error(StatusCode::SERVICE_UNAVAILABLE, &message)
        }
        Ok(Err(Refusal::External(ExternalError::Permanent(message)))) => error(permanent, &message),
        Ok(Err(Refusal::External(ExternalError::InDoubt(message)))) => {
            error(StatusCode::GATEWAY_TIMEOUT, &message)
        }
        Ok(Err(Refusal::OutOfStock(failed))) => match serde_json::to_value(&failed) {
            Ok(mut value) => {
                to_contract(&mut value);
                if let Value::Object(members) = &mut value {
                    members.insert("error".to_owned(), json!("out of stock"));
                }
                (StatusCode::CONFLICT, axum::Json(value)).into_response()
            }
            Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        },
        Err(join) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("the call failed: {join}"),
        ),
    }
}

/// Why a simulated call did not succeed.
enum Refusal {
    External(ExternalError),
    OutOfStock(crate::inventory::StockAllocationFailed),
}

impl From<ExternalError> for Refusal {
    fn from(error: ExternalError) -> Self {
        Refusal::External(error)
    }
}

impl From<AllocateError> for Refusal {
    fn from(error: AllocateError) -> Self {
        match error {
            AllocateError::OutOfStock(failed) => Refusal::OutOfStock(failed),
            AllocateError::Failed(error) => Refusal::External(error),
        }
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

/// The request record from the contract's JSON; the message names the
/// member that is wrong.
fn decode<R: DeserializeOwned>(body: &[u8]) -> Result<R, String> {
    let mut value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    from_contract(&mut value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        format!(
            "the body is not the request record: {path}: {}",
            e.into_inner()
        )
    })
}

/// Contract JSON to the generated types' JSON: enum values to upper camel case.
fn from_contract(value: &mut Value) {
    walk(value, &|text| {
        text.split('-')
            .map(|word| {
                let mut chars = word.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_ascii_uppercase().to_string() + chars.as_str()
                })
            })
            .collect()
    });
}

/// The generated types' JSON to the contract's: enum values to kebab-case.
fn to_contract(value: &mut Value) {
    walk(value, &crate::bindings::kebab_case);
}

fn walk(value: &mut Value, convert: &dyn Fn(&str) -> String) {
    match value {
        Value::Object(members) => {
            for (name, member) in members.iter_mut() {
                match member {
                    Value::String(text) if ENUM_MEMBERS.contains(&name.as_str()) => {
                        *text = convert(text);
                    }
                    other => walk(other, convert),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| walk(item, convert)),
        _ => {}
    }
}

/// The route of one operation: `operation` on the simulation, a refusal
/// answered with `refused` (see [`call`]).
fn endpoint<R, T>(
    refused: StatusCode,
    operation: fn(&Simulation, &str, &R) -> Result<T, Refusal>,
) -> MethodRouter<Arc<Simulation>>
where
    R: DeserializeOwned + Send + 'static,
    T: Serialize + Send + 'static,
{
    post(move |State(sim): Sim, headers: HeaderMap, body: Bytes| {
        call(sim, headers, body, refused, operation)
    })
}

async fn cancel_shipment(
    State(sim): Sim,
    axum::extract::Path(shipment_id): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    call(
        sim,
        headers,
        body,
        REFUSED,
        move |sim, key, request: &crate::carrier::CancelShipmentRequest| {
            if request.shipment_id != shipment_id {
                return Err(ExternalError::permanent(format!(
                    "the path names shipment {shipment_id}, the body {}",
                    request.shipment_id
                ))
                .into());
            }
            Ok(sim.carrier.cancel_shipment(key, request)?)
        },
    )
    .await
}

/// What the simulated backends hold.
async fn state(State(sim): Sim) -> Response {
    let charges: Vec<Value> = sim
        .payment
        .charges()
        .into_iter()
        .map(|c| {
            json!({
                "transaction_id": c.transaction_id,
                "order_id": c.order_id,
                "customer_id": c.customer_id,
                "amount": c.amount.amount,
                "currency": c.amount.currency,
                "refunded": c.refunded,
            })
        })
        .collect();
    let refunds: Vec<Value> = sim
        .payment
        .refunds()
        .into_iter()
        .map(|r| {
            json!({
                "transaction_id": r.transaction_id,
                "amount": r.amount.amount,
                "reason": r.reason,
            })
        })
        .collect();
    let shipments: Vec<Value> = sim
        .carrier
        .shipments()
        .into_iter()
        .map(|s| json!({ "shipment_id": s.shipment_id, "order_id": s.order_id }))
        .collect();
    let body = json!({
        "charges": charges,
        "refunds": refunds,
        "holdings": sim.inventory.holdings(),
        "total_held": sim.inventory.total_held(),
        "default_stock": sim.inventory.default_stock(),
        "shipments": shipments,
        "messages": sim.customer.messages().len(),
        "tickets": sim.customer.tickets().len(),
        "calls": sim.log().len(),
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_values_round_trip_between_the_contract_and_the_generated_types() {
        let mut value = json!({
            "payment_method": "credit-card",
            "items": [{ "carrier": "other-carrier" }],
            "shipping_status": "out-for-delivery",
            "reason": "not-an-enum",
        });
        from_contract(&mut value);
        assert_eq!(value["payment_method"], "CreditCard");
        assert_eq!(value["items"][0]["carrier"], "OtherCarrier");
        assert_eq!(value["shipping_status"], "OutForDelivery");
        assert_eq!(value["reason"], "not-an-enum");
        to_contract(&mut value);
        assert_eq!(value["payment_method"], "credit-card");
        assert_eq!(value["items"][0]["carrier"], "other-carrier");
        assert_eq!(value["shipping_status"], "out-for-delivery");
    }

    #[test]
    fn a_malformed_request_names_the_member() {
        let error = decode::<crate::payment::ProcessPaymentRequest>(
            br#"{"order_id":"o","payment_amount":{"amount":"ten","currency":"USD"},"payment_method":"credit-card","customer_id":"c"}"#,
        )
        .unwrap_err();
        assert!(error.contains("payment_amount.amount"), "{error}");
    }
}
