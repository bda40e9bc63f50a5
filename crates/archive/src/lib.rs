//! The dmd-pipeline archive core: DynamoDB change records (from DynamoDB Streams or
//! Kinesis Data Streams) in; Avro data files, JSON Lines error files and the partial
//! batch response out. Nothing here talks to AWS; outputs go through [`sink::ObjectSink`].
//!
//! ```no_run
//! use dmd_archive::{batch::{deliver, Pipeline, Summary}, config::Settings, sink::LocalDir};
//! # async fn run() -> anyhow::Result<()> {
//! let pipeline = Pipeline::new(Settings::from_env()?)?;
//! let payload = std::fs::read("events/dynamodb-batch.json")?;
//! let batch = pipeline.process(&payload, 1_763_547_330_000)?;
//! let delivery = deliver(&LocalDir::new("archive"), batch.files, 8, None).await?;
//! println!("{}", serde_json::to_string(&delivery.answer)?);
//! # Ok(()) }
//! ```

pub mod attr;
pub mod avro;
pub mod batch;
pub mod config;
pub mod error;
pub mod item;
pub mod scrub;
pub mod sink;
pub mod source;
pub mod synth;
pub mod time;

pub use batch::{deliver, BatchResponse, Pipeline, Summary};
pub use config::Settings;
pub use error::{ErrorKind, EventError};
