//! A batch, end to end: records in, grouped by (type, partition date) in stream order,
//! encoded into one Avro file per group plus one error file, written through a sink,
//! and answered with the partial batch response.
//!
//! Every record ends in exactly one place: a data file, the error file, or (when its
//! file could not be written) `batchItemFailures`, which makes Lambda deliver it again.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::attr::{write_plain, AttrValue, StringMode, REDACTED};
use crate::avro::{put_long, put_null, put_some, put_str, write_container, Catalog, Column, SchemaError};
use crate::config::Settings;
use crate::error::{ErrorKind, EventError, RecordError};
use crate::item::{convert, detect_type, AttrMode, Columns, Field, RecordType};
use crate::scrub::{contains_pii, scrub_failed_record};
use crate::sink::{ObjectSink, SinkError};
use crate::source::{receive, salvage, Change, ChangeType, Received, Source};
use crate::time::{format_millis, Date};

/// Uncompressed bytes per Avro block: large enough to compress well, small enough for
/// readers to split files.
pub const BLOCK_BYTES: usize = 256 * 1024;

/// Uncompressed bytes of a batch from which its files are compressed on several threads.
const PARALLEL_BYTES: usize = 128 * 1024;
/// At most this many compression threads.
const MAX_THREADS: usize = 4;

/// `Content-Type` of the data files.
pub const AVRO_CONTENT_TYPE: &str = "application/avro";
/// `Content-Type` of the error files (JSON Lines).
pub const ERRORS_CONTENT_TYPE: &str = "application/x-ndjson";

/// The archive's transformation, built once per process.
#[derive(Debug)]
pub struct Pipeline {
    settings: Settings,
    catalog: &'static Catalog,
    threads: usize,
}

/// What a file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    Data { record_type: RecordType, date: String },
    Errors,
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

/// A processed batch, not yet written.
#[derive(Debug)]
pub struct Batch {
    pub source: Option<Source>,
    pub records: usize,
    pub files: Vec<PendingFile>,
    pub error_types: BTreeMap<ErrorKind, usize>,
    /// `change_time` of the oldest archived change, for the archive's latency figure.
    pub oldest_change: Option<i64>,
}

/// One record that failed, on its way to the error file.
struct Failure {
    index: usize,
    error: RecordError,
    record_type: Option<RecordType>,
    source: Option<Source>,
    sequence_number: Option<String>,
    /// The record as received, PII rules applied, compact JSON.
    record: Box<RawValue>,
    /// The original text, which the error file id is derived from.
    id_source: String,
}

/// One (type, date) group being encoded.
struct Group {
    record_type: RecordType,
    date: String,
    data: Vec<u8>,
    blocks: Vec<(usize, u64)>,
    block_start: usize,
    block_count: u64,
    hasher: Sha256,
    records: Vec<(usize, Option<String>)>,
}

impl Group {
    fn new(record_type: RecordType, date: String) -> Group {
        let mut hasher = Sha256::new();
        hasher.update(record_type.as_str());
        hasher.update(b"\0");
        hasher.update(date.as_bytes());
        Group {
            record_type,
            date,
            data: Vec::with_capacity(64 * 1024),
            blocks: Vec::new(),
            block_start: 0,
            block_count: 0,
            hasher,
            records: Vec::new(),
        }
    }

    fn added(&mut self, index: usize, seq: &str, change_id: &str) {
        self.hasher.update(b"\n");
        self.hasher.update(seq.as_bytes());
        self.hasher.update(b"\0");
        self.hasher.update(change_id.as_bytes());
        self.records.push((index, Some(seq.to_owned())));
        self.block_count += 1;
        if self.data.len() - self.block_start >= BLOCK_BYTES {
            self.blocks.push((self.data.len(), self.block_count));
            self.block_start = self.data.len();
            self.block_count = 0;
        }
    }
}

/// Values shared by every record of a batch.
struct Context<'p> {
    settings: &'p Settings,
    archived_at: i64,
}

impl Pipeline {
    pub fn new(settings: Settings) -> Result<Pipeline, &'static SchemaError> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_THREADS);
        Ok(Pipeline { settings, catalog: Catalog::builtin()?, threads })
    }

    /// Sets how many threads compress the files of a batch (default: the available
    /// parallelism, at most 4; Lambda gives 2 vCPUs from 1,769 MB of memory).
    pub fn with_threads(mut self, threads: usize) -> Pipeline {
        self.threads = threads.clamp(1, MAX_THREADS);
        self
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Processes one Lambda event payload (either source) at time `now` (epoch ms).
    /// Fails only when the payload is not a stream event; each record's own failure goes
    /// to the error file.
    pub fn process(&self, payload: &[u8], now: i64) -> Result<Batch, EventError> {
        let raws = crate::source::split_event(payload)?;
        let ctx = Context { settings: &self.settings, archived_at: now };
        let mut groups: Vec<Group> = Vec::new();
        let mut index: HashMap<(RecordType, Date), usize> = HashMap::new();
        let mut failures = Vec::new();
        let mut source = None;
        let mut seen_sources = Vec::new();
        let mut oldest_change: Option<i64> = None;
        let mut scratch = Vec::with_capacity(1024);
        for (i, raw) in raws.iter().enumerate() {
            let received = match receive(raw) {
                Ok(r) => r,
                Err(error) => {
                    let (value, salvaged) = salvage(raw);
                    if let Some(s) = value.as_ref().and_then(|v| v.get("eventSource")).and_then(|s| s.as_str()) {
                        if seen_sources.len() < 4 && !seen_sources.iter().any(|x| x == s) {
                            seen_sources.push(s.to_owned());
                        }
                    }
                    let record = self.failed_record(raw.get(), value, None, None);
                    failures.push(Failure {
                        index: i,
                        error,
                        record_type: None,
                        source: salvaged.source,
                        sequence_number: salvaged.sequence_number,
                        record,
                        id_source: raw.get().to_owned(),
                    });
                    continue;
                }
            };
            source.get_or_insert(received.source);
            let mut record_type = None;
            let result = received.change().and_then(|change| {
                let rt = detect_type(&change.image, &change.keys)?;
                record_type = Some(rt);
                let deleted = change.change_type == ChangeType::Remove;
                let extra = |a: &str| ctx.settings.is_extra_pii(a);
                let cols = convert(&change.image, &change.keys, rt, deleted, &extra)?;
                let date = Date::of_millis(cols.partition_millis);
                let gi = *index.entry((rt, date)).or_insert_with(|| {
                    groups.push(Group::new(rt, date.to_string()));
                    groups.len() - 1
                });
                let g = &mut groups[gi];
                let plan = &self.catalog.get(rt).plan;
                encode_record(plan, &change, &cols, &ctx, &g.date, &mut g.data, &mut scratch);
                g.added(i, &change.sequence_number, &change.change_id);
                oldest_change = Some(oldest_change.map_or(change.change_time, |o| o.min(change.change_time)));
                Ok(())
            });
            if let Err(error) = result {
                failures.push(self.failure_of_received(i, raw, &received, error, record_type));
            }
        }
        if !raws.is_empty() && source.is_none() && failures.iter().all(|f| f.source.is_none()) {
            let seen = if seen_sources.is_empty() { "missing".to_string() } else { seen_sources.join(", ") };
            return Err(EventError::UnsupportedSource(seen));
        }
        let source = source.or_else(|| failures.iter().find_map(|f| f.source));
        let mut error_types = BTreeMap::new();
        for f in &failures {
            *error_types.entry(f.error.kind).or_insert(0) += 1;
        }
        let mut files = self.data_files(groups);
        if !failures.is_empty() {
            files.push(self.error_file(failures, source, now));
        }
        Ok(Batch { source, records: raws.len(), files, error_types, oldest_change })
    }

    fn failure_of_received(
        &self,
        index: usize,
        raw: &RawValue,
        received: &Received<'_>,
        error: RecordError,
        record_type: Option<RecordType>,
    ) -> Failure {
        // For Kinesis, the decoded change record when it is JSON, else the raw record.
        let decoded = received
            .decoded
            .as_deref()
            .and_then(|d| serde_json::from_slice::<serde_json::Value>(d).ok().map(|v| (d, v)));
        let record = match decoded {
            Some((text, value)) => self.failed_record(&String::from_utf8_lossy(text), Some(value), record_type, None),
            None => {
                let value = serde_json::from_str(raw.get()).ok();
                self.failed_record(raw.get(), value, record_type, received.decoded.as_deref())
            }
        };
        Failure {
            index,
            error,
            record_type,
            source: Some(received.source),
            sequence_number: received.sequence_number.as_deref().map(str::to_owned),
            record,
            id_source: raw.get().to_owned(),
        }
    }

    /// The record for an error file: compact JSON of `text`, with the PII rules applied
    /// when it may be a deletion. `undecodable` is Kinesis data that is not JSON: when it
    /// mentions a REMOVE and holds PII, it is withheld (`kinesis.data` = `REDACTED`).
    fn failed_record(
        &self,
        text: &str,
        value: Option<serde_json::Value>,
        record_type: Option<RecordType>,
        undecodable: Option<&[u8]>,
    ) -> Box<RawValue> {
        let Some(mut value) = value else {
            // Not JSON at all cannot happen for a record of a parsed event; keep a string.
            return json_raw(&serde_json::Value::String(text.to_owned()));
        };
        let event_name = value.get("eventName").and_then(|v| v.as_str());
        let clearly_not_deleted = matches!(event_name, Some("INSERT") | Some("MODIFY"));
        if let Some(bytes) = undecodable {
            let text = String::from_utf8_lossy(bytes);
            if text.contains("REMOVE") && contains_pii(&text) {
                if let Some(k) = value.get_mut("kinesis").and_then(|k| k.as_object_mut()) {
                    k.insert("data".into(), serde_json::Value::String(REDACTED.into()));
                }
            }
            return json_raw(&value);
        }
        if clearly_not_deleted {
            return RawValue::from_string(minify_json(text)).unwrap_or_else(|_| json_raw(&value));
        }
        let named = |a: &str| {
            self.settings.is_extra_pii(a)
                || match record_type {
                    Some(rt) => rt.spec().pii.contains(&a),
                    None => RecordType::ALL.iter().any(|rt| rt.spec().pii.contains(&a)),
                }
        };
        scrub_failed_record(&mut value, &named);
        json_raw(&value)
    }

    /// Compresses and frames the groups, on several threads when there is enough work.
    fn data_files(&self, groups: Vec<Group>) -> Vec<PendingFile> {
        let total: usize = groups.iter().map(|g| g.data.len()).sum();
        let workers = self.threads.min(groups.len());
        if workers < 2 || total < PARALLEL_BYTES {
            return groups.into_iter().map(|g| self.data_file(g)).collect();
        }
        // Largest first, each to the least loaded worker.
        let mut order: Vec<(usize, Group)> = groups.into_iter().enumerate().collect();
        order.sort_by_key(|(_, g)| std::cmp::Reverse(g.data.len()));
        let mut buckets: Vec<(usize, Vec<(usize, Group)>)> = (0..workers).map(|_| (0, Vec::new())).collect();
        for item in order {
            if let Some(b) = buckets.iter_mut().min_by_key(|(load, _)| *load) {
                b.0 += item.1.data.len();
                b.1.push(item);
            }
        }
        let mut done: Vec<(usize, PendingFile)> = std::thread::scope(|s| {
            let handles: Vec<_> = buckets
                .into_iter()
                .map(|(_, bucket)| {
                    s.spawn(move || bucket.into_iter().map(|(i, g)| (i, self.data_file(g))).collect::<Vec<_>>())
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
        });
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, f)| f).collect()
    }

    fn data_file(&self, mut g: Group) -> PendingFile {
        if g.block_count > 0 {
            g.blocks.push((g.data.len(), g.block_count));
        }
        let digest = g.hasher.finalize();
        let id = hex(&digest[..16]);
        let mut sync = [0u8; 16];
        sync.copy_from_slice(&digest[16..32]);
        let schema = self.catalog.get(g.record_type);
        let mut body = Vec::with_capacity(g.data.len() / 3 + schema.json.len() + 64);
        // Compression writes into memory only; an error here would be a codec defect.
        if let Err(e) = write_container(&schema.json, self.settings.codec, &sync, &g.data, &g.blocks, &mut body) {
            tracing::error!(error = %e, "compression failed; writing the file uncompressed");
            body.clear();
            let _ = write_container(&schema.json, crate::avro::Codec::Null, &sync, &g.data, &g.blocks, &mut body);
        }
        PendingFile {
            key: format!("{}{}/dt={}/{}.avro", self.settings.data_prefix, g.record_type, g.date, id),
            body: Bytes::from(body),
            content_type: AVRO_CONTENT_TYPE,
            kind: FileKind::Data { record_type: g.record_type, date: g.date },
            records: g.records,
        }
    }

    fn error_file(&self, failures: Vec<Failure>, source: Option<Source>, now: i64) -> PendingFile {
        #[derive(Serialize)]
        struct Line<'a> {
            error_type: &'a str,
            message: &'a str,
            record_type: Option<&'a str>,
            source: &'a str,
            sequence_number: &'a str,
            failed_at: &'a str,
            record: &'a RawValue,
        }
        let failed_at = format_millis(now);
        let mut hasher = Sha256::new();
        let mut body = Vec::new();
        let mut records = Vec::with_capacity(failures.len());
        for f in &failures {
            hasher.update(f.id_source.as_bytes());
            hasher.update(b"\n");
            let line = Line {
                error_type: f.error.kind.as_str(),
                message: &f.error.message,
                record_type: f.record_type.map(RecordType::as_str),
                source: f.source.or(source).unwrap_or(Source::DynamoDb).as_str(),
                // A record whose sequence number cannot be read gets "" (the field is a
                // string); it cannot be reported for a retry either (see `deliver`).
                sequence_number: f.sequence_number.as_deref().unwrap_or(""),
                failed_at: &failed_at,
                record: &f.record,
            };
            // Serializing plain strings and valid raw JSON into memory cannot fail.
            if serde_json::to_writer(&mut body, &line).is_ok() {
                body.push(b'\n');
            }
            records.push((f.index, f.sequence_number.clone()));
        }
        let id = hex(&hasher.finalize()[..16]);
        PendingFile {
            key: format!("{}dt={}/{}.json", self.settings.error_prefix, Date::of_millis(now), id),
            body: Bytes::from(body),
            content_type: ERRORS_CONTENT_TYPE,
            kind: FileKind::Errors,
            records,
        }
    }
}

fn json_raw(v: &serde_json::Value) -> Box<RawValue> {
    // A `Value` always serializes, and its text is always valid JSON.
    serde_json::value::to_raw_value(v).unwrap_or_else(|_| RawValue::from_string("null".into()).unwrap_or_default())
}

/// Removes insignificant white space from JSON text, keeping key order and number text.
pub fn minify_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_str = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Encodes one record in Avro binary, column by column in schema order.
fn encode_record(
    plan: &[Column],
    change: &Change<'_>,
    cols: &Columns<'_, '_>,
    ctx: &Context<'_>,
    date: &str,
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) {
    let deleted = change.change_type == ChangeType::Remove;
    let opt_str = |out: &mut Vec<u8>, s: Option<&str>| match s {
        Some(s) => {
            put_some(out);
            put_str(out, s);
        }
        None => put_null(out),
    };
    for col in plan {
        match *col {
            Column::RecordType => put_str(out, cols.record_type.as_str()),
            Column::ChangeType => put_str(out, change.change_type.as_str()),
            Column::ChangeId => put_str(out, &change.change_id),
            Column::SequenceNumber => put_str(out, &change.sequence_number),
            Column::ChangeTime => put_long(out, change.change_time),
            Column::ArchivedAt => put_long(out, ctx.archived_at),
            Column::PartitionDate => put_str(out, date),
            Column::SourceTable => opt_str(out, change.source_table.as_deref()),
            Column::Keys => {
                let entries = change.keys.0.iter().map(|(k, v)| (k.as_str(), v, AttrMode::Keep));
                put_text_map(out, change.keys.0.len(), entries, scratch);
            }
            Column::IsDeleted => out.push(u8::from(deleted)),
            Column::DeletedAt => {
                if deleted {
                    put_some(out);
                    put_long(out, change.change_time);
                } else {
                    put_null(out);
                }
            }
            Column::DeletionKind => opt_str(out, change.deletion_kind.map(|d| d.as_str())),
            Column::Attributes => {
                let entries = cols.attributes.iter().map(|(k, v, m)| (*k, *v, *m));
                put_text_map(out, cols.attributes.len(), entries, scratch);
            }
            Column::WellKnown(i) => match &cols.fields[i] {
                Field::Null => put_null(out),
                Field::Str(s) => {
                    put_some(out);
                    put_str(out, s);
                }
                Field::Long(v) | Field::Timestamp(v) => {
                    put_some(out);
                    put_long(out, *v);
                }
                Field::List(xs) => {
                    put_some(out);
                    if !xs.is_empty() {
                        put_long(out, xs.len() as i64);
                        xs.iter().for_each(|s| put_str(out, s));
                    }
                    put_long(out, 0);
                }
            },
            Column::ReferenceId => {
                // Written in place, without building the string.
                let parts = cols.reference_parts();
                put_some(out);
                put_long(out, (parts.iter().map(|p| p.len()).sum::<usize>() + 2) as i64);
                for (j, p) in parts.into_iter().enumerate() {
                    if j > 0 {
                        out.push(b'#');
                    }
                    out.extend_from_slice(p.as_bytes());
                }
            }
            Column::SystemId => opt_str(out, ctx.settings.system_id.as_deref()),
            Column::DatabaseId => opt_str(out, ctx.settings.database_id.as_deref()),
            Column::MemberId => opt_str(out, ctx.settings.member_id.as_deref()),
        }
    }
}

/// An Avro `map<string>` of attribute names to plain JSON text.
fn put_text_map<'v, 'a: 'v>(
    out: &mut Vec<u8>,
    len: usize,
    entries: impl Iterator<Item = (&'v str, &'v AttrValue<'a>, AttrMode)>,
    scratch: &mut Vec<u8>,
) {
    if len > 0 {
        put_long(out, len as i64);
        for (k, v, mode) in entries {
            put_str(out, k);
            match mode {
                AttrMode::Redact => put_str(out, REDACTED),
                AttrMode::Keep | AttrMode::Scrub => {
                    scratch.clear();
                    let m = if mode == AttrMode::Scrub { StringMode::Scrub } else { StringMode::Keep };
                    write_plain(v, m, scratch);
                    crate::avro::put_bytes(out, scratch);
                }
            }
        }
    }
    put_long(out, 0);
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
#[derive(Debug)]
pub struct Delivery {
    pub answer: BatchResponse,
    pub written: Vec<Written>,
    pub failed: Vec<NotWritten>,
}

/// Records that must be retried but have no sequence number to report them by: the
/// whole invocation has to fail so that Lambda retries the batch.
#[derive(Debug, thiserror::Error)]
#[error(
    "{count} record(s) could not be written and have no sequence number to report; the batch must be retried whole"
)]
pub struct Unreportable {
    pub count: usize,
    pub delivery: Delivery,
}

/// Writes the files of a batch, at most `concurrency` at a time. A file that cannot be
/// written puts all its records into `batchItemFailures`; once `deadline` has passed no
/// new write starts, and the files left are reported the same way.
pub async fn deliver<S: ObjectSink>(
    sink: &S,
    files: Vec<PendingFile>,
    concurrency: usize,
    deadline: Option<Instant>,
) -> Result<Delivery, Unreportable> {
    let results: Vec<(PendingFile, Result<(), SinkError>)> = futures::stream::iter(files)
        .map(|f| async move {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                let e = SinkError {
                    key: f.key.clone(),
                    message: "not started: the invocation is about to time out".into(),
                    transient: true,
                };
                return (f, Err(e));
            }
            let r = sink.put(&f.key, f.body.clone(), f.content_type).await;
            (f, r)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut retry: Vec<(usize, Option<String>)> = Vec::new();
    let mut delivery = Delivery { answer: BatchResponse::default(), written: Vec::new(), failed: Vec::new() };
    for (f, r) in results {
        let records = f.records.len();
        match r {
            Ok(()) => delivery.written.push(Written { key: f.key, bytes: f.body.len(), kind: f.kind, records }),
            Err(error) => {
                retry.extend(f.records);
                delivery.failed.push(NotWritten { key: f.key, kind: f.kind, records, error });
            }
        }
    }
    delivery.written.sort_by(|a, b| a.key.cmp(&b.key));
    retry.sort();
    let missing = retry.iter().filter(|(_, s)| s.as_deref().is_none_or(str::is_empty)).count();
    delivery.answer.batch_item_failures = retry
        .into_iter()
        .filter_map(|(_, s)| s.filter(|s| !s.is_empty()))
        .map(|item_identifier| ItemFailure { item_identifier })
        .collect();
    if missing > 0 {
        return Err(Unreportable { count: missing, delivery });
    }
    Ok(delivery)
}

/// The figures of one invocation: what `dmd archive` prints after the answer, and what
/// the Lambda logs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub source: Option<String>,
    /// Records in the batch.
    pub records: usize,
    /// Records written to data files, by type and partition date.
    pub archived: BTreeMap<String, BTreeMap<String, usize>>,
    /// Records written to error files.
    pub errors: usize,
    /// Failed records by `error_type` (written or not).
    pub error_types: BTreeMap<String, usize>,
    /// Records in `batchItemFailures`.
    pub retry: usize,
    /// Keys written.
    pub files: Vec<String>,
    /// Keys that could not be written.
    pub failed_files: Vec<String>,
    pub bytes: usize,
}

impl Summary {
    pub fn new(
        batch_source: Option<Source>,
        records: usize,
        error_types: &BTreeMap<ErrorKind, usize>,
        d: &Delivery,
    ) -> Summary {
        let mut s = Summary {
            source: batch_source.map(|s| s.as_str().to_owned()),
            records,
            error_types: error_types.iter().map(|(k, v)| (k.as_str().to_owned(), *v)).collect(),
            retry: d.answer.batch_item_failures.len(),
            ..Summary::default()
        };
        for w in &d.written {
            s.files.push(w.key.clone());
            s.bytes += w.bytes;
            match &w.kind {
                FileKind::Data { record_type, date } => {
                    *s.archived.entry(record_type.to_string()).or_default().entry(date.clone()).or_default() +=
                        w.records;
                }
                FileKind::Errors => s.errors += w.records,
            }
        }
        s.failed_files = d.failed.iter().map(|f| f.key.clone()).collect();
        s
    }

    pub fn archived_records(&self) -> usize {
        self.archived.values().flat_map(|m| m.values()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minify_keeps_strings_and_numbers() {
        let text = "{\n  \"a\" : \"x  y\\\" z\",\n  \"n\": 1.50e3 ,\"l\":[ 1, 2 ]\n}";
        assert_eq!(minify_json(text), r#"{"a":"x  y\" z","n":1.50e3,"l":[1,2]}"#);
    }
}
