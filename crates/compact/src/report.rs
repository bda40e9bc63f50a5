//! The JSON line `dmd compact` prints for each partition (contract section 8).

use serde::Serialize;

use crate::layout::Partition;

/// What became of one partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub record_type: &'static str,
    pub partition_date: String,
    /// Avro files the partition holds (absent when the partition failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avro_files: Option<usize>,
    /// Rows of the new generation (absent when skipped or failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicates_dropped: Option<u64>,
    /// The current generation after the run (absent when the partition failed before
    /// it had one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation: Option<String>,
    /// The Parquet keys of that generation (absent when the partition failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<String>>,
    /// Their total size (absent when skipped: nothing was written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// True when the Avro files had not changed since the current generation (absent
    /// when the partition failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<bool>,
    /// Why the partition could not be compacted; its previous generation stays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Report {
    pub fn new(partition: &Partition, avro_files: usize) -> Report {
        Report {
            record_type: partition.record_type.as_str(),
            partition_date: partition.date_text(),
            avro_files: Some(avro_files),
            records: None,
            duplicates_dropped: None,
            generation: None,
            files: Some(Vec::new()),
            bytes: None,
            skipped: Some(false),
            error: None,
        }
    }

    /// The line of a partition that failed: its names and why, nothing else.
    pub fn failure(partition: &Partition, error: String) -> Report {
        Report { avro_files: None, files: None, skipped: None, error: Some(error), ..Report::new(partition, 0) }
    }

    /// Whether the Avro files had not changed since the current generation.
    pub fn is_skipped(&self) -> bool {
        self.skipped == Some(true)
    }

    /// The Parquet keys of the current generation, none when failed.
    pub fn parts(&self) -> &[String] {
        self.files.as_deref().unwrap_or_default()
    }

    pub fn failed(&self) -> bool {
        self.error.is_some()
    }
}
