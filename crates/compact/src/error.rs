//! Why a partition could not be compacted. The partition's previous generation stays
//! current, and the next run tries again.

use dmd_archive::sink::SinkError;
use dmd_archive::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CompactError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// An Avro file that was listed but is gone now (a lifecycle expiry in between).
    #[error("{0}: listed but no longer there")]
    Vanished(String),
    /// An Avro file that is not a readable container of the type's schema.
    #[error("{key}: not a readable Avro file of the {record_type} schema: {message}")]
    Avro { key: String, record_type: &'static str, message: String },
    /// The Parquet writer refused (a bug, not the input's fault).
    #[error("writing Parquet: {0}")]
    Parquet(String),
}
