//! `archiver`: the dmd-pipeline Lambda function. Reads and checks its configuration once,
//! builds the S3 client once, then serves invocations until Lambda stops it.

use std::process::ExitCode;

use dmd_lambda::config::Config;
use dmd_lambda::logging::LogSettings;
use dmd_lambda::Archiver;
use dmd_s3::S3Sink;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // Before tracing exists, a bad log setting can only be told on standard error.
    match LogSettings::from_env() {
        Ok(logs) => logs.init(),
        Err(e) => {
            eprintln!("archiver: {e}");
            return ExitCode::FAILURE;
        }
    }
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "archiver stopped");
            eprintln!("archiver: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let sink = S3Sink::new(config.s3.clone()).await;
    let archiver = Archiver::new(&config, sink)?;
    tracing::info!(
        bucket = %config.s3.bucket,
        endpoint = config.s3.endpoint_url.as_deref().unwrap_or("AWS"),
        concurrency = config.concurrency,
        "archiver ready"
    );
    let archiver = &archiver;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| archiver.invoke(event)))
        .await
        .map_err(|e| anyhow::anyhow!(e))
}
