//! Whether a payload is a stream event, decided without processing it, by the rules
//! [`Pipeline::process`](crate::pipeline::Pipeline::process) applies: `dmd archive`
//! checks every input with it before writing anything.

use serde_json::value::RawValue;

use crate::envelope::{split_event, unsupported_source};
use crate::error::EventError;
use crate::record::receive_text;
use crate::walk::walk_texts;

/// Checks that a payload is a stream event: a `Records` array in which, unless it is
/// empty, some record comes from DynamoDB Streams or Kinesis, as the pipeline reads its
/// `eventSource` (a record it cannot read counts by the source it salvages). The records
/// are found by one strict scan ([`walk_texts`]) where it can, else by the reference
/// split; only records up to the first of a known source are parsed, usually one.
/// Fails exactly where [`Pipeline::process`](crate::pipeline::Pipeline::process) fails.
pub fn check_event(payload: &[u8]) -> Result<(), EventError> {
    let mut texts = Vec::new();
    if walk_texts(payload, |text| texts.push(text)).is_err() {
        texts = split_event(payload)?.into_iter().map(RawValue::get).collect();
    }
    if texts.is_empty() || texts.iter().any(|t| known_source(t)) {
        return Ok(());
    }
    Err(EventError::UnsupportedSource(unsupported_source(&texts)))
}

/// Whether the pipeline reads the record as coming from a known source.
fn known_source(text: &str) -> bool {
    match receive_text(text) {
        Ok(_) => true,
        Err(rejected) => rejected.source.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        assert!(check_event(br#"{"Records":[]}"#).is_ok());
        assert!(check_event(br#"{"Records":[{"eventSource":"aws:kinesis"}]}"#).is_ok());
        assert!(
            matches!(check_event(br#"{"Records":[{"eventSource":"aws:sqs"}]}"#), Err(EventError::UnsupportedSource(s)) if s == "aws:sqs")
        );
        assert!(matches!(check_event(br#"{"x":1}"#), Err(EventError::NoRecords)));
        assert!(matches!(check_event(b"{\"Records\":[1,]}"), Err(EventError::NotJson(_))));
        assert!(
            matches!(check_event(br#"{"Records":[{"eventSource":"ana@example.com"}]}"#), Err(EventError::UnsupportedSource(s)) if s == "missing"),
            "a source that is not shaped like one is not repeated"
        );
    }

    #[test]
    fn reads_the_source_as_the_pipeline_does() {
        // The source's name elsewhere in the record does not make it one.
        let other = br#"{"Records":[{"eventSource":"aws:sqs","body":"\"aws:dynamodb\""}]}"#;
        assert!(matches!(check_event(other), Err(EventError::UnsupportedSource(_))));
        // An escaped name is still the name.
        assert!(check_event(br#"{"Records":[{"eventSource":"aws:dynamo\u0064b"}]}"#).is_ok());
        // A record the strict parse refuses counts by the source salvaged from it.
        assert!(check_event(br#"{"Records":[{"eventSource":"aws:kinesis","eventSource":"aws:kinesis"}]}"#).is_ok());
    }
}
