//! The daily-metrics projection. Each day has a stream `metrics-YYYY-MM-DD`
//! of small facts written in the same atomic batch as the events they
//! come from (`order-placed`, `order-cancelled`, `refund-processed`); the
//! day's metrics are their fold.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::values::{Currency, Money, Timestamp, utc_date};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum MetricEvent {
    OrderCounted {
        order_id: String,
        total: Money,
    },
    CancellationCounted {
        order_id: String,
        currency: Currency,
    },
    RefundCounted {
        return_id: String,
        amount: Money,
    },
}

impl MetricEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            MetricEvent::OrderCounted { .. } => "order-counted",
            MetricEvent::CancellationCounted { .. } => "cancellation-counted",
            MetricEvent::RefundCounted { .. } => "refund-counted",
        }
    }
}

/// The stream holding the metrics of the day of `at`.
pub fn metrics_stream(at: Timestamp) -> String {
    format!("metrics-{}", utc_date(at))
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
    pub fn fold<'a>(date: String, events: impl IntoIterator<Item = &'a MetricEvent>) -> Self {
        let mut m = DailyMetrics {
            date,
            by_currency: BTreeMap::new(),
        };
        for e in events {
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
