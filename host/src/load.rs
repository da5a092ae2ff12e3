//! `order-host load`: places many orders at once against the embedded
//! component, cancels some of them shortly after, runs every saga to its end
//! with the saga driver, has the simulated carrier pick up and deliver what
//! shipped, and reports throughput and latency.
//!
//! The work is a pure function of the seed and the order count: order `i`
//! always has the same id, customer and lines ([`order_command`]). So the
//! same command run again after a crash places the same orders (an exact
//! repeat of `place-order` is accepted and changes nothing), cancels the
//! same ones (a refused cancellation is fine), finds every saga where the
//! crash left it, and finishes the work. With a durable store and a durable
//! simulation (`--sim-state`) nothing is charged, allocated, shipped or
//! delivered twice.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::Host;
use crate::bindings::orders::{CancelOrderCommand, OrderView, PlaceOrderCommand};
use crate::bindings::types::{CommandError, OrderItemInput, OrderStatus, PaymentMethod};
use crate::carrier::simulated::{CarrierSimError, ShipmentState, SimShipment};
use crate::service::ServiceError;
use crate::simulation::fixtures::{address_at, usd};
use crate::simulation::rng::{Fnv64, splitmix64};

/// How a load run goes.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Orders to place (indices `0..orders`).
    pub orders: usize,
    /// Orders placed at once, and saga driver workers.
    pub concurrency: usize,
    /// Cancel every K-th order (indices K-1, 2K-1, ...); 0 never cancels.
    pub cancel_every: usize,
    /// About how long after placing an order it is cancelled (each order
    /// waits between none and twice this, derived from its index).
    pub cancel_after: Duration,
    /// How long to wait, once every order is placed and every cancellation
    /// made, for the last sagas to finish.
    pub wait: Duration,
    /// The seed the orders are derived from.
    pub seed: u64,
    /// Units on the shelf of every product not stocked yet; `None` keeps
    /// the simulation's default.
    pub stock: Option<u64>,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Offer placements on a fixed schedule instead of as fast as the
    /// placers go: order `i` is due `i / per_second` after the start (an
    /// open loop). Its `place-order` latency is then counted from when it
    /// was due, so a placement that waited for a free placer counts its
    /// wait too.
    pub pace: Option<Pace>,
}

/// A fixed rate of placements (see [`LoadOptions::pace`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    /// Placements offered per second (above zero).
    pub per_second: f64,
}

impl Pace {
    /// When order `index` is due, counted from the run's start.
    pub fn due(&self, index: usize) -> Duration {
        Duration::from_secs_f64(index as f64 / self.per_second.max(1e-3))
    }
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            orders: 100,
            concurrency: 4,
            cancel_every: 0,
            cancel_after: Duration::from_millis(5),
            wait: Duration::from_secs(60),
            seed: 1,
            stock: None,
            progress: false,
            pace: None,
        }
    }
}

/// Latency percentiles in milliseconds (nearest rank).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// How many samples.
    pub samples: usize,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    pub(crate) fn of(mut samples: Vec<f64>) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            // Nearest rank: the smallest sample with at least p of them at or below it.
            let index = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1;
            samples[index]
        };
        Self {
            samples: samples.len(),
            p50: rank(0.50),
            p95: rank(0.95),
            p99: rank(0.99),
            max: samples[samples.len() - 1],
        }
    }
}

/// What a load run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadSummary {
    /// The orders of the workload.
    pub orders: usize,
    /// `place-order` calls this run made that the component accepted
    /// (including exact repeats of orders placed before a restart).
    pub placed: usize,
    /// Orders an earlier run had placed and that had moved on since.
    pub already_placed: usize,
    /// Cancellations this run asked for.
    pub cancel_requests: usize,
    /// Of those, the ones the component refused (the order had shipped, or
    /// was cancelled already).
    pub cancel_refused: usize,
    /// Orders delivered (also by earlier runs).
    pub delivered: usize,
    /// Orders cancelled (on request or by a failed saga).
    pub cancelled: usize,
    /// Orders neither delivered nor cancelled at the end.
    pub unfinished: usize,
    /// Sagas still scheduled at the end.
    pub sagas_unfinished: usize,
    /// Orders whose saga finished during this run.
    pub sagas_finished_this_run: usize,
    /// Wall time of the run, in milliseconds.
    pub elapsed_ms: u64,
    /// Sagas finished during this run per second.
    pub throughput_per_s: f64,
    /// Latency of `place-order` calls of this run.
    pub place_latency_ms: Percentiles,
    /// From an order's placement to the end of its saga (completed or
    /// compensated), for orders placed during this run.
    pub saga_latency_ms: Percentiles,
    /// Calls that failed unexpectedly (counted, first few kept).
    pub errors: usize,
    /// The first unexpected errors.
    pub error_samples: Vec<String>,
    /// The process's peak resident memory (`VmHWM` of `/proc/self/status`)
    /// at the end of the run, in KiB; `None` where the system does not
    /// tell.
    pub peak_rss_kib: Option<u64>,
    /// Its resident memory at the end of the run (`VmRSS`), in KiB.
    pub rss_kib: Option<u64>,
}

/// The process's (peak, current) resident memory in KiB, read from one
/// snapshot of `/proc/self/status` so that the two agree with each other
/// even while other threads allocate.
pub fn resident_memory_kib() -> (Option<u64>, Option<u64>) {
    match std::fs::read_to_string("/proc/self/status") {
        Ok(status) => (
            status_field_kib(&status, "VmHWM"),
            status_field_kib(&status, "VmRSS"),
        ),
        Err(_) => (None, None),
    }
}

/// A `Name:   123 kB` line of a `/proc/<pid>/status` text, in KiB.
fn status_field_kib(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

impl LoadSummary {
    /// True when every order ended delivered or cancelled, every saga
    /// finished and nothing failed unexpectedly.
    pub fn complete(&self) -> bool {
        self.unfinished == 0 && self.sagas_unfinished == 0 && self.errors == 0
    }
}

/// The run ended with work left (see the summary printed before).
#[derive(Debug, thiserror::Error)]
#[error(
    "the load did not finish: {unfinished} order(s) not delivered or cancelled, {sagas} saga(s) still scheduled, {errors} unexpected error(s); run the same command again to resume"
)]
pub struct Incomplete {
    pub unfinished: usize,
    pub sagas: usize,
    pub errors: usize,
}

/// The namespace of every id the workload derives.
const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6f6d_732d_6c6f_6164_8000_0000_0000_0001);

/// Products in the catalogue, and customers placing orders.
const PRODUCTS: u64 = 16;
const CUSTOMERS: u64 = 64;

fn derived(seed: u64, what: &str) -> String {
    uuid::Uuid::new_v5(&NAMESPACE, format!("{seed}/{what}").as_bytes()).to_string()
}

fn random(seed: u64, what: &str, index: u64) -> u64 {
    Fnv64::new().u64(seed).str(what).u64(index).finish()
}

/// The id of order `index` of the workload of `seed`.
pub fn order_id(seed: u64, index: usize) -> String {
    derived(seed, &format!("order/{index}"))
}

/// The product ids of the workload's catalogue.
pub fn product_ids(seed: u64) -> Vec<String> {
    (0..PRODUCTS)
        .map(|p| derived(seed, &format!("product/{p}")))
        .collect()
}

/// Order `index` of the workload of `seed`: one to three lines of distinct
/// products, one to three units each.
pub fn order_command(seed: u64, index: usize) -> PlaceOrderCommand {
    let i = index as u64;
    let bits = random(seed, "order", i);
    let lines = 1 + bits % 3;
    let first = splitmix64(bits) % PRODUCTS;
    let items = (0..lines)
        .map(|line| {
            let product = (first + line * 5) % PRODUCTS;
            let quantity = 1 + (splitmix64(bits ^ (line + 1)) % 3) as u32;
            OrderItemInput {
                item_id: derived(seed, &format!("order/{index}/line/{line}")),
                product_id: derived(seed, &format!("product/{product}")),
                sku: format!("LOAD-{product:03}"),
                product_name: format!("Load test product {product}"),
                quantity,
                unit_price: usd(500 + random(seed, "price", product) % 9_500),
            }
        })
        .collect();
    let customer = splitmix64(bits ^ 0x00C0_FFEE) % CUSTOMERS;
    let address = address_at(format!("{} Load Street", 1 + i % 999));
    PlaceOrderCommand {
        order_id: order_id(seed, index),
        customer_id: derived(seed, &format!("customer/{customer}")),
        items,
        shipping_address: address.clone(),
        billing_address: address,
        payment_method: PaymentMethod::CreditCard,
    }
}

/// Whether order `index` is one the workload cancels.
pub fn is_cancelled(index: usize, cancel_every: usize) -> bool {
    cancel_every > 0 && index % cancel_every == cancel_every - 1
}

/// The counters the threads share.
#[derive(Default)]
struct Tally {
    placed: usize,
    already_placed: usize,
    cancel_requests: usize,
    cancel_refused: usize,
    place_latency_ms: Vec<f64>,
    errors: usize,
    error_samples: Vec<String>,
}

impl Tally {
    fn error(&mut self, what: String) {
        tracing::warn!("{what}");
        self.errors += 1;
        if self.error_samples.len() < 10 {
            self.error_samples.push(what);
        }
    }
}

fn lock_tally(t: &Mutex<Tally>) -> std::sync::MutexGuard<'_, Tally> {
    // Every update is a single counter or push.
    t.lock().unwrap_or_else(PoisonError::into_inner)
}

fn invalid_transition(error: &ServiceError) -> bool {
    matches!(
        error.command_error(),
        Some(CommandError::InvalidTransition(_))
    )
}

/// Runs a call again after a host failure or a lost race (not a
/// refusal), a few times, a little later each time.
fn with_retries<R>(mut call: impl FnMut() -> Result<R, ServiceError>) -> Result<R, ServiceError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match call() {
            Err(e) if attempt < 5 && (e.is_conflict() || e.command_error().is_none()) => {
                std::thread::sleep(Duration::from_millis(10 * attempt));
            }
            other => return other,
        }
    }
}

fn bar(options: &LoadOptions, len: usize, template: &str) -> ProgressBar {
    if !options.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Whether a progress bar makes sense: stderr is a terminal.
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// How often the saga driver looks for due sagas it was not told about.
const DRIVER_POLL: Duration = Duration::from_millis(100);
/// How often the monitor reads every saga timer, for sagas that finished
/// without the driver (each read copies every timer).
const TIMERS_READ_EVERY: Duration = Duration::from_millis(500);

/// Runs the workload on `host` and reports what happened. Resumable: see
/// the module documentation.
///
/// Placing, cancelling, the saga driver and deliveries run at once: an
/// order is handed to the carrier as soon as its saga has finished (it no
/// longer has a saga timer), as a warehouse would.
pub fn run(host: &Host, options: &LoadOptions) -> anyhow::Result<LoadSummary> {
    let started = Instant::now();
    let run_start_ms = host.clock.now_ms();
    if let Some(units) = options.stock {
        host.sim.inventory.set_default_stock(units);
    }
    let n = options.orders;
    let workers = options.concurrency.max(1);
    let ids: Vec<String> = (0..n).map(|i| order_id(options.seed, i)).collect();
    let tally = Mutex::new(Tally::default());
    let next = AtomicUsize::new(0);
    // Orders placed (or found placed) and not yet looked at by the monitor.
    let placed: Mutex<Vec<usize>> = Mutex::new(Vec::new());
    let placers_done = AtomicUsize::new(0);
    let canceller_done = AtomicBool::new(false);
    let stop_driver = Arc::new(AtomicBool::new(false));
    let ends: Mutex<Vec<Option<OrderEnd>>> = Mutex::new((0..n).map(|_| None).collect());
    let progress = bar(
        options,
        n,
        "{spinner} orders settled [{bar:40}] {pos}/{len} {msg} ({elapsed})",
    );
    let settled = AtomicUsize::new(0);
    let (settle_tx, settle_rx) = mpsc::channel::<usize>();
    // Sagas the driver finished: most orders are handed on from here; the
    // timers are read now and then for the rest (a saga that another
    // caller finished).
    let (finished_tx, finished_rx) = mpsc::channel::<String>();
    let index_of: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(index, id)| (id.as_str(), index))
        .collect();
    let settle_rx = Mutex::new(settle_rx);

    std::thread::scope(|scope| {
        let driver = host
            .driver
            .clone()
            .with_workers(workers)
            .notify_finished(finished_tx);
        let stop = stop_driver.clone();
        // Woken by every placement and cancellation; the poll is a fallback.
        scope.spawn(move || driver.run(stop, DRIVER_POLL));

        let (cancel_tx, cancel_rx) = mpsc::channel::<(String, Instant)>();
        scope.spawn(|| {
            for (order_id, at) in cancel_rx {
                if let Some(wait) = at.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                cancel(host, &order_id, &tally);
            }
            canceller_done.store(true, Ordering::SeqCst);
        });

        for _ in 0..workers {
            let cancel_tx = cancel_tx.clone();
            let (next, placed, tally, placers_done) = (&next, &placed, &tally, &placers_done);
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    if index >= n {
                        break;
                    }
                    // Paced: wait for the order's turn, and count from it.
                    let due = options.pace.map(|p| started + p.due(index));
                    if let Some(wait) = due.and_then(|d| d.checked_duration_since(Instant::now())) {
                        std::thread::sleep(wait);
                    }
                    place(host, options, index, due, tally);
                    placed
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(index);
                    if is_cancelled(index, options.cancel_every) {
                        let spread = random(options.seed, "cancel", index as u64) % 201;
                        let delay = options.cancel_after.mul_f64(spread as f64 / 100.0);
                        // The canceller outlives every placer.
                        let _ =
                            cancel_tx.send((order_id(options.seed, index), Instant::now() + delay));
                    }
                }
                placers_done.fetch_add(1, Ordering::SeqCst);
            });
        }
        drop(cancel_tx);

        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let next = settle_rx
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .recv();
                    let Ok(index) = next else { break };
                    let end = settle(host, &ids[index], &tally);
                    if end.terminal() {
                        settled.fetch_add(1, Ordering::SeqCst);
                        progress.inc(1);
                    }
                    ends.lock().unwrap_or_else(PoisonError::into_inner)[index] = Some(end);
                }
            });
        }

        // The monitor: hands every order whose saga finished to the
        // carrier, and ends the run once every saga has.
        let mut waiting: Vec<usize> = Vec::new();
        let mut deadline = None;
        let mut logged = None;
        let mut finished: HashSet<usize> = HashSet::new();
        let mut timers_read = Instant::now();
        loop {
            if let Ok(id) = finished_rx.recv_timeout(Duration::from_millis(25)) {
                finished.extend(index_of.get(id.as_str()));
            }
            finished.extend(
                finished_rx
                    .try_iter()
                    .filter_map(|id| index_of.get(id.as_str()).copied()),
            );
            // Taken before the timers are read: each of these has its timer
            // written (place-order writes it) before it was listed.
            waiting.append(&mut placed.lock().unwrap_or_else(PoisonError::into_inner));
            // The settlers outlive the monitor.
            waiting.retain(|index| {
                if finished.remove(index) {
                    let _ = settle_tx.send(*index);
                    return false;
                }
                true
            });
            if timers_read.elapsed() >= TIMERS_READ_EVERY {
                timers_read = Instant::now();
                match host.store.all_timers() {
                    Ok(timers) => {
                        let pending: HashSet<String> =
                            timers.into_iter().map(|t| t.saga_id).collect();
                        waiting.retain(|index| {
                            if pending.contains(&ids[*index]) {
                                return true;
                            }
                            let _ = settle_tx.send(*index);
                            false
                        });
                    }
                    Err(error) => {
                        lock_tally(&tally).error(format!("reading the saga timers: {error}"));
                    }
                }
            }
            let in_flight = waiting.len();
            let placed_so_far = next.load(Ordering::SeqCst).min(n);
            progress.set_message(format!(
                "(placed {placed_so_far}/{n}, {in_flight} sagas running)"
            ));
            // The same for logs and scripts (`RUST_LOG=order_host::load=debug`).
            let now_settled = settled.load(Ordering::SeqCst);
            if logged != Some(now_settled) {
                logged = Some(now_settled);
                tracing::debug!(
                    "progress: {now_settled}/{n} orders settled, {placed_so_far} placed, {in_flight} sagas running"
                );
            }
            let work_done = placers_done.load(Ordering::SeqCst) == workers
                && canceller_done.load(Ordering::SeqCst)
                && placed
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .is_empty();
            if work_done && waiting.is_empty() {
                break;
            }
            if work_done {
                let deadline = *deadline.get_or_insert_with(|| Instant::now() + options.wait);
                if Instant::now() >= deadline {
                    break;
                }
            }
        }
        drop(settle_tx);
        stop_driver.store(true, Ordering::SeqCst);
        host.driver.wake();
    });

    // Orders not settled yet (their saga did not finish in time, or the
    // order was read before it ended): read them again, deliver what shipped.
    let mut ends = ends.into_inner().unwrap_or_else(PoisonError::into_inner);
    for (index, end) in ends.iter_mut().enumerate() {
        if !end.as_ref().is_some_and(OrderEnd::terminal) {
            let again = settle(host, &ids[index], &tally);
            if again.terminal() {
                progress.inc(1);
            }
            *end = Some(again);
        }
    }
    progress.finish_and_clear();
    let ours: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let sagas_unfinished = match host.store.all_timers() {
        Ok(timers) => timers
            .iter()
            .filter(|t| ours.contains(t.saga_id.as_str()))
            .count(),
        Err(error) => {
            lock_tally(&tally).error(format!("reading the saga timers: {error}"));
            0
        }
    };

    let ends: Vec<OrderEnd> = ends.into_iter().flatten().collect();
    let tally = tally.into_inner().unwrap_or_else(PoisonError::into_inner);
    let elapsed = started.elapsed();
    let count = |status: OrderStatus| ends.iter().filter(|e| e.status == Some(status)).count();
    let delivered = count(OrderStatus::Delivered);
    let cancelled = count(OrderStatus::Cancelled);
    let sagas_finished_this_run = ends
        .iter()
        .filter(|e| e.finished_at.is_some_and(|t| t >= run_start_ms))
        .count();
    let saga_latency = ends
        .iter()
        .filter_map(|e| match (e.placed_at, e.finished_at) {
            (Some(placed), Some(finished)) if placed >= run_start_ms => {
                Some(finished.saturating_sub(placed) as f64)
            }
            _ => None,
        })
        .collect();
    let (peak_rss_kib, rss_kib) = resident_memory_kib();
    Ok(LoadSummary {
        orders: n,
        placed: tally.placed,
        already_placed: tally.already_placed,
        cancel_requests: tally.cancel_requests,
        cancel_refused: tally.cancel_refused,
        delivered,
        cancelled,
        unfinished: n - delivered - cancelled,
        sagas_unfinished,
        sagas_finished_this_run,
        elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        throughput_per_s: sagas_finished_this_run as f64 / elapsed.as_secs_f64().max(1e-3),
        place_latency_ms: Percentiles::of(tally.place_latency_ms),
        saga_latency_ms: Percentiles::of(saga_latency),
        errors: tally.errors,
        error_samples: tally.error_samples,
        peak_rss_kib,
        rss_kib,
    })
}

/// Places order `index`; its latency counts from `due` when it was paced.
fn place(
    host: &Host,
    options: &LoadOptions,
    index: usize,
    due: Option<Instant>,
    tally: &Mutex<Tally>,
) {
    let cmd = order_command(options.seed, index);
    let began = due.unwrap_or_else(Instant::now);
    let placed = with_retries(|| host.service.retrying(|svc| svc.place_order(&cmd)));
    let took = began.elapsed().as_secs_f64() * 1_000.0;
    let mut t = lock_tally(tally);
    match placed {
        Ok(_) => {
            t.placed += 1;
            t.place_latency_ms.push(took);
        }
        // Placed by a run before a restart, and moved on since.
        Err(e) if invalid_transition(&e) => t.already_placed += 1,
        Err(e) => t.error(format!("placing order {}: {e}", cmd.order_id)),
    }
}

fn cancel(host: &Host, order_id: &str, tally: &Mutex<Tally>) {
    let cmd = CancelOrderCommand {
        order_id: order_id.to_owned(),
        reason: "the customer changed their mind (load test)".to_owned(),
        cancelled_by: "customer".to_owned(),
    };
    let result = with_retries(|| host.service.retrying(|svc| svc.cancel_order(&cmd)));
    let mut t = lock_tally(tally);
    t.cancel_requests += 1;
    match result {
        Ok(_) => {}
        // Shipped already, or cancelled already (by its saga, or before a restart).
        Err(e) if invalid_transition(&e) => t.cancel_refused += 1,
        Err(e) => t.error(format!("cancelling order {order_id}: {e}")),
    }
}

/// How one order ended, as far as the summary cares.
struct OrderEnd {
    status: Option<OrderStatus>,
    placed_at: Option<u64>,
    finished_at: Option<u64>,
}

impl OrderEnd {
    /// Delivered or cancelled: nothing left to do for this order.
    fn terminal(&self) -> bool {
        matches!(
            self.status,
            Some(OrderStatus::Delivered | OrderStatus::Cancelled)
        )
    }
}

/// Delivers an order that shipped and reads how the order ended.
fn settle(host: &Host, order_id: &str, tally: &Mutex<Tally>) -> OrderEnd {
    let id = order_id.to_owned();
    let mut end = OrderEnd {
        status: None,
        placed_at: None,
        finished_at: None,
    };
    let history = with_retries(|| host.service.order_history(&id));
    match history {
        Ok(events) => {
            let at = |kinds: &[&str]| {
                events
                    .iter()
                    .find(|e| kinds.contains(&e.event_type.as_str()))
                    .map(|e| e.recorded_at)
            };
            end.placed_at = at(&["order-placed"]);
            end.finished_at = at(&["saga-completed", "saga-compensated"]);
        }
        Err(e) => {
            lock_tally(tally).error(format!("reading order {order_id}: {e}"));
            return end;
        }
    }
    let order = match get_order(host, order_id) {
        Ok(order) => order,
        Err(e) => {
            lock_tally(tally).error(format!("reading order {order_id}: {e}"));
            return end;
        }
    };
    end.status = Some(order.status);
    if order.status == OrderStatus::Shipped {
        match deliver(host, &order) {
            Ok(()) => end.status = Some(OrderStatus::Delivered),
            Err(e) => lock_tally(tally).error(format!("delivering order {order_id}: {e:#}")),
        }
    }
    end
}

fn get_order(host: &Host, order_id: &str) -> Result<OrderView, ServiceError> {
    let id = order_id.to_owned();
    with_retries(|| host.service.get_order(&id))
}

/// The event of a carrier's step: what the step returned or, when the
/// shipment already stands in one of the states `past` it, the event the
/// carrier recorded for it then.
fn carrier_event<E>(
    step: Result<E, CarrierSimError>,
    past: &[ShipmentState],
    recorded: impl FnOnce() -> anyhow::Result<E>,
) -> anyhow::Result<E> {
    match step {
        Ok(event) => Ok(event),
        Err(CarrierSimError::WrongState { state, .. }) if past.contains(&state) => recorded(),
        Err(e) => Err(e.into()),
    }
}

/// The carrier picks the parcel up and delivers it; each event goes to the
/// component as the carrier's webhook would bring it. After a restart the
/// carrier may have done either already: its record gives the event again
/// (same time, so the component recognises a duplicate).
fn deliver(host: &Host, order: &OrderView) -> anyhow::Result<()> {
    let shipping = order
        .shipping
        .as_ref()
        .context("a shipped order without shipping details")?;
    let shipment_id = shipping.shipment_id.as_str();
    let carrier = &host.sim.carrier;
    let recorded = || -> anyhow::Result<SimShipment> {
        carrier
            .shipment(shipment_id)
            .with_context(|| format!("the carrier has no shipment {shipment_id}"))
    };
    let picked = carrier_event(
        carrier.pick_up(shipment_id),
        &[ShipmentState::PickedUp, ShipmentState::Delivered],
        || {
            recorded()?
                .picked_up_event()
                .context("a picked-up shipment without its pickup time")
        },
    )?;
    with_retries(|| {
        host.service
            .retrying(|svc| svc.on_shipment_picked_up(&picked))
    })?;
    let signed_by = Some("Load Test Recipient".to_owned());
    let delivered = carrier_event(
        carrier.deliver(shipment_id, signed_by),
        &[ShipmentState::Delivered],
        || {
            recorded()?
                .delivered_event()
                .context("a delivered shipment without its delivery time")
        },
    )?;
    with_retries(|| {
        host.service
            .retrying(|svc| svc.on_shipment_delivered_by_carrier(&delivered))
    })?;
    Ok(())
}

impl std::fmt::Display for LoadSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let latency = |p: &Percentiles| {
            if p.samples == 0 {
                "no samples".to_owned()
            } else {
                format!(
                    "p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} samples)",
                    p.p50, p.p95, p.p99, p.max, p.samples
                )
            }
        };
        writeln!(
            f,
            "orders        {} ({} placed by this run, {} placed before)",
            self.orders, self.placed, self.already_placed
        )?;
        writeln!(f, "delivered     {}", self.delivered)?;
        writeln!(
            f,
            "cancelled     {} ({} cancellations asked, {} refused)",
            self.cancelled, self.cancel_requests, self.cancel_refused
        )?;
        if self.unfinished > 0 || self.sagas_unfinished > 0 {
            writeln!(
                f,
                "unfinished    {} order(s), {} saga(s) still scheduled",
                self.unfinished, self.sagas_unfinished
            )?;
        }
        writeln!(
            f,
            "throughput    {:.1} sagas/s ({} finished in {:.2} s)",
            self.throughput_per_s,
            self.sagas_finished_this_run,
            self.elapsed_ms as f64 / 1_000.0
        )?;
        writeln!(f, "place-order   {}", latency(&self.place_latency_ms))?;
        write!(f, "saga          {}", latency(&self.saga_latency_ms))?;
        if let (Some(peak), Some(now)) = (self.peak_rss_kib, self.rss_kib) {
            write!(
                f,
                "\nmemory        peak RSS {:.1} MiB, at the end {:.1} MiB",
                peak as f64 / 1024.0,
                now as f64 / 1024.0
            )?;
        }
        if self.errors > 0 {
            write!(f, "\nerrors        {}", self.errors)?;
            for e in &self.error_samples {
                write!(f, "\n  {e}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workload_is_a_function_of_the_seed_and_the_index() {
        assert_eq!(order_command(7, 3), order_command(7, 3));
        assert_ne!(order_command(7, 3).order_id, order_command(7, 4).order_id);
        assert_ne!(order_command(7, 3).order_id, order_command(8, 3).order_id);
        let products: HashSet<String> = product_ids(7).into_iter().collect();
        for index in 0..200 {
            let cmd = order_command(7, index);
            assert!((1..=3).contains(&cmd.items.len()));
            let mut seen = HashSet::new();
            for item in &cmd.items {
                assert!(products.contains(&item.product_id));
                assert!(seen.insert(item.product_id.clone()), "distinct products");
                assert!((1..=3).contains(&item.quantity));
            }
        }
    }

    #[test]
    fn every_kth_order_is_cancelled() {
        let cancelled: Vec<usize> = (0..10).filter(|i| is_cancelled(*i, 3)).collect();
        assert_eq!(cancelled, [2, 5, 8]);
        assert!(!(0..10).any(|i| is_cancelled(i, 0)));
    }

    #[test]
    fn a_load_settles_every_order_and_a_second_run_changes_nothing() {
        let host = Host::start(crate::HostOptions {
            runtime: crate::RuntimeConfig {
                max_instances: 16,
                ..crate::RuntimeConfig::default()
            },
            ..crate::HostOptions::in_memory()
        })
        .expect("the host starts with the embedded component (run `make build` first)");
        let options = LoadOptions {
            orders: 20,
            concurrency: 2,
            cancel_every: 4,
            cancel_after: Duration::ZERO,
            wait: Duration::from_secs(30),
            seed: 9,
            stock: None,
            progress: false,
            pace: None,
        };
        let first = run(&host, &options).unwrap();
        assert!(first.complete(), "{first}");
        assert_eq!((first.placed, first.already_placed), (20, 0));
        assert_eq!(first.cancel_requests, 5);
        assert_eq!(first.delivered + first.cancelled, 20);
        assert!(first.cancelled >= 5 - first.cancel_refused, "{first}");
        assert_eq!(first.place_latency_ms.samples, 20);
        assert_eq!(first.saga_latency_ms.samples, 20);
        let charges = host.sim.payment.charges().len();
        let shipments = host.sim.carrier.shipments().len();

        let again = run(&host, &options).unwrap();
        assert!(again.complete(), "{again}");
        assert_eq!(again.placed + again.already_placed, 20);
        assert_eq!(again.cancel_refused, 5);
        assert_eq!(
            (again.delivered, again.cancelled),
            (first.delivered, first.cancelled)
        );
        assert_eq!(again.sagas_finished_this_run, 0);
        assert_eq!(host.sim.payment.charges().len(), charges);
        assert_eq!(host.sim.carrier.shipments().len(), shipments);
    }

    #[test]
    fn resident_memory_is_read_where_the_system_tells_it() {
        let status = "Name:\tx\nVmHWM:\t  31456 kB\nVmRSS:\t   31412 kB\nThreads:\t3\n";
        assert_eq!(status_field_kib(status, "VmHWM"), Some(31456));
        assert_eq!(status_field_kib(status, "VmRSS"), Some(31412));
        assert_eq!(status_field_kib(status, "Threads"), None, "not in kB");
        assert_eq!(status_field_kib(status, "NoSuchField"), None);
        let (peak, now) = resident_memory_kib();
        if cfg!(target_os = "linux") {
            // One snapshot: the kernel reports the peak as at least the
            // resident size it reports beside it.
            let (peak, now) = (peak.expect("VmHWM"), now.expect("VmRSS"));
            assert!(peak >= now && now > 0, "{peak} {now}");
        } else {
            assert_eq!((peak, now), (None, None), "no /proc: nothing is made up");
        }
    }

    #[test]
    fn a_paced_order_is_due_at_its_index_over_the_rate() {
        let pace = Pace { per_second: 200.0 };
        assert_eq!(pace.due(0), Duration::ZERO);
        assert_eq!(pace.due(1), Duration::from_millis(5));
        assert_eq!(pace.due(400), Duration::from_secs(2));
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let p = Percentiles::of((1..=100).map(f64::from).collect());
        assert_eq!((p.p50, p.p95, p.p99, p.max), (50.0, 95.0, 99.0, 100.0));
        assert_eq!(Percentiles::of(vec![]).samples, 0);
        assert_eq!(Percentiles::of(vec![3.0]).p99, 3.0);
    }
}
