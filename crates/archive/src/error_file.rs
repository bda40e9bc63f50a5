//! The error file of a batch: one JSON line per failed record, with its error type, its
//! message and the record itself, both through the PII policy.

use bytes::Bytes;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::deliver::{FileKind, PendingFile, ERRORS_CONTENT_TYPE};
use crate::envelope::Source;
use crate::error::ErrorKind;
use crate::keys::{error_file_id, error_key};
use crate::pii::{CleanJson, CleanText};
use crate::record_type::RecordType;
use crate::time::format_millis;

/// One failed record, cleaned, on its way to the error file.
#[derive(Debug)]
pub struct ErrorLine {
    /// Position in the batch.
    pub index: usize,
    pub kind: ErrorKind,
    pub message: CleanText,
    pub record_type: Option<RecordType>,
    pub source: Option<Source>,
    pub sequence_number: Option<String>,
    pub record: CleanJson,
    /// A digest of the original text, which the file id is derived from.
    pub digest: [u8; 32],
}

#[derive(Serialize)]
struct Line<'a> {
    error_type: &'a str,
    message: &'a str,
    record_type: Option<&'a str>,
    source: &'a str,
    sequence_number: &'a str,
    failed_at: &'a str,
    record: &'a RawValue,
}

/// The error file of `lines`, processed at `now` (epoch ms). `batch_source` labels a
/// line whose own source is unknown.
pub fn error_file(error_prefix: &str, lines: &[ErrorLine], batch_source: Option<Source>, now: i64) -> PendingFile {
    let failed_at = format_millis(now);
    let mut body = Vec::new();
    let mut records = Vec::with_capacity(lines.len());
    for f in lines {
        let line = Line {
            error_type: f.kind.as_str(),
            message: f.message.as_str(),
            record_type: f.record_type.map(RecordType::as_str),
            source: f.source.or(batch_source).unwrap_or(Source::DynamoDb).as_str(),
            // A record whose sequence number cannot be read gets "" (the field is a
            // string); it cannot be reported for a retry either (see `deliver`).
            // Kept for the retry and for joins when it has an identifier's shape and no
            // PII; the record's own copy follows the record's rules.
            sequence_number: f.sequence_number.as_deref().map_or("", |s| {
                if crate::pii::identifier_ok(s) {
                    s
                } else {
                    crate::pii::REDACTED
                }
            }),
            failed_at: &failed_at,
            record: f.record.as_raw(),
        };
        // Serializing plain strings and valid raw JSON into memory cannot fail.
        if serde_json::to_writer(&mut body, &line).is_ok() {
            body.push(b'\n');
        }
        records.push((f.index, f.sequence_number.clone()));
    }
    let id = error_file_id(lines.iter().map(|l| &l.digest[..]));
    PendingFile {
        key: error_key(error_prefix, now, &id),
        body: Bytes::from(body),
        content_type: ERRORS_CONTENT_TYPE,
        kind: FileKind::Errors,
        records,
    }
}
