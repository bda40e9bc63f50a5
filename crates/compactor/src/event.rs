//! What the compactor is invoked with: an EventBridge scheduled event (plan yesterday
//! and today, and what changed lately), a batch of its queue's messages (compact one partition each), a request
//! to plan given dates (a backfill), or one partition to compact at once.

use chrono::{DateTime, Days, NaiveDate, Utc};
use dmd_archive::record_type::RecordType;
use dmd_compact::Partition;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One invocation's work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Find the changed partitions of these types and dates and queue them; for a
    /// scheduled event (`scheduled_at`), also those that the manifests of the same
    /// (processing) dates show received files lately, whatever their partition date.
    Plan { types: Vec<RecordType>, dates: Vec<NaiveDate>, scheduled_at: Option<DateTime<Utc>> },
    /// Queue messages, by message id: compact each.
    Messages(Vec<(String, String)>),
    /// Compact this partition now and answer with its report.
    Compact(Partition),
}

/// The message body of one queued partition, and the direct request for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionMessage {
    pub record_type: String,
    pub partition_date: String,
}

impl PartitionMessage {
    pub fn of(p: &Partition) -> PartitionMessage {
        PartitionMessage { record_type: p.record_type.as_str().to_owned(), partition_date: p.date_text() }
    }

    /// The partition it names, or why it names none.
    pub fn partition(&self) -> Result<Partition, String> {
        let record_type = RecordType::parse(&self.record_type)
            .ok_or_else(|| format!("unknown record_type {:?}", self.record_type))?;
        Ok(Partition { record_type, date: date(&self.partition_date)? })
    }
}

fn date(s: &str) -> Result<NaiveDate, String> {
    if s.len() != 10 {
        return Err(format!("{s:?} is not a YYYY-MM-DD date"));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("{s:?} is not a YYYY-MM-DD date"))
}

/// Reads an invocation's payload; `now` dates a scheduled event without a `time`.
pub fn parse(payload: &Value, now: DateTime<Utc>) -> Result<Request, String> {
    if let Some(messages) = dmd_runtime::invocation::queue_messages(payload) {
        return Ok(Request::Messages(messages));
    }
    if let Some(at) = dmd_runtime::invocation::scheduled_at(payload, now) {
        let today = at.date_naive();
        let yesterday = today.checked_sub_days(Days::new(1)).unwrap_or(today);
        return Ok(Request::Plan {
            types: RecordType::ALL.to_vec(),
            dates: vec![yesterday, today],
            scheduled_at: Some(at),
        });
    }
    if let Some(dates) = payload.get("dates") {
        let dates = dates
            .as_array()
            .ok_or("dates must be an array of YYYY-MM-DD dates")?
            .iter()
            .map(|d| d.as_str().ok_or_else(|| "dates must be an array of YYYY-MM-DD dates".to_owned()).and_then(date))
            .collect::<Result<Vec<_>, _>>()?;
        if dates.is_empty() {
            return Err("dates is empty".into());
        }
        let types = match payload.get("types").and_then(Value::as_array) {
            None => RecordType::ALL.to_vec(),
            Some(ts) => ts
                .iter()
                .map(|t| t.as_str().and_then(RecordType::parse).ok_or_else(|| format!("unknown record type {t}")))
                .collect::<Result<Vec<_>, _>>()?,
        };
        return Ok(Request::Plan { types, dates, scheduled_at: None });
    }
    let message: PartitionMessage = serde_json::from_value(payload.clone()).map_err(|_| {
        "not a scheduled event, a queue batch, {\"dates\": [...]} or {\"record_type\", \"partition_date\"}".to_owned()
    })?;
    Ok(Request::Compact(message.partition()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z").expect("time").with_timezone(&Utc)
    }

    fn d(s: &str) -> NaiveDate {
        date(s).expect("date")
    }

    #[test]
    fn a_scheduled_event_plans_yesterday_and_today_of_its_time() {
        let e = json!({"detail-type": "Scheduled Event", "source": "aws.events", "time": "2026-03-01T00:05:00Z"});
        assert_eq!(
            parse(&e, now()),
            Ok(Request::Plan {
                types: RecordType::ALL.to_vec(),
                dates: vec![d("2026-02-28"), d("2026-03-01")],
                scheduled_at: Some(
                    DateTime::parse_from_rfc3339("2026-03-01T00:05:00Z").expect("t").with_timezone(&Utc)
                ),
            })
        );
    }

    #[test]
    fn the_other_requests_and_bad_ones() {
        let backfill = json!({"dates": ["2026-11-01"], "types": ["sale"]});
        assert_eq!(
            parse(&backfill, now()),
            Ok(Request::Plan { types: vec![RecordType::Sale], dates: vec![d("2026-11-01")], scheduled_at: None })
        );
        let one = json!({"record_type": "demand", "partition_date": "2026-11-02"});
        assert_eq!(
            parse(&one, now()),
            Ok(Request::Compact(Partition { record_type: RecordType::Demand, date: d("2026-11-02") }))
        );
        let sqs = json!({"Records": [{"messageId": "m1", "body": "{}", "eventSource": "aws:sqs"}]});
        assert_eq!(parse(&sqs, now()), Ok(Request::Messages(vec![("m1".into(), "{}".into())])));
        for bad in [
            json!({"dates": ["2026-13-01"]}),
            json!({"dates": []}),
            json!({"dates": ["2026-11-01"], "types": ["ticket"]}),
            json!({"record_type": "demand", "partition_date": "2026-1-2"}),
            json!({"record_type": "x", "partition_date": "2026-11-02"}),
            json!([1, 2]),
        ] {
            assert!(parse(&bad, now()).is_err(), "{bad}");
        }
    }
}
