//! The recovery of one on-failure message: its range read back from the stream, the
//! Lambda event the function would have received rebuilt from it, that event through the
//! one pipeline entry ([`Pipeline::run`]), and an account of where every record went.
//!
//! A range is recovered in full when every record of the batch was read and is now in a
//! data file or an error file. Anything else is a problem, said in words and counted:
//! records the stream no longer holds (`missing`), records whose files could not be
//! written (`retry`), a read that could not reach the end of the range.

use dmd_archive::sink::ObjectSink;
use dmd_archive::{Clock, Limits, Pipeline};
use serde::Serialize;

use crate::event::payload;
use crate::failure_record;
use crate::message::{self, BatchInfo};
use crate::range::StreamReader;

/// What became of one message: the contract's fields (`shard_id`,
/// `start_sequence_number`, `end_sequence_number`, `records`, `archived`, `errors`,
/// `missing`, `deleted_message`) and the rest of the account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Recovery {
    /// `aws:dynamodb` or `aws:kinesis`; null when the message could not be read.
    pub source: Option<&'static str>,
    pub stream_arn: Option<String>,
    pub shard_id: Option<String>,
    pub start_sequence_number: Option<String>,
    pub end_sequence_number: Option<String>,
    /// Why Lambda gave up on the batch (`RetryAttemptsExhausted`, `RecordAgeExceeded`, ...).
    pub condition: Option<String>,
    /// Records in the discarded batch, as the message says.
    pub batch_size: Option<u64>,
    /// Records of the range read back from the stream.
    pub records: usize,
    /// Records now in data files.
    pub archived: usize,
    /// Records now in error files.
    pub errors: usize,
    /// Records of the batch the stream no longer holds: `batch_size` less `records`.
    pub missing: u64,
    /// Records whose files could not be written.
    pub retry: usize,
    /// The start of the range had been trimmed from the stream.
    pub trimmed: bool,
    /// Keys written.
    pub files: Vec<String>,
    /// Whether the queue message was deleted (set by whoever holds the message).
    pub deleted_message: bool,
    /// The batch came whole in the failure record (an S3 on-failure destination): the
    /// stream was not read.
    pub from_failure_record: bool,
    /// Why the range is not recovered in full; null when it is.
    pub problem: Option<String>,
}

impl Recovery {
    /// Every record of the range is in a data file or an error file.
    pub fn recovered(&self) -> bool {
        self.problem.is_none()
    }

    /// The message's fields as this line prints them: identifiers through the PII
    /// boundary, as a manifest prints them (the message is not checked beyond its shape).
    fn of(batch: &BatchInfo) -> Recovery {
        let ident = |s: &str| dmd_archive::pii::envelope_identifier(s).as_str().to_owned();
        Recovery {
            source: Some(batch.source.as_str()),
            stream_arn: Some(ident(&batch.stream_arn)),
            shard_id: Some(ident(&batch.shard_id)),
            start_sequence_number: Some(batch.start.to_string()),
            end_sequence_number: Some(batch.end.to_string()),
            condition: batch.condition.as_deref().map(ident),
            batch_size: Some(batch.batch_size),
            ..Recovery::default()
        }
    }

    /// Marks the failure record `key` recovered, when it is: its recovery line, beside
    /// it (`recovered/<key>`, read through `store`), so that `dmd recover --failures`
    /// passes it by; a marker that cannot be written is this recovery's problem.
    pub async fn mark<S: ObjectSink>(&mut self, store: &S, key: &str) {
        if !self.recovered() {
            return;
        }
        let marked = match serde_json::to_vec(&*self) {
            Ok(line) => store
                .put(&failure_record::marker_key(key), line.into(), "application/json")
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = marked {
            self.problem = Some(format!("recovered, but the failure record was not marked: {e}"));
        }
    }

    fn problem(message: impl Into<String>) -> Recovery {
        Recovery { problem: Some(message.into()), ..Recovery::default() }
    }

    /// A message whose recovery did not finish (it ran out of time, say), named by its
    /// range when it can be read.
    pub fn unfinished(body: &[u8], problem: impl Into<String>) -> Recovery {
        let mut r = message::parse(body).map(|b| Recovery::of(&b)).unwrap_or_default();
        r.problem = Some(problem.into());
        r
    }
}

/// The pipeline and the stream reader, built once.
#[derive(Debug)]
pub struct Recoverer<R> {
    pipeline: Pipeline,
    reader: R,
}

impl<R: StreamReader> Recoverer<R> {
    pub fn new(pipeline: Pipeline, reader: R) -> Recoverer<R> {
        Recoverer { pipeline, reader }
    }

    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Recovers the range of one on-failure message (`body`: the message as SQS holds
    /// it), writing through `sink` exactly as the function would. Never fails: every
    /// failure is the returned recovery's `problem`.
    pub async fn recover<S: ObjectSink>(&self, body: &[u8], sink: &S, clock: &dyn Clock, limits: Limits) -> Recovery {
        let batch = match message::parse(body) {
            Ok(batch) => batch,
            Err(e) => return Recovery::problem(format!("not an on-failure message: {e}")),
        };
        let mut r = Recovery::of(&batch);
        // The batch itself: whole in an S3 failure record, else read back from the stream
        // and rebuilt as the Lambda event.
        let (event, complete) = match failure_record::payload(body) {
            Some(event) => {
                r.from_failure_record = true;
                (Some(event), true)
            }
            None => match self.reader.read(&batch).await {
                Ok(read) => {
                    r.records = read.records.len();
                    r.trimmed = read.trimmed;
                    ((!read.records.is_empty()).then(|| payload(&read.records)), read.complete)
                }
                Err(e) => {
                    r.problem = Some(format!("could not read the range from the stream: {e}"));
                    return r;
                }
            },
        };
        let mut problems = Vec::new();
        if let Some(event) = event {
            match self.pipeline.run(&event, clock, sink, limits).await {
                Ok(outcome) => {
                    if r.from_failure_record {
                        r.records = outcome.summary.records;
                    }
                    r.archived = outcome.summary.archived_records();
                    r.errors = outcome.summary.errors;
                    r.retry = outcome.summary.retry + outcome.unreportable();
                    r.files = outcome.summary.files.clone();
                }
                Err(e) if r.from_failure_record => {
                    r.problem = Some(format!("the pipeline refused the failure record's batch: {e}"));
                    return r;
                }
                Err(e) => problems.push(format!("the pipeline refused the rebuilt event: {e}")),
            }
        }
        r.missing = batch.batch_size.saturating_sub(u64::try_from(r.records).unwrap_or(u64::MAX));
        if r.missing > 0 {
            problems.push(if r.from_failure_record {
                format!("the failure record holds {} of the batch's {} record(s)", r.records, batch.batch_size)
            } else {
                let why = if r.trimmed {
                    "the start of the range was trimmed".to_owned()
                } else {
                    format!("the range holds {} of its {}", r.records, batch.batch_size)
                };
                format!("{} record(s) of the batch are no longer in the stream: {why}", r.missing)
            });
        }
        if !complete {
            problems.push("the stream ended the read before the end sequence number".to_owned());
        }
        if r.retry > 0 {
            problems.push(format!("{} record(s) could not be written (their files failed); run again", r.retry));
        } else if problems.is_empty() && r.archived + r.errors != r.records {
            problems.push(format!("{} of {} record(s) are accounted for", r.archived + r.errors, r.records));
        }
        if !problems.is_empty() {
            r.problem = Some(problems.join("; "));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::range::{RangeRead, ReadError};
    use dmd_archive::avro::Codec;
    use dmd_archive::{FixedClock, Memory, Settings};
    use serde_json::{json, Value};

    /// A stream that answers every range with the same read.
    struct Fake(Result<RangeRead, ReadError>);

    impl StreamReader for Fake {
        async fn read(&self, _: &BatchInfo) -> Result<RangeRead, ReadError> {
            self.0.clone()
        }
    }

    const ARN: &str = "arn:aws:dynamodb:eu-west-1:123456789012:table/demand/stream/2026-11-01T00:00:00.000";
    const CLOCK: FixedClock = FixedClock(1_795_000_000_000);

    fn message(batch_size: u64) -> Vec<u8> {
        json!({"requestContext": {"condition": "RetryAttemptsExhausted"}, "version": "1.0",
            "DDBStreamBatchInfo": {"shardId": "shardId-1", "startSequenceNumber": "100", "endSequenceNumber": "300",
                "batchSize": batch_size, "streamArn": ARN}})
        .to_string()
        .into_bytes()
    }

    fn record(seq: u32, name: &str, fan: &str) -> Value {
        let image = json!({"pk": {"S": format!("FAN#{fan}")}, "sk": {"S": "DEMAND#e-1#s-1"}, "eventId": {"S": "e-1"},
            "saleId": {"S": "s-1"}, "fanId": {"S": fan}, "requestedDate": {"S": "2026-11-19T10:00:00Z"},
            "email": {"S": "fan@example.com"}});
        let images = if name == "REMOVE" { json!({"OldImage": image}) } else { json!({"NewImage": image}) };
        let mut dynamodb = json!({"ApproximateCreationDateTime": 1_763_546_400, "SequenceNumber": seq.to_string(),
            "Keys": {"pk": {"S": format!("FAN#{fan}")}, "sk": {"S": "DEMAND#e-1#s-1"}}});
        if let (Some(d), Some(i)) = (dynamodb.as_object_mut(), images.as_object()) {
            d.extend(i.clone());
        }
        json!({"eventID": format!("ev-{seq}"), "eventName": name, "eventSource": "aws:dynamodb",
            "eventSourceARN": ARN, "awsRegion": "eu-west-1", "dynamodb": dynamodb})
    }

    fn read(records: Vec<Value>, complete: bool) -> Fake {
        Fake(Ok(RangeRead { records, trimmed: false, complete }))
    }

    /// Uncompressed files, so that their text can be searched.
    fn pipeline() -> Pipeline {
        Pipeline::new(Settings { codec: Codec::Null, ..Settings::default() }).expect("pipeline")
    }

    fn recoverer(reader: Fake) -> Recoverer<Fake> {
        Recoverer::new(pipeline(), reader)
    }

    #[tokio::test]
    async fn a_whole_range_goes_through_the_pipeline_and_a_rerun_writes_the_same_keys() {
        let records = vec![record(100, "INSERT", "f-1"), record(200, "MODIFY", "f-1"), record(300, "REMOVE", "f-1")];
        let rec = recoverer(read(records.clone(), true));
        let sink = Memory::new();
        let r = rec.recover(&message(3), &sink, &CLOCK, Limits::default()).await;
        assert!(r.recovered(), "{r:?}");
        assert_eq!((r.records, r.archived, r.errors, r.missing, r.retry), (3, 3, 0, 0, 0));
        assert_eq!(r.source, Some("aws:dynamodb"));
        assert_eq!(r.condition.as_deref(), Some("RetryAttemptsExhausted"));
        assert_eq!(r.start_sequence_number.as_deref(), Some("100"));
        assert_eq!(r.end_sequence_number.as_deref(), Some("300"));

        // The same keys as the same records given to the pipeline as a Lambda event.
        let direct = Memory::new();
        let event = json!({"Records": records}).to_string();
        pipeline().run(event.as_bytes(), &CLOCK, &direct, Limits::default()).await.expect("event");
        assert_eq!(sink.objects(), direct.objects());
        let again = Memory::new();
        let r2 = rec.recover(&message(3), &again, &CLOCK, Limits::default()).await;
        assert_eq!(r2.files, r.files);
        assert_eq!(again.objects(), sink.objects());
        // The deleted item's e-mail address went through the pipeline's PII policy.
        let removed = sink.objects().values().map(|b| String::from_utf8_lossy(b).into_owned()).collect::<String>();
        assert_eq!(removed.matches("fan@example.com").count(), 2, "only the INSERT and the MODIFY keep it");
    }

    #[tokio::test]
    async fn an_s3_failure_record_is_archived_from_its_payload_without_the_stream() {
        let records = vec![record(100, "INSERT", "f-1"), record(200, "MODIFY", "f-1"), record(300, "REMOVE", "f-1")];
        let event = json!({"Records": records}).to_string();
        let mut failure: Value = serde_json::from_slice(&message(3)).expect("message");
        failure["payload"] = event.clone().into();
        // The stream holds nothing of the range any more.
        let rec = recoverer(read(Vec::new(), false));
        let sink = Memory::new();
        let r = rec.recover(failure.to_string().as_bytes(), &sink, &CLOCK, Limits::default()).await;
        assert!(r.recovered() && r.from_failure_record, "{r:?}");
        assert_eq!((r.records, r.archived, r.errors, r.missing, r.retry), (3, 3, 0, 0, 0));
        let direct = Memory::new();
        pipeline().run(event.as_bytes(), &CLOCK, &direct, Limits::default()).await.expect("event");
        assert_eq!(sink.objects(), direct.objects(), "the keys and bytes the function would write");
        // A record that holds fewer records than its batch size says is not recovered.
        failure["DDBStreamBatchInfo"]["batchSize"] = 5.into();
        let r = rec.recover(failure.to_string().as_bytes(), &Memory::new(), &CLOCK, Limits::default()).await;
        assert_eq!((r.recovered(), r.missing), (false, 2), "{r:?}");
    }

    #[tokio::test]
    async fn records_the_stream_no_longer_holds_are_counted_as_missing() {
        let rec = recoverer(Fake(Ok(RangeRead {
            records: vec![record(300, "INSERT", "f-3")],
            trimmed: true,
            complete: true,
        })));
        let r = rec.recover(&message(3), &Memory::new(), &CLOCK, Limits::default()).await;
        assert!(!r.recovered());
        assert_eq!((r.records, r.archived, r.missing), (1, 1, 2));
        assert!(r.trimmed);
        assert!(r
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("2 record(s) of the batch are no longer in the stream")));
    }

    #[tokio::test]
    async fn records_whose_files_fail_are_not_recovered() {
        let rec = recoverer(read(vec![record(100, "INSERT", "f-1")], true));
        let sink = Memory::refusing(|k| k.starts_with("data/"));
        let r = rec.recover(&message(1), &sink, &CLOCK, Limits::default()).await;
        assert!(!r.recovered());
        assert_eq!((r.records, r.archived, r.retry), (1, 0, 1));
        assert!(r.problem.as_deref().is_some_and(|p| p.contains("could not be written")), "{r:?}");
    }

    #[tokio::test]
    async fn an_unfinished_read_a_failed_read_and_a_bad_message_are_problems() {
        let rec = recoverer(read(vec![record(100, "INSERT", "f-1")], false));
        let r = rec.recover(&message(1), &Memory::new(), &CLOCK, Limits::default()).await;
        assert_eq!(r.missing, 0);
        assert!(r.problem.as_deref().is_some_and(|p| p.contains("before the end sequence number")), "{r:?}");

        let failed = ReadError::Service { operation: "GetRecords", message: "LimitExceededException".into() };
        let rec = recoverer(Fake(Err(failed)));
        let r = rec.recover(&message(1), &Memory::new(), &CLOCK, Limits::default()).await;
        assert!(r.problem.as_deref().is_some_and(|p| p.contains("GetRecords failed")), "{r:?}");
        assert_eq!(r.shard_id.as_deref(), Some("shardId-1"), "the range is still named");

        let sink = Memory::new();
        let r = rec.recover(br#"{"Records": []}"#, &sink, &CLOCK, Limits::default()).await;
        assert!(r.problem.as_deref().is_some_and(|p| p.starts_with("not an on-failure message")), "{r:?}");
        assert_eq!(r.shard_id, None);
        assert!(sink.objects().is_empty());
    }

    #[tokio::test]
    async fn bad_records_go_to_the_error_file_and_count_as_recovered() {
        let mut bad = record(200, "INSERT", "f-2");
        bad["dynamodb"]["NewImage"]["requestedDate"] = json!({"S": "next tuesday"});
        let rec = recoverer(read(vec![record(100, "INSERT", "f-1"), bad], true));
        let sink = Memory::new();
        let r = rec.recover(&message(2), &sink, &CLOCK, Limits::default()).await;
        assert!(r.recovered(), "{r:?}");
        assert_eq!((r.archived, r.errors), (1, 1));
        assert!(sink.objects().keys().any(|k| k.starts_with("errors/dt=")));
    }
}
