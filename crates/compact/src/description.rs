//! The description of a generation, `_generation.json` in its folder, written before the
//! symlink manifest switches to it: the Avro files it was built from and its counts, for
//! the report of a later run that finds the partition unchanged, and for an audit.

use serde::{Deserialize, Serialize};

/// What a generation was built from and holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Description {
    pub generation: String,
    pub record_type: String,
    pub partition_date: String,
    /// The Avro keys, sorted.
    pub avro_files: Vec<String>,
    pub records: u64,
    pub duplicates_dropped: u64,
    /// The Parquet keys.
    pub files: Vec<String>,
    /// Their total size.
    pub bytes: u64,
    /// RFC 3339.
    pub written_at: String,
    /// The dmd version that wrote it.
    pub version: String,
}
