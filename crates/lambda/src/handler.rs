//! One invocation: the payload through the archive core, the files through the sink
//! within the invocation's deadline, the partial batch response back, the report out.

use std::time::{Duration, Instant};

use dmd_archive::deliver::FileKind;
use dmd_archive::sink::ObjectSink;
use dmd_archive::{BatchResponse, Deadline, EventError, Limits, Pipeline, SystemClock};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::value::RawValue;

use crate::config::Config;
use crate::report::{FailedFile, Report};

/// The wall-clock time in epoch milliseconds.
pub use dmd_archive::time::now_millis;

/// Why an invocation fails as a whole (Lambda then retries the entire batch).
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The payload is not a DynamoDB Streams or Kinesis event.
    #[error(transparent)]
    NotAStreamEvent(#[from] EventError),
    /// Some records must be retried but have no sequence number to name them by.
    #[error(
        "{count} record(s) could not be written and have no sequence number to report; the whole batch must be retried"
    )]
    Unreportable { count: usize, report: Box<Report> },
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Diagnostic {
        let error_type = match e {
            HandlerError::NotAStreamEvent(_) => "NotAStreamEvent",
            HandlerError::Unreportable { .. } => "UnreportableRecords",
        };
        Diagnostic { error_type: error_type.into(), error_message: e.to_string() }
    }
}

/// The answer to one invocation, and its figures.
#[derive(Debug)]
pub struct Outcome {
    pub answer: BatchResponse,
    pub report: Report,
}

/// The function: the pipeline and the sink, built once, shared by every invocation.
pub struct Archiver<S> {
    pipeline: Pipeline,
    sink: S,
    concurrency: usize,
    deadline_margin: Duration,
    function_name: String,
}

impl<S: ObjectSink> Archiver<S> {
    /// Fails only when the built-in Avro schemas do not load (a build defect).
    pub fn new(config: &Config, sink: S) -> anyhow::Result<Archiver<S>> {
        let pipeline = Pipeline::new(config.settings.clone())?;
        let function_name = crate::config::function_name("archiver");
        Ok(Archiver {
            pipeline,
            sink,
            concurrency: config.concurrency,
            deadline_margin: config.deadline_margin,
            function_name,
        })
    }

    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// Handles one Lambda event as delivered: the payload left raw, so that the core
    /// parses each record once and one bad record cannot fail the others.
    pub async fn invoke(&self, event: LambdaEvent<Box<RawValue>>) -> Result<BatchResponse, HandlerError> {
        let deadline = instant_of_epoch_ms(event.context.deadline);
        let outcome = self.handle(event.payload.get().as_bytes(), Some(deadline), &event.context.request_id).await;
        let report = match &outcome {
            Ok(o) => Some(&o.report),
            Err(HandlerError::Unreportable { report, .. }) => Some(report.as_ref()),
            Err(HandlerError::NotAStreamEvent(e)) => {
                tracing::error!(error = %e, "refused the payload: not a stream event");
                None
            }
        };
        if let Some(r) = report {
            if let Err(e) = r.emit(now_millis(), &mut std::io::stdout().lock()) {
                tracing::warn!(error = %e, "could not write the invocation summary");
            }
        }
        outcome.map(|o| o.answer)
    }

    /// Runs the pipeline on `payload` within `deadline` (see [`Deadline`] for the policy)
    /// and builds the invocation's report.
    pub async fn handle(
        &self,
        payload: &[u8],
        deadline: Option<Instant>,
        request_id: &str,
    ) -> Result<Outcome, HandlerError> {
        let started = Instant::now();
        let limits = Limits {
            concurrency: self.concurrency,
            deadline: deadline.map(|at| Deadline { at, margin: self.deadline_margin }),
        };
        let outcome = self.pipeline.run(payload, &SystemClock, &self.sink, limits).await?;
        for f in &outcome.delivery.failed {
            if f.error.transient {
                tracing::error!(key = %f.key, records = f.records, error = %f.error.message,
                    "file not written after retries; its records are in batchItemFailures");
            } else {
                tracing::error!(key = %f.key, records = f.records, error = %f.error.message, permanent = true,
                    "file refused by S3 (check the bucket, its policy and the function's role); its records are in batchItemFailures");
            }
        }
        let unreportable = outcome.unreportable();
        let records_per_file = outcome
            .delivery
            .written
            .iter()
            .filter(|w| matches!(w.kind, FileKind::Data { .. }))
            .map(|w| w.records)
            .collect();
        let report = Report {
            request_id: request_id.to_owned(),
            function_name: self.function_name.clone(),
            failures: outcome.delivery.failed.iter().map(FailedFile::of).collect(),
            summary: outcome.summary,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            oldest_change_age_ms: outcome.oldest_change_age_ms,
            failed_invocation: unreportable > 0,
            records_per_file,
        };
        match unreportable {
            0 => Ok(Outcome { answer: outcome.delivery.answer, report }),
            count => Err(HandlerError::Unreportable { count, report: Box::new(report) }),
        }
    }
}

/// Deadlines below this (2001-09-09 in epoch milliseconds) are not wall-clock times.
const EPOCH_MS_FLOOR: u64 = 1_000_000_000_000;

/// The monotonic instant of the invocation's deadline. Lambda gives it in epoch
/// milliseconds (`Lambda-Runtime-Deadline-Ms`); a value too small to be one is taken as
/// milliseconds from now, which is what `cargo lambda watch` sends (its invoke timeout).
/// A deadline in the past is now; one beyond a day (no Lambda runs that long) is a day
/// away.
pub fn instant_of_epoch_ms(deadline_ms: u64) -> Instant {
    const DAY_MS: i64 = 24 * 3600 * 1000;
    let deadline = i64::try_from(deadline_ms).unwrap_or(i64::MAX);
    let left = if deadline_ms < EPOCH_MS_FLOOR {
        tracing::debug!(deadline_ms, "the deadline is not an epoch time; taken as milliseconds from now");
        deadline
    } else {
        deadline.saturating_sub(now_millis())
    };
    Instant::now() + Duration::from_millis(left.clamp(0, DAY_MS).unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines() {
        let near = |i: Instant, ms: u64| {
            let d = i.saturating_duration_since(Instant::now());
            d <= Duration::from_millis(ms) && d + Duration::from_millis(200) >= Duration::from_millis(ms)
        };
        let now = u64::try_from(now_millis()).expect("after 1970");
        assert!(near(instant_of_epoch_ms(now + 5_000), 5_000));
        assert!(near(instant_of_epoch_ms(now - 5_000), 0));
        assert!(near(instant_of_epoch_ms(600_000), 600_000), "cargo lambda watch's relative deadline");
        assert!(near(instant_of_epoch_ms(u64::MAX), 24 * 3600 * 1000));
    }
}
