//! One executable for every function: `sam build` gives the archiver, the recoverer, the
//! compactor and the auditor the same `bootstrap`, and `DMD_FUNCTION` (unset: the archiver) decides
//! which function one start of it serves.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::bootstrap::bootstrap;
use crate::runtime_api::{AnswerKind, Function};

/// Starts the bootstrap outside the runtime API's reach with `vars` and returns its exit
/// status and standard error, once it has stopped.
fn start_alone(vars: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(bootstrap())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // Nothing listens there: a function that got as far as polling would fail too, but
        // with another message.
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("AWS_LAMBDA_FUNCTION_NAME", "functions-test")
        .env("AWS_REGION", "eu-west-1")
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the bootstrap");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the bootstrap did not stop within 20 s: {vars:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr).expect("stderr");
    (status, stderr)
}

#[test]
fn sam_build_gives_every_function_the_one_build() {
    // `.aws-sam/build/<folder>/bootstrap`, and beside the folder the built template, whose
    // `CodeUri`s say which folder each function deploys.
    // Canonical: `ArchiverFunction` is a link to the shared folder (mk/deploy.mk).
    let bootstrap = std::fs::canonicalize(bootstrap()).expect("the bootstrap's path");
    let folder = bootstrap.parent().expect("the build's folder");
    let name = folder.file_name().and_then(|n| n.to_str()).expect("a folder name");
    let built = folder.parent().expect("the build folder").join("template.yaml");
    let template = std::fs::read_to_string(&built).unwrap_or_else(|e| panic!("{}: {e}", built.display()));
    let code: Vec<&str> = template
        .lines()
        .filter_map(|l| l.trim().strip_prefix("CodeUri:"))
        .map(|v| v.trim().trim_matches('"'))
        .collect();
    assert_eq!(code.len(), 4, "one CodeUri per function (archiver, recoverer, compactor, auditor): {code:?}");
    assert!(code.iter().all(|c| *c == name), "every function deploys {name}, the one build: {code:?}");
}

#[test]
fn a_function_that_dmd_pipeline_does_not_have_stops_the_start_and_is_named() {
    for role in ["auditorx", "archive", "archiver,recoverer"] {
        let (status, stderr) = start_alone(&[("DMD_FUNCTION", role), ("ARCHIVE_BUCKET", "dmd-archive")]);
        assert!(!status.success(), "{role}: {stderr}");
        assert!(stderr.contains(&format!("invalid DMD_FUNCTION: {role:?}")), "{role}: {stderr}");
        assert!(stderr.contains("archiver, recoverer, compactor or auditor"), "{role}: {stderr}");
    }
}

#[test]
fn dmd_function_compactor_reads_the_compactors_configuration() {
    let (status, stderr) = start_alone(&[("DMD_FUNCTION", "compactor"), ("ARCHIVE_BUCKET", "dmd-archive")]);
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("compactor: invalid COMPACT_QUEUE_URL"), "{stderr}");
    // The archiver and the recoverer need no queue: the same start gets further.
    let (_, stderr) = start_alone(&[("DMD_FUNCTION", "recoverer"), ("ARCHIVE_BUCKET", "dmd-archive")]);
    assert!(!stderr.contains("COMPACT_QUEUE_URL"), "{stderr}");
    // The auditor needs its stream and its queue, each named when it is missing or wrong.
    let (status, stderr) = start_alone(&[("DMD_FUNCTION", "auditor"), ("ARCHIVE_BUCKET", "dmd-archive")]);
    assert!(!status.success() && stderr.contains("auditor: invalid AUDIT_STREAM_ARN: is required"), "{stderr}");
    let arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/demand";
    let (status, stderr) = start_alone(&[
        ("DMD_FUNCTION", "auditor"),
        ("ARCHIVE_BUCKET", "dmd-archive"),
        ("AUDIT_STREAM_ARN", arn),
        ("AUDIT_QUEUE_URL", "http://127.0.0.1:5055/123456789012/audit.fifo"),
        ("AUDIT_WINDOW_MINUTES", "0"),
    ]);
    assert!(!status.success() && stderr.contains("auditor: invalid AUDIT_WINDOW_MINUTES"), "{stderr}");
}

/// An SQS event with one message that is not a Lambda on-failure record.
fn queue_event() -> Vec<u8> {
    serde_json::to_vec(&json!({"Records": [{
        "messageId": "m-1",
        "receiptHandle": "r-1",
        "body": "{\"not\": \"an on-failure record\"}",
        "attributes": {},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:failed-batches",
        "awsRegion": "eu-west-1"
    }]}))
    .expect("JSON")
}

#[test]
fn the_same_bootstrap_is_the_recoverer_or_the_archiver_as_dmd_function_says() {
    let env = [("ARCHIVE_BUCKET", "dmd-archive"), ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")];
    // The recoverer answers for the message it could not recover...
    let served =
        Function::new(&bootstrap(), "recoverer").envs(&env).env("DMD_FUNCTION", "recoverer").serve(&[queue_event()]);
    let answer = served.answers[0].response();
    assert_eq!(answer, json!({"batchItemFailures": [{"itemIdentifier": "m-1"}]}), "{}", served.logs);
    // ...and the archiver, unset or named, refuses the queue's event as no stream event.
    for role in [None, Some("archiver")] {
        let function = Function::new(&bootstrap(), "archiver").envs(&env);
        let function = match role {
            Some(role) => function.env("DMD_FUNCTION", role),
            None => function,
        };
        let served = function.serve(&[queue_event()]);
        let refused = &served.answers[0];
        assert_eq!(refused.kind, AnswerKind::Error, "{role:?}: {}", served.logs);
        assert!(served.logs.contains("refused the payload: not a stream event"), "{role:?}: {}", served.logs);
        assert!(served.logs.contains("archiver ready") && !served.logs.contains("recoverer"), "{}", served.logs);
    }
}
