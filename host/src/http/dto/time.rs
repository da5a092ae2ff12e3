//! Times in the API: RFC 3339 in UTC with milliseconds
//! (`2026-12-01T14:52:00.123Z`), converted from and to the milliseconds
//! since the Unix epoch that the component and the store keep.
//!
//! A DTO field keeps its `u64` and says how it is written:
//! `#[serde(with = "time::rfc3339")]` (or `time::rfc3339::option` for an
//! `Option<u64>`) with `#[schema(value_type = String, format = DateTime)]`.

use ::time::OffsetDateTime;
use ::time::format_description::well_known::Rfc3339;

/// `ms` (milliseconds since the Unix epoch) as RFC 3339 in UTC with
/// milliseconds; a time past what RFC 3339 can write is clamped to the last
/// millisecond of year 9999.
pub fn format(ms: u64) -> String {
    let nanos = i128::from(ms.min(253_402_300_799_999)) * 1_000_000;
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    // Always three fractional digits, so the strings sort as the times do.
    let whole = at.replace_nanosecond(0).unwrap_or(at);
    let text = whole.format(&Rfc3339).unwrap_or_default();
    let stem = text.strip_suffix('Z').unwrap_or(&text);
    format!("{stem}.{:03}Z", at.millisecond())
}

/// Parses an RFC 3339 time (any offset, any fraction) into milliseconds
/// since the Unix epoch; `None` for text that is not one or a time before 1970.
pub fn parse(text: &str) -> Option<u64> {
    let at = OffsetDateTime::parse(text.trim(), &Rfc3339).ok()?;
    u64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// `#[serde(with = "...")]` for a `u64` of milliseconds written as RFC 3339.
pub mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub fn serialize<S: Serializer>(ms: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::format(*ms))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::parse(&text).ok_or_else(|| {
            D::Error::custom(format!(
                "`{text}` is not an RFC 3339 time such as 2026-12-01T14:52:00Z"
            ))
        })
    }

    /// The same for an `Option<u64>` (absent or null is `None`).
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

        pub fn serialize<S: Serializer>(
            ms: &Option<u64>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match ms {
                Some(ms) => serializer.serialize_str(&super::super::format(*ms)),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<u64>, D::Error> {
            match Option::<String>::deserialize(deserializer)? {
                None => Ok(None),
                Some(text) => super::super::parse(&text).map(Some).ok_or_else(|| {
                    D::Error::custom(format!(
                        "`{text}` is not an RFC 3339 time such as 2026-12-01T14:52:00Z"
                    ))
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_is_written_in_utc_with_three_fraction_digits() {
        assert_eq!(format(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format(1_796_136_720_123), "2026-12-01T14:52:00.123Z");
        assert_eq!(format(1_796_136_720_000), "2026-12-01T14:52:00.000Z");
    }

    #[test]
    fn a_written_time_parses_back_and_offsets_are_honoured() {
        for ms in [0, 1, 999, 1_796_136_720_123, 253_402_300_799_999] {
            assert_eq!(parse(&format(ms)), Some(ms));
        }
        assert_eq!(parse("2026-12-01T15:52:00+01:00"), Some(1_796_136_720_000));
        assert_eq!(parse("2026-12-01"), None);
        assert_eq!(parse("1969-12-31T23:59:59Z"), None);
    }
}
