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

/// Whether UTF-8 `bytes` hold a multi-byte character that may stand for a digit or an
/// `@`: superscript digits, the digits of the scripts below U+0800 that are not Latin, or
/// any valid sequence of a lead byte whose block holds digits or their compatibility forms
/// (U+0800 to U+3FFF, U+A000 to U+AFFF, U+F000 to U+FFFF, the supplementary planes).
fn may_encode_digit(bytes: &[u8]) -> bool {
    let cont = |i: usize| bytes.get(i).is_some_and(|&b| (0x80..0xc0).contains(&b));
    (0..bytes.len()).any(|i| match (bytes[i], bytes.get(i + 1).copied().unwrap_or(0)) {
        (0xc2, 0xb2 | 0xb3 | 0xb9) | (0xd9, 0xa0..=0xa9) | (0xdb, 0xb0..=0xb9) | (0xdf, 0x80..=0x89) => true,
        (0xe0 | 0xe1 | 0xe2 | 0xe3 | 0xea | 0xef, _) => cont(i + 1) && cont(i + 2),
        (0xf0, _) => cont(i + 1) && cont(i + 2) && cont(i + 3),
        _ => false,
    })
}

/// Shortest UTF-16 text that can hold PII: `a@b.co` is 12 bytes.
const MIN_UTF16: usize = 12;

/// Whether decoded bytes hold PII read as UTF-8, or as UTF-16 (either byte order, from
/// either of the first two bytes). Each reading is first checked without being built.
pub(super) fn bytes_hold_pii(bytes: &[u8], depth: usize) -> bool {
    let utf8_may_hold = if !may_encode_digit(bytes) {
        // Only its ASCII can matter: the other bytes stand for no digit and no `@`.
        may_hold(bytes.iter().map(|&b| if b.is_ascii() { char::from(b) } else { '\u{fffd}' }))
    } else {
        may_hold(bytes.utf8_chunks().flat_map(|c| c.valid().chars().chain(c.invalid().first().map(|_| '\u{fffd}'))))
    };
    if utf8_may_hold && super::detect::holds_pii(&String::from_utf8_lossy(bytes), depth) {
        return true;
    }
    if bytes.len() < MIN_UTF16 {
        return false;
    }
    for start in 0..2 {
        for big_endian in [false, true] {
            let units = || {
                bytes[start..].chunks_exact(2).map(move |p| {
                    if big_endian {
                        u16::from_be_bytes([p[0], p[1]])
                    } else {
                        u16::from_le_bytes([p[0], p[1]])
                    }
                })
            };
            if units_may_hold(units()) {
                let text: String = char::decode_utf16(units()).map(|c| c.unwrap_or('\u{fffd}')).collect();
                if super::detect::holds_pii(&text, depth) {
                    return true;
                }
            }
        }
    }
    false
}

/// [`may_hold`] on UTF-16 code units, without decoding them: a high surrogate of the
/// blocks of mathematical and enclosed digits counts as a digit, and two escape
/// characters as a possible escape.
fn units_may_hold(units: impl Iterator<Item = u16>) -> bool {
    let mut digits = 0;
    let mut escapes = 0;
    let mut b64_run = 0;
    for u in units {
        match u {
            0x40 | 0xff20 | 0xfe6b => return true,
            0x5c | 0x25 | 0x26 => escapes += 1,
            0x30..=0x39 | 0xff10..=0xff19 | 0xd835 | 0xd83c => digits += 1,
            0..=0x7f => {}
            u => {
                if char::from_u32(u32::from(u)).is_some_and(digit_like) {
                    digits += 1;
                }
            }
        }
        b64_run = if u < 0x80 && is_b64(u as u8) { b64_run + 1 } else { 0 };
        if digits >= 7 || b64_run >= MIN_ENCODED || escapes >= 2 {
            return true;
        }
    }
    false
}

/// False when a reading cannot hold PII in any form: no `@` or character that stands
/// for one, fewer than 7 characters that are or may stand for digits, no escape (a
/// backslash, `%` or `&` followed by what an escape or reference starts with) and no run
/// of base64 text long enough to hide more.
fn may_hold(text: impl Iterator<Item = char>) -> bool {
    let mut digits = 0;
    let mut b64_run = 0;
    let mut escape: Option<char> = None;
    for c in text {
        let escaped = match escape.take() {
            Some('\\') => matches!(c, 'u' | '"' | '\\' | '/' | 'n' | 't' | 'r' | 'b' | 'f'),
            Some('%') => c.is_ascii_hexdigit(),
            Some('&') => c == '#' || c.is_ascii_alphabetic(),
            _ => false,
        };
        if escaped {
            return true;
        }
        match c {
            '@' | '\u{ff20}' | '\u{fe6b}' => return true,
            '\\' | '%' | '&' => escape = Some(c),
            c if digit_like(c) => digits += 1,
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

/// Whether `c` is or may stand for a digit: an ASCII digit, a decimal digit of another
/// script, or a compatibility form of one (superscripts, subscripts, circled, full-width,
/// mathematical and enclosed digits).
fn digit_like(c: char) -> bool {
    let cp = u32::from(c);
    if cp < 0x80 {
        return c.is_ascii_digit();
    }
    matches!(cp, 0xb2 | 0xb3 | 0xb9 | 0x2070..=0x2089 | 0x2460..=0x24ff | 0x2776..=0x2793 | 0x3251..=0x32bf | 0x1d7ce..=0x1d7ff | 0x1f100..=0x1f10c)
        || super::forms::is_decimal_digit(c)
}
