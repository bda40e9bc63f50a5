//! The built `compactor` function through a loopback Lambda runtime API, on moto's S3
//! and SQS: the scheduled event queues exactly the changed partitions of yesterday and
//! today, and those the recent manifests name (one FIFO group each), the queue's messages compact them, a replaced generation
//! is tagged for expiry, and a second schedule queues nothing.

use std::process::Command;

use serde_json::{json, Value};

use crate::moto;
use crate::runtime_api::Function;
use crate::util::{self, dmd, dmd_bin, python};

pub(crate) fn helper(args: &[&str]) -> String {
    let out = Command::new(python())
        .arg(util::root().join("tests/py/fifo_queue.py"))
        .args(args)
        .output()
        .expect("run fifo_queue.py");
    assert!(out.status.success(), "fifo_queue.py {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8").trim().to_owned()
}

pub(crate) fn sqs_event(messages: &[Value]) -> Vec<u8> {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({"messageId": m["id"], "receiptHandle": "r", "body": m["body"], "attributes": {},
                   "messageAttributes": {}, "md5OfBody": "0", "eventSource": "aws:sqs",
                   "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:dmd-compact.fifo", "awsRegion": "eu-west-1"})
        })
        .collect();
    json!({ "Records": records }).to_string().into_bytes()
}

pub(crate) fn schedule(time: &str) -> Vec<u8> {
    json!({"version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
           "account": "123456789012", "time": time, "region": "eu-west-1", "resources": [], "detail": {}})
    .to_string()
    .into_bytes()
}

fn archive(bucket: &str, records: &str, seed: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let events = dir.path().display().to_string();
    let o = dmd(&["generate", "--records", records, "--days", "3", "--seed", seed, "--out", &events], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut args = vec!["archive".to_owned(), "--bucket".to_owned(), bucket.to_owned()];
    args.extend(util::files_under(dir.path()).into_iter().map(|f| dir.path().join(f).display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = dmd(&args, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn queued(answer: &Value) -> Vec<String> {
    let mut q: Vec<String> = answer["queued"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|p| format!("{}/{}", p["record_type"].as_str().unwrap(), p["partition_date"].as_str().unwrap()))
        .collect();
    q.sort();
    q
}

#[test]
fn the_schedule_queues_changed_partitions_and_the_queue_compacts_them() {
    let rt = moto::runtime();
    let client = rt.block_on(moto::client());
    let bucket = moto::unique_bucket("compactor");
    rt.block_on(moto::create_bucket(&client, &bucket));
    let url = helper(&["create", &moto::unique_bucket("compact")]);
    archive(&bucket, "1200", "1");
    let function = Function::new(&dmd_bin().with_file_name("compactor"), "compactor")
        .env("ARCHIVE_BUCKET", &bucket)
        .env("COMPACT_QUEUE_URL", &url)
        .env("AWS_ENDPOINT_URL_SQS", &moto::endpoint());

    // Generated records fall on 2026-11-01..03: the schedule of the 3rd plans the 2nd and
    // the 3rd, never the 1st; a backfill request plans what it names.
    let served = function.serve(&[
        schedule("2026-11-03T00:10:00Z"),
        json!({"dates": ["2026-11-01"], "types": ["sale"]}).to_string().into_bytes(),
    ]);
    let want: Vec<String> = ["demand", "event", "notification", "sale"]
        .iter()
        .flat_map(|t| [format!("{t}/2026-11-02"), format!("{t}/2026-11-03")])
        .collect();
    let mut sorted_want = want.clone();
    sorted_want.sort();
    assert_eq!(queued(&served.answers[0].response()), sorted_want, "{}", served.logs);
    assert_eq!(queued(&served.answers[1].response()), ["sale/2026-11-01"], "{}", served.logs);
    let messages: Vec<Value> = serde_json::from_str(&helper(&["receive", &url])).expect("messages");
    assert_eq!(messages.len(), 9);
    for m in &messages {
        let body: Value = serde_json::from_str(m["body"].as_str().unwrap()).expect("body");
        assert_eq!(
            m["group"],
            format!("{}/{}", body["record_type"].as_str().unwrap(), body["partition_date"].as_str().unwrap())
        );
    }

    // The queue's messages, and one that names no partition.
    let junk = json!({"id": "junk", "body": "{\"record_type\": \"ticket\"}"});
    let served =
        function.serve(&[sqs_event(&messages[..5]), sqs_event(&[messages[5..].to_vec(), vec![junk]].concat())]);
    for a in &served.answers {
        assert_eq!(a.response(), json!({"batchItemFailures": []}), "{}", served.logs);
    }
    let objects = rt.block_on(moto::objects(&client, &bucket));
    let manifests: Vec<&String> =
        objects.keys().filter(|k| k.starts_with("compacted/_symlink_format_manifest/")).collect();
    assert_eq!(manifests.len(), 9);
    for key in manifests {
        let text = String::from_utf8(objects[key].body.to_vec()).expect("text");
        for line in text.lines() {
            let part = line.strip_prefix(&format!("s3://{bucket}/")).unwrap_or_else(|| panic!("{line}"));
            assert!(objects.contains_key(part) && part.ends_with(".parquet"), "{part}");
            assert_eq!(&objects[part].body[..4], b"PAR1");
        }
    }
    let metrics: Vec<Value> = served
        .logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l.get("_aws").is_some())
        .collect();
    assert_eq!(metrics.iter().map(|m| m["CompactedPartitions"].as_u64().unwrap()).sum::<u64>(), 9, "{}", served.logs);
    assert_eq!(metrics.iter().map(|m| m["CompactFailures"].as_u64().unwrap()).sum::<u64>(), 0);

    // New files on every date: a schedule now (its dates hold no partition) finds the
    // partitions through the manifests written since its look-back, older dates too.
    let old_sale: Vec<String> =
        objects.keys().filter(|k| k.starts_with("compacted/sale/dt=2026-11-03/")).cloned().collect();
    archive(&bucket, "600", "2");
    let now = Command::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%SZ"]).output().expect("date");
    let now = String::from_utf8(now.stdout).expect("UTF-8").trim().to_owned();
    let direct = json!({"record_type": "sale", "partition_date": "2026-11-03"}).to_string().into_bytes();
    let served = function.serve(&[schedule(&now), direct.clone(), direct]);
    let changed = queued(&served.answers[0].response());
    for p in ["demand/2026-11-01", "sale/2026-11-01", "sale/2026-11-03"] {
        assert!(changed.contains(&p.to_owned()), "{p} not in {changed:?}: {}", served.logs);
    }
    let built = served.answers[1].response();
    assert_eq!(built["skipped"], false, "{built}");
    assert_eq!(served.answers[2].response()["skipped"], true);
    assert!(!old_sale.is_empty());
    for key in &old_sale {
        assert_eq!(helper(&["tags", &bucket, key]), r#"{"dmd-retired": "true"}"#, "{key}");
    }
    for key in built["files"].as_array().unwrap() {
        assert_eq!(helper(&["tags", &bucket, key.as_str().unwrap()]), "{}", "the current generation is not retired");
    }
}
