//! `recoverer`: the function on the failure queue. Reads and checks the archiver's
//! configuration once, builds the S3 and stream clients once, then recovers each
//! on-failure message it is given and answers with the SQS partial batch response.

use std::process::ExitCode;

use aws_lambda_events::event::sqs::SqsEvent;
use dmd_lambda::config::Config;
use dmd_lambda::logging::LogSettings;
use dmd_lambda::recoverer::RecoverFunction;
use dmd_recover::Streams;
use dmd_s3::S3Sink;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // Before tracing exists, a bad log setting can only be told on standard error.
    match LogSettings::from_env() {
        Ok(logs) => logs.init(),
        Err(e) => {
            eprintln!("recoverer: {e}");
            return ExitCode::FAILURE;
        }
    }
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "recoverer stopped");
            eprintln!("recoverer: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let sink = S3Sink::new(config.s3.clone()).await;
    let streams = Streams::from_env().await;
    let function = RecoverFunction::new(&config, streams, sink)?;
    tracing::info!(bucket = %config.s3.bucket, concurrency = config.concurrency, "recoverer ready");
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| function.invoke(event)))
        .await
        .map_err(|e| anyhow::anyhow!(e))
}
