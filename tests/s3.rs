//! The archive on a real S3 API (moto's server): `dmd archive --bucket` and the Lambda's
//! handler write the same keys as the local folder output, with the Content-Type and the
//! CRC32 checksum set, readable by two Avro readers; a rerun overwrites its own keys.

use std::collections::BTreeMap;

use dmd_lambda::{Archiver, Config};
use serde_json::Value;

use crate::moto::{self, Object};
use crate::util::{self, dmd, json_lines, read_with_fastavro, sample_events};

/// The CRC32 of `bytes` as S3 reports it: base64 of the big-endian value.
fn crc32_base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(bytes).to_be_bytes())
}

/// The configuration of the function for `bucket` (everything else at its default).
pub fn config(bucket: &str) -> Config {
    Config::from_lookup(|k| (k == "ARCHIVE_BUCKET").then(|| bucket.to_owned())).expect("config")
}

fn run_dmd_to_bucket(bucket: &str, events: &[std::path::PathBuf]) -> Vec<Value> {
    let mut args = vec!["archive".to_string(), "--bucket".into(), bucket.into()];
    args.extend(events.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = dmd(&args, &[]);
    assert!(
        out.status.success(),
        "dmd archive --bucket failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    json_lines(&out.stdout)
}

/// Records without `archived_at` (the time of writing), sorted, for comparing two runs.
fn comparable(mut records: Vec<util::ReadRecord>) -> Vec<(String, Value)> {
    let mut v: Vec<(String, Value)> = records
        .drain(..)
        .map(|mut r| {
            r.record.as_object_mut().expect("record").remove("archived_at");
            (r.file, r.record)
        })
        .collect();
    v.sort_by(|a, b| (a.0.as_str(), a.1.to_string()).cmp(&(b.0.as_str(), b.1.to_string())));
    v
}

#[test]
fn dmd_archive_to_a_bucket_writes_what_the_local_output_writes() {
    let rt = moto::runtime();
    let client = rt.block_on(moto::client());
    let bucket = moto::unique_bucket("cli");
    rt.block_on(moto::create_bucket(&client, &bucket));
    let events = sample_events();

    let lines = run_dmd_to_bucket(&bucket, &events);
    assert_eq!(lines.len(), events.len());
    for l in &lines {
        assert_eq!(l["batchItemFailures"], serde_json::json!([]), "{l}");
        assert!(l["failed_files"].as_array().expect("failed_files").is_empty(), "{l}");
    }
    let objects = rt.block_on(moto::objects(&client, &bucket));

    // The same keys and records as `dmd archive --out`.
    let local = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["archive".to_string(), "--out".into(), local.path().display().to_string()];
    args.extend(events.iter().map(|p| p.display().to_string()));
    let out = dmd(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let local_keys = util::files_under(local.path());
    assert_eq!(objects.keys().cloned().collect::<Vec<_>>(), local_keys);
    assert_eq!(comparable(moto::records(&objects)), comparable(util::read_with_apache_avro(local.path())));
    let written: usize = lines.iter().map(|l| l["files"].as_array().expect("files").len()).sum();
    let manifests: Vec<&str> = lines.iter().map(|l| l["manifest"].as_str().expect("manifest")).collect();
    assert_eq!(written + manifests.len(), objects.len(), "every file written is reported once, with its manifest");
    assert!(manifests.iter().all(|m| objects.contains_key(*m)));

    // Content-Type and the checksum S3 kept, for every object.
    for (key, o) in &objects {
        let want = match key {
            k if k.ends_with(".avro") => "application/avro",
            k if k.starts_with("manifests/") => "application/json",
            _ => "application/x-ndjson",
        };
        assert_eq!(o.content_type.as_deref(), Some(want), "{key}");
        assert_eq!(o.crc32.as_deref(), Some(crc32_base64(&o.body).as_str()), "{key}: CRC32 sent and kept");
    }

    // fastavro reads the objects as downloaded.
    let dir = tempfile::tempdir().expect("tempdir");
    moto::download(&objects, dir.path());
    let fast = read_with_fastavro(dir.path());
    assert_eq!(fast.len(), moto::records(&objects).len());
    assert!(fast.iter().all(|r| r.codec == "deflate"));

    // A rerun writes the same keys again: nothing new appears.
    let again = run_dmd_to_bucket(&bucket, &events);
    for (a, b) in lines.iter().zip(&again) {
        assert_eq!(a["files"], b["files"]);
    }
    let objects_again = rt.block_on(moto::objects(&client, &bucket));
    assert_eq!(objects_again.keys().collect::<Vec<_>>(), objects.keys().collect::<Vec<_>>());
    assert_eq!(comparable(moto::records(&objects_again)), comparable(moto::records(&objects)));
}

/// The partitions of `events/dynamodb-batch.json` (events/README.md).
pub fn batch_partitions() -> BTreeMap<String, usize> {
    [
        ("demand/dt=2026-11-19", 3),
        ("demand/dt=2026-11-18", 1),
        ("demand/dt=2026-11-17", 1),
        ("event/dt=2026-11-02", 2),
        ("sale/dt=2026-11-05", 2),
        ("sale/dt=2026-11-06", 1),
        ("notification/dt=2026-11-18", 1),
        ("notification/dt=2026-11-10", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

#[test]
fn the_lambda_handler_archives_a_batch_and_reports_it() {
    let rt = moto::runtime();
    let client = rt.block_on(moto::client());
    let bucket = moto::unique_bucket("handler");
    rt.block_on(moto::create_bucket(&client, &bucket));
    let sink = rt.block_on(moto::sink(&bucket, &moto::endpoint()));
    let archiver = Archiver::new(&config(&bucket), sink).expect("archiver");
    let payload = std::fs::read(util::event("dynamodb-batch.json")).expect("event");
    let before = dmd_lambda::handler::now_millis();
    let outcome = rt.block_on(archiver.handle(&payload, None, "req-1")).expect("handled");
    assert!(outcome.answer.batch_item_failures.is_empty());

    let objects: BTreeMap<String, Object> = rt.block_on(moto::objects(&client, &bucket));
    assert_eq!(moto::partitions(&objects), batch_partitions());
    let r = &outcome.report;
    assert_eq!(r.summary.records, 12);
    assert_eq!(r.archived(), 12);
    assert_eq!(r.summary.files.len(), 8);
    let manifest = r.summary.manifest.clone().expect("manifest written");
    assert_eq!(
        r.summary.bytes,
        objects.iter().filter(|(k, _)| **k != manifest).map(|(_, o)| o.body.len()).sum::<usize>()
    );
    assert_eq!(r.summary.archived["demand"]["2026-11-19"], 3);
    // The age of the oldest change: from the earliest change_time archived to the end.
    let earliest =
        moto::records(&objects).iter().map(|r| time_millis(&r.record["change_time"])).min().expect("records");
    let age = r.oldest_change_age_ms.expect("age");
    assert!((before - earliest..=dmd_lambda::handler::now_millis() - earliest).contains(&age), "{age}");

    let line = r.summary_line(1);
    assert_eq!(line["ArchivedRecords"], 12);
    assert_eq!(line["FilesWritten"], 8);
    assert_eq!(line["RetriedRecords"], 0);
    assert!(line["_aws"]["CloudWatchMetrics"].is_array());
    let types: BTreeMap<String, i64> = r
        .type_lines(1)
        .iter()
        .map(|l| (l["RecordType"].as_str().expect("type").to_owned(), l["ArchivedRecords"].as_i64().expect("n")))
        .collect();
    assert_eq!(
        types,
        BTreeMap::from([("demand".into(), 5), ("event".into(), 2), ("notification".into(), 2), ("sale".into(), 3)])
    );
    // RecordsPerFile: one value per data file, the records each object holds.
    let mut per_file: Vec<usize> = r
        .file_lines(1)
        .iter()
        .flat_map(|l| l["RecordsPerFile"].as_array().expect("values").clone())
        .map(|v| v.as_u64().expect("count") as usize)
        .collect();
    let mut in_objects: Vec<usize> = objects
        .iter()
        .filter(|(k, _)| k.starts_with("data/"))
        .map(|(k, o)| util::decode_avro(k, &o.body).len())
        .collect();
    per_file.sort_unstable();
    in_objects.sort_unstable();
    assert_eq!(per_file, in_objects);
    assert_eq!(per_file.iter().sum::<usize>(), 12);
}

#[test]
fn a_missing_bucket_is_a_permanent_failure_of_every_record() {
    let rt = moto::runtime();
    let bucket = moto::unique_bucket("absent");
    let sink = rt.block_on(moto::sink(&bucket, &moto::endpoint()));
    let archiver = Archiver::new(&config(&bucket), sink).expect("archiver");
    let payload = std::fs::read(util::event("dynamodb-batch.json")).expect("event");
    let outcome = rt.block_on(archiver.handle(&payload, None, "req-absent")).expect("handled");
    assert_eq!(outcome.answer.batch_item_failures.len(), 12);
    // The 8 files and the manifest.
    assert_eq!(outcome.report.failures.len(), 9);
    assert_eq!(outcome.report.failures.iter().filter(|f| f.key.starts_with("manifests/")).count(), 1);
    for f in &outcome.report.failures {
        assert!(!f.transient, "{f:?}");
        assert!(f.error.contains("NoSuchBucket"), "{}", f.error);
    }
}

#[test]
fn a_bucket_that_is_not_there_is_named_before_any_work() {
    let bucket = moto::unique_bucket("mistyped");
    let event = util::event("dynamodb-batch.json").display().to_string();
    for args in [vec!["archive", "--bucket", &bucket, &event], vec!["verify", "--bucket", &bucket]] {
        let out = dmd(&args, &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim(), format!("dmd: error: --bucket {bucket}: no such bucket"), "{args:?}");
        assert!(out.stdout.is_empty());
    }
    // S3 out of reach: named once, not once per file.
    let out = dmd(&["archive", "--bucket", &bucket, &event], &[("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with(&format!("dmd: error: --bucket {bucket}: S3 is out of reach")) && err.lines().count() == 1,
        "{err}"
    );
}

/// Epoch milliseconds of a timestamp as the readers print it (RFC 3339, UTC).
fn time_millis(v: &Value) -> i64 {
    let text = v.as_str().expect("timestamp text");
    dmd_archive::time::parse_timestamp(text).unwrap_or_else(|| panic!("not a timestamp: {text}"))
}
