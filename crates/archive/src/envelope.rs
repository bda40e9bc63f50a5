//! The Lambda event envelope: the batch's source and its records, each left as unparsed
//! JSON text so that one bad record cannot fail the others.

use std::fmt;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::EventError;
use crate::pii::parser_message;

/// Where a batch comes from, detected from `Records[*].eventSource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    DynamoDb,
    Kinesis,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::DynamoDb => "aws:dynamodb",
            Source::Kinesis => "aws:kinesis",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        match s {
            "aws:dynamodb" => Some(Source::DynamoDb),
            "aws:kinesis" => Some(Source::Kinesis),
            _ => None,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "Records", borrow, default)]
    records: Option<&'a RawValue>,
}

/// Splits a Lambda event into its records, each still unparsed JSON text. Fails only
/// when the payload is not a stream event at all.
pub fn split_event(payload: &[u8]) -> Result<Vec<&RawValue>, EventError> {
    // serde reads a struct from a JSON array too; a stream event is an object.
    if payload.iter().find(|c| !c.is_ascii_whitespace()) != Some(&b'{') {
        return match serde_json::from_slice::<serde::de::IgnoredAny>(payload) {
            Ok(_) => Err(EventError::NoRecords),
            Err(e) => Err(EventError::NotJson(parser_message(&e))),
        };
    }
    let env: Envelope<'_> = serde_json::from_slice(payload).map_err(|e| {
        if e.is_data() {
            EventError::NoRecords
        } else {
            EventError::NotJson(parser_message(&e))
        }
    })?;
    let records = env.records.ok_or(EventError::NoRecords)?;
    serde_json::from_str::<Vec<&RawValue>>(records.get()).map_err(|e| EventError::BadRecords(parser_message(&e)))
}

/// The `eventSource` to name when no record of a batch comes from a known source (only
/// when it has the shape of a source name; never a value that could be PII).
pub(crate) fn unsupported_source(raws: &[&str]) -> String {
    let seen: Vec<String> = raws
        .iter()
        .filter_map(|r| serde_json::from_str::<serde_json::Value>(r).ok())
        .filter_map(|v| v.get("eventSource").and_then(|s| s.as_str()).map(str::to_owned))
        .filter(|s| s.len() <= 64 && s.bytes().all(|c| c.is_ascii_alphanumeric() || b":.-_".contains(&c)))
        .filter(|s| !crate::pii::contains_pii(s))
        .take(4)
        .fold(Vec::new(), |mut acc, s| {
            if !acc.contains(&s) {
                acc.push(s);
            }
            acc
        });
    if seen.is_empty() {
        "missing".into()
    } else {
        seen.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes() {
        assert_eq!(split_event(br#"{"Records":[{"a":1},{"b":2}]}"#).expect("event").len(), 2);
        assert_eq!(split_event(br#"{"Records":[]}"#).expect("event").len(), 0);
        assert!(matches!(split_event(br#"{"hello":"world"}"#), Err(EventError::NoRecords)));
        assert!(matches!(split_event(br#"[1,2]"#), Err(EventError::NoRecords)));
        assert!(matches!(split_event(br#"{"Records":{}}"#), Err(EventError::BadRecords(_))));
        assert!(matches!(split_event(b"not json"), Err(EventError::NotJson(_))));
    }
}
