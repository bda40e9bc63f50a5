//! PII rules for deleted items: what counts as an e-mail address or a phone number, and
//! the redaction of failed records before they are written to an error file.
//!
//! A phone number is 7 to 15 digits, optionally led by `+`, with single spaces, dots,
//! dashes or parentheses between digit groups, and not part of an ISO 8601 date or
//! date-time. An e-mail address is `local@domain.tld`. Both rules err on the side of
//! redacting: a deleted item's free text that merely looks like a phone number (a long
//! decimal, a version string) is redacted too.

use serde_json::Value;

use crate::attr::REDACTED;

/// True when `s` contains an e-mail address or a phone number.
pub fn contains_pii(s: &str) -> bool {
    contains_email(s) || contains_phone(s)
}

/// `local@domain.tld`: at least one local-part character before the `@`, and a domain of
/// two or more labels after it.
pub fn contains_email(s: &str) -> bool {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(off) = b[from..].iter().position(|&c| c == b'@') {
        let at = from + off;
        from = at + 1;
        let local_ok = at > 0 && is_local_char(b[at - 1]);
        if local_ok && has_domain(&s[at + 1..]) {
            return true;
        }
    }
    false
}

fn is_local_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-' | b'\'') || c >= 0x80
}

fn has_domain(rest: &str) -> bool {
    let mut labels = 0;
    let mut label_len = 0;
    for c in rest.chars() {
        if c.is_alphanumeric() || c == '-' {
            label_len += 1;
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
    labels >= 2
}

/// 7 to 15 digits in one run, as described in the module docs.
pub fn contains_phone(s: &str) -> bool {
    let b = s.as_bytes();
    // Cheap exit: fewer than 7 digits cannot hold a phone number.
    if b.iter().filter(|c| c.is_ascii_digit()).count() < 7 {
        return false;
    }
    let masked = mask_dates(b);
    let digit = |i: usize| i < b.len() && !masked[i] && b[i].is_ascii_digit();
    let mut i = 0;
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
        if (7..=15).contains(&digits) {
            return true;
        }
        i = j.max(i + 1);
    }
    false
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

/// Applies the PII rules to a failed stream record (a DynamoDB change record in its JSON
/// form) before it is written to an error file.
///
/// A record counts as a deletion unless its `eventName` is clearly `INSERT` or `MODIFY`,
/// so a malformed record is redacted rather than leaked. Key attributes stay as they are;
/// every other attribute named as PII becomes `{"S": "REDACTED"}`, and every string at
/// any depth (including map keys) that holds an e-mail address or a phone number becomes
/// `REDACTED`, whether or not the attribute value itself is well-formed.
pub fn scrub_failed_record(record: &mut Value, named: &dyn Fn(&str) -> bool) {
    let event_name = record.get("eventName").and_then(Value::as_str);
    if matches!(event_name, Some("INSERT") | Some("MODIFY")) {
        return;
    }
    let Some(ddb) = record.get_mut("dynamodb").and_then(Value::as_object_mut) else {
        return;
    };
    let keys: Vec<String> =
        ddb.get("Keys").and_then(Value::as_object).map(|k| k.keys().cloned().collect()).unwrap_or_default();
    for image in ["OldImage", "NewImage"] {
        let Some(img) = ddb.get_mut(image) else { continue };
        match img.as_object_mut() {
            Some(attrs) => {
                for (name, value) in attrs.iter_mut() {
                    if keys.iter().any(|k| k == name) {
                        continue;
                    }
                    if named(name) {
                        *value = serde_json::json!({ "S": REDACTED });
                    } else {
                        scrub_attribute(value);
                    }
                }
            }
            None => scrub_strings(img),
        }
    }
}

/// Applies the pattern rules to an attribute value in DynamoDB JSON, as the data files do:
/// strings, binary and string sets are searched, numbers are not, maps and lists are
/// walked. A value that is not well-formed has every string searched.
fn scrub_attribute(v: &mut Value) {
    let Some(obj) = v.as_object_mut().filter(|o| o.len() == 1) else {
        return scrub_strings(v);
    };
    let Some((tag, inner)) = obj.iter_mut().next() else { return };
    match (tag.as_str(), inner) {
        // Well-formed numbers and booleans carry no text to search.
        ("N", Value::String(n)) if crate::attr::is_json_number(n) => {}
        ("NS", Value::Array(ns)) if ns.iter().all(|n| n.as_str().is_some_and(crate::attr::is_json_number)) => {}
        ("BOOL" | "NULL", Value::Bool(_)) => {}
        ("S" | "B" | "SS" | "BS", inner) => scrub_strings(inner),
        ("L", Value::Array(items)) => items.iter_mut().for_each(scrub_attribute),
        ("M", Value::Object(map)) => {
            // Keys are searched like any string, values as attribute values.
            let old = std::mem::take(map);
            let mut n = 0;
            for (k, mut x) in old {
                scrub_attribute(&mut x);
                map.insert(redacted_key(k, &mut n), x);
            }
        }
        (_, inner) => scrub_strings(inner),
    }
}

/// A map key, or `REDACTED` (`REDACTED_2`, ... counted by `n`) when it holds PII.
fn redacted_key(k: String, n: &mut usize) -> String {
    if !contains_pii(&k) {
        return k;
    }
    *n += 1;
    if *n == 1 {
        REDACTED.to_string()
    } else {
        format!("{REDACTED}_{n}")
    }
}

/// Replaces every string (and object key) in `v` that holds PII with `REDACTED`.
pub fn scrub_strings(v: &mut Value) {
    match v {
        Value::String(s) if contains_pii(s) => *s = REDACTED.to_string(),
        Value::Array(xs) => xs.iter_mut().for_each(scrub_strings),
        Value::Object(map) => {
            if map.keys().any(|k| contains_pii(k)) {
                let old = std::mem::take(map);
                let mut n = 0;
                for (k, mut x) in old {
                    scrub_strings(&mut x);
                    map.insert(redacted_key(k, &mut n), x);
                }
            } else {
                map.values_mut().for_each(scrub_strings);
            }
        }
        _ => {}
    }
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
            "1234567890123456",
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
        for s in ["ana@example.com", "write to a.b+c@mail.example.co.uk.", "x@b.io"] {
            assert!(contains_email(s), "{s}");
        }
        for s in ["@example.com", "ana@", "ana@localhost", "a @ b.com", "price@5"] {
            assert!(!contains_email(s), "{s}");
        }
    }

    #[test]
    fn failed_remove_records_are_redacted() {
        let mut rec = serde_json::json!({
            "eventName": "REMOVE",
            "dynamodb": {
                "Keys": {"pk": {"S": "FAN#555-010-4477"}},
                "OldImage": {
                    "pk": {"S": "FAN#555-010-4477"},
                    "email": {"S": "ana@example.com"},
                    "bad": {"X": "call 555 010 4477"},
                    "note": {"M": {"ana@example.com": {"S": "hi"}, "bob@example.com": {"N": "5550104477"}, "z": {"S": "x"}}},
                    "ok": {"S": "2026-11-19T10:15:30Z"},
                    "ttl": {"N": "1795060800000"},
                    "fake": {"NULL": "ana@example.com"},
                    "fakeN": {"N": "call 555 010 4477"},
                    "nested": {"L": [{"N": "15550104477"}, {"S": "555 010 4477"}, {"NS": ["1234567"]}]}
                }
            }
        });
        let named = |n: &str| n == "email";
        scrub_failed_record(&mut rec, &named);
        let img = &rec["dynamodb"]["OldImage"];
        assert_eq!(img["pk"]["S"], "FAN#555-010-4477", "keys stay");
        assert_eq!(img["email"]["S"], "REDACTED");
        assert_eq!(img["bad"]["X"], "REDACTED");
        assert_eq!(img["note"]["M"]["REDACTED"]["S"], "hi");
        assert_eq!(img["note"]["M"]["REDACTED_2"]["N"], "5550104477");
        assert_eq!(img["note"]["M"]["z"]["S"], "x");
        assert_eq!(img["ok"]["S"], "2026-11-19T10:15:30Z");
        assert_eq!(img["ttl"]["N"], "1795060800000", "numbers are not searched, as in data files");
        assert_eq!(img["nested"]["L"][0]["N"], "15550104477");
        assert_eq!(img["fake"]["NULL"], "REDACTED", "a malformed value is searched");
        assert_eq!(img["fakeN"]["N"], "REDACTED");
        assert_eq!(img["nested"]["L"][1]["S"], "REDACTED");
        assert_eq!(img["nested"]["L"][2]["NS"][0], "1234567");
    }

    #[test]
    fn inserts_are_left_alone_and_unknown_events_are_redacted() {
        let named = |_: &str| false;
        let mut rec = serde_json::json!({"eventName": "INSERT", "dynamodb": {"NewImage": {"e": {"S": "a@b.com"}}}});
        scrub_failed_record(&mut rec, &named);
        assert_eq!(rec["dynamodb"]["NewImage"]["e"]["S"], "a@b.com");
        let mut rec = serde_json::json!({"dynamodb": {"OldImage": {"e": {"S": "a@b.com"}}}});
        scrub_failed_record(&mut rec, &named);
        assert_eq!(rec["dynamodb"]["OldImage"]["e"]["S"], "REDACTED");
    }
}
