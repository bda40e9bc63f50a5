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

/// The message of a record error with every stretch that holds PII replaced, then the
/// parser's position, if any (two numbers, which no input text can be).
pub fn message(error: &RecordError) -> CleanText {
    let text = super::detect::redact_spans(&error.message);
    CleanText(match error.position {
        Some((line, column)) => format!("{text} at line {line} column {column}"),
        None => text,
    })
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
    scrub_envelope(obj, &keys, named, Level::Top);
}

/// Where an object of the envelope lies: the record itself, its `dynamodb` object (the
/// only place whose `Keys` are kept as they are), or deeper.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Top,
    Dynamodb,
    Deeper,
}

fn scrub_envelope(obj: &mut Map<String, Value>, keys: &[String], named: &dyn Fn(&str) -> bool, level: Level) {
    let old = std::mem::take(obj);
    let mut renamed = 0;
    for (name, mut v) in old {
        match name.as_str() {
            "Keys" if level == Level::Dynamodb => {}
            "OldImage" | "NewImage" => scrub_image(&mut v, keys, named),
            // The envelope's own objects: a value of another kind in their place is not
            // an identifier, and is searched like item text.
            "dynamodb" | "kinesis" | "userIdentity" => match v.as_object_mut() {
                Some(d) => {
                    let inner = if level == Level::Top && name == "dynamodb" { Level::Dynamodb } else { Level::Deeper };
                    scrub_envelope(d, keys, named, inner);
                }
                None => scrub_any(&mut v, named),
            },
            n if ENVELOPE.contains(&n) => match &mut v {
                Value::Object(m) => scrub_envelope(m, keys, named, Level::Deeper),
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
mod tests;
