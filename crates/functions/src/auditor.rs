//! The auditor's start: the archive's configuration and the audit's own (`AUDIT_*`)
//! read once, the S3, stream and SQS clients built once, then every request
//! (`dmd_auditor::request`).

use dmd_archive::{Deadline, Pipeline};
use dmd_auditor::queue::SqsShardQueue;
use dmd_auditor::{AuditFunction, AuditSettings, Repair};
use dmd_lambda::config::{function_name, Config};
use dmd_lambda::handler::instant_of_epoch_ms;
use dmd_recover::{sdk_config, Streams};
use dmd_s3::S3Sink;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

/// Serves invocations until Lambda stops the process.
pub async fn serve() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let settings = AuditSettings::from_env()?;
    let sdk = sdk_config().await;
    let repair = match settings.repair {
        true => Some(Repair { pipeline: Pipeline::new(config.settings.clone())?, concurrency: config.concurrency }),
        false => None,
    };
    let queue = SqsShardQueue { client: aws_sdk_sqs::Client::new(&sdk), url: settings.queue_url.clone() };
    tracing::info!(
        bucket = %config.s3.bucket,
        stream = %settings.stream.arn,
        window_minutes = settings.window.as_secs() / 60,
        repair = settings.repair,
        "auditor ready"
    );
    let function = AuditFunction {
        manifest_prefix: config.settings.manifest_prefix.clone(),
        streams: Streams::new(&sdk),
        store: S3Sink::new(config.s3.clone()).await,
        queue,
        repair,
        function_name: function_name("auditor"),
        settings,
    };
    let (function, margin) = (&function, config.deadline_margin);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = Deadline { at: instant_of_epoch_ms(event.context.deadline), margin };
        // Boxed: the audit's future is too deep for the runtime's own to nest.
        Box::pin(function.handle(&event.payload, chrono::Utc::now(), Some(deadline)))
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
    .map_err(|e| anyhow::anyhow!(e))
}
