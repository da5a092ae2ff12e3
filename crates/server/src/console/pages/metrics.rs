//! `/console/metrics`, the day in pictures: the daily metrics of the last
//! 30 days per currency, as bar charts drawn on the server (inline SVG).

use std::fmt::Write as _;

use axum::response::Response;

use super::{Place, Signed, failed, shown};
use crate::console::html::esc;
use crate::console::{may, role_refused};
use crate::dto;
use crate::text;

const METRICS: Place = Place {
    key: "metrics",
    title: "The day in pictures",
};

/// A chart's values: `(date, value)` a day.
type Series = Vec<(String, u64)>;

/// How many days the charts show.
const DAYS: u64 = 30;

/// `/console/metrics`: the daily metrics of the last 30 days per currency,
/// as bar charts drawn on the server (inline SVG).
pub(in crate::console) async fn metrics(Signed { console, staff }: Signed) -> Response {
    if !may(staff.principal.role, "GET", "/metrics/daily") {
        return role_refused(&staff.principal, "read the daily metrics");
    }
    let today = console.app.host().clock.now_ms() / 86_400_000;
    let days = console
        .app
        .query(move |svc| {
            (0..DAYS)
                .rev()
                .map(|back| {
                    svc.get_daily_metrics(&text::date((today - back) * 86_400_000))
                        .map(dto::DailyMetrics::from)
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await;
    let days = match days {
        Ok(days) => days,
        Err(problem) => return failed(&staff, METRICS.key, METRICS.title, &problem),
    };
    let mut currencies: Vec<String> = days
        .iter()
        .flat_map(|d| d.totals.iter().map(|t| t.currency.clone()))
        .collect();
    currencies.sort();
    currencies.dedup();
    let mut body = format!(
        "<h1>The day in pictures</h1><p class=\"hint\">The last {DAYS} days, UTC, from {} to {}.</p>",
        esc(&days[0].date),
        esc(&days[days.len() - 1].date)
    );
    if currencies.is_empty() {
        body.push_str(&crate::console::parts::empty("No order in these days."));
    }
    for currency in &currencies {
        let series = |f: &dyn Fn(&dto::CurrencyTotals) -> u64| -> Series {
            days.iter()
                .map(|d| {
                    (
                        d.date.clone(),
                        d.totals
                            .iter()
                            .find(|t| &t.currency == currency)
                            .map_or(0, f),
                    )
                })
                .collect()
        };
        let charts: [(&str, Series, Option<&str>); 4] = [
            ("Orders", series(&|t| u64::from(t.order_count)), None),
            ("Revenue", series(&|t| t.total_revenue), Some(currency)),
            (
                "Cancellations",
                series(&|t| u64::from(t.cancellation_count)),
                None,
            ),
            ("Refunds", series(&|t| t.refund_total), Some(currency)),
        ];
        let _ = write!(
            body,
            "<section class=\"card charts\" aria-labelledby=\"c-{0}\"><h2 id=\"c-{0}\">{0}</h2>",
            esc(currency)
        );
        for (title, values, unit) in &charts {
            body.push_str(&chart(title, values, *unit));
        }
        body.push_str("</section>");
    }
    shown(&staff, METRICS, None, &body)
}

/// One bar chart as inline SVG, with a text alternative: the total and the
/// best day, and each bar's value in its title.
fn chart(title: &str, values: &[(String, u64)], currency: Option<&str>) -> String {
    let show = |v: u64| match currency {
        Some(c) => text::money(&dto::Money {
            amount: v,
            currency: c.to_owned(),
        }),
        None => v.to_string(),
    };
    let max = values.iter().map(|v| v.1).max().unwrap_or(0).max(1);
    let total: u64 = values.iter().map(|v| v.1).sum();
    let (width, height, bar) = (600u64, 120u64, 600 / values.len().max(1) as u64);
    let best = values
        .iter()
        .max_by_key(|v| v.1)
        .map(|v| v.0.clone())
        .unwrap_or_default();
    let mut out = format!(
        "<figure class=\"chart\"><figcaption>{} — total {}</figcaption>\
         <svg viewBox=\"0 0 {width} {}\" role=\"img\" aria-label=\"{}: total {}, highest on {}\" preserveAspectRatio=\"none\">",
        esc(title),
        esc(&show(total)),
        height + 14,
        esc(title),
        esc(&show(total)),
        esc(&best)
    );
    for (i, (date, v)) in values.iter().enumerate() {
        let h = v * height / max;
        let x = i as u64 * bar;
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{h}\" class=\"bar\"><title>{}: {}</title></rect>",
            x + 1,
            height - h,
            bar.saturating_sub(2).max(1),
            esc(date),
            esc(&show(*v))
        );
    }
    let _ = write!(
        out,
        "<text x=\"0\" y=\"{}\" class=\"axis\">{}</text><text x=\"{width}\" y=\"{}\" class=\"axis end\">{}</text></svg></figure>",
        height + 12,
        esc(values.first().map_or("", |v| v.0.as_str())),
        height + 12,
        esc(values.last().map_or("", |v| v.0.as_str()))
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_one_bar_per_day_and_says_its_total() {
        let svg = chart(
            "Orders",
            &[("2026-12-01".into(), 2), ("2026-12-02".into(), 0)],
            None,
        );
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("total 2"), "{svg}");
    }
}
