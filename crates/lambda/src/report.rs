//! What one invocation reports: a single JSON summary line that is also a CloudWatch
//! Embedded Metric Format document (its `_aws` key turns the figures into metrics), plus
//! small metric lines: records archived per record type, failed records per error type,
//! and the records of each data file written.
//!
//! The lines carry counts, keys (type, date and a hash), sizes and times; never an item's
//! contents. Format: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>.

use std::collections::BTreeMap;
use std::io::Write;

use dmd_archive::deliver::NotWritten;
use dmd_archive::Summary;
use serde::Serialize;
use serde_json::{json, Value};

/// The CloudWatch namespace of the metrics.
pub const NAMESPACE: &str = "dmd-pipeline";

/// A file that could not be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedFile {
    pub key: String,
    pub records: usize,
    pub transient: bool,
    pub error: String,
}

impl FailedFile {
    pub fn of(n: &NotWritten) -> FailedFile {
        FailedFile {
            key: n.key.clone(),
            records: n.records,
            transient: n.error.transient,
            error: n.error.message.clone(),
        }
    }
}

/// The figures of one invocation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub request_id: String,
    pub function_name: String,
    #[serde(flatten)]
    pub summary: Summary,
    /// Why each file in `failed_files` was not written.
    pub failures: Vec<FailedFile>,
    /// From receiving the payload to having written (or given up on) every file.
    pub duration_ms: u64,
    /// How old the oldest archived change was when its file was written: the archive's
    /// end-to-end latency for this batch.
    pub oldest_change_age_ms: Option<i64>,
    /// Whether the invocation fails as a whole (records to retry without a sequence
    /// number to report them by).
    pub failed_invocation: bool,
    /// The records of each data file written (error files not counted).
    pub records_per_file: Vec<usize>,
}

/// Most values one metric may carry in one EMF document.
const EMF_MAX_VALUES: usize = 100;

impl Report {
    /// Records that went to data files.
    pub fn archived(&self) -> usize {
        self.summary.archived_records()
    }

    /// Records that went to data files, by type.
    pub fn archived_by_type(&self) -> BTreeMap<&str, usize> {
        self.summary.archived.iter().map(|(t, dates)| (t.as_str(), dates.values().sum())).collect()
    }

    /// The summary line: every figure as a property, the totals as metrics (dimension
    /// `FunctionName`), with `timestamp_ms` as the metrics' time.
    pub fn summary_line(&self, timestamp_ms: i64) -> Value {
        let mut metrics: Vec<(&str, &str, Value)> = vec![
            ("Records", "Count", self.summary.records.into()),
            ("ArchivedRecords", "Count", self.archived().into()),
            ("ErrorRecords", "Count", self.summary.errors.into()),
            ("RetriedRecords", "Count", self.summary.retry.into()),
            ("FilesWritten", "Count", self.summary.files.len().into()),
            ("FilesFailed", "Count", self.summary.failed_files.len().into()),
            ("BytesWritten", "Bytes", self.summary.bytes.into()),
            ("Duration", "Milliseconds", self.duration_ms.into()),
        ];
        if let Some(age) = self.oldest_change_age_ms {
            metrics.push(("OldestChangeAge", "Milliseconds", age.into()));
        }
        let mut line = match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        line.insert("message".into(), "invocation summary".into());
        line.insert("level".into(), if self.summary.failed_files.is_empty() { "INFO" } else { "ERROR" }.into());
        line.insert("FunctionName".into(), self.function_name.clone().into());
        let definitions: Vec<Value> = metrics.iter().map(|(n, u, _)| json!({"Name": n, "Unit": u})).collect();
        for (name, _, value) in metrics {
            line.insert(name.into(), value);
        }
        line.insert("_aws".into(), emf_directive(timestamp_ms, &["FunctionName"], definitions));
        Value::Object(line)
    }

    /// One EMF document with one metric (`name`, `unit`), dimension `FunctionName` and,
    /// when given, one more dimension.
    fn metric_line(&self, timestamp_ms: i64, extra: Option<(&str, &str)>, metric: (&str, &str), value: Value) -> Value {
        let (name, unit) = metric;
        let mut dimensions = vec!["FunctionName"];
        let mut line = serde_json::Map::new();
        line.insert("FunctionName".into(), self.function_name.clone().into());
        if let Some((dimension, v)) = extra {
            dimensions.push(dimension);
            line.insert(dimension.into(), v.into());
        }
        line.insert(name.into(), value);
        line.insert("_aws".into(), emf_directive(timestamp_ms, &dimensions, vec![json!({"Name": name, "Unit": unit})]));
        Value::Object(line)
    }

    /// One metric document per record type archived: `ArchivedRecords` with dimensions
    /// `FunctionName` and `RecordType`.
    pub fn type_lines(&self, timestamp_ms: i64) -> Vec<Value> {
        self.archived_by_type()
            .into_iter()
            .map(|(t, n)| {
                self.metric_line(timestamp_ms, Some(("RecordType", t)), ("ArchivedRecords", "Count"), n.into())
            })
            .collect()
    }

    /// One metric document per `error_type` of the failed records: `ErrorRecords` with
    /// dimensions `FunctionName` and `ErrorType`.
    pub fn error_type_lines(&self, timestamp_ms: i64) -> Vec<Value> {
        self.summary
            .error_types
            .iter()
            .map(|(t, n)| {
                self.metric_line(timestamp_ms, Some(("ErrorType", t)), ("ErrorRecords", "Count"), (*n).into())
            })
            .collect()
    }

    /// `RecordsPerFile` (dimension `FunctionName`): one value per data file written, so
    /// that CloudWatch's statistics (minimum, average, percentiles) are over files. EMF
    /// takes at most 100 values a metric, so a batch of more files takes more documents.
    pub fn file_lines(&self, timestamp_ms: i64) -> Vec<Value> {
        self.records_per_file
            .chunks(EMF_MAX_VALUES)
            .map(|values| self.metric_line(timestamp_ms, None, ("RecordsPerFile", "Count"), json!(values)))
            .collect()
    }

    /// Writes the summary line and the metric lines, one JSON document per line.
    pub fn emit(&self, timestamp_ms: i64, out: &mut impl Write) -> std::io::Result<()> {
        let mut text = serde_json::to_string(&self.summary_line(timestamp_ms))?;
        text.push('\n');
        let lines = self.type_lines(timestamp_ms).into_iter();
        let lines = lines.chain(self.error_type_lines(timestamp_ms)).chain(self.file_lines(timestamp_ms));
        for l in lines {
            text.push_str(&serde_json::to_string(&l)?);
            text.push('\n');
        }
        out.write_all(text.as_bytes())?;
        out.flush()
    }
}

/// The `_aws` member of an EMF document: the metrics' time, namespace, one dimension set
/// and the metric definitions.
fn emf_directive(timestamp_ms: i64, dimensions: &[&str], metrics: Vec<Value>) -> Value {
    json!({
        "Timestamp": timestamp_ms,
        "CloudWatchMetrics": [{
            "Namespace": NAMESPACE,
            "Dimensions": [dimensions],
            "Metrics": metrics,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let mut summary = Summary { records: 5, errors: 1, bytes: 900, ..Summary::default() };
        summary.archived.entry("demand".into()).or_default().insert("2026-11-19".into(), 3);
        summary.archived.entry("demand".into()).or_default().insert("2026-11-18".into(), 1);
        summary.files = vec!["data/demand/dt=2026-11-19/a.avro".into(), "data/demand/dt=2026-11-18/b.avro".into()];
        summary.failed_files = vec!["errors/dt=2026-11-21/c.json".into()];
        summary.retry = 1;
        Report {
            request_id: "req-1".into(),
            function_name: "archiver".into(),
            summary,
            failures: vec![FailedFile {
                key: "errors/dt=2026-11-21/c.json".into(),
                records: 1,
                transient: false,
                error: "AccessDenied".into(),
            }],
            duration_ms: 42,
            oldest_change_age_ms: Some(1500),
            failed_invocation: false,
            records_per_file: vec![3, 1],
        }
    }

    #[test]
    fn the_summary_is_an_emf_document() {
        let line = report().summary_line(1_795_000_000_000);
        let aws = &line["_aws"];
        assert_eq!(aws["Timestamp"], 1_795_000_000_000i64);
        let directive = &aws["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["FunctionName"]]));
        // Every metric declared has a number at the top level.
        for m in directive["Metrics"].as_array().expect("metrics") {
            let name = m["Name"].as_str().expect("name");
            assert!(line[name].is_number(), "{name}");
        }
        assert_eq!(line["ArchivedRecords"], 4);
        assert_eq!(line["RetriedRecords"], 1);
        assert_eq!(line["OldestChangeAge"], 1500);
        assert_eq!(line["archived"]["demand"]["2026-11-19"], 3);
        assert_eq!(line["failures"][0]["transient"], false);
        assert_eq!(line["level"], "ERROR");
    }

    #[test]
    fn one_metric_line_per_type() {
        let lines = report().type_lines(1);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["RecordType"], "demand");
        assert_eq!(lines[0]["ArchivedRecords"], 4);
    }

    #[test]
    fn one_metric_line_per_error_type() {
        let mut r = report();
        r.summary.error_types = [("parse".to_owned(), 2), ("validation".to_owned(), 1)].into();
        let lines = r.error_type_lines(7);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["ErrorType"], "parse");
        assert_eq!(lines[0]["ErrorRecords"], 2);
        assert_eq!(lines[1]["ErrorType"], "validation");
        assert_eq!(lines[1]["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["FunctionName", "ErrorType"]]));
    }

    #[test]
    fn records_per_file_is_one_value_per_data_file_in_documents_of_at_most_100() {
        let mut r = report();
        assert_eq!(r.file_lines(1)[0]["RecordsPerFile"], json!([3, 1]));
        r.records_per_file = (1..=250).collect();
        let lines = r.file_lines(1);
        let sizes: Vec<usize> = lines.iter().map(|l| l["RecordsPerFile"].as_array().expect("values").len()).collect();
        assert_eq!(sizes, [100, 100, 50]);
        let all: Vec<u64> = lines
            .iter()
            .flat_map(|l| l["RecordsPerFile"].as_array().expect("values").clone())
            .filter_map(|v| v.as_u64())
            .collect();
        assert_eq!(all, (1..=250).collect::<Vec<u64>>());
        r.records_per_file.clear();
        assert!(r.file_lines(1).is_empty());
    }

    #[test]
    fn emit_writes_every_line() {
        let mut r = report();
        r.summary.error_types = [("parse".to_owned(), 1)].into();
        let mut out = Vec::new();
        r.emit(5, &mut out).expect("emit");
        let lines: Vec<Value> = String::from_utf8(out)
            .expect("utf-8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert_eq!(lines.len(), 4, "summary, one type, one error type, one file line");
        assert!(lines.iter().all(|l| l["_aws"]["Timestamp"] == 5));
    }
}
