//! The last resort for a failed record that does not parse as JSON (nesting too deep, a
//! number out of range, a lone surrogate, truncated text): it is redacted as text, string
//! literal by string literal and token by token, never kept as it came.

use super::{contains_pii, REDACTED};

/// `text` with every string literal (escapes decoded before the search) and every bare
/// token that holds PII replaced by `REDACTED`, then every stretch of the result that
/// still holds PII (quotes that do not pair up can leave a phone number outside any
/// literal, split into tokens). With `withhold_long`, every string literal longer than 16
/// bytes is replaced too (undecodable Kinesis data).
pub fn redact_json_text(text: &str, withhold_long: bool) -> String {
    super::detect::redact_spans(&redact_literals(text, withhold_long))
}

fn redact_literals(text: &str, withhold_long: bool) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let end = string_end(b, i + 1);
            let literal = &text[i + 1..end.min(b.len()).max(i + 1)];
            let decoded = unescape(literal);
            if contains_pii(&decoded) || contains_pii(literal) || (withhold_long && literal.len() > 16) {
                out.push('"');
                out.push_str(REDACTED);
                out.push('"');
            } else {
                out.push_str(&text[i..(end + 1).min(b.len())]);
            }
            i = end + 1;
        } else if is_structural(b[i]) {
            out.push(char::from(b[i]));
            i += 1;
        } else {
            let mut j = i;
            while j < b.len() && !is_structural(b[j]) && b[j] != b'"' {
                j += 1;
            }
            let token = &text[i..j];
            if contains_pii(token) {
                out.push_str(REDACTED);
            } else {
                out.push_str(token);
            }
            i = j;
        }
    }
    out
}

fn is_structural(c: u8) -> bool {
    matches!(c, b'{' | b'}' | b'[' | b']' | b',' | b':' | b' ' | b'\t' | b'\n' | b'\r')
}

/// The index of the closing quote of a string literal whose text starts at `i` (or the
/// end of the text when it has none).
fn string_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i,
            _ => i += 1,
        }
    }
    b.len()
}

/// JSON string escapes decoded leniently: a lone surrogate or a bad escape becomes U+FFFD.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let unit = u32::from_str_radix(&hex, 16).ok();
                out.push(unit.and_then(char::from_u32).unwrap_or('\u{fffd}'));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_tokens_holding_pii_are_replaced() {
        let out = redact_json_text(
            r#"{"a":{"S":"ana\u0040example.com"},"b":5550104477,"c":"\u0035\u0035\u0035\u0030\u0031\u0030\u0034\u0034\u0037\u0037","d":"ok","e":1e400,"f":"\ud800 x@y.io"#,
            false,
        );
        assert_eq!(out, r#"{"a":{"S":"REDACTED"},"b":REDACTED,"c":"REDACTED","d":"ok","e":1e400,"f":"REDACTED""#);
        assert_eq!(redact_json_text(r#"{"data":"eyJldmVudE5hbWUiOiJSRU1PVkUi"}"#, true), r#"{"data":"REDACTED"}"#);
        // Quotes that do not pair up leave the number outside any literal.
        let out = redact_json_text(r#"{"note":"x,"to":"+1 555 010 4477"}"#, false);
        assert!(!out.contains("4477"), "{out}");
    }
}
