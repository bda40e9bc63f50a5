//! The `recoverer` function: an SQS batch from the failure queue, each on-failure message
//! recovered through [`dmd_recover::Recoverer`] within the invocation's deadline, and the
//! SQS partial batch response naming the messages not recovered in full, so that Lambda
//! deletes exactly the recovered ones and the others come back after the queue's
//! visibility timeout. See
//! <https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html>.

use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use dmd_archive::deliver::ANSWER_RESERVE;
use dmd_archive::sink::ObjectSink;
use dmd_archive::store::ObjectStore;
use dmd_archive::{Deadline, Limits, Pipeline, SystemClock};
use dmd_recover::{failure_record, Recoverer, Recovery, StreamReader};
use lambda_runtime::LambdaEvent;

use crate::config::Config;
use crate::handler::{instant_of_epoch_ms, now_millis};
use crate::recovery_report::recovery_line;

/// The function: the pipeline, the stream reader and the sink, built once.
pub struct RecoverFunction<R, S> {
    recoverer: Recoverer<R>,
    sink: S,
    concurrency: usize,
    deadline_margin: Duration,
    function_name: String,
    /// The bucket of the S3 on-failure destination (`FAILED_BATCH_BUCKET`), and the
    /// store that reads it: a message that is S3's event of a new object there is
    /// recovered from that object.
    failure_records: Option<(String, S)>,
}

impl<R: StreamReader, S: ObjectSink + ObjectStore> RecoverFunction<R, S> {
    /// Fails only when the built-in Avro schemas do not load (a build defect).
    pub fn new(config: &Config, reader: R, sink: S) -> anyhow::Result<RecoverFunction<R, S>> {
        let pipeline = Pipeline::new(config.settings.clone())?;
        let function_name = crate::config::function_name("recoverer");
        Ok(RecoverFunction {
            recoverer: Recoverer::new(pipeline, reader),
            sink,
            concurrency: config.concurrency,
            deadline_margin: config.deadline_margin,
            function_name,
            failure_records: None,
        })
    }

    /// Recovers the failure records that S3 announces in `bucket`, read through `store`.
    pub fn with_failure_records(mut self, bucket: String, store: S) -> RecoverFunction<R, S> {
        self.failure_records = Some((bucket, store));
        self
    }

    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// Handles one SQS event as delivered. The invocation itself never fails: a message
    /// that was not recovered is named in `batchItemFailures`.
    pub async fn invoke(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        Ok(self.handle(&event.payload, Some(instant_of_epoch_ms(event.context.deadline))).await)
    }

    /// Recovers every message of `event`, one after the other, and logs one line each.
    pub async fn handle(&self, event: &SqsEvent, deadline: Option<Instant>) -> SqsBatchResponse {
        let mut answer = SqsBatchResponse::default();
        for message in &event.records {
            let id = message.message_id.clone().unwrap_or_default();
            let body = message.body.as_deref().unwrap_or_default().as_bytes();
            let recovery = match self.failure_record(body).await {
                Ok(Some((key, record, store))) => {
                    let mut recovery = self.recover(&record, deadline).await;
                    recovery.mark(store, &key).await;
                    recovery
                }
                Ok(None) => self.recover(body, deadline).await,
                Err(problem) => Recovery::unfinished(&[], problem),
            };
            let line = recovery_line(&self.function_name, &id, &recovery, now_millis());
            println!("{line}");
            if !recovery.recovered() {
                answer.add_failure(id);
            }
        }
        answer
    }

    /// The failure record a message announces (S3's event of a new object in the
    /// failure bucket), with the store it is in; `None` when the message is an
    /// on-failure message itself.
    async fn failure_record(&self, body: &[u8]) -> Result<Option<(String, bytes::Bytes, &S)>, String> {
        let Some((bucket, key)) = failure_record::notified_object(body) else {
            return Ok(None);
        };
        let Some((ours, store)) = self.failure_records.as_ref().filter(|(b, _)| *b == bucket) else {
            return Err(format!("S3 announces an object in a bucket that is not FAILED_BATCH_BUCKET ({bucket:?})"));
        };
        match store.get(&key).await {
            Ok(Some(bytes)) => Ok(Some((key, bytes, store))),
            Ok(None) => Err(format!("the failure record {key:?} is not in {ours:?}")),
            Err(e) => Err(format!("cannot read the failure record: {e}")),
        }
    }

    /// One message, given up (and left to a later try) once the invocation is about to
    /// time out.
    async fn recover(&self, body: &[u8], deadline: Option<Instant>) -> Recovery {
        let limits = Limits {
            concurrency: self.concurrency,
            deadline: deadline.map(|at| Deadline { at, margin: self.deadline_margin }),
        };
        let work = self.recoverer.recover(body, &self.sink, &SystemClock, limits);
        let Some(at) = deadline else {
            return work.await;
        };
        let give_up = at.checked_sub(ANSWER_RESERVE).unwrap_or_else(Instant::now);
        match tokio::time::timeout_at(give_up.into(), work).await {
            Ok(recovery) => recovery,
            Err(_) => Recovery::unfinished(body, "the invocation ran out of time; the message is tried again later"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmd_archive::Memory;
    use dmd_recover::{BatchInfo, RangeRead, ReadError};
    use serde_json::json;

    /// A stream holding two records of shard `shardId-1`, sequence numbers 100 and 200.
    struct TwoRecords;

    impl StreamReader for TwoRecords {
        async fn read(&self, batch: &BatchInfo) -> Result<RangeRead, ReadError> {
            let record = |seq: u32| {
                json!({"eventID": format!("ev-{seq}"), "eventName": "INSERT", "eventSource": "aws:dynamodb",
                    "eventSourceARN": batch.stream_arn, "awsRegion": "eu-west-1",
                    "dynamodb": {"ApproximateCreationDateTime": 1_763_546_400, "SequenceNumber": seq.to_string(),
                        "Keys": {"pk": {"S": "EVENT#e-1"}, "sk": {"S": "EVENT#e-1"}},
                        "NewImage": {"pk": {"S": "EVENT#e-1"}, "sk": {"S": "EVENT#e-1"}, "eventId": {"S": "e-1"},
                            "createdDate": {"S": "2026-11-01T09:00:00Z"}}}})
            };
            let records = [100, 200]
                .into_iter()
                .filter(|s| batch.start.as_str().parse::<u32>().is_ok_and(|a| a <= *s))
                .map(record)
                .collect();
            Ok(RangeRead { records, trimmed: false, complete: true })
        }
    }

    fn message(id: &str, body: String) -> serde_json::Value {
        json!({"messageId": id, "receiptHandle": "r", "body": body, "eventSource": "aws:sqs"})
    }

    fn body(start: &str, batch_size: u64) -> String {
        json!({"DDBStreamBatchInfo": {"shardId": "shardId-1", "startSequenceNumber": start,
            "endSequenceNumber": "200", "batchSize": batch_size,
            "streamArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/demand/stream/2026-11-01T00:00:00.000"}})
        .to_string()
    }

    #[tokio::test]
    async fn only_messages_not_recovered_in_full_are_failures() {
        let config =
            Config::from_lookup(|k| (k == "ARCHIVE_BUCKET").then(|| "dmd-archive".to_owned())).expect("config");
        let function = RecoverFunction::new(&config, TwoRecords, Memory::new()).expect("function");
        let event: SqsEvent = serde_json::from_value(json!({"Records": [
            message("whole", body("100", 2)),
            message("short", body("100", 5)),
            message("junk", "{\"hello\": 1}".into()),
        ]}))
        .expect("event");
        let answer = function.handle(&event, Some(Instant::now() + Duration::from_secs(30))).await;
        let failed: Vec<&str> = answer.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        assert_eq!(failed, ["short", "junk"]);
        assert_eq!(function.sink().objects().keys().filter(|k| k.starts_with("data/event/dt=2026-11-01/")).count(), 1);
    }

    #[tokio::test]
    async fn a_failure_record_that_s3_announces_is_recovered_from_its_batch() {
        let config =
            Config::from_lookup(|k| (k == "ARCHIVE_BUCKET").then(|| "dmd-archive".to_owned())).expect("config");
        let failures = Memory::new();
        let mut record: serde_json::Value = serde_json::from_str(&body("100", 2)).expect("body");
        // A batch the stream does not hold (sequence numbers 300 and 400): only the record has it.
        let records = [300, 400].map(|seq| {
            json!({"eventID": format!("ev-{seq}"),
            "eventName": "INSERT", "eventSource": "aws:dynamodb", "awsRegion": "eu-west-1",
            "eventSourceARN": record["DDBStreamBatchInfo"]["streamArn"],
            "dynamodb": {"ApproximateCreationDateTime": 1_763_546_400, "SequenceNumber": seq.to_string(),
                "Keys": {"pk": {"S": "EVENT#e-2"}, "sk": {"S": "EVENT#e-2"}},
                "NewImage": {"pk": {"S": "EVENT#e-2"}, "sk": {"S": "EVENT#e-2"}, "eventId": {"S": "e-2"},
                    "createdDate": {"S": "2026-11-02T09:00:00Z"}}}})
        });
        let event = json!({ "Records": records });
        record["payload"] = event.to_string().into();
        let key = "aws/lambda/esm-1/shardId-1/2026/11/02/2026-11-02T09.00.00-r1";
        failures.put(key, record.to_string().into_bytes().into(), "application/json").await.expect("put");
        let function = RecoverFunction::new(&config, TwoRecords, Memory::new())
            .expect("function")
            .with_failure_records("dmd-failures".into(), failures);
        let created = |bucket: &str, key: &str| {
            json!({"source": "aws.s3", "detail-type": "Object Created",
                "detail": {"bucket": {"name": bucket}, "object": {"key": key}}})
            .to_string()
        };
        let event: SqsEvent = serde_json::from_value(json!({"Records": [
            message("record", created("dmd-failures", key)),
            message("elsewhere", created("another-bucket", key)),
            message("gone", created("dmd-failures", "aws/lambda/esm-1/none")),
        ]}))
        .expect("event");
        let answer = function.handle(&event, Some(Instant::now() + Duration::from_secs(30))).await;
        let failed: Vec<&str> = answer.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        assert_eq!(failed, ["elsewhere", "gone"]);
        assert_eq!(function.sink().objects().keys().filter(|k| k.starts_with("data/event/dt=2026-11-02/")).count(), 1);
        let marked = function.failure_records.as_ref().map(|(_, s)| s.objects()).unwrap_or_default();
        assert!(marked.contains_key(&format!("recovered/{key}")), "{:?}", marked.keys());
    }
}
