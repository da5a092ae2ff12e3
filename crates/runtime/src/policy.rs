//! The store's settings behind the `policy` import: pricing, the return
//! window, the default carrier and how the saga retries.

use serde::{Deserialize, Serialize};

use crate::bindings::oms::order_management::policy as wit;
use crate::bindings::oms::order_management::types::{Address, CarrierCode, Money, OrderItem};

/// How transient failures of external calls are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts of one call, the first included (at least 1).
    pub max_attempts: u32,
    /// Delay before the second attempt, in milliseconds.
    pub base_delay_ms: u64,
    /// Cap on any one delay, in milliseconds.
    pub max_delay_ms: u64,
    /// Each delay is shortened by a random factor of up to this many per mille.
    pub jitter_permille: u32,
}

impl RetryPolicy {
    /// The fulfilment saga's default: 5 attempts, 200 ms doubling up to 30 s.
    pub const SAGA: RetryPolicy = RetryPolicy {
        max_attempts: 5,
        base_delay_ms: 200,
        max_delay_ms: 30_000,
        jitter_permille: 200,
    };

    /// The notifications' default: 8 attempts, 500 ms doubling up to 60 s.
    pub const NOTIFICATION: RetryPolicy = RetryPolicy {
        max_attempts: 8,
        base_delay_ms: 500,
        max_delay_ms: 60_000,
        jitter_permille: 200,
    };

    fn validate(&self, name: &str) -> Result<(), PolicyError> {
        if self.max_attempts == 0 {
            return Err(PolicyError(format!(
                "{name}.max-attempts must be at least 1"
            )));
        }
        if self.jitter_permille > 1_000 {
            return Err(PolicyError(format!(
                "{name}.jitter-permille must be at most 1000, not {}",
                self.jitter_permille
            )));
        }
        if self.base_delay_ms > self.max_delay_ms {
            return Err(PolicyError(format!(
                "{name}.base-delay-ms ({}) exceeds {name}.max-delay-ms ({})",
                self.base_delay_ms, self.max_delay_ms
            )));
        }
        Ok(())
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::SAGA
    }
}

/// How tax and shipping are charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Pricing {
    /// Tax as basis points of the subtotal (825 = 8.25 %), rounded half up.
    pub tax_rate_basis_points: u32,
    /// Shipping cost of every order, in minor units of the order's currency.
    pub flat_shipping_minor: u64,
    /// Orders whose subtotal reaches this amount ship for free.
    pub free_shipping_threshold_minor: Option<u64>,
}

/// The store-wide settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct StorePolicy {
    /// Days after delivery during which a return may be requested.
    pub return_window_days: u32,
    /// The carrier the fulfilment saga books.
    #[serde(with = "carrier_serde")]
    pub default_carrier: CarrierCode,
    /// Retries of the saga's external calls.
    pub retry: RetryPolicy,
    /// Retries of customer notifications.
    pub notification_retry: RetryPolicy,
    /// How long one external call of the saga may take before it is
    /// presumed lost and repeated with its idempotency key; until then other
    /// advances of the same saga wait for it. Keep it above the longest
    /// call a backend can take (time-outs included).
    pub call_lease_ms: u64,
    /// Tax and shipping.
    pub pricing: Pricing,
}

impl Default for StorePolicy {
    fn default() -> Self {
        Self {
            return_window_days: 30,
            default_carrier: CarrierCode::Ups,
            retry: RetryPolicy::SAGA,
            notification_retry: RetryPolicy::NOTIFICATION,
            call_lease_ms: 10_000,
            pricing: Pricing::default(),
        }
    }
}

/// A setting that makes no sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid store policy: {0}")]
pub struct PolicyError(pub String);

impl StorePolicy {
    /// Checks the retry settings (at least one attempt, jitter at most
    /// 1000 ‰, base delay not above the cap).
    pub fn validate(&self) -> Result<(), PolicyError> {
        self.retry.validate("retry")?;
        self.notification_retry.validate("notification-retry")?;
        if self.call_lease_ms == 0 {
            return Err(PolicyError("call-lease-ms must be at least 1".to_string()));
        }
        Ok(())
    }

    /// Tax and shipping for an order with this subtotal, in its currency.
    pub fn quote(&self, subtotal: &Money) -> wit::PriceQuote {
        let pricing = &self.pricing;
        let taxed = u128::from(subtotal.amount) * u128::from(pricing.tax_rate_basis_points);
        // Half up: add half the divisor before dividing.
        let tax = u64::try_from((taxed + 5_000) / 10_000).unwrap_or(u64::MAX);
        let free = pricing
            .free_shipping_threshold_minor
            .is_some_and(|threshold| subtotal.amount >= threshold);
        let shipping = if free { 0 } else { pricing.flat_shipping_minor };
        wit::PriceQuote {
            tax: Money {
                amount: tax,
                currency: subtotal.currency.clone(),
            },
            shipping_cost: Money {
                amount: shipping,
                currency: subtotal.currency.clone(),
            },
        }
    }

    /// The settings as the component sees them.
    pub fn to_wit(&self) -> wit::StorePolicy {
        wit::StorePolicy {
            return_window_days: self.return_window_days,
            default_carrier: self.default_carrier,
            retry: self.retry.into(),
            notification_retry: self.notification_retry.into(),
            call_lease_ms: self.call_lease_ms,
        }
    }
}

impl From<RetryPolicy> for wit::RetryPolicy {
    fn from(retry: RetryPolicy) -> Self {
        Self {
            max_attempts: retry.max_attempts,
            base_delay_ms: retry.base_delay_ms,
            max_delay_ms: retry.max_delay_ms,
            jitter_permille: retry.jitter_permille,
        }
    }
}

import_view! {
    /// The `policy` import as one store serves it: the store's policy, and nothing
    /// else of the host.
    PolicyView(&StorePolicy),
    "policy",
    "the store's policy"
}

impl wit::Host for PolicyView<'_> {
    fn get_policy(&mut self) -> wit::StorePolicy {
        self.0.to_wit()
    }

    fn quote(
        &mut self,
        _items: Vec<OrderItem>,
        subtotal: Money,
        _shipping_address: Address,
    ) -> wit::PriceQuote {
        self.0.quote(&subtotal)
    }
}

/// Carrier codes as their kebab-case WIT names (`ups`, `other-carrier`).
mod carrier_serde {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    use crate::bindings::oms::order_management::types::CarrierCode;
    use crate::carrier::{carrier_name, parse_carrier};

    pub(super) fn serialize<S: Serializer>(
        code: &CarrierCode,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(carrier_name(*code))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<CarrierCode, D::Error> {
        let name = String::deserialize(deserializer)?;
        parse_carrier(&name).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulation::fixtures::usd;

    fn priced(tax_rate_basis_points: u32, flat: u64, free_from: Option<u64>) -> StorePolicy {
        StorePolicy {
            pricing: Pricing {
                tax_rate_basis_points,
                flat_shipping_minor: flat,
                free_shipping_threshold_minor: free_from,
            },
            ..StorePolicy::default()
        }
    }

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let policy = StorePolicy::default().to_wit();
        assert_eq!(policy.return_window_days, 30);
        assert_eq!(policy.default_carrier, CarrierCode::Ups);
        assert_eq!(policy.retry.max_attempts, 5);
        assert_eq!(policy.retry.base_delay_ms, 200);
        assert_eq!(policy.retry.max_delay_ms, 30_000);
        assert_eq!(policy.retry.jitter_permille, 200);
        assert_eq!(policy.notification_retry.max_attempts, 8);
        assert_eq!(policy.notification_retry.base_delay_ms, 500);
        assert_eq!(policy.notification_retry.max_delay_ms, 60_000);
        assert!(StorePolicy::default().validate().is_ok());
        assert_eq!(StorePolicy::default().quote(&usd(12_345)).tax, usd(0));
    }

    #[test]
    fn tax_rounds_half_up() {
        // 8.25 % of 10.00 is 0.825 -> 0.83; of 10.01 is 0.825825 -> 0.83;
        // of 9.99 is 0.824175 -> 0.82.
        let policy = priced(825, 0, None);
        assert_eq!(policy.quote(&usd(1_000)).tax, usd(83));
        assert_eq!(policy.quote(&usd(1_001)).tax, usd(83));
        assert_eq!(policy.quote(&usd(999)).tax, usd(82));
        // 5 % of 0.10 is exactly 0.005 -> 0.01.
        assert_eq!(priced(500, 0, None).quote(&usd(10)).tax, usd(1));
    }

    #[test]
    fn tax_never_overflows() {
        let quote = priced(u32::MAX, 0, None).quote(&usd(u64::MAX));
        assert_eq!(quote.tax.amount, u64::MAX);
    }

    #[test]
    fn shipping_is_flat_until_the_free_threshold() {
        let policy = priced(0, 499, Some(5_000));
        assert_eq!(policy.quote(&usd(4_999)).shipping_cost, usd(499));
        assert_eq!(policy.quote(&usd(5_000)).shipping_cost, usd(0));
    }

    #[test]
    fn the_quote_uses_the_subtotal_currency() {
        let quote = priced(1_000, 300, None).quote(&Money {
            amount: 1_000,
            currency: "EUR".to_owned(),
        });
        assert_eq!(quote.tax.currency, "EUR");
        assert_eq!(quote.shipping_cost.currency, "EUR");
    }

    #[test]
    fn nonsense_retry_settings_are_refused() {
        let mut policy = StorePolicy::default();
        policy.retry.max_attempts = 0;
        assert!(
            policy
                .validate()
                .unwrap_err()
                .0
                .contains("retry.max-attempts")
        );
        let mut policy = StorePolicy::default();
        policy.notification_retry.jitter_permille = 1_001;
        assert!(policy.validate().is_err());
    }

    #[test]
    fn reads_and_writes_kebab_case_json() {
        let policy: StorePolicy = serde_json::from_str(
            r#"{"return-window-days": 14, "default-carrier": "dhl",
                "pricing": {"tax-rate-basis-points": 700}}"#,
        )
        .unwrap();
        assert_eq!(policy.return_window_days, 14);
        assert_eq!(policy.default_carrier, CarrierCode::Dhl);
        assert_eq!(policy.pricing.tax_rate_basis_points, 700);
        assert_eq!(policy.retry, RetryPolicy::SAGA);
        let json = serde_json::to_string(&policy).unwrap();
        assert!(json.contains(r#""default-carrier":"dhl""#), "{json}");
        assert!(serde_json::from_str::<StorePolicy>(r#"{"default-carrier": "pony"}"#).is_err());
    }
}
