//! `order-server`: the order service as a JSON HTTP API (axum on tokio)
//! and the web console for people at `/console`, over [`order_runtime`];
//! `order-host serve` runs it.
//!
//! - [`console`]: the server-rendered console; [`text`]: the words and
//!   figures for people that the console and the CLI share.
//! - [`dto`]: the JSON shapes and their conversions to and from the WIT types.
//! - [`problem`]: RFC 9457 errors and the JSON body extractor.
//! - [`webhooks`]: signed inbound events of the external contexts; [`ledger`]
//!   remembers which were processed.
//! - `orders`, `order_list` (the order lists), `shipments`, `returns`, `metrics`, `system`: the
//!   routes of each area, each documented with `#[utoipa::path]`; the router
//!   and the OpenAPI document are built together by [`router`], so a route
//!   cannot be served without being documented.
//!
//! Component calls are blocking (a synchronous wasmtime host): they run on
//! tokio's blocking pool, at most as many at once as the instance pool
//! allows. Every command on an existing order, and on its shipments and
//! returns, is serialised per order within the process ([`KeyedLocks`]);
//! across processes, and against the saga driver, the event store's
//! optimistic concurrency plus [`OrderService::retrying`] keep updates
//! from being lost. The saga driver runs on its own thread while serving.

pub mod auth;
pub mod console;
pub mod contract;
pub mod dto;
pub mod feed;
pub mod idempotency;
pub mod ledger;
pub mod outbound;
pub mod problem;
pub mod webhook_endpoints;
pub mod webhooks;

mod media;
mod metrics;
mod order_list;
mod orders;
pub mod page;
mod returns;
mod shipments;
mod strict;
mod system;
pub mod text;

pub use ledger::{MemoryLedger, SqliteLedger, WebhookLedger};
pub use metrics::Metrics;
pub use problem::{Problem, ProblemBody};

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::{OwnedMutexGuard, Semaphore};
use utoipa::OpenApi as _;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use order_runtime::Host;
use order_runtime::bindings::types::CommandError;
use order_runtime::service::{OrderService, ServiceError};

/// How `serve` runs.
pub struct ServeOptions {
    /// Where to listen; port 0 picks a free port (printed on stdout).
    pub bind: SocketAddr,
    /// The shared secret of the webhooks; `None` refuses every delivery (503).
    pub webhook_secret: Option<String>,
    /// How far a webhook signature's timestamp may be from now.
    pub webhook_tolerance: Duration,
    /// Where processed webhook events are remembered.
    pub ledger: Arc<dyn WebhookLedger>,
    /// How often the saga driver looks for due sagas when idle.
    pub driver_interval: Duration,
    /// How long a signal may take to stop the server (see [`serve`]).
    pub shutdown_deadline: Duration,
    /// How long a client may take to send a request's headers; the
    /// connection is closed after.
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body (408 after).
    pub body_timeout: Duration,
    /// The largest request body accepted, in bytes (413 above).
    pub body_limit: usize,
    /// The credentials accepted; [`auth::Authenticator::none`] refuses every
    /// protected route (401).
    pub auth: Arc<auth::Authenticator>,
    /// How the outbound webhooks are delivered and retried.
    pub dispatch: outbound::DispatchOptions,
}

impl ServeOptions {
    /// Defaults for `bind`: no webhook secret, a memory ledger.
    pub fn new(bind: SocketAddr) -> Self {
        Self {
            bind,
            webhook_secret: None,
            webhook_tolerance: webhooks::DEFAULT_TOLERANCE,
            ledger: Arc::new(MemoryLedger::new()),
            driver_interval: Duration::from_millis(250),
            shutdown_deadline: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            body_limit: 1 << 20,
            auth: Arc::new(auth::Authenticator::none()),
            dispatch: outbound::DispatchOptions::default(),
        }
    }
}

/// One async mutex per key (an order id), created on demand and dropped
/// when nobody holds or waits for it.
#[derive(Default)]
pub struct KeyedLocks {
    locks: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl KeyedLocks {
    /// Waits for and takes the lock of `key` (ids are compared lower-cased,
    /// as the component normalises them).
    pub async fn lock(&self, key: &str) -> OwnedMutexGuard<()> {
        let key = key.trim().to_ascii_lowercase();
        let mutex = {
            let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(mutex) = locks.get(&key).and_then(Weak::upgrade) {
                mutex
            } else {
                // Forget the dead entries now and then, so the map stays as
                // small as the number of orders being worked on.
                if locks.len() >= 1024 && locks.len().is_power_of_two() {
                    locks.retain(|_, lock| lock.strong_count() > 0);
                }
                let mutex = Arc::new(tokio::sync::Mutex::new(()));
                locks.insert(key, Arc::downgrade(&mutex));
                mutex
            }
        };
        mutex.lock_owned().await
    }

    /// How many keys are locked or waited for (for tests).
    pub fn live(&self) -> usize {
        let locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        locks.values().filter(|l| l.strong_count() > 0).count()
    }
}

struct Shared {
    host: Host,
    locks: KeyedLocks,
    metrics: Metrics,
    webhook_secret: Option<Vec<u8>>,
    webhook_tolerance: Duration,
    ledger: Arc<dyn WebhookLedger>,
    /// Bounds the component calls in flight to what the instance pool holds.
    calls: Arc<Semaphore>,
    openapi: OnceLock<String>,
    /// Set once a shutdown began: new requests get 503.
    draining: AtomicBool,
    /// Requests admitted and not yet answered.
    in_flight: AtomicUsize,
    /// Notified whenever `in_flight` drops to 0.
    idle: tokio::sync::Notify,
    body_timeout: Duration,
    body_limit: usize,
    auth: Arc<auth::Authenticator>,
    dispatch_timeout: Duration,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(host: Host, options: &ServeOptions) -> Self {
        let pool = host.service.runtime().config().max_instances as usize;
        // Leave room for the saga driver's workers.
        let permits = pool.saturating_sub(8).clamp(1, 128);
        Self(Arc::new(Shared {
            host,
            locks: KeyedLocks::default(),
            metrics: Metrics::default(),
            webhook_secret: options
                .webhook_secret
                .as_ref()
                .filter(|s| !s.is_empty())
                .map(|s| s.as_bytes().to_vec()),
            webhook_tolerance: options.webhook_tolerance,
            ledger: options.ledger.clone(),
            calls: Arc::new(Semaphore::new(permits)),
            openapi: OnceLock::new(),
            draining: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            idle: tokio::sync::Notify::new(),
            body_timeout: options.body_timeout,
            body_limit: options.body_limit,
            auth: options.auth.clone(),
            dispatch_timeout: options.dispatch.timeout,
        }))
    }

    /// True once a shutdown began.
    pub fn draining(&self) -> bool {
        self.0.draining.load(Ordering::SeqCst)
    }

    /// Requests admitted and not answered yet.
    pub fn in_flight(&self) -> usize {
        self.0.in_flight.load(Ordering::SeqCst)
    }

    /// Starts a shutdown: every request from now on gets 503.
    fn start_draining(&self) {
        self.0.draining.store(true, Ordering::SeqCst);
    }

    /// Resolves once no admitted request is left.
    async fn drained(&self) {
        loop {
            let notified = self.0.idle.notified();
            if self.in_flight() == 0 {
                return;
            }
            notified.await;
        }
    }

    pub fn host(&self) -> &Host {
        &self.0.host
    }

    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    pub(crate) fn authenticator(&self) -> &auth::Authenticator {
        &self.0.auth
    }

    pub fn locks(&self) -> &KeyedLocks {
        &self.0.locks
    }

    pub(crate) fn ledger(&self) -> Arc<dyn WebhookLedger> {
        self.0.ledger.clone()
    }

    pub(crate) fn webhook_secret(&self) -> Option<&[u8]> {
        self.0.webhook_secret.as_deref()
    }

    pub(crate) fn webhook_tolerance(&self) -> Duration {
        self.0.webhook_tolerance
    }

    /// How long one outbound webhook delivery may take.
    pub(crate) fn dispatch_timeout(&self) -> Duration {
        self.0.dispatch_timeout
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.0.host.clock.now_ms()
    }

    /// Runs `job` on the blocking pool, bounded by the instance pool.
    pub(crate) async fn blocking<R: Send + 'static>(
        &self,
        job: impl FnOnce(&Host) -> Result<R, Problem> + Send + 'static,
    ) -> Result<R, Problem> {
        let permit = self
            .0
            .calls
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Problem::internal(&e))?;
        let host = self.0.host.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job(&host)
        })
        .await
        .map_err(|e| Problem::internal(&e))?
    }

    /// A query (or any call that needs no per-order lock).
    pub(crate) async fn query<R: Send + 'static>(
        &self,
        job: impl FnOnce(&OrderService) -> Result<R, ServiceError> + Send + 'static,
    ) -> Result<R, Problem> {
        self.blocking(move |host| job(&host.service).map_err(Problem::from))
            .await
    }

    /// A command serialised on `order_id` (when there is one): the lock is
    /// held until the component call returns, even if the client goes away.
    pub(crate) async fn on_order<R: Send + 'static>(
        &self,
        order_id: Option<&str>,
        job: impl FnOnce(&Host) -> Result<R, ServiceError> + Send + 'static,
    ) -> Result<R, Problem> {
        let guard = match order_id {
            Some(id) => Some(self.0.locks.lock(&format!("order/{id}")).await),
            None => None,
        };
        self.blocking(move |host| {
            let _guard = guard;
            job(host).map_err(Problem::from)
        })
        .await
    }

    /// A command on the order `order_id`: serialised on the order (as
    /// [`AppState::on_order`]) and decided again on a version conflict
    /// (`OrderService::retrying`).
    pub(crate) async fn command<R: Send + 'static>(
        &self,
        order_id: &str,
        call: impl Fn(&OrderService) -> Result<R, ServiceError> + Send + 'static,
    ) -> Result<R, Problem> {
        self.on_order(Some(order_id), move |host| host.service.retrying(&call))
            .await
    }

    /// A query that reads a whole list, answered as the page of it that the
    /// request's `limit` and `cursor` select ([`page::sub_list`]), each item
    /// in its JSON shape `T`.
    pub(crate) async fn query_page<V: Send + 'static, T: From<V> + serde::Serialize>(
        &self,
        uri: &axum::http::Uri,
        job: impl FnOnce(&OrderService) -> Result<Vec<V>, ServiceError> + Send + 'static,
    ) -> Result<Response, Problem> {
        let all = self.query(job).await?;
        page::sub_list(all.into_iter().map(T::from).collect(), uri)
    }

    /// The order of a shipment; `None` when the shipment is unknown (the
    /// command then reports it as not found itself).
    pub(crate) async fn order_of_shipment(
        &self,
        shipment_id: &str,
    ) -> Result<Option<String>, Problem> {
        let id = shipment_id.to_owned();
        self.blocking(move |host| match host.service.get_shipment(&id) {
            Ok(shipment) => Ok(Some(shipment.order_id)),
            Err(ServiceError::Domain(CommandError::NotFound(_))) => Ok(None),
            Err(other) => Err(other.into()),
        })
        .await
    }

    /// The order of a return; 404 when the return is unknown.
    pub(crate) async fn order_of_return(&self, return_id: &str) -> Result<String, Problem> {
        let id = return_id.to_owned();
        self.query(move |svc| svc.get_return(&id))
            .await
            .map(|r| r.order_id)
    }
}

/// The base of the OpenAPI document; the paths are added by the router.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "order-host",
        description = "The order-management component as a JSON HTTP API: orders, shipments, \
returns and refunds, daily metrics, and signed webhooks for payment, inventory and carrier \
events. Fields are snake_case, enumeration values kebab-case, money in integer minor units, \
times in RFC 3339 (UTC, milliseconds: `2026-12-01T14:52:00.123Z`). Every route but \
/healthz, /readyz and the signed webhooks needs a bearer credential (an API key or a JWT). Errors are RFC 9457 problem details \
(application/problem+json). See docs/http-api.md."
    ),
    components(schemas(
        ProblemBody,
        dto::PaymentSucceeded,
        dto::PaymentFailed,
        dto::RefundCompleted,
        dto::StockAllocated,
        dto::StockAllocationFailed,
        dto::ShipmentCreatedByCarrier,
        dto::ShipmentPickedUp,
        dto::ShipmentInTransit,
        dto::ShipmentOutForDelivery,
        dto::ShipmentDeliveredByCarrier,
        dto::ShipmentDeliveryFailed,
        dto::ShipmentCancelled,
    )),
    tags(
        (name = "orders", description = "Placing, reading and cancelling orders"),
        (name = "customers", description = "A customer's orders"),
        (name = "shipments", description = "Shipments and their tracking history"),
        (name = "returns", description = "Returns and refunds"),
        (name = "metrics", description = "Daily business metrics and Prometheus metrics"),
        (name = "webhooks", description = "Signed events of the payment gateway, the inventory service and the carrier"),
        (name = "events", description = "Every public event of the store, in order, for polling"),
        (name = "webhook-endpoints", description = "Outbound webhooks: subscriptions, delivery log, redelivery"),
        (name = "system", description = "Health and this document"),
    )
)]
struct ApiDoc;

/// Every route with its documentation, before the state is given.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(orders::place, order_list::list))
        .routes(routes!(orders::get, orders::update_draft))
        .routes(routes!(orders::events))
        .routes(routes!(orders::saga))
        .routes(routes!(orders::retry_saga))
        .routes(routes!(orders::cancel))
        .routes(routes!(orders::shipments))
        .routes(routes!(returns::list_for_order, returns::request))
        .routes(routes!(order_list::of_customer))
        .routes(routes!(shipments::get))
        .routes(routes!(shipments::events))
        .routes(routes!(returns::get))
        .routes(routes!(returns::events))
        .routes(routes!(returns::approve))
        .routes(routes!(returns::deny))
        .routes(routes!(returns::ship))
        .routes(routes!(returns::receive))
        .routes(routes!(returns::refund))
        .routes(routes!(returns::close))
        .routes(routes!(metrics::daily))
        .routes(routes!(metrics::prometheus))
        .routes(routes!(webhooks::payment))
        .routes(routes!(webhooks::inventory))
        .routes(routes!(webhooks::carrier))
        .routes(routes!(feed::list))
        .routes(routes!(webhook_endpoints::create, webhook_endpoints::list))
        .routes(routes!(webhook_endpoints::get, webhook_endpoints::delete))
        .routes(routes!(webhook_endpoints::deliveries))
        .routes(routes!(webhook_endpoints::redeliver))
        .routes(routes!(system::healthz))
        .routes(routes!(system::readyz))
        .routes(routes!(system::openapi))
}

/// The served OpenAPI document as JSON: the routes' own documentation and
/// what [`contract::finish`] adds to every operation.
fn document(api: &OpenApi) -> serde_json::Value {
    let mut doc = serde_json::to_value(api).unwrap_or_default();
    doc["info"]["version"] = serde_json::Value::String(env!("CARGO_PKG_VERSION").to_owned());
    contract::finish(&mut doc);
    doc
}

/// The OpenAPI document `/openapi.json` serves (without a running server).
pub fn openapi_document() -> serde_json::Value {
    let (_, api) = routes().split_for_parts();
    document(&api)
}

/// The router and the OpenAPI document, built from the same list of routes.
pub fn router(state: AppState) -> (Router, OpenApi) {
    let (router, mut api) = routes().split_for_parts();
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let document =
        serde_json::to_string_pretty(&document(&api)).unwrap_or_else(|_| "{}".to_owned());
    let _ = state.0.openapi.set(document);
    let router = router
        .fallback(system::no_route)
        .method_not_allowed_fallback(system::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::idempotent,
        ))
        .layer(axum::middleware::from_fn(media::json_only))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authorize,
        ))
        // The web console (HTML, signed in by cookie): beside the API, not
        // under its bearer middleware; it checks the same credentials and
        // role table itself (crate::console).
        .merge(crate::console::router(state.clone()))
        .layer(axum::middleware::from_fn_with_state(state.clone(), admit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), track))
        .with_state(state);
    (router, api)
}

/// Logs every request and counts it by route, status and latency.
async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status();
    state
        .metrics()
        .request(method.as_str(), &route, status.as_u16(), elapsed);
    let ms = format!("{:.3}", elapsed.as_secs_f64() * 1000.0);
    if status.is_server_error() {
        tracing::warn!(%method, %path, status = status.as_u16(), %ms, "request");
    } else {
        tracing::info!(%method, %path, status = status.as_u16(), %ms, "request");
    }
    response
}

/// How long a client is asked to wait before retrying a 503.
const RETRY_AFTER_SECONDS: &str = "5";

/// Counts a request in flight until its answer is made.
struct InFlight(AppState);

impl InFlight {
    fn enter(state: &AppState) -> Self {
        state.0.in_flight.fetch_add(1, Ordering::SeqCst);
        Self(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.0.idle.notify_waiters();
        }
    }
}

/// Admits a request: 503 once a shutdown began; otherwise reads its whole
/// body within the body time-out (408) and size limit (413) before any
/// handler sees it, so a slow or endless body holds no order lock and no
/// instance. Every 503 carries `Retry-After`.
async fn admit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    use axum::response::IntoResponse as _;
    if state.draining() {
        let mut response = Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting-down",
            "Shutting down",
            "the server is stopping and takes no new requests; retry on another instance or after the restart",
        )
        .into_response();
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return with_retry_after(response);
    }
    let _in_flight = InFlight::enter(&state);
    let (parts, body) = request.into_parts();
    let limit = state.0.body_limit;
    let declared = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return too_large(limit).into_response();
    }
    let bytes = match tokio::time::timeout(state.0.body_timeout, read_body(body, limit)).await {
        Err(_) => {
            return Problem::new(
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                "Request body too slow",
                format!(
                    "the request body did not arrive within {} ms",
                    state.0.body_timeout.as_millis()
                ),
            )
            .into_response();
        }
        Ok(Err(BodyFailure::TooLarge)) => return too_large(limit).into_response(),
        Ok(Err(BodyFailure::Broken(error))) => {
            return Problem::new(
                StatusCode::BAD_REQUEST,
                "malformed-body",
                "Malformed request body",
                format!("the request body could not be read: {error}"),
            )
            .into_response();
        }
        Ok(Ok(bytes)) => bytes,
    };
    let request = Request::from_parts(parts, axum::body::Body::from(bytes));
    let response = next.run(request).await;
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        with_retry_after(response)
    } else {
        response
    }
}

fn with_retry_after(mut response: Response) -> Response {
    response
        .headers_mut()
        .entry(axum::http::header::RETRY_AFTER)
        .or_insert(axum::http::HeaderValue::from_static(RETRY_AFTER_SECONDS));
    response
}

fn too_large(limit: usize) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body-too-large",
        "Request body too large",
        format!("the request body is larger than {limit} bytes"),
    )
}

enum BodyFailure {
    TooLarge,
    Broken(axum::Error),
}

/// The whole body, refused as soon as it passes `limit` bytes.
async fn read_body(mut body: axum::body::Body, limit: usize) -> Result<Vec<u8>, BodyFailure> {
    use axum::body::HttpBody as _;
    let mut bytes = Vec::new();
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let frame = frame.map_err(BodyFailure::Broken)?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > limit {
                return Err(BodyFailure::TooLarge);
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

/// Runs due sagas until `stop`, looking at least every `interval` when
/// idle (else when woken), and counts what it did: a pass is one claim.
fn drive(host: Host, state: AppState, stop: Arc<AtomicBool>, interval: Duration) {
    host.driver.run_with(&stop, interval, |pass| match pass {
        Ok(report) => state.metrics().driver_pass(report),
        Err(_) => state.metrics().driver_error(),
    });
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// Serves the API until SIGINT or SIGTERM, with the saga driver running
/// beside it. Prints `listening on http://ADDR` on stdout once bound.
///
/// On a signal, within [`ServeOptions::shutdown_deadline`] in all:
/// 1. new requests get 503 (`shutting-down`, `Retry-After`, `Connection:
///    close`) while the requests in flight finish; the saga driver takes no
///    new saga (the advances running finish);
/// 2. once no request is in flight, the listener closes and open
///    connections get a short grace to flush their answers, then are
///    dropped (an idle or half-sent connection holds nothing up);
/// 3. the driver thread is joined, and the function returns.
///
/// Whatever is still running at the deadline is abandoned: the process
/// exits as if it crashed there, which the durable sagas recover from.
pub fn serve(host: Host, options: ServeOptions) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("order-host-http")
        .build()
        .context("starting the tokio runtime")?;
    let served = runtime.block_on(serve_async(host, options));
    // Component calls past the deadline are not waited for.
    runtime.shutdown_timeout(Duration::from_millis(100));
    served
}

/// How long connections get to flush their last answers once no request is
/// in flight.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

async fn serve_async(host: Host, options: ServeOptions) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .with_context(|| format!("binding {}", options.bind))?;
    let address = listener.local_addr().context("reading the bound address")?;
    let state = AppState::new(host.clone(), &options);
    if state.webhook_secret().is_none() {
        tracing::warn!("no webhook secret is configured: every webhook delivery is refused (503)");
    }
    let (router, _) = router(state.clone());

    let stop = Arc::new(AtomicBool::new(false));
    let driver = {
        let (host, state, stop) = (host.clone(), state.clone(), stop.clone());
        let interval = options.driver_interval;
        std::thread::Builder::new()
            .name("order-host-saga-driver".to_owned())
            .spawn(move || drive(host, state, stop, interval))
            .context("starting the saga driver")?
    };
    let dispatcher = outbound::Dispatcher::start(
        host.store.clone(),
        host.clock.clone(),
        options.dispatch,
        host.driver.owner().to_owned(),
    )
    .context("starting the webhook dispatcher")?;

    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        .keep_alive(true);
    let connections = hyper_util::server::graceful::GracefulShutdown::new();
    let accept = |stream: std::io::Result<(tokio::net::TcpStream, SocketAddr)>| match stream {
        Ok((stream, _peer)) => {
            let _ = stream.set_nodelay(true);
            let service = hyper_util::service::TowerToHyperService::new(router.clone());
            let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let connection = connections.watch(connection);
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "connection ended with an error");
                }
            });
            None
        }
        // Out of file descriptors and the like: pause instead of spinning.
        Err(error) => {
            tracing::warn!(%error, "accepting a connection failed");
            Some(tokio::time::sleep(Duration::from_millis(50)))
        }
    };

    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{address}")?;
        out.flush()?;
    }
    tracing::info!(%address, "serving");

    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            () = &mut signal => break,
            accepted = listener.accept() => {
                if let Some(pause) = accept(accepted) { pause.await; }
            }
        }
    }

    let deadline = tokio::time::Instant::now() + options.shutdown_deadline;
    state.start_draining();
    stop.store(true, Ordering::SeqCst);
    host.driver.wake();
    tracing::info!(
        in_flight = state.in_flight(),
        deadline_ms = options.shutdown_deadline.as_millis() as u64,
        "shutting down: new requests get 503; finishing the requests in flight"
    );
    let mut finished = false;
    loop {
        tokio::select! {
            () = state.drained() => { finished = true; break; }
            () = tokio::time::sleep_until(deadline) => break,
            accepted = listener.accept() => {
                if let Some(pause) = accept(accepted) { pause.await; }
            }
        }
    }
    drop(listener);
    if !finished {
        tracing::warn!(
            in_flight = state.in_flight(),
            "the shutdown deadline passed with requests in flight; abandoning them"
        );
    }
    let grace = deadline
        .saturating_duration_since(tokio::time::Instant::now())
        .min(CLOSE_GRACE);
    if tokio::time::timeout(grace, connections.shutdown())
        .await
        .is_err()
    {
        tracing::info!("closing the connections still open (idle or half-sent)");
    }

    let joined = tokio::task::spawn_blocking(move || {
        dispatcher.stop();
        driver.join().is_ok()
    });
    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
    match tokio::time::timeout(left, joined).await {
        Ok(Ok(true)) => {}
        Ok(_) => tracing::error!("the saga driver thread panicked"),
        Err(_) => tracing::warn!(
            "the shutdown deadline passed while the saga driver was advancing a saga; \
             it resumes on the next start"
        ),
    }
    tracing::info!("stopped");
    Ok(())
}

/// 201 with a `Location` header.
pub(crate) fn created<T: serde::Serialize>(location: String, body: T) -> Response {
    use axum::response::IntoResponse as _;
    (
        StatusCode::CREATED,
        [(axum::http::header::LOCATION, location)],
        axum::Json(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_command_at_a_time_per_order() {
        let locks = Arc::new(KeyedLocks::default());
        let first = locks.lock("order/ABC").await;
        // The same id in another case is the same order.
        let waiting = {
            let locks = locks.clone();
            tokio::spawn(async move {
                let _second = locks.lock("order/abc").await;
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "the second command waited");
        // Another order is not held up.
        let _other = locks.lock("order/def").await;
        drop(first);
        waiting.await.unwrap();
        drop(_other);
        assert_eq!(locks.live(), 0, "unused locks are dropped");
    }
}
