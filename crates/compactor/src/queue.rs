//! Where the planner puts the partitions to compact: the FIFO queue the function's own
//! event source mapping reads, one message per partition, grouped by partition so that
//! no two invocations compact the same partition at once.

use std::future::Future;
use std::sync::Mutex;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_smithy_types::error::display::DisplayErrorContext;
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
        // SendMessageBatch takes ten messages at most.
        for chunk in partitions.chunks(10) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, p) in chunk.iter().enumerate() {
                let body = serde_json::to_string(&PartitionMessage::of(p)).map_err(|e| e.to_string())?;
                let group = format!("{}/{}", p.record_type.as_str(), p.date_text());
                entries.push(
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body)
                        .message_group_id(group)
                        .build()
                        .map_err(|e| e.to_string())?,
                );
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| DisplayErrorContext(&e).to_string())?;
            if let Some(f) = out.failed().first() {
                return Err(format!("{} of {} messages refused: {}", out.failed().len(), chunk.len(), f.code()));
            }
        }
        Ok(())
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
