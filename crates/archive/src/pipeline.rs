//! The one pipeline entry: a Lambda event payload in, its files written through a sink,
//! the outcome (answer, summary, files) out. The `archiver` function and every `dmd`
//! command that archives call [`Pipeline::run`] and hold no pipeline step of their own.
//!
//! The path of one record: [`envelope`](crate::envelope) splits the event,
//! [`record`](crate::record) reads the change, [`record_type`](crate::record_type) finds
//! its type, [`convert`](crate::convert) builds its columns through the
//! [`pii`](crate::pii) policy, [`avro::encode`](crate::avro::encode) appends it to its
//! (type, date) [`group`](crate::group), and [`data_file`](crate::data_file) frames the
//! groups; a record that fails goes through the policy to the
//! [`error_file`](crate::error_file). [`deliver`](crate::deliver) writes the files and
//! builds the answer, [`summary`](crate::summary) counts.

use std::collections::{BTreeMap, HashMap};

use crate::avro::encode::{encode_record, Shared};
use crate::avro::{Catalog, SchemaError};
use crate::config::Settings;
use crate::convert::convert;
use crate::data_file::{data_files, Framing, MAX_THREADS};
use crate::deliver::{deliver, BatchResponse, Deadline, Delivery, PendingFile};
use crate::envelope::{split_event, unsupported_source, Source};
use crate::error::{ErrorKind, EventError};
use crate::error_file::{error_file, ErrorLine};
use crate::group::Group;
use crate::manifest::{shard_of_event_id, write_manifest, BatchIdentity};
use crate::pii::{self, Policy};
use crate::raw_record::OnePass;
use crate::record::{receive_parsed, receive_text, ChangeType, Rejected};
use crate::record_type::{detect_type, RecordType};
use crate::sink::ObjectSink;
use crate::summary::Summary;
use crate::time::Date;
use crate::walk::walk_records;

/// The wall clock of the pipeline, in epoch milliseconds: the system's in production, a
/// fixed one in tests and replays that must write the same bytes.
pub trait Clock: Send + Sync {
    fn now_millis(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        crate::time::now_millis()
    }
}

/// A clock that always says the same time.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_millis(&self) -> i64 {
        self.0
    }
}

/// How the files of one run are written.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Files written at once.
    pub concurrency: usize,
    /// The invocation's deadline, if it has one.
    pub deadline: Option<Deadline>,
}

/// Files of a batch written at once, by default. A batch holds at most one data file per
/// record type and partition date, and one error file: 4 types over 7 dates is 28, and
/// 32 writes them all in one round, so an invocation waits one PUT for its files and one
/// for its manifest (docs/performance.md, "Invocation time against its bound"); with 8,
/// 28 files took four rounds. Each write holds a body the batch already holds, and a
/// connection of the pool that later invocations reuse.
pub const WRITE_CONCURRENCY: usize = 32;

impl Default for Limits {
    fn default() -> Self {
        Limits { concurrency: WRITE_CONCURRENCY, deadline: None }
    }
}

/// The archive's transformation, built once per process.
#[derive(Debug)]
pub struct Pipeline {
    settings: Settings,
    policy: Policy,
    catalog: &'static Catalog,
    threads: usize,
}

/// A processed batch, not yet written.
#[derive(Debug)]
pub struct Batch {
    pub source: Option<Source>,
    pub records: usize,
    /// The batch's id, source and sequence numbers, for its manifest.
    pub identity: BatchIdentity,
    pub files: Vec<PendingFile>,
    pub error_types: BTreeMap<ErrorKind, usize>,
    /// Each failed record: its position, error type and message (PII removed).
    pub failures: Vec<LineFailure>,
    /// `change_time` of the oldest archived change, for the archive's latency figure.
    pub oldest_change: Option<i64>,
    /// When it was processed (epoch ms): the time its manifest gives.
    pub processed_at: i64,
}

impl Batch {
    /// Bytes of the files it holds.
    pub fn bytes(&self) -> usize {
        self.files.iter().map(|f| f.body.len()).sum()
    }
}

/// Why one record of a batch failed, as its error line says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineFailure {
    pub index: usize,
    pub kind: ErrorKind,
    pub message: String,
}

/// What one run did.
#[derive(Debug)]
pub struct Outcome {
    pub summary: Summary,
    /// The files written and those that were not.
    pub delivery: Delivery,
    /// Milliseconds from the oldest archived change to the end of the run.
    pub oldest_change_age_ms: Option<i64>,
}

impl Outcome {
    /// The partial batch response.
    pub fn answer(&self) -> &BatchResponse {
        &self.delivery.answer
    }

    /// Records that could not be written and have no sequence number to report them by:
    /// the caller must fail the invocation so that the whole batch is retried.
    pub fn unreportable(&self) -> usize {
        self.delivery.unreportable
    }
}

impl Pipeline {
    pub fn new(settings: Settings) -> Result<Pipeline, SchemaError> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_THREADS);
        let policy = Policy::new(settings.pii_attributes.clone());
        Ok(Pipeline { settings, policy, catalog: Catalog::builtin()?, threads })
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

    /// The entry: processes one Lambda event payload (either source) and writes its files
    /// through `sink`. Fails only when the payload is not a stream event, with nothing
    /// written; each record's own failure goes to the error file.
    pub async fn run<S: ObjectSink>(
        &self,
        payload: &[u8],
        clock: &dyn Clock,
        sink: &S,
        limits: Limits,
    ) -> Result<Outcome, EventError> {
        let batch = self.process(payload, clock.now_millis())?;
        Ok(self.write(batch, clock, sink, limits).await)
    }

    /// Writes a processed batch (its files, then its manifest) through `sink`: the second
    /// half of [`Pipeline::run`], for callers that process several payloads before
    /// writing any.
    pub async fn write<S: ObjectSink>(&self, batch: Batch, clock: &dyn Clock, sink: &S, limits: Limits) -> Outcome {
        let now = batch.processed_at;
        let files_deadline = limits.deadline.map(Deadline::for_files);
        let delivery = deliver(sink, batch.files, limits.concurrency, files_deadline).await;
        let (prefix, manifest_deadline) = (&self.settings.manifest_prefix, limits.deadline.map(Deadline::for_manifest));
        let delivery = write_manifest(sink, prefix, &batch.identity, delivery, now, manifest_deadline).await;
        let summary = Summary::new(batch.source, batch.records, &batch.error_types, &delivery);
        let now = clock.now_millis();
        let oldest_change_age_ms =
            batch.oldest_change.filter(|_| summary.archived_records() > 0).map(|t| now.saturating_sub(t));
        Outcome { summary, delivery, oldest_change_age_ms }
    }

    /// Processes one payload at time `now` (epoch ms) into files, without writing them.
    pub fn process(&self, payload: &[u8], now: i64) -> Result<Batch, EventError> {
        let mut batch = Builder::new(self, now);
        if walk_records::<OnePass>(payload, |text, parsed| batch.add(text, parsed)).is_ok() {
            return batch.finish();
        }
        // Not the plain shape the walk reads: the reference split decides, record by record.
        let raws = split_event(payload)?;
        let mut batch = Builder::new(self, now);
        for raw in raws {
            batch.add(raw.get(), None);
        }
        batch.finish()
    }

    /// A rejected record through the PII policy: the only way to an error line.
    fn error_line(&self, index: usize, f: Rejected, digest: [u8; 32]) -> ErrorLine {
        ErrorLine {
            index,
            kind: f.error.kind,
            message: pii::message(&f.error),
            record_type: f.record_type,
            source: f.source,
            sequence_number: f.sequence_number,
            record: f.record.clean(&self.policy),
            digest,
        }
    }
}

/// The shard a Kinesis record's text names in its `eventID`, read leniently (the record
/// failed to parse).
fn shard_of_text(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    v.get("eventID").and_then(serde_json::Value::as_str).and_then(shard_of_event_id).map(str::to_owned)
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).into()
}

/// A batch being processed, one record at a time in stream order.
struct Builder<'p, 'a> {
    pipeline: &'p Pipeline,
    now: i64,
    shared: Shared<'p>,
    /// Each record's JSON text.
    texts: Vec<&'a str>,
    groups: Vec<Group>,
    index: HashMap<(RecordType, Date), usize>,
    failures: Vec<(usize, Rejected, [u8; 32])>,
    source: Option<Source>,
    oldest_change: Option<i64>,
    scratch: Vec<u8>,
    identity: BatchIdentity,
}

impl<'p, 'a> Builder<'p, 'a> {
    fn new(pipeline: &'p Pipeline, now: i64) -> Self {
        let settings = &pipeline.settings;
        Builder {
            pipeline,
            now,
            shared: Shared {
                archived_at: now,
                system_id: settings.system_id.as_deref(),
                database_id: settings.database_id.as_deref(),
                member_id: settings.member_id.as_deref(),
            },
            texts: Vec::new(),
            groups: Vec::new(),
            index: HashMap::new(),
            failures: Vec::new(),
            source: None,
            oldest_change: None,
            scratch: Vec::with_capacity(1024),
            identity: BatchIdentity::default(),
        }
    }

    /// One record: its JSON text, and its one-pass parse when there is one (else the
    /// record is parsed from its text).
    fn add(&mut self, text: &'a str, parsed: Option<OnePass<'a>>) {
        let i = self.texts.len();
        self.texts.push(text);
        let digest = || sha256(text.as_bytes());
        let received = match parsed {
            Some(one) => receive_parsed(text, one),
            None => receive_text(text),
        };
        let mut received = match received {
            Ok(r) => r,
            Err(rejected) => {
                self.identity.add(text.as_bytes(), rejected.sequence_number.clone());
                if self.identity.shard_id.is_none() && rejected.source == Some(Source::Kinesis) {
                    // A batch of rejected records still names its shard.
                    self.identity.shard_id = shard_of_text(text);
                }
                self.failures.push((i, rejected, digest()));
                return;
            }
        };
        self.identity.add(text.as_bytes(), received.sequence_number.as_deref().map(str::to_owned));
        if self.identity.event_source_arn.is_none() {
            self.identity.event_source_arn = received.event_source_arn().map(str::to_owned);
        }
        if self.identity.shard_id.is_none() && received.source == Source::Kinesis {
            self.identity.shard_id = received.event_id().and_then(shard_of_event_id).map(str::to_owned);
        }
        self.source.get_or_insert(received.source);
        let mut record_type = None;
        let (policy, catalog) = (&self.pipeline.policy, self.pipeline.catalog);
        let result = received.change().and_then(|change| {
            let rt = detect_type(&change.image, &change.keys)?;
            record_type = Some(rt);
            let redactor = policy.for_change(rt, change.change_type == ChangeType::Remove);
            let cols = convert(&change.image, &change.keys, &redactor, rt)?;
            let date = Date::of_millis(cols.partition_millis);
            let groups = &mut self.groups;
            let gi = *self.index.entry((rt, date)).or_insert_with(|| {
                groups.push(Group::new(rt, date.to_string()));
                groups.len() - 1
            });
            let g = &mut groups[gi];
            let plan = &catalog.get(rt).plan;
            encode_record(plan, &change, &redactor, &cols, &self.shared, &g.date, &mut g.data, &mut self.scratch);
            g.added(i, &change.sequence_number, &change.change_id);
            self.oldest_change = Some(self.oldest_change.map_or(change.change_time, |o| o.min(change.change_time)));
            Ok(())
        });
        if let Err(error) = result {
            self.failures.push((i, received.reject(error, record_type), digest()));
        }
    }

    fn finish(self) -> Result<Batch, EventError> {
        let Builder { pipeline, now, texts, groups, failures, source, oldest_change, mut identity, .. } = self;
        if !texts.is_empty() && source.is_none() && failures.iter().all(|(_, f, _)| f.source.is_none()) {
            return Err(EventError::UnsupportedSource(unsupported_source(&texts)));
        }
        let source = source.or_else(|| failures.iter().find_map(|(_, f, _)| f.source));
        let mut error_types = BTreeMap::new();
        for (_, f, _) in &failures {
            *error_types.entry(f.error.kind).or_insert(0) += 1;
        }
        let settings = &pipeline.settings;
        let framing = Framing {
            catalog: pipeline.catalog,
            codec: settings.codec,
            data_prefix: &settings.data_prefix,
            threads: pipeline.threads,
        };
        let mut files = data_files(&framing, groups);
        let mut line_failures = Vec::with_capacity(failures.len());
        if !failures.is_empty() {
            let lines: Vec<ErrorLine> = failures.into_iter().map(|(i, f, d)| pipeline.error_line(i, f, d)).collect();
            line_failures.extend(lines.iter().map(|l| LineFailure {
                index: l.index,
                kind: l.kind,
                message: l.message.as_str().to_owned(),
            }));
            files.push(error_file(&settings.error_prefix, &lines, source, now));
        }
        identity.source = source;
        let records = texts.len();
        Ok(Batch {
            source,
            records,
            identity,
            files,
            error_types,
            failures: line_failures,
            oldest_change,
            processed_at: now,
        })
    }
}
