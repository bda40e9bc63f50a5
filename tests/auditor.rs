//! The built `auditor` function through a loopback Lambda runtime API, on moto's real
//! Kinesis (a split shard: a closed parent and its children), S3 and SQS: changes
//! archived to the bucket by the real `dmd archive`, one batch held back. The scheduled
//! event queues every shard (one FIFO group each, parents first); each message audits
//! one shard and prints its line, whose `MissingRecords` is the metric and the function
//! name the template's alarm watches, and which names exactly the held-back records by
//! nothing but their sequence numbers, event names, times and keys. The same message
//! given with `AUDIT_REPAIR=true` archives them; `dmd audit` and `dmd verify` are then
//! clean.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::{json, Value};

use crate::audit::{helper as stream_helper, seq};
use crate::compactor::{helper as queue_helper, schedule, sqs_event};
use crate::moto;
use crate::runtime_api::Function;
use crate::util::{self, dmd, dmd_bin};

/// Records per archived batch.
const BATCH: usize = 100;

/// What the function is called in Lambda: the template's `${AWS::StackName}-auditor`.
const NAME: &str = "dmd-pipeline-auditor";

fn archive(bucket: &str, batches: &[Vec<Value>]) {
    let dir = tempfile::tempdir().expect("tmp");
    let mut args = vec!["archive".to_owned(), "--bucket".to_owned(), bucket.to_owned()];
    for (i, b) in batches.iter().enumerate() {
        let path = dir.path().join(format!("batch-{i:04}.json"));
        std::fs::write(&path, json!({ "Records": b }).to_string()).expect("write event");
        args.push(path.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = dmd(&args, &[]);
    assert!(out.status.success(), "dmd archive: {}", String::from_utf8_lossy(&out.stderr));
}

fn now() -> String {
    let out = Command::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%SZ"]).output().expect("date");
    String::from_utf8(out.stdout).expect("UTF-8").trim().to_owned()
}

/// The JSON lines the function printed that are metric documents.
fn metric_lines(logs: &str) -> Vec<Value> {
    logs.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter(|l| l.get("_aws").is_some()).collect()
}

fn sum(lines: &[Value], metric: &str) -> u64 {
    lines.iter().filter_map(|l| l[metric].as_u64()).sum()
}

/// Nothing of an item but its keys (tests/py/audit_streams.py plants these).
fn assert_only_keys(what: &str, text: &str) {
    for planted in ["@example.com", "+1 555", "after 6pm", "REQUESTED", "CONFIRMED", "2026-11-21T09"] {
        assert!(!text.contains(planted), "{planted} in what {what} printed");
    }
}

/// The alarm on the missing count: its namespace, metric and dimension in template.yaml.
fn missing_records_alarm() -> (String, String, String) {
    let template = std::fs::read_to_string(util::root().join("template.yaml")).expect("template.yaml");
    let block: Vec<&str> = template
        .lines()
        .skip_while(|l| l.trim() != "MissingRecordsAlarm:")
        .skip(1)
        .take_while(|l| l.starts_with("    ") || l.trim().is_empty())
        .collect();
    let field = |name: &str| {
        let line = block.iter().find(|l| l.trim().starts_with(name)).unwrap_or_else(|| panic!("{name} in {block:?}"));
        line.trim().trim_start_matches(name).trim().to_owned()
    };
    (field("Namespace:"), field("MetricName:"), field("Value:"))
}

#[test]
fn the_schedule_queues_every_shard_each_message_audits_one_and_the_repair_fills_the_hole() {
    let stream = stream_helper("kinesis", &moto::unique_bucket("auditor"), 1200);
    let arn = stream["stream_arn"].as_str().expect("arn");
    let shards = stream["shards"].as_array().expect("shards");
    assert_eq!(shards.len(), 4, "two shards, one split in two");
    let rt = moto::runtime();
    let client = rt.block_on(moto::client());
    let bucket = moto::unique_bucket("auditor");
    rt.block_on(moto::create_bucket(&client, &bucket));

    // Every shard's records in batches; the largest shard's second batch is held back.
    let by_shard: Vec<Vec<Vec<Value>>> = shards
        .iter()
        .map(|s| s["records"].as_array().expect("records").chunks(BATCH).map(<[Value]>::to_vec).collect())
        .collect();
    let target = (0..by_shard.len()).max_by_key(|&i| by_shard[i].len()).expect("a shard");
    let held_back: BTreeSet<String> = by_shard[target][1].iter().map(seq).collect();
    let delivered: Vec<Vec<Value>> = by_shard
        .iter()
        .enumerate()
        .flat_map(|(i, batches)| batches.iter().enumerate().filter(move |(j, _)| (i, *j) != (target, 1)))
        .map(|(_, b)| b.clone())
        .collect();
    archive(&bucket, &delivered);

    let url = queue_helper(&["create", &moto::unique_bucket("audit")]);
    let env = [
        ("ARCHIVE_BUCKET", bucket.as_str()),
        ("AVRO_CODEC", "null"),
        ("AUDIT_STREAM_ARN", arn),
        ("AUDIT_QUEUE_URL", url.as_str()),
        ("AUDIT_SETTLE_SECONDS", "0"),
        ("AUDIT_READ_INTERVAL_MS", "0"),
    ];
    let function = Function::new(&dmd_bin().with_file_name("auditor"), NAME).envs(&env);

    // The schedule: every shard queued, parents before children, one group each. Its
    // time has whole seconds, as EventBridge's has: a second later than the last put,
    // every record is inside the window that ends at it.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let served = function.serve(&[schedule(&now())]);
    let queued: Vec<String> = served.answers[0].response()["queued"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", served.logs))
        .iter()
        .map(|s| s.as_str().expect("shard id").to_owned())
        .collect();
    let listed: BTreeSet<&str> = shards.iter().map(|s| s["shard_id"].as_str().expect("id")).collect();
    assert_eq!(queued.iter().map(String::as_str).collect::<BTreeSet<_>>(), listed);
    for s in shards {
        if let Some(parent) = s["parent_shard_id"].as_str() {
            let at = |id: &str| queued.iter().position(|q| q == id);
            assert!(at(parent) < at(s["shard_id"].as_str().expect("id")), "{parent} first: {queued:?}");
        }
    }
    assert_eq!(sum(&metric_lines(&served.logs), "QueuedShards"), 4, "{}", served.logs);
    let messages: Vec<Value> = serde_json::from_str(&queue_helper(&["receive", &url])).expect("messages");
    assert_eq!(messages.len(), 4);
    let bodies: Vec<Value> =
        messages.iter().map(|m| serde_json::from_str(m["body"].as_str().expect("body")).expect("JSON")).collect();
    for (m, body) in messages.iter().zip(&bodies) {
        assert_eq!(m["group"], body["shard_id"], "one message group per shard");
    }

    // Each message audits its shard; one that names no shard, or another stream, is
    // let go (retrying cannot help).
    let junk = json!({"id": "junk", "body": "{\"shard_id\": 3}"});
    let mut other = bodies[0].clone();
    other["stream_arn"] = "arn:aws:kinesis:eu-west-1:123456789012:stream/another".into();
    let other = json!({"id": "other", "body": other.to_string()});
    let mut payloads: Vec<Vec<u8>> = messages.iter().map(|m| sqs_event(std::slice::from_ref(m))).collect();
    payloads.push(sqs_event(&[junk, other]));
    let served = function.serve(&payloads);
    for a in &served.answers {
        assert_eq!(a.response(), json!({"batchItemFailures": []}), "{}", served.logs);
    }
    let lines = metric_lines(&served.logs);
    let shard_lines: Vec<&Value> = lines.iter().filter(|l| l["message"] == "shard audited").collect();
    assert_eq!(shard_lines.len(), 4, "{}", served.logs);
    assert_eq!(sum(&lines, "AuditedRecords"), 1200);
    assert_eq!(sum(&lines, "MissingRecords"), BATCH as u64);
    assert_eq!(sum(&lines, "UnauditedShards"), 0);
    let named: BTreeSet<String> = shard_lines
        .iter()
        .flat_map(|l| l["missing_records"].as_array().cloned().unwrap_or_default())
        .map(|m| m["sequence_number"].as_str().expect("sequence number").to_owned())
        .collect();
    assert_eq!(named, held_back, "exactly the held-back batch");
    assert_only_keys("the auditor", &served.logs);

    // The metric is the one the alarm watches, under the function's name.
    let (namespace, metric, dimension) = missing_records_alarm();
    assert_eq!((namespace.as_str(), metric.as_str()), ("dmd-pipeline", "MissingRecords"));
    assert_eq!(dimension, "!Sub \"${AWS::StackName}-auditor\"");
    for l in &shard_lines {
        assert_eq!(l["FunctionName"], NAME);
        let directive = &l["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(
            (directive["Namespace"].as_str(), &directive["Dimensions"]),
            (Some("dmd-pipeline"), &json!([["FunctionName"]]))
        );
        assert!(directive["Metrics"].as_array().expect("metrics").iter().any(|m| m["Name"] == "MissingRecords"));
    }

    // With repair on, the hole's shard, asked for directly, is archived and audited again.
    let hole = bodies.iter().find(|b| b["shard_id"] == shards[target]["shard_id"]).expect("the hole's message");
    let repairing = Function::new(&dmd_bin().with_file_name("auditor"), NAME).envs(&env).env("AUDIT_REPAIR", "true");
    let served = repairing.serve(&[hole.to_string().into_bytes()]);
    let line = served.answers[0].response();
    assert_eq!((line["repaired"].as_u64(), line["missing"].as_u64()), (Some(BATCH as u64), Some(0)), "{}", served.logs);
    assert_eq!((line["RepairedRecords"].as_u64(), line["MissingRecords"].as_u64()), (Some(BATCH as u64), Some(0)));
    assert_only_keys("the repairing auditor", &served.logs);
    let out = dmd(&["audit", "--stream", arn, "--bucket", &bucket, "--interval", "0", "--settle", "0"], &[]);
    assert!(out.status.success(), "a second audit is clean: {}", String::from_utf8_lossy(&out.stdout));
    let out = dmd(&["verify", "--bucket", &bucket], &[]);
    assert!(out.status.success(), "dmd verify: {}", String::from_utf8_lossy(&out.stdout));
}
