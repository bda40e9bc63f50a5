//! The conversion of an item of a known type into its typed columns: validation of the
//! required and well-known attributes, the partition timestamp, and every value taken
//! through the PII policy on its way to a column.

use crate::attr::{AttrValue, Item, Number};
use crate::error::{ErrorKind, RecordError};
use crate::pii::{Attribute, Clean, Disposition, Redactor};
use crate::record_type::{FieldKind, RecordType, WellKnown, RECORD_TYPE_ATTR};
use crate::time::{epoch_number_to_millis, parse_timestamp, Decimal};

/// The value of a well-known column.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<'b> {
    Null,
    Str(Clean<'b>),
    Long(i64),
    Timestamp(i64),
    List(Vec<Clean<'b>>),
}

/// An item converted to the columns of its type.
#[derive(Debug)]
pub struct Columns<'b, 'a> {
    pub record_type: RecordType,
    /// One value per `TypeSpec::well_known` entry, in that order.
    pub fields: Vec<Field<'b>>,
    /// Epoch milliseconds of the partition timestamp.
    pub partition_millis: i64,
    /// Every other attribute, in item order.
    pub attributes: Vec<Attribute<'b, 'a>>,
}

impl Columns<'_, '_> {
    pub fn field(&self, attr: &str) -> Option<&Field<'_>> {
        self.record_type.spec().index_of(attr).map(|i| &self.fields[i])
    }

    /// The parts of a demand's `reference_id`: eventId, saleId, fanId ("" where absent).
    pub fn reference_parts(&self) -> [&str; 3] {
        ["eventId", "saleId", "fanId"].map(|a| match self.field(a) {
            Some(Field::Str(s)) => s.as_str(),
            _ => "",
        })
    }

    /// `<eventId>#<saleId>#<fanId>` for demand records.
    pub fn reference_id(&self) -> Option<String> {
        (self.record_type == RecordType::Demand).then(|| self.reference_parts().join("#"))
    }
}

/// Converts an item of a known type to its columns, validating the well-known attributes.
/// Every value passes `redactor` on its way: for a deleted item, PII attributes become
/// `REDACTED` (null for a column that is not a string), and every other string, name and
/// number that holds PII is redacted.
pub fn convert<'b, 'a>(
    item: &'b Item<'a>,
    keys: &Item<'_>,
    redactor: &Redactor<'_>,
    record_type: RecordType,
) -> Result<Columns<'b, 'a>, RecordError> {
    let spec = record_type.spec();
    let mut fields = vec![Field::Null; spec.well_known.len()];
    let mut present = 0u64; // bit i: well-known attribute i has a non-null value
    let mut partition_millis = None;
    let mut attributes = Vec::new();
    let mut renamed = 0;
    for (name, value) in &item.0 {
        let name = name.as_str();
        if name == RECORD_TYPE_ATTR {
            continue;
        }
        if let Some(i) = spec.index_of(name) {
            let wk = &spec.well_known[i];
            let redact = redactor.disposition(name) == Disposition::Redact;
            // A PII value that is about to be redacted is not validated, unless the
            // record cannot be archived without it (a required attribute).
            if !redact || spec.required.contains(&name) {
                fields[i] = field_value(wk, value, redactor)?;
                if fields[i] != Field::Null {
                    present |= 1 << i;
                }
                if name == spec.partition {
                    if let Field::Timestamp(ms) = fields[i] {
                        partition_millis = Some(ms);
                    }
                }
            }
            if redact {
                fields[i] = if wk.kind == FieldKind::Str { Field::Str(Clean::REDACTED) } else { Field::Null };
            }
        } else if !keys.contains(name) {
            attributes.push(redactor.attribute(name, value, &mut renamed));
        }
    }
    for req in spec.required {
        let i = spec.index_of(req).unwrap_or_default();
        if present & (1 << i) == 0 {
            let what = if item.contains(req) { "null" } else { "missing" };
            return Err(RecordError::new(ErrorKind::Validation, format!("required attribute {req} is {what}")));
        }
    }
    let partition_millis = partition_millis.ok_or_else(|| {
        RecordError::new(ErrorKind::Validation, format!("partition timestamp {} is missing", spec.partition))
    })?;
    Ok(Columns { record_type, fields, partition_millis, attributes })
}

fn wrong_type(attr: &str, expected: &str, got: &AttrValue<'_>) -> RecordError {
    RecordError::new(ErrorKind::Validation, format!("attribute {attr} must be {expected}, not {}", got.type_name()))
}

fn field_value<'b>(wk: &WellKnown, v: &'b AttrValue<'_>, redactor: &Redactor<'_>) -> Result<Field<'b>, RecordError> {
    if let AttrValue::NULL(_) = v {
        return Ok(Field::Null);
    }
    match wk.kind {
        FieldKind::Str => match v {
            AttrValue::S(s) => Ok(Field::Str(redactor.string(s.as_str()))),
            other => Err(wrong_type(wk.attr, "a string (S)", other)),
        },
        FieldKind::Long => match v {
            AttrValue::N(Number(n)) => Decimal::parse(n)
                .and_then(|d| d.to_exact_i64())
                .map(|v| redactor.long(v).map_or(Field::Null, Field::Long))
                .ok_or_else(|| {
                    RecordError::new(
                        ErrorKind::Conversion,
                        format!("attribute {} is not a whole number within the range of a long", wk.attr),
                    )
                }),
            other => Err(wrong_type(wk.attr, "a number (N)", other)),
        },
        FieldKind::Timestamp => Ok(timestamp_value(wk.attr, v)?.map_or(Field::Null, Field::Timestamp)),
        FieldKind::StrList => match v {
            AttrValue::SS(xs) => Ok(Field::List(xs.iter().map(|t| redactor.string(t.as_str())).collect())),
            AttrValue::L(xs) => xs
                .iter()
                .map(|x| match x {
                    AttrValue::S(s) => Ok(redactor.string(s.as_str())),
                    other => Err(RecordError::new(
                        ErrorKind::Validation,
                        format!(
                            "attribute {} must be a list of strings, has an element of type {}",
                            wk.attr,
                            other.type_name()
                        ),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Field::List),
            other => Err(wrong_type(wk.attr, "a string set (SS) or a list (L) of strings", other)),
        },
    }
}

fn timestamp_value(attr: &str, v: &AttrValue<'_>) -> Result<Option<i64>, RecordError> {
    match v {
        AttrValue::NULL(_) => Ok(None),
        AttrValue::S(s) => parse_timestamp(s.as_str()).map(Some).ok_or_else(|| {
            RecordError::new(ErrorKind::Validation, format!("attribute {attr} is not an ISO 8601 date or date-time"))
        }),
        AttrValue::N(Number(n)) => epoch_number_to_millis(n).map(Some).ok_or_else(|| {
            RecordError::new(
                ErrorKind::Conversion,
                format!("attribute {attr} is not an epoch time within years 0 to 9999"),
            )
        }),
        other => Err(wrong_type(attr, "a timestamp (S or N)", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::{Policy, REDACTED};

    fn item(json: &str) -> Item<'_> {
        serde_json::from_str(json).expect("item")
    }

    fn conv<'b, 'a>(
        it: &'b Item<'a>,
        keys: &Item<'_>,
        deleted: bool,
        extra: &[&str],
    ) -> Result<Columns<'b, 'a>, RecordError> {
        let policy = Policy::new(extra.iter().map(|s| s.to_string()).collect());
        convert(it, keys, &policy.for_change(RecordType::Demand, deleted), RecordType::Demand)
    }

    const DEMAND_ITEM: &str = r#"{"pk":{"S":"FAN#f1"},"sk":{"S":"DEMAND#e1#s1"},"eventId":{"S":"e1"},"saleId":{"S":"s1"},
        "fanId":{"S":"f1"},"requestedDate":{"S":"2024-03-01T23:30:00-05:00"},"quantity":{"N":"4"},
        "priceLevels":{"L":[{"S":"A"},{"S":"B"}]},"email":{"S":"ana@example.com"},
        "notes":{"S":"call +1 555 010 4477"},"seat":{"S":"row 4"}}"#;

    fn strs(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    fn text(f: Option<&Field<'_>>) -> Vec<String> {
        match f {
            Some(Field::Str(s)) => vec![s.as_str().to_owned()],
            Some(Field::List(xs)) => xs.iter().map(|s| s.as_str().to_owned()).collect(),
            other => panic!("not text: {other:?}"),
        }
    }

    #[test]
    fn converts_a_demand() {
        let it = item(DEMAND_ITEM);
        let keys = item(r#"{"pk":{"S":"FAN#f1"},"sk":{"S":"DEMAND#e1#s1"}}"#);
        let c = conv(&it, &keys, false, &[]).expect("valid");
        assert_eq!(c.field("quantity"), Some(&Field::Long(4)));
        assert_eq!(text(c.field("priceLevels")), strs(&["A", "B"]));
        assert_eq!(text(c.field("email")), strs(&["ana@example.com"]));
        assert_eq!(crate::time::Date::of_millis(c.partition_millis).to_string(), "2024-03-02");
        assert_eq!(c.reference_id().as_deref(), Some("e1#s1#f1"));
        let names: Vec<_> = c.attributes.iter().map(|a| (a.name(), a.disposition())).collect();
        assert_eq!(names, vec![("notes", Disposition::Keep), ("seat", Disposition::Keep)]);
    }

    #[test]
    fn deleted_items_lose_their_pii() {
        let it = item(DEMAND_ITEM);
        let keys = item(r#"{"pk":{"S":"FAN#f1"},"sk":{"S":"DEMAND#e1#s1"}}"#);
        let c = conv(&it, &keys, true, &["seat", "quantity"]).expect("valid");
        assert_eq!(text(c.field("email")), strs(&[REDACTED]));
        assert_eq!(c.field("quantity"), Some(&Field::Null));
        let names: Vec<_> = c.attributes.iter().map(|a| (a.name(), a.disposition())).collect();
        assert_eq!(names, vec![("notes", Disposition::Scrub), ("seat", Disposition::Redact)]);
    }

    #[test]
    fn every_deleted_string_column_is_scrubbed_ids_included() {
        let it = item(
            r#"{"eventId":{"S":"e-5550104477"},"saleId":{"S":"s"},"fanId":{"S":"f"},"requestedDate":{"S":"2024-01-01"},
            "status":{"S":"call 555 010 4477"},"channel":{"S":"web"},"priceLevels":{"SS":["PL1","ana@example.com"]}}"#,
        );
        let c = conv(&it, &Item::default(), true, &[]).expect("valid");
        assert_eq!(text(c.field("status")), strs(&[REDACTED]));
        assert_eq!(text(c.field("channel")), strs(&["web"]));
        assert_eq!(text(c.field("priceLevels")), strs(&["PL1", REDACTED]));
        assert_eq!(text(c.field("eventId")), strs(&[REDACTED]), "only keys are kept as they are");
        assert_eq!(c.reference_id().as_deref(), Some("REDACTED#s#f"));
        let c = conv(&it, &Item::default(), false, &[]).expect("valid");
        assert_eq!(text(c.field("status")), strs(&["call 555 010 4477"]), "only deletions are scrubbed");
    }

    #[test]
    fn validation_errors_name_the_attribute_not_the_value() {
        let keys = Item::default();
        let cases = [
            (
                r#"{"eventId":{"S":"e"},"saleId":{"S":"s"},"requestedDate":{"S":"2024-01-01"}}"#,
                ErrorKind::Validation,
                "fanId",
            ),
            (
                r#"{"eventId":{"S":"e"},"saleId":{"S":"s"},"fanId":{"S":"f"},"requestedDate":{"S":"next tuesday"}}"#,
                ErrorKind::Validation,
                "requestedDate",
            ),
            (
                r#"{"eventId":{"S":"e"},"saleId":{"S":"s"},"fanId":{"S":"f"},"requestedDate":{"S":"2024-01-01"},"quantity":{"S":"ana@example.com"}}"#,
                ErrorKind::Validation,
                "quantity",
            ),
            (
                r#"{"eventId":{"S":"e"},"saleId":{"S":"s"},"fanId":{"S":"f"},"requestedDate":{"S":"2024-01-01"},"quantity":{"N":"1e40"}}"#,
                ErrorKind::Conversion,
                "quantity",
            ),
            (
                r#"{"eventId":{"N":"1"},"saleId":{"S":"s"},"fanId":{"S":"f"},"requestedDate":{"S":"2024-01-01"}}"#,
                ErrorKind::Validation,
                "eventId",
            ),
            (
                r#"{"eventId":{"NULL":true},"saleId":{"S":"s"},"fanId":{"S":"f"},"requestedDate":{"S":"2024-01-01"}}"#,
                ErrorKind::Validation,
                "eventId",
            ),
            (
                r#"{"eventId":{"S":"e"},"saleId":{"S":"s"},"fanId":{"S":"f"},"requestedDate":{"S":"2024-01-01"},"priceLevels":{"L":[{"N":"1"}]}}"#,
                ErrorKind::Validation,
                "priceLevels",
            ),
        ];
        for (json, kind, attr) in cases {
            let it = item(json);
            let e = conv(&it, &keys, false, &[]).unwrap_err();
            assert_eq!(e.kind, kind, "{json}");
            assert!(e.message.contains(attr), "{} should name {attr}", e.message);
            assert!(!e.message.contains("ana@"), "{}", e.message);
        }
    }

    #[test]
    fn numeric_timestamps() {
        let it = item(r#"{"eventId":{"S":"e"},"createdDate":{"N":"1763547330"},"eventDate":{"N":"1763547330123"}}"#);
        let policy = Policy::default();
        let c = convert(&it, &Item::default(), &policy.for_change(RecordType::Event, false), RecordType::Event)
            .expect("valid");
        assert_eq!(c.partition_millis, 1_763_547_330_000);
        assert_eq!(c.field("eventDate"), Some(&Field::Timestamp(1_763_547_330_123)));
    }
}
