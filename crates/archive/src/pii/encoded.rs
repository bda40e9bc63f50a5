//! PII inside base64 text: a run of base64 characters (either alphabet, any alignment)
//! whose bytes, read as UTF-8, as UTF-16 in both byte orders or as base64 text again,
//! hold an e-mail address or a phone number. This is also how binary values (`B`, `BS`)
//! are searched: the archive holds them as their base64 text.

use std::ops::Range;

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
        if CLASS[usize::from(b[i])] & B64 == 0 {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < b.len() && CLASS[usize::from(b[j])] & B64 != 0 {
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

/// Runs up to this many characters are decoded on the stack.
const STACK_RUN: usize = 256;

/// Whether some alignment of `run` (base64 of either alphabet, padding stripped) decodes
/// to bytes that hold PII. The run's last two or three characters (one or two bytes) are
/// decoded too: `555 1111` is eight bytes, eleven characters.
fn decodes_to_pii(run: &[u8], depth: usize) -> bool {
    let mut stack = [0u8; STACK_RUN / 4 * 3 + 3];
    let mut heap = Vec::new();
    let out: &mut [u8] = if run.len() <= STACK_RUN {
        &mut stack
    } else {
        heap.resize(run.len() / 4 * 3 + 3, 0);
        &mut heap
    };
    for skip in 0..4.min(run.len()) {
        let part = &run[skip..];
        if part.len() < MIN_ENCODED {
            break;
        }
        let n = super::lenient_base64::decode_into(part, out);
        if bytes_hold_pii(&out[..n], depth - 1) {
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
    let leads = bytes.iter().enumerate().filter(|(_, &b)| CLASS[usize::from(b)] & LEAD != 0).map(|(i, _)| i);
    leads.into_iter().any(|i| match (bytes[i], bytes.get(i + 1).copied().unwrap_or(0)) {
        (0xc2, 0xb2 | 0xb3 | 0xb9) | (0xd9, 0xa0..=0xa9) | (0xdb, 0xb0..=0xb9) | (0xdf, 0x80..=0x89) => true,
        (0xe0 | 0xe1 | 0xe2 | 0xe3 | 0xea | 0xef, _) => cont(i + 1) && cont(i + 2),
        (0xf0, _) => cont(i + 1) && cont(i + 2) && cont(i + 3),
        _ => false,
    })
}

/// Shortest UTF-16 text that can hold PII: `a@b.co` is 12 bytes.
const MIN_UTF16: usize = 12;

/// What one pass over decoded bytes tells of their readings.
struct Scan {
    /// Their ASCII alone may hold PII (an `@`, seven digits, an escape, a base64 run).
    ascii: bool,
    /// A lead byte of a character that may stand for a digit or an `@`, followed by a
    /// continuation byte.
    lead: bool,
    /// By position parity: the high bytes of UTF-16 units there may make PII.
    utf16: [bool; 2],
}

const DIGIT: u8 = 1;
const B64: u8 = 2;
const LEAD: u8 = 4;
const HIGH: u8 = 8;
const ASCII_HIGH: u8 = 16;
const AT: u8 = 32;
const ESCAPE: u8 = 64;
/// A continuation byte of UTF-8 (`80` to `BF`).
const CONT: u8 = 128;

/// The class bits of each byte value.
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        let mut bits = 0;
        if b.is_ascii_digit() {
            bits |= DIGIT;
        }
        if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_') {
            bits |= B64;
        }
        if matches!(b, 0xc2 | 0xd9 | 0xdb | 0xdf | 0xe0..=0xe3 | 0xea | 0xef | 0xf0) {
            bits |= LEAD;
        }
        if DIGIT_HIGH[c] {
            bits |= HIGH;
        }
        if matches!(b, 0x00 | 0xfe | 0xff) {
            bits |= ASCII_HIGH;
        }
        if b == b'@' {
            bits |= AT;
        }
        if matches!(b, b'\\' | b'%' | b'&') {
            bits |= ESCAPE;
        }
        if matches!(b, 0x80..=0xbf) {
            bits |= CONT;
        }
        t[c] = bits;
        c += 1;
    }
    t
};

/// What the pass over decoded bytes gathers, one byte at a time.
#[derive(Default)]
struct Gathered {
    /// Every class bit seen.
    any: u8,
    digits: u32,
    /// The current and the longest run of base64 characters.
    run: u32,
    longest: u32,
    /// `LEAD` when a lead byte was followed by a continuation byte.
    lead_cont: u8,
    previous: u8,
}

impl Gathered {
    #[inline(always)]
    fn add(&mut self, class: u8) {
        self.any |= class;
        self.digits += u32::from(class & DIGIT);
        self.run = (self.run + 1) * u32::from((class & B64) >> 1);
        self.longest = self.longest.max(self.run);
        self.lead_cont |= self.previous & LEAD & ((class & CONT) >> 5);
        self.previous = class;
    }
}

/// One pass over `bytes`: see [`Scan`]. The loop has no branch of its own, and takes the
/// bytes two at a time so that each parity's counts stay in registers; only when an
/// escape character was seen is the byte after each one looked at.
fn scan(bytes: &[u8]) -> Scan {
    let mut g = Gathered::default();
    let (mut ascii_high, mut digit_high) = ([0u32; 2], [0u32; 2]);
    let pairs = bytes.chunks_exact(2);
    let last = pairs.remainder().first().copied();
    for pair in pairs {
        let (even, odd) = (CLASS[usize::from(pair[0])], CLASS[usize::from(pair[1])]);
        g.add(even);
        g.add(odd);
        ascii_high[0] += u32::from((even & ASCII_HIGH) >> 4);
        ascii_high[1] += u32::from((odd & ASCII_HIGH) >> 4);
        digit_high[0] += u32::from((even & HIGH) >> 3);
        digit_high[1] += u32::from((odd & HIGH) >> 3);
    }
    if let Some(b) = last {
        let class = CLASS[usize::from(b)];
        g.add(class);
        ascii_high[0] += u32::from((class & ASCII_HIGH) >> 4);
        digit_high[0] += u32::from((class & HIGH) >> 3);
    }
    let escaped = g.any & ESCAPE != 0 && bytes.windows(2).any(|w| escape_starts(w[0], w[1]));
    Scan {
        ascii: g.any & AT != 0 || escaped || g.digits >= 7 || g.longest >= MIN_ENCODED as u32,
        lead: g.lead_cont != 0,
        utf16: [0, 1].map(|p| ascii_high[p] >= 2 || digit_high[p] >= 7),
    }
}

/// Whether `c` then `next` start an escape or a character reference.
fn escape_starts(c: u8, next: u8) -> bool {
    match c {
        b'\\' => matches!(next, b'u' | b'"' | b'\\' | b'/' | b'n' | b't' | b'r' | b'b' | b'f'),
        b'%' => next.is_ascii_hexdigit(),
        b'&' => next == b'#' || next.is_ascii_alphabetic(),
        _ => false,
    }
}

/// Whether decoded bytes hold PII read as UTF-8, or as UTF-16 (either byte order, from
/// either of the first two bytes). Each reading is first checked without being built.
pub(super) fn bytes_hold_pii(bytes: &[u8], depth: usize) -> bool {
    let scan = scan(bytes);
    let utf8_may_hold = scan.ascii
        || (scan.lead
            && may_encode_digit(bytes)
            && may_hold(
                bytes.utf8_chunks().flat_map(|c| c.valid().chars().chain(c.invalid().first().map(|_| '\u{fffd}'))),
            ));
    if utf8_may_hold && super::detect::holds_pii(&String::from_utf8_lossy(bytes), depth) {
        return true;
    }
    if bytes.len() < MIN_UTF16 {
        return false;
    }
    for start in 0..2 {
        for big_endian in [false, true] {
            // The high bytes of the units: even positions for big-endian from byte 0 and
            // little-endian from byte 1, odd ones otherwise.
            if !scan.utf16[(start + usize::from(!big_endian)) % 2] {
                continue;
            }
            let units = || {
                bytes[start..].chunks_exact(2).map(move |p| {
                    if big_endian {
                        u16::from_be_bytes([p[0], p[1]])
                    } else {
                        u16::from_le_bytes([p[0], p[1]])
                    }
                })
            };
            let chars = || char::decode_utf16(units()).map(|c| c.unwrap_or('\u{fffd}'));
            if may_hold(chars()) && super::detect::holds_pii(&chars().collect::<String>(), depth) {
                return true;
            }
        }
    }
    false
}

/// High bytes of the UTF-16 code units that may stand for a digit or an `@`: ASCII and
/// Latin-1 (`00`), the blocks with digits of a script or their compatibility forms, the
/// surrogates of the mathematical and enclosed digits, and the full-width and small forms.
const DIGIT_HIGH: [bool; 256] = {
    let mut t = [false; 256];
    let highs: &[u8] = &[
        0x00, 0x06, 0x07, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x20,
        0x24, 0x27, 0x32, 0xa6, 0xa8, 0xa9, 0xaa, 0xab, 0xd8, 0xfe, 0xff,
    ];
    let mut i = 0;
    while i < highs.len() {
        t[highs[i] as usize] = true;
        i += 1;
    }
    t
};

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
            '0'..='9' => digits += 1,
            c if !c.is_ascii() && c != '\u{fffd}' && digit_like(c) => digits += 1,
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
