//! The recoverer's start: the archiver's configuration (and `FAILED_BATCH_BUCKET`, the S3
//! on-failure destination, when set) checked once, the S3 and stream clients built once,
//! then every message of the failure queue recovered and answered with the SQS partial
//! batch response (`dmd_lambda::recoverer`).

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
    let mut function = RecoverFunction::new(&config, streams, sink.clone())?;
    // The S3 on-failure destination's bucket, when the stack has one: its failure
    // records hold their batch, and are read with the archive's client.
    let failures = std::env::var("FAILED_BATCH_BUCKET").ok().filter(|b| !b.trim().is_empty());
    if let Some(bucket) = &failures {
        dmd_archive::config::check_bucket("FAILED_BATCH_BUCKET", bucket.trim())?;
        let store = S3Sink::with_client(sink.client().clone(), bucket.trim());
        function = function.with_failure_records(bucket.trim().to_owned(), store);
    }
    tracing::info!(
        bucket = %config.s3.bucket,
        failure_bucket = failures.as_deref().unwrap_or("none"),
        concurrency = config.concurrency,
        "recoverer ready"
    );
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| function.invoke(event)))
        .await
        .map_err(|e| anyhow::anyhow!(e))
}
