//! `order-host serve`: the HTTP API with the saga driver beside it.

use std::sync::Arc;
use std::time::Duration;

use order_host::config::Settings;
use order_host::http::{MemoryLedger, ServeOptions, SqliteLedger, WebhookLedger};
use order_host::{Host, StoreChoice};

use super::args::ServeArgs;

/// Serves until SIGINT or SIGTERM.
pub fn run(host: &Host, settings: &Settings, args: &ServeArgs) -> anyhow::Result<()> {
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
    };
    let mut host = host.clone();
    host.driver = host
        .driver
        .with_lease(Duration::from_millis(args.saga_lease_ms));
    order_host::http::serve(host, options)
}
