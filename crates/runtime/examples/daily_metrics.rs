//! What `get-daily-metrics` costs for a busy day, through the component, on
//! the in-memory and on the SQLite store: a day's orders are placed with
//! `place-order` (one in ten then cancelled), and the day's query is timed;
//! beside it, a day of as many facts in the single `metrics-<day>` stream
//! that earlier versions wrote, and the 30 queries of the console's metrics
//! page (the busy day and 29 quiet ones), and the store's share of the
//! query (its reads without the component). Prints one line per figure.
//!
//! `cargo run -p order-runtime --example daily_metrics -- [ORDERS]` (the
//! day's orders, default 10,000). Build the component first (`make build`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use order_runtime::bindings::orders::{CancelOrderCommand, PlaceOrderCommand};
use order_runtime::bindings::types::{OrderItemInput, PaymentMethod};
use order_runtime::simulation::fixtures::{address, usd};
use order_runtime::store::{AppendBatch, NewEvent, StreamAppend};
use order_runtime::{Host, HostOptions, ManualClock, StoreChoice};

/// Noon of 2026-12-01 (UTC), in milliseconds: the busy day.
const DAY_MS: u64 = 1_796_126_400_000;
const DAY: &str = "2026-12-01";
/// The day before: the same number of facts in the earlier layout.
const EARLIER_DAY: &str = "2026-11-30";
const RUNS: usize = 5;

fn main() -> anyhow::Result<()> {
    let orders: usize = match std::env::args().nth(1) {
        Some(text) => text
            .parse()
            .map_err(|e| anyhow::anyhow!("the order count `{text}`: {e}"))?,
        None => 10_000,
    };
    let dir = tempfile::tempdir()?;
    println!("get-daily-metrics of a day with {orders} orders ({RUNS} runs each, min / median)");
    for (name, store) in [
        ("memory", StoreChoice::Memory),
        ("sqlite", StoreChoice::Sqlite(dir.path().join("metrics.db"))),
    ] {
        measure(name, store, orders)?;
    }
    Ok(())
}

fn measure(name: &str, store: StoreChoice, orders: usize) -> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::new(DAY_MS));
    let host = Host::start(HostOptions {
        store,
        clock: clock.clone(),
        ..HostOptions::in_memory()
    })?;
    let began = Instant::now();
    let mut revenue = 0;
    let mut cancelled = 0;
    for i in 0..orders {
        let cmd = order(i);
        let placed = host
            .service
            .place_order(&cmd)
            .with_context(|| format!("placing order {i}"))?;
        revenue += placed.total.amount;
        if i % 10 == 0 {
            host.service
                .cancel_order(&CancelOrderCommand {
                    order_id: cmd.order_id.clone(),
                    reason: "changed my mind".to_owned(),
                    cancelled_by: "customer".to_owned(),
                })
                .with_context(|| format!("cancelling order {i}"))?;
            cancelled += 1;
        }
    }
    let placing = began.elapsed();
    write_earlier_layout(&host, orders)?;

    let (min, median) = time(|| {
        let m = host.service.get_daily_metrics(DAY)?;
        let usd = m.totals.iter().find(|t| t.currency == "USD");
        if m.order_count as usize != orders
            || m.cancellation_count != cancelled
            || usd.map(|t| t.total_revenue) != Some(revenue)
        {
            bail!("the metrics of {DAY} do not match the orders placed: {m:?}");
        }
        Ok(())
    })?;
    println!(
        "{name:6}  one fact per stream   {:8.1} / {:8.1} ms  ({orders} orders placed in {:.1} s)",
        ms(min),
        ms(median),
        placing.as_secs_f64()
    );

    // The store's share: the same reads without the component.
    let (min, median) = time(|| {
        let mut facts = host.store.load(&format!("metrics-{DAY}"))?.len();
        for stream in host.store.find_streams(&format!("metrics-{DAY}"))? {
            facts += host.store.load(&stream)?.len();
        }
        if facts < orders {
            bail!("the store holds {facts} facts of {DAY}");
        }
        Ok(())
    })?;
    println!(
        "{name:6}  the store's reads     {:8.1} / {:8.1} ms  (find-streams and every load, no component)",
        ms(min),
        ms(median)
    );

    let (min, median) = time(|| {
        let m = host.service.get_daily_metrics(EARLIER_DAY)?;
        if m.order_count as usize != orders {
            bail!(
                "the metrics of {EARLIER_DAY} count {} orders",
                m.order_count
            );
        }
        Ok(())
    })?;
    println!(
        "{name:6}  one stream per day    {:8.1} / {:8.1} ms  (the layout of earlier versions)",
        ms(min),
        ms(median)
    );

    let (min, median) = time(|| {
        // 2026-11-02 ..= 2026-12-01.
        let days = (2..=30).map(|d| format!("2026-11-{d:02}"));
        for date in days.chain([DAY.to_owned()]) {
            host.service.get_daily_metrics(&date)?;
        }
        Ok(())
    })?;
    println!(
        "{name:6}  30 days, 1 busy       {:8.1} / {:8.1} ms  (the console's metrics page)",
        ms(min),
        ms(median)
    );
    Ok(())
}

/// `orders` facts of [`EARLIER_DAY`] in its one stream, as earlier
/// versions appended them.
fn write_earlier_layout(host: &Host, orders: usize) -> anyhow::Result<()> {
    let stream_id = format!("metrics-{EARLIER_DAY}");
    let mut version = 0;
    for chunk in (0..orders).collect::<Vec<_>>().chunks(1_000) {
        let events: Vec<NewEvent> = chunk
            .iter()
            .map(|i| NewEvent {
                event_type: "order-counted".to_owned(),
                payload: format!(
                    r#"{{"type":"order-counted","order_id":"earlier-{i}","total":{{"amount":2500,"currency":"USD"}}}}"#
                ),
            })
            .collect();
        let n = events.len() as u64;
        host.store.append(&AppendBatch {
            streams: vec![StreamAppend {
                stream_id: stream_id.clone(),
                expected_version: version,
                tags: Vec::new(),
                events,
                state: None,
            }],
            timers: Vec::new(),
        })?;
        version += n;
    }
    Ok(())
}

/// The fastest and the median of [`RUNS`] runs of `work`.
fn time(mut work: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<(Duration, Duration)> {
    let mut took = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let began = Instant::now();
        work()?;
        took.push(began.elapsed());
    }
    took.sort();
    Ok((took[0], took[RUNS / 2]))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn order(i: usize) -> PlaceOrderCommand {
    let id = |kind: &str| {
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("{kind}/{i}").as_bytes()).to_string()
    };
    let address = address();
    PlaceOrderCommand {
        order_id: id("order"),
        customer_id: id("customer"),
        items: vec![OrderItemInput {
            item_id: id("item"),
            product_id: id("product"),
            sku: "METRICS-1".to_owned(),
            product_name: "Metrics product".to_owned(),
            quantity: 1 + (i % 3) as u32,
            unit_price: usd(500 + (i as u64 * 37) % 9_500),
        }],
        shipping_address: address.clone(),
        billing_address: address,
        payment_method: PaymentMethod::CreditCard,
    }
}
