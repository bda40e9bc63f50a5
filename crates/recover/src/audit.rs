//! The audit of the archive against its stream (data contract, section 10): every record
//! of every shard in the window is classed `archived` (a manifest names it in a data or
//! error file), `retrying` (only in manifests' `retry`), `unsettled` (newer than the
//! settle time: the function may not have seen it yet) or `missing`. A missing record is
//! named by its sequence number, event name, event time and keys, never another value;
//! a repair archives the missing records through the one pipeline entry, as the
//! function would.

use std::time::Duration;

use dmd_archive::envelope::Source;
use dmd_archive::sink::ObjectSink;
use dmd_archive::store::{ObjectStore, StoreError};
use dmd_archive::time::format_millis;
use dmd_archive::{Clock, Limits, Pipeline};
use futures::StreamExt;
use serde::Serialize;
use serde_json::Value;

use crate::archived::{Archived, Named};
use crate::event::payload;
use crate::shard_end::End;
use crate::shard_read::{Pace, Seen};
use crate::shards::{Shard, StreamArn};
use crate::streams::Streams;

/// Shards read at once. Each is read at its own pace; the stream's limits are per shard.
const SHARDS_AT_ONCE: usize = 4;

/// Records archived per repair batch: DynamoDB Streams' largest Lambda batch.
const REPAIR_BATCH: usize = 1000;

/// What an audit covers and how it reads.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The window's start (epoch ms); the whole stream when `None`.
    pub since_ms: Option<i64>,
    /// Records that reached the stream less than this long before `now_ms` are unsettled.
    pub settle_ms: i64,
    pub now_ms: i64,
    /// At least this long between two reads of a shard.
    pub interval: Duration,
    /// Keep the missing records whole, for a repair.
    pub keep_missing: bool,
}

/// A missing record: what names it, and nothing of its item but its keys.
#[derive(Debug, Clone, Serialize)]
pub struct Missing {
    pub sequence_number: String,
    pub event_name: Option<String>,
    pub event_time: Option<String>,
    pub keys: Value,
}

/// Records by class, and the reads that found them.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Counts {
    pub records: usize,
    pub archived: usize,
    pub retrying: usize,
    pub unsettled: usize,
    pub missing: usize,
    /// `GetRecords` calls made.
    pub reads: u32,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.records += other.records;
        self.archived += other.archived;
        self.retrying += other.retrying;
        self.unsettled += other.unsettled;
        self.missing += other.missing;
        self.reads += other.reads;
    }
}

/// One shard's line.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ShardLine {
    pub shard_id: String,
    pub parent_shard_id: Option<String>,
    #[serde(flatten)]
    pub counts: Counts,
    /// Why reading stopped: `closed`, `caught_up`, `window_end`, `empty_pages` (an open
    /// DynamoDB shard's only sign of its current end) or `page_limit`.
    pub end: Option<End>,
    pub missing_records: Vec<Missing>,
    /// Why the shard could not be read to its end, or records of it that could not be
    /// rebuilt for a repair (the counts are of what was read).
    pub problem: Option<String>,
}

/// The summary line.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub stream_arn: String,
    pub shards: usize,
    #[serde(flatten)]
    pub counts: Counts,
    pub manifests: usize,
    pub manifests_without_sequence_numbers: usize,
    pub unreadable_manifests: Vec<String>,
    /// Records archived by `--repair` before this audit.
    pub repaired: Option<usize>,
    /// Nothing missing, and every shard read to its end.
    pub ok: bool,
}

/// An audit's answer.
#[derive(Debug, Clone, Default)]
pub struct Audit {
    pub shards: Vec<ShardLine>,
    pub summary: Summary,
    /// The missing records whole, when kept: each run of consecutive missing records of
    /// a shard, in stream order.
    pub missing: Vec<Vec<Value>>,
}

/// Audits every shard of `stream` against the manifests of `store` (`dmd audit`).
pub async fn audit<S: ObjectStore>(
    streams: &Streams,
    store: &S,
    manifest_prefix: &str,
    stream: &StreamArn,
    opts: Options,
) -> Result<Audit, AuditError> {
    let shards = streams.shards(stream).await.map_err(|e| AuditError::Shards(e.to_string()))?;
    audit_shards(streams, store, manifest_prefix, stream, &shards, opts).await
}

/// Audits these shards of `stream` (the `auditor` function audits one per invocation).
/// The manifests of the window are read once for all of them; when the shards are
/// Kinesis shards, only the records of manifests naming one of them (or no shard) are
/// held.
pub async fn audit_shards<S: ObjectStore>(
    streams: &Streams,
    store: &S,
    manifest_prefix: &str,
    stream: &StreamArn,
    shards: &[Shard],
    opts: Options,
) -> Result<Audit, AuditError> {
    // Without a window, the manifests of the stream's retention: an older record is gone.
    let manifests_from = match opts.since_ms {
        Some(ms) => Some(ms),
        None => streams.retention_ms(stream).await.map(|r| opts.now_ms - r),
    };
    let only: Option<Vec<&str>> =
        (stream.source == Source::Kinesis).then(|| shards.iter().map(|s| s.id.as_str()).collect());
    let archived = Archived::load(store, manifest_prefix, manifests_from, &stream.arn, only.as_deref()).await?;
    let read = shards.iter().map(|s| audit_shard(streams, stream, s, &archived, opts));
    let results: Vec<(ShardLine, Vec<Vec<Value>>)> =
        futures::stream::iter(read).buffered(SHARDS_AT_ONCE).collect().await;
    let mut summary = Summary {
        stream_arn: stream.arn.clone(),
        shards: results.len(),
        manifests: archived.manifests,
        manifests_without_sequence_numbers: archived.without_sequence_numbers,
        unreadable_manifests: archived.unreadable.clone(),
        ..Summary::default()
    };
    let mut out = Audit::default();
    for (line, whole) in results {
        summary.counts.add(&line.counts);
        out.shards.push(line);
        out.missing.extend(whole);
    }
    summary.ok = summary.counts.missing == 0 && out.shards.iter().all(|s| s.problem.is_none());
    out.summary = summary;
    Ok(out)
}

async fn audit_shard(
    streams: &Streams,
    stream: &StreamArn,
    shard: &Shard,
    archived: &Archived,
    opts: Options,
) -> (ShardLine, Vec<Vec<Value>>) {
    let mut line =
        ShardLine { shard_id: shard.id.clone(), parent_shard_id: shard.parent.clone(), ..ShardLine::default() };
    // Runs of consecutive missing records, and the position of the last one kept.
    let mut runs: Vec<Vec<Value>> = Vec::new();
    let mut last_missing: Option<usize> = None;
    // DynamoDB Streams' manifests name no shard: its sequence numbers are the stream's.
    let shard_key = (stream.source == Source::Kinesis).then_some(shard.id.as_str());
    let pace = Pace { since_ms: opts.since_ms, until_ms: opts.now_ms, interval: opts.interval };
    let mut unrebuilt = 0usize;
    let mut class = |seen: Seen| {
        let counts = &mut line.counts;
        let position = counts.records;
        counts.records += 1;
        match archived.named(shard_key, &seen.sequence_number) {
            Named::Archived => counts.archived += 1,
            Named::Retrying => counts.retrying += 1,
            Named::Not if seen.arrival_ms.is_some_and(|t| t > opts.now_ms - opts.settle_ms) => counts.unsettled += 1,
            Named::Not => {
                counts.missing += 1;
                line.missing_records.push(Missing {
                    // Through the boundary as every identifier the archive prints.
                    sequence_number: dmd_archive::pii::envelope_identifier(&seen.sequence_number).as_str().to_owned(),
                    // The stream's own names only: a record's text could say anything.
                    event_name: seen.event_name.filter(|n| matches!(n.as_str(), "INSERT" | "MODIFY" | "REMOVE")),
                    event_time: seen.event_time_ms.map(format_millis),
                    keys: seen.keys,
                });
                match seen.record {
                    Some(record) if opts.keep_missing => {
                        match runs.last_mut() {
                            Some(run) if last_missing == position.checked_sub(1) => run.push(record),
                            _ => runs.push(vec![record]),
                        }
                        last_missing = Some(position);
                    }
                    Some(_) => {}
                    None => unrebuilt += 1,
                }
            }
        }
    };
    match streams.read_shard(stream, shard, pace, &mut class).await {
        Ok(read) => {
            line.counts.reads = read.reads;
            line.end = Some(read.end);
        }
        Err(e) => line.problem = Some(e.to_string()),
    }
    if unrebuilt > 0 && line.problem.is_none() {
        line.problem = Some(format!(
            "{unrebuilt} missing records hold an attribute type this build does not know: a newer dmd can repair them"
        ));
    }
    (line, runs)
}

/// Archives the missing records that `audit` kept through the pipeline entry: each run
/// of consecutive missing records of a shard as one batch (of at most [`REPAIR_BATCH`]),
/// so that a batch whose manifest alone was lost is archived again whole, under the keys
/// of its files. Returns the records archived (in data or error files).
pub async fn repair<S: ObjectSink>(
    pipeline: &Pipeline,
    sink: &S,
    audit: &Audit,
    clock: &dyn Clock,
    limits: Limits,
) -> Result<usize, AuditError> {
    let mut archived = 0;
    for batch in audit.missing.iter().flat_map(|run| run.chunks(REPAIR_BATCH)) {
        let outcome =
            pipeline.run(&payload(batch), clock, sink, limits).await.map_err(|e| AuditError::Repair(e.to_string()))?;
        archived += outcome.summary.archived_records() + outcome.summary.errors;
    }
    Ok(archived)
}

/// Why an audit could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot read the manifests: {0}")]
    Manifests(#[from] StoreError),
    #[error("cannot list the stream's shards: {0}")]
    Shards(String),
    #[error("the repair's batch was refused: {0}")]
    Repair(String),
}
