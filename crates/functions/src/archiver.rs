//! The archiver's start: its configuration checked once and the S3 client built once, then
//! every stream batch Lambda hands it (`dmd_lambda::Archiver`).

use dmd_lambda::config::Config;
use dmd_lambda::Archiver;
use dmd_s3::S3Sink;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::value::RawValue;

/// Serves invocations until Lambda stops the process.
pub async fn serve() -> anyhow::Result<()> {
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
