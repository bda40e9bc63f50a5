//! The Avro binary encoding of one record, column by column in schema order, straight
//! from the change and its converted columns. Item text reaches the file only as
//! policy-checked [`Clean`](crate::pii::Clean) text and [`Attribute`]s.

use super::{put_bytes, put_long, put_null, put_some, put_str, Column};
use crate::convert::{Columns, Field};
use crate::pii::{Attribute, Redactor};
use crate::record::{Change, ChangeType};

/// Values shared by every record of a batch.
#[derive(Debug, Clone, Copy)]
pub struct Shared<'s> {
    /// When the batch was archived (epoch ms).
    pub archived_at: i64,
    pub system_id: Option<&'s str>,
    pub database_id: Option<&'s str>,
    pub member_id: Option<&'s str>,
}

/// Encodes one record into `out`; `scratch` is reused for the plain text of values.
#[allow(clippy::too_many_arguments)]
pub fn encode_record(
    plan: &[Column],
    change: &Change<'_>,
    redactor: &Redactor<'_>,
    cols: &Columns<'_, '_>,
    shared: &Shared<'_>,
    date: &str,
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) {
    let deleted = change.change_type == ChangeType::Remove;
    let opt_str = |out: &mut Vec<u8>, s: Option<&str>| match s {
        Some(s) => {
            put_some(out);
            put_str(out, s);
        }
        None => put_null(out),
    };
    for col in plan {
        match *col {
            Column::RecordType => put_str(out, cols.record_type.as_str()),
            Column::ChangeType => put_str(out, change.change_type.as_str()),
            // Identifiers from the record around a deleted item are kept when they have
            // an identifier's shape and no PII (see `pii::identifier_ok`).
            Column::ChangeId => put_str(out, redactor.identifier(&change.change_id).as_str()),
            Column::SequenceNumber => put_str(out, redactor.identifier(&change.sequence_number).as_str()),
            Column::ChangeTime => put_long(out, change.change_time),
            Column::ArchivedAt => put_long(out, shared.archived_at),
            Column::PartitionDate => put_str(out, date),
            // The table name comes from the record, not the item, but a deletion's record
            // is searched whole: a name that holds an e-mail address does not leave either.
            Column::SourceTable => {
                let table = change.source_table.as_deref().map(|t| redactor.identifier(t));
                opt_str(out, table.as_ref().map(|c| c.as_str()))
            }
            Column::Keys => {
                let keys = change.keys.0.iter().map(|(k, v)| redactor.key(k.as_str(), v));
                put_map(out, change.keys.0.len(), keys, scratch);
            }
            Column::IsDeleted => out.push(u8::from(deleted)),
            Column::DeletedAt => {
                if deleted {
                    put_some(out);
                    put_long(out, change.change_time);
                } else {
                    put_null(out);
                }
            }
            Column::DeletionKind => opt_str(out, change.deletion_kind.map(|d| d.as_str())),
            Column::Attributes => put_map(out, cols.attributes.len(), cols.attributes.iter(), scratch),
            Column::WellKnown(i) => match &cols.fields[i] {
                Field::Null => put_null(out),
                Field::Str(s) => {
                    put_some(out);
                    put_str(out, s.as_str());
                }
                Field::Long(v) | Field::Timestamp(v) => {
                    put_some(out);
                    put_long(out, *v);
                }
                Field::List(xs) => {
                    put_some(out);
                    if !xs.is_empty() {
                        put_long(out, xs.len() as i64);
                        xs.iter().for_each(|s| put_str(out, s.as_str()));
                    }
                    put_long(out, 0);
                }
            },
            Column::ReferenceId => {
                // Written in place, without building the string.
                let parts = cols.reference_parts();
                put_some(out);
                put_long(out, (parts.iter().map(|p| p.len()).sum::<usize>() + 2) as i64);
                for (j, p) in parts.into_iter().enumerate() {
                    if j > 0 {
                        out.push(b'#');
                    }
                    out.extend_from_slice(p.as_bytes());
                }
            }
            Column::SystemId => opt_str(out, shared.system_id),
            Column::DatabaseId => opt_str(out, shared.database_id),
            Column::MemberId => opt_str(out, shared.member_id),
        }
    }
}

/// An Avro `map<string>` of attribute names to plain JSON text.
fn put_map<'x, 'b: 'x, 'a: 'b, A>(
    out: &mut Vec<u8>,
    len: usize,
    entries: impl Iterator<Item = A>,
    scratch: &mut Vec<u8>,
) where
    A: std::borrow::Borrow<Attribute<'b, 'a>>,
{
    if len > 0 {
        put_long(out, len as i64);
        for a in entries {
            let a = a.borrow();
            put_str(out, a.name());
            scratch.clear();
            a.write_value(scratch);
            put_bytes(out, scratch);
        }
    }
    put_long(out, 0);
}
