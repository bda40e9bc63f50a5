//! The on-failure record of an S3 destination: Lambda writes the whole invocation record
//! of a discarded batch to the bucket, the batch description of [`crate::message`] with
//! the batch itself in `payload` (the Lambda event the function was given, as JSON text
//! or as an object), so that the batch can be archived with no read of the stream and
//! whatever the stream's retention. A queue learns of such an object from S3's event
//! (an EventBridge `Object Created` event, or an S3 event notification); this module
//! reads both, and the payload.

use serde_json::Value;

/// Where Lambda writes failure records in the bucket: `aws/lambda/<mapping>/<shard>/...`.
pub const RECORD_PREFIX: &str = "aws/lambda/";

/// Where the marker of a recovered failure record goes: `recovered/<its key>`, beside
/// the records (as replay marks an error file), outside the records' own prefix.
pub const MARKER_PREFIX: &str = "recovered/";

/// The key of the marker of the failure record `key`.
pub fn marker_key(key: &str) -> String {
    format!("{MARKER_PREFIX}{key}")
}

/// The batch a failure record holds: the Lambda event's bytes, when it holds one. The
/// record is not built into a tree: its `payload` is taken as it lies (an object) or
/// unescaped once (JSON text).
pub fn payload(record: &[u8]) -> Option<Vec<u8>> {
    #[derive(serde::Deserialize)]
    struct Record<'a> {
        #[serde(borrow)]
        payload: Option<&'a serde_json::value::RawValue>,
    }
    let raw = serde_json::from_slice::<Record<'_>>(record).ok()?.payload?.get();
    match raw.as_bytes().first()? {
        b'"' => serde_json::from_str::<String>(raw).ok().map(String::into_bytes),
        b'{' => Some(raw.as_bytes().to_vec()),
        _ => None,
    }
}

/// The object an S3 event names, as `(bucket, key)`: an EventBridge event (`source`
/// `aws.s3`, `detail-type` `Object Created`) or an S3 event notification (`Records`
/// whose first has `s3.bucket.name` and `s3.object.key`, the key URL-encoded); `None`
/// for anything else.
pub fn notified_object(body: &[u8]) -> Option<(String, String)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let text =
        |v: &Value, path: &[&str]| path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str).map(str::to_owned);
    if value.get("source").and_then(Value::as_str) == Some("aws.s3") {
        if value.get("detail-type").and_then(Value::as_str) != Some("Object Created") {
            return None;
        }
        let detail = value.get("detail")?;
        return Some((text(detail, &["bucket", "name"])?, text(detail, &["object", "key"])?));
    }
    let first = value.get("Records")?.as_array()?.first()?;
    if first.get("eventSource").and_then(Value::as_str) != Some("aws:s3") {
        return None;
    }
    let key = text(first, &["s3", "object", "key"])?;
    Some((text(first, &["s3", "bucket", "name"])?, url_decoded(&key)?))
}

/// A key as S3 event notifications write it: `+` for a space, `%XX` for other bytes.
fn url_decoded(key: &str) -> Option<String> {
    let mut out = Vec::with_capacity(key.len());
    let mut bytes = key.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = [bytes.next()?, bytes.next()?];
                out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
            }
            b => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_payload_is_read_as_text_or_as_an_object() {
        let event = json!({"Records": [{"eventID": "1"}]});
        let as_text = json!({"KinesisBatchInfo": {}, "payload": event.to_string()}).to_string();
        assert_eq!(payload(as_text.as_bytes()), Some(event.to_string().into_bytes()));
        let as_object = json!({"KinesisBatchInfo": {}, "payload": event}).to_string();
        let read: Value = serde_json::from_slice(&payload(as_object.as_bytes()).unwrap()).unwrap();
        assert_eq!(read, event);
        for none in [json!({"KinesisBatchInfo": {}}), json!({"payload": 3}), json!([1])] {
            assert_eq!(payload(none.to_string().as_bytes()), None, "{none}");
        }
    }

    #[test]
    fn both_kinds_of_s3_event_name_their_object() {
        let bridge = json!({"source": "aws.s3", "detail-type": "Object Created",
            "detail": {"bucket": {"name": "failures"}, "object": {"key": "aws/lambda/u/shardId-1/x"}}});
        assert_eq!(
            notified_object(bridge.to_string().as_bytes()),
            Some(("failures".into(), "aws/lambda/u/shardId-1/x".into()))
        );
        let deleted = json!({"source": "aws.s3", "detail-type": "Object Deleted", "detail": bridge["detail"]});
        assert_eq!(notified_object(deleted.to_string().as_bytes()), None);
        let note = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "failures"}, "object": {"key": "aws/lambda/a+b%3A1"}}}]});
        assert_eq!(notified_object(note.to_string().as_bytes()), Some(("failures".into(), "aws/lambda/a b:1".into())));
        let message = json!({"DDBStreamBatchInfo": {"shardId": "s"}});
        assert_eq!(notified_object(message.to_string().as_bytes()), None);
        let bad =
            json!({"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}, "object": {"key": "%G0"}}}]});
        assert_eq!(notified_object(bad.to_string().as_bytes()), None);
    }
}
