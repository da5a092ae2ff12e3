//! `GET /metrics/daily` (the business metrics of a day) and `GET /metrics`
//! (Prometheus text: requests by route, status and latency; the saga
//! driver's counters; webhook deliveries; the store's size).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::dto::DailyMetrics;
use super::problem::{Problem, ReadProblems};
use order_runtime::driver::DriverReport;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The process's counters.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    webhooks: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    driver_passes: AtomicU64,
    driver_advanced: AtomicU64,
    driver_failed: AtomicU64,
    driver_finished: AtomicU64,
    driver_errors: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Metrics {
    /// Counts one answered request.
    pub fn request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        *lock(&self.requests)
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let seconds = elapsed.as_secs_f64();
        let mut latency = lock(&self.latency);
        let h = latency
            .entry((method.to_owned(), route.to_owned()))
            .or_default();
        for (count, bound) in h.counts.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *count += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// Counts one webhook delivery by source and outcome.
    pub fn webhook(&self, source: &'static str, outcome: &'static str) {
        *lock(&self.webhooks).entry((source, outcome)).or_default() += 1;
    }

    /// Counts one pass of the saga driver.
    pub fn driver_pass(&self, report: &DriverReport) {
        self.driver_passes.fetch_add(1, Ordering::Relaxed);
        let add = |c: &AtomicU64, n: usize| c.fetch_add(n as u64, Ordering::Relaxed);
        add(&self.driver_advanced, report.advanced);
        add(&self.driver_failed, report.failed);
        add(&self.driver_finished, report.finished);
    }

    /// Counts a pass of the saga driver that failed as a whole.
    pub fn driver_error(&self) {
        self.driver_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every counter, and `store`'s size.
    pub fn render(&self, store: Option<order_runtime::store::StoreStats>) -> String {
        let mut out = String::new();
        let escape = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        out.push_str("# HELP order_host_http_requests_total HTTP requests answered, by method, route and status.\n");
        out.push_str("# TYPE order_host_http_requests_total counter\n");
        for ((method, route, status), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "order_host_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        out.push_str("# HELP order_host_http_request_duration_seconds Time to answer HTTP requests, by method and route.\n");
        out.push_str("# TYPE order_host_http_request_duration_seconds histogram\n");
        for ((method, route), h) in lock(&self.latency).iter() {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            for (count, bound) in h.counts.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "order_host_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "order_host_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "order_host_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "order_host_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        out.push_str("# HELP order_host_webhooks_total Webhook deliveries, by source and outcome (applied, duplicate, unauthorized, invalid, failed).\n");
        out.push_str("# TYPE order_host_webhooks_total counter\n");
        for ((source, outcome), n) in lock(&self.webhooks).iter() {
            let _ = writeln!(
                out,
                "order_host_webhooks_total{{source=\"{source}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        let counters = [
            (
                "order_host_saga_driver_passes_total",
                "Passes of the saga driver.",
                &self.driver_passes,
            ),
            (
                "order_host_saga_advances_total",
                "Saga advances made by the driver.",
                &self.driver_advanced,
            ),
            (
                "order_host_saga_advance_failures_total",
                "Saga advances that failed (the saga stays scheduled).",
                &self.driver_failed,
            ),
            (
                "order_host_sagas_finished_total",
                "Sagas seen finishing.",
                &self.driver_finished,
            ),
            (
                "order_host_saga_driver_errors_total",
                "Driver passes that failed as a whole (for example the store was unreachable).",
                &self.driver_errors,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        if let Some(stats) = store {
            let gauges = [
                (
                    "order_host_store_streams",
                    "Streams in the event store.",
                    stats.streams,
                ),
                (
                    "order_host_store_events",
                    "Events in the event store.",
                    stats.events,
                ),
                (
                    "order_host_store_saga_timers",
                    "Saga timers set (sagas not finished).",
                    stats.timers,
                ),
            ];
            for (name, help, value) in gauges {
                let _ = writeln!(
                    out,
                    "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
                );
            }
        }
        out
    }
}

/// The day to report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DailyQuery {
    /// The UTC day, `YYYY-MM-DD`.
    #[param(example = "2026-11-24", required = true, value_type = String, format = Date)]
    date: Option<String>,
}

/// Business metrics of one UTC day: orders placed and their revenue,
/// cancellations and refunds, per currency.
#[utoipa::path(
    get,
    path = "/metrics/daily",
    operation_id = "getDailyMetrics",
    tag = "metrics",
    params(DailyQuery),
    responses((status = 200, body = DailyMetrics), ReadProblems)
)]
pub async fn daily(
    State(state): State<AppState>,
    query: Result<Query<DailyQuery>, QueryRejection>,
) -> Result<Json<DailyMetrics>, Problem> {
    let Query(query) = query.map_err(|rejection| {
        let text = rejection.body_text();
        let message = text
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or(&text);
        // serde_urlencoded puts the parameter's name first: `dat: unknown ...`.
        let message = match message.split_once(": ") {
            Some((name, rest)) if !name.contains(' ') => rest,
            _ => message,
        };
        let field = message
            .split('`')
            .nth(1)
            .filter(|_| message.contains("unknown field") || message.contains("missing field"))
            .unwrap_or("date")
            .to_owned();
        let detail = super::problem::plain_words(&format!("?{field}"), message);
        Problem::validation(field, detail)
    })?;
    let date = query
        .date
        .ok_or_else(|| Problem::validation("date", "is required: ?date=YYYY-MM-DD"))?;
    let metrics = state.query(move |svc| svc.get_daily_metrics(&date)).await?;
    Ok(Json(metrics.into()))
}

/// Prometheus metrics: requests by route, status and latency; the saga
/// driver's counters; webhook deliveries; the event store's size.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "getPrometheusMetrics",
    tag = "metrics",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4", body = String, content_type = "text/plain"))
)]
pub async fn prometheus(State(state): State<AppState>) -> Response {
    let stats = state
        .blocking(|host| Ok(host.store.stats().ok()))
        .await
        .ok()
        .flatten();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics().render(stats),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms_in_prometheus_text() {
        let metrics = Metrics::default();
        metrics.request("GET", "/orders/{id}", 200, Duration::from_millis(3));
        metrics.request("GET", "/orders/{id}", 404, Duration::from_millis(30));
        metrics.webhook("carrier", "applied");
        metrics.driver_pass(&DriverReport {
            advanced: 2,
            failed: 0,
            finished: 1,
        });
        let text = metrics.render(Some(order_runtime::store::StoreStats {
            streams: 3,
            events: 10,
            timers: 1,
        }));
        assert!(text.contains(r#"order_host_http_requests_total{method="GET",route="/orders/{id}",status="404"} 1"#), "{text}");
        assert!(text.contains(r#"order_host_http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="0.005"} 1"#), "{text}");
        assert!(text.contains(r#"order_host_http_request_duration_seconds_count{method="GET",route="/orders/{id}"} 2"#), "{text}");
        assert!(
            text.contains(r#"order_host_webhooks_total{source="carrier",outcome="applied"} 1"#),
            "{text}"
        );
        assert!(text.contains("order_host_saga_advances_total 2"), "{text}");
        assert!(text.contains("order_host_store_events 10"), "{text}");
    }
}
