//! How [`super::SqliteStore`] keeps an event's payload: a `BLOB` whose
//! first byte names its encoding, so that a later encoding (a new
//! dictionary) never misreads an old row.
//!
//! - `0`: the payload's UTF-8 bytes as given.
//! - `1`: one zstd frame of the payload, compressed with
//!   [`DICTIONARY_1`], a raw-content dictionary of typical payloads of
//!   every event type built into the host. The dictionary never changes
//!   (a test pins its digest); a better one becomes encoding `2`.
//!
//! Decoding gives back the payload byte for byte: the store keeps the
//! string it was given. A payload over [`COMPRESSED_MAX`] bytes, or one
//! that compression would not shrink, is kept as encoding `0`.

use std::cell::RefCell;
use std::sync::LazyLock;

use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

use crate::store::StoreError;

/// The payloads of one order's lifecycle from placing to delivery (its
/// order, metrics and shipment streams, as `order-host load` writes them),
/// one a line: what encoding `1` compresses against.
pub(super) const DICTIONARY_1: &str = include_str!("payloads-1.dict");

/// The compression level of encoding `1` (chosen by measurement; see the
/// storage section of `docs/performance.md`).
const LEVEL: i32 = 9;

/// The largest payload that is compressed; a larger one is kept as given,
/// and decoding never allocates more than this for one row.
pub(super) const COMPRESSED_MAX: usize = 1 << 20;

const PLAIN: u8 = 0;
const DICTIONARY_ONE: u8 = 1;

static ENCODER: LazyLock<EncoderDictionary<'static>> =
    LazyLock::new(|| EncoderDictionary::copy(DICTIONARY_1.as_bytes(), LEVEL));
static DECODER: LazyLock<DecoderDictionary<'static>> =
    LazyLock::new(|| DecoderDictionary::copy(DICTIONARY_1.as_bytes()));

thread_local! {
    static COMPRESSOR: RefCell<Option<Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
}

/// The stored form of `payload`.
pub(super) fn encode(payload: &str) -> Vec<u8> {
    let bytes = payload.as_bytes();
    if bytes.len() <= COMPRESSED_MAX
        && let Some(frame) = compress(bytes)
        && frame.len() < bytes.len()
    {
        let mut stored = Vec::with_capacity(frame.len() + 1);
        stored.push(DICTIONARY_ONE);
        stored.extend_from_slice(&frame);
        return stored;
    }
    let mut stored = Vec::with_capacity(bytes.len() + 1);
    stored.push(PLAIN);
    stored.extend_from_slice(bytes);
    stored
}

/// The payload `stored` holds; a row that does not decode is a damaged
/// store (`unavailable`), never a made-up payload.
pub(super) fn decode(stored: &[u8]) -> Result<String, StoreError> {
    let corrupt =
        |why: &str| StoreError::Unavailable(format!("corrupt store: an event payload {why}"));
    let bytes = match stored.split_first() {
        Some((&PLAIN, bytes)) => bytes.to_vec(),
        Some((&DICTIONARY_ONE, frame)) => {
            decompress(frame).ok_or_else(|| corrupt("does not decompress"))?
        }
        Some((other, _)) => return Err(corrupt(&format!("has the unknown encoding {other}"))),
        None => return Err(corrupt("is empty")),
    };
    String::from_utf8(bytes).map_err(|_| corrupt("is not UTF-8"))
}

fn compress(bytes: &[u8]) -> Option<Vec<u8>> {
    COMPRESSOR.with_borrow_mut(|slot| {
        if slot.is_none() {
            *slot = Compressor::with_prepared_dictionary(&ENCODER).ok();
        }
        slot.as_mut()?.compress(bytes).ok()
    })
}

fn decompress(frame: &[u8]) -> Option<Vec<u8>> {
    // The frame records its content size; a damaged one larger than any
    // compressed payload is refused before anything is allocated.
    let size = zstd::zstd_safe::get_frame_content_size(frame).ok()??;
    let size = usize::try_from(size)
        .ok()
        .filter(|&s| s <= COMPRESSED_MAX)?;
    let bytes = DECOMPRESSOR.with_borrow_mut(|slot| {
        if slot.is_none() {
            *slot = Decompressor::with_prepared_dictionary(&DECODER).ok();
        }
        slot.as_mut()?.decompress(frame, size).ok()
    })?;
    (bytes.len() == size).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest as _, Sha256};

    #[test]
    fn every_payload_of_the_dictionary_comes_back_byte_for_byte_and_smaller() {
        for payload in DICTIONARY_1.lines() {
            let stored = encode(payload);
            assert_eq!(stored[0], DICTIONARY_ONE, "{payload}");
            assert!(
                stored.len() * 2 < payload.len(),
                "{} bytes stored for {payload}",
                stored.len()
            );
            assert_eq!(decode(&stored).unwrap(), payload);
        }
    }

    #[test]
    fn any_string_comes_back_as_given() {
        let long = "x".repeat(COMPRESSED_MAX + 1);
        for payload in ["", "{}", "ünïcödé \u{0} \"quoted\"", &long] {
            assert_eq!(decode(&encode(payload)).unwrap(), payload);
        }
        assert_eq!(encode("{}"), b"\0{}", "too short to shrink: kept as given");
        assert_eq!(encode(&long)[0], PLAIN, "over the limit: kept as given");
    }

    #[test]
    fn a_damaged_row_is_unavailable_not_a_made_up_payload() {
        let mut stored = encode(DICTIONARY_1.lines().next().unwrap());
        stored.truncate(stored.len() / 2);
        for bad in [&stored[..], b"", b"\x07abc", b"\x00\xff\xfe"] {
            assert!(
                matches!(decode(bad), Err(StoreError::Unavailable(m)) if m.contains("corrupt")),
                "{bad:?}"
            );
        }
    }

    /// Rows of encoding 1 are only readable with exactly this dictionary.
    #[test]
    fn the_dictionary_of_encoding_one_never_changes() {
        let digest = hex_digest(&Sha256::digest(DICTIONARY_1.as_bytes()));
        assert_eq!(digest, PINNED_DIGEST, "make a new encoding instead");
    }

    fn hex_digest(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    const PINNED_DIGEST: &str = "90d7f58ca98e127a2553ab4d13bd923fd9f71affd7c07433b0ba3f7bd4c88cf4";
}
