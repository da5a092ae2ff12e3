//! The command line: every flag and subcommand of `order-host`, and
//! nothing of what they do (that is one module per command group beside
//! this one). The `serve` arguments are in `args/serve.rs`.

use std::path::PathBuf;

use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use order_host::config::{BackendFlag, BackendKind};
use order_server::dto;

pub mod serve;

pub use serve::ServeArgs;

pub const EXAMPLES: &str = "\
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
";

/// Runs the order-management component: orders, payments, stock, shipping,
/// returns, with durable storage and simulated or http backends.
#[derive(Parser)]
#[command(name = "order-host", version, about)]
pub struct Cli {
    /// Where orders are stored: a SQLite file, `memory`, or a PostgreSQL
    /// database that several hosts share (`postgres://user@host/db`). Only
    /// `init`, `serve`, `load` and `demo` create a missing SQLite file; the
    /// other commands refuse it. One process at a time owns a SQLite file
    /// (FILE.lock).
    #[arg(long, global = true, env = "ORDER_HOST_STORE")]
    pub store: Option<String>,
    /// The component to run instead of the one built into this binary.
    #[arg(long, global = true, env = "ORDER_HOST_COMPONENT")]
    pub component: Option<PathBuf>,
    /// Seed of the simulated backends: the same seed replays the same faults
    /// [default: 1].
    #[arg(long, global = true, env = "ORDER_HOST_SEED")]
    pub seed: Option<u64>,
    /// Faults of the simulated backends, e.g. `payment=transient:0.2,permanent:0.05`
    /// or `carrier=20ms`, or of one operation, e.g. `payment.process-payment=permanent:0.03`;
    /// repeat or separate specs with `;`.
    #[arg(long = "fault", global = true, value_name = "SPEC")]
    pub faults: Vec<String>,
    /// Latency of a simulated context (or `context.operation`), e.g.
    /// `carrier=20ms`; the same as `--fault carrier=latency:20ms`.
    #[arg(long = "latency", global = true, value_name = "CONTEXT=DURATION")]
    pub latencies: Vec<String>,
    /// Store policy (pricing, return window, retries) as a JSON file.
    #[arg(long, global = true, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Keep the simulated backends' state (charges, stock, shipments,
    /// messages, idempotency keys) in this SQLite file, so a restarted host
    /// remembers what they did; in memory only when not given.
    #[arg(long, global = true, value_name = "FILE", env = "ORDER_HOST_SIM_STATE")]
    pub sim_state: Option<PathBuf>,
    /// Where every external context is served: simulated or http (http
    /// needs each context's base URL from the settings, the environment or
    /// --backend).
    #[arg(long, global = true, value_name = "KIND")]
    pub backends: Option<BackendKind>,
    /// Serve one external context (payment, inventory, carrier, customer)
    /// over http at a base URL, e.g. `payment=http://127.0.0.1:9000/v1`, or
    /// in-process with `CONTEXT=simulated`; repeatable; overrides --backends.
    #[arg(long, global = true, value_name = "CONTEXT=URL|simulated")]
    pub backend: Vec<BackendFlag>,
    /// Print JSON (the HTTP API's shapes) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Settings file (TOML); without it, `order-host.toml` in the working
    /// directory is read if there is one.
    #[arg(long, global = true, value_name = "FILE", env = "ORDER_HOST_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
    #[command(after_help = serve::SERVE_EXAMPLES)]
    Serve(serve::ServeArgs),
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
    /// Measure throughput (memory, SQLite, native), call latencies, storage
    /// per order and memory, and print a table (or --json).
    #[command(after_help = order_host::bench::EXAMPLES)]
    Bench(order_host::bench::BenchArgs),
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
pub enum ApiKeyCommand {
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
pub struct LoadArgs {
    /// Orders to place.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub orders: usize,
    /// Orders placed at once; also the saga driver's workers.
    #[arg(long, default_value_t = 4, value_name = "C", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Cancel every K-th order shortly after placing it (0: never). A
    /// cancellation refused because the order already shipped is fine.
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub cancel_every: usize,
    /// About how long after placing an order it is cancelled (each order
    /// waits between none and twice this).
    #[arg(long, default_value_t = 5, value_name = "MS")]
    pub cancel_after_ms: u64,
    /// How long to wait for the last sagas once every order is placed.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub wait: u64,
    /// Units on the shelf of every product that has none set yet (the
    /// simulation's default is 1000).
    #[arg(long, value_name = "UNITS")]
    pub stock: Option<u64>,
}

#[derive(Subcommand)]
pub enum OrderCommand {
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
pub struct CancelArgs {
    pub order_id: String,
    /// Why, 1..=500 characters.
    #[arg(long)]
    pub reason: String,
    /// Who cancels, 1..=100 characters.
    #[arg(long = "by", default_value = "customer-service")]
    pub cancelled_by: String,
}

#[derive(Subcommand)]
pub enum CustomerCommand {
    /// A customer's orders, oldest first.
    #[command(after_help = CUSTOMER_EXAMPLES)]
    Orders { customer_id: String },
}

#[derive(Subcommand)]
pub enum ShipmentCommand {
    /// A shipment with its tracking history.
    #[command(after_help = SHIPMENT_EXAMPLES)]
    Get { shipment_id: String },
}

#[derive(Subcommand)]
pub enum MetricsCommand {
    /// Metrics of one UTC day.
    #[command(after_help = METRICS_EXAMPLES)]
    Daily {
        /// `YYYY-MM-DD`
        date: String,
    },
}

#[derive(Subcommand)]
pub enum SagaCommand {
    /// Advance every saga that is due until none is (waits up to --wait seconds for retries);
    /// with an order id, retry that one saga now.
    #[command(after_help = SAGA_EXAMPLES)]
    Resume {
        /// Retry only this order's saga, now (a stuck one), and print where it stands.
        order_id: Option<String>,
        #[arg(long, default_value_t = 60)]
        wait: u64,
        /// Who asks for the retry of one saga (recorded as `requested-by`), 1..=100 characters.
        #[arg(long = "by", default_value = "customer-service")]
        requested_by: String,
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
  order-host saga resume 6f1c…                retry that one (stuck) saga now
  order-host saga resume 6f1c… --by \"Sam (support)\"   the same, recorded as asked by Sam
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
pub struct SimulateArgs {
    /// Where to listen, IP:PORT; port 0 picks a free port.
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:9000")]
    pub bind: std::net::SocketAddr,
}

#[derive(Subcommand)]
pub enum ReturnCommand {
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

pub(crate) fn parse_payment_method(text: &str) -> Result<dto::PaymentMethod, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|_| {
        format!("`{text}` is not one of credit-card, debit-card, paypal, bank-transfer, gift-card")
    })
}

impl Cli {
    /// Parses the process's arguments; `--help` ends with the examples and
    /// the exit codes ([`super::exit::CODES`]), a usage error exits with 2.
    pub fn from_env() -> Self {
        let command = Cli::command().after_help(after_help());
        let matches = command.get_matches();
        Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
    }
}

/// The text after the top-level `--help`: the examples, then every exit code.
pub fn after_help() -> String {
    format!("{EXAMPLES}\n{}", super::exit::help())
}
