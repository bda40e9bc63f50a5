//! Building one generation: each Avro file of the partition read into Arrow record
//! batches by `arrow-avro` (with the type's schema as the reader schema, so every file
//! gives the same columns), changes seen before dropped, and the rest written by
//! `parquet`'s Arrow writer into parts of at most [`PartLimits::part_bytes`].

use std::io::Cursor;

use arrow_array::RecordBatch;
use arrow_avro::reader::ReaderBuilder;
use arrow_avro::schema::AvroSchema;
use arrow_schema::SchemaRef;
use bytes::Bytes;
use dmd_archive::avro::SCHEMA_FILES;
use dmd_archive::pii::redact_spans;
use dmd_archive::sink::ObjectSink;
use dmd_archive::store::ObjectStore;
use dmd_archive::Settings;
use futures::{StreamExt, TryStreamExt};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use crate::dedup::Seen;
use crate::error::CompactError;
use crate::layout::Partition;

/// The MIME type of a Parquet part.
pub const PARQUET_CONTENT_TYPE: &str = "application/vnd.apache.parquet";

/// How big parts and row groups grow.
#[derive(Debug, Clone, Copy)]
pub struct PartLimits {
    /// A part is closed once it holds this many bytes (Athena reads files of 128 MiB
    /// or so best; the part is held in memory until it is uploaded).
    pub part_bytes: usize,
    /// Rows per row group (each carries min/max statistics per column).
    pub row_group_rows: usize,
    /// Avro files fetched ahead of the one being decoded.
    pub read_ahead: usize,
}

impl Default for PartLimits {
    fn default() -> Self {
        PartLimits { part_bytes: 128 << 20, row_group_rows: 128 * 1024, read_ahead: 8 }
    }
}

/// A part written in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenPart {
    pub key: String,
    pub bytes: u64,
    pub rows: u64,
}

/// What a generation holds.
#[derive(Debug, Clone, Default)]
pub struct Built {
    /// Rows written: every change of the Avro files once.
    pub records: u64,
    /// Rows of the Avro files that repeated a change already written.
    pub duplicates_dropped: u64,
    pub parts: Vec<WrittenPart>,
}

/// Writes the generation `generation` of `partition` from `avro_keys` (read in the
/// order given; the first copy of a change is the one kept).
pub async fn build<S: ObjectStore + ObjectSink>(
    store: &S,
    settings: &Settings,
    partition: &Partition,
    generation: &str,
    avro_keys: &[String],
    limits: PartLimits,
) -> Result<Built, CompactError> {
    let record_type = partition.record_type.as_str();
    let schema_text =
        SCHEMA_FILES.iter().find(|(t, _)| *t == partition.record_type).map(|(_, text)| *text).unwrap_or_default();
    let mut parts = Parts::new(store, settings, partition, generation, limits);
    let mut seen = Seen::default();
    let mut built = Built::default();
    let mut files = futures::stream::iter(avro_keys.iter().map(|key| async move {
        match store.get(key).await? {
            Some(body) => Ok((key, body)),
            None => Err(CompactError::Vanished(key.clone())),
        }
    }))
    .buffered(limits.read_ahead.max(1));
    while let Some((key, body)) = files.try_next().await? {
        // A reader's message may quote a value of the file: it goes through the PII
        // boundary's text redaction before it reaches a line or a log.
        let avro_err =
            |message: String| CompactError::Avro { key: key.clone(), record_type, message: redact_spans(&message) };
        for batch in read_avro(schema_text, body).map_err(&avro_err)? {
            let batch = batch.map_err(|e| avro_err(e.to_string()))?;
            let keep = seen.keep(&batch).ok_or_else(|| avro_err("no change_id or sequence_number column".into()))?;
            let kept = arrow_select::filter::filter_record_batch(&batch, &keep).map_err(|e| avro_err(e.to_string()))?;
            built.duplicates_dropped += (batch.num_rows() - kept.num_rows()) as u64;
            built.records += kept.num_rows() as u64;
            if kept.num_rows() > 0 {
                parts.write(kept).await?;
            }
        }
    }
    built.parts = parts.finish().await?;
    Ok(built)
}

/// The record batches of one Avro container, read with the type's schema.
fn read_avro(
    schema_text: &str,
    body: Bytes,
) -> Result<impl Iterator<Item = Result<RecordBatch, arrow_schema::ArrowError>>, String> {
    ReaderBuilder::new()
        .with_batch_size(8192)
        .with_reader_schema(AvroSchema::new(schema_text.to_owned()))
        .build(Cursor::new(body))
        .map_err(|e| e.to_string())
}

/// The parts of a generation being written.
struct Parts<'a, S> {
    store: &'a S,
    settings: &'a Settings,
    partition: &'a Partition,
    generation: &'a str,
    limits: PartLimits,
    /// The schema of the first batch; every later batch is written under it.
    schema: Option<SchemaRef>,
    writer: Option<(ArrowWriter<Vec<u8>>, u64)>,
    written: Vec<WrittenPart>,
}

impl<'a, S: ObjectSink> Parts<'a, S> {
    fn new(
        store: &'a S,
        settings: &'a Settings,
        partition: &'a Partition,
        generation: &'a str,
        limits: PartLimits,
    ) -> Self {
        Parts { store, settings, partition, generation, limits, schema: None, writer: None, written: Vec::new() }
    }

    fn properties(&self) -> WriterProperties {
        WriterProperties::builder()
            // zstd's level 1: levels 3 to 15 made the generated workload's parts 3 % larger
            // to 6 % smaller at 1.1 to 3.5 times the time (docs/performance.md).
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_statistics_enabled(EnabledStatistics::Page)
            .set_max_row_group_row_count(Some(self.limits.row_group_rows.max(1)))
            // The Parquet names for lists and maps (`list`/`element`, `key_value`), which
            // every reader, Hive's included, takes.
            .set_coerce_types(true)
            .set_created_by(format!("dmd-pipeline {}", env!("CARGO_PKG_VERSION")))
            .build()
    }

    async fn write(&mut self, batch: RecordBatch) -> Result<(), CompactError> {
        let schema = self.schema.get_or_insert_with(|| batch.schema()).clone();
        let batch = RecordBatch::try_new(schema.clone(), batch.columns().to_vec())
            .map_err(|e| CompactError::Parquet(format!("a batch of another shape: {e}")))?;
        if self.writer.is_none() {
            let w = ArrowWriter::try_new(Vec::new(), schema, Some(self.properties()))
                .map_err(|e| CompactError::Parquet(e.to_string()))?;
            self.writer = Some((w, 0));
        }
        if let Some((w, rows)) = self.writer.as_mut() {
            w.write(&batch).map_err(|e| CompactError::Parquet(e.to_string()))?;
            *rows += batch.num_rows() as u64;
            if w.bytes_written() + w.in_progress_size() >= self.limits.part_bytes {
                self.close_part().await?;
            }
        }
        Ok(())
    }

    /// Finishes the open part and uploads it.
    async fn close_part(&mut self) -> Result<(), CompactError> {
        let Some((w, rows)) = self.writer.take() else { return Ok(()) };
        let body = w.into_inner().map_err(|e| CompactError::Parquet(e.to_string()))?;
        let key = self.partition.part_key(self.settings, self.generation, self.written.len());
        let bytes = body.len() as u64;
        self.store.put(&key, Bytes::from(body), PARQUET_CONTENT_TYPE).await?;
        self.written.push(WrittenPart { key, bytes, rows });
        Ok(())
    }

    async fn finish(mut self) -> Result<Vec<WrittenPart>, CompactError> {
        self.close_part().await?;
        Ok(self.written)
    }
}
