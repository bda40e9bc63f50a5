//! Reading a range back: what a reader returns, how it fails, and when it stops asking
//! the stream for more (the rules both sources share).

use std::future::Future;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::Value;

use crate::message::BatchInfo;
use crate::sdk_error::describe;
use crate::sequence::SequenceNumber;

/// Records asked for per `GetRecords` call (DynamoDB Streams' maximum; Kinesis allows
/// more, but a batch holds at most 10,000 records either way).
pub const PAGE_RECORDS: i32 = 1000;

/// Empty pages in a row after which a reader stops. DynamoDB Streams may answer empty
/// pages before the next records of an open shard; a range that Lambda delivered lies
/// behind its start, so a long run of them means the rest is not there.
pub const MAX_EMPTY_PAGES: u32 = 10;

/// `GetRecords` calls for one range at most: far more than 10,000 records need, so only a
/// stream that never reaches the end of the range stops here.
pub const MAX_PAGES: u32 = 1000;

/// What was read of a range.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RangeRead {
    /// The records of the range, in stream order, each in the shape of the Lambda event's
    /// records.
    pub records: Vec<Value>,
    /// The stream no longer held the start of the range: reading began at the oldest
    /// record it still holds (`TRIM_HORIZON`).
    pub trimmed: bool,
    /// The read reached the end of the range: the end record, a later one, or the end of
    /// a closed shard.
    pub complete: bool,
}

/// Why a range could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// A call to the stream failed after the SDK's retries.
    #[error("{operation} failed: {message}")]
    Service { operation: &'static str, message: String },
    #[error("the stream returned a record without a sequence number")]
    NoSequenceNumber,
    #[error("the stream returned a record whose sequence number is not a decimal integer")]
    BadSequenceNumber,
    /// A newer attribute type than this build knows: the record cannot be rebuilt as
    /// Lambda would have delivered it.
    #[error("a record holds an attribute value of a type this build does not know (a newer dmd may read it)")]
    UnknownAttributeType,
}

impl ReadError {
    /// A failed call: its kind and the service's error code (`sdk_error::describe`),
    /// never the answer's body, which holds records.
    pub fn service<E, R>(operation: &'static str, error: SdkError<E, R>) -> ReadError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        ReadError::Service { operation, message: describe(&error) }
    }
}

/// Reads the range of an on-failure message back from its stream.
pub trait StreamReader: Send + Sync {
    fn read(&self, batch: &BatchInfo) -> impl Future<Output = Result<RangeRead, ReadError>> + Send;
}

/// Where a record lies with respect to the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Before the start (read from the trim horizon): skipped.
    Before,
    /// In the range: archived.
    Inside,
    /// After the end: the range is complete, reading stops.
    After,
}

/// Gathers the records of a range page by page and decides when to stop.
#[derive(Debug)]
pub struct Collector<'a> {
    start: &'a SequenceNumber,
    end: &'a SequenceNumber,
    records: Vec<Value>,
    complete: bool,
    empty_pages: u32,
    pages: u32,
}

impl<'a> Collector<'a> {
    pub fn new(batch: &'a BatchInfo) -> Collector<'a> {
        Collector {
            start: &batch.start,
            end: &batch.end,
            records: Vec::new(),
            complete: false,
            empty_pages: 0,
            pages: 0,
        }
    }

    /// Where the record with sequence number `seq` lies. The end record itself completes
    /// the range.
    pub fn place(&mut self, seq: Option<&str>) -> Result<Place, ReadError> {
        let seq = seq.ok_or(ReadError::NoSequenceNumber)?;
        let seq = SequenceNumber::parse(seq).map_err(|_| ReadError::BadSequenceNumber)?;
        if seq < *self.start {
            Ok(Place::Before)
        } else if seq > *self.end {
            self.complete = true;
            Ok(Place::After)
        } else {
            self.complete = seq == *self.end;
            Ok(Place::Inside)
        }
    }

    /// Adds a record of the range.
    pub fn push(&mut self, record: Value) {
        self.records.push(record);
    }

    /// Whether the range is complete.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// After a page of `page_records` records: whether to ask for the next one.
    /// `has_next` is false when the shard is closed and read to its end; `caught_up` is
    /// true when the stream says nothing newer exists (Kinesis' `MillisBehindLatest` 0).
    pub fn next_page(&mut self, page_records: usize, has_next: bool, caught_up: bool) -> bool {
        if !has_next {
            // A closed shard read to its end holds nothing more of the range.
            self.complete = true;
        }
        if self.complete {
            return false;
        }
        if page_records == 0 {
            self.empty_pages += 1;
            if caught_up || self.empty_pages >= MAX_EMPTY_PAGES {
                return false;
            }
        } else {
            self.empty_pages = 0;
        }
        self.pages += 1;
        self.pages < MAX_PAGES
    }

    pub fn finish(self, trimmed: bool) -> RangeRead {
        RangeRead { records: self.records, trimmed, complete: self.complete }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmd_archive::envelope::Source;

    fn batch(start: &str, end: &str) -> BatchInfo {
        BatchInfo {
            source: Source::Kinesis,
            shard_id: "shardId-000000000000".into(),
            start: SequenceNumber::parse(start).expect("start"),
            end: SequenceNumber::parse(end).expect("end"),
            batch_size: 3,
            stream_arn: "arn:aws:kinesis:eu-west-1:123456789012:stream/s".into(),
            region: "eu-west-1".into(),
            condition: None,
        }
    }

    #[test]
    fn records_are_placed_by_numeric_value() {
        let b = batch("9", "11");
        let mut c = Collector::new(&b);
        assert_eq!(c.place(Some("8")), Ok(Place::Before));
        assert_eq!(c.place(Some("9")), Ok(Place::Inside));
        assert_eq!(c.place(Some("10")), Ok(Place::Inside), "10 sorts before 9 as text, not as a number");
        assert!(!c.is_complete());
        assert_eq!(c.place(Some("11")), Ok(Place::Inside));
        assert!(c.is_complete(), "the end record completes the range");
        assert_eq!(c.place(Some("100")), Ok(Place::After));
        assert_eq!(c.place(None), Err(ReadError::NoSequenceNumber));
        assert_eq!(c.place(Some("1e3")), Err(ReadError::BadSequenceNumber));
    }

    #[test]
    fn reading_stops_at_the_end_of_the_range_or_of_the_stream() {
        let b = batch("1", "5");
        let mut c = Collector::new(&b);
        assert!(c.next_page(2, true, false), "more of the range may follow");
        assert_eq!(c.place(Some("6")), Ok(Place::After));
        assert!(!c.next_page(1, true, false), "a record past the end completes the range");

        let mut c = Collector::new(&b);
        assert!(!c.next_page(3, false, false), "a closed shard read to its end");
        assert!(c.finish(false).complete);

        let mut c = Collector::new(&b);
        assert!(!c.next_page(0, true, true), "Kinesis says nothing newer exists");
        assert!(!c.finish(false).complete);

        let mut c = Collector::new(&b);
        for _ in 1..MAX_EMPTY_PAGES {
            assert!(c.next_page(0, true, false));
        }
        assert!(!c.next_page(0, true, false), "too many empty pages in a row");

        let mut c = Collector::new(&b);
        for i in 1..MAX_PAGES {
            assert!(c.next_page(1, true, false), "page {i}");
        }
        assert!(!c.next_page(1, true, false), "the page cap");
    }
}
