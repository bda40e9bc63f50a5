//! A discarded batch kept whole by the S3 on-failure destination (data contract, section
//! 9), on moto's S3: the built `archiver` with its bucket out of reach answers every
//! record for retry (nothing written, nothing lost); the failure record Lambda then
//! writes, built as Lambda writes it with the batch in `payload`, is archived by the
//! built `recoverer` (told of it as EventBridge tells the queue) and by
//! `dmd recover --failures`, with no stream to read (the stream it names does not
//! exist), under the keys `dmd archive` writes for the same event, and marked
//! recovered; a second run passes it by.

use serde_json::{json, Value};

use crate::compactor::sqs_event;
use crate::moto;
use crate::runtime_api::Function;
use crate::util::{self, dmd, dmd_bin, json_lines};

/// The key Lambda gives a failure record: `aws/lambda/<mapping>/<shard>/<date>/<time>-<id>`.
const KEY: &str = "aws/lambda/4f1a6c2e-mapping/shardId-00000001/2026/12/04/2026-12-04T03.00.00-8d2c";

/// The failure record of `event` as Lambda writes it to an S3 destination.
fn failure_record(event: &str) -> String {
    let records: Value = serde_json::from_str(event).expect("event");
    let records = records["Records"].as_array().expect("records");
    let seq = |r: &Value| r["dynamodb"]["SequenceNumber"].as_str().expect("sequence number").to_owned();
    json!({
        "requestContext": {"requestId": "c9b8", "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:dmd-archiver",
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 11},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0", "timestamp": "2026-12-04T03:00:00.000Z",
        "DDBStreamBatchInfo": {"shardId": "shardId-00000001", "startSequenceNumber": seq(&records[0]),
            "endSequenceNumber": seq(records.last().expect("a record")), "batchSize": records.len(),
            "approximateArrivalOfFirstRecord": "2026-12-04T02:59:00Z", "approximateArrivalOfLastRecord": "2026-12-04T02:59:01Z",
            "streamArn": records[0]["eventSourceARN"]},
        "payload": event,
    })
    .to_string()
}

fn created(bucket: &str, key: &str) -> Value {
    let body = json!({"version": "0", "id": "e-1", "detail-type": "Object Created", "source": "aws.s3",
        "account": "123456789012", "time": "2026-12-04T03:00:01Z", "region": "eu-west-1",
        "resources": [format!("arn:aws:s3:::{bucket}")],
        "detail": {"version": "0", "bucket": {"name": bucket}, "object": {"key": key, "size": 1}, "reason": "PutObject"}});
    json!({"id": "m-record", "body": body.to_string()})
}

#[test]
fn a_batch_discarded_while_s3_is_out_is_archived_from_its_failure_record() {
    let event = std::fs::read_to_string(util::event("dynamodb-batch.json")).expect("sample event");
    let rt = moto::runtime();
    let client = rt.block_on(moto::client());
    let (archive, failures, reference) =
        (moto::unique_bucket("archive"), moto::unique_bucket("failures"), moto::unique_bucket("reference"));
    for b in [&archive, &failures, &reference] {
        rt.block_on(moto::create_bucket(&client, b));
    }

    // S3 out of reach: every record handed back for retry, nothing written.
    let archiver = Function::new(&dmd_bin().with_file_name("archiver"), "archiver")
        .env("ARCHIVE_BUCKET", &archive)
        .env("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9");
    let served = archiver.serve(&[event.clone().into_bytes()]);
    let answer = served.answers[0].response();
    let first = answer["batchItemFailures"][0]["itemIdentifier"].as_str().map(str::to_owned);
    assert_eq!(first.as_deref(), Some("111100000000005000100"), "the whole batch is retried: {answer}");
    assert!(rt.block_on(moto::keys(&client, &archive)).is_empty());

    // Lambda gives up and writes the failure record; EventBridge tells the queue.
    let put = client.put_object().bucket(&failures).key(KEY).body(failure_record(&event).into_bytes().into());
    rt.block_on(put.send()).expect("put the failure record");
    let recoverer = Function::new(&dmd_bin().with_file_name("recoverer"), "recoverer")
        .env("ARCHIVE_BUCKET", &archive)
        .env("FAILED_BATCH_BUCKET", &failures);
    let served = recoverer.serve(&[sqs_event(&[created(&failures, KEY)])]);
    assert_eq!(served.answers[0].response(), json!({"batchItemFailures": []}), "{}", served.logs);
    let line =
        served.logs.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).find(|l| l["message"] == "recovery");
    let line = line.unwrap_or_else(|| panic!("no recovery line: {}", served.logs));
    assert_eq!((line["records"].as_u64(), line["missing"].as_u64()), (Some(12), Some(0)), "{line}");
    assert_eq!(line["from_failure_record"], true);

    // The keys `dmd archive` writes for the same event, and the archive verifies.
    let path = util::event("dynamodb-batch.json").display().to_string();
    assert!(dmd(&["archive", "--bucket", &reference, &path], &[]).status.success());
    let keys = rt.block_on(moto::keys(&client, &archive));
    assert_eq!(keys, rt.block_on(moto::keys(&client, &reference)));
    assert!(dmd(&["verify", "--bucket", &archive], &[]).status.success());
    let marker = format!("recovered/{KEY}");
    assert!(rt.block_on(moto::keys(&client, &failures)).contains(&marker), "the record is marked recovered");

    // By hand: `dmd recover --failures` passes a marked record by, and archives one that
    // is not, to the same keys.
    let location = format!("s3://{failures}");
    let out = dmd(&["recover", "--bucket", &reference, "--failures", &location], &[]);
    assert!(out.status.success() && json_lines(&out.stdout).is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let second = format!("{KEY}-2");
    let put = client.put_object().bucket(&failures).key(&second).body(failure_record(&event).into_bytes().into());
    rt.block_on(put.send()).expect("put a second failure record");
    let out = dmd(&["recover", "--bucket", &reference, "--failures", &location], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!((lines[0]["message"].as_str(), lines[0]["archived"].as_u64()), (Some(second.as_str()), Some(12)));
    assert_eq!((lines[0]["errors"].as_u64(), lines[0]["from_failure_record"].as_bool()), (Some(0), Some(true)));
    assert_eq!(rt.block_on(moto::keys(&client, &reference)), keys, "the same keys again");
    assert!(rt.block_on(moto::keys(&client, &failures)).contains(&format!("recovered/{second}")));
}
