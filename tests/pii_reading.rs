//! The scanner's own reader of every form of the text (CONTRACT.md §3, "every form of
//! the text"), written apart from the pipeline's: JSON escapes, percent escapes, HTML/XML
//! character references, NFKC, Unicode spaces and dashes, invisible characters, so that a
//! secret that leaves in any of those forms is found as plain text; and the base64 forms
//! (of UTF-8 and UTF-16 bytes, at every alignment) a secret can take.

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine;
use unicode_normalization::UnicodeNormalization;

/// The readings of `text` beyond its plain one: each round decodes one more layer.
pub fn readings(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = text.to_string();
    for _ in 0..4 {
        let next = fold(&decode(&current));
        if next == current {
            break;
        }
        out.push(next.clone());
        current = next;
    }
    out
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::new();
    let mut i = 0;
    let hex = |k: usize, n: usize| -> Option<u32> {
        let t = std::str::from_utf8(b.get(k..k + n)?).ok()?;
        u32::from_str_radix(t, 16).ok().filter(|_| t.bytes().all(|c| c.is_ascii_hexdigit()))
    };
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'u') {
            if let Some(u) = hex(i + 2, 4) {
                let low =
                    (b.get(i + 6) == Some(&b'\\') && b.get(i + 7) == Some(&b'u')).then(|| hex(i + 8, 4)).flatten();
                match low {
                    Some(l) if (0xd800..0xdc00).contains(&u) && (0xdc00..0xe000).contains(&l) => {
                        push(char::from_u32(0x10000 + ((u - 0xd800) << 10) + (l - 0xdc00)).unwrap_or('?'), &mut out);
                        i += 12;
                    }
                    _ => {
                        push(char::from_u32(u).unwrap_or('?'), &mut out);
                        i += 6;
                    }
                }
                continue;
            }
        }
        if b[i] == b'\\' && matches!(b.get(i + 1), Some(b'"' | b'\\' | b'/' | b't' | b'n')) {
            out.push(match b[i + 1] {
                b't' => b'\t',
                b'n' => b'\n',
                c => c,
            });
            i += 2;
            continue;
        }
        if b[i] == b'%' {
            if let Some(v) = hex(i + 1, 2) {
                out.push(v as u8);
                i += 3;
                continue;
            }
        }
        if b[i] == b'&' {
            if let Some((c, len)) = reference(&s[i..]) {
                push(c, &mut out);
                i += len;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn push(c: char, out: &mut Vec<u8>) {
    out.extend_from_slice(c.to_string().as_bytes());
}

/// A character reference at the start of `s`: (the character, its length).
fn reference(s: &str) -> Option<(char, usize)> {
    let end = s.find(';').filter(|&e| e < 16);
    let body = s.get(1..end.unwrap_or(s.len()).min(12))?;
    if let Some(num) = body.strip_prefix('#') {
        let (radix, digits) = match num.strip_prefix(['x', 'X']) {
            Some(h) => (16, h),
            None => (10, num),
        };
        let digits: String = digits.chars().take_while(|c| c.is_digit(radix)).collect();
        let c = char::from_u32(u32::from_str_radix(&digits, radix).ok()?)?;
        let len = 2 + usize::from(radix == 16) + digits.len();
        return Some((c, if s.as_bytes().get(len) == Some(&b';') { len + 1 } else { len }));
    }
    let body = s.get(1..end?)?;
    let c = match body {
        "commat" => '@',
        "period" => '.',
        "plus" => '+',
        "nbsp" => ' ',
        "ndash" | "mdash" | "minus" | "hyphen" | "dash" => '-',
        "amp" => '&',
        "quot" => '"',
        "lsqb" | "lbrack" => '[',
        "rsqb" | "rbrack" => ']',
        "lpar" => '(',
        "rpar" => ')',
        "colon" => ':',
        "num" => '#',
        _ => return None,
    };
    Some((c, end? + 1))
}

fn fold(s: &str) -> String {
    s.nfkc()
        .filter_map(|c| match c {
            c if c.is_whitespace() => Some(' '),
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{fe63}' | '\u{ff0d}' => Some('-'),
            '\u{200b}'..='\u{200f}' | '\u{2060}' | '\u{feff}' | '\u{ad}' => None,
            c => Some(c),
        })
        .collect()
}

/// The base64 substrings that any encoding of `secret` holds, whatever its alignment
/// (standard and URL-safe alphabets), at least 8 characters long.
pub fn base64_forms(secret: &str) -> Vec<String> {
    base64_forms_of(secret.as_bytes())
}

/// [`base64_forms`] of any bytes.
pub fn base64_forms_of(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for o in 0..3.min(bytes.len()) {
        let part = &bytes[o..];
        let part = &part[..part.len() / 3 * 3];
        if part.len() >= 6 {
            let std = STANDARD.encode(part);
            let url = URL_SAFE.encode(part);
            if url != std {
                out.push(url);
            }
            out.push(std);
        }
    }
    out
}

/// Inserts `ins` at a 4-character boundary near the middle where every secret keeps one
/// base64 form intact, so the scan can still see a leak of the raw text.
pub fn insert_between_secrets(enc: String, ins: &str, secrets: &[String]) -> String {
    let mid = enc.len() / 8 * 4;
    let forms: Vec<Vec<String>> = secrets.iter().map(|s| base64_forms(s)).filter(|f| !f.is_empty()).collect();
    let candidates = (0..enc.len() / 4).flat_map(|k| [mid + 4 * k, mid.saturating_sub(4 * k)]);
    for at in candidates.filter(|&at| at > 0 && at < enc.len()) {
        let out = format!("{}{ins}{}", &enc[..at], &enc[at..]);
        if forms.iter().all(|f| f.iter().any(|needle| out.contains(needle.as_str()))) {
            return out;
        }
    }
    format!("{}{ins}{}", &enc[..mid], &enc[mid..])
}

/// The base64 substrings that any base64 of the UTF-16 bytes of `secret` (either byte
/// order, any alignment, either alphabet) holds.
pub fn utf16_base64_forms(secret: &str) -> Vec<String> {
    [false, true]
        .into_iter()
        .flat_map(|be| {
            let bytes: Vec<u8> =
                secret.encode_utf16().flat_map(|u| if be { u.to_be_bytes() } else { u.to_le_bytes() }).collect();
            base64_forms_of(&bytes)
        })
        .collect()
}

#[test]
fn the_reader_reads_every_form() {
    for (form, plain) in [
        ("ana%40example.org", "ana@example.org"),
        ("ana&#64;example.org", "ana@example.org"),
        ("ana&#x40;example.org", "ana@example.org"),
        ("ana&commat;example&period;org", "ana@example.org"),
        ("ana\\u0040example.org", "ana@example.org"),
        ("ａｎａ＠ｅｘａｍｐｌｅ．ｏｒｇ", "ana@example.org"),
        ("５５５ ０１０ ４４７７", "555 010 4477"),
        ("555\u{a0}010\u{2013}4477", "555 010-4477"),
        ("555\t010\t4477", "555 010 4477"),
        ("ana%2526%2523x40%253Bexample.org", "ana@example.org"),
    ] {
        assert!(readings(form).iter().any(|r| r.contains(plain)), "{form}: {:?}", readings(form));
    }
}
