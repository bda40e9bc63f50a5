//! The oracle's readings of an output string: what the text stands for in every form that
//! contract section 3 counts (escapes, percent escapes, character references, NFKC,
//! digits of every script, Unicode spaces and dashes, invisible characters).
//!
//! Each round decodes one more layer, in the order JSON escapes, percent escapes,
//! character references, compatibility form; every intermediate text is a reading, so a
//! secret is found whichever layer shows it (`%26%2364%3B` is `&#64;`, which is `@`).

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// At most this many rounds: each undoes one layer of nested encoding.
const ROUNDS: usize = 4;

/// The code points of the digit zero of every script's decimal digits (Unicode category
/// Nd, 14.0): each begins a run of the ten digits 0 to 9.
const ZEROS: &[u32] = &[
    0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6, 0xe50, 0xed0,
    0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620,
    0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0,
    0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60,
    0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
];

/// Named character references read as what they stand for (HTML 5 names; the XML ones
/// among them).
const NAMED: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("commat", '@'),
    ("period", '.'),
    ("plus", '+'),
    ("nbsp", '\u{a0}'),
    ("ndash", '\u{2013}'),
    ("mdash", '\u{2014}'),
    ("minus", '\u{2212}'),
    ("hyphen", '\u{2010}'),
    ("dash", '\u{2010}'),
    ("ensp", '\u{2002}'),
    ("emsp", '\u{2003}'),
    ("thinsp", '\u{2009}'),
    ("numsp", '\u{2007}'),
    ("puncsp", '\u{2008}'),
    ("Tab", '\t'),
    ("NewLine", '\n'),
    ("shy", '\u{ad}'),
    ("ZeroWidthSpace", '\u{200b}'),
    ("zwj", '\u{200d}'),
    ("zwnj", '\u{200c}'),
    ("lpar", '('),
    ("rpar", ')'),
    ("lsqb", '['),
    ("rsqb", ']'),
    ("lbrack", '['),
    ("rbrack", ']'),
    ("colon", ':'),
    ("comma", ','),
    ("num", '#'),
    ("percnt", '%'),
    ("sol", '/'),
    ("bsol", '\\'),
    ("lowbar", '_'),
    ("excl", '!'),
    ("quest", '?'),
    ("equals", '='),
];

/// `s` and its readings, each decoding one more layer, until nothing changes.
pub fn readings(s: &str) -> Vec<String> {
    let mut out = vec![s.to_owned()];
    let mut current = s.to_owned();
    for _ in 0..ROUNDS {
        let mut next = current.clone();
        for step in [json_escapes, percent_escapes, references, compatibility] {
            if let Some(t) = step(&next) {
                out.push(t.clone());
                next = t;
            }
        }
        if next == current {
            break;
        }
        current = next;
    }
    out.dedup();
    out
}

/// `\uXXXX` (surrogate pairs joined, a lone surrogate as U+FFFD) and the one-letter JSON
/// escapes; anything else after a backslash stays as it is.
fn json_escapes(s: &str) -> Option<String> {
    if !s.contains('\\') {
        return None;
    }
    let c: Vec<char> = s.chars().collect();
    let hex4 = |i: usize| -> Option<u32> {
        let h: String = c.get(i..i + 4)?.iter().collect();
        u32::from_str_radix(&h, 16).ok().filter(|_| h.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < c.len() {
        if c[i] != '\\' || i + 1 >= c.len() {
            out.push(c[i]);
            i += 1;
            continue;
        }
        let simple = match c[i + 1] {
            '"' => Some('"'),
            '\\' => Some('\\'),
            '/' => Some('/'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            _ => None,
        };
        if let Some(x) = simple {
            out.push(x);
            i += 2;
            continue;
        }
        match (c[i + 1], hex4(i + 2)) {
            ('u', Some(hi)) if (0xd800..0xdc00).contains(&hi) => {
                let lo = (c.get(i + 6) == Some(&'\\') && c.get(i + 7) == Some(&'u')).then(|| hex4(i + 8)).flatten();
                match lo.filter(|lo| (0xdc00..0xe000).contains(lo)) {
                    Some(lo) => {
                        let u = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
                        out.push(char::from_u32(u).unwrap_or('\u{fffd}'));
                        i += 12;
                    }
                    None => {
                        out.push('\u{fffd}');
                        i += 6;
                    }
                }
            }
            ('u', Some(u)) => {
                out.push(char::from_u32(u).unwrap_or('\u{fffd}'));
                i += 6;
            }
            _ => {
                out.push('\\');
                i += 1;
            }
        }
    }
    (out != s).then_some(out)
}

/// `%XX` as a byte, the bytes read as UTF-8 (invalid sequences as U+FFFD).
fn percent_escapes(s: &str) -> Option<String> {
    if !s.contains('%') {
        return None;
    }
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1).and_then(|&c| hex(c)), b.get(i + 2).and_then(|&c| hex(c))) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    let out = String::from_utf8_lossy(&out).into_owned();
    (out != s).then_some(out)
}

/// `&#DDD;`, `&#xHHH;` (the `;` optional, as browsers read them) and the named references
/// of [`NAMED`].
fn references(s: &str) -> Option<String> {
    if !s.contains('&') {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        match reference(tail) {
            Some((c, used)) => {
                out.push(c);
                rest = &tail[used..];
            }
            None => {
                out.push('&');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    (out != s).then_some(out)
}

/// The character a reference after `&` stands for, and the bytes it takes.
fn reference(tail: &str) -> Option<(char, usize)> {
    if let Some(num) = tail.strip_prefix('#') {
        let (radix, digits, lead) = match num.strip_prefix(['x', 'X']) {
            Some(h) => (16, h, 2),
            None => (10, num, 1),
        };
        let len = digits.bytes().take_while(|c| (*c as char).is_digit(radix)).count();
        if len == 0 || len > 8 {
            return None;
        }
        let u = u32::from_str_radix(&digits[..len], radix).ok()?;
        let semi = usize::from(digits[len..].starts_with(';'));
        return Some((char::from_u32(u).unwrap_or('\u{fffd}'), lead + len + semi));
    }
    let len = tail.bytes().take_while(u8::is_ascii_alphanumeric).count();
    if !tail[len..].starts_with(';') {
        return None;
    }
    let name = &tail[..len];
    NAMED.iter().find(|(n, _)| *n == name).map(|&(_, c)| (c, len + 1))
}

/// NFKC, then decimal digits of every script as ASCII digits, any Unicode white space as
/// a space, any dash or minus sign as `-`, zero-width and soft-hyphen characters dropped.
fn compatibility(s: &str) -> Option<String> {
    if s.is_ascii() && !s.bytes().any(|c| c.is_ascii_whitespace() && c != b' ') {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    let mut push = |c: char| {
        if c.is_ascii() {
            out.push(if c.is_ascii_whitespace() { ' ' } else { c });
        } else if let Some(c) = compatible(c) {
            out.push(c);
        }
    };
    if is_nfkc_quick(s.chars()) == IsNormalized::Yes {
        s.chars().for_each(&mut push);
    } else {
        s.nfkc().for_each(&mut push);
    }
    (out != s).then_some(out)
}

/// What a character outside ASCII reads as: none for an invisible one.
fn compatible(c: char) -> Option<char> {
    let u = c as u32;
    if matches!(u, 0xad | 0x180e | 0x200b..=0x200d | 0x2060..=0x2064 | 0xfeff) {
        return None;
    }
    let zero = ZEROS.partition_point(|&z| z <= u).checked_sub(1).map(|i| ZEROS[i]);
    Some(match zero {
        Some(z) if u - z < 10 => char::from(b'0' + (u - z) as u8),
        _ if c.is_whitespace() => ' ',
        _ if DASHES.contains(&u) => '-',
        _ => c,
    })
}

/// Unicode dash punctuation (category Pd, 14.0) and the minus signs.
const DASHES: &[u32] = &[
    0x2d, 0x58a, 0x5be, 0x1400, 0x1806, 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x207b, 0x208b, 0x2212, 0x2796,
    0x2e17, 0x2e1a, 0x2e3a, 0x2e3b, 0x2e40, 0x2e5d, 0x301c, 0x3030, 0x30a0, 0xfe31, 0xfe32, 0xfe58, 0xfe63, 0xff0d,
    0x10ead,
];
