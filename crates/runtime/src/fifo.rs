//! A plan sent to a function's FIFO queue: ten messages a call (SQS's limit), each with
//! its message group, and any message the queue refuses an error.

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_smithy_types::error::display::DisplayErrorContext;

/// Why the plan could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot send to the queue: {0}")]
pub struct SendError(pub String);

/// Sends each `(body, message group)` to the FIFO queue `url`.
pub async fn send(client: &aws_sdk_sqs::Client, url: &str, messages: &[(String, String)]) -> Result<(), SendError> {
    let err = |e: String| SendError(e);
    for chunk in messages.chunks(10) {
        let mut entries = Vec::with_capacity(chunk.len());
        for (i, (body, group)) in chunk.iter().enumerate() {
            let entry =
                SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(body).message_group_id(group);
            entries.push(entry.build().map_err(|e| err(e.to_string()))?);
        }
        let out = client
            .send_message_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| err(DisplayErrorContext(&e).to_string()))?;
        if let Some(f) = out.failed().first() {
            return Err(err(format!("{} of {} messages refused: {}", out.failed().len(), chunk.len(), f.code())));
        }
    }
    Ok(())
}
