//! The one PII boundary: every rule of contract section 3 for deleted items, and the only
//! way item content and failed records leave the pipeline.
//!
//! Item text reaches an output only as [`Clean`] text, which only this module makes:
//! the Avro encoder writes names, strings and plain JSON values through
//! [`Redactor`]/[`Attribute`], and the error file writes a failed record only as
//! [`CleanJson`] and its message only as [`CleanText`]. A deleted item's raw record is a
//! [`Sensitive`] value: it has no `Display`, its `Debug` prints `[REDACTED]`, and it is
//! opened only by [`FailedRecord::clean`]. A new output path therefore cannot forget the
//! policy: it has nothing else to write.
//!
//! - [`detect`]: what counts as PII in a string (e-mail, phone digits), in every form:
//!   [`forms`] reads escapes, references and compatibility forms, [`encoded`] base64 and
//!   binary values, [`dates`] tells the dates whose digits are no phone number.
//! - [`plain`]: attribute values as the plain JSON text of the archive, policy applied.
//! - [`failed`]: failed stream records and messages on their way to an error file.
//! - [`structure`]: the fallback for a record that does not parse: redacted by the
//!   structure of its text, everything but identifiers of the envelope replaced.

mod dates;
pub mod detect;
mod encoded;
pub mod failed;
pub mod forms;
mod lenient_base64;
mod names;
mod parser_message;
pub mod plain;
pub mod structure;

use std::borrow::Cow;
use std::fmt;

pub use detect::{contains_pii, redact_spans};
pub use failed::{message, CleanJson, CleanText, FailedRecord, Sensitive};
pub use parser_message::{parser_message, parser_text};
pub use plain::Attribute;

use crate::record_type::RecordType;

/// The redaction marker of the contract.
pub const REDACTED: &str = "REDACTED";

/// Which attributes are PII: the record type's own (contract section 2) and those named by
/// `PII_ATTRIBUTES`, for every type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    extra: Vec<String>,
}

impl Policy {
    pub fn new(extra: Vec<String>) -> Policy {
        Policy { extra }
    }

    /// Whether `name` is a PII attribute of `record_type`, or of any type when the type is
    /// not known (a record that failed before its type was found).
    pub fn is_pii_attribute(&self, record_type: Option<RecordType>, name: &str) -> bool {
        self.extra.iter().any(|a| a == name)
            || match record_type {
                Some(rt) => rt.spec().pii.contains(&name),
                None => RecordType::ALL.iter().any(|rt| rt.spec().pii.contains(&name)),
            }
    }

    /// The redactor for one change: a pass-through for INSERT and MODIFY, the rules of
    /// section 3 for a REMOVE.
    pub fn for_change(&self, record_type: RecordType, deleted: bool) -> Redactor<'_> {
        Redactor { policy: self, record_type, deleted }
    }
}

/// Text that has been through the policy: the only item text an output accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct Clean<'x>(Cow<'x, str>);

impl<'x> Clean<'x> {
    /// The marker itself.
    pub const REDACTED: Clean<'static> = Clean(Cow::Borrowed(REDACTED));

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Clean<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// How one attribute of an item leaves the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// As it is: an INSERT or MODIFY, or a key attribute.
    Keep,
    /// Every string, name and number in it that holds PII becomes `REDACTED`.
    Scrub,
    /// The whole value becomes `REDACTED`: a PII attribute of a deleted item, whatever
    /// its DynamoDB type.
    Redact,
}

/// The policy applied to one change.
#[derive(Debug, Clone, Copy)]
pub struct Redactor<'p> {
    policy: &'p Policy,
    record_type: RecordType,
    deleted: bool,
}

/// An identifier of the envelope (a stream ARN, a sequence number, a table name) where a
/// deletion or a batch as a whole is described: kept as [`identifier_ok`] allows, else
/// `REDACTED`.
pub fn envelope_identifier(s: &str) -> Clean<'_> {
    if identifier_ok(s) {
        Clean(Cow::Borrowed(s))
    } else {
        Clean::REDACTED
    }
}

/// Whether an identifier from the envelope may be kept as it is: it has the shape of an
/// identifier or a time (letters, digits, `:_-./`, no spaces; its digits stay) and holds
/// no e-mail address or encoded PII; any other value is searched like item text.
pub fn identifier_ok(s: &str) -> bool {
    let identifier = s.bytes().all(|c| c.is_ascii_alphanumeric() || b":_-./".contains(&c));
    if identifier {
        !detect::contains_email(s) && !detect::contains_encoded(s)
    } else {
        !detect::contains_pii(s)
    }
}

impl<'p> Redactor<'p> {
    /// What happens to the attribute `name`.
    pub fn disposition(&self, name: &str) -> Disposition {
        match self.deleted {
            false => Disposition::Keep,
            true if self.policy.is_pii_attribute(Some(self.record_type), name) => Disposition::Redact,
            true => Disposition::Scrub,
        }
    }

    /// A string of the item: `REDACTED` when it holds PII and the item is deleted.
    pub fn string<'x>(&self, s: &'x str) -> Clean<'x> {
        if self.deleted && contains_pii(s) {
            Clean::REDACTED
        } else {
            Clean(Cow::Borrowed(s))
        }
    }

    /// A name from the record around the item (the table name): kept unless the item is
    /// deleted and it holds an e-mail address or encoded PII. Its digits stay: a table
    /// name cannot hold an `@`, and long digit runs are common in table names.
    pub fn identifier<'x>(&self, s: &'x str) -> Clean<'x> {
        if self.deleted {
            envelope_identifier(s)
        } else {
            Clean(Cow::Borrowed(s))
        }
    }

    /// A whole number of the item (a well-known `long` column): none when the item is
    /// deleted and the number has the digits of a phone number.
    pub fn long(&self, v: i64) -> Option<i64> {
        (!self.deleted || v.unsigned_abs() < 1_000_000).then_some(v)
    }

    /// A key attribute: kept as it is, since keys identify the record (contract
    /// section 3).
    pub fn key<'b, 'a>(&self, name: &'b str, value: &'b crate::attr::AttrValue<'a>) -> Attribute<'b, 'a> {
        Attribute::new(Clean(Cow::Borrowed(name)), value, Disposition::Keep)
    }

    /// An attribute of the `attributes` map. `renamed` counts the names replaced so far
    /// in this map, so that redacted names stay distinct (`REDACTED`, `REDACTED_2`, ...).
    pub fn attribute<'b, 'a>(
        &self,
        name: &'b str,
        value: &'b crate::attr::AttrValue<'a>,
        renamed: &mut usize,
    ) -> Attribute<'b, 'a> {
        let disposition = self.disposition(name);
        let name =
            if disposition == Disposition::Keep { Clean(Cow::Borrowed(name)) } else { clean_name(name, renamed) };
        Attribute::new(name, value, disposition)
    }
}

/// A name or map key of a deleted item: `REDACTED` (then `REDACTED_2`, ...) when it holds
/// PII.
pub(crate) fn clean_name<'x>(name: &'x str, renamed: &mut usize) -> Clean<'x> {
    if !names::name_holds_pii(name) {
        return Clean(Cow::Borrowed(name));
    }
    *renamed += 1;
    match *renamed {
        1 => Clean::REDACTED,
        n => Clean(Cow::Owned(format!("{REDACTED}_{n}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pii_attributes_by_type_and_setting() {
        let p = Policy::new(vec!["fanNote".into()]);
        assert!(p.is_pii_attribute(Some(RecordType::Demand), "email"));
        assert!(!p.is_pii_attribute(Some(RecordType::Event), "email"));
        assert!(p.is_pii_attribute(None, "messageBody"));
        assert!(p.is_pii_attribute(Some(RecordType::Sale), "fanNote"));
        let r = p.for_change(RecordType::Demand, true);
        assert_eq!(r.disposition("email"), Disposition::Redact);
        assert_eq!(r.disposition("notes"), Disposition::Scrub);
        assert_eq!(p.for_change(RecordType::Demand, false).disposition("email"), Disposition::Keep);
        assert_eq!(r.string("call 555 010 4477").as_str(), REDACTED);
        assert_eq!(r.long(5_550_104_477), None);
        assert_eq!(r.long(4), Some(4));
        assert_eq!(r.identifier("orders-20261126120000").as_str(), "orders-20261126120000");
        assert_eq!(r.identifier("ana@example.com").as_str(), REDACTED);
    }
}
