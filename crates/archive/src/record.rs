//! Stream records in: DynamoDB Streams records and Kinesis records that carry DynamoDB
//! change records, parsed one record at a time into a [`Change`], or rejected with what
//! the error file needs (the record as a [`Sensitive`] body and whether it may be a
//! deletion).
//!
//! `aws_lambda_events` would parse the whole batch at once (one bad record fails them
//! all) and read `ApproximateCreationDateTime` as float seconds, which is wrong for
//! Kinesis (milliseconds or microseconds). Here each record is parsed on its own, into
//! borrowed, typed structs, and timestamps are converted with exact decimal arithmetic.
//! See <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/kds.html> and
//! <https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html>.

use std::borrow::Cow;

use base64::Engine;
use serde_json::value::RawValue;

use crate::attr::Item;
use crate::envelope::Source;
use crate::error::{ErrorKind, RecordError};
use crate::pii::failed::{Body, Declared};
use crate::pii::{FailedRecord, Sensitive};
use crate::raw_record::{OnePass, RawRecord};
use crate::record_type::RecordType;
use crate::time::{Decimal, MAX_MILLIS, MIN_MILLIS};

/// INSERT, MODIFY or REMOVE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeType {
    Insert,
    Modify,
    Remove,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Insert => "INSERT",
            ChangeType::Modify => "MODIFY",
            ChangeType::Remove => "REMOVE",
        }
    }
}

/// How a REMOVE came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletionKind {
    /// Time to Live expired the item (`userIdentity.principalId` is
    /// `dynamodb.amazonaws.com`).
    Ttl,
    User,
}

impl DeletionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeletionKind::Ttl => "ttl",
            DeletionKind::User => "user",
        }
    }
}

/// One change of one item, ready to convert.
#[derive(Debug)]
pub struct Change<'a> {
    pub change_type: ChangeType,
    pub change_id: Cow<'a, str>,
    pub sequence_number: Cow<'a, str>,
    pub change_time: i64,
    pub source_table: Option<Cow<'a, str>>,
    pub deletion_kind: Option<DeletionKind>,
    pub keys: Item<'a>,
    /// NewImage for INSERT and MODIFY, OldImage for REMOVE.
    pub image: Item<'a>,
}

/// A record that cannot be archived: why, what is known of it, and the record itself on
/// its way to the error file.
#[derive(Debug)]
pub struct Rejected {
    pub error: RecordError,
    pub record_type: Option<RecordType>,
    pub source: Option<Source>,
    pub sequence_number: Option<String>,
    pub record: FailedRecord,
}

/// A stream record, first pass: its source and sequence number, and for Kinesis the
/// decoded change record.
pub struct Received<'a> {
    pub source: Source,
    pub sequence_number: Option<Cow<'a, str>>,
    raw: RawRecord<'a>,
    text: &'a str,
    /// The strict parser read `eventName` as INSERT or MODIFY (see [`Received::reject`]).
    not_deleted: bool,
    /// The decoded Kinesis data, which the change record borrows from.
    decoded: Option<Vec<u8>>,
}

impl Received<'_> {
    /// The record's `eventSourceARN`, as received.
    pub fn event_source_arn(&self) -> Option<&str> {
        self.raw.event_source_arn.as_ref().map(|t| t.as_str())
    }

    /// The record's `eventID`, as received.
    pub fn event_id(&self) -> Option<&str> {
        self.raw.event_id.as_ref().map(|t| t.as_str())
    }
}

/// The first step with one stream record: read its source and identifiers, and decode
/// the Kinesis payload. A record that fails here is a `parse` error.
pub fn receive(raw: &RawValue) -> Result<Received<'_>, Rejected> {
    receive_text(raw.get())
}

/// [`receive`] of a record's JSON text (one value, as an element of `Records`).
pub fn receive_text(text: &str) -> Result<Received<'_>, Rejected> {
    let rec: RawRecord<'_> =
        serde_json::from_str(text).map_err(|e| reject_raw(text, parse_error("the stream record", &e), false))?;
    accept(text, rec)
}

/// [`receive_text`] of a record already parsed by [`OnePass`] from `text`: the same
/// answer, without parsing it again.
pub fn receive_parsed<'a>(text: &'a str, rec: OnePass<'a>) -> Result<Received<'a>, Rejected> {
    accept(text, rec.0)
}

fn accept<'a>(text: &'a str, rec: RawRecord<'a>) -> Result<Received<'a>, Rejected> {
    let source = match rec.event_source.as_ref().map(|s| s.as_str()) {
        Some(s) => Source::parse(s).ok_or_else(|| {
            let e = RecordError::new(ErrorKind::Parse, "eventSource is neither aws:dynamodb nor aws:kinesis");
            reject_raw(text, e, false)
        })?,
        None => {
            return Err(reject_raw(text, RecordError::new(ErrorKind::Parse, "the record has no eventSource"), false))
        }
    };
    let not_deleted = declares_not_deleted(&rec);
    match source {
        Source::DynamoDb => {
            let sequence_number = rec.dynamodb.as_ref().and_then(|d| d.sequence_number.as_ref()).map(|t| t.0.clone());
            Ok(Received { source, sequence_number, raw: rec, text, not_deleted, decoded: None })
        }
        Source::Kinesis => {
            let kin = rec.kinesis.as_ref();
            let sequence_number = kin.and_then(|k| k.sequence_number.as_ref()).map(|t| t.0.clone());
            let Some(data) = kin.and_then(|k| k.data.as_ref()) else {
                let e = RecordError::new(ErrorKind::Parse, "the Kinesis record has no data");
                return Err(reject_raw(text, e, true));
            };
            let decoded = base64::engine::general_purpose::STANDARD.decode(data.as_str().trim()).map_err(|e| {
                reject_raw(text, RecordError::new(ErrorKind::Parse, format!("kinesis.data is not base64: {e}")), true)
            })?;
            Ok(Received { source, sequence_number, raw: rec, text, not_deleted, decoded: Some(decoded) })
        }
    }
}

/// The strict parser (a duplicate field is an error there, so parsers that disagree on
/// which one wins cannot hide a REMOVE) read `eventName` as INSERT or MODIFY.
fn declares_not_deleted(r: &RawRecord<'_>) -> bool {
    matches!(r.event_name.as_ref().map(|t| t.as_str()), Some("INSERT" | "MODIFY"))
}

/// A record rejected before its change could be read: treated as a deletion.
fn reject_raw(raw: &str, error: RecordError, kinesis: bool) -> Rejected {
    let (source, sequence_number) = salvage(raw);
    let bytes = Sensitive::new(raw.as_bytes().to_vec());
    let body =
        if kinesis || source == Some(Source::Kinesis) { Body::UndecodableKinesis(bytes) } else { Body::Change(bytes) };
    let record = FailedRecord { body, declared: Declared::MaybeDeleted, record_type: None };
    Rejected { error, record_type: None, source, sequence_number, record }
}

impl<'a> Received<'a> {
    /// The change record: the record itself (DynamoDB Streams), or the JSON decoded from
    /// `kinesis.data`, which `change` borrows from `self`. It takes the fields it reads
    /// out of `self`: call it once.
    pub fn change<'s>(&'s mut self) -> Result<Change<'s>, RecordError>
    where
        'a: 's,
    {
        let (rec, unit_shift) = match &self.decoded {
            None => (std::mem::take(&mut self.raw), 3),
            Some(bytes) => {
                let rec: RawRecord<'s> = match serde_json::from_slice::<OnePass<'s>>(bytes) {
                    Ok(one) => one.0,
                    Err(_) => serde_json::from_slice(bytes).map_err(|e| parse_error("the decoded Kinesis data", &e))?,
                };
                let micro = rec
                    .dynamodb
                    .as_ref()
                    .and_then(|d| d.precision.as_ref())
                    .is_some_and(|p| p.as_str().eq_ignore_ascii_case("MICROSECOND"));
                (rec, if micro { -3 } else { 0 })
            }
        };
        let seq = self
            .sequence_number
            .clone()
            .ok_or_else(|| RecordError::new(ErrorKind::Parse, "the record has no sequence number"))?;
        build_change(rec, seq, unit_shift)
    }

    /// The rejection of this record for `error`. The record is a deletion unless the
    /// strict parser read its `eventName` as INSERT or MODIFY (a duplicate field is an
    /// error there, so parsers that disagree on which one wins cannot hide a REMOVE).
    pub fn reject(&self, error: RecordError, record_type: Option<RecordType>) -> Rejected {
        let (body, declared) = match &self.decoded {
            None => (Body::Change(Sensitive::new(self.text.as_bytes().to_vec())), self.not_deleted),
            Some(bytes) => {
                let strict = serde_json::from_slice::<RawRecord<'_>>(bytes).ok();
                let object = bytes.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'{');
                let body = if object {
                    Body::Change(Sensitive::new(bytes.clone()))
                } else {
                    Body::UndecodableKinesis(Sensitive::new(self.text.as_bytes().to_vec()))
                };
                (body, object && strict.as_ref().is_some_and(declares_not_deleted))
            }
        };
        let declared = if declared { Declared::NotDeleted } else { Declared::MaybeDeleted };
        Rejected {
            error,
            record_type,
            source: Some(self.source),
            sequence_number: self.sequence_number.as_deref().map(str::to_owned),
            record: FailedRecord { body, declared, record_type },
        }
    }
}

fn parse_error(what: &str, e: &serde_json::Error) -> RecordError {
    let error = RecordError::new(ErrorKind::Parse, format!("{what} is malformed: {}", crate::pii::parser_text(e)));
    if e.line() > 0 {
        error.at(e.line(), e.column())
    } else {
        error
    }
}

fn build_change<'s>(rec: RawRecord<'s>, seq: Cow<'s, str>, unit_shift: i32) -> Result<Change<'s>, RecordError> {
    let change_type = match rec.event_name.as_ref().map(|t| t.as_str()) {
        Some("INSERT") => ChangeType::Insert,
        Some("MODIFY") => ChangeType::Modify,
        Some("REMOVE") => ChangeType::Remove,
        Some(_) => return Err(RecordError::new(ErrorKind::Parse, "eventName is not INSERT, MODIFY or REMOVE")),
        None => return Err(RecordError::new(ErrorKind::Parse, "the record has no eventName")),
    };
    let change_id =
        rec.event_id.map(|t| t.0).ok_or_else(|| RecordError::new(ErrorKind::Parse, "the record has no eventID"))?;
    let ddb = rec.dynamodb.ok_or_else(|| RecordError::new(ErrorKind::Parse, "the record has no dynamodb section"))?;
    let created = ddb
        .created
        .ok_or_else(|| RecordError::new(ErrorKind::Parse, "the record has no ApproximateCreationDateTime"))?;
    let change_time = creation_millis(created.get(), unit_shift).ok_or_else(|| {
        RecordError::new(ErrorKind::Parse, "ApproximateCreationDateTime is not an epoch time within years 0 to 9999")
    })?;
    let (image_name, image) = match change_type {
        ChangeType::Remove => ("OldImage", ddb.old_image),
        _ => ("NewImage", ddb.new_image),
    };
    let image = image.ok_or_else(|| {
        RecordError::new(
            ErrorKind::Parse,
            format!("the {} record has no {image_name} (the stream view type must include it)", change_type.as_str()),
        )
    })?;
    let image: Item<'s> = image.into_item().map_err(|e| parse_error(image_name, &e))?;
    let keys: Item<'s> = match ddb.keys {
        Some(k) => k.into_item().map_err(|e| parse_error("Keys", &e))?,
        None => Item::default(),
    };
    let source_table = rec.table_name.map(|t| t.0).or_else(|| {
        rec.event_source_arn.and_then(|arn| match arn.0 {
            Cow::Borrowed(s) => table_from_arn(s).map(Cow::Borrowed),
            Cow::Owned(s) => table_from_arn(&s).map(|t| Cow::Owned(t.to_owned())),
        })
    });
    let deletion_kind = (change_type == ChangeType::Remove).then(|| {
        let by_ttl =
            rec.user_identity.and_then(|u| u.principal_id).is_some_and(|p| p.as_str() == "dynamodb.amazonaws.com");
        if by_ttl {
            DeletionKind::Ttl
        } else {
            DeletionKind::User
        }
    });
    Ok(Change { change_type, change_id, sequence_number: seq, change_time, source_table, deletion_kind, keys, image })
}

/// The table name of a DynamoDB stream ARN
/// (`arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL`).
pub fn table_from_arn(arn: &str) -> Option<&str> {
    // The sixth `:`-separated field (the stream label after it has colons of its own).
    let fifth = arn.bytes().enumerate().filter(|&(_, c)| c == b':').nth(4)?.0;
    let resource = arn.get(fifth + 1..)?;
    let resource = resource.split_once(':').map_or(resource, |(r, _)| r);
    let rest = resource.strip_prefix("table/")?;
    Some(rest.split_once('/').map_or(rest, |(t, _)| t)).filter(|t| !t.is_empty())
}

/// `ApproximateCreationDateTime` (a JSON number, or a string holding one) in epoch
/// milliseconds: `10^unit_shift` milliseconds per unit.
fn creation_millis(raw: &str, unit_shift: i32) -> Option<i64> {
    let text = raw.trim();
    let text = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
    let ms = Decimal::parse(text)?.scaled_floor(unit_shift)?;
    (MIN_MILLIS..=MAX_MILLIS).contains(&ms).then_some(ms)
}

/// Reads what can be known of a record that failed to parse: its source and sequence
/// number, from a lenient JSON view.
fn salvage(raw: &str) -> (Option<Source>, Option<String>) {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) else {
        return (None, None);
    };
    let source = v.get("eventSource").and_then(|s| s.as_str()).and_then(Source::parse);
    let seq = |path: [&str; 2]| v.get(path[0]).and_then(|x| x.get(path[1])).and_then(|s| s.as_str()).map(str::to_owned);
    let sequence_number = match source {
        Some(Source::Kinesis) => seq(["kinesis", "sequenceNumber"]),
        Some(Source::DynamoDb) => seq(["dynamodb", "SequenceNumber"]),
        None => seq(["dynamodb", "SequenceNumber"]).or_else(|| seq(["kinesis", "sequenceNumber"])),
    };
    (source, sequence_number)
}

#[cfg(test)]
mod tests;
