//! Replaying error files (`dmd replay`, data contract section 7): the records of an
//! error file go back through the pipeline as one batch; those that now pass go to data
//! files under the usual keys, those that fail again are listed with their new error in
//! a marker beside the error file, which is kept. No new error file is written, and
//! nothing is un-redacted: a deletion's record was stored redacted.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::deliver::{deliver, FileKind, PendingFile};
use crate::error::ErrorKind;
use crate::keys::hex;
use crate::manifest::{manifest_key, manifest_of, store_manifest, BatchIdentity, ManifestFile, VERSION};
use crate::pii;
use crate::pipeline::{LineFailure, Pipeline};
use crate::sink::ObjectSink;
use crate::store::{ObjectStore, StoreError};
use crate::time::format_millis;

/// `Content-Type` of a replay marker.
pub const MARKER_CONTENT_TYPE: &str = "application/json";

/// How to replay.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Report what would be written, and write nothing.
    pub dry_run: bool,
    /// Replay files that are marked replayed already.
    pub force: bool,
    /// Files written at once.
    pub concurrency: usize,
    /// The time of the replay, epoch milliseconds.
    pub now: i64,
}

/// The marker of a replayed error file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    pub error_file: String,
    pub replayed_at: String,
    pub version: String,
    pub lines: usize,
    pub archived: usize,
    pub failed_again: usize,
    /// The data files written.
    pub files: Vec<String>,
    /// The lines that failed again, with their error now.
    pub errors: Vec<LineError>,
}

/// A line that failed again (1 is the file's first line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineError {
    pub line: usize,
    pub error_type: String,
    pub message: String,
}

/// What replaying one error file did (one output line of `dmd replay`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replayed {
    pub error_file: String,
    pub lines: usize,
    pub archived: usize,
    pub failed_again: usize,
    pub files: Vec<String>,
    /// Why the file was not replayed (`already replayed`), when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<&'static str>,
    /// Records whose data file could not be written: not accounted for, so the file is
    /// not marked, and a later run replays it.
    pub not_written: usize,
    pub dry_run: bool,
    /// The marker written, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
}

impl Replayed {
    /// Whether every line ended in a data file or in the marker's errors (or the file
    /// was skipped as replayed already).
    pub fn accounted_for(&self) -> bool {
        self.skipped.is_some() || (self.not_written == 0 && self.archived + self.failed_again == self.lines)
    }
}

/// Why an error file could not be replayed at all.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}: no such error file")]
    Missing(String),
    #[error("{0} is not under the error prefix {1}, or is a replay marker")]
    NotAnErrorFile(String, String),
    #[error("could not write {0}: {1}")]
    Write(String, String),
}

/// `<ERROR_PREFIX>replayed/<the rest of the error file's key>`, for an error file
/// under `error_prefix` (none for a key elsewhere, or for a marker itself).
pub fn marker_key(error_prefix: &str, error_file: &str) -> Option<String> {
    let rest = error_file.strip_prefix(error_prefix)?;
    (!rest.starts_with("replayed/") && rest.ends_with(".json")).then(|| format!("{error_prefix}replayed/{rest}"))
}

/// Every error file under the error prefix, markers left out, in key order.
pub async fn error_files<S: ObjectStore>(store: &S, error_prefix: &str) -> Result<Vec<String>, StoreError> {
    let mut keys = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list(error_prefix, after.as_deref()).await?;
        keys.extend(page.objects.into_iter().map(|l| l.key).filter(|k| marker_key(error_prefix, k).is_some()));
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(keys),
        }
    }
}

/// An error file line, as far as replay reads it.
#[derive(Deserialize)]
struct LineIn<'a> {
    #[serde(borrow)]
    record: &'a RawValue,
}

/// Replays one error file through `pipeline`, reading from and writing to `store`.
pub async fn replay_file<S: ObjectStore + ObjectSink>(
    pipeline: &Pipeline,
    store: &S,
    key: &str,
    opts: Options,
) -> Result<Replayed, ReplayError> {
    let settings = pipeline.settings();
    let marker = marker_key(&settings.error_prefix, key)
        .ok_or_else(|| ReplayError::NotAnErrorFile(key.to_owned(), settings.error_prefix.clone()))?;
    let mut out = Replayed {
        error_file: key.to_owned(),
        lines: 0,
        archived: 0,
        failed_again: 0,
        files: Vec::new(),
        skipped: None,
        not_written: 0,
        dry_run: opts.dry_run,
        marker: None,
    };
    if !opts.force && store.get(&marker).await?.is_some() {
        out.skipped = Some("already replayed");
        return Ok(out);
    }
    let body = store.get(key).await?.ok_or_else(|| ReplayError::Missing(key.to_owned()))?;
    // The records of the lines that hold one, and the line number of each.
    let mut records: Vec<&RawValue> = Vec::new();
    let mut line_of: Vec<usize> = Vec::new();
    let mut errors: Vec<LineError> = Vec::new();
    for (n, line) in body.split(|b| *b == b'\n').enumerate().filter(|(_, l)| !l.trim_ascii().is_empty()) {
        out.lines += 1;
        match serde_json::from_slice::<LineIn>(line) {
            Ok(l) => {
                records.push(l.record);
                line_of.push(n + 1);
            }
            Err(e) => errors.push(LineError {
                line: n + 1,
                error_type: ErrorKind::Parse.as_str().to_owned(),
                message: format!("the line is not an error file line: {}", pii::parser_message(&e)),
            }),
        }
    }
    let mut payload = String::from("{\"Records\":[");
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            payload.push(',');
        }
        payload.push_str(r.get());
    }
    payload.push_str("]}");
    let batch = match pipeline.process(payload.as_bytes(), opts.now) {
        Ok(b) => b,
        Err(e) => {
            // Not one record is a stream record: each fails again, with the reason.
            let message = e.to_string();
            let kind = ErrorKind::Parse.as_str();
            errors.extend(line_of.iter().map(|&line| LineError {
                line,
                error_type: kind.into(),
                message: message.clone(),
            }));
            return finish(store, &marker, out, errors, opts).await;
        }
    };
    errors.extend(batch.failures.iter().map(|f: &LineFailure| LineError {
        line: line_of.get(f.index).copied().unwrap_or(0),
        error_type: f.kind.as_str().to_owned(),
        message: f.message.clone(),
    }));
    errors.sort_by_key(|e| e.line);
    let data: Vec<PendingFile> = batch.files.into_iter().filter(|f| matches!(f.kind, FileKind::Data { .. })).collect();
    if opts.dry_run {
        out.archived = data.iter().map(|f| f.records.len()).sum();
        out.files = data.into_iter().map(|f| f.key).collect();
        out.files.sort();
        return finish(store, &marker, out, errors, opts).await;
    }
    let delivery = deliver(store, data, opts.concurrency, None).await;
    out.archived = delivery.written.iter().map(|w| w.records).sum();
    out.files = delivery.written.iter().map(|w| w.key.clone()).collect();
    out.not_written = delivery.failed.iter().map(|f| f.records).sum();
    // The replay's manifest: the data files written, and the error file itself for the
    // lines that failed again, so that every line of the file is counted once.
    let mut identity = BatchIdentity::default();
    identity.add(format!("replay\0{key}").as_bytes(), None);
    let mut manifest = manifest_of(&batch.identity, &delivery, opts.now);
    manifest.batch_id = identity.id();
    manifest.records = out.lines;
    manifest.files.push(ManifestFile {
        key: key.to_owned(),
        kind: "errors".into(),
        record_type: None,
        partition_date: None,
        records: errors.len(),
        bytes: body.len(),
        sha256: hex(&Sha256::digest(&body)),
    });
    let manifest_at = manifest_key(&settings.manifest_prefix, opts.now, &manifest.batch_id);
    let delivery = store_manifest(store, manifest_at, &manifest, &batch.identity, delivery, None).await;
    if delivery.manifest.is_none() {
        out.not_written = out.lines - errors.len();
    }
    finish(store, &marker, out, errors, opts).await
}

/// Counts the lines that failed again and, when every line is accounted for and this is
/// not a dry run, writes the marker.
async fn finish<S: ObjectSink>(
    sink: &S,
    marker_at: &str,
    mut out: Replayed,
    errors: Vec<LineError>,
    opts: Options,
) -> Result<Replayed, ReplayError> {
    out.failed_again = errors.len();
    if opts.dry_run || !out.accounted_for() {
        return Ok(out);
    }
    let marker = Marker {
        error_file: out.error_file.clone(),
        replayed_at: format_millis(opts.now),
        version: VERSION.to_owned(),
        lines: out.lines,
        archived: out.archived,
        failed_again: out.failed_again,
        files: out.files.clone(),
        errors,
    };
    let text = serde_json::to_vec(&marker).map_err(|e| ReplayError::Write(marker_at.to_owned(), e.to_string()))?;
    sink.put(marker_at, Bytes::from(text), MARKER_CONTENT_TYPE)
        .await
        .map_err(|e| ReplayError::Write(marker_at.to_owned(), e.message))?;
    out.marker = Some(marker_at.to_owned());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_sit_beside_the_error_files() {
        assert_eq!(
            marker_key("errors/", "errors/dt=2026-11-21/ab12.json").as_deref(),
            Some("errors/replayed/dt=2026-11-21/ab12.json")
        );
        assert_eq!(marker_key("errors/", "errors/replayed/dt=2026-11-21/ab12.json"), None);
        assert_eq!(marker_key("errors/", "data/x.json"), None);
        assert_eq!(marker_key("errors/", "errors/dt=2026-11-21/ab12.avro"), None);
    }
}
