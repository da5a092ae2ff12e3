//! `order-host`: runs the order-management component for real.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use order_host::bindings::orders::CancelOrderCommand;
use order_host::config::{BackendFlag, BackendKind, ConfigError, Flags, Settings};
use order_host::http::dto;
use order_host::http::{MemoryLedger, ServeOptions, SqliteLedger, WebhookLedger};
use order_host::lockfile::LockHeld;
use order_host::{Context, Host, HostOptions, ServiceError, StoreChoice, SystemClock};
use order_host::{StoreOpenError, demo, load, text};
use serde::Serialize;

const EXAMPLES: &str = "\
Examples:
  order-host demo --fresh                      the three journeys, printed as a timeline
  order-host order place -f order.json         place an order (the JSON body of POST /orders)
  order-host order get 6f1c…                   an order as it stands
  order-host --json order events 6f1c…         its event history, for scripts
  order-host customer orders 8b6f…             a customer's orders
  order-host saga resume                       finish every saga that is due (after a restart)
  order-host --fault payment=transient:0.2 --seed 7 demo --fresh
  order-host --store o.db --sim-state sim.db load --orders 500 --concurrency 8 --cancel-every 10
  order-host --store o.db serve --bind 127.0.0.1:8080   the HTTP API and webhooks (see docs/http-api.md)
  order-host return approve 3c9a… --by \"Sam (support)\"   approve a requested return
  order-host --backend payment=https://pay.internal/v1 serve   the payment gateway over http

Settings come from order-host.toml (or --config FILE), then ORDER_HOST_*
environment variables, then flags, each overriding the one before.
Exit codes: 0 success, 1 refused or failed (also: the store does not exist),
2 usage (bad flags or settings), 3 `load` left work unfinished, 4 the store
file is corrupt or not an event store (it is left untouched), 5 the store is
in use by another process (the message names its pid).
";

/// Runs the order-management component: orders, payments, stock, shipping,
/// returns, with durable storage and simulated or http backends.
#[derive(Parser)]
#[command(name = "order-host", version, about, after_help = EXAMPLES)]
struct Cli {
    /// Where orders are stored: a SQLite file, `memory`, or a PostgreSQL
    /// database that several hosts share (`postgres://user@host/db`). Only
    /// `init`, `serve`, `load` and `demo` create a missing SQLite file; the
    /// other commands refuse it. One process at a time owns a SQLite file
    /// (FILE.lock).
    #[arg(long, global = true, env = "ORDER_HOST_STORE")]
    store: Option<String>,
    /// The component to run instead of the one built into this binary.
    #[arg(long, global = true, env = "ORDER_HOST_COMPONENT")]
    component: Option<PathBuf>,
    /// Seed of the simulated backends: the same seed replays the same faults
    /// [default: 1].
    #[arg(long, global = true, env = "ORDER_HOST_SEED")]
    seed: Option<u64>,
    /// Faults of the simulated backends, e.g. `payment=transient:0.2,permanent:0.05`
    /// or `carrier=20ms`, or of one operation, e.g. `payment.process-payment=permanent:0.03`;
    /// repeat or separate specs with `;`.
    #[arg(long = "fault", global = true, value_name = "SPEC")]
    faults: Vec<String>,
    /// Latency of a simulated context (or `context.operation`), e.g.
    /// `carrier=20ms`; the same as `--fault carrier=latency:20ms`.
    #[arg(long = "latency", global = true, value_name = "CONTEXT=DURATION")]
    latencies: Vec<String>,
    /// Store policy (pricing, return window, retries) as a JSON file.
    #[arg(long, global = true, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Keep the simulated backends' state (charges, stock, shipments,
    /// messages, idempotency keys) in this SQLite file, so a restarted host
    /// remembers what they did; in memory only when not given.
    #[arg(long, global = true, value_name = "FILE", env = "ORDER_HOST_SIM_STATE")]
    sim_state: Option<PathBuf>,
    /// Where every external context is served: simulated or http (http
    /// needs each context's base URL from the settings, the environment or
    /// --backend).
    #[arg(long, global = true, value_name = "KIND")]
    backends: Option<BackendKind>,
    /// Serve one external context (payment, inventory, carrier, customer)
    /// over http at a base URL, e.g. `payment=http://127.0.0.1:9000/v1`, or
    /// in-process with `CONTEXT=simulated`; repeatable; overrides --backends.
    #[arg(long, global = true, value_name = "CONTEXT=URL|simulated")]
    backend: Vec<BackendFlag>,
    /// Print JSON (the HTTP API's shapes) instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Settings file (TOML); without it, `order-host.toml` in the working
    /// directory is read if there is one.
    #[arg(long, global = true, value_name = "FILE", env = "ORDER_HOST_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the three journeys (place, track, return) and print a timeline.
    #[command(after_help = DEMO_EXAMPLES)]
    Demo {
        /// Start from an empty store (deletes the store file first).
        #[arg(long)]
        fresh: bool,
    },
    /// Orders.
    #[command(subcommand, after_help = ORDER_EXAMPLES)]
    Order(OrderCommand),
    /// Customers.
    #[command(subcommand, after_help = CUSTOMER_EXAMPLES)]
    Customer(CustomerCommand),
    /// Shipments.
    #[command(subcommand, after_help = SHIPMENT_EXAMPLES)]
    Shipment(ShipmentCommand),
    /// Daily metrics.
    #[command(subcommand, after_help = METRICS_EXAMPLES)]
    Metrics(MetricsCommand),
    /// The fulfilment saga.
    #[command(subcommand, after_help = SAGA_EXAMPLES)]
    Saga(SagaCommand),
    /// Returns: request, approve or deny, receive, refund.
    #[command(subcommand, after_help = RETURN_EXAMPLES)]
    Return(ReturnCommand),
    /// Serve the JSON HTTP API (orders, shipments, returns, metrics, signed
    /// webhooks) with the saga driver running beside it, until SIGINT or SIGTERM.
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
    /// Place many orders at once, cancel some, run every saga to its end,
    /// deliver what shipped, and report throughput and latency.
    #[command(after_help = LOAD_EXAMPLES)]
    Load(LoadArgs),
    /// Create an empty event store at --store, or check an existing one
    /// (header, schema, `PRAGMA quick_check`) and say what it holds.
    #[command(after_help = INIT_EXAMPLES)]
    Init,
    /// Serve the simulated payment, inventory, carrier and customer-service
    /// backends over the HTTP backend contract (docs/backends.md), so that
    /// several hosts share one set of them.
    #[command(after_help = SIMULATE_EXAMPLES)]
    Simulate(SimulateArgs),
    /// API keys for `serve --auth FILE`: make a new one, or hash one.
    #[command(subcommand, name = "api-key", after_help = API_KEY_EXAMPLES)]
    ApiKey(ApiKeyCommand),
}

const API_KEY_EXAMPLES: &str = "\
The key is shown once; the credentials file keeps only its hash. Several keys
may be valid at once: to rotate one, add the new key's entry, move the
clients to it, remove the old entry, and restart the server.

Examples:
  order-host api-key new --role support --name sam >> auth.toml
  order-host api-key new --role customer --name web --customer-id 8b6f…
  printf '%s' \"$KEY\" | order-host api-key hash
";

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// A new random key: prints it on stderr (once) and its
    /// `[[api-keys]]` entry for the credentials file on stdout.
    New {
        /// customer, warehouse, support, admin or reporting.
        #[arg(long)]
        role: String,
        /// Who holds it (recorded as the actor of its commands), 1..=64 characters.
        #[arg(long)]
        name: String,
        /// The customer of a customer key.
        #[arg(long)]
        customer_id: Option<String>,
    },
    /// The stored form (`sha256:…`) of a key read from stdin.
    Hash,
}

const INIT_EXAMPLES: &str = "\
Other commands than init, serve, load and demo never create a store, so a
mistyped --store path is an error instead of a new empty store.

Exit codes: 0 the store is ready, 4 it is corrupt, 5 another process owns it.

Examples:
  order-host --store /var/lib/order-host/orders.db init
  order-host --store orders.db --json init
";

const LOAD_EXAMPLES: &str = "\
The orders derive from --seed and their index, so running the same command
again (for example after the host was killed) places the same orders, finds
every saga where it stopped, and finishes the work. Give it a durable store
(--store FILE) and --sim-state FILE so that nothing is charged twice.

Exit codes: 0 when every order ended delivered or cancelled, 3 when work is
left (run the command again), 1 on other errors.

Progress is a bar on a terminal; elsewhere RUST_LOG=order_host::load=debug
logs it.

Examples:
  order-host --store o.db --sim-state sim.db load --orders 300 --concurrency 8 --cancel-every 5
  order-host --store memory --fault 'payment=transient:0.2;carrier=2ms' load --orders 1000 --json
  order-host --store o.db --sim-state sim.db \\
      --fault 'payment=transient:0.2;payment.process-payment=permanent:0.03;carrier=2ms' \\
      load --orders 300 --cancel-every 5 --cancel-after-ms 300 --stock 60
";

#[derive(Args)]
struct LoadArgs {
    /// Orders to place.
    #[arg(long, default_value_t = 100, value_name = "N")]
    orders: usize,
    /// Orders placed at once; also the saga driver's workers.
    #[arg(long, default_value_t = 4, value_name = "C", value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// Cancel every K-th order shortly after placing it (0: never). A
    /// cancellation refused because the order already shipped is fine.
    #[arg(long, default_value_t = 0, value_name = "K")]
    cancel_every: usize,
    /// About how long after placing an order it is cancelled (each order
    /// waits between none and twice this).
    #[arg(long, default_value_t = 5, value_name = "MS")]
    cancel_after_ms: u64,
    /// How long to wait for the last sagas once every order is placed.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    wait: u64,
    /// Units on the shelf of every product that has none set yet (the
    /// simulation's default is 1000).
    #[arg(long, value_name = "UNITS")]
    stock: Option<u64>,
}

#[derive(Subcommand)]
enum OrderCommand {
    /// Place an order from a JSON file (`-` for stdin): the body of the
    /// HTTP API's POST /orders (see docs/examples/order.json); then run its
    /// saga. With `"draft": true`, open a draft instead.
    #[command(after_help = ORDER_EXAMPLES)]
    Place {
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
    },
    /// Show an order.
    #[command(after_help = ORDER_EXAMPLES)]
    Get { order_id: String },
    /// Show an order's events.
    #[command(after_help = ORDER_EXAMPLES)]
    Events { order_id: String },
    /// Cancel an order (refunds and releases stock when needed).
    #[command(after_help = ORDER_EXAMPLES)]
    Cancel(CancelArgs),
}

#[derive(Args)]
struct CancelArgs {
    order_id: String,
    /// Why, 1..=500 characters.
    #[arg(long)]
    reason: String,
    /// Who cancels, 1..=100 characters.
    #[arg(long = "by", default_value = "customer-service")]
    cancelled_by: String,
}

#[derive(Subcommand)]
enum CustomerCommand {
    /// A customer's orders, oldest first.
    #[command(after_help = CUSTOMER_EXAMPLES)]
    Orders { customer_id: String },
}

#[derive(Subcommand)]
enum ShipmentCommand {
    /// A shipment with its tracking history.
    #[command(after_help = SHIPMENT_EXAMPLES)]
    Get { shipment_id: String },
}

#[derive(Subcommand)]
enum MetricsCommand {
    /// Metrics of one UTC day.
    #[command(after_help = METRICS_EXAMPLES)]
    Daily {
        /// `YYYY-MM-DD`
        date: String,
    },
}

#[derive(Subcommand)]
enum SagaCommand {
    /// Advance every saga that is due until none is (waits up to --wait seconds for retries).
    #[command(after_help = SAGA_EXAMPLES)]
    Resume {
        #[arg(long, default_value_t = 60)]
        wait: u64,
    },
    /// Where a saga stands.
    #[command(after_help = SAGA_EXAMPLES)]
    Status { order_id: String },
}

const DEMO_EXAMPLES: &str = "\
Examples:
  order-host demo --fresh                              against the default store, emptied first
  order-host --store target/demo.db demo --fresh       against another SQLite file
  order-host --fault payment=transient:0.3 demo --fresh   with a flaky payment gateway
";

const ORDER_EXAMPLES: &str = "\
Examples:
  order-host order place -f docs/examples/order.json   the body of POST /orders; runs the saga
  cat order.json | order-host order place -f -
  order-host order get 6f1c…                  the order as it stands
  order-host --json order get 6f1c…           the same JSON as GET /orders/{id}
  order-host --json order events 6f1c…        its history, as GET /orders/{id}/events
  order-host order cancel 6f1c… --reason \"changed my mind\" --by customer
";

const CUSTOMER_EXAMPLES: &str = "\
Examples:
  order-host customer orders 8b6f…            a customer's orders, oldest first
  order-host --json customer orders 8b6f…
";

const SHIPMENT_EXAMPLES: &str = "\
Examples:
  order-host shipment get 0c2d…               carrier, tracking number and tracking history
  order-host --json shipment get 0c2d…
";

const METRICS_EXAMPLES: &str = "\
Examples:
  order-host metrics daily 2026-11-24         orders, revenue, cancellations and refunds of a UTC day
  order-host --json metrics daily 2026-11-24
";

const SAGA_EXAMPLES: &str = "\
Examples:
  order-host saga resume                      finish every due saga (after a crash or restart)
  order-host saga resume --wait 5             give up waiting for retries after 5 s
  order-host saga status 6f1c…                where an order's saga stands
";

const RETURN_EXAMPLES: &str = "\
A return goes requested -> approved (or denied) -> received -> refunded.

Examples:
  order-host return request -f return.json    JSON: return_id, order_id, customer_id,
                                              return_items [{item_id, product_id, quantity,
                                              return_reason, condition}], return_reason, comments
  order-host return get 3c9a…
  order-host return approve 3c9a… --by \"Sam (support)\" --label https://labels.example/RMA-1
  order-host return deny 3c9a… --by \"Sam (support)\" --reason \"outside the return window\"
  order-host return receive 3c9a… --condition \"as new\"        restocks the items
  order-host return receive 3c9a… --condition \"one missing\" --partial   restocks nothing
  order-host return refund 3c9a… --amount 12999 --method credit-card    129.99 in the order's currency
";

const SERVE_EXAMPLES: &str = "\
Prints `listening on http://ADDR` on stdout once bound; logs requests on stderr
(RUST_LOG=debug for more). SIGINT or SIGTERM answers new requests 503,
lets the requests in flight finish, stops the saga driver between sagas and
exits, all within --shutdown-deadline; unfinished sagas resume on the next
start. /healthz is liveness, /readyz readiness (a real write to the store).
The server owns its store (a second process on it fails with exit code 5); a
corrupt store is refused with exit code 4; a store file deleted or replaced
under the server makes it answer 503 and acknowledge nothing more. The API is
described at /openapi.json and in docs/http-api.md.

Every route but /healthz, /readyz and the signed webhooks needs
`Authorization: Bearer <API key or JWT>`: give --auth FILE (or ORDER_HOST_AUTH)
a credentials file (API keys from `order-host api-key new`, a token issuer).
Without one, those routes answer 401, and a non-loopback --bind is refused
unless --no-auth says a gateway in front authenticates callers.

Settings (file < ORDER_HOST_* environment < flags): store, bind, webhooks.secret,
shutdown-deadline-seconds, seed, faults, policy, backends (--backends KIND,
--backend CONTEXT=URL|simulated); see docs/http-api.md.

Examples:
  order-host serve                                    on 127.0.0.1:8080, the default store
  order-host --store /var/lib/order-host/orders.db serve --auth /etc/order-host/auth.toml --bind 0.0.0.0:8080
  ORDER_HOST_WEBHOOK_SECRET=whsec_… order-host serve  accept signed webhooks
  order-host --config /etc/order-host.toml serve
  order-host --store memory serve --bind 127.0.0.1:0  a throw-away server on a free port
  order-host --backend payment=http://127.0.0.1:9000/v1 serve   payment over http, the rest simulated
";

const SIMULATE_EXAMPLES: &str = "\
Prints `listening on http://ADDR` on stdout once bound; SIGINT or SIGTERM stops
it. Uses --seed, --fault/--latency and --sim-state like the in-process
simulation: give it --sim-state FILE so that a restart keeps every charge,
reservation and idempotency key. GET /sim/state shows what it holds.

Examples:
  order-host --sim-state sim.db simulate --bind 127.0.0.1:9000
  order-host --backends http --backend payment=http://127.0.0.1:9000 \\
    --backend inventory=http://127.0.0.1:9000 --backend carrier=http://127.0.0.1:9000 \\
    --backend customer=http://127.0.0.1:9000 --store postgres://shop@db/orders serve
  order-host --fault 'payment=transient:0.2' simulate --bind 127.0.0.1:0
";

#[derive(Args)]
struct SimulateArgs {
    /// Where to listen, IP:PORT; port 0 picks a free port.
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:9000")]
    bind: std::net::SocketAddr,
}

#[derive(Args)]
struct ServeArgs {
    /// Where to listen, IP:PORT; port 0 picks a free port [default: 127.0.0.1:8080].
    #[arg(long, value_name = "IP:PORT")]
    bind: Option<String>,
    /// The shared secret that signs webhooks. Prefer the settings file or
    /// ORDER_HOST_WEBHOOK_SECRET: a flag is visible to other users in `ps`.
    #[arg(long, value_name = "SECRET")]
    webhook_secret: Option<String>,
    /// How often the idle saga driver looks for sagas that are due.
    #[arg(long, default_value_t = 250, value_name = "MS")]
    driver_interval_ms: u64,
    /// How long SIGINT or SIGTERM may take to stop the server: requests in
    /// flight finish, new ones get 503, then the process exits regardless
    /// [default: 30, or shutdown-deadline-seconds in the settings].
    #[arg(long, value_name = "SECONDS")]
    shutdown_deadline: Option<u64>,
    /// How long a client may take to send a request's headers.
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    header_timeout_ms: u64,
    /// How long a client may take to send a request's body (408 after).
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    body_timeout_ms: u64,
    /// The largest request body accepted (413 above).
    #[arg(long, default_value_t = 1_048_576, value_name = "BYTES")]
    body_limit: usize,
    /// The credentials file: API keys (stored hashed, each with a role) and
    /// the token issuer (docs/http-api.md). Without one every route but
    /// health, readiness and the signed webhooks answers 401.
    #[arg(long, value_name = "FILE", env = "ORDER_HOST_AUTH")]
    auth: Option<PathBuf>,
    /// Turn authentication off: every request acts as an admin. Only behind
    /// a gateway that authenticates callers itself; also lets `--bind` take
    /// a non-loopback address without credentials.
    #[arg(long)]
    no_auth: bool,
    /// How long a saga this host claimed stays its own: on a shared
    /// (PostgreSQL) store, the sagas of a host that died are taken over by
    /// the others after this.
    #[arg(
        long,
        default_value_t = 30_000,
        value_name = "MS",
        env = "ORDER_HOST_SAGA_LEASE_MS"
    )]
    saga_lease_ms: u64,
}

#[derive(Subcommand)]
enum ReturnCommand {
    /// Request a return from a JSON file (`-` for stdin).
    #[command(after_help = RETURN_EXAMPLES)]
    Request {
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
    },
    /// Show a return.
    #[command(after_help = RETURN_EXAMPLES)]
    Get { return_id: String },
    /// Approve a requested return.
    #[command(after_help = RETURN_EXAMPLES)]
    Approve {
        return_id: String,
        /// Who approves, 1..=100 characters.
        #[arg(long = "by")]
        approved_by: String,
        /// The return shipping label (URL or code), 1..=500 characters.
        #[arg(long)]
        label: Option<String>,
    },
    /// Deny a requested return.
    #[command(after_help = RETURN_EXAMPLES)]
    Deny {
        return_id: String,
        /// Who denies, 1..=100 characters.
        #[arg(long = "by")]
        denied_by: String,
        /// Why, 1..=500 characters.
        #[arg(long)]
        reason: String,
    },
    /// Record that the items arrived at the warehouse (restocks them unless --partial).
    #[command(after_help = RETURN_EXAMPLES)]
    Receive {
        return_id: String,
        /// Their condition as inspected, 1..=200 characters.
        #[arg(long)]
        condition: String,
        /// Something was missing: record it, restock nothing.
        #[arg(long)]
        partial: bool,
    },
    /// Refund a received return through the payment gateway.
    #[command(after_help = RETURN_EXAMPLES)]
    Refund {
        return_id: String,
        /// The amount in minor units (12999 is 129.99).
        #[arg(long)]
        amount: u64,
        /// ISO 4217 code [default: the order's currency].
        #[arg(long)]
        currency: Option<String>,
        /// credit-card, debit-card, paypal, bank-transfer or gift-card.
        #[arg(long, default_value = "credit-card", value_parser = parse_payment_method)]
        method: dto::PaymentMethod,
    },
}

/// The credentials of `serve`: refuses a non-loopback address without any
/// (unless `--no-auth` says so explicitly).
fn serve_auth(
    args: &ServeArgs,
    bind: std::net::SocketAddr,
) -> anyhow::Result<Arc<order_host::http::auth::Authenticator>> {
    use order_host::http::auth::Authenticator;
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

/// `order-host api-key new|hash`.
fn api_key(command: &ApiKeyCommand) -> anyhow::Result<()> {
    use order_host::http::auth::{AuthFile, Authenticator, hash_key, new_key};
    match command {
        ApiKeyCommand::New {
            role,
            name,
            customer_id,
        } => {
            let key = new_key().context("reading random bytes for the key")?;
            let mut entry = format!(
                "[[api-keys]]\nname = {}\nrole = {}\nhash = \"{}\"\n",
                toml_string(name),
                toml_string(role),
                hash_key(&key)
            );
            if let Some(customer) = customer_id {
                entry.push_str(&format!("customer-id = {}\n", toml_string(customer)));
            }
            // Check the entry as the server will read it.
            let file: AuthFile =
                toml::from_str(&entry).map_err(|e| ConfigError(e.message().to_owned()))?;
            Authenticator::from_settings(file, std::path::Path::new("."))
                .map_err(|e| ConfigError(e.0))?;
            eprintln!("the new key (shown once, keep it secret): {key}");
            print!("{entry}");
        }
        ApiKeyCommand::Hash => {
            let mut key = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut key)?;
            if key.trim().is_empty() {
                return Err(ConfigError("no key on stdin".to_owned()).into());
            }
            println!("{}", hash_key(&key));
        }
    }
    Ok(())
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn parse_payment_method(text: &str) -> Result<dto::PaymentMethod, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|_| {
        format!("`{text}` is not one of credit-card, debit-card, paypal, bank-transfer, gift-card")
    })
}

fn default_store() -> String {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("order-host/orders.db").display().to_string()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A server logs its requests by default; the other commands only warnings.
    let default_filter = if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.downcast_ref::<load::Incomplete>().is_some() => {
            eprintln!("error: {error}");
            ExitCode::from(3)
        }
        Err(error) if error.downcast_ref::<ConfigError>().is_some() => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
        Err(error)
            if matches!(
                error.downcast_ref::<StoreOpenError>(),
                Some(StoreOpenError::Corrupt { .. })
            ) =>
        {
            eprintln!("error: {error:#}");
            ExitCode::from(4)
        }
        Err(error) if error.downcast_ref::<LockHeld>().is_some() => {
            eprintln!("error: {error:#}");
            ExitCode::from(5)
        }
        Err(error) => {
            match error.downcast_ref::<ServiceError>() {
                Some(ServiceError::Domain(_)) => eprintln!("error: {error}"),
                _ => eprintln!("error: {error:#}"),
            }
            ExitCode::from(1)
        }
    }
}

/// The settings in force: flags over `ORDER_HOST_*` over the settings file.
fn settings(cli: &Cli) -> Result<Settings, ConfigError> {
    let mut flags = Flags {
        config: cli.config.clone(),
        store: cli.store.clone(),
        component: cli.component.clone(),
        seed: cli.seed,
        faults: cli
            .faults
            .iter()
            .cloned()
            .chain(cli.latencies.iter().map(|l| match l.split_once('=') {
                Some((target, duration)) => format!("{target}=latency:{duration}"),
                // Let the fault parser name what is wrong.
                None => l.clone(),
            }))
            .collect(),
        policy: cli.policy.clone(),
        backends: cli.backends,
        backend: cli.backend.clone(),
        ..Flags::default()
    };
    if let Command::Serve(args) = &cli.command {
        flags.bind = args.bind.clone();
        flags.webhook_secret = args.webhook_secret.clone();
        flags.shutdown_deadline = args.shutdown_deadline;
    }
    let settings = Settings::load(&flags, &order_host::config::process_env, &default_store)?;
    // The demo and the load generator play the external contexts' parts
    // through the simulation (declines, stock, pickups and deliveries).
    let needs: &[Context] = match &cli.command {
        Command::Demo { .. } => &Context::ALL,
        Command::Load(args) if args.stock.is_some() => &[Context::Carrier, Context::Inventory],
        Command::Load(_) => &[Context::Carrier],
        _ => &[],
    };
    for context in needs {
        if !matches!(
            settings.backends.choice(*context)?,
            order_host::config::BackendChoice::Simulated
        ) {
            let command = if matches!(cli.command, Command::Demo { .. }) {
                "demo"
            } else {
                "load"
            };
            return Err(ConfigError(format!(
                "`{command}` drives the simulated {context} backend, but the {context} \
                 backend is http; run it with `--backend {context}=simulated`"
            )));
        }
    }
    Ok(settings)
}

fn start(cli: &Cli, settings: &Settings, fresh: bool) -> anyhow::Result<Host> {
    let store = StoreChoice::parse(&settings.store);
    let mut files = Vec::new();
    if fresh && let StoreChoice::Sqlite(path) = &store {
        files.push(path.clone());
    }
    if fresh && let Some(path) = &cli.sim_state {
        files.push(path.clone());
    }
    for path in &files {
        // Never empty a store another process is using: take its lock
        // first (released again before the store is opened anew).
        let _owner = if path.exists() {
            Some(order_host::lockfile::LockFile::acquire(path, "the file")?)
        } else {
            None
        };
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
            }
        }
    }
    // Only these commands may create the store; the others read or change
    // one that exists, so a mistyped path is an error, not a new store.
    let create_store = matches!(
        cli.command,
        Command::Init | Command::Serve(_) | Command::Load(_) | Command::Demo { .. }
    );
    Host::start(HostOptions {
        store,
        create_store,
        component: settings.component.clone(),
        sim_state: cli.sim_state.clone(),
        seed: settings.seed,
        faults: settings.faults.clone(),
        policy: settings.policy.clone(),
        clock: Arc::new(SystemClock),
        backends: settings.backends.clone(),
        ..HostOptions::in_memory()
    })
}

/// `value` as the HTTP API's JSON with `--json`, else as `text` says it.
fn print<T: Serialize>(
    json: bool,
    value: &T,
    text: impl FnOnce(&T) -> String,
) -> anyhow::Result<()> {
    let mut out = if json {
        serde_json::to_string_pretty(value)? + "\n"
    } else {
        text(value)
    };
    if out.is_empty() {
        out.push('\n');
    }
    // A reader that stopped reading (`| head`) is not an error.
    match std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let fresh = matches!(cli.command, Command::Demo { fresh: true });
    let settings = settings(&cli)?;
    if let Command::Simulate(args) = &cli.command {
        return simulate(&cli, &settings, args);
    }
    if let Command::ApiKey(command) = &cli.command {
        return api_key(command);
    }
    let authenticator = match &cli.command {
        Command::Serve(args) => Some(serve_auth(args, settings.bind)?),
        _ => None,
    };
    let host = start(&cli, &settings, fresh)?;
    let json = cli.json;
    let svc = &host.service;
    match &cli.command {
        Command::Demo { .. } => demo::run(&host)?,
        Command::Order(OrderCommand::Place { file }) => {
            let text = read_file_or_stdin(file)?;
            let request: dto::PlaceOrderRequest =
                serde_json::from_str(&text).with_context(|| {
                    format!(
                        "{} is not a valid order (the JSON body of POST /orders)",
                        file.display()
                    )
                })?;
            let order_id = request.order_id.clone();
            let placement = request.into_placement().map_err(|field| {
                anyhow::anyhow!(
                    "{}: {field} is required to place an order (or set \"draft\": true)",
                    file.display()
                )
            })?;
            match placement {
                dto::Placement::Place(cmd) => {
                    svc.retrying(|svc| svc.place_order(&cmd))?;
                    host.driver.run_until_idle(Duration::from_secs(30))?;
                }
                dto::Placement::Draft(cmd) => {
                    svc.retrying(|svc| svc.create_draft(&cmd))?;
                }
            }
            let order = svc.get_order(&order_id)?;
            print(json, &dto::Order::from(order), text::order)?;
        }
        Command::Order(OrderCommand::Get { order_id }) => {
            let order = svc.get_order(order_id)?;
            print(json, &dto::Order::from(order), text::order)?;
        }
        Command::Order(OrderCommand::Events { order_id }) => {
            let events = svc.order_history(order_id)?;
            if json {
                let events: Vec<dto::HistoryEntry> = events.into_iter().map(Into::into).collect();
                println!("{}", serde_json::to_string_pretty(&events)?);
            } else {
                for e in &events {
                    println!(
                        "{:>4}  {:<26} {}",
                        e.version,
                        e.event_type,
                        demo::describe_event(&e.event_type, &e.payload)
                    );
                }
            }
        }
        Command::Order(OrderCommand::Cancel(args)) => {
            let cmd = CancelOrderCommand {
                order_id: args.order_id.clone(),
                reason: args.reason.clone(),
                cancelled_by: args.cancelled_by.clone(),
            };
            let order = svc.retrying(|svc| svc.cancel_order(&cmd))?;
            print(json, &dto::Order::from(order), text::order)?;
        }
        Command::Customer(CustomerCommand::Orders { customer_id }) => {
            let orders = svc.orders_of_customer(customer_id)?;
            let orders: Vec<dto::Order> = orders.into_iter().map(Into::into).collect();
            print(json, &orders, |orders| text::orders(customer_id, orders))?;
        }
        Command::Shipment(ShipmentCommand::Get { shipment_id }) => {
            let shipment = svc.get_shipment(shipment_id)?;
            print(json, &dto::Shipment::from(shipment), text::shipment)?;
        }
        Command::Metrics(MetricsCommand::Daily { date }) => {
            let m = svc.get_daily_metrics(date)?;
            print(json, &dto::DailyMetrics::from(m), text::daily_metrics)?;
        }
        Command::Saga(SagaCommand::Resume { wait }) => {
            let report = host.driver.run_until_idle(Duration::from_secs(*wait))?;
            let pending = host.store.all_timers()?.len();
            if json {
                println!(
                    "{}",
                    serde_json::json!({"advanced": report.advanced, "failed": report.failed,
                        "finished": report.finished, "still_scheduled": pending})
                );
            } else {
                println!(
                    "advanced {} saga(s), {} finished, {} failed; {} still scheduled",
                    report.advanced, report.finished, report.failed, pending
                );
            }
        }
        Command::Load(args) => {
            let options = load::LoadOptions {
                orders: args.orders,
                concurrency: usize::from(args.concurrency),
                cancel_every: args.cancel_every,
                cancel_after: Duration::from_millis(args.cancel_after_ms),
                wait: Duration::from_secs(args.wait),
                seed: settings.seed,
                stock: args.stock,
                progress: !json && load::stderr_is_terminal(),
            };
            let summary = load::run(&host, &options)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                println!("{summary}");
            }
            if !summary.complete() {
                return Err(load::Incomplete {
                    unfinished: summary.unfinished,
                    sagas: summary.sagas_unfinished,
                    errors: summary.errors,
                }
                .into());
            }
        }
        Command::Init => {
            let stats = host.store.stats()?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"store": settings.store, "streams": stats.streams,
                        "events": stats.events, "timers": stats.timers})
                );
            } else {
                println!(
                    "event store {} is ready: {} stream(s), {} event(s), {} saga(s) scheduled",
                    settings.store, stats.streams, stats.events, stats.timers
                );
            }
        }
        Command::Saga(SagaCommand::Status { order_id }) => {
            let report = svc.saga_status(order_id)?;
            print(json, &dto::SagaReport::from(report), text::saga)?;
        }
        Command::Return(command) => run_return(&host, json, command)?,
        // Served before a host is started.
        Command::Simulate(_) | Command::ApiKey(_) => {}
        Command::Serve(args) => {
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
                auth: authenticator.clone().unwrap_or_default(),
            };
            let mut host = host.clone();
            host.driver = host
                .driver
                .with_lease(Duration::from_millis(args.saga_lease_ms));
            order_host::http::serve(host, options)?;
        }
    }
    Ok(())
}

/// `order-host simulate`: no component, no store, only the simulation.
fn simulate(cli: &Cli, settings: &Settings, args: &SimulateArgs) -> anyhow::Result<()> {
    let clock: Arc<dyn order_host::Clock> = Arc::new(SystemClock);
    let sim = match &cli.sim_state {
        Some(path) => order_host::Simulation::open_durable(settings.seed, clock, path)
            .with_context(|| format!("opening the simulation state {}", path.display()))?,
        None => order_host::Simulation::new(settings.seed, clock),
    };
    sim.control.set_fault_plan(settings.faults.clone());
    order_host::simulate::serve(Arc::new(sim), args.bind)
}

fn read_file_or_stdin(file: &std::path::Path) -> anyhow::Result<String> {
    if file.as_os_str() == "-" {
        Ok(std::io::read_to_string(std::io::stdin())?)
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
    }
}

/// `order-host return …`: each command on a return, printed as the return
/// stands afterwards.
fn run_return(host: &Host, json: bool, command: &ReturnCommand) -> anyhow::Result<()> {
    use order_host::bindings::returns::{
        ApproveReturnCommand, DenyReturnCommand, ProcessRefundCommand, ReceiveReturnCommand,
        RequestReturnCommand,
    };
    let svc = &host.service;
    let view = match command {
        ReturnCommand::Request { file } => {
            let text = read_file_or_stdin(file)?;
            let request: dto::RequestReturnFile = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a valid return request", file.display()))?;
            let cmd = RequestReturnCommand::from(request);
            svc.retrying(|svc| svc.request_return(&cmd))?
        }
        ReturnCommand::Get { return_id } => svc.get_return(return_id)?,
        ReturnCommand::Approve {
            return_id,
            approved_by,
            label,
        } => {
            let cmd = ApproveReturnCommand {
                return_id: return_id.clone(),
                approved_by: approved_by.clone(),
                return_label: label.clone(),
            };
            svc.retrying(|svc| svc.approve_return(&cmd))?
        }
        ReturnCommand::Deny {
            return_id,
            denied_by,
            reason,
        } => {
            let cmd = DenyReturnCommand {
                return_id: return_id.clone(),
                denied_by: denied_by.clone(),
                reason: reason.clone(),
            };
            svc.retrying(|svc| svc.deny_return(&cmd))?
        }
        ReturnCommand::Receive {
            return_id,
            condition,
            partial,
        } => {
            let cmd = ReceiveReturnCommand {
                return_id: return_id.clone(),
                received_at: host.clock.now_ms(),
                condition: condition.clone(),
                all_items_received: !partial,
            };
            svc.retrying(|svc| svc.receive_return(&cmd))?
        }
        ReturnCommand::Refund {
            return_id,
            amount,
            currency,
            method,
        } => {
            let currency = match currency {
                Some(currency) => currency.clone(),
                None => {
                    let order_id = svc.get_return(return_id)?.order_id;
                    svc.get_order(&order_id)?.total.currency
                }
            };
            let cmd = ProcessRefundCommand {
                return_id: return_id.clone(),
                refund_amount: order_host::bindings::types::Money {
                    amount: *amount,
                    currency,
                },
                refund_method: (*method).into(),
            };
            svc.retrying(|svc| svc.process_refund(&cmd))?
        }
    };
    print(json, &dto::Return::from(view), text::return_)
}
