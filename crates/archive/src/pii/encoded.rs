//! PII inside base64 text: a run of base64 characters (either alphabet, any alignment)
//! whose bytes, read as UTF-8, as UTF-16 in both byte orders or as base64 text again,
//! hold an e-mail address or a phone number. This is also how binary values (`B`, `BS`)
//! are searched: the archive holds them as their base64 text.

use std::ops::Range;

use base64::Engine;

/// Shortest base64 text that can hide PII: `a@b.co` is 6 bytes, 8 characters.
const MIN_ENCODED: usize = 8;

/// How many layers of base64 inside base64 are decoded.
pub(super) const MAX_DEPTH: usize = 3;

fn is_b64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_')
}

/// The first run of base64 text at or after `from` that hides PII; `depth` bounds the
/// layers still to decode.
pub(super) fn find_encoded(s: &str, from: usize, depth: usize) -> Option<Range<usize>> {
    if depth == 0 {
        return None;
    }
    let b = s.as_bytes();
    let mut i = from;
    while i < b.len() {
        if !is_b64(b[i]) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < b.len() && is_b64(b[j]) {
            j += 1;
        }
        if j - i >= MIN_ENCODED && decodes_to_pii(&b[i..j], depth) {
            let mut end = j;
            while end < b.len() && b[end] == b'=' {
                end += 1;
            }
            return Some(i..end);
        }
        i = j;
    }
    None
}

/// Decodes base64 whatever its padding and the unused bits of its last character, so
/// that a run cut at any alignment decodes to its last whole byte.
const LENIENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Whether some alignment of `run` (base64 of either alphabet, padding stripped) decodes
/// to bytes that hold PII. The run's last two or three characters (one or two bytes) are
/// decoded too: `555 1111` is eight bytes, eleven characters.
fn decodes_to_pii(run: &[u8], depth: usize) -> bool {
    let run: Vec<u8> = run
        .iter()
        .map(|&c| match c {
            b'-' => b'+',
            b'_' => b'/',
            c => c,
        })
        .collect();
    let mut bytes = Vec::with_capacity(run.len() / 4 * 3 + 3);
    for skip in 0..4.min(run.len()) {
        let part = &run[skip..];
        // One character left over holds no whole byte.
        let part = &part[..part.len() - usize::from(part.len() % 4 == 1)];
        if part.len() < MIN_ENCODED {
            break;
        }
        bytes.clear();
        if LENIENT.decode_vec(part, &mut bytes).is_ok() && bytes_hold_pii(&bytes, depth - 1) {
            return true;
        }
    }
    false
}

/// Whether decoded bytes hold PII read as UTF-8, or as UTF-16 (either byte order, from
/// either of the first two bytes).
pub(super) fn bytes_hold_pii(bytes: &[u8], depth: usize) -> bool {
    let utf8 = String::from_utf8_lossy(bytes);
    if may_hold(&utf8) && super::detect::holds_pii(&utf8, depth) {
        return true;
    }
    for start in 0..2.min(bytes.len()) {
        for big_endian in [false, true] {
            let units = bytes[start..].chunks_exact(2).map(|p| {
                let (hi, lo) = if big_endian { (p[0], p[1]) } else { (p[1], p[0]) };
                u16::from_be_bytes([hi, lo])
            });
            let text: String = char::decode_utf16(units).map(|c| c.unwrap_or('\u{fffd}')).collect();
            if may_hold(&text) && super::detect::holds_pii(&text, depth) {
                return true;
            }
        }
    }
    false
}

/// False when a reading cannot hold PII in any form: no `@` or character that stands
/// for one, fewer than 7 characters that are or may stand for digits, nothing escaped
/// and no run of base64 text long enough to hide more.
fn may_hold(text: &str) -> bool {
    let mut digits = 0;
    let mut b64_run = 0;
    for c in text.chars() {
        match c {
            '@' | '\u{ff20}' | '\u{fe6b}' | '\\' | '%' | '&' => return true,
            c if c.is_numeric() => digits += 1,
            _ => {}
        }
        if digits >= 7 {
            return true;
        }
        b64_run = if c.is_ascii() && is_b64(c as u8) { b64_run + 1 } else { 0 };
        if b64_run >= MIN_ENCODED {
            return true;
        }
    }
    false
}
