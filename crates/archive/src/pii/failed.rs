//! Failed stream records and error messages on their way to an error file: a record that
//! may be a deletion has every string, name and number that holds PII redacted, whatever
//! shape it is in; one that does not parse as JSON is redacted by its structure.

use std::fmt;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{contains_pii, Policy, REDACTED};
use crate::error::RecordError;
use crate::record_type::RecordType;

/// Content that may belong to a deleted item. It cannot be printed or serialized; the
/// only way to its bytes is through the policy ([`FailedRecord::clean`]).
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    pub fn new(content: T) -> Self {
        Sensitive(content)
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// What the strict parser learnt of a failed record's change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    /// `eventName` was read, once and unambiguously, as INSERT or MODIFY: not a deletion.
    NotDeleted,
    /// A REMOVE, or a record whose event name could not be read: treated as a deletion.
    MaybeDeleted,
}

/// Which text of a failed record goes into its error line.
#[derive(Debug)]
pub enum Body {
    /// A DynamoDB Streams record, or the change record decoded from Kinesis data.
    Change(Sensitive<Vec<u8>>),
    /// A Kinesis record whose data does not decode into a JSON object: the raw Kinesis
    /// record, with its data withheld.
    UndecodableKinesis(Sensitive<Vec<u8>>),
}

/// A record on its way to an error file.
#[derive(Debug)]
pub struct FailedRecord {
    pub body: Body,
    pub declared: Declared,
    pub record_type: Option<RecordType>,
}

/// A failed record after the policy: the `record` of an error line.
#[derive(Debug)]
pub struct CleanJson(Box<RawValue>);

impl CleanJson {
    pub fn as_raw(&self) -> &RawValue {
        &self.0
    }
}

/// An error message after the policy: the `message` of an error line, and of logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanText(String);

impl CleanText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The message of a record error with every stretch that holds PII replaced.
pub fn message(error: &RecordError) -> CleanText {
    CleanText(super::detect::redact_spans(&error.message))
}

/// A serde_json message with every quoted or back-quoted part replaced by `…`: those
/// parts are values (or attribute type tags) from the record, which may be PII.
fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quote = None;
    for c in message.chars() {
        match quote {
            Some(q) if c == q => {
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' || c == '`' {
                    out.push('…');
                    quote = Some(c);
                }
            }
        }
    }
    out
}

/// A JSON parser's message without the values it quotes, and with any other stretch that
/// holds PII replaced.
pub fn parser_message(e: &serde_json::Error) -> String {
    super::detect::redact_spans(&without_values(&e.to_string()))
}

/// Fields of a stream record that describe the change, not the item: their values are
/// identifiers and times, kept unless they hold an e-mail address or encoded PII.
pub(super) const ENVELOPE: &[&str] = &[
    "eventID",
    "eventName",
    "eventVersion",
    "eventSource",
    "awsRegion",
    "eventSourceARN",
    "tableName",
    "recordFormat",
    "type",
    "principalId",
    "ApproximateCreationDateTime",
    "ApproximateCreationDateTimePrecision",
    "SequenceNumber",
    "SizeBytes",
    "StreamViewType",
    "kinesisSchemaVersion",
    "partitionKey",
    "sequenceNumber",
    "approximateArrivalTimestamp",
    "encryptionType",
    "invokeIdentityArn",
];

impl FailedRecord {
    /// The record for the error line. Not a deletion: the record as received (compact).
    /// Otherwise: keys stay; PII attributes (of the type, or of any type when it is not
    /// known, and `PII_ATTRIBUTES`) become `REDACTED` whatever their DynamoDB type; every
    /// other string, map key and number at any depth that holds PII becomes `REDACTED`,
    /// and a name of a PII attribute at any depth takes its value with it; text that is
    /// not JSON, or JSON that this parser refuses, is redacted by its structure
    /// ([`super::structure`]): everything but the envelope's identifiers is replaced.
    pub fn clean(self, policy: &Policy) -> CleanJson {
        let (bytes, undecodable) = match self.body {
            Body::Change(Sensitive(b)) => (b, false),
            Body::UndecodableKinesis(Sensitive(b)) => (b, true),
        };
        let text = String::from_utf8_lossy(&bytes);
        if self.declared == Declared::NotDeleted && !undecodable {
            if let Ok(raw) = RawValue::from_string(minify_json(&text)) {
                return CleanJson(raw);
            }
        }
        let named = |a: &str| policy.is_pii_attribute(self.record_type, a);
        let Ok(mut value) = serde_json::from_str::<Value>(&text) else {
            return to_clean(&Value::String(super::structure::redact_structure(&text, &named)));
        };
        if undecodable {
            if let Some(k) = value.get_mut("kinesis").and_then(Value::as_object_mut) {
                if k.contains_key("data") {
                    k.insert("data".into(), Value::String(REDACTED.into()));
                }
            }
        }
        scrub_record(&mut value, &named);
        to_clean(&value)
    }
}

/// Removes insignificant white space from JSON text, keeping key order and number text.
fn minify_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_str = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    out
}

fn to_clean(v: &Value) -> CleanJson {
    // A `Value` always serializes, and its text is always valid JSON.
    CleanJson(serde_json::value::to_raw_value(v).unwrap_or_else(|_| {
        serde_json::value::to_raw_value(&Value::Null).unwrap_or_else(|_| Box::<RawValue>::default())
    }))
}

/// A possible deletion in its JSON form: its images attribute by attribute, everything
/// else string by string.
fn scrub_record(record: &mut Value, named: &dyn Fn(&str) -> bool) {
    let Some(obj) = record.as_object_mut() else { return scrub_any(record, named) };
    let keys: Vec<String> = obj
        .get("dynamodb")
        .and_then(|d| d.get("Keys"))
        .and_then(Value::as_object)
        .map(|k| k.keys().cloned().collect())
        .unwrap_or_default();
    scrub_envelope(obj, &keys, named);
}

fn scrub_envelope(obj: &mut Map<String, Value>, keys: &[String], named: &dyn Fn(&str) -> bool) {
    let old = std::mem::take(obj);
    let mut renamed = 0;
    for (name, mut v) in old {
        match name.as_str() {
            "Keys" => {}
            "OldImage" | "NewImage" => scrub_image(&mut v, keys, named),
            // The envelope's own objects: a value of another kind in their place is not
            // an identifier, and is searched like item text.
            "dynamodb" | "kinesis" | "userIdentity" => match v.as_object_mut() {
                Some(d) => scrub_envelope(d, keys, named),
                None => scrub_any(&mut v, named),
            },
            n if ENVELOPE.contains(&n) => match &mut v {
                Value::Object(m) => scrub_envelope(m, keys, named),
                Value::String(s) if !envelope_value_ok(n, s) => *s = REDACTED.into(),
                Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => {}
                Value::Array(_) => scrub_any(&mut v, named),
            },
            _ => scrub_any(&mut v, named),
        }
        obj.insert(name_of(name, &mut renamed), v);
    }
}

/// Whether an envelope field's string value may stay: an event name must be one of the
/// three; any other value must have the shape of an identifier or a time (letters,
/// digits, `:_-./`, no spaces) and hold no e-mail address or encoded PII. Anything else
/// is searched like item text.
fn envelope_value_ok(field: &str, s: &str) -> bool {
    if field == "eventName" {
        return matches!(s, "INSERT" | "MODIFY" | "REMOVE") || !contains_pii(s);
    }
    super::identifier_ok(s)
}

fn name_of(name: String, renamed: &mut usize) -> String {
    if contains_pii(&name) {
        super::clean_name(&name, renamed).as_str().to_owned()
    } else {
        name
    }
}

/// An image: keys stay, named PII attributes become `{"S": "REDACTED"}`, every other
/// attribute is searched at every depth.
fn scrub_image(img: &mut Value, keys: &[String], named: &dyn Fn(&str) -> bool) {
    let Some(attrs) = img.as_object_mut() else { return scrub_any(img, named) };
    let old = std::mem::take(attrs);
    let mut renamed = 0;
    for (name, mut value) in old {
        if keys.iter().any(|k| k == &name) {
            attrs.insert(name, value);
            continue;
        }
        if named(&name) {
            value = serde_json::json!({ "S": REDACTED });
        } else {
            scrub_any(&mut value, named);
        }
        attrs.insert(name_of(name, &mut renamed), value);
    }
}

/// Every string, object key and number in `v` that holds PII becomes `REDACTED`, and the
/// value under a name of a PII attribute, at any depth, becomes `REDACTED` whole.
pub fn scrub_any(v: &mut Value, named: &dyn Fn(&str) -> bool) {
    match v {
        Value::String(s) if contains_pii(s) => *s = REDACTED.to_string(),
        Value::Number(n) if n.to_string().bytes().filter(u8::is_ascii_digit).count() >= 7 => {
            *v = Value::String(REDACTED.into())
        }
        Value::Array(xs) => xs.iter_mut().for_each(|x| scrub_any(x, named)),
        Value::Object(map) => {
            let old = std::mem::take(map);
            let mut renamed = 0;
            for (k, mut x) in old {
                if named(&k) {
                    x = Value::String(REDACTED.into());
                } else {
                    scrub_any(&mut x, named);
                }
                map.insert(name_of(k, &mut renamed), x);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn clean(json: &str, declared: Declared) -> String {
        let f =
            FailedRecord { body: Body::Change(Sensitive::new(json.as_bytes().to_vec())), declared, record_type: None };
        f.clean(&Policy::default()).as_raw().get().to_owned()
    }

    #[test]
    fn failed_deletions_are_redacted() {
        let out = clean(
            r#"{"eventName":"REMOVE","eventID":"e1","dynamodb":{"SequenceNumber":"4959000000000000001",
                "ApproximateCreationDateTime":1763542530,"Keys":{"pk":{"S":"FAN#555-010-4477"}},
                "OldImage":{"pk":{"S":"FAN#555-010-4477"},"email":{"N":"5550104477"},"bad":{"X":"call 555 010 4477"},
                "note":{"M":{"ana@example.com":{"S":"hi"},"bob@example.com":{"N":"5550104477"}}},
                "ok":{"S":"2026-11-19T10:15:30Z"},"ana2@example.com":{"S":"x"}}}}"#,
            Declared::MaybeDeleted,
        );
        let v: Value = serde_json::from_str(&out).expect("json");
        let img = &v["dynamodb"]["OldImage"];
        assert_eq!(img["pk"]["S"], "FAN#555-010-4477", "keys stay");
        assert_eq!(img["email"]["S"], "REDACTED", "a PII attribute of any type");
        assert_eq!(img["bad"]["X"], "REDACTED");
        assert_eq!(img["note"]["M"]["REDACTED"]["S"], "hi");
        assert_eq!(img["note"]["M"]["REDACTED_2"]["N"], "REDACTED");
        assert_eq!(img["ok"]["S"], "2026-11-19T10:15:30Z");
        assert_eq!(img["REDACTED"]["S"], "x", "names are strings too");
        assert_eq!(v["dynamodb"]["SequenceNumber"], "4959000000000000001", "identifiers stay");
        assert_eq!(v["dynamodb"]["ApproximateCreationDateTime"], 1763542530);
        let out = clean(r#"{"eventID":"shard:YW5hQGV4YW1wbGUuY29t","eventName":"REMOVE"}"#, Declared::MaybeDeleted);
        assert!(out.contains(r#""eventID":"REDACTED""#), "{out}");
    }

    #[test]
    fn inserts_stay_and_unparseable_text_is_redacted_as_text() {
        let insert = r#"{"eventName":"INSERT","dynamodb":{"NewImage":{"e":{"S":"a@b.com"}}}}"#;
        assert_eq!(clean(insert, Declared::NotDeleted), insert);
        assert!(!clean(insert, Declared::MaybeDeleted).contains("a@b.com"));
        for bad in [
            r#"{"eventName":"REMOVE","x":{"S":"ana@example.com"},"n":1e400}"#,
            r#"{"eventName":"REMOVE","x":{"S":"ana\u0040example.com \ud800"}}"#,
            r#"{"eventName":"REMOVE","x":{"S":"call \"555 010 4477\""},"#,
        ] {
            let out = clean(bad, Declared::MaybeDeleted);
            let s: String = serde_json::from_str(&out).expect("a JSON string");
            assert!(!s.contains("ana") && !s.contains("4477"), "{s}");
            assert!(s.contains("REDACTED"), "{s}");
        }
    }

    #[test]
    fn undecodable_kinesis_data_is_withheld() {
        let f = FailedRecord {
            body: Body::UndecodableKinesis(Sensitive::new(
                br#"{"eventSource":"aws:kinesis","kinesis":{"data":"eyJhIjoi!!","sequenceNumber":"1"}}"#.to_vec(),
            )),
            declared: Declared::NotDeleted,
            record_type: None,
        };
        let out = f.clean(&Policy::default());
        let v: Value = serde_json::from_str(out.as_raw().get()).expect("json");
        assert_eq!(v["kinesis"]["data"], "REDACTED");
        assert_eq!(v["kinesis"]["sequenceNumber"], "1");
    }

    #[test]
    fn minify_keeps_strings_and_numbers() {
        let text = "{\n  \"a\" : \"x  y\\\" z\",\n  \"n\": 1.50e3 ,\"l\":[ 1, 2 ]\n}";
        assert_eq!(minify_json(text), r#"{"a":"x  y\" z","n":1.50e3,"l":[1,2]}"#);
    }

    #[test]
    fn messages_lose_their_pii() {
        let e = RecordError::new(ErrorKind::Parse, "eventName ana@example.com at column 5550104477");
        assert_eq!(message(&e).as_str(), "eventName REDACTED at column REDACTED");
        assert_eq!(format!("{:?}", Sensitive::new("ana@example.com")), "[REDACTED]");
        assert_eq!(without_values("unknown variant `ana@x.com`, expected `S`"), "unknown variant `…`, expected `…`");
        let e = serde_json::from_str::<Vec<u8>>(r#""ana@example.com""#).unwrap_err();
        assert!(!parser_message(&e).contains("ana@"), "{}", parser_message(&e));
    }
}
