//! Compacting one partition: skip it when the current generation was built from the
//! same Avro files; otherwise build the new generation in full, switch the symlink
//! manifest to it (one object written: readers see the old generation or the new one),
//! and only then retire the generations it replaced.

use bytes::Bytes;
use dmd_archive::retire::Retire;
use dmd_archive::sink::ObjectSink;
use dmd_archive::store::{ObjectStore, StoreError};
use dmd_archive::Settings;

use crate::build::{build, PartLimits};
use crate::description::Description;
use crate::error::CompactError;
use crate::layout::{generation_id, Partition};
use crate::report::Report;
use crate::source::list_all;
use crate::symlink::{self, Current};

/// A store the compaction reads and writes.
pub trait Archive: ObjectStore + ObjectSink + Retire {}
impl<T: ObjectStore + ObjectSink + Retire> Archive for T {}

/// Compacts `partition` from its Avro files `avro_keys`; never fails, the report says
/// what happened.
pub async fn compact_partition(
    store: &impl Archive,
    settings: &Settings,
    partition: &Partition,
    avro_keys: &[String],
    limits: PartLimits,
) -> Report {
    let mut report = Report::new(partition, avro_keys.len());
    match run(store, settings, partition, avro_keys, limits, &mut report).await {
        Ok(()) => report,
        Err(e) => {
            tracing::error!(record_type = report.record_type, partition_date = %report.partition_date, error = %e, "compaction failed");
            Report::failure(partition, e.to_string())
        }
    }
}

async fn run(
    store: &impl Archive,
    settings: &Settings,
    partition: &Partition,
    avro_keys: &[String],
    limits: PartLimits,
    report: &mut Report,
) -> Result<(), CompactError> {
    let generation = generation_id(avro_keys);
    let current = current(store, settings, partition).await?;
    if avro_keys.is_empty() || current.as_ref().is_some_and(|c| c.generation == generation) {
        // Unchanged (or nothing to build from): finish a retirement an interrupted run
        // left undone, write nothing.
        report.skipped = Some(true);
        if let Some(c) = current {
            retire_replaced(store, settings, partition, &c).await?;
            if let Some(d) = description(store, settings, partition, &c.generation).await? {
                report.records = Some(d.records);
                report.duplicates_dropped = Some(d.duplicates_dropped);
                report.bytes = Some(d.bytes);
            }
            report.generation = Some(c.generation);
            report.files = Some(c.parts);
        }
        return Ok(());
    }
    let built = build(store, settings, partition, &generation, avro_keys, limits).await?;
    report.records = Some(built.records);
    report.duplicates_dropped = Some(built.duplicates_dropped);
    report.bytes = Some(built.parts.iter().map(|p| p.bytes).sum());
    let keys: Vec<String> = built.parts.into_iter().map(|p| p.key).collect();
    if keys.is_empty() {
        // Avro files without a record: nothing to switch to.
        return Ok(());
    }
    let mut avro_files = avro_keys.to_vec();
    avro_files.sort();
    let described = Description {
        generation: generation.clone(),
        record_type: partition.record_type.as_str().to_owned(),
        partition_date: partition.date_text(),
        avro_files,
        records: built.records,
        duplicates_dropped: built.duplicates_dropped,
        files: keys.clone(),
        bytes: report.bytes.unwrap_or_default(),
        written_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let body = serde_json::to_vec_pretty(&described).map_err(|e| CompactError::Parquet(e.to_string()))?;
    store.put(&partition.description_key(settings, &generation), Bytes::from(body), "application/json").await?;
    let text = symlink::render(store, &keys);
    store.put(&partition.manifest_key(settings), Bytes::from(text), "text/plain; charset=utf-8").await?;
    let current = Current { generation: generation.clone(), parts: keys };
    retire_replaced(store, settings, partition, &current).await?;
    report.generation = Some(current.generation);
    report.files = Some(current.parts);
    Ok(())
}

/// The generation the partition's symlink manifest names, if any.
pub async fn current(
    store: &impl Archive,
    settings: &Settings,
    partition: &Partition,
) -> Result<Option<Current>, StoreError> {
    let Some(body) = store.get(&partition.manifest_key(settings)).await? else { return Ok(None) };
    let text = String::from_utf8_lossy(&body);
    Ok(symlink::parse(store, settings, partition, &text))
}

/// The description of a generation, when it has a readable one.
async fn description(
    store: &impl Archive,
    settings: &Settings,
    partition: &Partition,
    generation: &str,
) -> Result<Option<Description>, StoreError> {
    let Some(body) = store.get(&partition.description_key(settings, generation)).await? else { return Ok(None) };
    Ok(serde_json::from_slice(&body).ok())
}

/// Whether the partition's current generation was built from exactly `avro_keys`.
pub async fn is_current(
    store: &impl Archive,
    settings: &Settings,
    partition: &Partition,
    avro_keys: &[String],
) -> Result<bool, StoreError> {
    let generation = generation_id(avro_keys);
    Ok(current(store, settings, partition).await?.is_some_and(|c| c.generation == generation))
}

/// Retires every part and description of the partition but the current generation's
/// (the other generations, and strays of an earlier attempt at the current one) and was written
/// before the manifest was: a generation still being written by another run, after it,
/// is left alone. Then sweeps what interrupted writes left. Returns how many parts were
/// retired.
async fn retire_replaced(
    store: &impl Archive,
    settings: &Settings,
    partition: &Partition,
    current: &Current,
) -> Result<usize, StoreError> {
    let description_key = partition.description_key(settings, &current.generation);
    let manifest_key = partition.manifest_key(settings);
    let switched_at =
        list_all(store, &manifest_key).await?.into_iter().find(|l| l.key == manifest_key).and_then(|l| l.modified_ms);
    let mut retired = 0;
    for object in list_all(store, &partition.compact_prefix(settings)).await? {
        let ours = current.parts.contains(&object.key) || object.key == description_key;
        if partition.generation_of_object(settings, &object.key).is_none() || ours {
            continue;
        }
        let older = match (object.modified_ms, switched_at) {
            (Some(written), Some(switched)) => written <= switched,
            _ => true,
        };
        if older {
            store.retire(&object.key).await?;
            retired += 1;
        }
    }
    store.sweep(&partition.compact_prefix(settings), switched_at).await?;
    if retired > 0 {
        tracing::info!(record_type = partition.record_type.as_str(), partition_date = %partition.date_text(), retired, "retired replaced parts");
    }
    Ok(retired)
}
