//! Recovery of the batches Lambda gave up on (data contract, section 9). When the event
//! source mapping discards a batch, Lambda sends a description of it (shard, sequence
//! numbers, batch size) to the on-failure queue; the records are still in the stream for
//! its retention period. This crate reads such a range back and archives it through the
//! one pipeline entry, [`dmd_archive::Pipeline::run`], exactly as the function would:
//! the rebuilt Lambda event gives the same keys, and a second run writes the same keys.
//!
//! [`message`] reads the on-failure message, [`dynamodb`] and [`kinesis`] read its range
//! from the stream into the records of a Lambda event ([`attribute`] and [`event`] build
//! their JSON, [`range`] decides when a read is done, [`sequence`] orders sequence
//! numbers), [`recover`] runs one message through the pipeline and accounts for every
//! record, [`queue`] deletes a queue message only when its range was recovered in full.
//! `dmd recover` and the `recoverer` function call [`Recoverer::recover`]. With an S3
//! on-failure destination the record holds the batch itself ([`failure_record`]), and
//! it is archived from there, with no read of the stream.
//!
//! The audit against the stream (section 10) reads with the same clients: [`shards`]
//! lists a stream's shards parents first, [`shard_read`] reads one whole, [`archived`]
//! holds what the manifests name, and [`audit`] classes every record and repairs the
//! missing ones through the same entry (`dmd audit`).
//!
//! ```no_run
//! use dmd_archive::{LocalDir, Limits, Pipeline, Settings, SystemClock};
//! use dmd_recover::{Recoverer, Streams};
//! # async fn run() -> anyhow::Result<()> {
//! let recoverer = Recoverer::new(Pipeline::new(Settings::from_env()?)?, Streams::from_env().await);
//! let message = std::fs::read("message.json")?;
//! let recovery = recoverer.recover(&message, &LocalDir::new("archive"), &SystemClock, Limits::default()).await;
//! println!("{}", serde_json::to_string(&recovery)?);
//! # Ok(()) }
//! ```

pub mod archived;
pub mod attribute;
pub mod audit;
pub mod dynamodb;
pub mod event;
pub mod failure_record;
pub mod kinesis;
pub mod lazy_streams;
pub mod message;
pub mod queue;
pub mod range;
pub mod recover;
pub mod sdk_error;
pub mod sequence;
pub mod shard_end;
pub mod shard_read;
pub mod shards;
pub mod streams;

pub use lazy_streams::LazyStreams;
pub use message::{BatchInfo, MessageError};
pub use queue::{Pass, Queue, QueueError, QueueMessage};
pub use range::{RangeRead, ReadError, StreamReader};
pub use recover::{Recoverer, Recovery};
pub use sequence::SequenceNumber;
pub use shards::{Shard, StreamArn};
pub use streams::{sdk_config, Streams};
