//! The `auditor` function: the schedule plans (every shard of the stream queued for the
//! window that ends at the event's time), and each message of the queue audits one
//! shard against the manifests of that window, repairs it when `AUDIT_REPAIR` is on, and
//! prints its line (`metrics`). A shard not read to its end is named in the SQS partial
//! batch response, so that its message comes back; a missing record is not an error of
//! the invocation but the metric the alarm watches.

use std::io::Write;

use chrono::{DateTime, Utc};
use dmd_archive::sink::ObjectSink;
use dmd_archive::store::ObjectStore;
use dmd_archive::{Deadline, Limits, Pipeline, SystemClock};
use dmd_recover::audit::{audit_shards, repair, AuditError, Options};
use dmd_recover::Streams;
use serde_json::{json, Value};

use crate::metrics::{plan_line, shard_line, ShardAudit};
use crate::queue::{QueueError, ShardQueue};
use crate::request::{parse, NotARequest, Request, ShardMessage};
use crate::settings::AuditSettings;

/// How a repair archives: the archiver's pipeline and its files written at once.
pub struct Repair {
    pub pipeline: Pipeline,
    pub concurrency: usize,
}

/// The function: its settings, the stream's clients, the archive and the queue, built once.
pub struct AuditFunction<S, Q> {
    pub settings: AuditSettings,
    /// The archive's `MANIFEST_PREFIX`.
    pub manifest_prefix: String,
    pub streams: Streams,
    pub store: S,
    pub queue: Q,
    /// Set when `AUDIT_REPAIR` is on.
    pub repair: Option<Repair>,
    pub function_name: String,
}

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditorError {
    #[error(transparent)]
    Request(#[from] NotARequest),
    #[error("cannot list the stream's shards: {0}")]
    Shards(String),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error("the message names the stream {0:?}; this auditor audits {1:?}")]
    OtherStream(String, String),
}

impl<S: ObjectStore + ObjectSink, Q: ShardQueue> AuditFunction<S, Q> {
    /// Handles one invocation: a plan that cannot list or queue fails it (EventBridge
    /// sees the error); a queue batch answers with the SQS partial batch response; a
    /// direct shard message answers with the shard's line.
    pub async fn handle(
        &self,
        payload: &Value,
        now: DateTime<Utc>,
        deadline: Option<Deadline>,
    ) -> Result<Value, AuditorError> {
        match parse(payload, now)? {
            Request::Plan { at } => {
                let queued = self.plan(at).await?;
                self.print(plan_line(
                    &self.function_name,
                    &self.settings.stream.arn,
                    queued.len(),
                    now.timestamp_millis(),
                ));
                let ids: Vec<&str> = queued.iter().map(|m| m.shard_id.as_str()).collect();
                Ok(json!({ "queued": ids }))
            }
            Request::Audit(message) => {
                let audit = self.audit(&message, deadline).await?;
                let line = shard_line(&self.function_name, &audit, now.timestamp_millis());
                self.print(line.clone());
                Ok(line)
            }
            Request::Messages(messages) => {
                let mut failures = Vec::new();
                for (id, body) in messages {
                    let message = match serde_json::from_str::<ShardMessage>(&body) {
                        Ok(m) => m,
                        // A message that names no shard never will: retrying it cannot
                        // help, so it is logged and let go.
                        Err(e) => {
                            tracing::error!(message_id = %id, error = %e, "not a shard message; dropped");
                            continue;
                        }
                    };
                    match self.audit(&message, deadline).await {
                        Ok(audit) => {
                            if !audit.complete() {
                                failures.push(json!({ "itemIdentifier": id }));
                            }
                            self.print(shard_line(&self.function_name, &audit, now.timestamp_millis()));
                        }
                        Err(e @ AuditorError::OtherStream(..)) => {
                            tracing::error!(message_id = %id, error = %e, "not this auditor's stream; dropped");
                        }
                        Err(e) => {
                            tracing::error!(message_id = %id, shard_id = %message.shard_id, error = %e, "audit failed");
                            failures.push(json!({ "itemIdentifier": id }));
                        }
                    }
                }
                Ok(json!({ "batchItemFailures": failures }))
            }
        }
    }

    /// Queues every shard the stream lists (parents first) for the window that ends at
    /// `at`; returns the messages sent.
    pub async fn plan(&self, at: DateTime<Utc>) -> Result<Vec<ShardMessage>, AuditorError> {
        let stream = &self.settings.stream;
        let shards = self.streams.shards(stream).await.map_err(|e| AuditorError::Shards(e.to_string()))?;
        let until_ms = at.timestamp_millis();
        let since_ms = until_ms.saturating_sub(millis(self.settings.window));
        let messages: Vec<ShardMessage> =
            shards.iter().map(|s| ShardMessage::of(&stream.arn, s, since_ms, until_ms)).collect();
        self.queue.send(&messages).await?;
        tracing::info!(queued = messages.len(), "audit planned");
        Ok(messages)
    }

    /// Audits the shard of `message` over its window; with a repair, archives what is
    /// missing and audits the shard again.
    pub async fn audit(&self, message: &ShardMessage, deadline: Option<Deadline>) -> Result<ShardAudit, AuditorError> {
        let stream = &self.settings.stream;
        if message.stream_arn != stream.arn {
            return Err(AuditorError::OtherStream(message.stream_arn.clone(), stream.arn.clone()));
        }
        let opts = |keep_missing| Options {
            since_ms: Some(message.since_ms),
            settle_ms: millis(self.settings.settle),
            now_ms: message.until_ms,
            interval: self.settings.interval,
            keep_missing,
        };
        let shard = [message.shard()];
        let prefix = self.manifest_prefix.as_str();
        let first =
            audit_shards(&self.streams, &self.store, prefix, stream, &shard, opts(self.repair.is_some())).await?;
        let line = |mut a: dmd_recover::audit::Audit| a.shards.pop().unwrap_or_default();
        let Some(r) = self.repair.as_ref().filter(|_| first.summary.counts.missing > 0) else {
            return Ok(ShardAudit { line: line(first), repaired: None });
        };
        let limits = Limits { concurrency: r.concurrency, deadline };
        let repaired = repair(&r.pipeline, &self.store, &first, &SystemClock, limits).await?;
        tracing::info!(shard_id = %message.shard_id, repaired, "missing records archived");
        let again = audit_shards(&self.streams, &self.store, prefix, stream, &shard, opts(false)).await?;
        Ok(ShardAudit { line: line(again), repaired: Some(repaired) })
    }

    fn print(&self, line: Value) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
