//! What the `recoverer` function logs per message: one JSON line with the range and the
//! counts of its recovery, which is also a CloudWatch Embedded Metric Format document
//! (`RecoveredBatches`, `UnrecoveredBatches`, `RecoveredRecords`, `MissingRecords`), so
//! that a batch that cannot be recovered raises an alarm however often it is retried.
//! Counts, ids and keys only; never a record.

use dmd_recover::Recovery;
use serde_json::{json, Value};

use crate::report::NAMESPACE;

/// The line for the recovery of the queue message `message_id`.
pub fn recovery_line(function_name: &str, message_id: &str, recovery: &Recovery, timestamp_ms: i64) -> Value {
    let recovered = recovery.recovered();
    let metrics: [(&str, usize); 4] = [
        ("RecoveredBatches", usize::from(recovered)),
        ("UnrecoveredBatches", usize::from(!recovered)),
        ("RecoveredRecords", recovery.archived + recovery.errors),
        ("MissingRecords", usize::try_from(recovery.missing).unwrap_or(usize::MAX)),
    ];
    let mut line = match serde_json::to_value(recovery) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    // Lambda deletes the message after the answer, not this function: `recovered` says
    // whether it will.
    line.remove("deleted_message");
    line.insert("message".into(), "recovery".into());
    line.insert("level".into(), if recovered { "INFO" } else { "ERROR" }.into());
    line.insert("message_id".into(), message_id.into());
    line.insert("recovered".into(), recovered.into());
    line.insert("FunctionName".into(), function_name.into());
    for (name, value) in metrics {
        line.insert(name.into(), value.into());
    }
    let definitions: Vec<Value> = metrics.iter().map(|(n, _)| json!({"Name": n, "Unit": "Count"})).collect();
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [["FunctionName"]], "Metrics": definitions}],
        }),
    );
    Value::Object(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unrecovered_batch_is_a_metric_and_an_error_line() {
        let r = Recovery {
            shard_id: Some("shardId-1".into()),
            records: 3,
            archived: 1,
            errors: 0,
            missing: 2,
            problem: Some("2 record(s) of the batch are no longer in the stream".into()),
            ..Recovery::default()
        };
        let line = recovery_line("recoverer", "m-1", &r, 1_795_000_000_000);
        assert_eq!(line["level"], "ERROR");
        assert_eq!(line["UnrecoveredBatches"], 1);
        assert_eq!(line["RecoveredBatches"], 0);
        assert_eq!(line["MissingRecords"], 2);
        assert_eq!(line["RecoveredRecords"], 1);
        assert_eq!(line["shard_id"], "shardId-1");
        assert_eq!(line["recovered"], false);
        assert!(line.get("deleted_message").is_none());
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        for m in directive["Metrics"].as_array().expect("metrics") {
            assert!(line[m["Name"].as_str().expect("name")].is_number());
        }
        let ok = recovery_line("recoverer", "m-2", &Recovery::default(), 1);
        assert_eq!((ok["level"].as_str(), ok["RecoveredBatches"].as_u64()), (Some("INFO"), Some(1)));
    }
}
