//! The recoverer's start: the archiver's configuration checked once, the S3 and stream
//! clients built once, then every message of the failure queue recovered and answered with
//! the SQS partial batch response (`dmd_lambda::recoverer`).

use aws_lambda_events::event::sqs::SqsEvent;
use dmd_lambda::config::Config;
use dmd_lambda::recoverer::RecoverFunction;
use dmd_recover::Streams;
use dmd_s3::S3Sink;
use lambda_runtime::{service_fn, LambdaEvent};

/// Serves invocations until Lambda stops the process.
pub async fn serve() -> anyhow::Result<()> {
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
