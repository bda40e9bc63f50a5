//! The compacted Parquet copy of the archive (contract section 8): for each (type,
//! date) partition, one generation of zstd Parquet files holding every change of its
//! Avro files exactly once, named by a symlink manifest that Athena reads. The Avro
//! files are only read, never changed.
//!
//! ```no_run
//! use dmd_archive::{LocalDir, Settings};
//! use dmd_compact::{compact, PartLimits, Selection};
//! # async fn run() -> anyhow::Result<()> {
//! let out = LocalDir::new("archive");
//! for report in compact(&out, &Settings::default(), &Selection::default(), PartLimits::default()).await? {
//!     println!("{}", serde_json::to_string(&report)?);
//! }
//! # Ok(()) }
//! ```

pub mod build;
pub mod dedup;
pub mod description;
pub mod error;
pub mod layout;
pub mod partition;
pub mod report;
pub mod source;
pub mod symlink;

use dmd_archive::record_type::RecordType;
use dmd_archive::store::StoreError;
use dmd_archive::Settings;

pub use build::PartLimits;
pub use error::CompactError;
pub use layout::Partition;
pub use partition::{compact_partition, is_current, Archive};
pub use report::Report;

/// Which partitions to look at: no type means every type; no date means every date
/// that holds Avro files.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub types: Vec<RecordType>,
    pub dates: Vec<chrono::NaiveDate>,
}

impl Selection {
    fn types(&self) -> Vec<RecordType> {
        if self.types.is_empty() {
            RecordType::ALL.to_vec()
        } else {
            let mut t = self.types.clone();
            t.sort();
            t.dedup();
            t
        }
    }
}

/// The selected partitions with their Avro files, in (type, date) order. With dates
/// given, each selected (type, date) is there even when it holds no file.
pub async fn plan(
    store: &impl Archive,
    settings: &Settings,
    selection: &Selection,
) -> Result<Vec<(Partition, Vec<String>)>, StoreError> {
    let types = selection.types();
    if selection.dates.is_empty() {
        return Ok(source::all_partitions(store, settings, &types).await?.into_iter().collect());
    }
    let mut dates = selection.dates.clone();
    dates.sort();
    dates.dedup();
    let mut out = Vec::new();
    for record_type in types {
        for &date in &dates {
            let partition = Partition { record_type, date };
            let keys = source::partition_files(store, settings, &partition).await?;
            out.push((partition, keys));
        }
    }
    Ok(out)
}

/// Compacts every selected partition whose Avro files changed, one after the other;
/// one report each.
pub async fn compact(
    store: &impl Archive,
    settings: &Settings,
    selection: &Selection,
    limits: PartLimits,
) -> Result<Vec<Report>, StoreError> {
    let mut reports = Vec::new();
    for (partition, keys) in plan(store, settings, selection).await? {
        reports.push(compact_partition(store, settings, &partition, &keys, limits).await);
    }
    Ok(reports)
}
