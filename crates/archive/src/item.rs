//! The four record types of the demand table, their well-known attributes, and the
//! conversion of an item into typed column values (validation included).

use std::fmt;

use crate::attr::{AttrValue, Item, Number, REDACTED};
use crate::error::{ErrorKind, RecordError};
use crate::scrub::contains_pii;
use crate::time::{epoch_number_to_millis, parse_timestamp, Decimal};

/// The kind of item, which decides the Avro schema and the `data/<type>/` folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordType {
    Demand,
    Notification,
    Event,
    Sale,
}

impl RecordType {
    pub const ALL: [RecordType; 4] =
        [RecordType::Demand, RecordType::Notification, RecordType::Event, RecordType::Sale];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::Demand => "demand",
            RecordType::Notification => "notification",
            RecordType::Event => "event",
            RecordType::Sale => "sale",
        }
    }

    /// Case-insensitive match of a type name.
    pub fn parse(s: &str) -> Option<RecordType> {
        RecordType::ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(s))
    }

    pub fn spec(self) -> &'static TypeSpec {
        match self {
            RecordType::Demand => &DEMAND,
            RecordType::Notification => &NOTIFICATION,
            RecordType::Event => &EVENT,
            RecordType::Sale => &SALE,
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a well-known attribute is typed in DynamoDB and in Avro.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// `S` -> nullable string.
    Str,
    /// `N` (a whole number) -> nullable long.
    Long,
    /// `S` (ISO 8601) or `N` (epoch) -> nullable timestamp-millis.
    Timestamp,
    /// `SS` or `L` of `S` -> nullable array of strings.
    StrList,
}

/// An attribute the archive knows by name and gives a column of its own.
#[derive(Debug)]
pub struct WellKnown {
    pub attr: &'static str,
    pub field: &'static str,
    pub kind: FieldKind,
}

/// What the contract says about one record type.
#[derive(Debug)]
pub struct TypeSpec {
    pub record_type: RecordType,
    pub well_known: &'static [WellKnown],
    pub required: &'static [&'static str],
    pub partition: &'static str,
    pub pii: &'static [&'static str],
}

impl TypeSpec {
    pub fn index_of(&self, attr: &str) -> Option<usize> {
        self.well_known.iter().position(|w| w.attr == attr)
    }
}

macro_rules! wk {
    ($attr:literal, $field:literal, $kind:ident) => {
        WellKnown { attr: $attr, field: $field, kind: FieldKind::$kind }
    };
}

static DEMAND: TypeSpec = TypeSpec {
    record_type: RecordType::Demand,
    well_known: &[
        wk!("eventId", "event_id", Str),
        wk!("saleId", "sale_id", Str),
        wk!("fanId", "fan_id", Str),
        wk!("requestedDate", "requested_date", Timestamp),
        wk!("quantity", "quantity", Long),
        wk!("status", "status", Str),
        wk!("channel", "channel", Str),
        wk!("marketId", "market_id", Str),
        wk!("priceLevels", "price_levels", StrList),
        wk!("updatedDate", "updated_date", Timestamp),
        wk!("phoneNumber", "phone_number", Str),
        wk!("email", "email", Str),
    ],
    required: &["eventId", "saleId", "fanId", "requestedDate"],
    partition: "requestedDate",
    pii: &["phoneNumber", "email"],
};

static NOTIFICATION: TypeSpec = TypeSpec {
    record_type: RecordType::Notification,
    well_known: &[
        wk!("notificationId", "notification_id", Str),
        wk!("fanId", "fan_id", Str),
        wk!("createdDate", "created_date", Timestamp),
        wk!("eventId", "event_id", Str),
        wk!("saleId", "sale_id", Str),
        wk!("channel", "channel", Str),
        wk!("status", "status", Str),
        wk!("templateId", "template_id", Str),
        wk!("sentDate", "sent_date", Timestamp),
        wk!("phoneNumber", "phone_number", Str),
        wk!("email", "email", Str),
        wk!("messageBody", "message_body", Str),
    ],
    required: &["notificationId", "fanId", "createdDate"],
    partition: "createdDate",
    pii: &["phoneNumber", "email", "messageBody"],
};

static EVENT: TypeSpec = TypeSpec {
    record_type: RecordType::Event,
    well_known: &[
        wk!("eventId", "event_id", Str),
        wk!("createdDate", "created_date", Timestamp),
        wk!("name", "name", Str),
        wk!("venueId", "venue_id", Str),
        wk!("venueName", "venue_name", Str),
        wk!("eventDate", "event_date", Timestamp),
        wk!("timezone", "timezone", Str),
        wk!("status", "status", Str),
    ],
    required: &["eventId", "createdDate"],
    partition: "createdDate",
    pii: &[],
};

static SALE: TypeSpec = TypeSpec {
    record_type: RecordType::Sale,
    well_known: &[
        wk!("saleId", "sale_id", Str),
        wk!("eventId", "event_id", Str),
        wk!("createdDate", "created_date", Timestamp),
        wk!("name", "name", Str),
        wk!("saleType", "sale_type", Str),
        wk!("startDate", "start_date", Timestamp),
        wk!("endDate", "end_date", Timestamp),
        wk!("status", "status", Str),
    ],
    required: &["saleId", "eventId", "createdDate"],
    partition: "createdDate",
    pii: &[],
};

/// The attribute that names the type explicitly.
pub const RECORD_TYPE_ATTR: &str = "recordType";
/// The sort key whose prefix names the type otherwise.
pub const SORT_KEY_ATTR: &str = "sk";

/// The type of an item: its `recordType` string attribute, else the prefix of `sk` up to
/// the first `#`, compared case-insensitively.
pub fn detect_type(item: &Item<'_>, keys: &Item<'_>) -> Result<RecordType, RecordError> {
    if let Some(AttrValue::S(t)) = item.get(RECORD_TYPE_ATTR) {
        return RecordType::parse(t.as_str()).ok_or_else(|| {
            RecordError::new(ErrorKind::UnknownRecordType, "recordType is not demand, notification, event or sale")
        });
    }
    let sk = item.get(SORT_KEY_ATTR).or_else(|| keys.get(SORT_KEY_ATTR));
    match sk {
        Some(AttrValue::S(sk)) => {
            let prefix = sk.as_str().split('#').next().unwrap_or_default();
            RecordType::parse(prefix).ok_or_else(|| {
                RecordError::new(
                    ErrorKind::UnknownRecordType,
                    format!("sort key prefix {prefix:?} is not DEMAND, NOTIFICATION, EVENT or SALE"),
                )
            })
        }
        _ => Err(RecordError::new(
            ErrorKind::UnknownRecordType,
            "the item has neither a recordType string attribute nor an sk string attribute",
        )),
    }
}

/// The value of a well-known column.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<'b> {
    Null,
    Str(&'b str),
    Long(i64),
    Timestamp(i64),
    List(Vec<&'b str>),
}

/// How an attribute of the `attributes` map is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrMode {
    Keep,
    /// Strings holding an e-mail address or phone number become `REDACTED`.
    Scrub,
    /// The whole value becomes `REDACTED` (a named PII attribute).
    Redact,
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
    pub attributes: Vec<(&'b str, &'b AttrValue<'a>, AttrMode)>,
}

impl Columns<'_, '_> {
    pub fn field(&self, attr: &str) -> Option<&Field<'_>> {
        self.record_type.spec().index_of(attr).map(|i| &self.fields[i])
    }

    /// The parts of a demand's `reference_id`: eventId, saleId, fanId ("" where absent).
    pub fn reference_parts(&self) -> [&str; 3] {
        ["eventId", "saleId", "fanId"].map(|a| match self.field(a) {
            Some(Field::Str(s)) => *s,
            _ => "",
        })
    }

    /// `<eventId>#<saleId>#<fanId>` for demand records.
    pub fn reference_id(&self) -> Option<String> {
        (self.record_type == RecordType::Demand).then(|| self.reference_parts().join("#"))
    }
}

/// Converts an item of a known type to its columns, validating the well-known attributes.
/// On a deleted item (`deleted`), PII attributes of the type and those named by
/// `is_extra_pii` become `REDACTED` (null for a column that is not a string), and every
/// other string of the `attributes` map is scrubbed.
pub fn convert<'b, 'a>(
    item: &'b Item<'a>,
    keys: &Item<'_>,
    record_type: RecordType,
    deleted: bool,
    is_extra_pii: &dyn Fn(&str) -> bool,
) -> Result<Columns<'b, 'a>, RecordError> {
    let spec = record_type.spec();
    let mut fields = vec![Field::Null; spec.well_known.len()];
    let mut present = 0u64; // bit i: well-known attribute i has a non-null value
    let mut partition_millis = None;
    let mut attributes = Vec::new();
    for (name, value) in &item.0 {
        let name = name.as_str();
        if name == RECORD_TYPE_ATTR {
            continue;
        }
        let is_pii = deleted && (spec.pii.contains(&name) || is_extra_pii(name));
        if let Some(i) = spec.index_of(name) {
            let wk = &spec.well_known[i];
            let needed = spec.required.contains(&name);
            // A PII value that is about to be redacted is not validated, unless the
            // record cannot be archived without it (a required attribute).
            if !is_pii || needed {
                fields[i] = field_value(wk, value)?;
                if deleted && !is_pii && !wk.attr.ends_with("Id") {
                    scrub_field(&mut fields[i]);
                }
                if fields[i] != Field::Null {
                    present |= 1 << i;
                }
                if name == spec.partition {
                    if let Field::Timestamp(ms) = fields[i] {
                        partition_millis = Some(ms);
                    }
                }
            }
            if is_pii {
                fields[i] = if wk.kind == FieldKind::Str { Field::Str(REDACTED) } else { Field::Null };
            }
        } else if !keys.contains(name) {
            let mode = match (deleted, is_pii) {
                (false, _) => AttrMode::Keep,
                (true, true) => AttrMode::Redact,
                (true, false) => AttrMode::Scrub,
            };
            attributes.push((name, value, mode));
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

/// Free text of a deleted item's own columns (a status, a name, price levels) gets the
/// same pattern rule as `attributes`; identifiers and times are left as they are.
fn scrub_field(field: &mut Field<'_>) {
    match field {
        Field::Str(s) if contains_pii(s) => *s = REDACTED,
        Field::List(xs) => xs.iter_mut().filter(|s| contains_pii(s)).for_each(|s| *s = REDACTED),
        _ => {}
    }
}

fn wrong_type(attr: &str, expected: &str, got: &AttrValue<'_>) -> RecordError {
    RecordError::new(ErrorKind::Validation, format!("attribute {attr} must be {expected}, not {}", got.type_name()))
}

fn field_value<'b>(wk: &WellKnown, v: &'b AttrValue<'_>) -> Result<Field<'b>, RecordError> {
    if let AttrValue::NULL(_) = v {
        return Ok(Field::Null);
    }
    match wk.kind {
        FieldKind::Str => match v {
            AttrValue::S(s) => Ok(Field::Str(s.as_str())),
            other => Err(wrong_type(wk.attr, "a string (S)", other)),
        },
        FieldKind::Long => match v {
            AttrValue::N(Number(n)) => {
                Decimal::parse(n).and_then(|d| d.to_exact_i64()).map(Field::Long).ok_or_else(|| {
                    RecordError::new(
                        ErrorKind::Conversion,
                        format!("attribute {} is not a whole number within the range of a long", wk.attr),
                    )
                })
            }
            other => Err(wrong_type(wk.attr, "a number (N)", other)),
        },
        FieldKind::Timestamp => Ok(timestamp_value(wk.attr, v)?.map_or(Field::Null, Field::Timestamp)),
        FieldKind::StrList => match v {
            AttrValue::SS(xs) => Ok(Field::List(xs.iter().map(|t| t.as_str()).collect())),
            AttrValue::L(xs) => xs
                .iter()
                .map(|x| match x {
                    AttrValue::S(s) => Ok(s.as_str()),
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

    fn item(json: &str) -> Item<'_> {
        serde_json::from_str(json).expect("item")
    }

    fn no_extra(_: &str) -> bool {
        false
    }

    #[test]
    fn type_from_record_type_then_sort_key() {
        let keys = Item::default();
        assert_eq!(
            detect_type(&item(r#"{"recordType":{"S":"Demand"},"sk":{"S":"SALE#1"}}"#), &keys),
            Ok(RecordType::Demand)
        );
        assert_eq!(detect_type(&item(r#"{"sk":{"S":"sale#1"}}"#), &keys), Ok(RecordType::Sale));
        assert_eq!(detect_type(&item(r#"{"sk":{"S":"NOTIFICATION"}}"#), &keys), Ok(RecordType::Notification));
        let e = detect_type(&item(r#"{"sk":{"S":"REFUND#1"}}"#), &keys).unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnknownRecordType);
        let e = detect_type(&item(r#"{"recordType":{"S":"ana@example.com"},"sk":{"S":"SALE#1"}}"#), &keys).unwrap_err();
        assert!(!e.message.contains("ana@"), "{}", e.message);
        assert_eq!(e.kind, ErrorKind::UnknownRecordType);
        assert_eq!(detect_type(&item(r#"{"pk":{"S":"x"}}"#), &keys).unwrap_err().kind, ErrorKind::UnknownRecordType);
    }

    const DEMAND_ITEM: &str = r#"{"pk":{"S":"FAN#f1"},"sk":{"S":"DEMAND#e1#s1"},"eventId":{"S":"e1"},"saleId":{"S":"s1"},
        "fanId":{"S":"f1"},"requestedDate":{"S":"2024-03-01T23:30:00-05:00"},"quantity":{"N":"4"},
        "priceLevels":{"L":[{"S":"A"},{"S":"B"}]},"email":{"S":"ana@example.com"},
        "notes":{"S":"call +1 555 010 4477"},"seat":{"S":"row 4"}}"#;

    #[test]
    fn converts_a_demand() {
        let it = item(DEMAND_ITEM);
        let keys = item(r#"{"pk":{"S":"FAN#f1"},"sk":{"S":"DEMAND#e1#s1"}}"#);
        let c = convert(&it, &keys, RecordType::Demand, false, &no_extra).expect("valid");
        assert_eq!(c.field("quantity"), Some(&Field::Long(4)));
        assert_eq!(c.field("priceLevels"), Some(&Field::List(vec!["A", "B"])));
        assert_eq!(c.field("email"), Some(&Field::Str("ana@example.com")));
        assert_eq!(crate::time::Date::of_millis(c.partition_millis).to_string(), "2024-03-02");
        assert_eq!(c.reference_id().as_deref(), Some("e1#s1#f1"));
        let names: Vec<_> = c.attributes.iter().map(|(n, _, m)| (*n, *m)).collect();
        assert_eq!(names, vec![("notes", AttrMode::Keep), ("seat", AttrMode::Keep)]);
    }

    #[test]
    fn deleted_items_lose_their_pii() {
        let it = item(DEMAND_ITEM);
        let keys = item(r#"{"pk":{"S":"FAN#f1"},"sk":{"S":"DEMAND#e1#s1"}}"#);
        let extra = |n: &str| n == "seat" || n == "quantity";
        let c = convert(&it, &keys, RecordType::Demand, true, &extra).expect("valid");
        assert_eq!(c.field("email"), Some(&Field::Str(REDACTED)));
        assert_eq!(c.field("quantity"), Some(&Field::Null));
        let names: Vec<_> = c.attributes.iter().map(|(n, _, m)| (*n, *m)).collect();
        assert_eq!(names, vec![("notes", AttrMode::Scrub), ("seat", AttrMode::Redact)]);
    }

    #[test]
    fn deleted_free_text_columns_are_scrubbed_but_ids_are_not() {
        let it = item(
            r#"{"eventId":{"S":"e-5550104477"},"saleId":{"S":"s"},"fanId":{"S":"f"},"requestedDate":{"S":"2024-01-01"},
            "status":{"S":"call 555 010 4477"},"channel":{"S":"web"},"priceLevels":{"SS":["PL1","ana@example.com"]}}"#,
        );
        let c = convert(&it, &Item::default(), RecordType::Demand, true, &no_extra).expect("valid");
        assert_eq!(c.field("status"), Some(&Field::Str(REDACTED)));
        assert_eq!(c.field("channel"), Some(&Field::Str("web")));
        assert_eq!(c.field("priceLevels"), Some(&Field::List(vec!["PL1", REDACTED])));
        assert_eq!(c.field("eventId"), Some(&Field::Str("e-5550104477")));
        let c = convert(&it, &Item::default(), RecordType::Demand, false, &no_extra).expect("valid");
        assert_eq!(c.field("status"), Some(&Field::Str("call 555 010 4477")), "only deletions are scrubbed");
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
            let e = convert(&it, &keys, RecordType::Demand, false, &no_extra).unwrap_err();
            assert_eq!(e.kind, kind, "{json}");
            assert!(e.message.contains(attr), "{} should name {attr}", e.message);
            assert!(!e.message.contains("ana@"), "{}", e.message);
        }
    }

    #[test]
    fn numeric_timestamps() {
        let it = item(r#"{"eventId":{"S":"e"},"createdDate":{"N":"1763547330"},"eventDate":{"N":"1763547330123"}}"#);
        let c = convert(&it, &Item::default(), RecordType::Event, false, &no_extra).expect("valid");
        assert_eq!(c.partition_millis, 1_763_547_330_000);
        assert_eq!(c.field("eventDate"), Some(&Field::Timestamp(1_763_547_330_123)));
    }
}
