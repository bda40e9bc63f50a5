//! Manifests through the pipeline entry (data contract, section 6): written after the
//! files, naming each with its size and checksum, counts that add up to the batch, the
//! same key for the same batch, and a batch sent back whole when the manifest fails.

// Test helpers may panic on what they set up themselves.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use dmd_archive::manifest::Manifest;
use dmd_archive::{FixedClock, Limits, Memory, Pipeline, Settings};
use sha2::{Digest, Sha256};

const NOW: i64 = 1_795_000_000_000; // 2026-11-18T11:06:40Z
const BATCH: &str = include_str!("../../../events/dynamodb-batch.json");
const BAD: &str = include_str!("../../../events/bad-records.json");
const KINESIS: &str = include_str!("../../../events/kinesis-bad-records.json");

fn pipeline() -> Pipeline {
    Pipeline::new(Settings::default()).expect("pipeline")
}

fn run(sink: &Memory, payload: &str) -> dmd_archive::Outcome {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(pipeline().run(payload.as_bytes(), &FixedClock(NOW), sink, Limits::default())).expect("run")
}

fn manifests(sink: &Memory) -> Vec<(String, Manifest)> {
    sink.objects()
        .into_iter()
        .filter(|(k, _)| k.starts_with("manifests/"))
        .map(|(k, b)| (k, serde_json::from_slice(&b).expect("manifest JSON")))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_manifest_names_every_file_with_its_size_and_checksum() {
    let sink = Memory::new();
    let outcome = run(&sink, BATCH);
    let objects = sink.objects();
    let (key, m) = manifests(&sink).pop().expect("one manifest");
    assert_eq!(manifests(&sink).len(), 1);
    assert_eq!(key, format!("manifests/dt=2026-11-18/{}.json", m.batch_id));
    assert_eq!(outcome.summary.manifest.as_deref(), Some(key.as_str()));
    assert_eq!(sink.content_type(&key), Some("application/json"));
    assert_eq!(m.source.as_deref(), Some("aws:dynamodb"));
    assert_eq!(m.records, 12);
    assert!(m.retry.is_empty() && m.counts_add_up());
    assert_eq!(m.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(m.written_at, "2026-11-18T11:06:40.000Z");
    assert!(m.first_sequence_number.is_some() && m.last_sequence_number.is_some());
    // Every file written, and nothing else, with its bytes' size and SHA-256.
    let written: Vec<&String> = objects.keys().filter(|k| !k.starts_with("manifests/")).collect();
    assert_eq!(m.files.iter().map(|f| &f.key).collect::<Vec<_>>(), written);
    for f in &m.files {
        let body = &objects[&f.key];
        assert_eq!(f.bytes, body.len(), "{}", f.key);
        assert_eq!(f.sha256, hex(&Sha256::digest(body)), "{}", f.key);
        assert_eq!(f.kind, "data");
        assert!(f.key.contains(&format!(
            "/{}/dt={}/",
            f.record_type.as_deref().expect("type"),
            f.partition_date.as_deref().expect("date")
        )));
    }
}

#[test]
fn error_files_are_named_too_and_the_same_batch_gets_the_same_key() {
    let sink = Memory::new();
    run(&sink, BAD);
    let first = manifests(&sink);
    let (_, m) = first.first().expect("manifest");
    let errors: Vec<_> = m.files.iter().filter(|f| f.kind == "errors").collect();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].record_type.is_none() && errors[0].partition_date.is_none());
    assert!(m.counts_add_up());
    run(&sink, BAD);
    assert_eq!(
        manifests(&sink).iter().map(|(k, _)| k).collect::<Vec<_>>(),
        first.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
}

#[test]
fn records_left_to_retry_are_listed_and_counted() {
    let sink = Memory::refusing(|k| k.starts_with("data/sale/"));
    let outcome = run(&sink, BATCH);
    let retried: Vec<String> = outcome.answer().batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    assert_eq!(retried.len(), 3);
    let (_, m) = manifests(&sink).pop().expect("manifest");
    assert_eq!(m.retry, retried);
    assert!(m.counts_add_up());
    assert!(m.files.iter().all(|f| !f.key.starts_with("data/sale/")), "only files written in full are named");
}

#[test]
fn a_manifest_that_cannot_be_written_sends_the_whole_batch_back() {
    let sink = Memory::refusing(|k| k.starts_with("manifests/"));
    let outcome = run(&sink, BATCH);
    assert_eq!(outcome.answer().batch_item_failures.len(), 12);
    assert!(outcome.summary.manifest.is_none());
    assert!(outcome.summary.failed_files.iter().any(|k| k.starts_with("manifests/")));
    // The retry rewrites the same keys.
    let again = Memory::new();
    run(&again, BATCH);
    let keys = |m: &Memory| m.objects().into_keys().filter(|k| !k.starts_with("manifests/")).collect::<Vec<_>>();
    assert_eq!(keys(&sink), keys(&again));
}

#[test]
fn an_empty_batch_writes_no_manifest() {
    let sink = Memory::new();
    run(&sink, r#"{"Records": []}"#);
    assert!(sink.objects().is_empty());
}

#[test]
fn envelope_identifiers_holding_pii_are_redacted_in_the_manifest() {
    let batch: serde_json::Value = serde_json::from_str(BATCH).expect("json");
    let mut records = batch["Records"].as_array().expect("records").clone();
    records.truncate(2);
    records[0]["eventSourceARN"] = "arn:aws:dynamodb:eu-west-1:1:table/ana@example.com/stream/x".into();
    // base64 of an address, as a sequence number.
    records[1]["dynamodb"]["SequenceNumber"] = "YW5hQGV4YW1wbGUuY29t".into();
    let sink = Memory::refusing(|k| k.starts_with("data/"));
    let payload = serde_json::json!({ "Records": records }).to_string();
    run(&sink, &payload);
    let (key, m) = manifests(&sink).pop().expect("manifest");
    let text = String::from_utf8(sink.objects()[&key].to_vec()).expect("utf-8");
    assert!(!text.contains("ana@example.com") && !text.contains("YW5hQGV4YW1wbGUuY29t"), "{text}");
    assert_eq!(m.event_source_arn.as_deref(), Some("REDACTED"));
    assert_eq!(m.last_sequence_number.as_deref(), Some("REDACTED"));
    assert_eq!(m.retry.len(), 2, "both records retried, still counted");
    assert!(m.counts_add_up());
}

#[test]
fn identifiers_that_are_not_identifier_shaped_are_searched_like_item_text() {
    let batch: serde_json::Value = serde_json::from_str(BATCH).expect("json");
    let mut records = batch["Records"].as_array().expect("records").clone();
    records.truncate(2);
    records[0]["eventSourceARN"] = "arn:aws:dynamodb:eu-west-1:1:table/call 415 555 0144/stream/x".into();
    records[0]["dynamodb"]["SequenceNumber"] = "+1 415 555 0141".into();
    records[1]["dynamodb"]["SequenceNumber"] = "867 5310".into();
    let sink = Memory::refusing(|k| k.starts_with("data/"));
    run(&sink, &serde_json::json!({ "Records": records }).to_string());
    let text: String = sink
        .objects()
        .into_iter()
        .filter(|(k, _)| k.starts_with("manifests/"))
        .map(|(_, b)| String::from_utf8(b.to_vec()).expect("utf-8"))
        .collect();
    for planted in ["415 555 0144", "415 555 0141", "867 5310"] {
        assert!(!text.contains(planted), "{planted} in {text}");
    }
    // Sequence numbers of the usual shape keep their digits.
    let clean = Memory::new();
    run(&clean, BATCH);
    let (_, m) = manifests(&clean).pop().expect("manifest");
    assert!(m.first_sequence_number.is_some_and(|s| s.bytes().all(|c| c.is_ascii_digit())));
}

/// The sequence numbers each record of a payload names, in batch order.
fn sequence_numbers_of(payload: &str) -> Vec<Option<String>> {
    let v: serde_json::Value = serde_json::from_str(payload).expect("json");
    let records = v["Records"].as_array().expect("records");
    records
        .iter()
        .map(|r| {
            let n = r["dynamodb"]["SequenceNumber"].as_str().or_else(|| r["kinesis"]["sequenceNumber"].as_str());
            n.map(str::to_owned)
        })
        .collect()
}

#[test]
fn a_manifest_names_every_record_by_sequence_number_and_its_shard() {
    for (payload, shard) in [(BATCH, None), (BAD, None), (KINESIS, Some("shardId-000000000000"))] {
        let sink = Memory::new();
        run(&sink, payload);
        let (_, m) = manifests(&sink).pop().expect("manifest");
        assert_eq!(m.sequence_numbers, sequence_numbers_of(payload));
        assert_eq!(m.sequence_numbers.len(), m.records);
        assert_eq!(m.shard_id.as_deref(), shard);
        assert_eq!(m.first_sequence_number.as_ref(), m.sequence_numbers.iter().flatten().next());
    }
}

#[test]
fn a_kinesis_batch_of_rejected_records_still_names_its_shard() {
    let mut v: serde_json::Value = serde_json::from_str(KINESIS).expect("json");
    for r in v["Records"].as_array_mut().expect("records") {
        r["kinesis"]["data"] = "%%% not base64 %%%".into();
    }
    let sink = Memory::new();
    let outcome = run(&sink, &v.to_string());
    assert_eq!(outcome.summary.archived_records(), 0, "every record rejected");
    let (_, m) = manifests(&sink).pop().expect("manifest");
    assert_eq!(m.shard_id.as_deref(), Some("shardId-000000000000"));
    assert_eq!(m.sequence_numbers, sequence_numbers_of(&v.to_string()));
}
