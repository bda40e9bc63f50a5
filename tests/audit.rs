//! The audit of the archive against its stream (data contract, section 10), on moto's
//! real Kinesis (two shards, one of them split: a closed parent and its two children)
//! and DynamoDB Streams: thousands of changes archived by the real `dmd archive`, then
//! holes made on purpose (a batch never delivered, a manifest deleted, a record left only
//! in `retry`), beside records in `errors/` and a batch archived twice. `dmd audit` names
//! exactly the holes, with nothing of an item but its keys; `--repair` fills them; the
//! next audit and `dmd verify` are clean.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::{json, Value};

use crate::moto;
use crate::proxy::{Fault, Proxy, Rule};
use crate::util::{self, dmd, json_lines, python};

/// Data files written uncompressed, so that every byte can be searched.
const ENV: [(&str, &str); 1] = [("AVRO_CODEC", "null")];

/// Records per archived batch.
const BATCH: usize = 100;

pub(crate) fn helper(what: &str, name: &str, n: usize) -> Value {
    let out = Command::new(python())
        .arg(util::root().join("tests/py/audit_streams.py"))
        .args([what, name, &n.to_string()])
        .output()
        .expect("run audit_streams.py");
    assert!(out.status.success(), "audit_streams.py failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stream JSON")
}

pub(crate) fn seq(record: &Value) -> String {
    let s = record["kinesis"]["sequenceNumber"].as_str().or_else(|| record["dynamodb"]["SequenceNumber"].as_str());
    s.expect("sequence number").to_owned()
}

/// Archives each batch as one Lambda event through `dmd archive`; returns each batch's
/// manifest key.
fn archive(dir: &Path, events: &Path, batches: &[Vec<Value>]) -> Vec<String> {
    std::fs::create_dir_all(events).expect("events dir");
    let mut files = Vec::new();
    for (i, b) in batches.iter().enumerate() {
        let path = events.join(format!("batch-{i:04}.json"));
        std::fs::write(&path, json!({ "Records": b }).to_string()).expect("write event");
        files.push(path.display().to_string());
    }
    let out_dir = dir.display().to_string();
    let mut args = vec!["archive", "--out", out_dir.as_str(), "--jobs", "1"];
    args.extend(files.iter().map(String::as_str));
    let out = dmd(&args, &ENV);
    assert!(out.status.success(), "dmd archive: {}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), batches.len());
    lines.iter().map(|l| l["manifest"].as_str().expect("manifest key").to_owned()).collect()
}

fn audit(dir: &Path, arn: &str, extra: &[&str]) -> (Output, Vec<Value>, Value) {
    let out_dir = dir.display().to_string();
    let mut args = vec!["audit", "--stream", arn, "--out", out_dir.as_str(), "--interval", "0"];
    args.extend_from_slice(extra);
    let out = dmd(&args, &ENV);
    let lines = json_lines(&out.stdout);
    let summary = lines.last().cloned().unwrap_or(Value::Null);
    assert_eq!(summary["summary"], true, "the last line is the summary: {lines:?}");
    (out, lines, summary)
}

fn missing_numbers(lines: &[Value]) -> BTreeSet<String> {
    lines
        .iter()
        .filter(|l| l.get("shard_id").is_some())
        .flat_map(|l| l["missing_records"].as_array().cloned().unwrap_or_default())
        .map(|m| m["sequence_number"].as_str().expect("sequence number").to_owned())
        .collect()
}

/// Nothing of an item but its keys: no phone number, e-mail address or free text of
/// the changes of tests/py/audit_streams.py.
fn assert_only_keys(what: &str, out: &Output) {
    let text = String::from_utf8_lossy(&out.stdout);
    for planted in ["@example.com", "+1 555", "after 6pm", "REQUESTED", "CONFIRMED", "2026-11-21T09"] {
        assert!(!text.contains(planted), "{planted} in the output of {what}");
    }
}

fn verify_ok(dir: &Path) {
    let out = dmd(&["verify", "--out", &dir.display().to_string()], &ENV);
    assert!(out.status.success(), "dmd verify: {}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn an_audit_names_exactly_the_holes_of_a_split_kinesis_stream_and_a_repair_fills_them() {
    let stream = helper("kinesis", &moto::unique_bucket("audit"), 3000);
    let arn = stream["stream_arn"].as_str().expect("arn");
    let shards = stream["shards"].as_array().expect("shards");
    assert_eq!(shards.len(), 4, "two shards, one split in two");
    assert!(shards.iter().any(|s| s["parent_shard_id"].is_string()), "children of a split");
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("archive");

    // Each shard's records in batches; the largest shard's batches 1, 3, 5 and 7 get the
    // holes, with whole batches between them.
    let by_shard: Vec<Vec<Vec<Value>>> = shards
        .iter()
        .map(|s| s["records"].as_array().expect("records").chunks(BATCH).map(<[Value]>::to_vec).collect())
        .collect();
    let target = (0..by_shard.len()).max_by_key(|&i| by_shard[i].len()).expect("a shard");
    assert!(by_shard[target].len() >= 8, "enough batches for the holes");
    let never_delivered = by_shard[target][1].clone();
    let mut delivered: Vec<Vec<Value>> = Vec::new();
    for (i, batches) in by_shard.iter().enumerate() {
        for (j, b) in batches.iter().enumerate() {
            if i == target && j == 1 {
                continue;
            }
            if i == target && j == 5 {
                delivered.push(b[..b.len() - 1].to_vec());
                continue;
            }
            delivered.push(b.clone());
        }
    }
    // A batch archived twice: its first half again, as a retried smaller batch would be.
    delivered.push(by_shard[target][7][..BATCH / 2].to_vec());
    let manifests = archive(&dir, &tmp.path().join("events"), &delivered);

    // A manifest deleted: the target shard's batch 3 (delivered after 0 and 2).
    let offset: usize = by_shard[..target].iter().map(Vec::len).sum();
    let deleted_batch = &by_shard[target][3];
    std::fs::remove_file(dir.join(&manifests[offset + 2])).expect("delete a manifest");
    // A record left only in `retry`: batch 5's last record, named by its manifest.
    let retried = by_shard[target][5].last().expect("record").clone();
    let key = dir.join(&manifests[offset + 4]);
    let mut m: Value = serde_json::from_slice(&std::fs::read(&key).expect("manifest")).expect("JSON");
    m["sequence_numbers"].as_array_mut().expect("numbers").push(seq(&retried).into());
    m["retry"].as_array_mut().expect("retry").push(seq(&retried).into());
    m["records"] = (m["records"].as_u64().expect("records") + 1).into();
    std::fs::write(&key, m.to_string()).expect("write manifest");

    // Every record is new: with the default settle time none is missing yet.
    let (out, _, summary) = audit(&dir, arn, &[]);
    assert!(out.status.success(), "{summary}");
    assert_eq!(summary["missing"], 0);
    assert_eq!(summary["unsettled"], 2 * BATCH);
    assert_eq!(summary["retrying"], 1);

    let (out, lines, summary) = audit(&dir, arn, &["--settle", "0"]);
    assert_eq!(out.status.code(), Some(1), "a hole fails the audit: {summary}");
    let expected: BTreeSet<String> = never_delivered.iter().chain(deleted_batch).map(seq).collect();
    assert_eq!(missing_numbers(&lines), expected, "exactly the holes");
    assert_eq!(summary["records"], 3000);
    assert_eq!(summary["shards"], 4);
    assert_eq!(summary["missing"], 2 * BATCH);
    assert_eq!(summary["retrying"], 1);
    assert_eq!(summary["archived"], 3000 - 2 * BATCH - 1);
    let shard_lines: Vec<&Value> = lines.iter().filter(|l| l.get("shard_id").is_some()).collect();
    let ids: Vec<&str> = shard_lines.iter().map(|l| l["shard_id"].as_str().expect("id")).collect();
    for l in &shard_lines {
        if let Some(parent) = l["parent_shard_id"].as_str() {
            let (p, c) =
                (ids.iter().position(|i| *i == parent), ids.iter().position(|i| Some(*i) == l["shard_id"].as_str()));
            assert!(p < c, "parent {parent} before its child");
        }
    }
    let named = &shard_lines[ids.iter().position(|i| Some(*i) == shards[target]["shard_id"].as_str()).expect("target")];
    let first = &named["missing_records"][0];
    assert!(first["keys"]["pk"]["S"].as_str().is_some_and(|k| k.starts_with("FAN#f-")), "{first}");
    assert!(first["event_name"].is_string() && first["event_time"].is_string(), "{first}");
    assert_only_keys("dmd audit", &out);
    assert!(util::files_under(&dir).iter().any(|k| k.starts_with("errors/")), "the bad record went to errors/");
    assert!(shard_lines.iter().all(|l| l["end"] == "caught_up" || l["end"] == "closed"), "{shard_lines:?}");

    let (out, lines, summary) = audit(&dir, arn, &["--settle", "0", "--repair"]);
    assert!(out.status.success(), "the repair fills the holes: {summary}");
    assert_eq!(summary["repaired"], 2 * BATCH);
    assert_eq!(summary["missing"], 0);
    assert!(lines.iter().any(|l| l["before_repair"] == true && l["missing"] == 2 * BATCH));
    assert_only_keys("dmd audit --repair", &out);
    let (out, _, summary) = audit(&dir, arn, &["--settle", "0"]);
    assert!(out.status.success(), "a second audit is clean: {summary}");
    verify_ok(&dir);
}

#[test]
fn a_dynamodb_stream_audit_finds_an_undelivered_batch_and_repairs_it() {
    let stream = helper("dynamodb", &moto::unique_bucket("audit"), 600);
    let arn = stream["stream_arn"].as_str().expect("arn");
    let records = stream["shards"][0]["records"].as_array().expect("records").clone();
    assert_eq!(records.len(), 600);
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("archive");
    let batches: Vec<Vec<Value>> = records.chunks(BATCH).map(<[Value]>::to_vec).collect();
    let delivered: Vec<Vec<Value>> =
        batches.iter().enumerate().filter(|(i, _)| *i != 2).map(|(_, b)| b.clone()).collect();
    archive(&dir, &tmp.path().join("events"), &delivered);

    let (out, lines, summary) = audit(&dir, arn, &["--settle", "0"]);
    assert_eq!(out.status.code(), Some(1), "{summary}");
    assert_eq!(missing_numbers(&lines), batches[2].iter().map(seq).collect::<BTreeSet<_>>());
    assert_eq!(summary["archived"], 500);
    assert_only_keys("dmd audit", &out);
    // A window that starts before the stream's records sees the same; one that starts
    // after them sees none.
    let (_, since_lines, _) = audit(&dir, arn, &["--settle", "0", "--since", "2000-01-01T00:00:00Z"]);
    assert_eq!(missing_numbers(&since_lines), missing_numbers(&lines));
    let (out, _, summary) = audit(&dir, arn, &["--settle", "0", "--since", "2099-01-01T00:00:00Z"]);
    assert!(out.status.success() && summary["records"] == 0, "{summary}");
    assert!(lines.iter().filter(|l| l.get("shard_id").is_some()).all(|l| l["end"] == "empty_pages"), "{lines:?}");
    let (out, _, summary) = audit(&dir, arn, &["--settle", "0", "--repair"]);
    assert!(out.status.success(), "{summary}");
    assert_eq!(summary["repaired"], BATCH);
    verify_ok(&dir);
}

#[test]
fn bad_arguments_exit_2_with_nothing_read() {
    let out = dmd(&["audit", "--stream", "arn:aws:s3:::bucket", "--out", "nowhere"], &ENV);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither a DynamoDB stream ARN nor a Kinesis stream ARN"));
}

#[test]
fn throttled_reads_mid_shard_are_retried_and_the_answer_is_the_same() {
    let stream = helper("kinesis", &moto::unique_bucket("audit"), 1200);
    let arn = stream["stream_arn"].as_str().expect("arn");
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("archive");
    let mut batches: Vec<Vec<Value>> = Vec::new();
    for s in stream["shards"].as_array().expect("shards") {
        batches.extend(s["records"].as_array().expect("records").chunks(BATCH).map(<[Value]>::to_vec));
    }
    let hole = batches.remove(2);
    archive(&dir, &tmp.path().join("events"), &batches);
    let (plain, plain_lines, summary) = audit(&dir, arn, &["--settle", "0"]);
    assert_eq!(plain.status.code(), Some(1), "{summary}");

    // Throttled once reading has begun: the second and third GetRecords of the run, and
    // the first ListShards.
    let proxy = Proxy::start(
        moto::moto_addr(),
        vec![
            Rule::throttle("Kinesis_20131202.GetRecords", "ProvisionedThroughputExceededException", 1, 2),
            Rule::throttle("Kinesis_20131202.ListShards", "LimitExceededException", 0, 1),
        ],
    );
    let endpoint = proxy.endpoint();
    let out_dir = dir.display().to_string();
    let args = ["audit", "--stream", arn, "--out", out_dir.as_str(), "--interval", "0", "--settle", "0"];
    let throttled = dmd(&args, &[("AVRO_CODEC", "null"), ("AWS_ENDPOINT_URL", endpoint.as_str())]);
    let faults: Vec<Fault> = proxy.seen().into_iter().filter_map(|s| s.fault).collect();
    assert_eq!(faults.len(), 3, "each throttle was answered: {faults:?}");
    assert_eq!(throttled.status.code(), Some(1), "{}", String::from_utf8_lossy(&throttled.stderr));
    let lines = json_lines(&throttled.stdout);
    assert_eq!(missing_numbers(&lines), missing_numbers(&plain_lines));
    assert_eq!(missing_numbers(&lines), hole.iter().map(seq).collect::<BTreeSet<_>>());
    let counts = |l: &Value| ["records", "archived", "retrying", "unsettled", "missing"].map(|k| l[k].clone());
    assert_eq!(counts(lines.last().expect("summary")), counts(&summary), "the same answer");
}
