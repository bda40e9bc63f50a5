//! Real DynamoDB stream records: a table with a NEW_AND_OLD_IMAGES stream in moto gets
//! inserts, updates and deletes of all four record types (tests/py/dynamodb_stream.py);
//! its GetRecords output, as a Lambda event, goes through the function's handler to S3.
//! The archive has every change in its partition, and no PII of a deleted item.

use std::collections::BTreeMap;
use std::process::Command;

use dmd_lambda::Archiver;
use serde_json::Value;

use crate::moto;
use crate::util::{self, python};

/// PII written into the items (tests/py/dynamodb_stream.py).
const PII: [&str; 4] = ["555 010 9001", "fan9001@example.com", "fan9002@example.com", "after 6pm"];

/// Creates the table, makes the changes and returns the Lambda event of its stream.
fn stream_event(table: &str) -> Vec<u8> {
    let out = Command::new(python())
        .arg(util::root().join("tests/py/dynamodb_stream.py"))
        .arg(table)
        .output()
        .expect("run dynamodb_stream.py");
    assert!(out.status.success(), "dynamodb_stream.py failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn dynamodb_stream_records_from_a_real_table_are_archived_with_deleted_pii_removed() {
    let table = moto::unique_bucket("table");
    let event = stream_event(&table);
    let parsed: Value = serde_json::from_slice(&event).expect("event JSON");
    let stream = parsed["Records"].as_array().expect("Records");
    let names: Vec<&str> = stream.iter().map(|r| r["eventName"].as_str().expect("eventName")).collect();
    assert_eq!(names, [["INSERT"; 5].as_slice(), &["MODIFY"; 4], &["REMOVE"; 4]].concat());
    // The server's timestamps have fractions of a second.
    assert!(stream
        .iter()
        .any(|r| r["dynamodb"]["ApproximateCreationDateTime"].as_f64().is_some_and(|t| t.fract() != 0.0)));

    let rt = moto::runtime();
    let client = rt.block_on(moto::client());
    let bucket = moto::unique_bucket("streams");
    rt.block_on(moto::create_bucket(&client, &bucket));
    let sink = rt.block_on(moto::sink(&bucket, &moto::endpoint()));
    let archiver = Archiver::new(&crate::s3::config(&bucket), sink).expect("archiver");
    let outcome = rt.block_on(archiver.handle(&event, None, "req-streams")).expect("handled");
    assert!(outcome.answer.batch_item_failures.is_empty(), "{:?}", outcome.report.failures);
    assert_eq!(outcome.report.summary.errors, 0, "{:?}", outcome.report.summary.error_types);

    let objects = rt.block_on(moto::objects(&client, &bucket));
    assert!(
        objects.keys().all(|k| k.starts_with("data/") || k.starts_with("manifests/")),
        "no error file: {:?}",
        objects.keys()
    );
    let want: BTreeMap<String, usize> = [
        ("demand/dt=2026-11-20", 4),
        ("notification/dt=2026-11-18", 3),
        ("event/dt=2026-11-01", 3),
        ("sale/dt=2026-11-05", 3),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(moto::partitions(&objects), want);

    let records = moto::records(&objects);
    // Every change, once, under its stream sequence number and change time.
    let mut seqs: Vec<&str> = records.iter().map(|r| r.record["sequence_number"].as_str().expect("seq")).collect();
    seqs.sort();
    let mut stream_seqs: Vec<&str> =
        stream.iter().map(|r| r["dynamodb"]["SequenceNumber"].as_str().expect("SequenceNumber")).collect();
    stream_seqs.sort();
    assert_eq!(seqs, stream_seqs);
    for r in stream {
        let seq = r["dynamodb"]["SequenceNumber"].as_str().expect("seq");
        let archived = records.iter().find(|a| a.record["sequence_number"] == seq).expect("archived");
        let seconds = r["dynamodb"]["ApproximateCreationDateTime"].as_f64().expect("time");
        let millis = dmd_archive::time::parse_timestamp(archived.record["change_time"].as_str().expect("text"))
            .expect("change_time");
        assert!((millis as f64 - seconds * 1000.0).abs() < 1.0, "{seq}: {millis} vs {seconds}");
        assert_eq!(archived.record["source_table"], table.as_str());
        assert_eq!(archived.record["change_type"], r["eventName"]);
    }

    let deleted: Vec<&Value> = records.iter().map(|r| &r.record).filter(|r| r["is_deleted"] == true).collect();
    assert_eq!(deleted.len(), 4);
    for d in &deleted {
        assert_eq!(d["deletion_kind"], "user");
        let text = d.to_string();
        for p in PII {
            assert!(!text.contains(p), "{p} left in a deleted {}: {text}", d["record_type"]);
        }
    }
    let by_type = |t: &str| deleted.iter().find(|d| d["record_type"] == t).copied().expect("deleted record");
    let demand = by_type("demand");
    assert_eq!(demand["phone_number"], "REDACTED");
    assert_eq!(demand["email"], "REDACTED");
    assert_eq!(demand["attributes"]["notes"], "REDACTED");
    assert_eq!(demand["keys"]["pk"], "FAN#f-9001", "keys are kept");
    assert_eq!(demand["status"], "CONFIRMED", "the image before the delete");
    let notification = by_type("notification");
    assert_eq!(notification["message_body"], "REDACTED");
    assert_eq!(notification["phone_number"], "REDACTED");
    assert_eq!(by_type("event")["name"], "Borealis live");
    assert_eq!(by_type("sale")["status"], "OPEN");

    // Items that were not deleted keep their values.
    let insert = records
        .iter()
        .map(|r| &r.record)
        .find(|r| r["change_type"] == "INSERT" && r["record_type"] == "demand" && r["fan_id"] == "f-9001")
        .expect("insert");
    assert_eq!(insert["phone_number"], "+1 555 010 9001");
    assert_eq!(insert["price_levels"], serde_json::json!(["PL1", "PL2"]));
}
