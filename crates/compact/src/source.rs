//! Finding the Avro files of the archive's partitions, a listing page at a time.

use std::collections::BTreeMap;

use dmd_archive::record_type::RecordType;
use dmd_archive::store::{Listed, ObjectStore, StoreError};
use dmd_archive::Settings;

use crate::layout::{avro_file_date, Partition};

/// Every object under `prefix`, all pages.
pub async fn list_all(store: &impl ObjectStore, prefix: &str) -> Result<Vec<Listed>, StoreError> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list(prefix, after.as_deref()).await?;
        out.extend(page.objects);
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}

/// The Avro files of one partition, by key.
pub async fn partition_files(
    store: &impl ObjectStore,
    settings: &Settings,
    partition: &Partition,
) -> Result<Vec<String>, StoreError> {
    let type_prefix = format!("{}{}/", settings.data_prefix, partition.record_type.as_str());
    let mut keys: Vec<String> = list_all(store, &partition.data_prefix(settings))
        .await?
        .into_iter()
        .filter(|l| avro_file_date(&type_prefix, &l.key) == Some(partition.date))
        .map(|l| l.key)
        .collect();
    keys.sort();
    Ok(keys)
}

/// Every partition of these types that holds Avro files, with its files: one listing of
/// `data/<type>/` per type.
pub async fn all_partitions(
    store: &impl ObjectStore,
    settings: &Settings,
    types: &[RecordType],
) -> Result<BTreeMap<Partition, Vec<String>>, StoreError> {
    let mut out: BTreeMap<Partition, Vec<String>> = BTreeMap::new();
    for &record_type in types {
        let type_prefix = format!("{}{}/", settings.data_prefix, record_type.as_str());
        for l in list_all(store, &type_prefix).await? {
            if let Some(date) = avro_file_date(&type_prefix, &l.key) {
                out.entry(Partition { record_type, date }).or_default().push(l.key);
            }
        }
    }
    for keys in out.values_mut() {
        keys.sort();
    }
    Ok(out)
}

/// The partitions that received data files in the manifests (section 6) of these
/// processing dates written at or after `since_ms`: where changes landed lately,
/// whatever their partition dates. A manifest that cannot be read as one is skipped.
pub async fn partitions_written_since(
    store: &impl ObjectStore,
    settings: &Settings,
    processing_dates: &[chrono::NaiveDate],
    since_ms: i64,
) -> Result<std::collections::BTreeSet<Partition>, StoreError> {
    let mut out = std::collections::BTreeSet::new();
    for date in processing_dates {
        let prefix = format!("{}dt={}/", settings.manifest_prefix, date.format("%Y-%m-%d"));
        for listed in list_all(store, &prefix).await? {
            if listed.modified_ms.is_some_and(|m| m < since_ms) || !listed.key.ends_with(".json") {
                continue;
            }
            let Some(body) = store.get(&listed.key).await? else { continue };
            let Ok(manifest) = serde_json::from_slice::<dmd_archive::manifest::Manifest>(&body) else {
                tracing::warn!(key = %listed.key, "not a manifest; skipped");
                continue;
            };
            for file in manifest.files.iter().filter(|f| f.kind == "data") {
                let record_type = file.record_type.as_deref().and_then(RecordType::parse);
                let date =
                    file.partition_date.as_deref().and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                if let (Some(record_type), Some(date)) = (record_type, date) {
                    out.insert(Partition { record_type, date });
                }
            }
        }
    }
    Ok(out)
}
