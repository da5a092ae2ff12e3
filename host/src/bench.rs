//! `order-host bench`: the figures of durable throughput, in one run.
//!
//! 1. The whole lifecycle (place, saga, pickup, delivery) of `orders`
//!    orders at `concurrency`, through the component, on the memory store
//!    and on SQLite (`synchronous=FULL`), with [`load::run`], the same
//!    workload `order-host load` runs.
//! 2. The same lifecycle natively: the guest crate's domain and application
//!    layer over in-memory ports ([`order_core::app::memory`]), same
//!    commands, same threads, no component and no host.
//! 3. One order at a time, each call timed: a fresh instance alone
//!    (instantiate + teardown), a reused one alone (taken from the pool,
//!    an empty call, returned), `place-order`, `advance`, `get-order`
//!    through the component on the memory store; `place` and `advance`
//!    natively. Their ratio is the component's cost over the domain's.
//!    Then a command's cost against its stream's length: a tracking update
//!    on a shipment whose stream holds 1 event, and the one after 49
//!    earlier updates (the stream holds 50), through the component on the
//!    memory store, one shipment at a time.
//! 4. What the SQLite file holds per delivered order, and the process's
//!    resident memory.
//! 5. Finding orders: the first page (and the next) of the order read model
//!    in SQLite for one customer with `list_orders` orders, by status, by
//!    saga state and unfiltered, over a store of twice that many orders
//!    (written straight into the store, not through the component).
//!
//! 6. Paced: after each component lifecycle run, the same lifecycle on a
//!    fresh store with placements offered on a fixed schedule at
//!    [`PACED_SHARE`] of the rate that run measured (an open loop), and
//!    `place-order`'s latency counted from when each placement was due.
//!
//! Bounded in count (the flags) and in time (`max_seconds` over the whole
//! run: a phase that runs out stops early and says how many it did).
//! Speed is reported, never asserted.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use order_core::app::memory::MemoryPorts;
use order_core::domain::order::{OrderStatus as CoreStatus, PlaceOrder};
use order_core::domain::values as core;
use serde::Serialize;

use crate::bindings::orders::PlaceOrderCommand;
use crate::bindings::shipments::UpdateTrackingCommand;
use crate::bindings::shipping_carrier::ShipmentInTransit;
use crate::bindings::types::{OrderStatus, PaymentMethod, ShipmentStatus};
use crate::load::{self, LoadOptions, LoadSummary, resident_memory_kib};
use crate::{Host, HostOptions, InstanceStats, StoreChoice};

/// What a bench run does: `order-host bench`'s flags, and the component.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchOptions {
    /// Orders of each lifecycle run (memory store, SQLite, native).
    #[arg(long, default_value_t = 2_000, value_name = "N")]
    pub orders: usize,
    /// Orders placed at once, and saga workers.
    #[arg(long, default_value_t = 4, value_name = "C", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=256))]
    pub concurrency: usize,
    /// Orders taken one at a time with every call timed.
    #[arg(long, default_value_t = 500, value_name = "N")]
    pub latency_orders: usize,
    /// Stop within about this many seconds (the figures say when they are partial).
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub max_seconds: u64,
    /// The component to run; `None` runs the one built into the host (the
    /// global `--component`).
    #[arg(skip)]
    pub component: Option<PathBuf>,
    /// Where the SQLite files go (a fresh folder inside, removed after);
    /// the system's temporary folder by default.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The seed of the workload.
    #[arg(skip = 1_u64)]
    pub seed: u64,
    /// Orders of one customer in the order-listing phase (as many again of
    /// other customers); 0 skips it.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub list_orders: usize,
    /// Orders of each paced run (memory store, SQLite), fewer when the
    /// schedule would not fit in the time left; 0 skips them.
    #[arg(long, default_value_t = 1_000, value_name = "N")]
    pub paced_orders: usize,
}

/// The share of a lifecycle run's measured rate the paced run offers.
pub const PACED_SHARE: f64 = 0.8;

impl Default for BenchOptions {
    /// The flags' defaults.
    fn default() -> Self {
        use clap::{Args as _, FromArgMatches as _};
        let command = Self::augment_args(clap::Command::new("bench"));
        Self::from_arg_matches(&command.get_matches_from(["bench"]))
            .expect("the defaults of the bench's flags parse")
    }
}

/// `order-host bench`'s flags.
pub type BenchArgs = BenchOptions;

/// The examples of `order-host bench --help`.
pub const EXAMPLES: &str = "\
Runs the whole lifecycle (place, saga, pickup, delivery) through the
component on the memory store and on SQLite, the same natively over
in-memory ports, then one order at a time with every call timed; after
each component run, a paced run offers placements at 80 % of the rate it
measured and reports place-order's p50/p99 at that rate. The store flags
do not apply: the bench makes its own stores.

Examples:
  order-host bench                                   2,000 orders, concurrency 4
  order-host bench --orders 500 --concurrency 8 --json
  order-host --component target/wasm32-wasip2/release/order_core.wasm bench --max-seconds 60
";

impl BenchOptions {
    /// These options, running the given component.
    pub fn options(&self, component: Option<PathBuf>) -> BenchOptions {
        BenchOptions {
            component,
            ..self.clone()
        }
    }
}

/// Latency percentiles in microseconds (nearest rank).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Micros {
    pub samples: usize,
    pub mean: f64,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Micros {
    pub fn of(samples: Vec<f64>) -> Self {
        let mean = samples.iter().sum::<f64>() / samples.len().max(1) as f64;
        let ranks = load::Percentiles::of(samples);
        Self {
            samples: ranks.samples,
            mean,
            p50: ranks.p50,
            p99: ranks.p99,
            max: ranks.max,
        }
    }
}

/// One lifecycle run: every order placed, its saga run, delivered.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LifecycleRun {
    /// `memory`, `sqlite` or `native`.
    pub path: String,
    pub orders: usize,
    pub placed: usize,
    pub delivered: usize,
    /// Orders that did not end delivered (a failure or the time bound).
    pub unfinished: usize,
    pub errors: usize,
    pub elapsed_ms: u64,
    /// Delivered orders per second of the run.
    pub orders_per_s: f64,
    /// `place-order`, in milliseconds.
    pub place_ms: load::Percentiles,
    /// From placement to the saga's end, in milliseconds.
    pub saga_ms: load::Percentiles,
    /// The first unexpected errors.
    pub error_samples: Vec<String>,
    /// What became of the component's instances (none natively).
    pub instances: InstanceStats,
}

impl LifecycleRun {
    fn from_load(path: &str, s: &LoadSummary, host: &Host) -> Self {
        Self {
            path: path.to_owned(),
            orders: s.orders,
            placed: s.placed,
            delivered: s.delivered,
            unfinished: s.orders - s.delivered,
            errors: s.errors,
            elapsed_ms: s.elapsed_ms,
            orders_per_s: s.delivered as f64 / (s.elapsed_ms as f64 / 1_000.0).max(1e-3),
            place_ms: s.place_latency_ms.clone(),
            saga_ms: s.saga_latency_ms.clone(),
            error_samples: s.error_samples.clone(),
            instances: host.service.runtime().instance_stats(),
        }
    }
}

impl LifecycleRun {
    /// The table's cells: delivered, orders/s, place and saga p50/p99, errors.
    fn cells(&self) -> String {
        format!(
            "{}/{} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {}",
            self.delivered,
            self.orders,
            self.orders_per_s,
            self.place_ms.p50,
            self.place_ms.p99,
            self.saga_ms.p50,
            self.saga_ms.p99,
            self.errors
        )
    }
}

/// Calls timed one at a time, in microseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CallLatencies {
    /// Orders taken through (fewer than asked when time ran out).
    pub orders: usize,
    /// A fresh instance and its teardown, without a call (component only).
    pub instantiate_us: Micros,
    /// A ready instance taken from the runtime's pool, an empty call, and
    /// its return to the pool: what a call pays instead of a fresh instance
    /// (component only).
    pub reused_instance_us: Micros,
    pub place_us: Micros,
    /// The one `advance` that runs the saga from placed to shipped.
    pub advance_us: Micros,
    pub get_us: Micros,
    /// `place` + `advance` of one order.
    pub place_and_saga_us: Micros,
}

/// The cost of one command against the length of its stream (phase 3):
/// `update-tracking` on shipments, each timed at two lengths.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StreamLengthCost {
    /// Shipments taken through (fewer than asked when time ran out).
    pub shipments: usize,
    /// Events in the stream before the later timed update.
    pub long_stream_events: u64,
    /// The first tracking update: the stream holds its one creation event.
    pub tracking_at_event_1_us: Micros,
    /// The update after 49 earlier ones: the stream holds 50 events.
    pub tracking_at_event_50_us: Micros,
    /// p50 at 50 events over p50 at 1 event.
    pub p50_ratio: f64,
    /// The carrier's first in-transit scan of another shipment (the inbound
    /// event, which answers `applied` and no view): its stream holds its
    /// creation event.
    pub scan_at_event_1_us: Micros,
    /// The scan after 49 earlier ones: the stream holds 50 events, and from
    /// its 16th on a state record (decision 0022).
    pub scan_at_event_50_us: Micros,
    /// p50 of the 50th scan over p50 of the first.
    pub scan_p50_ratio: f64,
}

/// Updates the tracking of each shipment, timing the first and the 50th.
const LONG_STREAM_UPDATES: usize = 50;

/// What the SQLite store holds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Storage {
    /// The database file and its write-ahead log as the run left them.
    pub file_and_wal_bytes: u64,
    pub delivered_orders: usize,
    pub file_and_wal_bytes_per_delivered_order: f64,
    /// The file once checkpointed: the bytes a shop keeps. The run's host
    /// closes the store before the measure, and closing checkpoints and
    /// removes the WAL, so this equals `file_and_wal_bytes`.
    pub checkpointed_bytes: u64,
    pub checkpointed_bytes_per_delivered_order: f64,
    /// The event types and payloads alone per order, natively (what any
    /// encoding of these events has to hold, before a store's overhead).
    pub native_payload_bytes_per_order: f64,
    pub native_events_per_order: f64,
    /// Batches appended per order, natively: the commits a durable store
    /// makes for one order's lifecycle.
    pub native_appends_per_order: f64,
}

/// Everything one bench run measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BenchReport {
    pub orders: usize,
    pub concurrency: usize,
    pub memory: LifecycleRun,
    pub sqlite: LifecycleRun,
    pub native: LifecycleRun,
    pub component_calls: CallLatencies,
    pub native_calls: CallLatencies,
    /// A command's cost against its stream's length.
    pub stream_length: StreamLengthCost,
    /// Mean `place` + `advance` through the component over the same
    /// natively.
    pub component_native_ratio: f64,
    pub storage: Storage,
    /// The order read model's pages (phase 5).
    pub listing: Listing,
    /// Placements offered at [`PACED_SHARE`] of the memory run's rate.
    pub paced_memory: PacedRun,
    /// The same on SQLite, at its own run's rate.
    pub paced_sqlite: PacedRun,
    pub peak_rss_kib: Option<u64>,
    pub rss_kib: Option<u64>,
    pub elapsed_ms: u64,
    /// True when a phase stopped early at the time bound.
    pub time_bound_hit: bool,
}

impl BenchReport {
    /// Every lifecycle run delivered every order, every timed order has a
    /// sample of each call, and nothing failed.
    pub fn complete(&self) -> bool {
        let runs = [&self.memory, &self.sqlite, &self.native];
        let calls = &self.component_calls;
        runs.iter().all(|r| {
            r.delivered == self.orders && r.unfinished == 0 && r.errors == 0 && r.placed == r.orders
        }) && calls.place_us.samples == calls.orders
            && calls.advance_us.samples == calls.orders
            && calls.get_us.samples == calls.orders
            && calls.instantiate_us.samples == calls.orders
            && calls.reused_instance_us.samples == calls.orders
            && self.native_calls.place_us.samples == self.native_calls.orders
            && [&self.paced_memory, &self.paced_sqlite]
                .iter()
                .all(|p| p.complete())
            && self.stream_length.tracking_at_event_50_us.samples == self.stream_length.shipments
            && self.stream_length.scan_at_event_50_us.samples == self.stream_length.shipments
            && !self.time_bound_hit
    }
}

/// The clock of the run's time bound.
struct Budget {
    until: Instant,
    hit: bool,
}

impl Budget {
    fn left(&self) -> Duration {
        self.until.saturating_duration_since(Instant::now())
    }

    fn over(&mut self) -> bool {
        if Instant::now() >= self.until {
            self.hit = true;
        }
        self.hit
    }
}

fn start_host(options: &BenchOptions, store: StoreChoice) -> anyhow::Result<Host> {
    Host::start(HostOptions {
        store,
        component: options.component.clone(),
        seed: options.seed,
        ..HostOptions::in_memory()
    })
}

/// A folder of its own for this run's SQLite files.
struct Scratch(PathBuf);

impl Scratch {
    fn new(base: Option<&Path>) -> anyhow::Result<Self> {
        let base = base.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = base.join(format!("order-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// What the SQLite file `db` holds for `delivered` orders once the run's
/// host has closed it. Closing the last connection checkpoints the WAL and
/// removes it, so the file and its WAL as the run left them are the
/// checkpointed file: the two figures are one measure.
fn sqlite_storage(db: &Path, delivered: usize) -> Storage {
    let mut wal = db.to_path_buf().into_os_string();
    wal.push("-wal");
    let bytes = file_size(db) + file_size(&PathBuf::from(wal));
    let per_order = bytes as f64 / delivered.max(1) as f64;
    Storage {
        file_and_wal_bytes: bytes,
        delivered_orders: delivered,
        file_and_wal_bytes_per_delivered_order: per_order,
        checkpointed_bytes: bytes,
        checkpointed_bytes_per_delivered_order: per_order,
        ..Storage::default()
    }
}

/// Runs every phase and reports what it measured.
pub fn run(options: &BenchOptions) -> anyhow::Result<BenchReport> {
    let started = Instant::now();
    let mut budget = Budget {
        until: started + Duration::from_secs(options.max_seconds),
        hit: false,
    };
    let mut report = BenchReport {
        orders: options.orders,
        concurrency: options.concurrency.max(1),
        ..BenchReport::default()
    };
    let lifecycle = |budget: &Budget| LoadOptions {
        orders: options.orders,
        concurrency: report.concurrency,
        cancel_every: 0,
        wait: budget.left(),
        seed: options.seed,
        // Every order delivered: stock never runs out (16 products).
        stock: Some(options.orders as u64 * 10 + 1_000),
        progress: false,
        ..LoadOptions::default()
    };

    // 1. The component on the memory store, then on SQLite.
    {
        let host = start_host(options, StoreChoice::Memory)?;
        let summary = load::run(&host, &lifecycle(&budget))?;
        report.memory = LifecycleRun::from_load("memory", &summary, &host);
    }
    budget.over();
    if options.paced_orders > 0 && !budget.over() {
        let rate = report.memory.orders_per_s * PACED_SHARE;
        report.paced_memory = paced(options, StoreChoice::Memory, rate, &budget)?;
    }
    let scratch = Scratch::new(options.dir.as_deref())?;
    let db = scratch.0.join("bench.db");
    {
        let host = start_host(options, StoreChoice::Sqlite(db.clone()))?;
        let summary = load::run(&host, &lifecycle(&budget))?;
        report.sqlite = LifecycleRun::from_load("sqlite", &summary, &host);
    }
    report.storage = sqlite_storage(&db, report.sqlite.delivered);
    budget.over();
    if options.paced_orders > 0 && !budget.over() {
        let rate = report.sqlite.orders_per_s * PACED_SHARE;
        let store = StoreChoice::Sqlite(scratch.0.join("paced.db"));
        report.paced_sqlite = paced(options, store, rate, &budget)?;
    }

    // 2. Natively.
    let ports = MemoryPorts::new();
    report.native = native_lifecycle(&ports, options, report.concurrency, &budget);
    report.storage.native_payload_bytes_per_order =
        ports.store.payload_bytes() as f64 / report.native.delivered.max(1) as f64;
    report.storage.native_events_per_order =
        ports.store.total_events() as f64 / report.native.delivered.max(1) as f64;
    report.storage.native_appends_per_order =
        ports.store.appends() as f64 / report.native.delivered.max(1) as f64;
    budget.over();

    // 3. One order at a time, every call timed.
    {
        let host = start_host(options, StoreChoice::Memory)?;
        report.component_calls = component_calls(&host, options, &mut budget)?;
    }
    {
        let host = start_host(options, StoreChoice::Memory)?;
        report.stream_length = stream_length(&host, options, &mut budget)?;
    }
    let ports = MemoryPorts::new();
    report.native_calls = native_calls(&ports, options, &mut budget)?;
    report.component_native_ratio = report.component_calls.place_and_saga_us.mean
        / report.native_calls.place_and_saga_us.mean.max(1e-9);

    // 5. Finding orders in the read model.
    if options.list_orders > 0 && !budget.over() {
        report.listing = listing(options)?;
    }

    let (peak, now) = resident_memory_kib();
    report.peak_rss_kib = peak;
    report.rss_kib = now;
    report.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    report.time_bound_hit = budget.hit
        || [&report.memory, &report.sqlite, &report.native]
            .iter()
            .any(|r| r.unfinished > 0)
        || [&report.paced_memory, &report.paced_sqlite]
            .iter()
            .any(|p| p.run.unfinished > 0);
    Ok(report)
}

/// `order-host bench`: runs, prints the table (or JSON), and fails when a
/// run left orders undelivered or hit the time bound (after printing).
pub fn main(options: &BenchOptions, json: bool) -> anyhow::Result<()> {
    let report = run(options)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{report}");
    }
    anyhow::ensure!(
        report.complete(),
        "the bench is incomplete (orders undelivered, errors, or the time bound): the figures above are partial"
    );
    Ok(())
}

/// One paced run (phase 6): the lifecycle with placements offered on a
/// fixed schedule.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PacedRun {
    /// Placements offered per second: [`PACED_SHARE`] of the measured rate.
    pub offered_per_s: f64,
    /// The lifecycle of the paced orders; its `place_ms` counts from when
    /// each placement was due, so time spent waiting for a free placer is
    /// in it.
    #[serde(flatten)]
    pub run: LifecycleRun,
}

impl PacedRun {
    /// Skipped (no orders asked), or every order placed, timed and
    /// delivered without an error.
    fn complete(&self) -> bool {
        let r = &self.run;
        r.orders == 0
            || (r.placed == r.orders
                && r.delivered == r.orders
                && r.place_ms.samples == r.orders
                && r.errors == 0
                && self.offered_per_s > 0.0)
    }
}

/// The orders of a paced run at `per_second`: `paced_orders`, or fewer so
/// that the schedule takes at most half the time left (the sagas need the
/// rest); at least one.
fn paced_count(paced_orders: usize, per_second: f64, left: Duration) -> usize {
    let fits = (per_second * left.as_secs_f64() / 2.0).floor();
    paced_orders.min(fits.max(1.0) as usize)
}

/// Phase 6 on a fresh host over `store`: the lifecycle at `per_second`.
fn paced(
    options: &BenchOptions,
    store: StoreChoice,
    per_second: f64,
    budget: &Budget,
) -> anyhow::Result<PacedRun> {
    let per_second = per_second.max(1.0);
    let orders = paced_count(options.paced_orders, per_second, budget.left());
    let path = match store {
        StoreChoice::Memory => "memory",
        _ => "sqlite",
    };
    let host = start_host(options, store)?;
    let summary = load::run(
        &host,
        &LoadOptions {
            orders,
            concurrency: options.concurrency.max(1),
            cancel_every: 0,
            wait: budget.left(),
            // Other orders than the lifecycle runs'.
            seed: options.seed.wrapping_add(2_000_003),
            stock: Some(orders as u64 * 10 + 1_000),
            progress: false,
            pace: Some(load::Pace { per_second }),
            ..LoadOptions::default()
        },
    )?;
    Ok(PacedRun {
        offered_per_s: per_second,
        run: LifecycleRun::from_load(path, &summary, &host),
    })
}

/// A workload order as the domain's command.
fn core_place(cmd: &PlaceOrderCommand) -> anyhow::Result<PlaceOrder> {
    let address = |a: &crate::bindings::types::Address| core::Address {
        street1: a.street1.clone(),
        street2: a.street2.clone(),
        city: a.city.clone(),
        state_province: a.state_province.clone(),
        postal_code: a.postal_code.clone(),
        country: a.country.clone(),
    };
    let method = match cmd.payment_method {
        PaymentMethod::CreditCard => core::PaymentMethod::CreditCard,
        PaymentMethod::DebitCard => core::PaymentMethod::DebitCard,
        PaymentMethod::Paypal => core::PaymentMethod::Paypal,
        PaymentMethod::BankTransfer => core::PaymentMethod::BankTransfer,
        PaymentMethod::GiftCard => core::PaymentMethod::GiftCard,
    };
    let items = cmd
        .items
        .iter()
        .map(|i| core::OrderItemInput {
            item_id: i.item_id.clone(),
            product_id: i.product_id.clone(),
            sku: i.sku.clone(),
            product_name: i.product_name.clone(),
            quantity: i.quantity,
            unit_price_amount: i.unit_price.amount,
            unit_price_currency: i.unit_price.currency.clone(),
        })
        .collect();
    PlaceOrder::validate(
        &cmd.order_id,
        &cmd.customer_id,
        items,
        address(&cmd.shipping_address),
        address(&cmd.billing_address),
        method,
    )
    .map_err(|e| anyhow::anyhow!("the workload's order {} is invalid: {e:?}", cmd.order_id))
}

fn native_error(e: impl std::fmt::Debug) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

/// Runs an order's saga natively until it no longer has a timer (bounded).
fn native_saga(ports: &MemoryPorts, order_id: &str) -> anyhow::Result<()> {
    let app = ports.app();
    for _ in 0..20 {
        app.advance_saga(order_id).map_err(native_error)?;
        if ports.store.timer(order_id).is_none() {
            return Ok(());
        }
    }
    anyhow::bail!("the saga of {order_id} did not finish in 20 advances")
}

/// The rest of the lifecycle natively, as `load` does it through the
/// component: the order's history and state are read, the carrier picks the
/// parcel up and delivers it.
fn native_settle(ports: &MemoryPorts, order_id: &str) -> anyhow::Result<bool> {
    let app = ports.app();
    app.order_history(order_id).map_err(native_error)?;
    let order = app.get_order(order_id).map_err(native_error)?;
    let shipment = order
        .shipping
        .as_ref()
        .context("a shipped order without its shipment")?
        .shipment_id
        .clone();
    let now = order_core::app::ports::Clock::now(&ports.clock);
    app.on_tracking(&shipment, core::ShipmentStatus::PickedUp, None, now)
        .map_err(native_error)?;
    app.on_delivered(&shipment, now, Some("Load Test Recipient".to_owned()))
        .map_err(native_error)?;
    Ok(app.get_order(order_id).map_err(native_error)?.status == CoreStatus::Delivered)
}

fn native_lifecycle(
    ports: &MemoryPorts,
    options: &BenchOptions,
    workers: usize,
    budget: &Budget,
) -> LifecycleRun {
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let delivered = AtomicUsize::new(0);
    let placed = AtomicUsize::new(0);
    let place_ms = Mutex::new(Vec::with_capacity(options.orders));
    let saga_ms = Mutex::new(Vec::with_capacity(options.orders));
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    if index >= options.orders || Instant::now() >= budget.until {
                        break;
                    }
                    let one = || -> anyhow::Result<(f64, f64, bool)> {
                        let cmd = core_place(&load::order_command(options.seed, index))?;
                        let id = cmd.order_id.clone();
                        let began = Instant::now();
                        ports.app().place_order(cmd).map_err(native_error)?;
                        let place = began.elapsed();
                        placed.fetch_add(1, Ordering::SeqCst);
                        native_saga(ports, &id)?;
                        let saga = began.elapsed();
                        let done = native_settle(ports, &id)?;
                        Ok((ms(place), ms(saga), done))
                    };
                    match one() {
                        Ok((place, saga, done)) => {
                            lock(&place_ms).push(place);
                            lock(&saga_ms).push(saga);
                            if done {
                                delivered.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        Err(e) => lock(&errors).push(format!("order {index}: {e:#}")),
                    }
                }
            });
        }
    });
    let elapsed = started.elapsed();
    let delivered = delivered.into_inner();
    let errors = errors.into_inner().unwrap_or_else(PoisonError::into_inner);
    LifecycleRun {
        path: "native".to_owned(),
        orders: options.orders,
        placed: placed.into_inner(),
        delivered,
        unfinished: options.orders - delivered,
        errors: errors.len(),
        elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        orders_per_s: delivered as f64 / elapsed.as_secs_f64().max(1e-6),
        place_ms: load::Percentiles::of(lock(&place_ms).clone()),
        saga_ms: load::Percentiles::of(lock(&saga_ms).clone()),
        error_samples: errors.into_iter().take(10).collect(),
        instances: InstanceStats::default(),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000_000.0
}

/// Seed of the timed phases: other orders than the lifecycle runs'.
fn timed_seed(options: &BenchOptions) -> u64 {
    options.seed.wrapping_add(1_000_003)
}

/// The samples of the one-order-at-a-time phase, in microseconds.
#[derive(Default)]
struct Timings {
    orders: usize,
    instantiate: Vec<f64>,
    reused_instance: Vec<f64>,
    place: Vec<f64>,
    advance: Vec<f64>,
    get: Vec<f64>,
    place_and_saga: Vec<f64>,
}

impl Timings {
    /// Takes up to `orders` orders through `one` (its index, and where its
    /// samples go), stopping at the time bound.
    fn run(
        orders: usize,
        budget: &mut Budget,
        mut one: impl FnMut(usize, &mut Self) -> anyhow::Result<()>,
    ) -> anyhow::Result<CallLatencies> {
        let mut timings = Self::default();
        for index in 0..orders {
            if budget.over() {
                break;
            }
            one(index, &mut timings)?;
            timings.orders += 1;
        }
        Ok(CallLatencies {
            orders: timings.orders,
            instantiate_us: Micros::of(timings.instantiate),
            reused_instance_us: Micros::of(timings.reused_instance),
            place_us: Micros::of(timings.place),
            advance_us: Micros::of(timings.advance),
            get_us: Micros::of(timings.get),
            place_and_saga_us: Micros::of(timings.place_and_saga),
        })
    }

    /// One order's `place`, `advance` and `get`.
    fn order(&mut self, place: Duration, advance: Duration, get: Duration) {
        self.place.push(us(place));
        self.advance.push(us(advance));
        self.get.push(us(get));
        self.place_and_saga.push(us(place + advance));
    }
}

/// `call`'s answer and how long it took.
fn timed<R>(call: impl FnOnce() -> anyhow::Result<R>) -> anyhow::Result<(R, Duration)> {
    let began = Instant::now();
    let answer = call()?;
    Ok((answer, began.elapsed()))
}

fn component_calls(
    host: &Host,
    options: &BenchOptions,
    budget: &mut Budget,
) -> anyhow::Result<CallLatencies> {
    let seed = timed_seed(options);
    let runtime = host.service.runtime();
    Timings::run(options.latency_orders, budget, |index, t| {
        let ((), fresh) = timed(|| runtime.session().map(drop))?;
        t.instantiate.push(us(fresh));
        let ((), reused) = timed(|| runtime.call(|_, _| Ok(())))?;
        t.reused_instance.push(us(reused));

        let cmd = load::order_command(seed, index);
        let (_, placed) = timed(|| Ok(host.service.place_order(&cmd)?))?;
        let (_, saga) = timed(|| Ok(host.service.advance_saga(&cmd.order_id)?))?;
        let (order, got) = timed(|| Ok(host.service.get_order(&cmd.order_id)?))?;
        anyhow::ensure!(
            order.status == OrderStatus::Shipped,
            "order {} is {:?} after one advance, not shipped",
            cmd.order_id,
            order.status
        );
        t.order(placed, saga, got);
        Ok(())
    })
}

/// Phase 3, the stream's length: for each of `latency_orders / 5` orders
/// (at least one), places it, runs its saga to shipped (which books its
/// shipment: the shipment's stream holds one event), then sends
/// `LONG_STREAM_UPDATES` tracking updates, each with its own description,
/// timing the first and the last.
fn stream_length(
    host: &Host,
    options: &BenchOptions,
    budget: &mut Budget,
) -> anyhow::Result<StreamLengthCost> {
    let seed = timed_seed(options).wrapping_add(7);
    let (mut first, mut last) = (Vec::new(), Vec::new());
    let (mut first_scan, mut last_scan) = (Vec::new(), Vec::new());
    let mut long_stream_events = 0;
    for index in 0..(options.latency_orders / 5).max(1) {
        if budget.over() {
            break;
        }
        // Two orders a round: one shipment tracked through the command
        // (which answers the shipment view), one through the carrier's
        // inbound events.
        let [tracked, scanned] = [2 * index, 2 * index + 1].map(|i| shipped(host, seed, i));
        let (tracked, scanned) = (tracked?, scanned?);
        for update in 1..=LONG_STREAM_UPDATES {
            let track = UpdateTrackingCommand {
                shipment_id: tracked.clone(),
                status: if update % 2 == 0 {
                    ShipmentStatus::InTransit
                } else {
                    ShipmentStatus::PickedUp
                },
                location: Some(format!("depot {update}")),
                description: format!("scan {update} of {tracked}"),
            };
            let (view, took) = timed(|| Ok(host.service.update_tracking(&track)?))?;
            let scan = ShipmentInTransit {
                shipment_id: scanned.clone(),
                current_location: Some(format!("hub {update}")),
                updated_at: host.clock.now_ms() + update as u64,
            };
            let (_, scan_took) = timed(|| Ok(host.service.on_shipment_in_transit(&scan)?))?;
            if update == 1 {
                first.push(us(took));
                first_scan.push(us(scan_took));
            } else if update == LONG_STREAM_UPDATES {
                last.push(us(took));
                last_scan.push(us(scan_took));
                // One tracking entry per event, the creation's included:
                // the stream held one fewer before this update.
                long_stream_events = view.tracking_history.len() as u64 - 1;
            }
        }
    }
    let (at_1, at_50) = (Micros::of(first), Micros::of(last));
    let (scan_1, scan_50) = (Micros::of(first_scan), Micros::of(last_scan));
    Ok(StreamLengthCost {
        shipments: at_50.samples,
        long_stream_events,
        p50_ratio: at_50.p50 / at_1.p50.max(1e-9),
        tracking_at_event_1_us: at_1,
        tracking_at_event_50_us: at_50,
        scan_p50_ratio: scan_50.p50 / scan_1.p50.max(1e-9),
        scan_at_event_1_us: scan_1,
        scan_at_event_50_us: scan_50,
    })
}

/// The p50/p99 table of a call at a stream of 1 and of 50 events.
fn stream_table(f: &mut std::fmt::Formatter<'_>, [at_1, at_50]: [&Micros; 2]) -> std::fmt::Result {
    writeln!(f, "| stream holds | p50 | p99 |")?;
    writeln!(f, "|---|---:|---:|")?;
    for (name, m) in [("1 event", at_1), ("50 events", at_50)] {
        writeln!(f, "| {name} | {:.1} | {:.1} |", m.p50, m.p99)?;
    }
    Ok(())
}

/// The shipment of order `index` of `seed`, placed and taken through its saga.
fn shipped(host: &Host, seed: u64, index: usize) -> anyhow::Result<String> {
    let cmd = load::order_command(seed, index);
    host.service.place_order(&cmd)?;
    host.service.advance_saga(&cmd.order_id)?;
    let shipments = host.service.shipments_of_order(&cmd.order_id)?;
    let shipment = shipments
        .first()
        .with_context(|| format!("order {} has no shipment after its saga", cmd.order_id))?;
    Ok(shipment.shipment_id.clone())
}

fn native_calls(
    ports: &MemoryPorts,
    options: &BenchOptions,
    budget: &mut Budget,
) -> anyhow::Result<CallLatencies> {
    let seed = timed_seed(options);
    let app = ports.app();
    Timings::run(options.latency_orders, budget, |index, t| {
        let cmd = core_place(&load::order_command(seed, index))?;
        let id = cmd.order_id.clone();
        let (_, placed) = timed(|| app.place_order(cmd).map_err(native_error))?;
        let (order, saga) = timed(|| app.advance_saga(&id).map_err(native_error))?;
        let (_, got) = timed(|| app.get_order(&id).map_err(native_error))?;
        anyhow::ensure!(
            order.status == CoreStatus::Shipped,
            "order {id} is {:?} after one advance, not shipped",
            order.status
        );
        t.order(placed, saga, got);
        Ok(())
    })
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "whole lifecycle (place, saga, pickup, delivery), {} orders, concurrency {}",
            self.orders, self.concurrency
        )?;
        writeln!(
            f,
            "| path | delivered | orders/s | place p50 ms | place p99 ms | saga p50 ms | saga p99 ms | errors |"
        )?;
        writeln!(f, "|---|---:|---:|---:|---:|---:|---:|---:|")?;
        for r in [&self.memory, &self.sqlite, &self.native] {
            let name = match r.path.as_str() {
                "memory" => "component, memory store",
                "sqlite" => "component, SQLite (synchronous=FULL)",
                _ => "native (domain + app over memory ports)",
            };
            writeln!(f, "| {name} | {} |", r.cells())?;
        }
        if self.paced_memory.run.orders + self.paced_sqlite.run.orders > 0 {
            writeln!(
                f,
                "paced: placements offered at {:.0} % of the run's orders/s on a fixed schedule, place latency counted from when each was due",
                PACED_SHARE * 100.0
            )?;
            writeln!(
                f,
                "| store | offered/s | delivered | orders/s | place p50 ms | place p99 ms | saga p50 ms | saga p99 ms | errors |"
            )?;
            writeln!(f, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")?;
            for p in [&self.paced_memory, &self.paced_sqlite] {
                let r = &p.run;
                writeln!(f, "| {} | {:.0} | {} |", r.path, p.offered_per_s, r.cells())?;
            }
        }
        for r in [&self.memory, &self.sqlite] {
            let i = &r.instances;
            writeln!(
                f,
                "instances ({}): {} calls, {} on a fresh instance, {} on a reused one; dropped: {} after a failure, {} for memory, {} holding resources",
                r.path,
                i.instantiated + i.reused,
                i.instantiated,
                i.reused,
                i.dropped_after_failure,
                i.dropped_for_memory,
                i.dropped_holding_resources
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "one order at a time, {} orders (component: memory store), microseconds",
            self.component_calls.orders
        )?;
        writeln!(f, "| call | component p50 | p99 | native p50 | p99 |")?;
        writeln!(f, "|---|---:|---:|---:|---:|")?;
        let c = &self.component_calls;
        let n = &self.native_calls;
        let row = |f: &mut std::fmt::Formatter<'_>, name: &str, c: &Micros, n: Option<&Micros>| {
            let native = n.map_or_else(
                || "| - | - |".to_owned(),
                |n| format!("| {:.1} | {:.1} |", n.p50, n.p99),
            );
            writeln!(f, "| {name} | {:.1} | {:.1} {native}", c.p50, c.p99)
        };
        let rows: [(&str, &Micros, Option<&Micros>); 6] = [
            ("instantiate + teardown", &c.instantiate_us, None),
            (
                "reused instance (take, empty call, return)",
                &c.reused_instance_us,
                None,
            ),
            ("place-order", &c.place_us, Some(&n.place_us)),
            (
                "advance (placed to shipped)",
                &c.advance_us,
                Some(&n.advance_us),
            ),
            ("get-order", &c.get_us, Some(&n.get_us)),
            (
                "place + saga",
                &c.place_and_saga_us,
                Some(&n.place_and_saga_us),
            ),
        ];
        for (name, c, n) in rows {
            row(f, name, c, n)?;
        }
        writeln!(
            f,
            "component / native (mean place + saga): {:.2}x ({:.1} / {:.1} us)",
            self.component_native_ratio, c.place_and_saga_us.mean, n.place_and_saga_us.mean
        )?;
        let l = &self.stream_length;
        writeln!(
            f,
            "a command against its stream's length: update-tracking on {} shipments (component: memory store), microseconds",
            l.shipments
        )?;
        stream_table(f, [&l.tracking_at_event_1_us, &l.tracking_at_event_50_us])?;
        writeln!(f, "event 50 / event 1 (p50): {:.2}x", l.p50_ratio)?;
        writeln!(
            f,
            "the carrier's in-transit scan (inbound, no view answered) on as many other shipments, microseconds"
        )?;
        stream_table(f, [&l.scan_at_event_1_us, &l.scan_at_event_50_us])?;
        writeln!(
            f,
            "scan at event 50 / event 1 (p50): {:.2}x",
            l.scan_p50_ratio
        )?;
        writeln!(f)?;
        let s = &self.storage;
        writeln!(
            f,
            "storage   SQLite {:.1} KiB per delivered order checkpointed ({} bytes, {} orders; {:.1} KiB as the run left the file and its WAL); the events alone {:.0} bytes in {:.1} events and {:.1} appends per order",
            s.checkpointed_bytes_per_delivered_order / 1024.0,
            s.checkpointed_bytes,
            s.delivered_orders,
            s.file_and_wal_bytes_per_delivered_order / 1024.0,
            s.native_payload_bytes_per_order,
            s.native_events_per_order,
            s.native_appends_per_order
        )?;
        let l = &self.listing;
        if l.store_orders > 0 {
            writeln!(
                f,
                "finding orders (SQLite read model, {} orders, {} of one customer), first page of {} rows, microseconds",
                l.store_orders, l.customer_orders, l.page
            )?;
            writeln!(f, "| query | rows | p50 | p99 |")?;
            writeln!(f, "|---|---:|---:|---:|")?;
            for q in &l.queries {
                writeln!(
                    f,
                    "| {} | {} | {:.1} | {:.1} |",
                    q.query, q.rows, q.latency_us.p50, q.latency_us.p99
                )?;
            }
        }
        if let (Some(peak), Some(now)) = (self.peak_rss_kib, self.rss_kib) {
            writeln!(
                f,
                "memory    peak RSS {:.1} MiB, at the end {:.1} MiB",
                peak as f64 / 1024.0,
                now as f64 / 1024.0
            )?;
        }
        write!(f, "elapsed   {:.1} s", self.elapsed_ms as f64 / 1_000.0)?;
        if self.time_bound_hit {
            write!(
                f,
                " (the time bound cut the run short: figures are partial)"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_bench_reports_every_figure_and_its_counts_add_up() {
        let options = BenchOptions {
            orders: 6,
            concurrency: 2,
            latency_orders: 4,
            max_seconds: 120,
            list_orders: 120,
            paced_orders: 5,
            ..BenchOptions::default()
        };
        let report = run(&options).expect("the bench runs (run `make build` first)");
        assert!(report.complete(), "{report}\n{report:?}");
        for r in [&report.memory, &report.sqlite, &report.native] {
            assert_eq!((r.orders, r.placed, r.delivered), (6, 6, 6), "{r:?}");
            assert_eq!(r.place_ms.samples, 6, "{r:?}");
            assert_eq!(r.saga_ms.samples, 6, "{r:?}");
            assert!(r.orders_per_s > 0.0, "{r:?}");
        }
        for r in [&report.memory, &report.sqlite] {
            let i = &r.instances;
            assert!(i.reused > i.instantiated, "instances are reused: {r:?}");
            assert_eq!(i.dropped_after_failure, 0, "{r:?}");
        }
        let c = &report.component_calls;
        assert_eq!(c.orders, 4);
        assert_eq!(c.reused_instance_us.samples, 4);
        assert!(c.place_us.p50 <= c.place_us.p99 && c.place_us.p99 <= c.place_us.max);
        assert!(c.place_and_saga_us.mean >= c.place_us.mean);
        assert_eq!(report.native_calls.orders, 4);
        let l = &report.stream_length;
        assert_eq!(l.shipments, 1, "{l:?}");
        assert_eq!(l.tracking_at_event_1_us.samples, 1, "{l:?}");
        assert_eq!(l.long_stream_events, 50, "{l:?}");
        assert!(l.p50_ratio > 0.0, "{l:?}");
        assert_eq!(l.scan_at_event_50_us.samples, 1, "{l:?}");
        assert!(l.scan_p50_ratio > 0.0, "{l:?}");
        assert!(report.component_native_ratio > 0.0);
        assert!(report.storage.file_and_wal_bytes > 0);
        assert!(report.storage.checkpointed_bytes > 0);
        assert_eq!(report.storage.delivered_orders, 6);
        assert!(report.storage.native_events_per_order >= 5.0, "{report}");
        // Placement 1, a saga that goes through 5 (decision 0029), pick-up
        // and delivery 1 each.
        assert_eq!(report.storage.native_appends_per_order, 8.0, "{report}");
        assert!(report.peak_rss_kib.is_some());
        for (p, path) in [
            (&report.paced_memory, "memory"),
            (&report.paced_sqlite, "sqlite"),
        ] {
            let r = &p.run;
            assert_eq!(r.path, path);
            assert_eq!((r.orders, r.placed, r.delivered), (5, 5, 5), "{p:?}");
            assert_eq!(r.place_ms.samples, 5, "{p:?}");
            assert_eq!(r.saga_ms.samples, 5, "{p:?}");
            assert!(p.offered_per_s >= 1.0, "{p:?}");
        }
        let json = serde_json::to_value(&report).unwrap();
        for key in ["paced_memory", "paced_sqlite"] {
            let paced = &json[key];
            for field in ["offered_per_s", "place_ms", "saga_ms", "delivered"] {
                assert!(paced.get(field).is_some(), "{key}.{field} in the JSON");
            }
            assert!(paced["place_ms"].get("p99").is_some(), "{key}.place_ms.p99");
        }
        let l = &report.listing;
        assert_eq!((l.store_orders, l.customer_orders), (240, 120));
        let rows = |name: &str| {
            l.queries
                .iter()
                .find(|q| q.query == name)
                .map(|q| (q.rows, q.latency_us.samples))
        };
        assert_eq!(rows("status=shipped"), Some((48, 200)), "{report}");
        assert_eq!(rows("saga=compensation-failed"), Some((3, 200)));
        assert_eq!(rows("(no filter)"), Some((50, 200)));
        assert_eq!(rows("(no filter), second page"), Some((50, 200)));
        assert!(
            l.queries
                .iter()
                .any(|q| q.query.starts_with("customer_id=") && q.rows == 50)
        );
        for key in [
            "memory",
            "sqlite",
            "native",
            "component_calls",
            "stream_length",
            "storage",
            "listing",
        ] {
            assert!(json.get(key).is_some(), "{key} in the JSON");
        }
        let text = report.to_string();
        for line in [
            "component, SQLite",
            "native",
            "instantiate",
            "reused instance",
            "component / native",
            "paced: placements offered at 80 %",
            "50 events",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
    }

    #[test]
    fn a_paced_run_fits_half_the_time_left_and_keeps_one_order() {
        let left = Duration::from_secs(10);
        assert_eq!(paced_count(1_000, 400.0, left), 1_000);
        assert_eq!(paced_count(1_000, 100.0, left), 500);
        assert_eq!(paced_count(1_000, 100.0, Duration::ZERO), 1);
    }

    #[test]
    fn percentiles_in_microseconds_use_the_nearest_rank() {
        let m = Micros::of((1..=100).map(f64::from).collect());
        assert_eq!((m.p50, m.p99, m.max, m.mean), (50.0, 99.0, 100.0, 50.5));
        assert_eq!(Micros::of(vec![]).samples, 0);
    }
}

/// Phase 5: pages of the order read model.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Listing {
    /// Orders in the store.
    pub store_orders: usize,
    /// Of which the one customer's.
    pub customer_orders: usize,
    /// The page size asked for.
    pub page: usize,
    /// One row per query.
    pub queries: Vec<ListingQuery>,
}

/// One query of [`Listing`], timed over repeated calls.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListingQuery {
    /// The query, as the `GET /orders` parameters that ask for it.
    pub query: String,
    /// Rows of the last answer.
    pub rows: usize,
    pub latency_us: Micros,
}

/// Writes `options.list_orders` orders of one customer and as many of 500
/// others into a fresh SQLite store (statuses spread over the lifecycle, 1 %
/// with a failed compensation), then times first pages of the read model.
fn listing(options: &BenchOptions) -> anyhow::Result<Listing> {
    use order_runtime::store::{AppendBatch, NewEvent, OrderQuery, SagaState, StreamAppend};
    use order_runtime::{EventStore as _, SqliteStore, SystemClock};

    let scratch = Scratch::new(options.dir.as_deref())?;
    let store = SqliteStore::open(
        scratch.0.join("listing.db"),
        std::sync::Arc::new(SystemClock),
    )?;
    let one = uuid::Uuid::from_u128(1).to_string();
    let total = options.list_orders * 2;
    let event = |event_type: &str, body: String| NewEvent {
        event_type: event_type.to_owned(),
        payload: format!(r#"{{"type":"{event_type}"{body}}}"#),
    };
    let placed_base: u64 = 1_780_000_000_000;
    for chunk in (0..total).collect::<Vec<_>>().chunks(500) {
        let mut batch = AppendBatch::default();
        for &n in chunk {
            let customer = if n % 2 == 0 {
                one.clone()
            } else {
                uuid::Uuid::from_u128(2 + (n as u128 % 500)).to_string()
            };
            let order = uuid::Uuid::from_u128(1 << 64 | n as u128).to_string();
            let mut events = vec![
                event(
                    "order-placed",
                    format!(
                        r#","order_id":"{order}","customer_id":"{customer}","placed_at":{},"total":{{"amount":6000,"currency":"USD"}}"#,
                        placed_base + n as u64 * 1_000
                    ),
                ),
                event("saga-started", String::new()),
            ];
            let steps: &[&str] = match n % 5 {
                0 => &[],
                1 => &["payment-confirmed"],
                2 => &["payment-confirmed", "order-shipped", "saga-completed"],
                3 => &[
                    "payment-confirmed",
                    "order-shipped",
                    "saga-completed",
                    "order-delivered",
                ],
                _ => &["order-cancelled", "saga-compensated"],
            };
            events.extend(steps.iter().map(|t| event(t, String::new())));
            if n % 100 == 1 {
                events.push(event(
                    "compensation-stalled",
                    r#","step":"process-payment""#.to_owned(),
                ));
            }
            batch.streams.push(StreamAppend {
                stream_id: format!("order-{order}"),
                expected_version: 0,
                tags: Vec::new(),
                events,
                state: None,
            });
        }
        store.append(&batch)?;
    }

    let page = 50;
    let base = OrderQuery {
        limit: page + 1,
        ..OrderQuery::default()
    };
    let cases: Vec<(String, OrderQuery)> = vec![
        (
            format!("customer_id={one}"),
            OrderQuery {
                customer_id: Some(one.clone()),
                ..base.clone()
            },
        ),
        (
            "status=shipped".to_owned(),
            OrderQuery {
                statuses: vec!["shipped".to_owned()],
                ..base.clone()
            },
        ),
        (
            "status=pending,confirmed".to_owned(),
            OrderQuery {
                statuses: vec!["pending".to_owned(), "confirmed".to_owned()],
                ..base.clone()
            },
        ),
        (
            "saga=compensation-failed".to_owned(),
            OrderQuery {
                sagas: vec![SagaState::CompensationFailed],
                ..base.clone()
            },
        ),
        ("(no filter)".to_owned(), base.clone()),
    ];
    let mut queries = Vec::new();
    for (name, query) in cases {
        // 200 calls of `query`, timed; the last answer's rows.
        let pages = |query: &OrderQuery| -> anyhow::Result<(Vec<_>, Micros)> {
            let mut samples = Vec::new();
            let mut found = Vec::new();
            for _ in 0..200 {
                let (answer, took) = timed(|| Ok(store.list_orders(query)?))?;
                samples.push(us(took));
                found = answer;
            }
            Ok((found, Micros::of(samples)))
        };
        let (found, latency_us) = pages(&query)?;
        queries.push(ListingQuery {
            query: name.clone(),
            rows: found.len().min(page),
            latency_us,
        });
        if let Some(last) = found.get(page - 1) {
            let next = OrderQuery {
                after: Some(last.cursor()),
                ..query
            };
            let (found, latency_us) = pages(&next)?;
            queries.push(ListingQuery {
                query: format!("{name}, second page"),
                rows: found.len().min(page),
                latency_us,
            });
        }
    }
    Ok(Listing {
        store_orders: total,
        customer_orders: options.list_orders,
        page,
        queries,
    })
}
