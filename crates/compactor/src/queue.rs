//! Where the planner puts the partitions to compact: the FIFO queue the function's own
//! event source mapping reads, one message per partition, grouped by partition so that
//! no two invocations compact the same partition at once.

use std::future::Future;
use std::sync::Mutex;

use dmd_compact::Partition;

use crate::event::PartitionMessage;

/// Takes partitions to compact.
pub trait PartitionQueue: Send + Sync {
    fn send(&self, partitions: &[Partition]) -> impl Future<Output = Result<(), String>> + Send;
}

/// The SQS FIFO queue `COMPACT_QUEUE_URL`.
pub struct SqsQueue {
    pub client: aws_sdk_sqs::Client,
    pub url: String,
}

impl PartitionQueue for SqsQueue {
    async fn send(&self, partitions: &[Partition]) -> Result<(), String> {
        let mut messages = Vec::with_capacity(partitions.len());
        for p in partitions {
            let body = serde_json::to_string(&PartitionMessage::of(p)).map_err(|e| e.to_string())?;
            messages.push((body, format!("{}/{}", p.record_type.as_str(), p.date_text())));
        }
        dmd_runtime::fifo::send(&self.client, &self.url, &messages).await.map_err(|e| e.0)
    }
}

/// Keeps what it is sent (tests, and planning without a queue).
#[derive(Default)]
pub struct Recorded(pub Mutex<Vec<Partition>>);

impl PartitionQueue for Recorded {
    async fn send(&self, partitions: &[Partition]) -> Result<(), String> {
        self.0.lock().map_err(|e| e.to_string())?.extend_from_slice(partitions);
        Ok(())
    }
}
