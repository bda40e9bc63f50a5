//! Text read as what it stands for (contract section 3, "every form of the text"): JSON
//! escapes, percent escapes, HTML/XML character references, Unicode compatibility forms
//! (NFKC) and decimal digits of every script, any Unicode space or dash as a separator,
//! invisible format characters and combining marks dropped.
//!
//! [`readings`] yields the successive readings of a string, each one decoding what the one
//! before still encodes (`%26%2364%3B` is `&#64;`, which is `@`), so that a rule that holds
//! on plain text holds on every form. Plain ASCII text with none of `\ % &` and no control
//! character is its own reading: the common case costs one scan of its bytes.

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// At most this many decoding rounds: each one undoes one layer of encoding.
const MAX_ROUNDS: usize = 4;

/// Whether `s` may stand for other text than its plain reading.
pub fn is_encoded(s: &str) -> bool {
    // Without an early exit, so that the loop over each chunk vectorizes.
    s.as_bytes().chunks(64).any(|chunk| chunk.iter().fold(false, |any, &c| any | ENCODED[usize::from(c)]))
}

/// The bytes that may start another reading: controls, `\`, `%`, `&`, DEL and every byte
/// of a non-ASCII character.
const ENCODED: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = c < 0x20 || c >= 0x7f || c == b'\\' as usize || c == b'%' as usize || c == b'&' as usize;
        c += 1;
    }
    t
};

/// The readings of `s` after its plain one, each decoding one more layer, until nothing
/// changes (at most [`MAX_ROUNDS`]). Empty when `s` is plain ASCII without escapes.
pub fn readings(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if !is_encoded(s) || only_replacement_characters(s) {
        return out;
    }
    for _ in 0..MAX_ROUNDS {
        let current = out.last().map_or(s, String::as_str);
        let next = round(current);
        if next == current {
            break;
        }
        let done = !is_encoded(&next);
        out.push(next);
        if done {
            break;
        }
    }
    out
}

/// Whether the only characters of `s` that [`is_encoded`] flags are U+FFFD, which no
/// round changes (it has no compatibility form and is neither a separator nor invisible):
/// the text of bytes that are mostly not UTF-8, as a base64 run decodes to, is then its
/// own reading.
fn only_replacement_characters(s: &str) -> bool {
    s.chars().all(|c| c == '\u{fffd}' || (c.is_ascii() && !ENCODED[c as usize]))
}

/// One round: escapes decoded, then compatibility forms and separators folded.
fn round(s: &str) -> String {
    let decoded = if s.bytes().any(|c| matches!(c, b'\\' | b'%' | b'&')) { decode_escapes(s) } else { s.to_owned() };
    fold(&decoded)
}

/// JSON escapes (`\u0040`, `\n`, surrogate pairs), percent escapes (`%40`, UTF-8
/// sequences such as `%EF%BC%A0`) and HTML/XML character references (`&#64;`, `&#x40;`,
/// `&commat;`), decoded leniently in one pass: what does not decode stays as it is, and
/// bytes that are no UTF-8 become U+FFFD.
fn decode_escapes(s: &str) -> String {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += json_escape(b, i, &mut out),
            b'%' => match (b.get(i + 1).and_then(|&c| hex(c)), b.get(i + 2).and_then(|&c| hex(c))) {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'&' => i += char_reference(s, i, &mut out),
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn push_char(c: char, out: &mut Vec<u8>) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// Four hex digits at `i`, as a UTF-16 code unit.
fn unit_at(b: &[u8], i: usize) -> Option<u32> {
    let digits = b.get(i..i + 4)?;
    digits.iter().try_fold(0u32, |acc, &c| hex(c).map(|d| acc * 16 + u32::from(d)))
}

/// The JSON escape at `i` (a backslash) written to `out`; returns the bytes it took.
fn json_escape(b: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
    let simple = match b.get(i + 1) {
        Some(b'n') => Some(b'\n'),
        Some(b't') => Some(b'\t'),
        Some(b'r') => Some(b'\r'),
        Some(b'b') => Some(0x08),
        Some(b'f') => Some(0x0c),
        Some(&c @ (b'"' | b'\\' | b'/')) => Some(c),
        _ => None,
    };
    if let Some(c) = simple {
        out.push(c);
        return 2;
    }
    if b.get(i + 1) != Some(&b'u') {
        out.push(b'\\');
        return 1;
    }
    let Some(unit) = unit_at(b, i + 2) else {
        out.push(b'\\');
        return 1;
    };
    if (0xd800..0xdc00).contains(&unit) && b.get(i + 6) == Some(&b'\\') && b.get(i + 7) == Some(&b'u') {
        if let Some(low @ 0xdc00..=0xdfff) = unit_at(b, i + 8) {
            let c = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
            push_char(char::from_u32(c).unwrap_or('\u{fffd}'), out);
            return 12;
        }
    }
    push_char(char::from_u32(unit).unwrap_or('\u{fffd}'), out);
    6
}

/// Named references that stand for a character of an e-mail address or a phone number,
/// a separator, or a character that other references are written with.
const NAMED: &[(&str, char)] = &[
    ("commat", '@'),
    ("period", '.'),
    ("plus", '+'),
    ("minus", '\u{2212}'),
    ("hyphen", '\u{2010}'),
    ("dash", '\u{2010}'),
    ("ndash", '\u{2013}'),
    ("mdash", '\u{2014}'),
    ("lpar", '('),
    ("rpar", ')'),
    ("lsqb", '['),
    ("lbrack", '['),
    ("rsqb", ']'),
    ("rbrack", ']'),
    ("colon", ':'),
    ("num", '#'),
    ("quot", '"'),
    ("apos", '\''),
    ("amp", '&'),
    ("percnt", '%'),
    ("bsol", '\\'),
    ("sol", '/'),
    ("lowbar", '_'),
    ("UnderBar", '_'),
    ("comma", ','),
    ("semi", ';'),
    ("equals", '='),
    ("excl", '!'),
    ("quest", '?'),
    ("lt", '<'),
    ("gt", '>'),
    ("nbsp", '\u{a0}'),
    ("NonBreakingSpace", '\u{a0}'),
    ("ensp", '\u{2002}'),
    ("emsp", '\u{2003}'),
    ("thinsp", '\u{2009}'),
    ("ThinSpace", '\u{2009}'),
    ("hairsp", '\u{200a}'),
    ("numsp", '\u{2007}'),
    ("puncsp", '\u{2008}'),
    ("Tab", '\t'),
    ("NewLine", '\n'),
    ("shy", '\u{ad}'),
    ("ZeroWidthSpace", '\u{200b}'),
    ("zwnj", '\u{200c}'),
    ("zwj", '\u{200d}'),
    ("NoBreak", '\u{2060}'),
];

/// The character reference at `i` (an ampersand) written to `out`; returns the bytes it
/// took. Numeric references may omit their semicolon, as HTML parsers accept them.
fn char_reference(s: &str, i: usize, out: &mut Vec<u8>) -> usize {
    let b = s.as_bytes();
    if b.get(i + 1) == Some(&b'#') {
        let (radix, start) = if matches!(b.get(i + 2), Some(b'x' | b'X')) { (16, i + 3) } else { (10, i + 2) };
        let end = (start..b.len()).find(|&k| !char::from(b[k]).is_digit(radix)).unwrap_or(b.len());
        if end > start && end - start <= 8 {
            let code = u32::from_str_radix(&s[start..end], radix).ok();
            push_char(code.and_then(char::from_u32).unwrap_or('\u{fffd}'), out);
            return end - i + usize::from(b.get(end) == Some(&b';'));
        }
    } else {
        let end = (i + 1..b.len().min(i + 20)).find(|&k| !b[k].is_ascii_alphanumeric()).unwrap_or(b.len());
        if b.get(end) == Some(&b';') {
            if let Some((_, c)) = NAMED.iter().find(|(name, _)| *name == &s[i + 1..end]) {
                push_char(*c, out);
                return end + 1 - i;
            }
        }
    }
    out.push(b'&');
    1
}

/// Compatibility forms folded (NFKC), decimal digits of every script as ASCII digits,
/// every space and control character as a space, every dash as `-`, and invisible format
/// characters and combining marks dropped.
fn fold(s: &str) -> String {
    let normalized: String =
        if s.is_ascii() || is_nfkc_quick(s.chars()) == IsNormalized::Yes { s.to_owned() } else { s.nfkc().collect() };
    let mut out = String::with_capacity(normalized.len());
    normalized.chars().for_each(|c| fold_normalized(c, &mut |f| out.push(f)));
    out
}

/// What [`fold`] makes of one character after NFKC: a digit of any script as the ASCII
/// digit, a space or control as a space, a dash as `-`, nothing for an invisible one.
fn fold_normalized(c: char, push: &mut impl FnMut(char)) {
    if let Some(d) = decimal_digit(c) {
        push(d);
    } else if c.is_whitespace() || c.is_control() {
        push(' ');
    } else if is_dash(c) {
        push('-');
    } else if !is_invisible(c) {
        push(c);
    }
}

/// One character as [`fold`] reads it, NFKC included, for the checks that must see what
/// a reading would hold without building it. Folding each character alone yields every
/// ASCII character that folding the text would (composing characters, which NFKC does
/// across them, yields none), and no fewer characters between them.
pub(super) fn fold_char(c: char, push: &mut impl FnMut(char)) {
    // The common cases first, as `fold_normalized` reads them: ASCII (a control or a
    // space is a space) and U+FFFD (itself).
    if c.is_ascii() {
        push(if c.is_ascii_control() || c == ' ' { ' ' } else { c });
    } else if c == '\u{fffd}' {
        push(c);
    } else if is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes {
        fold_normalized(c, push);
    } else {
        std::iter::once(c).nfkc().for_each(|n| fold_normalized(n, push));
    }
}

/// The code points of the digit zero of each script whose decimal digits are ten
/// consecutive code points (Unicode's `Nd` blocks that NFKC leaves as they are).
const ZEROS: &[u32] = &[
    0x0660, 0x06f0, 0x07c0, 0x0966, 0x09e6, 0x0a66, 0x0ae6, 0x0b66, 0x0be6, 0x0c66, 0x0ce6, 0x0d66, 0x0de6, 0x0e50,
    0x0ed0, 0x0f20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40, 0x1c50,
    0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136,
    0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0,
    0x16a60, 0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
];

fn decimal_digit(c: char) -> Option<char> {
    let cp = u32::from(c);
    if cp < 0x80 {
        return None;
    }
    let zero = ZEROS.get(ZEROS.partition_point(|&z| z <= cp).checked_sub(1)?)?;
    let d = cp - zero;
    (d < 10).then(|| char::from(b'0' + u8::try_from(d).unwrap_or(0)))
}

fn is_dash(c: char) -> bool {
    matches!(
        c,
        '\u{058a}' | '\u{05be}' | '\u{1400}' | '\u{1806}' | '\u{2010}'
            ..='\u{2015}'
                | '\u{2043}'
                | '\u{2053}'
                | '\u{207b}'
                | '\u{208b}'
                | '\u{2212}'
                | '\u{2e17}'
                | '\u{2e1a}'
                | '\u{2e3a}'
                | '\u{2e3b}'
                | '\u{2e40}'
                | '\u{301c}'
                | '\u{3030}'
                | '\u{30a0}'
                | '\u{fe31}'
                | '\u{fe32}'
                | '\u{fe58}'
                | '\u{fe63}'
                | '\u{ff0d}'
                | '\u{10ead}'
    )
}

/// Characters that show nothing: format characters (zero-width spaces and joiners, the
/// soft hyphen, bidirectional marks, tags, variation selectors) and combining marks.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{34f}'
            | '\u{61c}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0000}'..='\u{e0fff}'
    ) || unicode_normalization::char::is_combining_mark(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_char_reads_each_character_as_fold_does() {
        let all = (0u32..0x3_0000).filter_map(char::from_u32);
        for c in all {
            let (mut one, mut text) = (String::new(), String::new());
            fold_char(c, &mut |f| one.push(f));
            std::iter::once(c).nfkc().for_each(|n| fold_normalized(n, &mut |f| text.push(f)));
            assert_eq!(one, text, "U+{:04X}", u32::from(c));
            assert_eq!(fold(&c.to_string()), text, "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn replacement_characters_alone_are_their_own_reading() {
        for s in ["\u{fffd}5\u{fffd}55 01\u{fffd}0", "a\u{fffd}b", "\u{fffd}"] {
            assert!(readings(s).is_empty(), "{s}");
            assert_eq!(round(s), s, "{s}");
        }
        assert!(!readings("\u{fffd}%40").is_empty());
        assert!(!readings("\u{fffd}\u{ff20}").is_empty());
    }

    fn last(s: &str) -> String {
        readings(s).pop().unwrap_or_else(|| s.to_owned())
    }

    #[test]
    fn each_form_reads_as_plain_text() {
        for (form, plain) in [
            ("ana%40example.org", "ana@example.org"),
            ("ana&#64;example.org", "ana@example.org"),
            ("ana&#x40;example&period;org", "ana@example.org"),
            ("ana&commat;example.org", "ana@example.org"),
            ("ana\\u0040example.org", "ana@example.org"),
            ("ana%26%2364%3Bexample.org", "ana@example.org"),
            ("ana&amp;#64;example.org", "ana@example.org"),
            ("ａｎａ＠ｅｘａｍｐｌｅ．ｏｒｇ", "ana@example.org"),
            ("ana%EF%BC%A0example.org", "ana@example.org"),
            ("５５５ ０１０ ４４７７", "555 010 4477"),
            ("555\u{a0}010\u{2013}4477", "555 010-4477"),
            ("555\t010\u{2212}4477", "555 010-4477"),
            ("5\u{200b}5\u{301}5 010 4477", "555 010 4477"),
            ("٥٥٥ ٠١٠ ٤٤٧٧", "555 010 4477"),
            ("\\ud83d\\ude00 \\u0035", "\u{1f600} 5"),
            ("\\ud800 x", "\u{fffd} x"),
        ] {
            assert_eq!(last(form), plain, "{form}");
        }
        assert!(readings("plain ascii text 123").is_empty());
        assert_eq!(last("100% sure & 50%"), "100% sure & 50%");
    }
}
