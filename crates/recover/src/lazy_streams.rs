//! The sources' clients built on the first read of a range, not before: a recovery of
//! failure records (which hold their batch) or of files that are no on-failure message
//! reads no stream, and then sets up no AWS configuration at all.

use tokio::sync::OnceCell;

use crate::message::BatchInfo;
use crate::range::{RangeRead, ReadError, StreamReader};
use crate::streams::Streams;

/// [`Streams::from_env`], once, when a range is first read.
#[derive(Debug, Default)]
pub struct LazyStreams {
    streams: OnceCell<Streams>,
}

impl LazyStreams {
    pub fn new() -> LazyStreams {
        LazyStreams::default()
    }

    /// Whether a range has been read (and the AWS configuration loaded).
    pub fn is_set_up(&self) -> bool {
        self.streams.initialized()
    }
}

impl StreamReader for LazyStreams {
    async fn read(&self, batch: &BatchInfo) -> Result<RangeRead, ReadError> {
        let streams = self.streams.get_or_init(Streams::from_env).await;
        streams.read(batch).await
    }
}
