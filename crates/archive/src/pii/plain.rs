//! Attribute values as the archive writes them in `keys` and `attributes` (contract
//! section 3, "plain JSON text"), with the policy applied to every string, name, number
//! and binary value on the way.

use super::{clean_name, contains_pii, Clean, Disposition, REDACTED};
use crate::attr::{write_json_str, AttrValue};

/// One attribute on its way into a map column: its clean name, and its value to be
/// written through the policy.
#[derive(Debug)]
pub struct Attribute<'b, 'a> {
    name: Clean<'b>,
    value: &'b AttrValue<'a>,
    disposition: Disposition,
}

impl<'b, 'a> Attribute<'b, 'a> {
    pub(super) fn new(name: Clean<'b>, value: &'b AttrValue<'a>, disposition: Disposition) -> Self {
        Attribute { name, value, disposition }
    }

    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    pub fn disposition(&self) -> Disposition {
        self.disposition
    }

    /// Writes the plain JSON text of the value: a string as it is (not quoted), a number
    /// with its exact digits, `true`/`false`, `null`, base64 text for binary, and JSON
    /// for maps, lists and sets. For a deleted item, every string, map key, number and
    /// binary value that holds PII becomes `REDACTED`; a PII attribute is `REDACTED`
    /// whole.
    pub fn write_value(&self, out: &mut Vec<u8>) {
        let scrub = match self.disposition {
            Disposition::Redact => return out.extend_from_slice(REDACTED.as_bytes()),
            Disposition::Keep => false,
            Disposition::Scrub => true,
        };
        match self.value {
            AttrValue::S(s) | AttrValue::B(s) => out.extend_from_slice(text(s.as_str(), scrub).as_bytes()),
            AttrValue::N(n) if scrub && number_holds_pii(&n.0) => out.extend_from_slice(REDACTED.as_bytes()),
            other => write_json(other, scrub, out),
        }
    }
}

fn text(s: &str, scrub: bool) -> &str {
    if scrub && contains_pii(s) {
        REDACTED
    } else {
        s
    }
}

/// A number of a deleted item with the digits of a phone number (an epoch time too:
/// over-redaction of a deletion is acceptable, a leak is not).
fn number_holds_pii(n: &str) -> bool {
    n.bytes().filter(u8::is_ascii_digit).count() >= 7
}

fn write_number(n: &str, scrub: bool, out: &mut Vec<u8>) {
    if scrub && number_holds_pii(n) {
        write_json_str(REDACTED, out);
    } else {
        out.extend_from_slice(n.as_bytes());
    }
}

fn write_json(v: &AttrValue<'_>, scrub: bool, out: &mut Vec<u8>) {
    match v {
        AttrValue::S(s) | AttrValue::B(s) => write_json_str(text(s.as_str(), scrub), out),
        AttrValue::N(n) => write_number(&n.0, scrub, out),
        AttrValue::BOOL(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        AttrValue::NULL(_) => out.extend_from_slice(b"null"),
        AttrValue::SS(xs) | AttrValue::BS(xs) => {
            write_array(xs.iter(), out, |s, out| write_json_str(text(s.as_str(), scrub), out));
        }
        AttrValue::NS(xs) => write_array(xs.iter(), out, |n, out| write_number(&n.0, scrub, out)),
        AttrValue::L(xs) => write_array(xs.iter(), out, |x, out| write_json(x, scrub, out)),
        AttrValue::M(item) => {
            out.push(b'{');
            let mut renamed = 0usize;
            for (i, (k, x)) in item.0.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let key = if scrub { clean_name(k.as_str(), &mut renamed) } else { Clean(k.0.clone()) };
                write_json_str(key.as_str(), out);
                out.push(b':');
                write_json(x, scrub, out);
            }
            out.push(b'}');
        }
    }
}

fn write_array<T>(xs: impl Iterator<Item = T>, out: &mut Vec<u8>, mut each: impl FnMut(T, &mut Vec<u8>)) {
    out.push(b'[');
    for (i, x) in xs.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(x, out);
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::Policy;
    use crate::record_type::RecordType;

    fn plain(json: &str, deleted: bool) -> String {
        let v: AttrValue = serde_json::from_str(json).expect("attribute value");
        let policy = Policy::default();
        let mut n = 0;
        let a = policy.for_change(RecordType::Event, deleted).attribute("note", &v, &mut n);
        let mut out = Vec::new();
        a.write_value(&mut out);
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn plain_text_of_each_type() {
        assert_eq!(plain(r#"{"S":"a \"b\""}"#, false), "a \"b\"");
        assert_eq!(
            plain(r#"{"N":"12345678901234567890.123456789012345678"}"#, false),
            "12345678901234567890.123456789012345678"
        );
        assert_eq!(plain(r#"{"BOOL":true}"#, false), "true");
        assert_eq!(plain(r#"{"NULL":true}"#, false), "null");
        assert_eq!(plain(r#"{"B":"AAEC"}"#, false), "AAEC");
        assert_eq!(plain(r#"{"SS":["a","b"]}"#, false), r#"["a","b"]"#);
        assert_eq!(plain(r#"{"NS":["1","2.50"]}"#, false), "[1,2.50]");
        assert_eq!(plain(r#"{"BS":["AA=="]}"#, false), r#"["AA=="]"#);
        assert_eq!(
            plain(r#"{"M":{"z":{"N":"1"},"a":{"L":[{"S":"x\ny"},{"NULL":true}]}}}"#, false),
            r#"{"z":1,"a":["x\ny",null]}"#
        );
    }

    #[test]
    fn plain_text_is_json_for_containers() {
        let text = plain(r#"{"M":{"q":{"S":"\u0001\t\\"},"l":{"L":[{"M":{}},{"SS":["\"quoted\""]}]}}}"#, false);
        let back: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(back["q"], "\u{1}\t\\");
        assert_eq!(back["l"][1][0], "\"quoted\"");
    }

    #[test]
    fn deletions_are_scrubbed_at_every_depth_in_every_type() {
        let text = plain(
            r#"{"M":{"contact":{"S":"ana@example.com"},"at":{"S":"2026-11-19T10:15:30Z"},
                "deep":{"L":[{"SS":["call +1 555 010 4477","ok"]}]},"bob@example.com":{"BOOL":true},
                "n":{"N":"447700900123"},"ns":{"NS":["1","5550104477"]},"b":{"B":"YW5hQGV4YW1wbGUuY29t"},
                "bob2@example.com":{"N":"1"}}}"#,
            true,
        );
        assert_eq!(
            text,
            r#"{"contact":"REDACTED","at":"2026-11-19T10:15:30Z","deep":[["REDACTED","ok"]],"REDACTED":true,"n":"REDACTED","ns":[1,"REDACTED"],"b":"REDACTED","REDACTED_2":1}"#
        );
        assert_eq!(plain(r#"{"S":"mail me: a.b@example.org"}"#, true), "REDACTED");
        assert_eq!(plain(r#"{"N":"5550104477"}"#, true), "REDACTED");
        assert_eq!(plain(r#"{"S":"mail me: a.b@example.org"}"#, false), "mail me: a.b@example.org");
    }
}
