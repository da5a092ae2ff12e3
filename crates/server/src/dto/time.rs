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

/// An RFC 3339 time read as milliseconds (what the `with` modules parse).
struct Millis(u64);

impl<'de> serde::Deserialize<'de> for Millis {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TimeVisitor).map(Millis)
    }
}

struct TimeVisitor;

impl serde::de::Visitor<'_> for TimeVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an RFC 3339 time such as 2026-12-01T14:52:00Z")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<u64, E> {
        parse(text).ok_or_else(|| {
            E::custom(format!(
                "`{text}` is not an RFC 3339 time from 1970 on, such as 2026-12-01T14:52:00Z"
            ))
        })
    }
}

/// `#[serde(with = "...")]` for a `u64` of milliseconds written as RFC 3339.
pub mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ms: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::format(*ms))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        super::Millis::deserialize(deserializer).map(|m| m.0)
    }

    /// The same for an `Option<u64>` (absent or null is `None`).
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

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
            Option::<super::super::Millis>::deserialize(deserializer).map(|o| o.map(|m| m.0))
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

    #[test]
    fn a_number_or_a_malformed_time_is_refused_in_plain_words() {
        #[derive(Debug, serde::Deserialize)]
        struct At {
            #[serde(with = "rfc3339")]
            #[allow(dead_code)]
            at: u64,
        }
        let error = serde_json::from_str::<At>(r#"{"at": 1796136720123}"#).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("expected an RFC 3339 time such as"),
            "{error}"
        );
        let error = serde_json::from_str::<At>(r#"{"at": "yesterday"}"#).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`yesterday` is not an RFC 3339 time"),
            "{error}"
        );
        let at: At = serde_json::from_str(r#"{"at": "2026-12-01T14:52:00.123Z"}"#).unwrap();
        assert_eq!(at.at, 1_796_136_720_123);
    }
}
