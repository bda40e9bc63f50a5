//! Reading a whole shard for the audit: from the window's start (Kinesis `AT_TIMESTAMP`;
//! DynamoDB Streams has no such iterator, so from `TRIM_HORIZON`, skipping older records)
//! to the end of a closed shard or the current end of an open one, at a set pace, each
//! record handed on as what the audit needs of it and as the record of the Lambda event.

use std::time::Duration;

use aws_sdk_dynamodbstreams::types::ShardIteratorType as DdbIterator;
use aws_sdk_kinesis::types::ShardIteratorType as KinIterator;
use aws_smithy_types::DateTime;
use serde_json::Value;

use crate::attribute::item;
use crate::message::BatchInfo;
use crate::range::{ReadError, MAX_EMPTY_PAGES, PAGE_RECORDS};
use crate::sequence::SequenceNumber;
use crate::shards::{Shard, StreamArn};
use crate::streams::Streams;

/// A record of the shard, as the audit sees it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub sequence_number: String,
    /// INSERT, MODIFY or REMOVE, when the record says.
    pub event_name: Option<String>,
    /// When the change was made (epoch ms): the stream's time for DynamoDB Streams, the
    /// change record's for Kinesis.
    pub event_time_ms: Option<i64>,
    /// When the stream received it (epoch ms), for the settle window.
    pub arrival_ms: Option<i64>,
    /// The item's keys, in DynamoDB JSON.
    pub keys: Value,
    /// The record as the Lambda event carries it.
    pub record: Value,
}

/// How a shard is read.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Records older than this (epoch ms) are skipped.
    pub since_ms: Option<i64>,
    /// At least this long between two `GetRecords` calls on the shard.
    pub interval: Duration,
}

/// Epoch milliseconds, to the nearest (the SDK reads the service's seconds through an
/// `f64`, so `.662` may arrive as `.661999`).
fn millis(t: &DateTime) -> i64 {
    t.secs().saturating_mul(1000).saturating_add(i64::from((t.subsec_nanos() + 500_000) / 1_000_000))
}

/// What the recovery's record builders take of a batch: the shard, the stream and its
/// region.
fn shard_info(stream: &StreamArn, shard: &Shard) -> BatchInfo {
    BatchInfo {
        source: stream.source,
        shard_id: shard.id.clone(),
        start: SequenceNumber::zero(),
        end: SequenceNumber::zero(),
        batch_size: 0,
        stream_arn: stream.arn.clone(),
        region: stream.region.clone(),
        condition: None,
    }
}

impl Streams {
    /// Reads `shard` to its end, calling `seen` for each record of the window; returns
    /// the `GetRecords` calls made.
    pub async fn read_shard(
        &self,
        stream: &StreamArn,
        shard: &Shard,
        pace: Pace,
        seen: &mut (dyn FnMut(Seen) + Send),
    ) -> Result<u32, ReadError> {
        let info = shard_info(stream, shard);
        match stream.source {
            dmd_archive::envelope::Source::DynamoDb => {
                Box::pin(read_dynamodb(&self.dynamodb_in(&stream.region), &info, pace, seen)).await
            }
            dmd_archive::envelope::Source::Kinesis => {
                Box::pin(read_kinesis(&self.kinesis_in(&stream.region), &info, pace, seen)).await
            }
        }
    }
}

/// The pages of one shard: their pace, their count, and when to stop.
struct Pager {
    interval: Duration,
    reads: u32,
    empty: u32,
}

impl Pager {
    fn new(pace: Pace) -> Pager {
        Pager { interval: pace.interval, reads: 0, empty: 0 }
    }

    /// Waits for the pace before every page but the first, and counts it.
    async fn wait(&mut self) {
        if self.reads > 0 {
            tokio::time::sleep(self.interval).await;
        }
        self.reads += 1;
    }

    /// Whether to ask for another page after one of `records`: there is an iterator,
    /// and the shard is not at its current end (a run of empty pages, or Kinesis saying
    /// it has caught up).
    fn go_on(&mut self, records: usize, next: bool, caught_up: bool) -> bool {
        self.empty = if records == 0 { self.empty + 1 } else { 0 };
        next && !(records == 0 && caught_up) && self.empty < MAX_EMPTY_PAGES
    }
}

async fn read_dynamodb(
    client: &aws_sdk_dynamodbstreams::Client,
    info: &BatchInfo,
    pace: Pace,
    seen: &mut (dyn FnMut(Seen) + Send),
) -> Result<u32, ReadError> {
    let first = client
        .get_shard_iterator()
        .stream_arn(&info.stream_arn)
        .shard_id(&info.shard_id)
        .shard_iterator_type(DdbIterator::TrimHorizon)
        .send()
        .await
        .map_err(|e| ReadError::service("GetShardIterator", e))?;
    let (mut iterator, mut pager) = (first.shard_iterator, Pager::new(pace));
    while let Some(it) = iterator.take() {
        pager.wait().await;
        let page = client
            .get_records()
            .shard_iterator(it)
            .limit(PAGE_RECORDS)
            .send()
            .await
            .map_err(|e| ReadError::service("GetRecords", e))?;
        for r in page.records() {
            let d = r.dynamodb();
            let seq = d.and_then(|d| d.sequence_number()).ok_or(ReadError::NoSequenceNumber)?;
            let time = d.and_then(|d| d.approximate_creation_date_time()).map(millis);
            if pace.since_ms.is_some_and(|since| time.is_some_and(|t| t < since)) {
                continue;
            }
            let keys = match d.and_then(|d| d.keys()) {
                Some(k) => item(k)?,
                None => Value::Null,
            };
            seen(Seen {
                sequence_number: seq.to_owned(),
                event_name: r.event_name().map(|n| n.as_str().to_owned()),
                event_time_ms: time,
                arrival_ms: time,
                keys,
                record: crate::dynamodb::lambda_record(r, info)?,
            });
        }
        let next = page.next_shard_iterator().map(str::to_owned);
        if pager.go_on(page.records().len(), next.is_some(), false) {
            iterator = next;
        }
    }
    Ok(pager.reads)
}

async fn read_kinesis(
    client: &aws_sdk_kinesis::Client,
    info: &BatchInfo,
    pace: Pace,
    seen: &mut (dyn FnMut(Seen) + Send),
) -> Result<u32, ReadError> {
    let request = client.get_shard_iterator().stream_arn(&info.stream_arn).shard_id(&info.shard_id);
    let request = match pace.since_ms {
        Some(ms) => request.shard_iterator_type(KinIterator::AtTimestamp).timestamp(DateTime::from_millis(ms)),
        None => request.shard_iterator_type(KinIterator::TrimHorizon),
    };
    let first = request.send().await.map_err(|e| ReadError::service("GetShardIterator", e))?;
    let (mut iterator, mut pager) = (first.shard_iterator, Pager::new(pace));
    while let Some(it) = iterator.take() {
        pager.wait().await;
        let page = client
            .get_records()
            .stream_arn(&info.stream_arn)
            .shard_iterator(it)
            .limit(PAGE_RECORDS)
            .send()
            .await
            .map_err(|e| ReadError::service("GetRecords", e))?;
        for r in page.records() {
            let arrival = r.approximate_arrival_timestamp().map(millis);
            if pace.since_ms.is_some_and(|since| arrival.is_some_and(|t| t < since)) {
                continue;
            }
            // What the audit names of the change: its event name, time and keys only.
            let change: Value = serde_json::from_slice(r.data().as_ref()).unwrap_or(Value::Null);
            seen(Seen {
                sequence_number: r.sequence_number().to_owned(),
                event_name: change["eventName"].as_str().map(str::to_owned),
                event_time_ms: change["dynamodb"]["ApproximateCreationDateTime"].as_i64().or(arrival),
                arrival_ms: arrival,
                keys: change["dynamodb"]["Keys"].clone(),
                record: crate::kinesis::lambda_record(r, info),
            });
        }
        let next = page.next_shard_iterator().map(str::to_owned);
        let caught_up = page.millis_behind_latest() == Some(0);
        if pager.go_on(page.records().len(), next.is_some(), caught_up) {
            iterator = next;
        }
    }
    Ok(pager.reads)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_stops_at_the_end_of_a_shard() {
        let pace = Pace { since_ms: None, interval: Duration::ZERO };
        let mut p = Pager::new(pace);
        assert!(p.go_on(5, true, false));
        assert!(!p.go_on(5, false, false), "a closed shard ends");
        assert!(!p.go_on(0, true, true), "Kinesis caught up");
        let mut p = Pager::new(pace);
        assert!((0..MAX_EMPTY_PAGES - 1).all(|_| p.go_on(0, true, false)));
        assert!(!p.go_on(0, true, false), "an open DynamoDB shard at its end");
    }

    #[test]
    fn times_are_epoch_milliseconds() {
        assert_eq!(millis(&DateTime::from_secs_f64(1_795_161_601.662)), 1_795_161_601_662);
    }
}
