//! The built `archiver` binary served one batch of deletions by a loopback stand-in for
//! the Lambda runtime API, at every log level from `error` to `trace`: the answer comes
//! back, the files land in moto, and no level prints an item, an image or the raw event
//! (the runtime itself logs raw events at trace; the function filters that target).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::moto;
use crate::util::dmd_bin;

/// The PII of the deleted items below: none of it may reach a log line.
const SECRETS: [&str; 5] =
    ["log.leak@example.com", "+44 7700 900777", "447700900777", "Ana Lopez", "trace.me@example.org"];

/// One REMOVE that archives, one that fails validation (no requestedDate), one whose
/// eventName cannot be read: the data path, the error path and the fallback.
fn deletions() -> String {
    let image = |seq: u32, with_date: bool| {
        let date = if with_date { r#","requestedDate":{"S":"2026-11-19T10:00:00Z"}"# } else { "" };
        format!(
            r#"{{"pk":{{"S":"FAN#f-{seq}"}},"sk":{{"S":"DEMAND#e-1#s-1"}},"eventId":{{"S":"e-1"}},"saleId":{{"S":"s-1"}},
            "fanId":{{"S":"f-{seq}"}}{date},"email":{{"S":"log.leak@example.com"}},"phoneNumber":{{"S":"+44 7700 900777"}},
            "notes":{{"S":"Ana Lopez, call +44 7700 900777 or trace.me@example.org"}}}}"#
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
        r#"{{"Records":[{},{},{}]}}"#,
        record(1, r#""REMOVE""#, true),
        record(2, r#""REMOVE""#, false),
        record(3, "null", true)
    )
}

/// Reads one HTTP/1.1 request: its request line and its body.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((line.trim_end().to_owned(), body))
}

/// Serves `event` once on `listener` as the next invocation and sends the function's
/// answer (the body it posts to `/response` or `/error`) back on `answers`. Later polls
/// for the next invocation are left unanswered until the test ends the process.
fn serve_once(listener: TcpListener, event: String, answers: mpsc::Sender<(String, Vec<u8>)>) {
    std::thread::spawn(move || {
        let mut served = false;
        for stream in listener.incoming().flatten() {
            let answers = answers.clone();
            let first = !served;
            served = true;
            let event = event.clone();
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().expect("clone stream");
                let mut reader = BufReader::new(stream);
                let mut given = !first;
                while let Some((line, body)) = read_request(&mut reader) {
                    if line.contains("/invocation/next") {
                        if given {
                            // Hold the poll open: the test kills the function.
                            std::thread::sleep(Duration::from_secs(60));
                            return;
                        }
                        given = true;
                        let deadline = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .expect("clock")
                            .as_millis()
                            + 30_000;
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                             lambda-runtime-aws-request-id: req-1\r\nlambda-runtime-deadline-ms: {deadline}\r\n\
                             lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:archiver\r\n\r\n",
                            event.len()
                        );
                        let _ = writer.write_all(head.as_bytes());
                        let _ = writer.write_all(event.as_bytes());
                    } else {
                        let _ = writer.write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}");
                        let _ = answers.send((line, body));
                    }
                }
            });
        }
    });
}

/// Runs the archiver on the deletions with the log settings `logs` (and no other);
/// returns its answer and everything it printed.
fn invoke_with(logs: &[(&str, &str)], bucket: &str) -> (Value, String) {
    let level = format!("{logs:?}");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let (tx, rx) = mpsc::channel();
    serve_once(listener, deletions(), tx);
    let mut child = Command::new(dmd_bin().with_file_name("archiver"))
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "archiver")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "test")
        .env("ARCHIVE_BUCKET", bucket)
        .env("AWS_ENDPOINT_URL_S3", moto::endpoint())
        .env_remove("RUST_LOG")
        .env_remove("AWS_LAMBDA_LOG_LEVEL")
        .env_remove("AWS_LAMBDA_LOG_FORMAT")
        .envs(logs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start archiver");
    // Drained while it runs: at trace level it prints more than a pipe holds.
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut text);
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|r| Box::new(r) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|r| Box::new(r) as Box<dyn Read + Send>));
    let started = Instant::now();
    let got = rx.recv_timeout(Duration::from_secs(60));
    // Let the function write its summary, then end it.
    std::thread::sleep(Duration::from_millis(300));
    let _ = child.kill();
    let _ = child.wait();
    let text = |h: std::thread::JoinHandle<Vec<u8>>| String::from_utf8_lossy(&h.join().expect("reader")).into_owned();
    let logs = format!("{}{}", text(stdout), text(stderr));
    let (line, body) = got.unwrap_or_else(|_| panic!("no answer within {:?} at {level}: {logs}", started.elapsed()));
    assert!(line.contains("/invocation/req-1/response"), "{line}: {} {logs}", String::from_utf8_lossy(&body));
    (serde_json::from_slice(&body).expect("JSON answer"), logs)
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
        assert_eq!(String::from_utf8_lossy(&errors[0].1.body).lines().count(), 2, "{level}");
        if level != "error" && level != "warn" {
            assert!(logs.contains("invocation summary"), "{level}: the summary is logged at info: {logs}");
        }
        for secret in SECRETS {
            assert!(!logs.contains(secret), "{secret} printed at RUST_LOG={level}");
        }
        for object in objects.values() {
            let body = String::from_utf8_lossy(&object.body);
            for secret in SECRETS {
                assert!(!body.contains(secret), "{secret} written at RUST_LOG={level}");
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
        assert!(!logs.contains(secret), "{secret} printed at AWS_LAMBDA_LOG_LEVEL=TRACE");
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
