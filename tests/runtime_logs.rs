//! The built `archiver` binary served one batch of deletions by the loopback Lambda
//! runtime API (tests/runtime_api.rs), at every log level from `error` to `trace`: the
//! answer comes back, the files land in moto, and no level prints an item, an image or
//! the raw event (the runtime itself logs raw events at trace; the function filters that
//! target).

use serde_json::Value;

use crate::moto;
use crate::runtime_api::Function;
use crate::util::dmd_bin;

/// The PII of the deleted items below: none of it may reach a log line.
/// Some are written in another form (`&#64;`, `%40`, full-width digits) or held by a PII
/// attribute in a value that no pattern matches; logs and objects are searched in every
/// reading too.
const SECRETS: [&str; 8] = [
    "log.leak@example.com",
    "+44 7700 900777",
    "447700900777",
    "Ana Lopez",
    "trace.me@example.org",
    "ana@example.org",
    "555 010 4477",
    "Zebulon Quixote",
];

/// Whether `text`, as written or in any of its readings, holds `secret`.
fn holds(text: &str, secret: &str) -> bool {
    text.contains(secret) || crate::pii_leaks::reading::readings(text).iter().any(|r| r.contains(secret))
}

/// One REMOVE that archives, one that fails validation (no requestedDate), one whose
/// eventName cannot be read, one that does not parse (a time out of range): the data
/// path, the error path and both fallbacks.
fn deletions() -> String {
    let image = |seq: u32, with_date: bool| {
        let date = if with_date { r#","requestedDate":{"S":"2026-11-19T10:00:00Z"}"# } else { "" };
        format!(
            r#"{{"pk":{{"S":"FAN#f-{seq}"}},"sk":{{"S":"DEMAND#e-1#s-1"}},"eventId":{{"S":"e-1"}},"saleId":{{"S":"s-1"}},
            "fanId":{{"S":"f-{seq}"}}{date},"email":{{"S":"log.leak@example.com"}},"phoneNumber":{{"S":"+44 7700 900777"}},
            "notes":{{"S":"Ana Lopez, call +44 7700 900777 or trace.me@example.org"}},"fanNote":{{"S":"Zebulon Quixote"}},
            "alt":{{"S":"ana&#64;example.org or ana%40example.org"}},"wide":{{"S":"call ５５５ ０１０ ４４７７"}}}}"#
        )
    };
    let record = |seq: u32, name: &str, with_date: bool| {
        format!(
            r#"{{"eventID":"ev-{seq}","eventName":{name},"eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",
            "eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/demand/stream/2026-11-19T00:00:00.000",
            "dynamodb":{{"ApproximateCreationDateTime":1763546400,"Keys":{{"pk":{{"S":"FAN#f-{seq}"}},"sk":{{"S":"DEMAND#e-1#s-1"}}}},
            "OldImage":{},"SequenceNumber":"{seq}00000000000000000001","SizeBytes":200,"StreamViewType":"NEW_AND_OLD_IMAGES"}}}}"#,
            image(seq, with_date)
        )
    };
    format!(
        r#"{{"Records":[{},{},{},{}]}}"#,
        record(1, r#""REMOVE""#, true),
        record(2, r#""REMOVE""#, false),
        record(3, "null", true),
        record(4, r#""REMOVE""#, true).replace("1763546400", "1e400")
    )
}

/// Runs the archiver on the deletions with the log settings `logs` (and no other);
/// returns its answer and everything it printed.
fn invoke_with(logs: &[(&str, &str)], bucket: &str) -> (Value, String) {
    let served = Function::new(&dmd_bin().with_file_name("archiver"), "archiver")
        .env("ARCHIVE_BUCKET", bucket)
        .env("AWS_ENDPOINT_URL_S3", &moto::endpoint())
        .env("PII_ATTRIBUTES", "fanNote")
        .envs(logs)
        .serve(&[deletions().into_bytes()]);
    let answer = served.answers[0].response();
    (answer, served.logs)
}

#[test]
fn no_log_level_prints_a_deleted_item() {
    let rt = moto::runtime();
    let client = rt.block_on(moto::client());
    for level in ["error", "warn", "info", "debug", "trace", "lambda_runtime=trace,dmd_lambda=trace"] {
        let bucket = moto::unique_bucket("levels");
        rt.block_on(moto::create_bucket(&client, &bucket));
        let (answer, logs) = invoke_with(&[("RUST_LOG", level)], &bucket);
        assert_eq!(answer, serde_json::json!({"batchItemFailures": []}), "{level}: {logs}");
        let objects = rt.block_on(moto::objects(&client, &bucket));
        assert_eq!(objects.keys().filter(|k| k.starts_with("data/demand/dt=2026-11-19/")).count(), 1, "{level}");
        let errors: Vec<_> = objects.iter().filter(|(k, _)| k.starts_with("errors/")).collect();
        assert_eq!(errors.len(), 1, "{level}: {:?}", objects.keys());
        assert_eq!(String::from_utf8_lossy(&errors[0].1.body).lines().count(), 3, "{level}");
        if level != "error" && level != "warn" {
            assert!(logs.contains("invocation summary"), "{level}: the summary is logged at info: {logs}");
        }
        for secret in SECRETS {
            assert!(!holds(&logs, secret), "{secret} printed at RUST_LOG={level}");
        }
        for object in objects.values() {
            let body = String::from_utf8_lossy(&object.body);
            for secret in SECRETS {
                assert!(!holds(&body, secret), "{secret} written at RUST_LOG={level}");
            }
        }
    }
}

/// Lambda's logging controls (`LoggingConfig`): the format and the level it sets are
/// followed, and the raw-event target stays quiet at TRACE there too.
#[test]
fn lambda_log_format_and_level_are_followed() {
    let rt = moto::runtime();
    let client = rt.block_on(moto::client());
    let bucket = moto::unique_bucket("logcfg");
    rt.block_on(moto::create_bucket(&client, &bucket));

    let (answer, logs) = invoke_with(&[("AWS_LAMBDA_LOG_FORMAT", "Text"), ("AWS_LAMBDA_LOG_LEVEL", "TRACE")], &bucket);
    assert_eq!(answer, serde_json::json!({"batchItemFailures": []}), "{logs}");
    let lines: Vec<&str> = logs.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.iter().any(|l| l.contains("invocation summary")), "{logs}");
    assert!(lines.iter().any(|l| l.contains("TRACE")), "TRACE lines expected: {logs}");
    assert!(
        lines.iter().filter(|l| !l.contains("\"_aws\"")).all(|l| serde_json::from_str::<Value>(l).is_err()),
        "text lines, not JSON: {logs}"
    );
    for secret in SECRETS {
        assert!(!holds(&logs, secret), "{secret} printed at AWS_LAMBDA_LOG_LEVEL=TRACE");
    }

    // The summary line carries the metrics (CloudWatch's embedded metric format) and is
    // written at every level; every other line obeys the level.
    let (_, logs) = invoke_with(&[("AWS_LAMBDA_LOG_LEVEL", "ERROR"), ("RUST_LOG", "debug")], &bucket);
    let others: Vec<&str> = logs.lines().filter(|l| !l.contains("\"_aws\"")).collect();
    assert!(
        others.iter().all(|l| !l.contains("\"DEBUG\"") && !l.contains("\"INFO\"")),
        "Lambda's level wins over RUST_LOG: {logs}"
    );
    assert!(logs.contains("invocation summary"), "{logs}");
}
