//! Tests of the stream record intake: sources, times, Kinesis decoding, failures.

use super::*;

fn raw(s: &str) -> Box<RawValue> {
    RawValue::from_string(s.to_string()).expect("json")
}

#[test]
fn dynamodb_record_seconds() {
    let r = raw(r#"{"eventID":"e1","eventName":"REMOVE","eventSource":"aws:dynamodb",
        "eventSourceARN":"arn:aws:dynamodb:eu-west-1:1:table/demand/stream/2026","userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"},
        "dynamodb":{"ApproximateCreationDateTime":1763542530.123,"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"a"}},"SequenceNumber":"100"}}"#);
    let mut rec = receive(&r).expect("received");
    let c = rec.change().expect("change");
    assert_eq!(c.change_time, 1_763_542_530_123);
    assert_eq!(c.sequence_number, "100");
    assert_eq!(c.source_table.as_deref(), Some("demand"));
    assert_eq!(c.deletion_kind, Some(DeletionKind::Ttl));
    assert_eq!(c.change_type, ChangeType::Remove);
}

#[test]
fn kinesis_record_millis_and_micros() {
    use base64::Engine;
    for (ts, precision, want) in [
        ("1763542530123", "", 1_763_542_530_123),
        ("1763542530123456", r#","ApproximateCreationDateTimePrecision":"MICROSECOND""#, 1_763_542_530_123),
    ] {
        let inner = format!(
            r#"{{"eventID":"u1","eventName":"INSERT","tableName":"demand","userIdentity":null,"eventSource":"aws:dynamodb",
            "dynamodb":{{"ApproximateCreationDateTime":{ts}{precision},"Keys":{{"pk":{{"S":"a"}}}},"NewImage":{{"pk":{{"S":"a"}}}}}}}}"#
        );
        let data = base64::engine::general_purpose::STANDARD.encode(inner);
        let r = raw(&format!(
            r#"{{"eventSource":"aws:kinesis","kinesis":{{"data":"{data}","sequenceNumber":"4959"}},"eventID":"shardId-0:4959"}}"#
        ));
        let mut rec = receive(&r).expect("received");
        let c = rec.change().expect("change");
        assert_eq!(c.change_time, want);
        assert_eq!(c.change_id, "u1");
        assert_eq!(c.sequence_number, "4959");
        assert_eq!(c.source_table.as_deref(), Some("demand"));
    }
}

#[test]
fn malformed_records_are_parse_errors() {
    let cases = [
        r#"{"eventSource":"aws:dynamodb","eventID":"1","eventName":"INSERT","dynamodb":{"ApproximateCreationDateTime":1,"SequenceNumber":"1"}}"#,
        r#"{"eventSource":"aws:dynamodb","eventID":"1","eventName":"INSERT","dynamodb":{"ApproximateCreationDateTime":1,"SequenceNumber":"1","NewImage":{"a":{"X":"1"}}}}"#,
        r#"{"eventSource":"aws:dynamodb","eventID":"1","eventName":"DROP","dynamodb":{"ApproximateCreationDateTime":1,"SequenceNumber":"1","NewImage":{}}}"#,
        r#"{"eventSource":"aws:dynamodb","eventID":"1","eventName":"INSERT","dynamodb":{"SequenceNumber":"1","NewImage":{}}}"#,
        r#"{"eventSource":"aws:kinesis","kinesis":{"data":"!!!","sequenceNumber":"1"}}"#,
        r#"{"eventSource":"aws:kinesis","kinesis":{"data":"bm90IGpzb24=","sequenceNumber":"1"}}"#,
        r#"{"eventSource":"aws:sqs"}"#,
        r#"{"eventName":"INSERT"}"#,
    ];
    for c in cases {
        let r = raw(c);
        let err = receive(&r).map_err(|r| r.error).and_then(|mut rec| rec.change().map(|_| ()));
        assert_eq!(err.map_err(|e| e.kind), Err(ErrorKind::Parse), "{c}");
    }
}

#[test]
fn parse_messages_carry_no_values() {
    let r = raw(
        r#"{"eventSource":"aws:dynamodb","eventID":"1","eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":1,
        "SequenceNumber":"1","OldImage":{"a":{"NULL":"ana@example.com"},"b":{"S":5550104477}}}}"#,
    );
    let e = receive(&r).map_err(|r| r.error).and_then(|mut rec| rec.change().map(|_| ())).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Parse);
    assert!(!e.message.contains("ana@") && !e.message.contains("5550104477"), "{}", e.message);
    // The parser's position is held apart, and shown after the message.
    let shown = crate::pii::message(&e);
    assert!(
        e.message.contains("OldImage") && e.position.is_some() && shown.as_str().contains(" at line "),
        "{shown:?}"
    );
}

#[test]
fn arns() {
    assert_eq!(
        table_from_arn("arn:aws:dynamodb:us-east-1:123:table/demand/stream/2026-01-01T00:00:00.000"),
        Some("demand")
    );
    assert_eq!(table_from_arn("arn:aws:kinesis:us-east-1:123:stream/demand-changes"), None);
    assert_eq!(table_from_arn("nonsense"), None);
    for (arn, want) in [
        ("arn:aws:dynamodb:r:1:table/t", Some("t")),
        ("arn:aws:dynamodb:r:1:table/t:x/y", Some("t")),
        ("arn:aws:dynamodb:r:1:table", None),
        ("arn:aws:dynamodb:r:1:table/", None),
        ("arn:aws:dynamodb:r:1:tables/t", None),
        ("arn:aws:dynamodb:r:1:", None),
        ("a:b:c:d:e:table/\u{e9}/s", Some("\u{e9}")),
    ] {
        assert_eq!(table_from_arn(arn), want, "{arn}");
    }
}
