//! Where the schedule puts the shards to audit: the FIFO queue the auditor's own event
//! source mapping reads, one message per shard, grouped by shard so that no shard is
//! read by two audits at once (DynamoDB Streams advises at most two readers per shard,
//! and the archiver is one).

use std::future::Future;
use std::sync::Mutex;

use crate::request::ShardMessage;

/// Why the plan could not be queued.
#[derive(Debug, thiserror::Error)]
#[error("cannot queue the shards to audit: {0}")]
pub struct QueueError(pub String);

/// Takes shards to audit.
pub trait ShardQueue: Send + Sync {
    fn send(&self, messages: &[ShardMessage]) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// The SQS FIFO queue `AUDIT_QUEUE_URL`.
pub struct SqsShardQueue {
    pub client: aws_sdk_sqs::Client,
    pub url: String,
}

impl ShardQueue for SqsShardQueue {
    async fn send(&self, messages: &[ShardMessage]) -> Result<(), QueueError> {
        let mut grouped = Vec::with_capacity(messages.len());
        for m in messages {
            let body = serde_json::to_string(m).map_err(|e| QueueError(e.to_string()))?;
            grouped.push((body, m.shard_id.clone()));
        }
        dmd_runtime::fifo::send(&self.client, &self.url, &grouped).await.map_err(|e| QueueError(e.0))
    }
}

/// Keeps what it is sent (tests).
#[derive(Default)]
pub struct Recorded(pub Mutex<Vec<ShardMessage>>);

impl ShardQueue for Recorded {
    async fn send(&self, messages: &[ShardMessage]) -> Result<(), QueueError> {
        self.0.lock().map_err(|e| QueueError(e.to_string()))?.extend_from_slice(messages);
        Ok(())
    }
}
