//! Recovering the batches Lambda gave up on (data contract, section 9), on moto's real
//! DynamoDB Streams, Kinesis, SQS and S3: an on-failure message, built as Lambda sends
//! it, names a range of a stream that tests/py/recover_streams.py filled; `dmd recover`
//! (from a file or from the queue) and the built `recoverer` function read it back and
//! archive it with the keys the function would have written for that batch. A range the
//! stream no longer holds in full, and a message that is not one, are reported, keep
//! their queue message and fail the run.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{json, Value};

use crate::moto;
use crate::runtime_api::Function;
use crate::util::{self, dmd, dmd_bin, files_under, json_lines, python, read_with_apache_avro};

/// PII in the items of tests/py/dynamodb_stream.py and tests/py/recover_streams.py.
const PII: [&str; 6] =
    ["555 010 9001", "fan9001@example.com", "after 6pm", "555 010 7001", "5550107001", "fan7001@example.com"];

/// Data files written uncompressed, so that every byte can be searched for PII.
const ENV: [(&str, &str); 1] = [("AVRO_CODEC", "null")];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    DynamoDb,
    Kinesis,
}

/// A stream filled by the helper: its ARN, its one shard, and its records as the Lambda
/// event carries them.
struct Stream {
    kind: Kind,
    arn: String,
    shard_id: String,
    records: Vec<Value>,
}

fn helper(args: &[&str]) -> String {
    let out = Command::new(python())
        .arg(util::root().join("tests/py/recover_streams.py"))
        .args(args)
        .output()
        .expect("run recover_streams.py");
    assert!(out.status.success(), "recover_streams.py {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8").trim().to_owned()
}

fn stream(kind: Kind) -> Stream {
    let (what, name) = match kind {
        Kind::DynamoDb => ("dynamodb", moto::unique_bucket("table")),
        Kind::Kinesis => ("kinesis", moto::unique_bucket("stream")),
    };
    let v: Value = serde_json::from_str(&helper(&[what, &name])).expect("stream JSON");
    Stream {
        kind,
        arn: v["stream_arn"].as_str().expect("arn").to_owned(),
        shard_id: v["shard_id"].as_str().expect("shard").to_owned(),
        records: v["records"].as_array().expect("records").clone(),
    }
}

fn seq(kind: Kind, record: &Value) -> String {
    let s = match kind {
        Kind::DynamoDb => &record["dynamodb"]["SequenceNumber"],
        Kind::Kinesis => &record["kinesis"]["sequenceNumber"],
    };
    s.as_str().expect("sequence number").to_owned()
}

/// The arrival time of a record as the on-failure message writes it.
fn arrival(kind: Kind, record: &Value) -> String {
    let seconds = match kind {
        Kind::DynamoDb => record["dynamodb"]["ApproximateCreationDateTime"].as_f64(),
        Kind::Kinesis => record["kinesis"]["approximateArrivalTimestamp"].as_f64(),
    };
    dmd_archive::time::format_millis((seconds.expect("time") * 1000.0) as i64)
}

/// The on-failure message Lambda sends for a batch of `range` that it gave up on,
/// claiming `batch_size` records.
fn message(s: &Stream, range: &[Value], start: &str, batch_size: usize) -> Value {
    let (first, last) = (range.first().expect("first"), range.last().expect("last"));
    let info = json!({
        "shardId": s.shard_id,
        "startSequenceNumber": start,
        "endSequenceNumber": seq(s.kind, last),
        "approximateArrivalOfFirstRecord": arrival(s.kind, first),
        "approximateArrivalOfLastRecord": arrival(s.kind, last),
        "batchSize": batch_size,
        "streamArn": s.arn,
    });
    let key = match s.kind {
        Kind::DynamoDb => "DDBStreamBatchInfo",
        Kind::Kinesis => "KinesisBatchInfo",
    };
    json!({
        "requestContext": {
            "requestId": "316aa6d0-8154-4e62-9af7-85d5f4a6bc81",
            "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:dmd-archiver",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 11
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2026-11-26T10:00:00.000Z",
        key: info,
    })
}

/// The message of the whole of `range`.
fn message_of(s: &Stream, range: &[Value]) -> Value {
    message(s, range, &seq(s.kind, &range[0]), range.len())
}

fn write_json(dir: &Path, name: &str, v: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, v.to_string()).expect("write");
    path.display().to_string()
}

fn queue() -> String {
    helper(&["queue", &moto::unique_bucket("failed")])
}

fn send(dir: &Path, queue: &str, body: &Value) -> String {
    let path = write_json(dir, "to-send.json", body);
    helper(&["send", queue, &path])
}

fn queued(queue: &str) -> usize {
    helper(&["count", queue]).parse().expect("count")
}

fn run(args: &[&str]) -> (Output, Vec<Value>) {
    let out = dmd(args, &ENV);
    let lines = json_lines(&out.stdout);
    (out, lines)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every file below `dir` (or every object of a bucket), and the output, scanned for
/// the PII of the deleted items.
fn assert_no_pii(what: &str, texts: impl IntoIterator<Item = Vec<u8>>) {
    for bytes in texts {
        let text = String::from_utf8_lossy(&bytes);
        for p in PII {
            assert!(!text.contains(p), "{p} in {what}");
        }
    }
}

fn dir_bytes(dir: &Path) -> Vec<Vec<u8>> {
    files_under(dir).iter().map(|f| std::fs::read(dir.join(f)).expect("read")).collect()
}

/// The records below `dir` without `archived_at` (the time of writing), by file.
/// The data and error files below `dir` (manifests left out: a manifest's key is a
/// digest of the records' texts as received, which a rebuilt event need not repeat).
fn archive_files(dir: &Path) -> Vec<String> {
    files_under(dir).into_iter().filter(|k| !k.starts_with("manifests/")).collect()
}

fn contents(dir: &Path) -> Vec<(String, Value)> {
    let mut v: Vec<(String, Value)> = read_with_apache_avro(dir)
        .into_iter()
        .map(|mut r| {
            r.record.as_object_mut().expect("record").remove("archived_at");
            (r.file, r.record)
        })
        .collect();
    v.sort_by_key(|(f, r)| (f.clone(), r.to_string()));
    v
}

/// The full story for one source: a sub-range recovered from a file and from the queue.
fn a_range_is_recovered_with_the_functions_keys(s: &Stream, range: std::ops::RangeInclusive<usize>) {
    let kind = s.kind;
    let range = &s.records[range];
    let tmp = tempfile::tempdir().expect("tmp");
    let msg = message_of(s, range);
    let file = write_json(tmp.path(), "message.json", &msg);
    let out_dir = tmp.path().join("recovered");
    let out = out_dir.display().to_string();

    let (o, lines) = run(&["recover", "--out", &out, &file]);
    assert!(o.status.success(), "dmd recover failed ({}): {}", o.status, stderr(&o));
    let [line] = lines.as_slice() else { panic!("one line per message: {lines:?}") };
    let first = seq(kind, &range[0]);
    let last = seq(kind, range.last().expect("last"));
    assert_eq!(line["shard_id"], s.shard_id.as_str());
    assert_eq!(line["start_sequence_number"], first.as_str());
    assert_eq!(line["end_sequence_number"], last.as_str());
    assert_eq!(line["records"], range.len());
    assert_eq!(line["archived"], range.len());
    assert_eq!(line["errors"], 0);
    assert_eq!(line["missing"], 0);
    assert_eq!(line["deleted_message"], false);
    assert_eq!(line["problem"], Value::Null);
    assert_eq!(line["message"], file.as_str());

    // Exactly the records of the range, each once.
    let archived = read_with_apache_avro(&out_dir);
    let mut got: Vec<String> =
        archived.iter().map(|r| r.record["sequence_number"].as_str().expect("seq").to_owned()).collect();
    got.sort();
    let mut want: Vec<String> = range.iter().map(|r| seq(kind, r)).collect();
    want.sort();
    assert_eq!(got, want);
    assert!(archived.iter().any(|r| r.record["is_deleted"] == true), "the range holds a deletion");
    assert_no_pii("the recovered files or the output", dir_bytes(&out_dir).into_iter().chain([o.stdout, o.stderr]));

    // The same keys and records as the same batch given to the function as its event.
    let direct_dir = tmp.path().join("direct");
    let event = write_json(tmp.path(), "event.json", &json!({"Records": range}));
    let (o, _) = run(&["archive", "--out", &direct_dir.display().to_string(), &event]);
    assert!(o.status.success(), "dmd archive: {}", stderr(&o));
    let keys = archive_files(&out_dir);
    assert_eq!(keys, archive_files(&direct_dir));
    assert_eq!(files_under(&out_dir).iter().filter(|k| k.starts_with("manifests/")).count(), 1, "one manifest");
    assert_eq!(contents(&out_dir), contents(&direct_dir));

    // A second run writes the same keys.
    let (o, again) = run(&["recover", "--out", &out, &file]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(again[0]["files"], line["files"]);
    assert_eq!(archive_files(&out_dir), keys);

    // From the queue into a bucket: the same keys, and the message is gone.
    let rt = moto::runtime();
    let client = rt.block_on(moto::client());
    let bucket = moto::unique_bucket("recover");
    rt.block_on(moto::create_bucket(&client, &bucket));
    let q = queue();
    let id = send(tmp.path(), &q, &msg);
    let (o, lines) = run(&["recover", "--bucket", &bucket, "--queue", &q]);
    assert!(o.status.success(), "dmd recover --queue failed ({}): {}", o.status, stderr(&o));
    let [line] = lines.as_slice() else { panic!("one line per message: {lines:?}") };
    assert_eq!(line["message"], id.as_str());
    assert_eq!(line["deleted_message"], true);
    assert_eq!(line["records"], range.len());
    assert_eq!(queued(&q), 0, "a recovered message is deleted");
    let objects = rt.block_on(moto::objects(&client, &bucket));
    let archived: Vec<String> = objects.keys().filter(|k| !k.starts_with("manifests/")).cloned().collect();
    assert_eq!(archived, keys);
    assert_eq!(objects.len(), keys.len() + 1, "and the batch's manifest");
    assert_no_pii("the bucket", objects.values().map(|o| o.body.to_vec()));
}

#[test]
fn a_dynamodb_streams_range_is_recovered_with_the_functions_keys() {
    let s = stream(Kind::DynamoDb);
    let names: Vec<&str> = s.records.iter().map(|r| r["eventName"].as_str().expect("eventName")).collect();
    assert_eq!(names, [["INSERT"; 5].as_slice(), &["MODIFY"; 4], &["REMOVE"; 4]].concat());
    // MODIFY event, MODIFY sale, REMOVE demand (PII), REMOVE notification (PII), REMOVE
    // sale: neither the first nor the last record of the shard.
    a_range_is_recovered_with_the_functions_keys(&s, 7..=11);
}

#[test]
fn a_kinesis_range_is_recovered_with_the_functions_keys() {
    let s = stream(Kind::Kinesis);
    assert_eq!(s.records.len(), 8);
    // INSERT event, INSERT sale, REMOVE demand (PII), REMOVE notification (PII).
    a_range_is_recovered_with_the_functions_keys(&s, 3..=6);
}

#[test]
fn records_the_stream_no_longer_holds_are_reported_and_the_message_stays() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out").display().to_string();

    // The batch had 3 more records than the stream holds in its range.
    let ddb = stream(Kind::DynamoDb);
    let range = &ddb.records[2..=5];
    let short = message(&ddb, range, &seq(Kind::DynamoDb, &range[0]), range.len() + 3);
    let file = write_json(tmp.path(), "short.json", &short);
    let (o, lines) = run(&["recover", "--out", &out, &file]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!((lines[0]["records"].as_u64(), lines[0]["archived"].as_u64()), (Some(4), Some(4)));
    assert_eq!(lines[0]["missing"], 3);
    let problem = lines[0]["problem"].as_str().expect("a problem");
    assert!(problem.contains("3 record(s) of the batch are no longer in the stream"), "{problem}");
    assert!(stderr(&o).contains(problem), "the problem is said on standard error too");

    // Kinesis: the start of the range is gone (the stream's first record is 1).
    let kin = stream(Kind::Kinesis);
    let range = &kin.records[0..=1];
    let trimmed = message(&kin, range, "0", 4);
    let file = write_json(tmp.path(), "trimmed.json", &trimmed);
    let (o, lines) = run(&["recover", "--out", &out, &file]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!((lines[0]["records"].as_u64(), lines[0]["missing"].as_u64()), (Some(2), Some(2)));

    // From the queue: reported, not deleted, and there again for the next run.
    let q = queue();
    send(tmp.path(), &q, &short);
    for run_number in 1..=2 {
        let (o, lines) = run(&["recover", "--out", &out, "--queue", &q]);
        assert_eq!(o.status.code(), Some(1), "run {run_number}: {}", stderr(&o));
        assert_eq!(lines.len(), 1, "run {run_number}: {lines:?}");
        assert_eq!(lines[0]["deleted_message"], false);
        assert_eq!(lines[0]["missing"], 3);
        assert_eq!(queued(&q), 1, "run {run_number}: the message stays");
    }
}

#[test]
fn a_message_that_is_not_one_is_an_error_and_stays() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out_dir = tmp.path().join("out");
    let out = out_dir.display().to_string();
    let not_json = tmp.path().join("not-json.json");
    std::fs::write(&not_json, "fan9001@example.com, please").expect("write");
    let other = write_json(tmp.path(), "other.json", &json!({"Records": [{"eventSource": "aws:sqs"}]}));
    let ddb = stream(Kind::DynamoDb);
    let good = message_of(&ddb, &ddb.records[0..=1]);
    let mut bad_seq = good.clone();
    bad_seq["DDBStreamBatchInfo"]["startSequenceNumber"] = json!("12x");
    let bad_seq = write_json(tmp.path(), "bad-seq.json", &bad_seq);
    let missing_file = tmp.path().join("absent.json").display().to_string();
    let (o, lines) = run(&["recover", "--out", &out, &not_json.display().to_string(), &other, &bad_seq, &missing_file]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(lines.len(), 4, "one line per message: {lines:?}");
    for (line, needle) in lines.iter().zip([
        "not an on-failure message: the message is not JSON",
        "neither DDBStreamBatchInfo nor KinesisBatchInfo",
        "DDBStreamBatchInfo.startSequenceNumber is not a sequence number",
        "cannot read the file",
    ]) {
        let problem = line["problem"].as_str().unwrap_or_default();
        assert!(problem.contains(needle), "{needle}: {line}");
        assert_eq!(line["shard_id"], Value::Null);
        assert_eq!(line["records"], 0);
        assert_eq!(line["deleted_message"], false);
    }
    assert!(files_under(&out_dir).is_empty(), "nothing written");
    assert_no_pii("the output", [o.stdout, o.stderr]);

    // In the queue beside a good message: the good one is recovered and deleted, the bad
    // one stays.
    let q = queue();
    send(tmp.path(), &q, &json!({"hello": "world"}));
    send(tmp.path(), &q, &good);
    let (o, lines) = run(&["recover", "--out", &out, "--queue", &q]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(lines.len(), 2, "{lines:?}");
    let deleted: Vec<bool> = lines.iter().map(|l| l["deleted_message"] == true).collect();
    let good = lines.iter().find(|l| l["problem"].is_null()).expect("the good message");
    assert_eq!(good["deleted_message"], true);
    assert_eq!(deleted.iter().filter(|d| **d).count(), 1);
    assert_eq!(queued(&q), 1, "only the malformed message is left");
}

#[test]
fn the_recoverer_function_fails_exactly_the_messages_it_could_not_recover() {
    let ddb = stream(Kind::DynamoDb);
    let kin = stream(Kind::Kinesis);
    let rt = moto::runtime();
    let client = rt.block_on(moto::client());
    let bucket = moto::unique_bucket("recoverer");
    rt.block_on(moto::create_bucket(&client, &bucket));

    let sqs = |id: &str, body: &Value| {
        let body = if let Value::String(s) = body { s.clone() } else { body.to_string() };
        json!({
            "messageId": id, "receiptHandle": format!("receipt-{id}"), "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795600000000",
                "SenderId": "AROAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1795600000001"},
            "messageAttributes": {}, "md5OfBody": "0", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:dmd-failed-batches", "awsRegion": "eu-west-1"
        })
    };
    let whole = &ddb.records[7..=11];
    let short = &ddb.records[3..=4];
    let first = json!({"Records": [
        sqs("m-whole", &message_of(&ddb, whole)),
        sqs("m-short", &message(&ddb, short, &seq(Kind::DynamoDb, &short[0]), 5)),
        sqs("m-junk", &json!("not a message")),
    ]});
    let second = json!({"Records": [sqs("m-kinesis", &message_of(&kin, &kin.records[3..=6]))]});
    let served = Function::new(&dmd_bin().with_file_name("recoverer"), "recoverer")
        .env("ARCHIVE_BUCKET", &bucket)
        .env("AVRO_CODEC", "null")
        .serve(&[first.to_string().into_bytes(), second.to_string().into_bytes()]);
    assert_eq!(
        served.answers[0].response(),
        json!({"batchItemFailures": [{"itemIdentifier": "m-short"}, {"itemIdentifier": "m-junk"}]}),
        "{}",
        served.logs
    );
    assert_eq!(served.answers[1].response(), json!({"batchItemFailures": []}), "{}", served.logs);

    // What was recovered is in the bucket, under the keys `dmd archive` gives the batch.
    let tmp = tempfile::tempdir().expect("tmp");
    let mut want = Vec::new();
    for (name, range) in [("ddb", whole), ("short", short), ("kinesis", &kin.records[3..=6])] {
        let dir = tmp.path().join(name);
        let event = write_json(tmp.path(), &format!("{name}.json"), &json!({"Records": range}));
        let (o, _) = run(&["archive", "--out", &dir.display().to_string(), &event]);
        assert!(o.status.success(), "{}", stderr(&o));
        want.extend(archive_files(&dir));
    }
    want.sort();
    want.dedup();
    let objects = rt.block_on(moto::objects(&client, &bucket));
    let keys: Vec<String> = objects.keys().filter(|k| !k.starts_with("manifests/")).cloned().collect();
    assert_eq!(keys, want);
    // A manifest per range read and archived, the short one too (its records are archived;
    // the ones the stream no longer holds are what keeps its message on the queue).
    assert_eq!(objects.keys().filter(|k| k.starts_with("manifests/")).count(), 3);
    assert_no_pii("the bucket", objects.values().map(|o| o.body.to_vec()));

    // One log line per message, with its counts and its metrics; never a record.
    let lines: Vec<Value> = served
        .logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["message"] == "recovery")
        .collect();
    assert_eq!(lines.len(), 4, "{}", served.logs);
    let by_id =
        |id: &str| lines.iter().find(|l| l["message_id"] == id).unwrap_or_else(|| panic!("{id}: {}", served.logs));
    assert_eq!(by_id("m-whole")["RecoveredBatches"], 1);
    assert_eq!(by_id("m-short")["MissingRecords"], 3);
    assert_eq!(by_id("m-short")["UnrecoveredBatches"], 1);
    assert_eq!(by_id("m-junk")["level"], "ERROR");
    assert_eq!(by_id("m-kinesis")["archived"], 4);
    assert_no_pii("the function's logs", [served.logs.into_bytes()]);
}
