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

/// The UTF-8 bytes that start a character that may stand for a digit, an `@` or an
/// escape (whose NFKC form holds one, or a digit of another script), by class: the lead
/// bytes of such 2-byte characters (each its own bit: `C2`, `D9`, `DB`, `DF`), of the
/// 3-byte ones (`E0` to `E3`, `EA`, `EF`: U+0800 to U+3FFF, U+A000 to U+AFFF, U+F000
/// to U+FFFF) and of the 4-byte ones (`F0`: the supplementary planes), and the
/// continuation bytes. The test `leads_cover_every_character_that_may_stand_for_a_digit`
/// checks the blocks against NFKC.
const UTF8: [u8; 256] = {
    let mut t = [0u8; 256];
    t[0xc2] = 1;
    t[0xd9] = 2;
    t[0xdb] = 4;
    t[0xdf] = 8;
    let mut c = 0usize;
    while c < 256 {
        if matches!(c, 0xe0..=0xe3 | 0xea | 0xef) {
            t[c] |= LEAD3;
        }
        if c == 0xf0 {
            t[c] |= LEAD4;
        }
        if matches!(c, 0x80..=0xbf) {
            t[c] |= CONT;
        }
        c += 1;
    }
    t
};
const LEAD3: u8 = 16;
const LEAD4: u8 = 32;
const CONT: u8 = 64;

/// The second bytes of the 2-byte characters of [`UTF8`], by the bit of their lead byte:
/// `C2` B2 B3 B9 BC to BE (superscripts, fractions), `D9` A0 to A9 and `DB` B0 to B9
/// (Arabic-Indic digits), `DF` 80 to 89 (NKo digits).
const SECOND: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0usize;
    while c < 256 {
        let mut bits = 0;
        if matches!(c, 0xb2 | 0xb3 | 0xb9 | 0xbc..=0xbe) {
            bits |= 1;
        }
        if matches!(c, 0xa0..=0xa9) {
            bits |= 2;
        }
        if matches!(c, 0xb0..=0xb9) {
            bits |= 4;
        }
        if matches!(c, 0x80..=0x89) {
            bits |= 8;
        }
        t[c] = bits;
        c += 1;
    }
    t
};

/// Shortest UTF-16 text that can hold PII: `a@b.co` is 12 bytes.
const MIN_UTF16: usize = 12;

/// What one pass over decoded bytes tells of their readings.
struct Scan {
    /// Their ASCII alone may hold PII (an `@`, seven digits with nothing between them
    /// that a phone number could not have, an escape, a base64 run).
    ascii: bool,
    /// A whole UTF-8 character that may stand for a digit, an `@` or an escape.
    lead: bool,
    /// By position parity: the high bytes of UTF-16 units there may make PII.
    utf16: [bool; 2],
}

const DIGIT: u8 = 1;
const B64: u8 = 2;
/// An ASCII byte that ends a run of digits that could be a phone number: not a digit, a
/// control, a space or one of `) . - (`.
const BREAK: u8 = 4;
const HIGH: u8 = 8;
const ASCII_HIGH: u8 = 16;
const AT: u8 = 32;
const ESCAPE: u8 = 64;

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
        if b.is_ascii_graphic() && !b.is_ascii_digit() && !matches!(b, b')' | b'.' | b'-' | b'(') {
            bits |= BREAK;
        }
        if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_') {
            bits |= B64;
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
    /// The current and the longest run of digits with nothing but what may read as a
    /// phone number's separators (or as nothing) between them.
    chain: u32,
    longest_chain: u32,
    /// The current and the longest run of base64 characters.
    run: u32,
    longest: u32,
    /// Not zero when a whole character of [`UTF8`] was seen.
    lead: u8,
    /// The [`UTF8`] classes of the last three bytes, the last one first.
    before: [u8; 3],
}

impl Gathered {
    #[inline(always)]
    fn add(&mut self, byte: u8) {
        let class = CLASS[usize::from(byte)];
        self.any |= class;
        self.chain = (self.chain + u32::from(class & DIGIT)) * u32::from(class & BREAK == 0);
        self.longest_chain = self.longest_chain.max(self.chain);
        self.run = (self.run + 1) * u32::from((class & B64) >> 1);
        self.longest = self.longest.max(self.run);
        let utf8 = UTF8[usize::from(byte)];
        let [b1, b2, b3] = self.before;
        let cont = |u: u8| (u & CONT) >> 6;
        let two = b1 & 0x0f & SECOND[usize::from(byte)];
        let three = ((b2 & LEAD3) >> 4) & cont(b1) & cont(utf8);
        let four = ((b3 & LEAD4) >> 5) & cont(b2) & cont(b1) & cont(utf8);
        self.lead |= two | three | four;
        self.before = [utf8, b1, b2];
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
        g.add(pair[0]);
        g.add(pair[1]);
        ascii_high[0] += u32::from((even & ASCII_HIGH) >> 4);
        ascii_high[1] += u32::from((odd & ASCII_HIGH) >> 4);
        digit_high[0] += u32::from((even & HIGH) >> 3);
        digit_high[1] += u32::from((odd & HIGH) >> 3);
    }
    if let Some(b) = last {
        let class = CLASS[usize::from(b)];
        g.add(b);
        ascii_high[0] += u32::from((class & ASCII_HIGH) >> 4);
        digit_high[0] += u32::from((class & HIGH) >> 3);
    }
    let escaped = g.any & ESCAPE != 0 && bytes.windows(2).any(|w| escape_starts(w[0], w[1]));
    Scan {
        ascii: g.any & AT != 0 || escaped || g.longest_chain >= 7 || g.longest >= MIN_ENCODED as u32,
        lead: g.lead != 0,
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

/// False when a reading cannot hold PII in any form: each character read as the
/// readings fold it ([`fold_char`](super::forms::fold_char): compatibility forms, digits
/// of every script, separators, invisible characters), there is no `@`, fewer than 7
/// digits, no escape (a backslash, `%` or `&` followed by what an escape or reference
/// starts with) and no run of base64 text long enough to hide more.
fn may_hold(text: impl Iterator<Item = char>) -> bool {
    let mut digits = 0;
    let mut b64_run = 0;
    let mut escape: Option<char> = None;
    let found = std::cell::Cell::new(false);
    let mut look = |c: char| {
        let escaped = match escape.take() {
            Some('\\') => matches!(c, 'u' | '"' | '\\' | '/' | 'n' | 't' | 'r' | 'b' | 'f'),
            Some('%') => c.is_ascii_hexdigit(),
            Some('&') => c == '#' || c.is_ascii_alphabetic(),
            _ => false,
        };
        match c {
            '@' => found.set(true),
            '\\' | '%' | '&' => escape = Some(c),
            '0'..='9' => digits += 1,
            _ => {}
        }
        b64_run = if c.is_ascii() && is_b64(c as u8) { b64_run + 1 } else { 0 };
        if escaped || digits >= 7 || b64_run >= MIN_ENCODED {
            found.set(true);
        }
    };
    for c in text {
        super::forms::fold_char(c, &mut look);
        if found.get() {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests;
