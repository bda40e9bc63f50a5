//! The sample events of `events/`, archived by `dmd archive` with every codec and read
//! back by apache-avro and by fastavro.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::util::*;

/// Archives all sample events into a fresh folder with `codec`.
fn archive_samples(codec: &str) -> (tempfile::TempDir, Vec<Value>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("archive");
    let mut args = vec!["archive".to_string(), "--out".into(), out.to_string_lossy().into_owned()];
    args.extend(sample_events().iter().map(|p| p.to_string_lossy().into_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let res = dmd(&args, &[("AVRO_CODEC", codec), ("SYSTEM_ID", "tm-na"), ("DATABASE_ID", "db-7")]);
    assert!(res.status.success(), "dmd archive failed: {}", String::from_utf8_lossy(&res.stderr));
    let lines = json_lines(&res.stdout);
    assert_eq!(lines.len(), sample_events().len(), "one line per event file");
    (dir, lines)
}

#[test]
fn every_codec_reads_back_identically_with_two_readers() {
    for codec in ["deflate", "snappy", "zstandard", "null"] {
        let (dir, _) = archive_samples(codec);
        let out = dir.path().join("archive");
        let mut rust = read_with_apache_avro(&out);
        let mut py = read_with_fastavro(&out);
        assert!(!rust.is_empty());
        let key =
            |r: &ReadRecord| (r.file.clone(), r.record["sequence_number"].as_str().unwrap_or_default().to_string());
        rust.sort_by_key(key);
        py.sort_by_key(key);
        assert_eq!(rust.len(), py.len(), "{codec}: record counts differ");
        for (a, b) in rust.iter().zip(&py) {
            assert_eq!(a.codec, codec, "{}: header codec", a.file);
            assert_eq!(b.codec, codec, "{}: fastavro codec", b.file);
            assert_eq!(a.record, b.record, "{codec}: {} decodes differently", a.file);
        }
    }
}

#[test]
fn archive_layout_and_counts_match_the_samples() {
    let (dir, lines) = archive_samples("deflate");
    let out = dir.path().join("archive");
    let records = read_with_apache_avro(&out);
    // Every data file is data/<type>/dt=<date>/<32 hex>.avro and holds only that type and date.
    for r in &records {
        let parts: Vec<&str> = r.file.split('/').collect();
        assert_eq!(parts.len(), 4, "{}", r.file);
        assert_eq!(parts[0], "data");
        assert_eq!(parts[1], r.record["record_type"], "{}", r.file);
        assert_eq!(parts[2], format!("dt={}", r.record["partition_date"].as_str().unwrap_or_default()));
        let id = parts[3].strip_suffix(".avro").expect(".avro");
        assert!(id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    }
    let line = |name: &str| lines.iter().find(|l| l["event"].as_str().is_some_and(|e| e.ends_with(name))).expect(name);
    let batch = line("dynamodb-batch.json");
    assert_eq!(batch["records"], 12);
    assert_eq!(
        batch["archived"],
        serde_json::json!({
            "demand": {"2026-11-17": 1, "2026-11-18": 1, "2026-11-19": 3},
            "event": {"2026-11-02": 2},
            "notification": {"2026-11-10": 1, "2026-11-18": 1},
            "sale": {"2026-11-05": 2, "2026-11-06": 1}
        })
    );
    assert_eq!(batch["batchItemFailures"], serde_json::json!([]));
    let kinesis = line("kinesis-batch.json");
    assert_eq!(kinesis["source"], "aws:kinesis");
    assert_eq!(kinesis["records"], 7);
    let bad = line("bad-records.json");
    assert_eq!(bad["errors"], 8);
    assert_eq!(
        bad["error_types"],
        serde_json::json!({"conversion": 1, "parse": 2, "unknown_record_type": 1, "validation": 4})
    );
    // Every record of every file is in exactly one place.
    for l in &lines {
        let archived: u64 = l["archived"]
            .as_object()
            .expect("archived")
            .values()
            .flat_map(|m| m.as_object().expect("dates").values())
            .map(|n| n.as_u64().expect("count"))
            .sum();
        let errors = l["errors"].as_u64().expect("errors");
        let retry = l["batchItemFailures"].as_array().expect("answer").len() as u64;
        assert_eq!(archived + errors + retry, l["records"].as_u64().expect("records"), "{l}");
    }
}

#[test]
fn values_follow_the_contract() {
    let (dir, _) = archive_samples("snappy");
    let records = read_with_fastavro(&dir.path().join("archive"));
    // A user REMOVE: PII attributes and PII inside attributes are redacted, keys kept.
    let removed: Vec<&Value> = records.iter().map(|r| &r.record).filter(|r| r["change_type"] == "REMOVE").collect();
    assert!(removed.len() >= 3, "the samples hold user and TTL deletions");
    for r in &removed {
        assert_eq!(r["is_deleted"], true);
        assert_eq!(r["deleted_at"], r["change_time"]);
        assert!(r["deletion_kind"] == "ttl" || r["deletion_kind"] == "user");
        let text = r.to_string();
        assert!(!text.contains("@example.com"), "e-mail left in a deleted record: {text}");
        assert!(!text.contains("555 010"), "phone number left in a deleted record: {text}");
        for pii in ["phone_number", "email", "message_body"] {
            if !r[pii].is_null() {
                assert_eq!(r[pii], "REDACTED", "{pii} of {text}");
            }
        }
        assert!(r["keys"].as_object().is_some_and(|k| !k.is_empty()));
    }
    // The sample user REMOVE: nested e-mail redacted, ISO date kept, other strings kept.
    let user_remove = removed.iter().find(|r| r["attributes"]["promoCode"] == "VIP-2026").expect("sample REMOVE");
    assert_eq!(user_remove["deletion_kind"], "user");
    assert_eq!(user_remove["attributes"]["notes"], "REDACTED");
    assert_eq!(user_remove["attributes"]["lastContact"], r#"{"contact":"REDACTED","seenAt":"2026-11-19T10:15:30Z"}"#);
    assert!(removed.iter().any(|r| r["deletion_kind"] == "ttl"));
    // Inserts keep their PII.
    let kept = records.iter().map(|r| &r.record).filter(|r| r["change_type"] == "INSERT" && r["email"].is_string());
    assert!(kept.clone().count() > 0);
    assert!(kept.clone().all(|r| r["email"] != "REDACTED"));
    // Demand records carry the reference id and system metadata.
    for r in records.iter().map(|r| &r.record).filter(|r| r["record_type"] == "demand") {
        let want = format!(
            "{}#{}#{}",
            r["event_id"].as_str().expect("event_id"),
            r["sale_id"].as_str().expect("sale_id"),
            r["fan_id"].as_str().expect("fan_id")
        );
        assert_eq!(r["reference_id"], want.as_str());
        assert_eq!(r["system_id"], "tm-na");
        assert_eq!(r["database_id"], "db-7");
        assert_eq!(r["member_id"], Value::Null);
        assert_eq!(r["source_table"], "demand");
    }
    // Every record: snake_case fields only, attributes as plain JSON text.
    for r in &records {
        for k in r.record.as_object().expect("record").keys() {
            assert!(k.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "field {k} is not snake_case");
        }
        assert!(["INSERT", "MODIFY", "REMOVE"].contains(&r.record["change_type"].as_str().unwrap_or_default()));
        if r.record["change_type"] != "REMOVE" {
            assert_eq!(r.record["deleted_at"], Value::Null);
            assert_eq!(r.record["deletion_kind"], Value::Null);
        }
    }
    // Numbers keep their exact digits.
    let exact = records.iter().flat_map(|r| r.record["attributes"].as_object().into_iter().flat_map(|m| m.values()));
    assert!(
        exact.clone().any(|v| v.as_str().is_some_and(|s| s.contains("12345678901234567890.123456789"))),
        "the 29-digit sample number is kept exactly"
    );
}

#[test]
fn timestamps_and_partitions() {
    let (dir, _) = archive_samples("deflate");
    let records = read_with_apache_avro(&dir.path().join("archive"));
    let all: Vec<&Value> = records.iter().map(|r| &r.record).collect();
    // A requestedDate of 23:30 at -05:00 lands on the next UTC day.
    let crossing = all.iter().find(|r| r["requested_date"] == "2026-11-19T04:30:00.000Z").expect("offset sample");
    assert_eq!(crossing["partition_date"], "2026-11-19");
    // Kinesis microsecond precision.
    assert!(all.iter().any(|r| r["change_time"] == "2026-11-20T08:05:00.123Z"), "microsecond timestamp sample");
    // DynamoDB Streams fractional seconds keep their milliseconds.
    assert!(all.iter().any(|r| r["change_time"].as_str().is_some_and(|t| !t.ends_with(".000Z"))));
    // The partition date is the UTC date of the partition timestamp.
    for r in &all {
        let part = match r["record_type"].as_str() {
            Some("demand") => &r["requested_date"],
            _ => &r["created_date"],
        };
        assert_eq!(
            &part.as_str().expect("partition timestamp")[..10],
            r["partition_date"].as_str().expect("dt"),
            "{r}"
        );
    }
}

#[test]
fn error_file_lines_follow_the_contract() {
    let (dir, _) = archive_samples("deflate");
    let lines = error_lines(&dir.path().join("archive/errors"));
    assert_eq!(lines.len(), 10, "8 from bad-records.json, 2 from kinesis-bad-records.json");
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for l in &lines {
        let keys: Vec<&str> = l.as_object().expect("object").keys().map(String::as_str).collect();
        for k in ["error_type", "message", "record_type", "source", "sequence_number", "failed_at", "record"] {
            assert!(keys.contains(&k), "{k} missing from {l}");
        }
        *kinds.entry(l["error_type"].as_str().expect("error_type").to_string()).or_default() += 1;
        assert!(l["source"] == "aws:dynamodb" || l["source"] == "aws:kinesis");
        assert!(l["sequence_number"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(l["record"].is_object());
        let failed_at = l["failed_at"].as_str().expect("failed_at");
        assert!(failed_at.ends_with('Z') && failed_at.len() == 24, "{failed_at}");
        assert!(!l.to_string().contains("@example.com") || l["record"]["eventName"] != "REMOVE");
    }
    assert_eq!(kinds.get("parse"), Some(&4));
    assert_eq!(kinds.get("validation"), Some(&4));
    assert_eq!(kinds.get("unknown_record_type"), Some(&1));
    assert_eq!(kinds.get("conversion"), Some(&1));
    // The invalid REMOVE keeps its keys and loses its PII.
    let remove = lines.iter().find(|l| l["record"]["eventName"] == "REMOVE").expect("a failed REMOVE");
    let img = &remove["record"]["dynamodb"]["OldImage"];
    assert_eq!(img["email"]["S"], "REDACTED");
    assert_eq!(img["phoneNumber"]["S"], "REDACTED");
    assert_eq!(img["pk"], remove["record"]["dynamodb"]["Keys"]["pk"]);
    // Kinesis failures: the raw Kinesis record, labelled with its source.
    let kin: Vec<&Value> = lines.iter().filter(|l| l["source"] == "aws:kinesis").collect();
    assert_eq!(kin.len(), 2);
    assert!(kin.iter().all(|l| l["record"]["kinesis"]["data"].is_string() && l["error_type"] == "parse"));
}
