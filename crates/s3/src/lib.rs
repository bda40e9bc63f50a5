//! The S3 output of dmd-pipeline: the only code that talks to S3. [`S3Sink`] is an
//! [`ObjectSink`] over one aws-sdk-s3 client, built once per process with deliberate
//! retry, timeout and checksum settings ([`S3Options`]); [`classify`] decides what is
//! worth another try. The same type reads the archive back (`ObjectStore`).
//!
//! ```no_run
//! use dmd_archive::{Limits, Pipeline, SystemClock};
//! use dmd_s3::{S3Options, S3Sink};
//! # async fn run() -> anyhow::Result<()> {
//! let sink = S3Sink::new(S3Options::from_env("dmd-archive")?).await;
//! let pipeline = Pipeline::new(dmd_archive::Settings::from_env()?)?;
//! let payload = std::fs::read("events/dynamodb-batch.json")?;
//! let outcome = pipeline.run(&payload, &SystemClock, &sink, Limits::default()).await?;
//! # Ok(()) }
//! ```

pub mod classify;
mod options;
mod reach;
mod retire;
mod store;

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ChecksumAlgorithm;
use aws_sdk_s3::Client;
use aws_smithy_types::error::display::DisplayErrorContext;
use bytes::Bytes;
use dmd_archive::sink::{ObjectSink, SinkError};

pub use classify::{classify, Failure, Transport, Verdict};
pub use options::S3Options;
pub use reach::Unusable;

/// The checksum sent with every object. S3 recomputes it from the bytes it received and
/// refuses the object when they differ, and keeps it for readers to verify against.
/// See <https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>.
pub const CHECKSUM: ChecksumAlgorithm = ChecksumAlgorithm::Crc32;

/// Writes objects to one bucket. Cheap to clone: clones share the client and its
/// connection pool.
#[derive(Debug, Clone)]
pub struct S3Sink {
    client: Client,
    bucket: String,
}

impl S3Sink {
    /// Builds the client from the standard AWS configuration chain (region and
    /// credentials from the environment, the shared files or the Lambda role) with the
    /// options' endpoint, addressing, retries and timeouts.
    pub async fn new(options: S3Options) -> S3Sink {
        let client = client(&options).await;
        S3Sink { client, bucket: options.bucket }
    }

    /// A sink over an existing client (which should come from [`client`]).
    pub fn with_client(client: Client, bucket: impl Into<String>) -> S3Sink {
        S3Sink { client, bucket: bucket.into() }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// The S3 client for `options`. The retry decisions are [`classify`]'s; the timeouts
/// bound each attempt and each object so that a stalled connection cannot eat the
/// invocation's time.
pub async fn client(options: &S3Options) -> Client {
    let retry = RetryConfig::standard()
        .with_max_attempts(options.max_attempts)
        .with_initial_backoff(options.initial_backoff)
        .with_max_backoff(options.max_backoff);
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(options.connect_timeout)
        .operation_attempt_timeout(options.attempt_timeout)
        .operation_timeout(options.operation_timeout)
        .build();
    let shared = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let mut config = aws_sdk_s3::config::Builder::from(&shared)
        .retry_config(retry)
        .timeout_config(timeouts)
        .force_path_style(options.force_path_style)
        .retry_classifier(classify::S3RetryClassifier);
    if let Some(url) = &options.endpoint_url {
        config = config.endpoint_url(url);
    }
    Client::from_conf(config.build())
}

impl ObjectSink for S3Sink {
    async fn put(&self, key: &str, body: Bytes, content_type: &'static str) -> Result<(), SinkError> {
        let length = i64::try_from(body.len()).unwrap_or(i64::MAX);
        let result = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .checksum_algorithm(CHECKSUM)
            .body(ByteStream::from(body))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                let failure = classify::failure_of(&e);
                let verdict = classify(failure);
                let status = failure.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
                Err(SinkError {
                    key: key.to_owned(),
                    message: format!(
                        "{} error{status}: {}",
                        if verdict.is_transient() { "transient" } else { "permanent" },
                        DisplayErrorContext(&e)
                    ),
                    transient: verdict.is_transient(),
                })
            }
        }
    }
}
