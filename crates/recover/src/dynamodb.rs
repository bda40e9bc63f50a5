//! DynamoDB Streams: the range of a discarded batch read back from its shard
//! (`GetShardIterator` `AT_SEQUENCE_NUMBER`, or `TRIM_HORIZON` when the start has been
//! trimmed, then `GetRecords` until the end sequence number), each stream record turned
//! into the record of the Lambda event.
//!
//! The DynamoDB Streams API record is the Lambda record less `eventSourceARN`, which
//! Lambda adds: <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_Record.html>.

use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType, StreamRecord};
use aws_sdk_dynamodbstreams::Client;
use serde_json::{Map, Value};

use crate::attribute::item;
use crate::event::epoch_seconds;
use crate::message::BatchInfo;
use crate::range::{Collector, Place, RangeRead, ReadError, PAGE_RECORDS};

/// Reads the records of `batch`'s range from its DynamoDB stream.
pub async fn read_range(client: &Client, batch: &BatchInfo) -> Result<RangeRead, ReadError> {
    let at_start = client
        .get_shard_iterator()
        .stream_arn(&batch.stream_arn)
        .shard_id(&batch.shard_id)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .sequence_number(batch.start.as_str())
        .send()
        .await;
    let (mut iterator, mut trimmed) = match at_start {
        Ok(out) => (out.shard_iterator, false),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_trimmed_data_access_exception()) => {
            (trim_horizon(client, batch).await?, true)
        }
        Err(e) => return Err(ReadError::service("GetShardIterator", e)),
    };
    let mut collector = Collector::new(batch);
    while let Some(it) = iterator.take() {
        let page = match client.get_records().shard_iterator(it).limit(PAGE_RECORDS).send().await {
            Ok(page) => page,
            // The iterator's position was trimmed while reading: go on from the oldest
            // record left (once; records before the start are skipped).
            Err(e) if !trimmed && e.as_service_error().is_some_and(|s| s.is_trimmed_data_access_exception()) => {
                trimmed = true;
                iterator = trim_horizon(client, batch).await?;
                continue;
            }
            Err(e) => return Err(ReadError::service("GetRecords", e)),
        };
        for record in page.records() {
            let seq = record.dynamodb().and_then(StreamRecord::sequence_number);
            match collector.place(seq)? {
                Place::Before => continue,
                Place::Inside => collector.push(lambda_record(record, batch)?),
                Place::After => break,
            }
            if collector.is_complete() {
                break;
            }
        }
        let next = page.next_shard_iterator().map(str::to_owned);
        if collector.next_page(page.records().len(), next.is_some(), false) {
            iterator = next;
        }
    }
    Ok(collector.finish(trimmed))
}

/// An iterator at the oldest record the shard still holds.
async fn trim_horizon(client: &Client, batch: &BatchInfo) -> Result<Option<String>, ReadError> {
    let out = client
        .get_shard_iterator()
        .stream_arn(&batch.stream_arn)
        .shard_id(&batch.shard_id)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .map_err(|e| ReadError::service("GetShardIterator", e))?;
    Ok(out.shard_iterator)
}

/// A stream record as the Lambda event carries it.
pub fn lambda_record(r: &Record, batch: &BatchInfo) -> Result<Value, ReadError> {
    let mut m = Map::new();
    let mut text = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            m.insert(k.to_owned(), Value::String(v.to_owned()));
        }
    };
    text("awsRegion", Some(r.aws_region().unwrap_or(&batch.region)));
    text("eventID", r.event_id());
    text("eventName", r.event_name().map(|n| n.as_str()));
    text("eventSource", Some(r.event_source().unwrap_or("aws:dynamodb")));
    text("eventSourceARN", Some(&batch.stream_arn));
    text("eventVersion", r.event_version());
    if let Some(d) = r.dynamodb() {
        m.insert("dynamodb".into(), stream_record(d)?);
    }
    if let Some(u) = r.user_identity() {
        let mut who = Map::new();
        if let Some(p) = u.principal_id() {
            who.insert("principalId".into(), Value::String(p.to_owned()));
        }
        if let Some(t) = u.r#type() {
            who.insert("type".into(), Value::String(t.to_owned()));
        }
        m.insert("userIdentity".into(), Value::Object(who));
    }
    Ok(Value::Object(m))
}

/// The `dynamodb` section: times in epoch seconds, items in DynamoDB JSON.
fn stream_record(d: &StreamRecord) -> Result<Value, ReadError> {
    let mut m = Map::new();
    if let Some(t) = d.approximate_creation_date_time() {
        m.insert("ApproximateCreationDateTime".into(), epoch_seconds(t));
    }
    for (name, image) in [("Keys", d.keys()), ("NewImage", d.new_image()), ("OldImage", d.old_image())] {
        if let Some(image) = image {
            m.insert(name.into(), item(image)?);
        }
    }
    if let Some(s) = d.sequence_number() {
        m.insert("SequenceNumber".into(), Value::String(s.to_owned()));
    }
    if let Some(n) = d.size_bytes() {
        m.insert("SizeBytes".into(), Value::from(n));
    }
    if let Some(v) = d.stream_view_type() {
        m.insert("StreamViewType".into(), Value::String(v.as_str().to_owned()));
    }
    Ok(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodbstreams::types::{AttributeValue, Identity, OperationType, StreamViewType};
    use aws_smithy_types::DateTime;
    use serde_json::json;

    #[test]
    fn a_stream_record_becomes_the_lambda_record() {
        let batch = crate::message::parse(
            br#"{"DDBStreamBatchInfo": {"shardId": "shardId-1", "startSequenceNumber": "100",
                "endSequenceNumber": "100", "batchSize": 1,
                "streamArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/demand/stream/2026-11-01T00:00:00.000"}}"#,
        )
        .expect("message");
        let key = |pk: &str| {
            [("pk".to_owned(), AttributeValue::S(pk.into())), ("sk".to_owned(), AttributeValue::S("DEMAND#e#s".into()))]
                .into_iter()
                .collect::<std::collections::HashMap<_, _>>()
        };
        let record = Record::builder()
            .event_id("ev-1")
            .event_name(OperationType::Remove)
            .event_version("1.1")
            .event_source("aws:dynamodb")
            .aws_region("eu-west-1")
            .user_identity(Identity::builder().principal_id("dynamodb.amazonaws.com").r#type("Service").build())
            .dynamodb(
                StreamRecord::builder()
                    .approximate_creation_date_time(DateTime::from_secs(1_763_546_400))
                    .set_keys(Some(key("FAN#1")))
                    .set_old_image(Some(key("FAN#1")))
                    .sequence_number("100")
                    .size_bytes(42)
                    .stream_view_type(StreamViewType::NewAndOldImages)
                    .build(),
            )
            .build();
        let v = lambda_record(&record, &batch).expect("record");
        assert_eq!(
            v,
            json!({
                "awsRegion": "eu-west-1", "eventID": "ev-1", "eventName": "REMOVE", "eventSource": "aws:dynamodb",
                "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/demand/stream/2026-11-01T00:00:00.000",
                "eventVersion": "1.1",
                "userIdentity": {"principalId": "dynamodb.amazonaws.com", "type": "Service"},
                "dynamodb": {
                    "ApproximateCreationDateTime": 1763546400,
                    "Keys": {"pk": {"S": "FAN#1"}, "sk": {"S": "DEMAND#e#s"}},
                    "OldImage": {"pk": {"S": "FAN#1"}, "sk": {"S": "DEMAND#e#s"}},
                    "SequenceNumber": "100", "SizeBytes": 42, "StreamViewType": "NEW_AND_OLD_IMAGES"
                }
            })
        );
    }
}
