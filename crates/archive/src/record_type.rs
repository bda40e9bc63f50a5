//! The four record types of the demand table: their well-known attributes, required
//! attributes, partition timestamp and PII attributes (contract section 2), and how an
//! item's type is found.

use std::fmt;

use crate::attr::{AttrValue, Item};
use crate::error::{ErrorKind, RecordError};

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
                    "the sort key prefix is not DEMAND, NOTIFICATION, EVENT or SALE",
                )
            })
        }
        _ => Err(RecordError::new(
            ErrorKind::UnknownRecordType,
            "the item has neither a recordType string attribute nor an sk string attribute",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(json: &str) -> Item<'_> {
        serde_json::from_str(json).expect("item")
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
}
