//! What counts as PII in text: e-mail addresses, phone numbers (any run of 7 or more
//! digits that is not part of an ISO 8601 date), and either of them base64-encoded.
//!
//! A phone number is 7 to 15 digits, optionally led by `+`, with single spaces, dots,
//! dashes or parentheses between digit groups, and not part of an ISO 8601 date or
//! date-time. A longer run of such digits contains one (two numbers side by side, a
//! number after an invoice number), so any run of 7 or more digits counts. An e-mail
//! address is `local@domain.tld`. The rules err on the side of redacting: a deleted
//! item's free text that merely looks like a phone number (a long decimal, a version
//! string, a UUID) is redacted too.

use std::ops::Range;

use base64::Engine;

/// True when `s` contains an e-mail address or a phone number, plainly or base64-encoded.
pub fn contains_pii(s: &str) -> bool {
    find_email(s, 0).is_some() || find_phone(s, 0).is_some() || find_encoded(s, 0).is_some()
}

/// The byte range of the first e-mail address, phone number or base64 run that hides one,
/// at or after `from`.
pub fn first_pii(s: &str, from: usize) -> Option<Range<usize>> {
    [find_email(s, from), find_phone(s, from), find_encoded(s, from)]
        .into_iter()
        .flatten()
        .min_by_key(|r| (r.start, std::cmp::Reverse(r.end)))
}

/// `s` with every stretch that holds PII replaced by `REDACTED`: for messages, where the
/// rest of the text stays useful.
pub fn redact_spans(s: &str) -> String {
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
    find_encoded(s, 0).is_some()
}

/// True when `s` contains an e-mail address.
pub fn contains_email(s: &str) -> bool {
    find_email(s, 0).is_some()
}

/// True when `s` contains a phone number (7 or more digits, see the module docs).
pub fn contains_phone(s: &str) -> bool {
    find_phone(s, 0).is_some()
}

/// `local@domain.tld`: at least one local-part character before the `@`, and a domain of
/// two or more labels after it.
fn find_email(s: &str, from: usize) -> Option<Range<usize>> {
    let b = s.as_bytes();
    let mut at_from = from;
    while let Some(off) = b.get(at_from..)?.iter().position(|&c| c == b'@') {
        let at = at_from + off;
        at_from = at + 1;
        if at == 0 || !is_local_char(b[at - 1]) {
            continue;
        }
        if let Some(len) = domain_len(&s[at + 1..]) {
            let mut start = at;
            while start > 0 && is_local_char(b[start - 1]) {
                start -= 1;
            }
            return Some(start.max(from)..at + 1 + len);
        }
    }
    None
}

fn is_local_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-' | b'\'') || c >= 0x80
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

/// Shortest base64 text that can hide PII: `a@b.co` is 6 bytes, 8 characters.
const MIN_ENCODED: usize = 8;

/// A run of base64 characters (either alphabet) that decodes, at one of its four
/// alignments, to text holding an e-mail address or a phone number.
fn find_encoded(s: &str, from: usize) -> Option<Range<usize>> {
    let b = s.as_bytes();
    let is_b64 = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_');
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
        if j - i >= MIN_ENCODED && decodes_to_pii(&b[i..j]) {
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
/// to text that holds PII in plain form. The run's last two or three characters (one or
/// two bytes) are decoded too: `555 1111` is eight bytes, eleven characters.
fn decodes_to_pii(run: &[u8]) -> bool {
    let engine = &LENIENT;
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
        if engine.decode_vec(part, &mut bytes).is_ok() && may_hold_plain_pii(&bytes) {
            let text = String::from_utf8_lossy(&bytes);
            if find_email(&text, 0).is_some() || find_phone(&text, 0).is_some() {
                return true;
            }
        }
    }
    false
}

/// False when decoded bytes cannot hold an e-mail address (no `@`) nor a phone number
/// (fewer than 7 ASCII digits), whatever their UTF-8 reading: both are ASCII, which a
/// lossy UTF-8 reading keeps as it is.
fn may_hold_plain_pii(bytes: &[u8]) -> bool {
    bytes.contains(&b'@') || bytes.iter().filter(|c| c.is_ascii_digit()).count() >= 7
}

/// The end of an ISO 8601 basic-format date-time starting at `i`
/// (`YYYYMMDDTHHMM[SS][.fff][Z|±HH[MM]]`), if there is one.
fn basic_date_time(b: &[u8], i: usize) -> Option<usize> {
    let d = |k: usize| k < b.len() && b[k].is_ascii_digit();
    if (i > 0 && b[i - 1].is_ascii_digit()) || !(0..8).all(|k| d(i + k)) || !matches!(b.get(i + 8), Some(b'T' | b't')) {
        return None;
    }
    let mut end = i + 9;
    let mut n = 0;
    while d(end) {
        end += 1;
        n += 1;
    }
    if n != 4 && n != 6 {
        return None;
    }
    if matches!(b.get(end), Some(b'.' | b',')) && d(end + 1) {
        end += 1;
        while d(end) {
            end += 1;
        }
    }
    match b.get(end) {
        Some(b'Z' | b'z') => end += 1,
        Some(b'+' | b'-') if d(end + 1) && d(end + 2) => {
            end += 3;
            if d(end) && d(end + 1) {
                end += 2;
            }
        }
        _ => {}
    }
    Some(end)
}

/// Marks the bytes of ISO 8601 dates (`YYYY-MM-DD`) and of date-times that start with one
/// (`T` or a space, `HH:MM`, optional seconds, fraction and zone).
fn mask_dates(b: &[u8]) -> Vec<bool> {
    let mut m = vec![false; b.len()];
    let d = |i: usize| i < b.len() && b[i].is_ascii_digit();
    let mut i = 0;
    while i + 10 <= b.len() {
        let boundary = i == 0 || !b[i - 1].is_ascii_digit();
        if boundary
            && (0..4).all(|k| d(i + k))
            && b[i + 4] == b'-'
            && d(i + 5)
            && d(i + 6)
            && b[i + 7] == b'-'
            && d(i + 8)
            && d(i + 9)
            && !d(i + 10)
        {
            let mut end = i + 10;
            // Optional time part.
            if end + 6 <= b.len()
                && matches!(b[end], b'T' | b't' | b' ')
                && d(end + 1)
                && d(end + 2)
                && b[end + 3] == b':'
                && d(end + 4)
                && d(end + 5)
            {
                end += 6;
                if end + 3 <= b.len() && b[end] == b':' && d(end + 1) && d(end + 2) {
                    end += 3;
                    if end < b.len() && matches!(b[end], b'.' | b',') && d(end + 1) {
                        end += 1;
                        while d(end) {
                            end += 1;
                        }
                    }
                }
                if end < b.len() && matches!(b[end], b'Z' | b'z') {
                    end += 1;
                } else if end + 3 <= b.len() && matches!(b[end], b'+' | b'-') && d(end + 1) && d(end + 2) {
                    end += 3;
                    if end + 3 <= b.len() && b[end] == b':' && d(end + 1) && d(end + 2) {
                        end += 3;
                    } else if d(end) && d(end + 1) {
                        end += 2;
                    }
                }
            }
            m[i..end].iter_mut().for_each(|x| *x = true);
            i = end;
        } else if let Some(end) = basic_date_time(b, i) {
            m[i..end].iter_mut().for_each(|x| *x = true);
            i = end;
        } else {
            i += 1;
        }
    }
    m
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
        for s in ["@example.com", "ana@", "ana@localhost", "a @ b.com", "price@5"] {
            assert!(!contains_email(s), "{s}");
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
        assert!(!contains_pii("REDACTED"));
    }
}
