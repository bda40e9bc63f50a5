//! What the manifests say the archive holds of one stream, for the audit (data contract,
//! sections 6 and 10): every record a manifest names, archived (in a data or error file)
//! or only to retry. The manifests of the window are read once, a page of keys at a
//! time and several manifests at once, and each record is held as a 128-bit digest of
//! its shard and sequence number (16 bytes, whatever the number's length).

use std::collections::HashSet;

use dmd_archive::manifest::Manifest;
use dmd_archive::store::{ObjectStore, StoreError};
use dmd_archive::time::{Date, DAY_MS};
use futures::StreamExt;
use twox_hash::XxHash3_128;

/// Manifests read at once.
const READ_AT_ONCE: usize = 16;

/// How far the clocks of a manifest's writer and of the stream may differ.
const CLOCK_MARGIN_MS: i64 = 15 * 60 * 1000;

/// The records of one stream that the manifests name.
#[derive(Debug, Default)]
pub struct Archived {
    archived: HashSet<u128>,
    retrying: HashSet<u128>,
    /// Manifests of this stream read.
    pub manifests: usize,
    /// Manifests of this stream written before manifests named every record: what they
    /// hold cannot be told, and their records may show as missing.
    pub without_sequence_numbers: usize,
    /// Manifests that could not be read or are not manifests, by key.
    pub unreadable: Vec<String>,
}

/// Where a record stands in the manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    Archived,
    Retrying,
    Not,
}

/// The digest of a record: its shard (Kinesis numbers records per shard; DynamoDB
/// Streams' numbers are unique in the stream, and its manifests name no shard) and its
/// sequence number without leading zeros.
fn digest(shard: Option<&str>, sequence_number: &str) -> u128 {
    let digits = sequence_number.trim_start_matches('0');
    let mut h = XxHash3_128::new();
    h.write(shard.unwrap_or("").as_bytes());
    h.write(b":");
    h.write(digits.as_bytes());
    h.finish_128()
}

impl Archived {
    /// Reads the manifests under `prefix` written since `since_ms` (all when `None`)
    /// that belong to `stream_arn` (or name no stream) and, with `only_shards`, to one of
    /// those shards (or name no shard: DynamoDB Streams' manifests do not). A record that reached the stream
    /// at or after `since_ms` is archived after it, so older manifests name none of the
    /// window's records: they are skipped by their processing day, and by their time of
    /// writing where the store lists it (S3 and a folder do), before they are read.
    pub async fn load<S: ObjectStore>(
        store: &S,
        prefix: &str,
        since_ms: Option<i64>,
        stream_arn: &str,
        only_shards: Option<&[&str]>,
    ) -> Result<Archived, StoreError> {
        let mut out = Archived::default();
        // A day earlier covers a run that started just before midnight; the margin, the
        // clocks of the writers.
        let mut after = since_ms.map(|ms| format!("{prefix}dt={}", Date(ms.div_euclid(DAY_MS) - 1)));
        let written_since = since_ms.map(|ms| ms - CLOCK_MARGIN_MS);
        loop {
            let page = store.list(prefix, after.as_deref()).await?;
            let keys: Vec<String> = page
                .objects
                .into_iter()
                .filter(|o| o.key.ends_with(".json"))
                .filter(|o| written_since.is_none_or(|w| o.modified_ms.is_none_or(|m| m >= w)))
                .map(|o| o.key)
                .collect();
            let mut read =
                futures::stream::iter(keys).map(|k| async move { (store.get(&k).await, k) }).buffered(READ_AT_ONCE);
            while let Some((got, key)) = read.next().await {
                match got.ok().flatten().and_then(|b| serde_json::from_slice::<Manifest>(&b).ok()) {
                    Some(m) => out.add(&m, stream_arn, only_shards),
                    None => out.unreadable.push(key),
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        Ok(out)
    }

    /// Adds what `m` names, when it is a manifest of `stream_arn` (and, with
    /// `only_shards`, of one of them or of no shard).
    pub fn add(&mut self, m: &Manifest, stream_arn: &str, only_shards: Option<&[&str]>) {
        if m.event_source_arn.as_deref().is_some_and(|a| a != stream_arn) {
            return;
        }
        self.manifests += 1;
        if m.shard_id.as_deref().is_some_and(|s| only_shards.is_some_and(|o| !o.contains(&s))) {
            return;
        }
        if m.sequence_numbers.is_empty() && m.records > 0 {
            self.without_sequence_numbers += 1;
            return;
        }
        let shard = m.shard_id.as_deref();
        let retry: HashSet<&str> = m.retry.iter().map(String::as_str).collect();
        for seq in m.sequence_numbers.iter().flatten() {
            let d = digest(shard, seq);
            if retry.contains(seq.as_str()) {
                self.retrying.insert(d);
            } else {
                self.archived.insert(d);
            }
        }
    }

    /// Where the record `sequence_number` of `shard` (none for DynamoDB Streams) stands.
    pub fn named(&self, shard: Option<&str>, sequence_number: &str) -> Named {
        let d = digest(shard, sequence_number);
        if self.archived.contains(&d) {
            Named::Archived
        } else if self.retrying.contains(&d) {
            Named::Retrying
        } else {
            Named::Not
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(arn: &str, shard: Option<&str>, seqs: &[&str], retry: &[&str]) -> Manifest {
        serde_json::from_value(serde_json::json!({
            "batch_id": "b", "source": "aws:kinesis", "event_source_arn": arn, "records": seqs.len(),
            "first_sequence_number": null, "last_sequence_number": null, "written_at": "", "version": "0",
            "files": [], "retry": retry, "sequence_numbers": seqs, "shard_id": shard,
        }))
        .unwrap()
    }

    #[test]
    fn records_are_archived_retrying_or_not_named_per_shard() {
        let mut a = Archived::default();
        a.add(&manifest("s", Some("shardId-1"), &["1", "2", "3"], &["3"]), "s", None);
        a.add(&manifest("other", Some("shardId-1"), &["4"], &[]), "s", None);
        assert_eq!(a.named(Some("shardId-1"), "2"), Named::Archived);
        assert_eq!(a.named(Some("shardId-1"), "0002"), Named::Archived);
        assert_eq!(a.named(Some("shardId-1"), "3"), Named::Retrying);
        assert_eq!(a.named(Some("shardId-2"), "2"), Named::Not, "another shard's number 2");
        assert_eq!(a.named(Some("shardId-1"), "4"), Named::Not, "another stream's manifest");
        // A retried record archived by a later batch is archived.
        a.add(&manifest("s", Some("shardId-1"), &["3"], &[]), "s", None);
        assert_eq!(a.named(Some("shardId-1"), "3"), Named::Archived);
        assert_eq!(a.manifests, 2);
    }

    #[test]
    fn one_shards_audit_holds_only_that_shards_records() {
        let mut a = Archived::default();
        let only: &[&str] = &["shardId-2"];
        a.add(&manifest("s", Some("shardId-1"), &["1"], &[]), "s", Some(only));
        a.add(&manifest("s", Some("shardId-2"), &["2"], &[]), "s", Some(only));
        a.add(&manifest("s", None, &["3"], &[]), "s", Some(only));
        assert_eq!(a.named(Some("shardId-1"), "1"), Named::Not, "another shard's records are not held");
        assert_eq!(a.named(Some("shardId-2"), "2"), Named::Archived);
        assert_eq!(a.named(None, "3"), Named::Archived, "a manifest that names no shard is held");
        assert_eq!((a.manifests, a.archived.len()), (3, 2));
    }
}
