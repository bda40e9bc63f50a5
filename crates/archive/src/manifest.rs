//! Manifests: what one invocation wrote, as a JSON object written after its files, so
//! that the archive can be proven complete later (`dmd verify`). A manifest names only
//! files written in full; when it cannot be written, every record of the batch goes back
//! to Lambda for retry, and the retry rewrites the same keys.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use twox_hash::XxHash3_128;

use crate::deliver::{answer_for, deliver, Deadline, Delivery, FileKind, NotWritten, PendingFile, Written};
use crate::envelope::Source;
use crate::keys::hex;
use crate::pii;
use crate::sink::{ObjectSink, SinkError};
use crate::time::{format_millis, Date};

/// `Content-Type` of a manifest.
pub const MANIFEST_CONTENT_TYPE: &str = "application/json";

/// The version of the software that writes a manifest.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// One invocation's manifest (data contract, section 6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub batch_id: String,
    pub source: Option<String>,
    pub event_source_arn: Option<String>,
    /// Records in the batch: the files' records plus `retry`.
    pub records: usize,
    pub first_sequence_number: Option<String>,
    pub last_sequence_number: Option<String>,
    pub written_at: String,
    pub version: String,
    pub files: Vec<ManifestFile>,
    /// The records answered in `batchItemFailures`, by sequence number.
    pub retry: Vec<String>,
    /// Every record of the batch, in batch order, by sequence number (null for a record
    /// whose sequence number could not be read): what the archive holds of a stream is
    /// known from the manifests alone (`dmd audit`). Absent in manifests written before.
    #[serde(default)]
    pub sequence_numbers: Vec<Option<String>>,
    /// The shard the records came from, where the source names it (Kinesis `eventID`).
    #[serde(default)]
    pub shard_id: Option<String>,
}

/// A file a manifest names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub key: String,
    /// `data` or `errors`.
    pub kind: String,
    pub record_type: Option<String>,
    pub partition_date: Option<String>,
    pub records: usize,
    pub bytes: usize,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
}

impl Manifest {
    /// Whether `records` is the files' records plus the records left to retry.
    pub fn counts_add_up(&self) -> bool {
        self.files.iter().map(|f| f.records).sum::<usize>() + self.retry.len() == self.records
    }
}

/// What a manifest says of its batch, gathered while the batch is processed: the id
/// (a digest of the records' texts, so an identical batch gets the same id), the source
/// and the sequence number of every record, in batch order.
///
/// The digest is XXH3-128, not SHA-256: it reads every byte of the batch, at several
/// times SHA-256's speed, and it names a manifest, which no one can choose the records
/// of (their sequence numbers are the stream's).
#[derive(Clone)]
pub struct BatchIdentity {
    digest: XxHash3_128,
    pub source: Option<Source>,
    pub event_source_arn: Option<String>,
    /// Each record's stream position and sequence number (none when it has none).
    pub sequence_numbers: Vec<(usize, Option<String>)>,
    /// The shard, where the source names it (see [`shard_of_event_id`]).
    pub shard_id: Option<String>,
}

impl Default for BatchIdentity {
    fn default() -> Self {
        BatchIdentity {
            digest: XxHash3_128::new(),
            source: None,
            event_source_arn: None,
            sequence_numbers: Vec::new(),
            shard_id: None,
        }
    }
}

impl std::fmt::Debug for BatchIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchIdentity")
            .field("id", &self.id())
            .field("source", &self.source)
            .field("event_source_arn", &self.event_source_arn)
            .field("records", &self.sequence_numbers.len())
            .field("shard_id", &self.shard_id)
            .finish()
    }
}

impl BatchIdentity {
    /// Adds the next record: its text as received and its sequence number.
    pub fn add(&mut self, text: &[u8], sequence_number: Option<String>) {
        self.digest.write(text);
        self.digest.write(b"\n");
        let index = self.sequence_numbers.len();
        self.sequence_numbers.push((index, sequence_number));
    }

    pub fn records(&self) -> usize {
        self.sequence_numbers.len()
    }

    /// The batch id: 32 hex digits.
    pub fn id(&self) -> String {
        hex(&self.digest.finish_128().to_be_bytes())
    }
}

/// The shard a Kinesis record's `eventID` names (`shardId-000000000000:<sequence
/// number>`): the part before the colon, when it has the shape of a shard id.
pub fn shard_of_event_id(event_id: &str) -> Option<&str> {
    let (shard, _) = event_id.split_once(':')?;
    let digits = shard.strip_prefix("shardId-")?;
    (!digits.is_empty() && digits.len() <= 64 && digits.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
        .then_some(shard)
}

/// `<MANIFEST_PREFIX>dt=<processing date>/<batch-id>.json`
pub fn manifest_key(manifest_prefix: &str, processed_at: i64, batch_id: &str) -> String {
    format!("{manifest_prefix}dt={}/{batch_id}.json", Date::of_millis(processed_at))
}

/// The manifest of a delivery. Identifiers from the envelope (the stream ARN, sequence
/// numbers) go through the PII boundary as a deleted item's identifiers do.
pub fn manifest_of(batch: &BatchIdentity, delivery: &Delivery, now: i64) -> Manifest {
    let ident = |s: &str| pii::envelope_identifier(s).as_str().to_owned();
    let numbers = || batch.sequence_numbers.iter().filter_map(|(_, s)| s.as_deref());
    Manifest {
        batch_id: batch.id(),
        source: batch.source.map(|s| s.as_str().to_owned()),
        event_source_arn: batch.event_source_arn.as_deref().map(ident),
        records: batch.records(),
        first_sequence_number: numbers().next().map(ident),
        last_sequence_number: numbers().next_back().map(ident),
        written_at: format_millis(now),
        version: VERSION.to_owned(),
        files: delivery.written.iter().map(file_of).collect(),
        retry: delivery.answer.batch_item_failures.iter().map(|f| ident(&f.item_identifier)).collect(),
        sequence_numbers: batch.sequence_numbers.iter().map(|(_, s)| s.as_deref().map(ident)).collect(),
        shard_id: batch.shard_id.as_deref().map(ident),
    }
}

fn file_of(w: &Written) -> ManifestFile {
    let (kind, record_type, partition_date) = match &w.kind {
        FileKind::Data { record_type, date } => ("data", Some(record_type.to_string()), Some(date.clone())),
        FileKind::Errors | FileKind::Manifest => ("errors", None, None),
    };
    ManifestFile {
        key: w.key.clone(),
        kind: kind.to_owned(),
        record_type,
        partition_date,
        records: w.records,
        bytes: w.bytes,
        sha256: w.sha256.clone(),
    }
}

/// Writes the manifest of `delivery` after its files. When the manifest cannot be
/// written, every record of the batch is answered for retry. A batch with records that
/// cannot be reported for retry fails as a whole, and gets no manifest: Lambda sends
/// it again.
pub async fn write_manifest<S: ObjectSink>(
    sink: &S,
    manifest_prefix: &str,
    batch: &BatchIdentity,
    delivery: Delivery,
    now: i64,
    deadline: Option<Deadline>,
) -> Delivery {
    if batch.records() == 0 || delivery.unreportable > 0 {
        return delivery;
    }
    let manifest = manifest_of(batch, &delivery, now);
    let key = manifest_key(manifest_prefix, now, &manifest.batch_id);
    store_manifest(sink, key, &manifest, batch, delivery, deadline).await
}

/// Writes `manifest` under `key`; when that fails, every record of `batch` is answered
/// for retry.
pub async fn store_manifest<S: ObjectSink>(
    sink: &S,
    key: String,
    manifest: &Manifest,
    batch: &BatchIdentity,
    mut delivery: Delivery,
    deadline: Option<Deadline>,
) -> Delivery {
    let body = match serde_json::to_vec(manifest) {
        Ok(b) => Bytes::from(b),
        Err(e) => {
            let error =
                SinkError { key: key.clone(), message: format!("manifest not serialized: {e}"), transient: false };
            let records = batch.records();
            delivery.failed.push(NotWritten { key, kind: FileKind::Manifest, records, error });
            (delivery.answer, delivery.unreportable) = answer_for(batch.sequence_numbers.clone());
            return delivery;
        }
    };
    let file = PendingFile {
        key,
        body,
        content_type: MANIFEST_CONTENT_TYPE,
        kind: FileKind::Manifest,
        records: batch.sequence_numbers.clone(),
    };
    let written = deliver(sink, vec![file], 1, deadline).await;
    match written.written.into_iter().next() {
        Some(w) => delivery.manifest = Some(w.key),
        None => {
            delivery.failed.extend(written.failed);
            delivery.answer = written.answer;
            delivery.unreportable = written.unreportable;
        }
    }
    delivery
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_follows_the_contract_layout() {
        assert_eq!(manifest_key("manifests/", 1_763_547_330_000, "ab"), "manifests/dt=2025-11-19/ab.json");
    }

    #[test]
    fn the_batch_id_depends_on_the_records_only() {
        let mut a = BatchIdentity::default();
        a.add(b"{\"x\":1}", Some("1".into()));
        a.add(b"{\"x\":2}", None);
        let mut b = BatchIdentity::default();
        b.add(b"{\"x\":1}", Some("1".into()));
        b.add(b"{\"x\":2}", None);
        assert_eq!(a.id(), b.id());
        assert_eq!(a.id().len(), 32);
        b.add(b"{\"x\":3}", None);
        assert_ne!(a.id(), b.id());
        assert_eq!(b.sequence_numbers[2], (2, None));
    }

    #[test]
    fn counts_add_up_with_the_retried_records() {
        let m = Manifest {
            batch_id: "b".into(),
            source: None,
            event_source_arn: None,
            records: 3,
            first_sequence_number: None,
            last_sequence_number: None,
            written_at: String::new(),
            version: VERSION.into(),
            files: vec![ManifestFile {
                key: "k".into(),
                kind: "data".into(),
                record_type: Some("sale".into()),
                partition_date: Some("2026-11-19".into()),
                records: 2,
                bytes: 10,
                sha256: String::new(),
            }],
            retry: vec!["9".into()],
            sequence_numbers: vec![Some("7".into()), Some("8".into()), Some("9".into())],
            shard_id: None,
        };
        assert!(m.counts_add_up());
        assert!(!Manifest { records: 4, ..m }.counts_add_up());
    }

    #[test]
    fn a_kinesis_event_id_names_its_shard() {
        assert_eq!(shard_of_event_id("shardId-000000000006:4959033827149025660855969"), Some("shardId-000000000006"));
        assert_eq!(shard_of_event_id("c81e728d9d4c2f636f067f89cc14862c"), None);
        assert_eq!(shard_of_event_id("shardId-:1"), None);
        assert_eq!(shard_of_event_id("shardId-ana@example.org:1"), None);
    }

    #[test]
    fn manifests_written_before_the_sequence_numbers_still_read() {
        let old = r#"{"batch_id":"b","source":null,"event_source_arn":null,"records":0,
            "first_sequence_number":null,"last_sequence_number":null,"written_at":"",
            "version":"0.1.0","files":[],"retry":[]}"#;
        let m: Manifest = serde_json::from_str(old).unwrap();
        assert!(m.sequence_numbers.is_empty() && m.shard_id.is_none());
    }
}
