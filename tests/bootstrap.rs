//! The deployable artifact: the `bootstrap` that `sam build` makes for `ArchiverFunction`
//! and every other function
//! (`make sam-build`, for x86_64; `make test` passes its path in `DMD_BOOTSTRAP`). It is
//! an x86-64 Linux executable that Lambda's `provided.al2023` runtime can load, and,
//! served by the loopback Lambda runtime API with S3 on moto, it answers DynamoDB Streams
//! and Kinesis batches with the partial batch response and writes the keys and records
//! `dmd archive` writes for the same events.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::elf::{Elf, EM_X86_64};
use crate::moto;
use crate::runtime_api::{AnswerKind, Function};
use crate::util::{self, dmd};

/// The glibc of Amazon Linux 2023, the `provided.al2023` runtime.
const AL2023_GLIBC: (u32, u32) = (2, 34);

/// The libraries of glibc itself: all that the function may load from the runtime.
const GLIBC_LIBRARIES: [&str; 6] =
    ["libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "ld-linux-x86-64.so.2"];

/// The event files served, in order, and the records each one has.
const BATCHES: [(&str, usize); 4] =
    [("dynamodb-batch.json", 12), ("bad-records.json", 10), ("kinesis-batch.json", 7), ("kinesis-bad-records.json", 3)];

/// The PII of `bad-records.json`'s invalid REMOVE (events/README.md).
const PII: [&str; 3] = ["+1 202-555-0161", "12025550161", "casey.ng@example.com"];

/// The `bootstrap` of `DMD_BOOTSTRAP`.
pub(crate) fn bootstrap() -> PathBuf {
    let path = std::env::var_os("DMD_BOOTSTRAP").map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "DMD_BOOTSTRAP is not set: build the function with `make sam-build` and set \
             DMD_BOOTSTRAP=$PWD/.aws-sam/build/ArchiverFunction-Shared/bootstrap (`make test` does both)"
        )
    });
    assert!(path.is_file(), "{} is missing: build it with `make sam-build`", path.display());
    path
}

fn payload(name: &str) -> Vec<u8> {
    std::fs::read(util::event(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The `itemIdentifier` of every record of an event file, in stream order: the DynamoDB
/// `SequenceNumber` or the Kinesis `sequenceNumber`.
fn item_identifiers(name: &str) -> Vec<Value> {
    let event: Value = serde_json::from_slice(&payload(name)).expect("event JSON");
    event["Records"]
        .as_array()
        .expect("Records")
        .iter()
        .map(|r| {
            let seq = r["dynamodb"]["SequenceNumber"].as_str().or(r["kinesis"]["sequenceNumber"].as_str());
            json!({"itemIdentifier": seq.expect("a sequence number")})
        })
        .collect()
}

/// Records per `<type>/dt=<date>` of the four batches together (events/README.md).
fn expected_partitions() -> BTreeMap<String, usize> {
    let mut want = crate::s3::batch_partitions();
    for (part, n) in [
        // kinesis-batch.json
        ("demand/dt=2026-11-20", 2),
        ("demand/dt=2026-11-19", 1),
        ("notification/dt=2026-11-20", 1),
        ("notification/dt=2026-11-13", 1),
        ("event/dt=2026-11-15", 1),
        ("sale/dt=2026-11-15", 1),
        // bad-records.json
        ("demand/dt=2026-11-21", 1),
        ("sale/dt=2026-11-21", 1),
        // kinesis-bad-records.json
        ("demand/dt=2026-11-22", 1),
    ] {
        *want.entry(part.to_owned()).or_default() += n;
    }
    want
}

/// Records (without `archived_at`) or error lines (without `failed_at`), sorted: what two
/// runs of the same events have in common.
fn comparable(mut items: Vec<(String, Value)>, time_field: &str) -> Vec<(String, Value)> {
    for (_, v) in &mut items {
        v.as_object_mut().expect("object").remove(time_field);
    }
    items.sort_by_cached_key(|(k, v)| (k.clone(), v.to_string()));
    items
}

#[test]
fn the_sam_built_bootstrap_is_an_x86_64_executable_for_amazon_linux_2023() {
    let path = bootstrap();
    let elf = Elf::read(&std::fs::read(&path).expect("read bootstrap"));
    assert_eq!(elf.machine, EM_X86_64, "{}: not built for x86-64", path.display());
    assert_eq!(elf.interpreter.as_deref(), Some("/lib64/ld-linux-x86-64.so.2"), "glibc's loader");
    // The base version of every x86-64 glibc program: the version needs were read.
    assert!(elf.versions.contains(&("libc.so.6".into(), "GLIBC_2.2.5".into())), "{:?}", elf.versions);
    let newest = elf.max_glibc().expect("glibc versions");
    assert!(
        newest <= AL2023_GLIBC,
        "{} needs glibc {}.{}, newer than Amazon Linux 2023's {}.{}: {:?}",
        path.display(),
        newest.0,
        newest.1,
        AL2023_GLIBC.0,
        AL2023_GLIBC.1,
        elf.versions
    );
    for lib in &elf.needed {
        assert!(GLIBC_LIBRARIES.contains(&lib.as_str()), "{lib} is not part of glibc: {:?}", elf.needed);
    }
    // The release profile: stripped of symbols and debug information.
    assert!(!elf.sections.contains(".symtab"), "not stripped: {:?}", elf.sections);
    assert!(!elf.sections.iter().any(|s| s.starts_with(".debug")), "debug information: {:?}", elf.sections);
}

#[test]
fn the_sam_built_bootstrap_archives_dynamodb_and_kinesis_batches_as_dmd_does() {
    let rt = moto::runtime();
    let client = rt.block_on(moto::client());
    let bucket = moto::unique_bucket("bootstrap");
    rt.block_on(moto::create_bucket(&client, &bucket));

    // One warm instance, five invocations: the four batches, then a payload that is not
    // a stream event.
    let mut payloads: Vec<Vec<u8>> = BATCHES.iter().map(|(name, _)| payload(name)).collect();
    payloads.push(payload("not-a-stream-event.json"));
    let served = Function::new(&bootstrap(), "archiver")
        .env("ARCHIVE_BUCKET", &bucket)
        .env("AWS_ENDPOINT_URL_S3", &moto::endpoint())
        .serve(&payloads);
    let logs = &served.logs;
    for (answer, (name, _)) in served.answers.iter().zip(BATCHES) {
        assert_eq!(answer.response(), json!({"batchItemFailures": []}), "{name}: {logs}");
    }
    let refused = &served.answers[4];
    assert_eq!(refused.kind, AnswerKind::Error, "{logs}");
    assert!(String::from_utf8_lossy(&refused.body).contains("not a stream event"), "{:?}", refused.body);

    // One summary line per archived batch, none for the refused payload.
    let summaries: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["message"] == "invocation summary")
        .collect();
    let records: Vec<u64> = summaries.iter().map(|s| s["records"].as_u64().expect("records")).collect();
    assert_eq!(records, BATCHES.iter().map(|(_, n)| *n as u64).collect::<Vec<_>>(), "{logs}");
    assert!(summaries.iter().all(|s| s["FunctionName"] == "archiver"), "{logs}");

    // The objects: records per partition, read back with apache-avro, and two error
    // files (one per batch with failed records) with a line per failed record.
    let objects = rt.block_on(moto::objects(&client, &bucket));
    assert_eq!(moto::partitions(&objects), expected_partitions());
    assert_eq!(objects.keys().filter(|k| k.starts_with("data/")).count(), 8 + 2 + 6 + 1, "{:?}", objects.keys());
    let error_files: Vec<Vec<Value>> =
        objects.iter().filter(|(k, _)| k.starts_with("errors/")).map(|(_, o)| util::json_lines(&o.body)).collect();
    let count = |lines: &Vec<Value>| {
        let mut kinds: BTreeMap<(String, String), usize> = BTreeMap::new();
        for l in lines {
            let kind =
                (l["source"].as_str().expect("source").to_owned(), l["error_type"].as_str().expect("type").to_owned());
            *kinds.entry(kind).or_default() += 1;
        }
        kinds
    };
    let mut per_file: Vec<BTreeMap<(String, String), usize>> = error_files.iter().map(count).collect();
    per_file.sort_by_key(|kinds| kinds.values().sum::<usize>());
    let kinds = |source: &str, list: &[(&str, usize)]| {
        list.iter().map(|(kind, n)| ((source.to_owned(), kind.to_string()), *n)).collect::<BTreeMap<_, _>>()
    };
    assert_eq!(
        per_file,
        vec![
            kinds("aws:kinesis", &[("parse", 2)]),
            kinds("aws:dynamodb", &[("conversion", 1), ("parse", 2), ("unknown_record_type", 1), ("validation", 4)]),
        ]
    );
    for pii in PII {
        assert!(!logs.contains(pii), "{pii} in the function's output");
        assert!(objects.values().all(|o| !String::from_utf8_lossy(&o.body).contains(pii)), "{pii} written");
    }

    // The same keys, records and error lines as `dmd archive` into a local folder.
    let local = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["archive".to_string(), "--out".into(), local.path().display().to_string()];
    args.extend(BATCHES.iter().map(|(name, _)| util::event(name).display().to_string()));
    let out = dmd(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(objects.keys().cloned().collect::<Vec<_>>(), util::files_under(local.path()));
    let bucket_records = moto::records(&objects).into_iter().map(|r| (r.file, r.record)).collect();
    let local_records = util::read_with_apache_avro(local.path()).into_iter().map(|r| (r.file, r.record)).collect();
    assert_eq!(comparable(bucket_records, "archived_at"), comparable(local_records, "archived_at"));
    let bucket_errors = error_files.into_iter().flatten().map(|l| (String::new(), l)).collect();
    let local_errors = util::error_lines(local.path()).into_iter().map(|l| (String::new(), l)).collect();
    assert_eq!(comparable(bucket_errors, "failed_at"), comparable(local_errors, "failed_at"));
}

#[test]
fn the_sam_built_bootstrap_hands_back_every_record_it_could_not_write() {
    // A bucket that does not exist: no file can be written, so every record of each batch
    // is handed back for retry, in stream order.
    let batches = ["dynamodb-batch.json", "kinesis-batch.json"];
    let served = Function::new(&bootstrap(), "archiver")
        .env("ARCHIVE_BUCKET", &moto::unique_bucket("absent"))
        .env("AWS_ENDPOINT_URL_S3", &moto::endpoint())
        .env("S3_MAX_ATTEMPTS", "1")
        .serve(&batches.iter().map(|name| payload(name)).collect::<Vec<_>>());
    for (answer, name) in served.answers.iter().zip(batches) {
        assert_eq!(answer.response(), json!({"batchItemFailures": item_identifiers(name)}), "{name}: {}", served.logs);
    }
}
