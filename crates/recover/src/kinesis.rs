//! Kinesis Data Streams (for DynamoDB): the range of a discarded batch read back from its
//! shard (`GetShardIterator` `AT_SEQUENCE_NUMBER`, then `GetRecords` until the end
//! sequence number), each Kinesis record turned into the record of the Lambda event:
//! the change record stays the base64 `kinesis.data` the function decodes.
//!
//! The Kinesis API has no "trimmed" error: a start that the stream no longer holds is
//! refused as an invalid argument, and reading then begins at the oldest record left
//! (`TRIM_HORIZON`). Event shape: <https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html>.

use aws_sdk_kinesis::types::{Record, ShardIteratorType};
use aws_sdk_kinesis::Client;
use base64::Engine;
use serde_json::{Map, Value};

use crate::event::epoch_seconds;
use crate::message::BatchInfo;
use crate::range::{Collector, Place, RangeRead, ReadError, PAGE_RECORDS};

/// Reads the records of `batch`'s range from its Kinesis stream.
pub async fn read_range(client: &Client, batch: &BatchInfo) -> Result<RangeRead, ReadError> {
    let at_start = client
        .get_shard_iterator()
        .stream_arn(&batch.stream_arn)
        .shard_id(&batch.shard_id)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .starting_sequence_number(batch.start.as_str())
        .send()
        .await;
    let (mut iterator, trimmed) = match at_start {
        Ok(out) => (out.shard_iterator, false),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_invalid_argument_exception()) => {
            let out = client
                .get_shard_iterator()
                .stream_arn(&batch.stream_arn)
                .shard_id(&batch.shard_id)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .map_err(|e| ReadError::service("GetShardIterator", e))?;
            (out.shard_iterator, true)
        }
        Err(e) => return Err(ReadError::service("GetShardIterator", e)),
    };
    let mut collector = Collector::new(batch);
    while let Some(it) = iterator.take() {
        let page = client
            .get_records()
            .stream_arn(&batch.stream_arn)
            .shard_iterator(it)
            .limit(PAGE_RECORDS)
            .send()
            .await
            .map_err(|e| ReadError::service("GetRecords", e))?;
        for record in page.records() {
            match collector.place(Some(record.sequence_number()))? {
                Place::Before => continue,
                Place::Inside => collector.push(lambda_record(record, batch)),
                Place::After => break,
            }
            if collector.is_complete() {
                break;
            }
        }
        let next = page.next_shard_iterator().map(str::to_owned);
        let caught_up = page.millis_behind_latest() == Some(0);
        if collector.next_page(page.records().len(), next.is_some(), caught_up) {
            iterator = next;
        }
    }
    Ok(collector.finish(trimmed))
}

/// A Kinesis record as the Lambda event carries it. `invokeIdentityArn` (the function's
/// role) is left out: no part of the archive reads it, and a reader outside Lambda has
/// no such role.
pub fn lambda_record(r: &Record, batch: &BatchInfo) -> Value {
    let seq = r.sequence_number();
    let mut kinesis = Map::new();
    if let Some(t) = r.approximate_arrival_timestamp() {
        kinesis.insert("approximateArrivalTimestamp".into(), epoch_seconds(t));
    }
    let data = base64::engine::general_purpose::STANDARD.encode(r.data().as_ref());
    kinesis.insert("data".into(), Value::String(data));
    kinesis.insert("kinesisSchemaVersion".into(), Value::String("1.0".into()));
    if let Some(pk) = r.partition_key() {
        kinesis.insert("partitionKey".into(), Value::String(pk.to_owned()));
    }
    kinesis.insert("sequenceNumber".into(), Value::String(seq.to_owned()));
    let mut m = Map::new();
    m.insert("awsRegion".into(), Value::String(batch.region.clone()));
    m.insert("eventID".into(), Value::String(format!("{}:{seq}", batch.shard_id)));
    m.insert("eventName".into(), Value::String("aws:kinesis:record".into()));
    m.insert("eventSource".into(), Value::String("aws:kinesis".into()));
    m.insert("eventSourceARN".into(), Value::String(batch.stream_arn.clone()));
    m.insert("eventVersion".into(), Value::String("1.0".into()));
    m.insert("kinesis".into(), Value::Object(kinesis));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::{Blob, DateTime};
    use serde_json::json;

    #[test]
    fn a_kinesis_record_becomes_the_lambda_record() {
        let batch = crate::message::parse(
            br#"{"KinesisBatchInfo": {"shardId": "shardId-000000000000", "startSequenceNumber": "7",
                "endSequenceNumber": "7", "batchSize": 1,
                "streamArn": "arn:aws:kinesis:eu-west-1:123456789012:stream/dmd-demand-changes"}}"#,
        )
        .expect("message");
        let record = Record::builder()
            .sequence_number("7")
            .approximate_arrival_timestamp(DateTime::from_secs_f64(1_795_161_601.662))
            .data(Blob::new(br#"{"eventName":"INSERT"}"#.to_vec()))
            .partition_key("0E381458589AD0FE2ACB65EFB359CC7A")
            .build()
            .expect("record");
        assert_eq!(
            lambda_record(&record, &batch),
            json!({
                "awsRegion": "eu-west-1",
                "eventID": "shardId-000000000000:7",
                "eventName": "aws:kinesis:record",
                "eventSource": "aws:kinesis",
                "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/dmd-demand-changes",
                "eventVersion": "1.0",
                "kinesis": {
                    "approximateArrivalTimestamp": 1795161601.662,
                    "data": "eyJldmVudE5hbWUiOiJJTlNFUlQifQ==",
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "0E381458589AD0FE2ACB65EFB359CC7A",
                    "sequenceNumber": "7"
                }
            })
        );
    }
}
