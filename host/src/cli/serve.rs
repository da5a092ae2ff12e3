//! `order-host serve`: the HTTP API with the saga driver beside it.

use std::sync::Arc;
use std::time::Duration;

use order_host::config::{ConfigError, Settings};
use order_host::{Host, StoreChoice};
use order_server::auth::Authenticator;
use order_server::outbound::DispatchOptions;
use order_server::{MemoryLedger, ServeOptions, SqliteLedger, WebhookLedger};

use super::args::ServeArgs;

/// The credentials of `serve`, read before the store is opened: refuses a
/// non-loopback address without any (unless `--no-auth` says so
/// explicitly).
pub fn authenticator(
    args: &ServeArgs,
    bind: std::net::SocketAddr,
) -> anyhow::Result<Arc<Authenticator>> {
    if args.no_auth && args.auth.is_some() {
        return Err(ConfigError("--no-auth and --auth exclude each other".to_owned()).into());
    }
    let authenticator = match &args.auth {
        Some(path) => Authenticator::from_file(path).map_err(|e| ConfigError(e.0))?,
        None if args.no_auth => Authenticator::open(),
        None => Authenticator::none(),
    };
    if !authenticator.configured() && !bind.ip().is_loopback() {
        return Err(ConfigError(format!(
            "refusing to serve {bind} with no credential configured: anyone could read and \
             change every order. Give `serve --auth FILE` API keys or a token issuer \
             (docs/http-api.md), or pass --no-auth if a gateway in front authenticates callers"
        ))
        .into());
    }
    if authenticator.is_open() {
        tracing::warn!("authentication is off (--no-auth): every request acts as an admin");
    } else if !authenticator.configured() {
        tracing::warn!(
            "no credential is configured (serve --auth FILE): every route but /healthz, \
             /readyz and the signed webhooks answers 401"
        );
    }
    Ok(Arc::new(authenticator))
}

/// Serves until SIGINT or SIGTERM.
pub fn run(
    host: &Host,
    settings: &Settings,
    args: &ServeArgs,
    auth: Arc<Authenticator>,
) -> anyhow::Result<()> {
    // Processed webhook events are remembered beside the event store.
    let ledger: Arc<dyn WebhookLedger> = match StoreChoice::parse(&settings.store) {
        StoreChoice::Sqlite(path) => {
            Arc::new(SqliteLedger::open(SqliteLedger::path_beside(&path))?)
        }
        // Shared stores keep no ledger yet: each host remembers the
        // webhook events it processed (docs/postgres.md).
        StoreChoice::Memory | StoreChoice::Postgres(_) => Arc::new(MemoryLedger::new()),
    };
    let options = ServeOptions {
        bind: settings.bind,
        webhook_secret: settings.webhook_secret.clone(),
        webhook_tolerance: settings.webhook_tolerance,
        ledger,
        driver_interval: Duration::from_millis(args.driver_interval_ms.max(1)),
        shutdown_deadline: settings.shutdown_deadline,
        header_timeout: Duration::from_millis(args.header_timeout_ms.max(1)),
        body_timeout: Duration::from_millis(args.body_timeout_ms.max(1)),
        body_limit: args.body_limit,
        auth,
        dispatch: DispatchOptions {
            poll_interval: Duration::from_millis(args.webhook_poll_ms.max(1)),
            retry_base: Duration::from_millis(args.webhook_retry_base_ms.max(1)),
            retry_max: Duration::from_millis(
                args.webhook_retry_max_ms
                    .max(args.webhook_retry_base_ms.max(1)),
            ),
            timeout: Duration::from_millis(args.webhook_timeout_ms.max(1)),
            lease: DispatchOptions::default().lease.max(Duration::from_millis(
                args.webhook_timeout_ms.saturating_mul(3),
            )),
        },
    };
    let mut host = host.clone();
    host.driver = host
        .driver
        .with_lease(Duration::from_millis(args.saga_lease_ms));
    order_server::serve(host, options)
}
