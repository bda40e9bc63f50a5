//! The on-failure message: what Lambda sends to the event source mapping's on-failure
//! destination when it discards a batch (`DDBStreamBatchInfo` for DynamoDB Streams,
//! `KinesisBatchInfo` for Kinesis), read into the range to recover.
//!
//! The shape, from <https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html>
//! and <https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html>:
//!
//! ```json
//! {"requestContext": {"requestId": "...", "functionArn": "...", "condition": "RetryAttemptsExhausted",
//!                     "approximateInvokeCount": 1},
//!  "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
//!  "version": "1.0", "timestamp": "2019-11-14T00:13:49.717Z",
//!  "DDBStreamBatchInfo": {"shardId": "shardId-00000001573689847184-864758bb",
//!                         "startSequenceNumber": "800000000003126276362",
//!                         "endSequenceNumber": "800000000003126276362",
//!                         "approximateArrivalOfFirstRecord": "2019-11-14T00:13:19Z",
//!                         "approximateArrivalOfLastRecord": "2019-11-14T00:13:19Z",
//!                         "batchSize": 1,
//!                         "streamArn": "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388"}}
//! ```

use dmd_archive::envelope::Source;
use serde_json::{Map, Value};

use crate::sequence::SequenceNumber;

/// The key of the batch description of a DynamoDB Streams mapping.
pub const DYNAMODB_INFO: &str = "DDBStreamBatchInfo";
/// The key of the batch description of a Kinesis mapping.
pub const KINESIS_INFO: &str = "KinesisBatchInfo";
/// The largest batch an event source mapping delivers.
pub const MAX_BATCH_SIZE: u64 = 10_000;

/// Why a message cannot be recovered from. The texts name fields, never values: a
/// message that is not what it should be could hold anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("the message is not JSON ({0})")]
    NotJson(String),
    #[error("the message is not a JSON object")]
    NotAnObject,
    #[error("the message has neither {DYNAMODB_INFO} nor {KINESIS_INFO}: it is no stream mapping's on-failure record")]
    NoBatchInfo,
    #[error("the message has both {DYNAMODB_INFO} and {KINESIS_INFO}")]
    BothKinds,
    #[error("{info} is not an object")]
    InfoNotAnObject { info: &'static str },
    #[error("{info}.{field} is missing or is not {expected}")]
    Field { info: &'static str, field: &'static str, expected: &'static str },
    #[error("{info}.{field} is not a sequence number (1 to 128 decimal digits)")]
    SequenceNumber { info: &'static str, field: &'static str },
    #[error("{info}.endSequenceNumber is before its startSequenceNumber")]
    EndBeforeStart { info: &'static str },
    #[error("{info}.batchSize must be 1 to {MAX_BATCH_SIZE}")]
    BatchSize { info: &'static str },
    #[error("{info}.streamArn is not {expected}")]
    StreamArn { info: &'static str, expected: &'static str },
    #[error("{info}.shardId is not a shard id (letters, digits, '-', '_' or '.', at most 128)")]
    ShardId { info: &'static str },
}

/// The discarded batch: a range of one shard of one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchInfo {
    pub source: Source,
    pub shard_id: String,
    pub start: SequenceNumber,
    pub end: SequenceNumber,
    /// Records Lambda put in the batch.
    pub batch_size: u64,
    pub stream_arn: String,
    /// The stream's region, from its ARN (the records' `awsRegion`).
    pub region: String,
    /// Why Lambda gave up (`requestContext.condition`), when the message says.
    pub condition: Option<String>,
}

impl BatchInfo {
    /// The name of the message's batch description.
    pub fn info_key(&self) -> &'static str {
        match self.source {
            Source::DynamoDb => DYNAMODB_INFO,
            Source::Kinesis => KINESIS_INFO,
        }
    }
}

/// Reads an on-failure message (the SQS message body, or a file holding it).
pub fn parse(body: &[u8]) -> Result<BatchInfo, MessageError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| MessageError::NotJson(position(&e)))?;
    let Value::Object(message) = value else {
        return Err(MessageError::NotAnObject);
    };
    let (source, info_key, info) = match (message.get(DYNAMODB_INFO), message.get(KINESIS_INFO)) {
        (Some(_), Some(_)) => return Err(MessageError::BothKinds),
        (Some(i), None) => (Source::DynamoDb, DYNAMODB_INFO, i),
        (None, Some(i)) => (Source::Kinesis, KINESIS_INFO, i),
        (None, None) => return Err(MessageError::NoBatchInfo),
    };
    let Value::Object(info) = info else {
        return Err(MessageError::InfoNotAnObject { info: info_key });
    };
    let text = |field: &'static str| -> Result<&str, MessageError> {
        info.get(field).and_then(Value::as_str).ok_or(MessageError::Field {
            info: info_key,
            field,
            expected: "a string",
        })
    };
    let sequence = |field: &'static str| -> Result<SequenceNumber, MessageError> {
        SequenceNumber::parse(text(field)?).map_err(|_| MessageError::SequenceNumber { info: info_key, field })
    };
    let shard_id = text("shardId")?;
    let shard_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if shard_id.is_empty() || shard_id.len() > 128 || !shard_id.chars().all(shard_ok) {
        return Err(MessageError::ShardId { info: info_key });
    }
    let start = sequence("startSequenceNumber")?;
    let end = sequence("endSequenceNumber")?;
    if end < start {
        return Err(MessageError::EndBeforeStart { info: info_key });
    }
    let batch_size = batch_size(info).ok_or(MessageError::BatchSize { info: info_key })?;
    let stream_arn = text("streamArn")?;
    let region = stream_region(source, stream_arn).ok_or(MessageError::StreamArn {
        info: info_key,
        expected: match source {
            Source::DynamoDb => "a DynamoDB stream ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/stream/LABEL)",
            Source::Kinesis => "a Kinesis stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)",
        },
    })?;
    let condition = message
        .get("requestContext")
        .and_then(|c| c.get("condition"))
        .and_then(Value::as_str)
        .filter(|c| c.len() <= 64 && c.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(str::to_owned);
    Ok(BatchInfo {
        source,
        shard_id: shard_id.to_owned(),
        start,
        end,
        batch_size,
        stream_arn: stream_arn.to_owned(),
        region,
        condition,
    })
}

/// `batchSize`: a whole number from 1 to [`MAX_BATCH_SIZE`].
fn batch_size(info: &Map<String, Value>) -> Option<u64> {
    info.get("batchSize").and_then(Value::as_u64).filter(|n| (1..=MAX_BATCH_SIZE).contains(n))
}

/// The region of a stream ARN of the source's kind, or `None` when the ARN is not one.
/// The stream label of a DynamoDB stream holds colons, so the ARN is split at most six
/// ways.
pub fn stream_region(source: Source, arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
        return None;
    };
    let (want_service, resource_ok) = match source {
        Source::DynamoDb => ("dynamodb", is_table_stream(resource)),
        Source::Kinesis => {
            ("kinesis", resource.strip_prefix("stream/").is_some_and(|n| !n.is_empty() && !n.contains('/')))
        }
    };
    let region_ok =
        !region.is_empty() && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    (*prefix == "arn"
        && partition.starts_with("aws")
        && *service == want_service
        && region_ok
        && account_ok
        && resource_ok)
        .then(|| (*region).to_owned())
}

/// `table/NAME/stream/LABEL`.
fn is_table_stream(resource: &str) -> bool {
    let mut r = resource.splitn(4, '/');
    match (r.next(), r.next(), r.next(), r.next()) {
        (Some("table"), Some(table), Some("stream"), Some(label)) => !table.is_empty() && !label.is_empty(),
        _ => false,
    }
}

/// Where a JSON text stops parsing, without any of its content.
fn position(e: &serde_json::Error) -> String {
    format!("line {}, column {}", e.line(), e.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The DynamoDB Streams example of Lambda's documentation.
    const DYNAMODB: &str = r#"{
        "requestContext": {"requestId": "316aa6d0-8154-xmpl-9af7-85d5f4a6bc81",
            "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
            "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 1},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0", "timestamp": "2019-11-14T00:13:49.717Z",
        "DDBStreamBatchInfo": {"shardId": "shardId-00000001573689847184-864758bb",
            "startSequenceNumber": "800000000003126276362", "endSequenceNumber": "800000000003126276362",
            "approximateArrivalOfFirstRecord": "2019-11-14T00:13:19Z",
            "approximateArrivalOfLastRecord": "2019-11-14T00:13:19Z", "batchSize": 1,
            "streamArn": "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388"}}"#;

    /// The Kinesis example of Lambda's documentation.
    const KINESIS: &str = r#"{
        "requestContext": {"requestId": "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5",
            "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
            "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 1},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0", "timestamp": "2019-11-14T00:38:06.021Z",
        "KinesisBatchInfo": {"shardId": "shardId-000000000001",
            "startSequenceNumber": "49601189658422359378836298521827638475320189012309704722",
            "endSequenceNumber": "49601189658422359378836298522902373528957594348623495186",
            "approximateArrivalOfFirstRecord": "2019-11-14T00:38:04.835Z",
            "approximateArrivalOfLastRecord": "2019-11-14T00:38:05.580Z", "batchSize": 500,
            "streamArn": "arn:aws:kinesis:us-east-2:123456789012:stream/mystream"}}"#;

    fn seq(s: &str) -> SequenceNumber {
        SequenceNumber::parse(s).expect(s)
    }

    #[test]
    fn the_documented_dynamodb_message() {
        let b = parse(DYNAMODB.as_bytes()).expect("valid");
        assert_eq!(b.source, Source::DynamoDb);
        assert_eq!(b.shard_id, "shardId-00000001573689847184-864758bb");
        assert_eq!(b.start, seq("800000000003126276362"));
        assert_eq!(b.end, b.start);
        assert_eq!(b.batch_size, 1);
        assert_eq!(b.region, "us-east-2");
        assert_eq!(b.condition.as_deref(), Some("RetryAttemptsExhausted"));
        assert_eq!(b.info_key(), "DDBStreamBatchInfo");
    }

    #[test]
    fn the_documented_kinesis_message() {
        let b = parse(KINESIS.as_bytes()).expect("valid");
        assert_eq!(b.source, Source::Kinesis);
        assert_eq!(b.shard_id, "shardId-000000000001");
        assert_eq!(b.end, seq("49601189658422359378836298522902373528957594348623495186"));
        assert_eq!(b.batch_size, 500);
        assert_eq!(b.stream_arn, "arn:aws:kinesis:us-east-2:123456789012:stream/mystream");
        assert_eq!(b.region, "us-east-2");
    }

    #[test]
    fn what_is_not_a_message() {
        assert!(matches!(parse(b"not json"), Err(MessageError::NotJson(_))));
        assert_eq!(parse(b"[1]"), Err(MessageError::NotAnObject));
        assert_eq!(parse(br#"{"Records": []}"#), Err(MessageError::NoBatchInfo));
        let both = DYNAMODB.replacen('{', r#"{"KinesisBatchInfo": {}, "#, 1);
        assert_eq!(parse(both.as_bytes()), Err(MessageError::BothKinds));
    }

    #[test]
    fn every_field_is_checked_and_named() {
        let cases: [(&str, &str, &str); 9] = [
            (r#""shardId": "shardId-000000000001""#, r#""shardId": 7"#, "KinesisBatchInfo.shardId"),
            (r#""shardId": "shardId-000000000001""#, r#""shardId": "a b""#, "KinesisBatchInfo.shardId"),
            (
                r#""startSequenceNumber": "49601189658422359378836298521827638475320189012309704722""#,
                r#""startSequenceNumber": "0x1""#,
                "KinesisBatchInfo.startSequenceNumber",
            ),
            (
                r#""endSequenceNumber": "49601189658422359378836298522902373528957594348623495186""#,
                r#""endSequenceNumber": "4960118965842235937883629852182763847532018901230970472""#,
                "endSequenceNumber is before",
            ),
            (r#""batchSize": 500"#, r#""batchSize": 0"#, "batchSize"),
            (r#""batchSize": 500"#, r#""batchSize": 10001"#, "batchSize"),
            (r#""batchSize": 500"#, r#""batchSize": "500""#, "batchSize"),
            (
                r#""streamArn": "arn:aws:kinesis:us-east-2:123456789012:stream/mystream""#,
                r#""streamArn": "arn:aws:dynamodb:us-east-2:123456789012:table/t/stream/x""#,
                "streamArn is not a Kinesis stream ARN",
            ),
            (
                r#""streamArn": "arn:aws:kinesis:us-east-2:123456789012:stream/mystream""#,
                r#""streamName": "mystream""#,
                "KinesisBatchInfo.streamArn is missing",
            ),
        ];
        for (from, to, needle) in cases {
            assert_eq!(KINESIS.matches(from).count(), 1, "{from}");
            let text = KINESIS.replacen(from, to, 1);
            let e = parse(text.as_bytes()).expect_err(to);
            assert!(e.to_string().contains(needle), "{to}: {e}");
        }
    }

    #[test]
    fn stream_arns() {
        let ddb = "arn:aws:dynamodb:eu-west-1:123456789012:table/demand/stream/2026-11-01T00:00:00.000";
        assert_eq!(stream_region(Source::DynamoDb, ddb).as_deref(), Some("eu-west-1"));
        assert_eq!(stream_region(Source::Kinesis, ddb), None);
        let kin = "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/dmd";
        assert_eq!(stream_region(Source::Kinesis, kin).as_deref(), Some("cn-north-1"));
        for bad in [
            "arn:aws:dynamodb:eu-west-1:123456789012:table/demand",
            "arn:aws:dynamodb:eu-west-1:12345:table/demand/stream/x",
            "arn:aws:dynamodb::123456789012:table/demand/stream/x",
            "nra:aws:dynamodb:eu-west-1:123456789012:table/demand/stream/x",
        ] {
            assert_eq!(stream_region(Source::DynamoDb, bad), None, "{bad}");
        }
        assert_eq!(stream_region(Source::Kinesis, "arn:aws:kinesis:eu-west-1:123456789012:stream/"), None);
    }

    #[test]
    fn errors_do_not_repeat_the_message() {
        let secret = r#"{"DDBStreamBatchInfo": {"shardId": "fan@example.com"}}"#;
        let e = parse(secret.as_bytes()).expect_err("bad shard");
        assert!(!e.to_string().contains("example.com"), "{e}");
        let e = parse(b"{\"x\": \"fan@example.com\" oops").expect_err("not JSON");
        assert!(!e.to_string().contains("example.com"), "{e}");
    }
}
