//! What the auditor is invoked with: an EventBridge scheduled event (queue every shard
//! of the stream for the window that ends at the event's time), a batch of its queue's
//! messages (audit one shard each), or one shard's message given directly (audit it now
//! and answer with its line).

use chrono::{DateTime, Utc};
use dmd_recover::Shard;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One invocation's work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// List the stream's shards and queue one message per shard for the window that
    /// ends at `at`.
    Plan { at: DateTime<Utc> },
    /// Queue messages, by message id: audit the shard each names.
    Messages(Vec<(String, String)>),
    /// Audit this shard now and answer with its line.
    Audit(ShardMessage),
}

/// The message body of one queued shard, and the direct request for one: the shard and
/// the window, fixed when the schedule planned it, so that every shard of a run is
/// audited over the same window however long its message waits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardMessage {
    pub stream_arn: String,
    pub shard_id: String,
    #[serde(default)]
    pub parent_shard_id: Option<String>,
    #[serde(default)]
    pub adjacent_parent_shard_id: Option<String>,
    /// The stream listed the shard as closed when the audit was planned.
    #[serde(default)]
    pub closed: bool,
    /// The window: records that reached the stream from `since_ms` to `until_ms`
    /// (epoch milliseconds).
    pub since_ms: i64,
    pub until_ms: i64,
}

impl ShardMessage {
    /// The message for `shard` of `stream_arn`, for the window `since_ms..until_ms`.
    pub fn of(stream_arn: &str, shard: &Shard, since_ms: i64, until_ms: i64) -> ShardMessage {
        ShardMessage {
            stream_arn: stream_arn.to_owned(),
            shard_id: shard.id.clone(),
            parent_shard_id: shard.parent.clone(),
            adjacent_parent_shard_id: shard.adjacent_parent.clone(),
            closed: shard.closed,
            since_ms,
            until_ms,
        }
    }

    /// The shard it names.
    pub fn shard(&self) -> Shard {
        Shard {
            id: self.shard_id.clone(),
            parent: self.parent_shard_id.clone(),
            adjacent_parent: self.adjacent_parent_shard_id.clone(),
            closed: self.closed,
        }
    }
}

/// Why a payload is not a request of the auditor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a scheduled event, a queue batch or a shard message ({{\"stream_arn\", \"shard_id\", \"since_ms\", \"until_ms\"}})")]
pub struct NotARequest;

/// Reads an invocation's payload; `now` dates a scheduled event without a `time`.
pub fn parse(payload: &Value, now: DateTime<Utc>) -> Result<Request, NotARequest> {
    if let Some(messages) = dmd_runtime::invocation::queue_messages(payload) {
        return Ok(Request::Messages(messages));
    }
    if let Some(at) = dmd_runtime::invocation::scheduled_at(payload, now) {
        return Ok(Request::Plan { at });
    }
    serde_json::from_value::<ShardMessage>(payload.clone()).map(Request::Audit).map_err(|_| NotARequest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z").unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_scheduled_event_plans_the_window_that_ends_at_its_time() {
        let e = json!({"detail-type": "Scheduled Event", "source": "aws.events", "time": "2026-12-04T09:00:00Z"});
        let at = DateTime::parse_from_rfc3339("2026-12-04T09:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(parse(&e, now()), Ok(Request::Plan { at }));
        let untimed = json!({"detail-type": "Scheduled Event", "source": "aws.events"});
        assert_eq!(parse(&untimed, now()), Ok(Request::Plan { at: now() }));
    }

    #[test]
    fn a_shard_message_reads_back_and_anything_else_is_refused() {
        let shard =
            Shard { id: "shardId-1".into(), parent: Some("shardId-0".into()), adjacent_parent: None, closed: true };
        let m = ShardMessage::of("arn", &shard, 1, 2);
        assert_eq!(m.shard(), shard);
        let body = serde_json::to_string(&m).unwrap();
        let sqs = json!({"Records": [{"messageId": "m1", "body": body, "eventSource": "aws:sqs"}]});
        assert_eq!(parse(&sqs, now()), Ok(Request::Messages(vec![("m1".into(), body.clone())])));
        let direct: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parse(&direct, now()), Ok(Request::Audit(m)));
        for bad in [json!({"shard_id": "shardId-1"}), json!([1]), json!({"dates": ["2026-12-01"]})] {
            assert_eq!(parse(&bad, now()), Err(NotARequest), "{bad}");
        }
    }
}
