//! `order-host`: runs the order-management component for real.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use order_host::bindings::orders::{CancelOrderCommand, PlaceOrderCommand};
use order_host::demo;
use order_host::simulation::FaultPlan;
use order_host::{Host, HostOptions, ServiceError, StoreChoice, StorePolicy, SystemClock};
use serde::Serialize;

const EXAMPLES: &str = "\
Examples:
  order-host demo --fresh                      the three journeys, printed as a timeline
  order-host order place -f order.json         place an order (JSON fields of place-order)
  order-host order get 6f1c…                   an order as it stands
  order-host --json order events 6f1c…         its event history, for scripts
  order-host customer orders 8b6f…             a customer's orders
  order-host saga resume                       finish every saga that is due (after a restart)
  order-host --fault payment=transient:0.2 --seed 7 demo --fresh
";

/// Runs the order-management component: orders, payments, stock, shipping,
/// returns, with durable storage and simulated backends.
#[derive(Parser)]
#[command(name = "order-host", version, about, after_help = EXAMPLES)]
struct Cli {
    /// Where orders are stored: a SQLite file (created on first use) or `memory`.
    #[arg(long, global = true, env = "ORDER_HOST_STORE")]
    store: Option<String>,
    /// The component to run instead of the one built into this binary.
    #[arg(long, global = true, env = "ORDER_HOST_COMPONENT")]
    component: Option<PathBuf>,
    /// Seed of the simulated backends: the same seed replays the same faults.
    #[arg(long, global = true, default_value_t = 1, env = "ORDER_HOST_SEED")]
    seed: u64,
    /// Faults of the simulated backends, e.g. `payment=transient:0.2,permanent:0.05`
    /// or `carrier=20ms`; repeat or separate contexts with `;`.
    #[arg(long = "fault", global = true, value_name = "SPEC")]
    faults: Vec<String>,
    /// Store policy (pricing, return window, retries) as a JSON file.
    #[arg(long, global = true, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the three journeys (place, track, return) and print a timeline.
    Demo {
        /// Start from an empty store (deletes the store file first).
        #[arg(long)]
        fresh: bool,
    },
    /// Orders.
    #[command(subcommand)]
    Order(OrderCommand),
    /// Customers.
    #[command(subcommand)]
    Customer(CustomerCommand),
    /// Shipments.
    #[command(subcommand)]
    Shipment(ShipmentCommand),
    /// Daily metrics.
    #[command(subcommand)]
    Metrics(MetricsCommand),
    /// The fulfilment saga.
    #[command(subcommand)]
    Saga(SagaCommand),
}

#[derive(Subcommand)]
enum OrderCommand {
    /// Place an order from a JSON file (`-` for stdin) and run its saga.
    Place {
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
    },
    /// Show an order.
    Get { order_id: String },
    /// Show an order's events.
    Events { order_id: String },
    /// Cancel an order (refunds and releases stock when needed).
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
    Orders { customer_id: String },
}

#[derive(Subcommand)]
enum ShipmentCommand {
    /// A shipment with its tracking history.
    Get { shipment_id: String },
}

#[derive(Subcommand)]
enum MetricsCommand {
    /// Metrics of one UTC day.
    Daily {
        /// `YYYY-MM-DD`
        date: String,
    },
}

#[derive(Subcommand)]
enum SagaCommand {
    /// Advance every saga that is due until none is (waits up to --wait seconds for retries).
    Resume {
        #[arg(long, default_value_t = 60)]
        wait: u64,
    },
    /// Where a saga stands.
    Status { order_id: String },
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            match error.downcast_ref::<ServiceError>() {
                Some(ServiceError::Domain(_)) => eprintln!("error: {error}"),
                _ => eprintln!("error: {error:#}"),
            }
            ExitCode::from(1)
        }
    }
}

fn start(cli: &Cli, fresh: bool) -> anyhow::Result<Host> {
    let store = StoreChoice::parse(&cli.store.clone().unwrap_or_else(default_store));
    if fresh && let StoreChoice::Sqlite(path) = &store {
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
    let faults: FaultPlan = cli.faults.join(";").parse().context("invalid --fault")?;
    let policy = match &cli.policy {
        Some(path) => serde_json::from_slice(
            &std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("invalid policy in {}", path.display()))?,
        None => StorePolicy::default(),
    };
    Host::start(HostOptions {
        store,
        component: cli.component.clone(),
        seed: cli.seed,
        faults,
        policy,
        clock: Arc::new(SystemClock),
        ..HostOptions::in_memory()
    })
}

fn print<T: Serialize + std::fmt::Debug>(json: bool, value: &T) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        println!("{value:#?}");
    }
    Ok(())
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let fresh = matches!(cli.command, Command::Demo { fresh: true });
    let host = start(&cli, fresh)?;
    let json = cli.json;
    let svc = &host.service;
    match &cli.command {
        Command::Demo { .. } => demo::run(&host)?,
        Command::Order(OrderCommand::Place { file }) => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(file)
                    .with_context(|| format!("reading {}", file.display()))?
            };
            let cmd: PlaceOrderCommand =
                serde_json::from_str(&text).context("the order file is not a valid place-order")?;
            svc.call(|api, store| {
                api.oms_order_management_orders()
                    .call_place_order(store, &cmd)
            })?;
            host.driver.run_until_idle(Duration::from_secs(30))?;
            let order = svc.call(|api, store| {
                api.oms_order_management_queries()
                    .call_get_order(store, &cmd.order_id)
            })?;
            print(json, &order)?;
        }
        Command::Order(OrderCommand::Get { order_id }) => {
            let order = svc.call(|api, store| {
                api.oms_order_management_queries()
                    .call_get_order(store, order_id)
            })?;
            print(json, &order)?;
        }
        Command::Order(OrderCommand::Events { order_id }) => {
            let events = svc.call(|api, store| {
                api.oms_order_management_queries()
                    .call_order_history(store, order_id)
            })?;
            if json {
                print(true, &events)?;
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
            let order = svc.call_retrying(|api, store| {
                api.oms_order_management_orders()
                    .call_cancel_order(store, &cmd)
            })?;
            print(json, &order)?;
        }
        Command::Customer(CustomerCommand::Orders { customer_id }) => {
            let orders = svc.call(|api, store| {
                api.oms_order_management_queries()
                    .call_orders_of_customer(store, customer_id)
            })?;
            print(json, &orders)?;
        }
        Command::Shipment(ShipmentCommand::Get { shipment_id }) => {
            let shipment = svc.call(|api, store| {
                api.oms_order_management_queries()
                    .call_get_shipment(store, shipment_id)
            })?;
            print(json, &shipment)?;
        }
        Command::Metrics(MetricsCommand::Daily { date }) => {
            let m = svc.call(|api, store| {
                api.oms_order_management_queries()
                    .call_get_daily_metrics(store, date)
            })?;
            print(json, &m)?;
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
        Command::Saga(SagaCommand::Status { order_id }) => {
            let report = svc.call(|api, store| {
                api.oms_order_management_fulfillment_saga()
                    .call_status(store, order_id)
            })?;
            print(json, &report)?;
        }
    }
    Ok(())
}
