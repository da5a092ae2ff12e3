//! Value types shared by every entity and the validation of their bounds.
//! Bounds are inclusive and counted in characters; every error names the
//! field it is about.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::{DomainError, DomainResult};

/// Milliseconds since the Unix epoch, UTC.
pub type Timestamp = u64;

/// Largest amount of money in minor units: 99,999,999.99 in major units.
pub const MAX_AMOUNT: u64 = 9_999_999_999;

/// The currency used when a caller leaves it empty.
pub const DEFAULT_CURRENCY: &str = "USD";

/// At most this many lines in one order.
pub const MAX_ORDER_LINES: usize = 100;

const MS_PER_DAY: u64 = 86_400_000;

/// Checks that `value` has between `min` and `max` characters.
pub fn check_len(field: &str, value: &str, min: usize, max: usize) -> DomainResult<()> {
    let n = value.chars().count();
    if n < min {
        return Err(DomainError::validation(
            field,
            if min == 1 {
                "must not be empty".to_string()
            } else {
                format!("must have at least {min} characters, has {n}")
            },
        ));
    }
    if n > max {
        return Err(DomainError::validation(
            field,
            format!("must have at most {max} characters, has {n}"),
        ));
    }
    Ok(())
}

/// Checks an optional text: absent is fine, present must be within bounds.
pub fn check_opt_len(field: &str, value: Option<&str>, min: usize, max: usize) -> DomainResult<()> {
    value.map_or(Ok(()), |v| check_len(field, v, min, max))
}

/// Parses a UUID and returns it in lower-case hyphenated form, so that the
/// same id written two ways names the same entity.
pub fn parse_uuid(field: &str, value: &str) -> DomainResult<String> {
    uuid::Uuid::try_parse(value)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| DomainError::validation(field, format!("`{value}` is not a UUID")))
}

/// A positive quantity.
pub fn check_quantity(field: &str, quantity: u32) -> DomainResult<()> {
    if quantity == 0 {
        return Err(DomainError::validation(field, "must be greater than 0"));
    }
    Ok(())
}

/// An ISO 4217 alphabetic currency code.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Currency(String);

impl Currency {
    /// Parses a currency code: three ASCII letters, upper-cased; empty means USD.
    pub fn parse(field: &str, code: &str) -> DomainResult<Self> {
        if code.is_empty() {
            return Ok(Currency(DEFAULT_CURRENCY.to_string()));
        }
        if code.len() != 3 || !code.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(DomainError::validation(
                field,
                format!("`{code}` is not an ISO 4217 code (three letters)"),
            ));
        }
        Ok(Currency(code.to_ascii_uppercase()))
    }

    pub fn usd() -> Self {
        Currency(DEFAULT_CURRENCY.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Money in integer minor units with its currency. Arithmetic is checked:
/// overflow past [`MAX_AMOUNT`] and mixed currencies are errors, never wraps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount: u64,
    pub currency: Currency,
}

impl Money {
    /// Validates an amount from input.
    pub fn parse(field: &str, amount: u64, currency: &str) -> DomainResult<Self> {
        let currency = Currency::parse(&format!("{field}.currency"), currency)?;
        if amount > MAX_AMOUNT {
            return Err(DomainError::validation(
                format!("{field}.amount"),
                format!("must be at most {MAX_AMOUNT} minor units, is {amount}"),
            ));
        }
        Ok(Money { amount, currency })
    }

    pub fn zero(currency: Currency) -> Self {
        Money {
            amount: 0,
            currency,
        }
    }

    /// Adds two amounts of the same currency; `field` names the result in errors.
    pub fn checked_add(&self, other: &Money, field: &str) -> DomainResult<Money> {
        self.same_currency(other, field)?;
        let amount = self.amount.saturating_add(other.amount);
        Self::bounded(field, amount, &self.currency)
    }

    /// Subtracts, failing below zero.
    pub fn checked_sub(&self, other: &Money, field: &str) -> DomainResult<Money> {
        self.same_currency(other, field)?;
        let amount = self.amount.checked_sub(other.amount).ok_or_else(|| {
            DomainError::validation(field, format!("{other} is more than {self}"))
        })?;
        Ok(Money {
            amount,
            currency: self.currency.clone(),
        })
    }

    /// Multiplies by a quantity.
    pub fn checked_mul(&self, quantity: u32, field: &str) -> DomainResult<Money> {
        let amount = self.amount.saturating_mul(u64::from(quantity));
        Self::bounded(field, amount, &self.currency)
    }

    pub fn same_currency(&self, other: &Money, field: &str) -> DomainResult<()> {
        if self.currency != other.currency {
            return Err(DomainError::validation(
                field,
                format!(
                    "currency {} differs from the order's currency {}",
                    other.currency, self.currency
                ),
            ));
        }
        Ok(())
    }

    fn bounded(field: &str, amount: u64, currency: &Currency) -> DomainResult<Money> {
        if amount > MAX_AMOUNT {
            return Err(DomainError::validation(
                field,
                format!("exceeds the largest amount, {MAX_AMOUNT} minor units"),
            ));
        }
        Ok(Money {
            amount,
            currency: currency.clone(),
        })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:02} {}",
            self.amount / 100,
            self.amount % 100,
            self.currency
        )
    }
}

/// A postal address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub street1: String,
    pub street2: Option<String>,
    pub city: String,
    pub state_province: String,
    pub postal_code: String,
    pub country: String,
}

impl Address {
    /// Validates every field; `field` is the address's own name (for
    /// example `shipping-address`). The country is upper-cased.
    pub fn validated(mut self, field: &str) -> DomainResult<Self> {
        check_len(&format!("{field}.street1"), &self.street1, 1, 100)?;
        check_opt_len(&format!("{field}.street2"), self.street2.as_deref(), 1, 100)?;
        check_len(&format!("{field}.city"), &self.city, 1, 50)?;
        check_len(
            &format!("{field}.state-province"),
            &self.state_province,
            1,
            50,
        )?;
        check_len(&format!("{field}.postal-code"), &self.postal_code, 1, 20)?;
        let country_field = format!("{field}.country");
        check_len(&country_field, &self.country, 2, 3)?;
        if !self.country.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(DomainError::validation(
                country_field,
                "must be an ISO 3166-1 alpha-2 or alpha-3 code (letters only)",
            ));
        }
        self.country = self.country.to_ascii_uppercase();
        Ok(self)
    }
}

pub use super::cases::{CarrierCode, PaymentMethod, ReturnReason, ShipmentStatus};

/// An order line as the caller gives it (no total: that is computed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderItemInput {
    pub item_id: String,
    pub product_id: String,
    pub sku: String,
    pub product_name: String,
    pub quantity: u32,
    pub unit_price_amount: u64,
    pub unit_price_currency: String,
}

/// An order line as stored: `total_price = quantity x unit_price`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItem {
    pub item_id: String,
    pub product_id: String,
    pub sku: String,
    pub product_name: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub total_price: Money,
}

/// Validates order lines and computes their totals. `field` names the
/// list (`items`). Lines must have distinct ids and share one currency.
/// `required` demands at least one line.
pub fn validate_items(
    field: &str,
    items: Vec<OrderItemInput>,
    required: bool,
) -> DomainResult<Vec<OrderItem>> {
    if required && items.is_empty() {
        return Err(DomainError::validation(
            field,
            "must have at least one item",
        ));
    }
    if items.len() > MAX_ORDER_LINES {
        return Err(DomainError::validation(
            field,
            format!(
                "must have at most {MAX_ORDER_LINES} lines, has {}",
                items.len()
            ),
        ));
    }
    let mut out: Vec<OrderItem> = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let f = |name: &str| format!("{field}[{i}].{name}");
        let item_id = parse_uuid(&f("item-id"), &item.item_id)?;
        let product_id = parse_uuid(&f("product-id"), &item.product_id)?;
        check_len(&f("sku"), &item.sku, 1, 50)?;
        check_len(&f("product-name"), &item.product_name, 1, 200)?;
        check_quantity(&f("quantity"), item.quantity)?;
        let unit_price = Money::parse(
            &f("unit-price"),
            item.unit_price_amount,
            &item.unit_price_currency,
        )?;
        if let Some(first) = out.first() {
            first
                .unit_price
                .same_currency(&unit_price, &f("unit-price.currency"))?;
        }
        if out.iter().any(|o| o.item_id == item_id) {
            return Err(DomainError::validation(
                f("item-id"),
                format!("{item_id} appears twice in the order"),
            ));
        }
        let total_price = unit_price.checked_mul(item.quantity, &f("total-price"))?;
        out.push(OrderItem {
            item_id,
            product_id,
            sku: item.sku,
            product_name: item.product_name,
            quantity: item.quantity,
            unit_price,
            total_price,
        });
    }
    Ok(out)
}

/// Sum of the line totals, in the lines' currency (USD for no lines).
pub fn subtotal(items: &[OrderItem]) -> DomainResult<Money> {
    let currency = items
        .first()
        .map_or_else(Currency::usd, |i| i.unit_price.currency.clone());
    items.iter().try_fold(Money::zero(currency), |acc, item| {
        acc.checked_add(&item.total_price, "subtotal")
    })
}

/// The UTC calendar date (`YYYY-MM-DD`) of a timestamp.
pub fn utc_date(ts: Timestamp) -> String {
    let days = (ts / MS_PER_DAY) as i64;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Validates a `YYYY-MM-DD` date and returns it normalised.
pub fn parse_date(field: &str, value: &str) -> DomainResult<String> {
    let bad = || DomainError::validation(field, format!("`{value}` is not a date (YYYY-MM-DD)"));
    let parts: Vec<&str> = value.split('-').collect();
    if parts.len() != 3 || parts[0].len() != 4 || parts[1].len() != 2 || parts[2].len() != 2 {
        return Err(bad());
    }
    let y: i64 = parts[0].parse().map_err(|_| bad())?;
    let m: u32 = parts[1].parse().map_err(|_| bad())?;
    let d: u32 = parts[2].parse().map_err(|_| bad())?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err(bad());
    }
    Ok(format!("{y:04}-{m:02}-{d:02}"))
}

/// Milliseconds in `days` days.
pub fn days_ms(days: u32) -> u64 {
    u64::from(days) * MS_PER_DAY
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_date_of_known_instants() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(1_709_251_199_999), "2024-02-29");
        assert_eq!(utc_date(1_795_996_800_000), "2026-11-30");
    }

    #[test]
    fn parse_date_rejects_impossible_days() {
        assert!(parse_date("date", "2024-02-29").is_ok());
        assert!(parse_date("date", "2023-02-29").is_err());
        assert!(parse_date("date", "2024-13-01").is_err());
        assert!(parse_date("date", "24-01-01").is_err());
    }

    #[test]
    fn money_arithmetic_is_checked() {
        let a = Money::parse("a", MAX_AMOUNT, "usd").unwrap();
        assert_eq!(a.currency.as_str(), "USD");
        let one = Money::parse("b", 1, "USD").unwrap();
        assert!(a.checked_add(&one, "sum").is_err());
        let eur = Money::parse("c", 1, "EUR").unwrap();
        assert!(one.checked_add(&eur, "sum").is_err());
        assert!(one.checked_sub(&a, "diff").is_err());
        assert_eq!(
            Money::parse("d", 1999, "").unwrap().to_string(),
            "19.99 USD"
        );
    }

    #[test]
    fn string_bounds_count_characters_not_bytes() {
        assert!(check_len("f", &"é".repeat(50), 1, 50).is_ok());
        assert!(check_len("f", &"é".repeat(51), 1, 50).is_err());
    }

    #[test]
    fn uuids_are_normalised() {
        let id = parse_uuid("id", "8B6F8D1C-6A0E-4C4B-9E7A-3C2D1B0A9F8E").unwrap();
        assert_eq!(id, "8b6f8d1c-6a0e-4c4b-9e7a-3c2d1b0a9f8e");
        assert!(parse_uuid("id", "nope").is_err());
    }
}
