//! Reading a whole shard for the audit: from the window's start (Kinesis `AT_TIMESTAMP`;
//! DynamoDB Streams has no such iterator, so from `TRIM_HORIZON`, skipping older records)
//! to the end of a closed shard or the current end of an open one ([`shard_end`]
//! (crate::shard_end) says when that is), at a set pace, each record handed on as what
//! the audit needs of it and as the record of the Lambda event.

use std::time::Duration;

use aws_sdk_dynamodbstreams::types::ShardIteratorType as DdbIterator;
use aws_sdk_kinesis::types::ShardIteratorType as KinIterator;
use aws_smithy_types::DateTime;
use serde_json::Value;

use crate::attribute::item;
use crate::message::BatchInfo;
use crate::range::{ReadError, PAGE_RECORDS};
use crate::sequence::SequenceNumber;
use crate::shard_end::{End, Pager};
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
    /// The record as the Lambda event carries it; `None` when it could not be rebuilt
    /// (an attribute type this build does not know).
    pub record: Option<Value>,
}

/// How a shard is read.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Records older than this (epoch ms) are skipped.
    pub since_ms: Option<i64>,
    /// The window's end (epoch ms, the audit's start): reading stops at the first record
    /// that reached the stream at or after it, so that a busy shard has an end.
    pub until_ms: i64,
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

/// What reading a shard came to.
#[derive(Debug, Clone, Copy)]
pub struct ShardRead {
    /// `GetRecords` calls made.
    pub reads: u32,
    pub end: End,
}

impl Streams {
    /// Reads `shard` to its end, calling `seen` for each record of the window.
    pub async fn read_shard(
        &self,
        stream: &StreamArn,
        shard: &Shard,
        pace: Pace,
        seen: &mut (dyn FnMut(Seen) + Send),
    ) -> Result<ShardRead, ReadError> {
        let info = shard_info(stream, shard);
        match stream.source {
            dmd_archive::envelope::Source::DynamoDb => {
                Box::pin(read_dynamodb(&self.dynamodb_in(&stream.region), &info, pace, shard.closed, seen)).await
            }
            dmd_archive::envelope::Source::Kinesis => {
                Box::pin(read_kinesis(&self.kinesis_in(&stream.region), &info, pace, shard.closed, seen)).await
            }
        }
    }
}

async fn read_dynamodb(
    client: &aws_sdk_dynamodbstreams::Client,
    info: &BatchInfo,
    pace: Pace,
    closed: bool,
    seen: &mut (dyn FnMut(Seen) + Send),
) -> Result<ShardRead, ReadError> {
    let first = client
        .get_shard_iterator()
        .stream_arn(&info.stream_arn)
        .shard_id(&info.shard_id)
        .shard_iterator_type(DdbIterator::TrimHorizon)
        .send()
        .await
        .map_err(|e| ReadError::service("GetShardIterator", e))?;
    let (mut iterator, mut pager) = (first.shard_iterator, Pager::new(pace.interval, closed));
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
            if time.is_some_and(|t| t >= pace.until_ms) {
                pager.window_end();
                break;
            }
            if pace.since_ms.is_some_and(|since| time.is_some_and(|t| t < since)) {
                continue;
            }
            seen(Seen {
                sequence_number: seq.to_owned(),
                event_name: r.event_name().map(|n| n.as_str().to_owned()),
                event_time_ms: time,
                arrival_ms: time,
                keys: d.and_then(|d| d.keys()).and_then(|k| item(k).ok()).unwrap_or(Value::Null),
                record: crate::dynamodb::lambda_record(r, info).ok(),
            });
        }
        let next = page.next_shard_iterator().map(str::to_owned);
        if pager.go_on(page.records().len(), next.is_some(), None) {
            iterator = next;
        }
    }
    Ok(ShardRead { reads: pager.reads, end: pager.end.unwrap_or_default() })
}

async fn read_kinesis(
    client: &aws_sdk_kinesis::Client,
    info: &BatchInfo,
    pace: Pace,
    closed: bool,
    seen: &mut (dyn FnMut(Seen) + Send),
) -> Result<ShardRead, ReadError> {
    let request = client.get_shard_iterator().stream_arn(&info.stream_arn).shard_id(&info.shard_id);
    let request = match pace.since_ms {
        Some(ms) => request.shard_iterator_type(KinIterator::AtTimestamp).timestamp(DateTime::from_millis(ms)),
        None => request.shard_iterator_type(KinIterator::TrimHorizon),
    };
    let first = request.send().await.map_err(|e| ReadError::service("GetShardIterator", e))?;
    let (mut iterator, mut pager) = (first.shard_iterator, Pager::new(pace.interval, closed));
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
            if arrival.is_some_and(|t| t >= pace.until_ms) {
                pager.window_end();
                break;
            }
            if pace.since_ms.is_some_and(|since| arrival.is_some_and(|t| t < since)) {
                continue;
            }
            // What the audit names of the change: its event name, time and keys only.
            let change: Value = serde_json::from_slice(r.data().as_ref()).unwrap_or(Value::Null);
            seen(Seen {
                sequence_number: r.sequence_number().to_owned(),
                event_name: change["eventName"].as_str().map(str::to_owned),
                event_time_ms: change_time(&change).or(arrival),
                arrival_ms: arrival,
                keys: change["dynamodb"]["Keys"].clone(),
                record: Some(crate::kinesis::lambda_record(r, info)),
            });
        }
        let next = page.next_shard_iterator().map(str::to_owned);
        let caught_up = page.millis_behind_latest().map(|m| m == 0);
        if pager.go_on(page.records().len(), next.is_some(), Some(caught_up.unwrap_or(false))) {
            iterator = next;
        }
    }
    Ok(ShardRead { reads: pager.reads, end: pager.end.unwrap_or_default() })
}

/// A Kinesis change record's time in epoch ms: milliseconds, or microseconds when its
/// `ApproximateCreationDateTimePrecision` says so.
fn change_time(change: &Value) -> Option<i64> {
    let d = &change["dynamodb"];
    let t = d["ApproximateCreationDateTime"].as_i64()?;
    let micro =
        d["ApproximateCreationDateTimePrecision"].as_str().is_some_and(|p| p.eq_ignore_ascii_case("MICROSECOND"));
    Some(if micro { t / 1000 } else { t })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinesis_change_times_follow_their_precision() {
        let ms = serde_json::json!({"dynamodb": {"ApproximateCreationDateTime": 1_795_250_000_123i64}});
        assert_eq!(change_time(&ms), Some(1_795_250_000_123));
        let us = serde_json::json!({"dynamodb": {"ApproximateCreationDateTime": 1_795_250_000_123_456i64,
            "ApproximateCreationDateTimePrecision": "MICROSECOND"}});
        assert_eq!(change_time(&us), Some(1_795_250_000_123));
    }

    #[test]
    fn times_are_epoch_milliseconds() {
        assert_eq!(millis(&DateTime::from_secs_f64(1_795_161_601.662)), 1_795_161_601_662);
    }
}
