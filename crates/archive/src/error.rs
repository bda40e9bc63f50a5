//! Error types at the library's boundaries.

use std::fmt;

/// Why one record could not be archived: the `error_type` of its error file entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// The stream record itself is malformed: bad base64, bad JSON, a bad attribute
    /// value, a missing image, field or timestamp.
    Parse,
    /// The item is none of demand, notification, event or sale.
    UnknownRecordType,
    /// A required attribute, the partition timestamp or a well-known attribute is
    /// missing, unparseable or of the wrong type.
    Validation,
    /// A value is well-formed but cannot be represented in the archive (a quantity
    /// beyond a long, a timestamp beyond year 9999).
    Conversion,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 4] =
        [ErrorKind::Parse, ErrorKind::UnknownRecordType, ErrorKind::Validation, ErrorKind::Conversion];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Parse => "parse",
            ErrorKind::UnknownRecordType => "unknown_record_type",
            ErrorKind::Validation => "validation",
            ErrorKind::Conversion => "conversion",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A record that goes to the error file. The message names attributes and types, never
/// attribute values, so that it cannot carry PII.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct RecordError {
    pub kind: ErrorKind,
    pub message: String,
    /// Where a parser stopped (line, column), kept apart from the message: numbers of
    /// the parser's own, never text of the input, shown after it as they are.
    pub position: Option<(u32, u32)>,
}

impl RecordError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        RecordError { kind, message: message.into(), position: None }
    }

    /// The error at a parser's position.
    pub fn at(mut self, line: usize, column: usize) -> Self {
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        self.position = Some((n(line), n(column)));
        self
    }
}

/// A payload that cannot be processed at all: the invocation fails and nothing is
/// written. Parser details pass the PII policy ([`crate::pii::parser_message`]): the
/// payload may hold a deleted item.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("the payload is not JSON: {0}")]
    NotJson(String),
    #[error("the payload is not a stream event: it has no Records array")]
    NoRecords,
    #[error("the payload is not a stream event: Records is not an array of records ({0})")]
    BadRecords(String),
    #[error("the payload is not a DynamoDB Streams or Kinesis event (eventSource {0})")]
    UnsupportedSource(String),
}
