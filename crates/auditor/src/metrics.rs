//! What the auditor prints per invocation: one JSON line per shard audited (its counts
//! and its missing records, named by sequence number, event name, time and keys only)
//! and one for a plan, each also a CloudWatch embedded metric format document with the
//! function's name as the dimension. `MissingRecords` is what the template's alarm
//! watches.

use dmd_recover::audit::ShardLine;
use serde_json::{json, Map, Value};

/// The metrics' namespace, the archiver's.
pub const NAMESPACE: &str = "dmd-pipeline";

/// The metric the missing-records alarm watches.
pub const MISSING_RECORDS: &str = "MissingRecords";

/// A shard's audit, and what a repair archived before it.
#[derive(Debug, Clone)]
pub struct ShardAudit {
    pub line: ShardLine,
    /// Records archived by the repair, when the audit repaired (the line is then the
    /// audit after the repair).
    pub repaired: Option<usize>,
}

impl ShardAudit {
    /// The shard was read to its end and no record of it could not be told.
    pub fn complete(&self) -> bool {
        self.line.problem.is_none()
    }
}

/// The line of one shard's audit.
pub fn shard_line(function_name: &str, audit: &ShardAudit, timestamp_ms: i64) -> Value {
    let c = &audit.line.counts;
    let metrics = [
        ("AuditedRecords", c.records),
        (MISSING_RECORDS, c.missing),
        ("UnsettledRecords", c.unsettled),
        ("RetryingRecords", c.retrying),
        ("RepairedRecords", audit.repaired.unwrap_or(0)),
        ("UnauditedShards", usize::from(!audit.complete())),
    ];
    let mut fields = match serde_json::to_value(&audit.line) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let bad = c.missing > 0 || !audit.complete();
    fields.insert("message".into(), "shard audited".into());
    fields.insert("level".into(), if bad { "ERROR" } else { "INFO" }.into());
    if let Some(n) = audit.repaired {
        fields.insert("repaired".into(), n.into());
    }
    emf(function_name, &metrics, timestamp_ms, fields)
}

/// The line of a plan: the shards queued.
pub fn plan_line(function_name: &str, stream_arn: &str, queued: usize, timestamp_ms: i64) -> Value {
    let mut fields = Map::new();
    fields.insert("message".into(), "audit planned".into());
    fields.insert("level".into(), "INFO".into());
    fields.insert("stream_arn".into(), stream_arn.into());
    emf(function_name, &[("QueuedShards", queued)], timestamp_ms, fields)
}

fn emf(function_name: &str, metrics: &[(&str, usize)], timestamp_ms: i64, mut fields: Map<String, Value>) -> Value {
    fields.insert("FunctionName".into(), function_name.into());
    for (name, value) in metrics {
        fields.insert((*name).into(), (*value).into());
    }
    let definitions: Vec<Value> = metrics.iter().map(|(n, _)| json!({"Name": n, "Unit": "Count"})).collect();
    fields.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [["FunctionName"]], "Metrics": definitions}],
        }),
    );
    Value::Object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmd_recover::audit::{Counts, Missing};

    #[test]
    fn a_shard_with_missing_records_is_a_metric_and_an_error_line() {
        let line = ShardLine {
            shard_id: "shardId-1".into(),
            counts: Counts { records: 10, archived: 7, missing: 2, unsettled: 1, ..Counts::default() },
            missing_records: vec![Missing {
                sequence_number: "49".into(),
                event_name: Some("REMOVE".into()),
                event_time: None,
                keys: json!({"pk": {"S": "FAN#1"}}),
            }],
            ..ShardLine::default()
        };
        let v = shard_line("auditor", &ShardAudit { line, repaired: None }, 7);
        assert_eq!(v["level"], "ERROR");
        assert_eq!((v["MissingRecords"].clone(), v["AuditedRecords"].clone()), (json!(2), json!(10)));
        assert_eq!(v["UnauditedShards"], 0);
        assert_eq!(v["missing_records"][0]["keys"]["pk"]["S"], "FAN#1");
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["FunctionName"]]));
        let names: Vec<&str> =
            directive["Metrics"].as_array().unwrap().iter().map(|m| m["Name"].as_str().unwrap()).collect();
        assert!(names.contains(&MISSING_RECORDS) && names.iter().all(|n| v.get(n).is_some()), "{names:?}");
        assert_eq!(v["FunctionName"], "auditor");
    }

    #[test]
    fn a_shard_not_read_to_its_end_is_unaudited() {
        let line = ShardLine { shard_id: "s".into(), problem: Some("throttled".into()), ..ShardLine::default() };
        let v = shard_line("auditor", &ShardAudit { line, repaired: Some(3) }, 7);
        assert_eq!((v["UnauditedShards"].clone(), v["RepairedRecords"].clone()), (json!(1), json!(3)));
        assert_eq!(v["level"], "ERROR");
        assert_eq!(plan_line("auditor", "arn", 4, 7)["QueuedShards"], 4);
    }
}
