//! `/metrics/daily`: the day's figures.

use super::*;

/// Amounts of one currency in a day's metrics (minor units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CurrencyTotals {
    pub currency: String,
    pub order_count: u32,
    pub total_revenue: u64,
    pub average_order_value: u64,
    pub cancellation_count: u32,
    pub refund_count: u32,
    pub refund_total: u64,
}

/// Metrics of one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DailyMetrics {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub order_count: u32,
    pub cancellation_count: u32,
    pub refund_count: u32,
    /// Per currency, sorted by code.
    pub totals: Vec<CurrencyTotals>,
}

impl From<queries::DailyMetrics> for DailyMetrics {
    fn from(m: queries::DailyMetrics) -> Self {
        Self {
            date: m.date,
            order_count: m.order_count,
            cancellation_count: m.cancellation_count,
            refund_count: m.refund_count,
            totals: m
                .totals
                .into_iter()
                .map(|c| CurrencyTotals {
                    currency: c.currency,
                    order_count: c.order_count,
                    total_revenue: c.total_revenue,
                    average_order_value: c.average_order_value,
                    cancellation_count: c.cancellation_count,
                    refund_count: c.refund_count,
                    refund_total: c.refund_total,
                })
                .collect(),
        }
    }
}
