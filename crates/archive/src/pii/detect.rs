//! What counts as PII in text: e-mail addresses and phone numbers, in every form the
//! text can take (contract section 3): plainly, base64-encoded, and in each reading of
//! [`forms`](super::forms) (escapes, character references, compatibility forms, Unicode
//! separators).
//!
//! A phone number is 7 to 15 digits, optionally led by `+`, with single spaces, dots,
//! dashes or parentheses between digit groups, and not part of an ISO 8601 date or
//! date-time. A longer run of such digits contains one (two numbers side by side, a
//! number after an invoice number), so any run of 7 or more digits counts. An e-mail
//! address is `local@domain.tld`, with a quoted local part (`"ana lopez"@example.org`) or
//! an address literal (`ana@[192.0.2.1]`) too. The rules err on the side of redacting: a
//! deleted item's free text that merely looks like a phone number (a long decimal, a
//! version string, a UUID) is redacted too.

use std::ops::Range;

use super::dates::mask_dates;
use super::encoded::{find_encoded, MAX_DEPTH};
use super::forms;

/// True when `s` contains an e-mail address or a phone number in any form.
pub fn contains_pii(s: &str) -> bool {
    holds_pii(s, MAX_DEPTH)
}

/// [`contains_pii`] with `depth` layers of base64 still to decode.
pub(super) fn holds_pii(s: &str, depth: usize) -> bool {
    in_any_reading(s, |r| plain_pii(r, depth))
}

/// PII in the plain reading of `s`.
fn plain_pii(s: &str, depth: usize) -> bool {
    find_email(s, 0).is_some() || find_phone(s, 0).is_some() || find_encoded(s, 0, depth).is_some()
}

/// The byte range of the first e-mail address, phone number or base64 run that hides one
/// in the plain reading of `s`, at or after `from`.
pub fn first_pii(s: &str, from: usize) -> Option<Range<usize>> {
    [find_email(s, from), find_phone(s, from), find_encoded(s, from, MAX_DEPTH)]
        .into_iter()
        .flatten()
        .min_by_key(|r| (r.start, std::cmp::Reverse(r.end)))
}

/// `s` with every stretch that holds PII replaced by `REDACTED`: for messages, where the
/// rest of the text stays useful. Stretches are found in the plain reading (or in the
/// last reading of an encoded text that holds PII there); then each
/// word whose other readings hold PII is replaced, and if PII is still left in any form
/// (a number written across words), the whole text is.
pub fn redact_spans(s: &str) -> String {
    // A text whose plain reading hides PII is redacted in the reading that shows it.
    let readings = forms::readings(s);
    let s = match readings.last() {
        Some(r) if plain_pii(r, MAX_DEPTH) => r.as_str(),
        _ => s,
    };
    let spans = redact_plain_spans(s);
    if !contains_pii(&spans) {
        return spans;
    }
    let words: Vec<&str> = spans.split(' ').map(|w| if contains_pii(w) { super::REDACTED } else { w }).collect();
    let words = words.join(" ");
    if contains_pii(&words) {
        super::REDACTED.to_owned()
    } else {
        words
    }
}

fn redact_plain_spans(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    while let Some(r) = first_pii(s, at) {
        let end = r.end.max(at + 1).min(s.len());
        out.push_str(&s[at..r.start.max(at)]);
        out.push_str(super::REDACTED);
        at = end;
        while !s.is_char_boundary(at) {
            at += 1;
        }
    }
    out.push_str(&s[at..]);
    out
}

/// True when `s` has a run of base64 text that decodes to an e-mail address or a phone
/// number.
pub fn contains_encoded(s: &str) -> bool {
    in_any_reading(s, |r| find_encoded(r, 0, MAX_DEPTH).is_some())
}

/// True when `s` contains an e-mail address, in any reading.
pub fn contains_email(s: &str) -> bool {
    in_any_reading(s, |r| find_email(r, 0).is_some())
}

/// True when `s` contains a phone number (7 or more digits, see the module docs), in any
/// reading.
pub fn contains_phone(s: &str) -> bool {
    in_any_reading(s, |r| find_phone(r, 0).is_some())
}

/// Whether `found` holds for `s` as written or for one of its other readings.
fn in_any_reading(s: &str, found: impl Fn(&str) -> bool) -> bool {
    found(s) || forms::readings(s).iter().any(|r| found(r))
}

/// `local@domain.tld`, `"quoted local"@domain.tld` or `local@[address literal]`: at
/// least one local-part character (or a closing quote) before the `@`, and a domain of
/// two or more labels or a bracketed address after it.
fn find_email(s: &str, from: usize) -> Option<Range<usize>> {
    let b = s.as_bytes();
    let mut at_from = from;
    while let Some(off) = b.get(at_from..)?.iter().position(|&c| c == b'@') {
        let at = at_from + off;
        at_from = at + 1;
        if at == 0 || !(is_local_char(b[at - 1]) || b[at - 1] == b'"') {
            continue;
        }
        let Some(len) = domain_len(&s[at + 1..]).or_else(|| literal_len(&b[at + 1..])) else { continue };
        let mut start = at;
        if b[at - 1] == b'"' {
            // The opening quote of a quoted local part, if there is one.
            start = b[..at - 1].iter().rposition(|&c| c == b'"').unwrap_or(at - 1);
        }
        while start > 0 && is_local_char(b[start - 1]) {
            start -= 1;
        }
        return Some(start.max(from)..at + 1 + len);
    }
    None
}

/// The characters of an unquoted local part (RFC 5322 `atext` and `.`), and any
/// non-ASCII character (RFC 6531).
fn is_local_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&c) || c >= 0x80
}

/// The length in bytes of a domain of two or more labels at the start of `rest`.
fn domain_len(rest: &str) -> Option<usize> {
    let mut labels = 0;
    let mut label_len = 0;
    let mut end = 0;
    for (i, c) in rest.char_indices() {
        if c.is_alphanumeric() || c == '-' {
            label_len += 1;
            end = i + c.len_utf8();
        } else if c == '.' && label_len > 0 {
            labels += 1;
            label_len = 0;
        } else {
            break;
        }
    }
    if label_len > 0 {
        labels += 1;
    }
    (labels >= 2).then_some(end)
}

/// The length of an address literal at the start of `rest`: `[` then an IPv4 or IPv6
/// address (or a tagged one, `IPv6:...`) and `]`.
fn literal_len(rest: &[u8]) -> Option<usize> {
    if rest.first() != Some(&b'[') {
        return None;
    }
    let close = rest.iter().take(80).position(|&c| c == b']')?;
    let inner = &rest[1..close];
    let ok = inner.iter().any(u8::is_ascii_digit)
        && inner.iter().any(|&c| c == b'.' || c == b':')
        && inner.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b':' | b'-'));
    ok.then_some(close + 1)
}

/// 7 or more digits in one run, as described in the module docs.
fn find_phone(s: &str, from: usize) -> Option<Range<usize>> {
    let b = s.as_bytes();
    // Cheap exit: fewer than 7 digits cannot hold a phone number.
    if b.get(from..)?.iter().filter(|c| c.is_ascii_digit()).count() < 7 {
        return None;
    }
    let masked = mask_dates(b);
    let digit = |i: usize| i < b.len() && !masked[i] && b[i].is_ascii_digit();
    let mut i = from;
    while i < b.len() {
        if !digit(i) {
            i += 1;
            continue;
        }
        // A run of digits with allowed gaps: `)? [ .-]? (?` between digits.
        let mut digits = 0;
        let mut j = i;
        loop {
            while digit(j) {
                digits += 1;
                j += 1;
            }
            let mut k = j;
            if k < b.len() && !masked[k] && b[k] == b')' {
                k += 1;
            }
            if k < b.len() && !masked[k] && matches!(b[k], b' ' | b'.' | b'-') {
                k += 1;
            }
            if k < b.len() && !masked[k] && b[k] == b'(' {
                k += 1;
            }
            if k > j && digit(k) {
                j = k;
            } else {
                break;
            }
        }
        if digits >= 7 {
            let start = if i > from && b[i - 1] == b'+' { i - 1 } else { i };
            return Some(start..j);
        }
        i = j.max(i + 1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers() {
        for s in [
            "call +1 555 010 4477",
            "5550104477",
            "(555) 010-4477",
            "+1 (555) 010-4477",
            "+44.20.7946.0958",
            "tel:555-0104",
            "1234567",
            "123456789012345",
            "at 2026-11-19 call 555 010 4477",
            // Runs longer than 15 digits contain a phone number.
            "1234567890123456",
            "02015550199 02015550123",
            "invoice 2026111900 07700 900123",
            "+33 6 12 34 56 78 75008",
            "2026-11-19 5550104477",
            "ref5550104477x",
            // Digit groups that look like a date but are none, or sit in a longer run.
            "0991-23-45-67",
            "0269-60-12-34",
            "0612-11-22-33",
            "61-2026-11-19",
        ] {
            assert!(contains_phone(s), "{s} holds a phone number");
        }
        for s in [
            "2026-11-19T10:15:30Z",
            "2026-11-19T10:15:30.123+05:30",
            "20261119T101530Z",
            "at 20261119T1015+0530 sharp",
            "2026-11-19 10:15:30",
            "2026-11-19",
            "from 2026-11-19 to 2026-12-01",
            "2026-11-19/2026-11-20",
            "2026-11-19T10:15:30Z 12",
            "123456",
            "12  34  567",
            "10:15:30",
            "seat 12, row 4",
            "",
        ] {
            assert!(!contains_phone(s), "{s} holds no phone number");
        }
    }

    #[test]
    fn email_addresses() {
        for s in ["ana@example.com", "write to a.b+c@mail.example.co.uk.", "x@b.io", "zoë@exämple.de"] {
            assert!(contains_email(s), "{s}");
        }
        for s in ["@example.com", "ana@", "ana@localhost", "a @ b.com", "price@5", "a@[]", "x@[seat]"] {
            assert!(!contains_email(s), "{s}");
        }
    }

    #[test]
    fn every_form_of_the_text() {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let utf16 = |s: &str, be: bool| -> Vec<u8> {
            s.encode_utf16().flat_map(|u| if be { u.to_be_bytes() } else { u.to_le_bytes() }).collect()
        };
        for s in [
            "ana%40example.org",
            "mail ana&#64;example.org",
            "ana&#x40;example.org",
            "ana&commat;example&period;org",
            "{\"e\":\"ana\\u0040example.org\"}",
            "ａｎａ＠ｅｘａｍｐｌｅ．ｏｒｇ",
            "\"ana lopez\"@example.org",
            "write to ana@[192.0.2.1]",
            "ana@[IPv6:2001:db8::1]",
            "５５５ ０１０ ４４７７",
            "call 555\u{a0}010\u{a0}4477",
            "call 555\u{2013}010\u{2013}4477",
            "call 555\t010\t4477",
            "call 555\u{2212}010\u{2212}4477",
            "call %2B1%20555%20010%204477",
            "call &#53;&#53;&#53;&#48;&#49;&#48;&#52;&#52;&#55;&#55;",
            "٥٥٥ ٠١٠ ٤٤٧٧",
            "5\u{200b}5\u{200b}5\u{200b}0104477",
        ] {
            assert!(contains_pii(s), "{s}");
        }
        for secret in [
            "ana@example.org",
            "call +1 555 010 4477",
            "５５５ ０１０ ４４７７",
            "٥٥٥ ٠١٠ ٤٤٧٧",
            "\u{1d7d3}\u{1d7d3}\u{1d7d3}\u{1d7ce}\u{1d7cf}\u{1d7ce}\u{1d7d2}\u{1d7d2}\u{1d7d5}\u{1d7d5}",
            "ａｎａ＠ｅｘａｍｐｌｅ．ｏｒｇ",
            "аня@пример.рф",
        ] {
            for be in [false, true] {
                for pad in ["", "x"] {
                    let mut bytes = pad.as_bytes().to_vec();
                    bytes.extend(utf16(secret, be));
                    assert!(contains_pii(&b64.encode(&bytes)), "{secret} as UTF-16 (be: {be}, pad {pad:?})");
                }
            }
            assert!(contains_pii(&b64.encode(b64.encode(secret))), "{secret} as base64 of base64");
            assert!(contains_pii(&b64.encode(secret)), "{secret} as base64 of UTF-8");
        }
        for s in ["100% sure & 50% off", "R&D 2026-11-19", "caf\u{e9} 12 34", "Tom &amp; Jerry", "\\n"] {
            assert!(!contains_pii(s), "{s}");
        }
    }

    #[test]
    fn encoded_pii() {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        for secret in ["ana@example.com", "+1 555 010 4477", "x ana@example.com y"] {
            for prefix in ["", "a", "ab", "abc"] {
                let enc = b64.encode(format!("{prefix}{secret}"));
                assert!(contains_pii(&enc), "{enc}");
                assert!(contains_pii(&format!("token {enc} end")), "{enc}");
                let url = enc.replace('+', "-").replace('/', "_").trim_end_matches('=').to_string();
                assert!(contains_pii(&url), "{url}");
            }
        }
        for s in ["REDACTED", "DEMAND#e1#s1", "somewhatlongwords here", "QUJDREVGR0g="] {
            assert!(!contains_pii(s), "{s}");
        }
    }

    #[test]
    fn short_encoded_pii_whose_last_group_is_partial() {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        // Seven digits or a six-byte address: the last digits sit in the partial group.
        for secret in ["555 1111", "5551111", "a@b.co", "ab@cd.io"] {
            for prefix in ["", "a", "ab", "abc"] {
                for suffix in ["", "x", "xy"] {
                    let enc = b64.encode(format!("{prefix}{secret}{suffix}"));
                    assert!(contains_pii(&enc), "{enc} ({prefix}{secret}{suffix})");
                    assert!(contains_pii(enc.trim_end_matches('=')), "{enc}");
                }
            }
        }
        // Partial groups of text without PII stay clean.
        for s in ["QUJDREVGR0hJ", "c29tZSB0ZXh0", "MTIzNDU2"] {
            assert!(!contains_pii(s), "{s}");
        }
    }

    #[test]
    fn spans_are_replaced_and_the_rest_kept() {
        assert_eq!(
            redact_spans("mail ana@example.com or call +1 555 010 4477 now"),
            "mail REDACTED or call REDACTED now"
        );
        assert_eq!(redact_spans("line 1 column 5"), "line 1 column 5");
        assert_eq!(redact_spans("5550104477"), "REDACTED");
        assert_eq!(redact_spans("column 7 ana%40example.org here"), "column 7 REDACTED here");
        assert_eq!(redact_spans("555\u{a0}010 4477"), "REDACTED");
        assert!(!contains_pii("REDACTED"));
    }
}
