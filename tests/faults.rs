//! S3 faults injected at the HTTP level (the proxy in front of moto) against the Lambda's
//! own handler and S3 sink: the exact `batchItemFailures` of each, how many attempts
//! each took, that transient faults are retried until they pass, that permanent ones are
//! not retried, that a rerun overwrites its own keys, and that the deadline is kept.
//! docs/s3.md has the outcome table these tests check.

use std::time::{Duration, Instant};

use dmd_archive::BatchResponse;
use dmd_lambda::{Archiver, Config, HandlerError, Outcome};
use dmd_s3::{S3Options, S3Sink};
use serde_json::Value;

use crate::moto;
use crate::proxy::{Fault, Proxy, Rule};
use crate::util::{self, dmd, json_lines};

/// The file of `dynamodb-batch.json` that the faults hit: records #3, #6 and #12.
const DEMAND_19: &str = "data/demand/dt=2026-11-19/";
const DEMAND_19_RECORDS: [&str; 3] = ["111100000000005000300", "111100000000005000600", "111100000000005001200"];

/// A bucket in moto, a proxy in front of it, and the function writing through the proxy.
struct Setup {
    archiver: Archiver<S3Sink>,
    client: aws_sdk_s3::Client,
    bucket: String,
    proxy: Proxy,
    /// Last, so that the clients are gone before their runtime.
    rt: tokio::runtime::Runtime,
}

impl Setup {
    fn new(rules: Vec<Rule>) -> Setup {
        Setup::with(rules, |o| o, |c| c)
    }

    fn with(
        rules: Vec<Rule>,
        options: impl FnOnce(S3Options) -> S3Options,
        config: impl FnOnce(Config) -> Config,
    ) -> Setup {
        let rt = moto::runtime();
        let client = rt.block_on(moto::client());
        let bucket = moto::unique_bucket("faults");
        rt.block_on(moto::create_bucket(&client, &bucket));
        let proxy = Proxy::start(moto::moto_addr(), rules);
        let sink = rt.block_on(S3Sink::new(options(moto::options(&bucket, &proxy.endpoint()))));
        let config = config(crate::s3::config(&bucket));
        let archiver = Archiver::new(&config, sink).expect("archiver");
        Setup { archiver, client, bucket, proxy, rt }
    }

    fn run(&self, event: &str, deadline: Option<Instant>) -> Result<Outcome, HandlerError> {
        let payload = std::fs::read(util::event(event)).expect("event");
        self.rt.block_on(self.archiver.handle(&payload, deadline, "req-fault"))
    }

    fn batch(&self) -> Outcome {
        self.run("dynamodb-batch.json", None).expect("handled")
    }

    /// The data and error files in the bucket.
    fn keys(&self) -> Vec<String> {
        self.rt
            .block_on(moto::keys(&self.client, &self.bucket))
            .into_iter()
            .filter(|k| !k.starts_with("manifests/"))
            .collect()
    }

    /// The manifests in the bucket.
    fn manifests(&self) -> Vec<Value> {
        let objects = self.rt.block_on(moto::objects(&self.client, &self.bucket));
        objects
            .iter()
            .filter(|(k, _)| k.starts_with("manifests/"))
            .map(|(_, o)| serde_json::from_slice(&o.body).expect("manifest JSON"))
            .collect()
    }
}

fn identifiers(answer: &BatchResponse) -> Vec<&str> {
    answer.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect()
}

/// The keys a clean run of `dynamodb-batch.json` writes.
fn clean_keys() -> Vec<String> {
    let s = Setup::new(vec![]);
    assert!(s.batch().answer.batch_item_failures.is_empty());
    s.keys()
}

/// Asserts that a fault on every attempt at the demand file fails exactly its records
/// after `attempts` tries, with the other 7 files written.
fn assert_fails(s: &Setup, o: &Outcome, attempts: usize, transient: bool, message: &str) {
    assert_eq!(identifiers(&o.answer), DEMAND_19_RECORDS, "{:?}", o.report.failures);
    assert_eq!(s.proxy.puts(DEMAND_19), attempts, "attempts at the demand file");
    assert!(s.proxy.seen().iter().filter(|r| r.path.contains(DEMAND_19)).all(|r| r.fault.is_some()));
    assert_eq!(o.report.failures.len(), 1);
    let f = &o.report.failures[0];
    assert!(f.key.starts_with(DEMAND_19), "{f:?}");
    assert_eq!(f.records, 3);
    assert_eq!(f.transient, transient, "{f:?}");
    assert!(f.error.contains(message), "{}", f.error);
    assert_eq!(o.report.summary.files.len(), 7);
    assert_eq!(o.report.summary.retry, 3);
    assert_eq!(o.report.archived(), 9);
    let keys = s.keys();
    assert_eq!(keys.len(), 7);
    assert!(keys.iter().all(|k| !k.starts_with(DEMAND_19)), "{keys:?}");
    // The manifest names the 7 files and the records left to retry.
    let manifests = s.manifests();
    assert_eq!(manifests.len(), 1);
    assert_eq!(manifests[0]["files"].as_array().expect("files").len(), 7);
    assert_eq!(manifests[0]["retry"], serde_json::json!(DEMAND_19_RECORDS));
}

/// Asserts that the fault went away after `attempts` tries and everything was written.
fn assert_recovers(s: &Setup, o: &Outcome, attempts: usize) {
    assert!(o.answer.batch_item_failures.is_empty(), "{:?}", o.report.failures);
    assert_eq!(s.proxy.puts(DEMAND_19), attempts, "attempts at the demand file");
    assert_eq!(o.report.summary.files.len(), 8);
    assert_eq!(s.keys(), clean_keys());
}

#[test]
fn internal_error_on_every_attempt_fails_the_files_records_after_3_attempts() {
    let s = Setup::new(vec![Rule::always(DEMAND_19, Fault::InternalError)]);
    let o = s.batch();
    assert_fails(&s, &o, 3, true, "InternalError");
}

#[test]
fn internal_error_on_2_attempts_is_retried_and_written() {
    let s = Setup::new(vec![Rule::first(2, DEMAND_19, Fault::InternalError)]);
    let o = s.batch();
    assert_recovers(&s, &o, 3);
}

#[test]
fn slow_down_on_every_attempt_fails_the_files_records_after_3_attempts() {
    let s = Setup::new(vec![Rule::always(DEMAND_19, Fault::SlowDown)]);
    let o = s.batch();
    assert_fails(&s, &o, 3, true, "SlowDown");
}

#[test]
fn slow_down_once_is_retried_and_written() {
    let s = Setup::new(vec![Rule::first(1, DEMAND_19, Fault::SlowDown)]);
    let o = s.batch();
    assert_recovers(&s, &o, 2);
}

#[test]
fn connection_reset_on_every_attempt_fails_the_files_records_after_3_attempts() {
    let s = Setup::new(vec![Rule::always(DEMAND_19, Fault::Reset)]);
    let o = s.batch();
    assert_fails(&s, &o, 3, true, "transient error");
}

#[test]
fn connection_reset_on_2_attempts_is_retried_and_written() {
    let s = Setup::new(vec![Rule::first(2, DEMAND_19, Fault::Reset)]);
    let o = s.batch();
    assert_recovers(&s, &o, 3);
}

#[test]
fn a_stalled_response_on_every_attempt_times_out_3_times_and_fails_the_files_records() {
    let s = Setup::new(vec![Rule::always(DEMAND_19, Fault::Stall(Duration::from_secs(3)))]);
    let started = Instant::now();
    let o = s.batch();
    assert_fails(&s, &o, 3, true, "timeout");
    // Three attempts of 1 s each, plus short backoffs: the attempt timeout is kept.
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn a_stalled_response_once_times_out_and_is_retried_and_written() {
    let s = Setup::new(vec![Rule::first(1, DEMAND_19, Fault::Stall(Duration::from_secs(3)))]);
    let o = s.batch();
    assert_recovers(&s, &o, 2);
}

#[test]
fn access_denied_is_permanent_and_tried_once() {
    let s = Setup::new(vec![Rule::always(DEMAND_19, Fault::AccessDenied)]);
    let o = s.batch();
    assert_fails(&s, &o, 1, false, "AccessDenied");
    assert!(o.report.failures[0].error.starts_with("permanent error (HTTP 403)"), "{}", o.report.failures[0].error);
}

#[test]
fn a_failed_error_file_reports_the_failed_records() {
    let s = Setup::new(vec![Rule::always("errors/", Fault::AccessDenied)]);
    let o = s.run("bad-records.json", None).expect("handled");
    // Records #2 to #9 went to the error file; #1 and #10 to data files.
    let want: Vec<String> = (2..=9).map(|i| format!("111100000000007000{i}00")).collect();
    assert_eq!(identifiers(&o.answer), want);
    assert_eq!(s.proxy.puts("errors/"), 1);
    assert_eq!(o.report.summary.errors, 0, "no record counted as written to the error file");
    assert_eq!(o.report.archived(), 2);
    let keys = s.keys();
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().all(|k| k.starts_with("data/")), "{keys:?}");
}

#[test]
fn rerunning_a_failed_batch_overwrites_its_own_keys() {
    let s = Setup::new(vec![Rule::always(DEMAND_19, Fault::InternalError)]);
    let first = s.batch();
    assert_eq!(identifiers(&first.answer), DEMAND_19_RECORDS);
    let partial = s.keys();
    s.proxy.set_rules(vec![]);
    let second = s.batch();
    assert!(second.answer.batch_item_failures.is_empty());
    let keys = s.keys();
    assert_eq!(keys, clean_keys(), "the same keys as a clean run, nothing added");
    assert!(partial.iter().all(|k| keys.contains(k)));
    assert_eq!(second.report.summary.files, keys, "the rerun rewrote every key, the 7 old ones included");
    assert_eq!(moto::partitions(&s.rt.block_on(moto::objects(&s.client, &s.bucket))), crate::s3::batch_partitions());
}

#[test]
fn no_write_starts_inside_the_deadline_margin() {
    let s = Setup::new(vec![]);
    // 1 s left, less than the 2 s margin: no file may start. The manifest may (until
    // 0.5 s before the deadline): it names no file and every record as retried.
    let o = s.run("dynamodb-batch.json", Some(Instant::now() + Duration::from_secs(1))).expect("handled");
    assert_eq!(o.answer.batch_item_failures.len(), 12);
    let seen = s.proxy.seen();
    assert!(seen.len() == 1 && seen[0].path.contains("/manifests/"), "{seen:?}");
    assert!(s.keys().is_empty());
    assert!(
        o.report.failures.iter().all(|f| f.transient && f.error.contains("not started")),
        "{:?}",
        o.report.failures
    );
    let manifests = s.manifests();
    assert_eq!(manifests[0]["files"], serde_json::json!([]));
    assert_eq!(manifests[0]["retry"].as_array().expect("retry").len(), 12);
    assert_eq!(manifests[0]["records"], 12);
}

#[test]
fn a_write_still_running_at_the_deadline_is_abandoned_and_reported() {
    let s = Setup::with(
        vec![Rule::always(DEMAND_19, Fault::Stall(Duration::from_secs(30)))],
        |o| S3Options { attempt_timeout: Duration::from_secs(20), operation_timeout: Duration::from_secs(60), ..o },
        |c| c,
    );
    let started = Instant::now();
    let deadline = started + Duration::from_secs(3);
    let o = s.run("dynamodb-batch.json", Some(deadline)).expect("handled");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "answered after {took:?}, past the deadline");
    // Files are abandoned 1.5 s before the deadline: 0.5 s for the answer, 1 s for the
    // manifest, which is written.
    assert!(took >= Duration::from_millis(1400), "abandoned too early: {took:?}");
    assert_eq!(identifiers(&o.answer), DEMAND_19_RECORDS);
    assert_eq!(s.manifests()[0]["retry"], serde_json::json!(DEMAND_19_RECORDS));
    assert_eq!(o.report.summary.files.len(), 7);
    assert!(o.report.failures[0].error.contains("abandoned"), "{:?}", o.report.failures);
}

#[test]
fn dmd_archive_to_a_bucket_reports_a_refused_file_and_exits_1() {
    let rt = moto::runtime();
    let client = rt.block_on(moto::client());
    let bucket = moto::unique_bucket("cli-fault");
    rt.block_on(moto::create_bucket(&client, &bucket));
    let proxy = Proxy::start(moto::moto_addr(), vec![Rule::always(DEMAND_19, Fault::AccessDenied)]);
    let event = util::event("dynamodb-batch.json");
    let out = dmd(
        &["archive", "--bucket", &bucket, &event.display().to_string()],
        &[("AWS_ENDPOINT_URL_S3", &proxy.endpoint())],
    );
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("AccessDenied"), "{stderr}");
    let lines = json_lines(&out.stdout);
    let ids: Vec<&str> = lines[0]["batchItemFailures"]
        .as_array()
        .expect("failures")
        .iter()
        .map(|f| f["itemIdentifier"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, DEMAND_19_RECORDS);
    assert_eq!(proxy.puts(DEMAND_19), 1);
    let keys = rt.block_on(moto::keys(&client, &bucket));
    assert_eq!(keys.iter().filter(|k| !k.starts_with("manifests/")).count(), 7);
    assert_eq!(keys.iter().filter(|k| k.starts_with("manifests/")).count(), 1, "{keys:?}");
}
