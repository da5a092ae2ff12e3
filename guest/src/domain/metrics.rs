//! The daily-metrics projection. Every `order-placed`, `order-cancelled`
//! (of a placed order) and `refund-processed` gives one small fact, written
//! in the same atomic batch as the event it comes from, as the only event
//! of its own stream (`metrics-<day>-placed-<order-id>`, ...), created with
//! expected version 0 and tagged `metrics-<day>`. No two orders' commands
//! write to one stream, and a repeated fact is a conflict instead of a
//! second count. The day's metrics are the fold of the facts carrying the
//! day's tag, plus those of the day's single stream `metrics-<day>` that
//! earlier versions wrote (decision 0019); a fact counts once however
//! often it is read.

use std::collections::{BTreeMap, BTreeSet};

use super::values::{Currency, Money, Timestamp, utc_date};

crate::tagged_enum! {
    #[tag("type", event_type)]
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum MetricEvent {
        OrderCounted = "order-counted" {
            order_id: String,
            total: Money,
        },
        CancellationCounted = "cancellation-counted" {
            order_id: String,
            currency: Currency,
        },
        RefundCounted = "refund-counted" {
            return_id: String,
            amount: Money,
        },
    }
}

impl MetricEvent {
    /// What the fact counts: a kind and the id of the order or return it
    /// is about. Two facts with one key are one fact told twice.
    pub fn key(&self) -> (&'static str, &str) {
        match self {
            MetricEvent::OrderCounted { order_id, .. } => ("placed", order_id),
            MetricEvent::CancellationCounted { order_id, .. } => ("cancelled", order_id),
            MetricEvent::RefundCounted { return_id, .. } => ("refunded", return_id),
        }
    }

    /// The fact's own stream, for a fact of the day of `at`:
    /// `metrics-<yyyy-mm-dd>-<kind>-<id>`.
    pub fn stream(&self, at: Timestamp) -> String {
        let (kind, id) = self.key();
        format!("{}-{kind}-{id}", metrics_tag(&utc_date(at)))
    }
}

/// The tag every fact stream of `date` (`yyyy-mm-dd`) carries, and the
/// name of the day's single stream of facts that earlier versions wrote.
pub fn metrics_tag(date: &str) -> String {
    format!("metrics-{date}")
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CurrencyTotals {
    pub order_count: u32,
    pub total_revenue: u64,
    pub cancellation_count: u32,
    pub refund_count: u32,
    pub refund_total: u64,
}

impl CurrencyTotals {
    /// Revenue per order, rounded half up; 0 without orders.
    pub fn average_order_value(&self) -> u64 {
        if self.order_count == 0 {
            return 0;
        }
        let n = u64::from(self.order_count);
        (self.total_revenue + n / 2) / n
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DailyMetrics {
    pub date: String,
    pub by_currency: BTreeMap<String, CurrencyTotals>,
}

impl DailyMetrics {
    /// The metrics of the facts, each [`MetricEvent::key`] counted once.
    pub fn fold<'a>(date: String, events: impl IntoIterator<Item = &'a MetricEvent>) -> Self {
        let mut m = DailyMetrics {
            date,
            by_currency: BTreeMap::new(),
        };
        let mut seen = BTreeSet::new();
        for e in events {
            if !seen.insert(e.key()) {
                continue;
            }
            match e {
                MetricEvent::OrderCounted { total, .. } => {
                    let t = m.entry(&total.currency);
                    t.order_count += 1;
                    t.total_revenue = t.total_revenue.saturating_add(total.amount);
                }
                MetricEvent::CancellationCounted { currency, .. } => {
                    m.entry(currency).cancellation_count += 1;
                }
                MetricEvent::RefundCounted { amount, .. } => {
                    let t = m.entry(&amount.currency);
                    t.refund_count += 1;
                    t.refund_total = t.refund_total.saturating_add(amount.amount);
                }
            }
        }
        m
    }

    fn entry(&mut self, currency: &Currency) -> &mut CurrencyTotals {
        self.by_currency
            .entry(currency.as_str().to_string())
            .or_default()
    }

    pub fn order_count(&self) -> u32 {
        self.by_currency.values().map(|t| t.order_count).sum()
    }

    pub fn cancellation_count(&self) -> u32 {
        self.by_currency
            .values()
            .map(|t| t.cancellation_count)
            .sum()
    }

    pub fn refund_count(&self) -> u32 {
        self.by_currency.values().map(|t| t.refund_count).sum()
    }
}
