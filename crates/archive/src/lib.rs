//! The dmd-pipeline archive core: DynamoDB change records (from DynamoDB Streams or
//! Kinesis Data Streams) in; Avro data files, JSON Lines error files and the partial
//! batch response out. Nothing here talks to AWS; outputs go through [`sink::ObjectSink`].
//!
//! [`Pipeline::run`] is the one entry; `docs/architecture.md` draws the path of a record
//! through the modules below.
//!
//! ```no_run
//! use dmd_archive::{Limits, LocalDir, Pipeline, Settings, SystemClock};
//! # async fn run() -> anyhow::Result<()> {
//! let pipeline = Pipeline::new(Settings::from_env()?)?;
//! let payload = std::fs::read("events/dynamodb-batch.json")?;
//! let outcome = pipeline.run(&payload, &SystemClock, &LocalDir::new("archive"), Limits::default()).await?;
//! println!("{}", serde_json::to_string(outcome.answer())?);
//! # Ok(()) }
//! ```

pub mod attr;
pub mod avro;
pub mod check;
pub mod config;
pub mod convert;
pub mod data_file;
pub mod deliver;
pub mod envelope;
pub mod error;
pub mod error_file;
pub mod group;
pub mod json_scan;
pub mod keys;
pub mod manifest;
pub mod pii;
pub mod pipeline;
pub mod raw_record;
pub mod record;
pub mod record_type;
pub mod replay;
pub mod retire;
pub mod sink;
pub mod store;
pub mod summary;
pub mod synth;
pub mod time;
pub mod verify;
pub mod walk;

pub use config::Settings;
pub use deliver::{BatchResponse, Deadline};
pub use error::{ErrorKind, EventError};
pub use pipeline::{Clock, FixedClock, Limits, LineFailure, Outcome, Pipeline, SystemClock};
pub use sink::{LocalDir, Memory, ObjectSink};
pub use summary::Summary;
