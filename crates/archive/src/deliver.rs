//! Delivery and the answer: the files of a batch written through a sink under the
//! invocation's deadline, and the partial batch response built from what was not
//! written. The deadline policy lives here and nowhere else.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::keys::hex;
use crate::record_type::RecordType;
use crate::sink::{ObjectSink, SinkError};

/// `Content-Type` of the data files.
pub const AVRO_CONTENT_TYPE: &str = "application/avro";
/// `Content-Type` of the error files (JSON Lines).
pub const ERRORS_CONTENT_TYPE: &str = "application/x-ndjson";

/// Time kept after the last write is abandoned, to build and send the answer.
pub const ANSWER_RESERVE: Duration = Duration::from_millis(500);
/// Time kept after the data and error files, for the manifest that names them.
pub const MANIFEST_RESERVE: Duration = Duration::from_millis(1000);

/// What a file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    Data {
        record_type: RecordType,
        date: String,
    },
    Errors,
    /// The invocation's manifest (it holds no records of its own, but names them all).
    Manifest,
}

/// A file ready to write, with the records it holds (stream position and sequence
/// number) so that a failed write can be reported record by record.
#[derive(Debug, Clone)]
pub struct PendingFile {
    pub key: String,
    pub body: Bytes,
    pub content_type: &'static str,
    pub kind: FileKind,
    pub records: Vec<(usize, Option<String>)>,
}

/// When the writes of an invocation stop: no write starts once less than `margin` is left
/// before `at`, and a write still running [`ANSWER_RESERVE`] before `at` is abandoned.
/// The records of the files left are reported in `batchItemFailures`, so the answer
/// still goes out before Lambda ends the invocation. The data and error files keep
/// [`MANIFEST_RESERVE`] more for the manifest ([`Deadline::for_files`]), which may start
/// until it is abandoned ([`Deadline::for_manifest`]).
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub at: Instant,
    pub margin: Duration,
}

impl Deadline {
    /// The deadline of the data and error files: they start by the same time, and are
    /// abandoned the manifest's reserve earlier.
    pub fn for_files(self) -> Deadline {
        Deadline {
            at: self.at.checked_sub(MANIFEST_RESERVE).unwrap_or(self.at),
            margin: self.margin.saturating_sub(MANIFEST_RESERVE),
        }
    }

    /// The deadline of the manifest: it may start as long as it is not yet abandoned.
    pub fn for_manifest(self) -> Deadline {
        Deadline { at: self.at, margin: ANSWER_RESERVE }
    }

    fn start_writes_by(&self, started: Instant) -> Instant {
        self.at.checked_sub(self.margin).unwrap_or(started)
    }

    fn abandon_at(&self, started: Instant) -> Instant {
        self.at.checked_sub(ANSWER_RESERVE).unwrap_or(started)
    }
}

/// The partial batch response: the records Lambda must deliver again.
/// See <https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html>.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchResponse {
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

/// A file written.
#[derive(Debug, Clone)]
pub struct Written {
    pub key: String,
    pub bytes: usize,
    pub kind: FileKind,
    pub records: usize,
    /// Lower-case hex SHA-256 of the bytes written.
    pub sha256: String,
}

/// A file not written, and why.
#[derive(Debug)]
pub struct NotWritten {
    pub key: String,
    pub kind: FileKind,
    pub records: usize,
    pub error: SinkError,
}

/// The outcome of writing a batch.
#[derive(Debug, Default)]
pub struct Delivery {
    pub answer: BatchResponse,
    pub written: Vec<Written>,
    pub failed: Vec<NotWritten>,
    /// Records that must be retried but have no sequence number to report them by: the
    /// whole invocation has to fail so that Lambda retries the batch.
    pub unreportable: usize,
    /// The key of the invocation's manifest, once written.
    pub manifest: Option<String>,
}

/// Writes the files of a batch, at most `concurrency` at a time, within `deadline`. A
/// file that cannot be written puts all its records into `batchItemFailures`.
pub async fn deliver<S: ObjectSink>(
    sink: &S,
    files: Vec<PendingFile>,
    concurrency: usize,
    deadline: Option<Deadline>,
) -> Delivery {
    let started = Instant::now();
    let start_by = deadline.map(|d| d.start_writes_by(started));
    let abandon_at = deadline.map(|d| d.abandon_at(started));
    let results: Vec<(PendingFile, Result<(), SinkError>)> = futures::stream::iter(files)
        .map(|f| async move {
            if start_by.is_some_and(|d| Instant::now() >= d) {
                let e = SinkError::transient(&f.key, "not started: the invocation is about to time out");
                return (f, Err(e));
            }
            let write = sink.put(&f.key, f.body.clone(), f.content_type);
            let r = match abandon_at {
                None => write.await,
                Some(at) => match tokio::time::timeout_at(at.into(), write).await {
                    Ok(r) => r,
                    Err(_) => Err(SinkError::transient(&f.key, "abandoned: the invocation is about to time out")),
                },
            };
            (f, r)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut retry: Vec<(usize, Option<String>)> = Vec::new();
    let mut delivery = Delivery::default();
    for (f, r) in results {
        let records = f.records.len();
        match r {
            Ok(()) => {
                let sha256 = hex(&Sha256::digest(&f.body));
                delivery.written.push(Written { key: f.key, bytes: f.body.len(), kind: f.kind, records, sha256 });
            }
            Err(error) => {
                retry.extend(f.records);
                delivery.failed.push(NotWritten { key: f.key, kind: f.kind, records, error });
            }
        }
    }
    delivery.written.sort_by(|a, b| a.key.cmp(&b.key));
    (delivery.answer, delivery.unreportable) = answer_for(retry);
    delivery
}

/// The partial batch response for the records to retry (stream position and sequence
/// number), in stream order, and how many of them have no sequence number to name them.
pub fn answer_for(mut retry: Vec<(usize, Option<String>)>) -> (BatchResponse, usize) {
    retry.sort();
    let unreportable = retry.iter().filter(|(_, s)| s.as_deref().is_none_or(str::is_empty)).count();
    let batch_item_failures = retry
        .into_iter()
        .filter_map(|(_, s)| s.filter(|s| !s.is_empty()))
        .map(|item_identifier| ItemFailure { item_identifier })
        .collect();
    (BatchResponse { batch_item_failures }, unreportable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_start_by_the_same_time_and_leave_the_manifest_a_second() {
        let now = Instant::now();
        let d = Deadline { at: now + Duration::from_secs(10), margin: Duration::from_secs(2) };
        let (files, manifest) = (d.for_files(), d.for_manifest());
        assert_eq!(files.start_writes_by(now), d.start_writes_by(now));
        assert_eq!(files.abandon_at(now), now + Duration::from_millis(8500));
        assert_eq!(manifest.start_writes_by(now), now + Duration::from_millis(9500));
        assert_eq!(manifest.abandon_at(now), now + Duration::from_millis(9500));
    }
}
