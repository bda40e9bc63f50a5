//! The `archiver` binary in the real Lambda runtime loop: `cargo lambda watch` serves it
//! (writing to moto), `cargo lambda invoke` sends it the sample events; the answers, the
//! objects in S3 and the function's log lines are checked. And the binary refuses to start
//! on an invalid configuration, naming the variable.

use std::io::Read;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::moto;
use crate::util::{self, dmd_bin};

/// The `archiver` binary built beside `dmd`.
fn archiver_bin() -> PathBuf {
    let p = dmd_bin().with_file_name("archiver");
    assert!(p.exists(), "{} is missing: build it first (`make bins`)", p.display());
    p
}

/// `cargo-lambda` of the project's virtualenv.
fn cargo_lambda() -> PathBuf {
    let p = util::python().with_file_name("cargo-lambda");
    assert!(p.exists(), "{} is missing: install it with `make venv` (tests/py/requirements.txt)", p.display());
    p
}

/// Runs `cmd`, killing it after `limit`.
fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "{cmd:?} did not finish within {limit:?}; stdout: {}; stderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn archiver_refuses_to_start_on_an_invalid_configuration_naming_the_variable() {
    for (env, var) in [
        (vec![], "ARCHIVE_BUCKET"),
        (vec![("ARCHIVE_BUCKET", "Bad_Bucket")], "ARCHIVE_BUCKET"),
        (vec![("ARCHIVE_BUCKET", "dmd-archive"), ("RUST_LOG", "dmd=loudest")], "RUST_LOG"),
        (vec![("ARCHIVE_BUCKET", "dmd-archive"), ("AVRO_CODEC", "gzip")], "AVRO_CODEC"),
        (vec![("ARCHIVE_BUCKET", "dmd-archive"), ("S3_ATTEMPT_TIMEOUT_MS", "soon")], "S3_ATTEMPT_TIMEOUT_MS"),
        (vec![("ARCHIVE_BUCKET", "dmd-archive"), ("DEADLINE_MARGIN_MS", "-1")], "DEADLINE_MARGIN_MS"),
    ] {
        let mut cmd = Command::new(archiver_bin());
        cmd.env_remove("ARCHIVE_BUCKET").env_remove("RUST_LOG").env_remove("AWS_LAMBDA_RUNTIME_API").envs(env.clone());
        let out = output_within(&mut cmd, Duration::from_secs(30));
        assert!(!out.status.success(), "{env:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("invalid {var}")), "{env:?}: {stderr}");
    }
}

/// A `cargo lambda watch` serving `archiver`, stopped (with the function) when dropped.
struct Watch {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Watch {
    fn start(bucket: &str) -> Watch {
        let port = free_port();
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("watch.log");
        let file = std::fs::File::create(&log).expect("log file");
        let venv_bin = cargo_lambda().parent().expect("bin").to_path_buf();
        let path = format!("{}:{}", venv_bin.display(), std::env::var("PATH").unwrap_or_default());
        // The functions' local environment (crates/functions/Cargo.toml) names the bucket and
        // the moto of `make watch`. cargo-lambda lets it win over this environment and over
        // `--env-var`; its own CARGO_LAMBDA_WATCH.ENV_VAR wins over it.
        let env = format!(
            "[ARCHIVE_BUCKET={bucket},AWS_ENDPOINT_URL_S3={},RUST_LOG=info,S3_MAX_ATTEMPTS=2]",
            moto::endpoint()
        );
        let mut cmd = Command::new(cargo_lambda());
        cmd.args([
            "lambda",
            "watch",
            "--package",
            "dmd-functions",
            "--bin",
            "archiver",
            "--invoke-address",
            "127.0.0.1",
        ])
        .args(["--invoke-port", &port.to_string()])
        .current_dir(util::root())
        .env("PATH", path)
        .env("CARGO_LAMBDA_WATCH.ENV_VAR", env)
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("log"))
        .stderr(file);
        // Its own process group, so that stopping it stops cargo and the function too.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().expect("spawn cargo lambda watch");
        let watch = Watch { child, port, log, _dir: dir };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(60), "cargo lambda watch did not listen: {}", watch.logs());
            std::thread::sleep(Duration::from_millis(100));
        }
        watch
    }

    /// `cargo lambda invoke archiver --data-file EVENT`: its exit status and output.
    fn invoke(&self, event: &str) -> Output {
        let mut cmd = Command::new(cargo_lambda());
        cmd.args(["lambda", "invoke", "archiver", "--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &self.port.to_string(), "--output-format", "json", "--data-file"])
            .arg(util::event(event));
        // The first invocation builds the function (cargo finds it up to date after `make bins`).
        output_within(&mut cmd, Duration::from_secs(900))
    }

    fn logs(&self) -> String {
        let mut s = String::new();
        std::fs::File::open(&self.log).and_then(|mut f| f.read_to_string(&mut s)).expect("read log");
        s
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn answer(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "invoke failed ({}): {} {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn cargo_lambda_watch_serves_the_archiver_in_the_lambda_runtime_loop() {
    let rt = moto::runtime();
    let client = rt.block_on(moto::client());
    let bucket = moto::unique_bucket("watch");
    rt.block_on(moto::create_bucket(&client, &bucket));
    let watch = Watch::start(&bucket);

    let a = answer(&watch.invoke("dynamodb-batch.json"));
    assert_eq!(a, serde_json::json!({"batchItemFailures": []}), "{}", watch.logs());
    let objects = rt.block_on(moto::objects(&client, &bucket));
    assert_eq!(moto::partitions(&objects), crate::s3::batch_partitions());

    // Records that fail validation go to the error file; the answer stays empty.
    let a = answer(&watch.invoke("bad-records.json"));
    assert_eq!(a, serde_json::json!({"batchItemFailures": []}));
    let objects = rt.block_on(moto::objects(&client, &bucket));
    let errors: Vec<&String> = objects.keys().filter(|k| k.starts_with("errors/")).collect();
    assert_eq!(errors.len(), 1, "{:?}", objects.keys());
    assert_eq!(String::from_utf8_lossy(&objects[errors[0]].body).lines().count(), 8);

    let a = answer(&watch.invoke("kinesis-batch.json"));
    assert_eq!(a, serde_json::json!({"batchItemFailures": []}));
    let a = answer(&watch.invoke("dynamodb-remove.json"));
    assert_eq!(a, serde_json::json!({"batchItemFailures": []}));

    // A payload that is not a stream event fails the invocation, with the reason.
    let out = watch.invoke("not-a-stream-event.json");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("not a stream event"), "{text}");

    // One summary line per invocation, as an EMF document; no item contents in the log.
    let logs = watch.logs();
    let summaries: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["message"] == "invocation summary")
        .collect();
    assert_eq!(summaries.len(), 4, "{logs}");
    let first = &summaries[0];
    assert_eq!(first["records"], 12);
    assert_eq!(first["ArchivedRecords"], 12);
    assert_eq!(first["FilesWritten"], 8);
    assert!(first["_aws"]["CloudWatchMetrics"][0]["Metrics"].is_array(), "{first}");
    assert!(first["OldestChangeAge"].as_i64().is_some_and(|a| a > 0), "{first}");
    assert_eq!(summaries[1]["errors"], 8);
    for pii in ["555 010 4477", "555-0173", "ana.lopez@example.com", "@example.com"] {
        assert!(!logs.contains(pii), "{pii} in the function's log");
    }
}
