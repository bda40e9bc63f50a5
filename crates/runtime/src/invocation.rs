//! The two invocations every scheduled function takes: an EventBridge scheduled event
//! (planned at its `time`) and a batch of its queue's messages.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// The time of an EventBridge scheduled event (`detail-type: Scheduled Event`), `now`
/// when it has no readable `time`; `None` when `payload` is not one.
pub fn scheduled_at(payload: &Value, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if payload.get("detail-type").and_then(Value::as_str) != Some("Scheduled Event") {
        return None;
    }
    let at = payload
        .get("time")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or(now, |t| t.with_timezone(&Utc));
    Some(at)
}

/// The messages of an SQS batch (`Records`), each by id and body (empty when absent);
/// `None` when `payload` is not one.
pub fn queue_messages(payload: &Value) -> Option<Vec<(String, String)>> {
    let records = payload.get("Records").and_then(Value::as_array)?;
    let field = |r: &Value, k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    Some(records.iter().map(|r| (field(r, "messageId"), field(r, "body"))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_scheduled_event_is_planned_at_its_time_or_now() {
        let now = at("2026-12-04T10:00:00Z");
        let e = json!({"detail-type": "Scheduled Event", "time": "2026-12-04T09:00:00Z"});
        assert_eq!(scheduled_at(&e, now), Some(at("2026-12-04T09:00:00Z")));
        assert_eq!(scheduled_at(&json!({"detail-type": "Scheduled Event", "time": "soon"}), now), Some(now));
        assert_eq!(scheduled_at(&json!({"detail-type": "Object Created"}), now), None);
    }

    #[test]
    fn a_queue_batch_gives_its_messages() {
        let e = json!({"Records": [{"messageId": "m1", "body": "{}"}, {"body": 3}]});
        assert_eq!(queue_messages(&e), Some(vec![("m1".into(), "{}".into()), (String::new(), String::new())]));
        assert_eq!(queue_messages(&json!({"records": []})), None);
    }
}
