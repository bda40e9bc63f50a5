//! Redaction by structure (contract section 3): a failed record that may be a deletion
//! and does not parse is read by a lenient tokenizer that never fails, and every string
//! and number of its text is replaced, whatever it holds, except the identifiers of the
//! envelope. Names stay only when they are words of the format (envelope fields, type
//! tags, attributes the contract names) or the names of key attributes.
//!
//! Nothing is decided by pattern here except whether an identifier may stay, so a PII
//! attribute whose value matches no pattern (`ana.lopez(at)example.org`, a person's name,
//! digit groups in a list) never survives this path. Text that is not JSON at all is
//! tokenized the same way: each of its words is a bare token, replaced.

use super::failed::ENVELOPE;
use super::{contains_pii, identifier_ok, REDACTED};
use crate::record_type::RecordType;

/// Top-level fields of a stream record kept when identifier-shaped.
const TOP: &[&str] = &["eventID", "eventName", "eventSource", "eventVersion", "awsRegion", "eventSourceARN"];
/// Fields of `dynamodb` kept when identifier-shaped (`Keys` is handled on its own).
const DYNAMODB: &[&str] = &["SequenceNumber", "ApproximateCreationDateTime", "StreamViewType", "SizeBytes"];
/// Fields of `kinesis` kept when identifier-shaped.
const KINESIS: &[&str] = &["sequenceNumber", "partitionKey", "approximateArrivalTimestamp"];
/// Fields whose values are numbers the service assigns: kept when they are numbers.
const NUMERIC: &[&str] =
    &["SequenceNumber", "sequenceNumber", "ApproximateCreationDateTime", "SizeBytes", "approximateArrivalTimestamp"];
/// Names of the format that may stay as they are, besides the envelope's fields
/// ([`ENVELOPE`]).
const FORMAT: &[&str] = &[
    "Records",
    "dynamodb",
    "kinesis",
    "Keys",
    "NewImage",
    "OldImage",
    "userIdentity",
    "data",
    "eventSourceArn",
    "recordType",
    "pk",
    "sk",
    "S",
    "N",
    "B",
    "BOOL",
    "NULL",
    "M",
    "L",
    "SS",
    "NS",
    "BS",
];

/// `text` with every string and bare token replaced by `"REDACTED"` except the envelope
/// identifiers of contract section 3, and every name replaced except the words of the
/// format and key attribute names. `named` tells the PII attributes.
pub fn redact_structure(text: &str, named: &dyn Fn(&str) -> bool) -> String {
    let mut t = Tokenizer { text, out: String::with_capacity(text.len()), frames: Vec::new(), named };
    t.run();
    t.out
}

/// Where the tokenizer is: an object (its current name, and whether a name comes next) or
/// an array.
enum Frame {
    Object { name: Option<String>, expect_name: bool },
    Array,
}

struct Tokenizer<'t> {
    text: &'t str,
    out: String,
    frames: Vec<Frame>,
    named: &'t dyn Fn(&str) -> bool,
}

fn is_structural(c: u8) -> bool {
    matches!(c, b'{' | b'}' | b'[' | b']' | b',' | b':' | b' ' | b'\t' | b'\n' | b'\r')
}

impl Tokenizer<'_> {
    fn run(&mut self) {
        let b = self.text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            match c {
                b'{' => self.frames.push(Frame::Object { name: None, expect_name: true }),
                b'[' => self.frames.push(Frame::Array),
                b'}' | b']' => {
                    self.frames.pop();
                }
                b',' => self.set_expect_name(true),
                b':' => self.set_expect_name(false),
                _ => {}
            }
            if is_structural(c) {
                self.out.push(char::from(c));
                i += 1;
                continue;
            }
            let (end, quoted) = if c == b'"' { (string_end(b, i + 1), true) } else { (token_end(b, i), false) };
            let raw = &self.text[i..end];
            let inner = if quoted {
                raw.get(1..raw.len() - usize::from(raw.len() > 1 && raw.ends_with('"')))
            } else {
                Some(raw)
            };
            self.token(inner.unwrap_or(""), quoted);
            i = end;
        }
    }

    fn set_expect_name(&mut self, expect: bool) {
        if let Some(Frame::Object { expect_name, name }) = self.frames.last_mut() {
            *expect_name = expect;
            if expect {
                *name = None;
            }
        }
    }

    /// One string literal (its text between the quotes) or bare token.
    fn token(&mut self, inner: &str, quoted: bool) {
        let is_name = matches!(self.frames.last(), Some(Frame::Object { expect_name: true, .. }));
        let keep = if is_name { self.name_ok(inner) } else { self.value_ok(inner, quoted) };
        if is_name {
            if let Some(Frame::Object { name, .. }) = self.frames.last_mut() {
                *name = Some(inner.to_owned());
            }
        }
        if keep {
            if quoted {
                self.out.push('"');
                self.out.push_str(inner);
                self.out.push('"');
            } else {
                self.out.push_str(inner);
            }
        } else {
            self.out.push('"');
            self.out.push_str(REDACTED);
            self.out.push('"');
        }
    }

    /// The names of the enclosing objects from the outermost, `None` for an array.
    fn path(&self) -> Vec<Option<&str>> {
        self.frames
            .iter()
            .map(|f| match f {
                Frame::Object { name, .. } => name.as_deref(),
                Frame::Array => None,
            })
            .collect()
    }

    fn name_ok(&self, name: &str) -> bool {
        let path = self.path();
        let parent = &path[..path.len().saturating_sub(1)];
        if parent == [Some("dynamodb"), Some("Keys")] {
            return key_text_ok(name) && !(self.named)(name);
        }
        FORMAT.contains(&name)
            || ENVELOPE.contains(&name)
            || RecordType::ALL.iter().any(|rt| {
                let spec = rt.spec();
                spec.well_known.iter().any(|w| w.attr == name) || spec.required.contains(&name)
            })
    }

    fn value_ok(&self, value: &str, quoted: bool) -> bool {
        if !quoted && matches!(value, "true" | "false" | "null") {
            return true;
        }
        match self.path().as_slice() {
            [Some(f)] if TOP.contains(f) => envelope_ok(f, value),
            [Some("dynamodb"), Some(f)] if DYNAMODB.contains(f) => envelope_ok(f, value),
            [Some("kinesis"), Some(f)] if KINESIS.contains(f) => envelope_ok(f, value),
            [Some("dynamodb"), Some("Keys"), Some(name), Some(tag)] => {
                matches!(*tag, "S" | "N" | "B") && key_text_ok(name) && !(self.named)(name) && key_text_ok(value)
            }
            _ => false,
        }
    }
}

/// The index after the closing quote of a string literal whose text starts at `i`, or
/// the end of the text when it has none.
fn string_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    // A backslash at the very end steps past it; stay on a char boundary of the text.
    b.len()
}

fn token_end(b: &[u8], i: usize) -> usize {
    (i..b.len()).find(|&k| is_structural(b[k]) || b[k] == b'"').unwrap_or(b.len())
}

/// Whether an envelope field's value may stay: an event name is one of the three, the
/// service's numbers are numbers, and every other value is an identifier as
/// [`identifier_ok`] allows (letters, digits, `:_-./`, no e-mail address or encoded PII;
/// the digits of ARNs, ids and times stay, as everywhere the envelope is described).
fn envelope_ok(field: &str, value: &str) -> bool {
    if field == "eventName" {
        return matches!(value, "INSERT" | "MODIFY" | "REMOVE");
    }
    if NUMERIC.contains(&field) {
        return is_number(value);
    }
    value.len() <= 256
        && value.bytes().all(|c| c.is_ascii_alphanumeric() || b":_-./".contains(&c))
        && identifier_ok(value)
}

/// A decimal number: digits, at most one `.`, an optional exponent.
fn is_number(s: &str) -> bool {
    let (mantissa, exponent) = s.split_once(['e', 'E']).unwrap_or((s, "0"));
    let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |t: &str| t.bytes().all(|c| c.is_ascii_digit());
    !whole.is_empty() && s.len() <= 48 && digits(whole) && digits(fraction) && !exponent.is_empty() && digits(exponent)
}

/// A key attribute's name or value on this path: identifier-shaped (letters, digits,
/// `#:_-./`), at most 256 bytes, holding no e-mail address or phone number in any form.
fn key_text_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || b"#:_-./".contains(&c))
        && !contains_pii(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(text: &str) -> String {
        redact_structure(text, &|n| matches!(n, "email" | "phoneNumber" | "messageBody" | "fanNote"))
    }

    #[test]
    fn everything_but_envelope_identifiers_is_replaced() {
        let out = redact(
            r#"{"eventID":"c81e728d9d4c2f636f067f89cc14862c","eventName":"REMOVE","eventSource":"aws:dynamodb",
            "eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/demand/stream/2026-11-19T10:15:30.123",
            "dynamodb":{"ApproximateCreationDateTime":1e400,"SequenceNumber":"4959000000000000001",
            "Keys":{"pk":{"S":"DEMAND#e1"},"sk":{"S":"FAN#555-010-4477"}},
            "OldImage":{"pk":{"S":"DEMAND#e1"},"email":{"S":"ana.lopez(at)example.org"},"Ana Lopez":{"N":"7"},
            "phoneNumber":{"L":[{"S":"555"},{"S":"0104"},{"S":"477"}]},"zz":{"S":"\ud800 x"}}}}"#,
        );
        for gone in ["ana.lopez", "Ana Lopez", "0104", "477\"", "\\ud800", "FAN#555"] {
            assert!(!out.contains(gone), "{gone} in {out}");
        }
        for kept in [
            r#""eventID":"c81e728d9d4c2f636f067f89cc14862c""#,
            r#""eventName":"REMOVE""#,
            r#""eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/demand/stream/2026-11-19T10:15:30.123""#,
            r#""ApproximateCreationDateTime":1e400"#,
            r#""SequenceNumber":"4959000000000000001""#,
            r#""pk":{"S":"DEMAND#e1"}"#,
            r#""email":{"S":"REDACTED"}"#,
            r#""phoneNumber":{"L":[{"S":"REDACTED"}"#,
            r#""REDACTED":{"N":"REDACTED"}"#,
        ] {
            assert!(out.contains(kept), "{kept} not in {out}");
        }
        assert!(out.contains(r#""sk":{"S":"REDACTED"}"#), "a key value with a phone number goes: {out}");
    }

    #[test]
    fn the_tokenizer_never_fails() {
        for text in [
            "",
            "REMOVE ana lopez",
            r#"{"eventName":"REMOVE","a":"unterminated"#,
            r#"]]]}}}{"x":"\"#,
            r#"{"eventID":"x","eventID":"ana@example.org","a":[[[[[[{"b":"Ana"}]]]]]]}"#,
            "{\"a\":\"\u{e9}\u{fffd}\",\"b\":-1.5e+3}",
            &"[".repeat(10_000),
        ] {
            let out = redact(text);
            assert!(!out.contains("ana") && !out.contains("Ana") && !out.contains("1.5"), "{out}");
        }
        assert_eq!(redact("REMOVE ana lopez"), r#""REDACTED" "REDACTED" "REDACTED""#);
        assert_eq!(redact(r#"{"eventName":"REMOVE","x":1e400}"#), r#"{"eventName":"REMOVE","REDACTED":"REDACTED"}"#);
    }

    #[test]
    fn envelope_values_must_be_identifiers_without_pii() {
        for (field, value) in [
            ("eventID", "ana@example.org"),
            ("eventID", "shard:YW5hQGV4YW1wbGUuY29t"),
            ("eventID", "ana lopez"),
            ("eventName", "REMOVE ana"),
            ("awsRegion", "ana%40example.org"),
        ] {
            let out = redact(&format!(r#"{{"{field}":"{value}"}}"#));
            assert_eq!(out, format!(r#"{{"{field}":"REDACTED"}}"#));
        }
        let out = redact(r#"{"kinesis":{"sequenceNumber":"4959","partitionKey":"8f14e45fceea167a","data":"eyJh"}}"#);
        assert_eq!(out, r#"{"kinesis":{"sequenceNumber":"4959","partitionKey":"8f14e45fceea167a","data":"REDACTED"}}"#);
    }
}
