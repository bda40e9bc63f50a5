//! The compactor's start: the archive's configuration and `COMPACT_QUEUE_URL` read once,
//! the S3 and SQS clients built once, then every request (`dmd_compactor::event`).

use anyhow::Context;
use dmd_compact::PartLimits;
use dmd_compactor::queue::SqsQueue;
use dmd_compactor::CompactFunction;
use dmd_lambda::config::{function_name, Config};
use dmd_s3::S3Sink;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

/// Serves invocations until Lambda stops the process.
pub async fn serve() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let url = std::env::var("COMPACT_QUEUE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .context("invalid COMPACT_QUEUE_URL: is required: the queue of partitions to compact")?;
    let lookback = match std::env::var("COMPACT_LOOKBACK_MINUTES").ok().filter(|v| !v.trim().is_empty()) {
        Some(v) => dmd_archive::config::number::<u32>("COMPACT_LOOKBACK_MINUTES", v.trim(), 1, 10_080)?,
        None => 180,
    };
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let queue = SqsQueue { client: aws_sdk_sqs::Client::new(&sdk), url };
    let store = S3Sink::new(config.s3.clone()).await;
    let function = CompactFunction {
        settings: config.settings.clone(),
        store,
        queue,
        limits: PartLimits::default(),
        function_name: function_name("compactor"),
        lookback: chrono::Duration::minutes(lookback.into()),
    };
    tracing::info!(bucket = %config.s3.bucket, "compactor ready");
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // Boxed: the compaction's future is too deep for the runtime's own to nest.
        Box::pin(function.handle(&event.payload, chrono::Utc::now())).await.map_err(lambda_runtime::Error::from)
    }))
    .await
    .map_err(|e| anyhow::anyhow!(e))
}
