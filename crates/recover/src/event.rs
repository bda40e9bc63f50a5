//! The Lambda event the function receives, rebuilt: `{"Records": [...]}` around the
//! records read back, and the epoch-seconds numbers those records carry.

use aws_smithy_types::DateTime;
use serde::Serialize;
use serde_json::{Number, Value};

#[derive(Serialize)]
struct Event<'a> {
    #[serde(rename = "Records")]
    records: &'a [Value],
}

/// The payload of a Lambda invocation with these records, as the pipeline entry takes it.
pub fn payload(records: &[Value]) -> Vec<u8> {
    // Serializing JSON values into memory cannot fail; an empty event is the fallback.
    serde_json::to_vec(&Event { records }).unwrap_or_else(|_| br#"{"Records":[]}"#.to_vec())
}

/// A time as Lambda writes it into an event: epoch seconds, a whole number when the time
/// is whole seconds, else a decimal fraction.
///
/// The SDK reads the service's number through an `f64` into seconds and nanoseconds;
/// turning those back into the nearest `f64` gives the service's number again, and its
/// shortest decimal text is the text the service sent.
pub fn epoch_seconds(t: &DateTime) -> Value {
    if t.subsec_nanos() == 0 {
        return Value::from(t.secs());
    }
    Number::from_f64(t.as_secs_f64()).map_or_else(|| Value::from(t.secs()), Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_keep_the_services_text() {
        assert_eq!(epoch_seconds(&DateTime::from_secs(1_763_546_400)).to_string(), "1763546400");
        for text in ["1795161601.662", "1763546400.1234567", "1763546400.5", "0.25"] {
            let parsed: f64 = text.parse().expect("number");
            assert_eq!(epoch_seconds(&DateTime::from_secs_f64(parsed)).to_string(), text);
        }
    }

    #[test]
    fn the_event_wraps_the_records() {
        let records = vec![serde_json::json!({"eventID": "1"}), serde_json::json!({"eventID": "2"})];
        assert_eq!(payload(&records), br#"{"Records":[{"eventID":"1"},{"eventID":"2"}]}"#.to_vec());
        assert_eq!(payload(&[]), br#"{"Records":[]}"#.to_vec());
    }
}
