//! The failure queue (SQS) for one run of `dmd recover --queue`: each message received
//! once, deleted only when its range was recovered in full, and otherwise held until the
//! end of the run and then released, so that a later run (or the alarm) sees it again.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::sdk_error::describe;

/// Messages asked for per call (SQS's maximum).
const BATCH: i32 = 10;
/// How long a receive call waits for a message (long polling): long enough that an empty
/// answer means an empty queue, short enough for a run by hand.
const WAIT_SECONDS: i32 = 1;

/// A call to the queue that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed: {message}")]
pub struct QueueError {
    pub operation: &'static str,
    pub message: String,
}

impl QueueError {
    fn of<E, R>(operation: &'static str, e: SdkError<E, R>) -> QueueError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        QueueError { operation, message: describe(&e) }
    }
}

/// A message received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    pub id: String,
    pub receipt_handle: String,
    pub body: String,
}

/// One queue, by URL.
#[derive(Debug, Clone)]
pub struct Queue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl Queue {
    pub fn new(config: &SdkConfig, url: impl Into<String>) -> Queue {
        Queue { client: aws_sdk_sqs::Client::new(config), url: url.into() }
    }

    /// Up to ten messages, each hidden from other readers for `hold`.
    pub async fn receive(&self, hold: Duration) -> Result<Vec<QueueMessage>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(BATCH)
            .wait_time_seconds(WAIT_SECONDS)
            .visibility_timeout(i32::try_from(hold.as_secs()).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| QueueError::of("ReceiveMessage", e))?;
        Ok(out
            .messages()
            .iter()
            .map(|m| QueueMessage {
                id: m.message_id().unwrap_or_default().to_owned(),
                receipt_handle: m.receipt_handle().unwrap_or_default().to_owned(),
                body: m.body().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    pub async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(|e| QueueError::of("DeleteMessage", e))?;
        Ok(())
    }

    /// Makes a received message visible again at once.
    pub async fn release(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(0)
            .send()
            .await
            .map_err(|e| QueueError::of("ChangeMessageVisibility", e))?;
        Ok(())
    }
}

/// One pass over a queue: every message that is there, once.
#[derive(Debug)]
pub struct Pass<'q> {
    queue: &'q Queue,
    hold: Duration,
    seen: HashSet<String>,
    /// Messages kept for a later run: id -> latest receipt handle.
    held: HashMap<String, String>,
    pending: VecDeque<QueueMessage>,
    drained: bool,
}

impl<'q> Pass<'q> {
    /// `hold` must outlast the run: a held message that comes back into view before the
    /// end is recognised and not handled twice.
    pub fn new(queue: &'q Queue, hold: Duration) -> Pass<'q> {
        Pass { queue, hold, seen: HashSet::new(), held: HashMap::new(), pending: VecDeque::new(), drained: false }
    }

    /// The next message not handled yet in this pass; `None` once a receive brings
    /// nothing new.
    pub async fn next(&mut self) -> Result<Option<QueueMessage>, QueueError> {
        loop {
            if let Some(m) = self.pending.pop_front() {
                return Ok(Some(m));
            }
            if self.drained {
                return Ok(None);
            }
            let got = self.queue.receive(self.hold).await?;
            let mut fresh = 0;
            for m in got {
                if self.seen.insert(m.id.clone()) {
                    fresh += 1;
                    self.pending.push_back(m);
                } else if let Some(receipt) = self.held.get_mut(&m.id) {
                    *receipt = m.receipt_handle;
                }
            }
            self.drained = fresh == 0;
        }
    }

    /// Deletes the message when its range was recovered in full (returns whether it was
    /// deleted); otherwise holds it until [`Pass::finish`].
    pub async fn settle(&mut self, message: &QueueMessage, recovered: bool) -> Result<bool, QueueError> {
        if !recovered {
            self.held.insert(message.id.clone(), message.receipt_handle.clone());
            return Ok(false);
        }
        self.queue.delete(&message.receipt_handle).await?;
        Ok(true)
    }

    /// Makes every held message visible again for a later run.
    pub async fn finish(self) -> Result<(), QueueError> {
        for receipt in self.held.values() {
            self.queue.release(receipt).await?;
        }
        Ok(())
    }
}
