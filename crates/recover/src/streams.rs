//! The two sources' clients, built once from the standard AWS configuration (region,
//! credentials, `AWS_ENDPOINT_URL`), and the reader that picks one by the message's kind.
//! A stream in another region than the configuration's is read in its own region.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use dmd_archive::envelope::Source;

use crate::message::BatchInfo;
use crate::range::{RangeRead, ReadError, StreamReader};
use crate::{dynamodb, kinesis};

/// Tries per call. The function's own event source mapping reads the same shard, and
/// both shares of a shard's read limit (5 calls a second) are retried as throttling.
pub const MAX_ATTEMPTS: u32 = 6;

/// DynamoDB Streams and Kinesis clients.
#[derive(Debug, Clone)]
pub struct Streams {
    pub(crate) dynamodb: aws_sdk_dynamodbstreams::Client,
    pub(crate) kinesis: aws_sdk_kinesis::Client,
}

impl Streams {
    pub fn new(config: &SdkConfig) -> Streams {
        Streams {
            dynamodb: aws_sdk_dynamodbstreams::Client::new(config),
            kinesis: aws_sdk_kinesis::Client::new(config),
        }
    }

    /// The clients of the standard configuration chain, with retries fit for a shard that
    /// the function reads at the same time.
    pub async fn from_env() -> Streams {
        Streams::new(&sdk_config().await)
    }

    pub(crate) fn dynamodb_in(&self, region: &str) -> aws_sdk_dynamodbstreams::Client {
        if self.dynamodb.config().region().is_some_and(|r| r.as_ref() == region) {
            return self.dynamodb.clone();
        }
        let conf =
            self.dynamodb.config().to_builder().region(aws_sdk_dynamodbstreams::config::Region::new(region.to_owned()));
        aws_sdk_dynamodbstreams::Client::from_conf(conf.build())
    }

    pub(crate) fn kinesis_in(&self, region: &str) -> aws_sdk_kinesis::Client {
        if self.kinesis.config().region().is_some_and(|r| r.as_ref() == region) {
            return self.kinesis.clone();
        }
        let conf = self.kinesis.config().to_builder().region(aws_sdk_kinesis::config::Region::new(region.to_owned()));
        aws_sdk_kinesis::Client::from_conf(conf.build())
    }
}

/// The standard AWS configuration, with more tries and a longer backoff than the
/// default: a throttled read is worth waiting for.
pub async fn sdk_config() -> SdkConfig {
    let retry = RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS).with_max_backoff(Duration::from_secs(5));
    aws_config::defaults(BehaviorVersion::latest()).retry_config(retry).load().await
}

impl StreamReader for Streams {
    async fn read(&self, batch: &BatchInfo) -> Result<RangeRead, ReadError> {
        // Boxed: the SDK's futures nest deeply, and the callers' futures hold this one.
        match batch.source {
            Source::DynamoDb => Box::pin(dynamodb::read_range(&self.dynamodb_in(&batch.region), batch)).await,
            Source::Kinesis => Box::pin(kinesis::read_range(&self.kinesis_in(&batch.region), batch)).await,
        }
    }
}
