//! The fields of a stream record that the archive reads, and their one-pass parse.
//!
//! The derived parse ([`RawRecord`]'s `Deserialize`) is the reference: it leaves the
//! images as JSON text, to be parsed once the event name says which one the change needs.
//! [`OnePass`] reads the same fields, but parses the keys and, when `eventName` comes
//! before `dynamodb` (the order in which AWS writes records), the needed image where they
//! lie, so that their text is not scanned twice (when `eventName` comes after, the
//! first image is parsed: see [`Want`]). It fails on every input the derived
//! parse refuses and on some it accepts (a record written as an array, an image nested
//! too deep for the parser's depth limit, an image the change does not read that is not
//! DynamoDB JSON); callers then take the derived parse's answer.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::attr::{Item, Text};

#[derive(Deserialize)]
pub(crate) struct UserIdentity<'a> {
    #[serde(rename = "principalId", borrow, default)]
    pub principal_id: Option<Text<'a>>,
}

/// An image or the keys of a change: JSON text still to parse, or parsed by [`OnePass`].
pub(crate) enum Attrs<'a> {
    Raw(&'a RawValue),
    Parsed(Item<'a>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Attrs<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'a RawValue>::deserialize(d).map(Attrs::Raw)
    }
}

impl<'a> Attrs<'a> {
    /// The attributes, parsed from their text if they are not yet.
    pub fn into_item(self) -> Result<Item<'a>, serde_json::Error> {
        match self {
            Attrs::Raw(raw) => serde_json::from_str(raw.get()),
            Attrs::Parsed(item) => Ok(item),
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct StreamData<'a> {
    #[serde(rename = "ApproximateCreationDateTime", borrow, default)]
    pub created: Option<&'a RawValue>,
    #[serde(rename = "ApproximateCreationDateTimePrecision", borrow, default)]
    pub precision: Option<Text<'a>>,
    #[serde(rename = "Keys", borrow, default)]
    pub keys: Option<Attrs<'a>>,
    #[serde(rename = "NewImage", borrow, default)]
    pub new_image: Option<Attrs<'a>>,
    #[serde(rename = "OldImage", borrow, default)]
    pub old_image: Option<Attrs<'a>>,
    #[serde(rename = "SequenceNumber", borrow, default)]
    pub sequence_number: Option<Text<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct KinesisData<'a> {
    #[serde(borrow, default)]
    pub data: Option<Text<'a>>,
    #[serde(rename = "sequenceNumber", borrow, default)]
    pub sequence_number: Option<Text<'a>>,
}

/// The fields of a stream record (or of a decoded Kinesis change record) that the
/// archive reads; everything else is skipped.
#[derive(Deserialize, Default)]
pub(crate) struct RawRecord<'a> {
    #[serde(rename = "eventSource", borrow, default)]
    pub event_source: Option<Text<'a>>,
    #[serde(rename = "eventID", borrow, default)]
    pub event_id: Option<Text<'a>>,
    #[serde(rename = "eventName", borrow, default)]
    pub event_name: Option<Text<'a>>,
    #[serde(rename = "eventSourceARN", borrow, default)]
    pub event_source_arn: Option<Text<'a>>,
    #[serde(rename = "tableName", borrow, default)]
    pub table_name: Option<Text<'a>>,
    #[serde(rename = "userIdentity", borrow, default)]
    pub user_identity: Option<UserIdentity<'a>>,
    #[serde(borrow, default)]
    pub dynamodb: Option<StreamData<'a>>,
    #[serde(borrow, default)]
    pub kinesis: Option<KinesisData<'a>>,
}

/// A stream record parsed in one pass (see the module documentation).
pub struct OnePass<'a>(pub(crate) RawRecord<'a>);

impl<'de> Deserialize<'de> for OnePass<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(RecordVisitor).map(OnePass)
    }
}

/// Which image the change will read. `Unknown` when `eventName` comes after `dynamodb`
/// (records written with sorted keys): then the first image is parsed, since a record
/// holds only the image its change needs unless it is a MODIFY of a
/// `NEW_AND_OLD_IMAGES` stream, where `NewImage` sorts first; the other is kept as text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    New,
    Old,
    Unknown,
}

/// Marks `bit` as seen; a field seen twice is an error, as in the derived parse.
fn once<E: de::Error>(seen: &mut u8, bit: u8, name: &'static str) -> Result<(), E> {
    if *seen & bit != 0 {
        return Err(E::duplicate_field(name));
    }
    *seen |= bit;
    Ok(())
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = RawRecord<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a stream record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut r = RawRecord::default();
        let mut seen = 0u8;
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match key.as_str() {
                "eventSource" => {
                    once(&mut seen, 1, "eventSource")?;
                    r.event_source = map.next_value()?;
                }
                "eventID" => {
                    once(&mut seen, 2, "eventID")?;
                    r.event_id = map.next_value()?;
                }
                "eventName" => {
                    once(&mut seen, 4, "eventName")?;
                    r.event_name = map.next_value()?;
                }
                "eventSourceARN" => {
                    once(&mut seen, 8, "eventSourceARN")?;
                    r.event_source_arn = map.next_value()?;
                }
                "tableName" => {
                    once(&mut seen, 16, "tableName")?;
                    r.table_name = map.next_value()?;
                }
                "userIdentity" => {
                    once(&mut seen, 32, "userIdentity")?;
                    r.user_identity = map.next_value()?;
                }
                "dynamodb" => {
                    once(&mut seen, 64, "dynamodb")?;
                    let want = match r.event_name.as_ref().map(|t| t.as_str()) {
                        Some("INSERT" | "MODIFY") => Want::New,
                        Some("REMOVE") => Want::Old,
                        _ => Want::Unknown,
                    };
                    r.dynamodb = map.next_value_seed(StreamSeed(want))?;
                }
                "kinesis" => {
                    once(&mut seen, 128, "kinesis")?;
                    r.kinesis = map.next_value()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(r)
    }
}

/// The `dynamodb` section, null or an object, parsing the keys and the wanted image.
struct StreamSeed(Want);

impl<'de> DeserializeSeed<'de> for StreamSeed {
    type Value = Option<StreamData<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for StreamSeed {
    type Value = Option<StreamData<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the dynamodb section of a stream record")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(StreamVisitor(self.0)).map(Some)
    }
}

struct StreamVisitor(Want);

impl<'de> Visitor<'de> for StreamVisitor {
    type Value = StreamData<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the dynamodb section of a stream record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut d = StreamData {
            created: None,
            precision: None,
            keys: None,
            new_image: None,
            old_image: None,
            sequence_number: None,
        };
        let mut seen = 0u8;
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match key.as_str() {
                "ApproximateCreationDateTime" => {
                    once(&mut seen, 1, "ApproximateCreationDateTime")?;
                    d.created = map.next_value()?;
                }
                "ApproximateCreationDateTimePrecision" => {
                    once(&mut seen, 2, "ApproximateCreationDateTimePrecision")?;
                    d.precision = map.next_value()?;
                }
                "Keys" => {
                    once(&mut seen, 4, "Keys")?;
                    d.keys = map.next_value::<Option<Item<'de>>>()?.map(Attrs::Parsed);
                }
                "NewImage" => {
                    once(&mut seen, 8, "NewImage")?;
                    let parse = self.0 == Want::New || (self.0 == Want::Unknown && seen & 16 == 0);
                    d.new_image = attrs(&mut map, parse)?;
                }
                "OldImage" => {
                    once(&mut seen, 16, "OldImage")?;
                    let parse = self.0 == Want::Old || (self.0 == Want::Unknown && seen & 8 == 0);
                    d.old_image = attrs(&mut map, parse)?;
                }
                "SequenceNumber" => {
                    once(&mut seen, 32, "SequenceNumber")?;
                    d.sequence_number = map.next_value()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(d)
    }
}

/// The next value as attributes: parsed when `parse`, else kept as text.
fn attrs<'de, A: MapAccess<'de>>(map: &mut A, parse: bool) -> Result<Option<Attrs<'de>>, A::Error> {
    if parse {
        Ok(map.next_value::<Option<Item<'de>>>()?.map(Attrs::Parsed))
    } else {
        map.next_value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dup<'a>(x: &Option<Attrs<'a>>) -> Option<Attrs<'a>> {
        x.as_ref().map(|k| match k {
            Attrs::Raw(r) => Attrs::Raw(r),
            Attrs::Parsed(i) => Attrs::Parsed(i.clone()),
        })
    }

    /// What the change reads from a record, for comparing the two parses.
    fn view(r: &RawRecord<'_>) -> String {
        let t = |x: &Option<Text<'_>>| x.as_ref().map(|t| t.as_str().to_owned());
        let a = |x: Option<Attrs<'_>>| x.map(|a| a.into_item().map(|i| format!("{i:?}")).map_err(|e| e.to_string()));
        let d = r.dynamodb.as_ref().map(|d| {
            (
                d.created.map(|c| c.get().to_owned()),
                t(&d.precision),
                a(dup(&d.keys)),
                a(dup(&d.new_image)),
                a(dup(&d.old_image)),
                t(&d.sequence_number),
            )
        });
        format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            t(&r.event_source),
            t(&r.event_id),
            t(&r.event_name),
            t(&r.event_source_arn),
            t(&r.table_name),
            r.user_identity.as_ref().map(|u| t(&u.principal_id)),
            d,
            r.kinesis.as_ref().map(|k| (t(&k.data), t(&k.sequence_number))),
        )
    }

    #[test]
    fn one_pass_reads_what_the_derived_parse_reads() {
        let cases = [
            r#"{"eventID":"1","eventName":"INSERT","eventSource":"aws:dynamodb","dynamodb":{"ApproximateCreationDateTime":1,"Keys":{"pk":{"S":"a"}},"NewImage":{"pk":{"S":"a"},"n":{"N":"1"}},"SequenceNumber":"1"}}"#,
            r#"{"eventName":"REMOVE","dynamodb":{"NewImage":{"x":{"Q":1}},"OldImage":{"pk":{"S":"a"}}},"userIdentity":{"principalId":"p"}}"#,
            r#"{"dynamodb":{"NewImage":{"pk":{"S":"a"}}},"eventName":"MODIFY"}"#,
            r#"{"eventName":"MODIFY","dynamodb":null,"kinesis":{"data":"eA==","sequenceNumber":"9"},"other":[1,{"a":null}]}"#,
            r#"{"eventName":"INSERT","dynamodb":{"Keys":null,"NewImage":null,"Extra":{}}}"#,
            r#"{"dynamodb":{"NewImage":{"a":{"N":"2"}},"OldImage":{"a":{"N":"1"}}},"eventName":"MODIFY"}"#,
            r#"{"dynamodb":{"OldImage":{"a":{"N":"1"}},"NewImage":{"a":{"N":"2"}}},"eventName":"MODIFY"}"#,
            r#"{"dynamodb":{"OldImage":{"a":{"S":"x"}}},"eventName":"REMOVE"}"#,
            r#"{"dynamodb":{"NewImage":{"a":{"S":"x"}},"OldImage":{"a":{"S":"y"}}},"eventName":"REMOVE"}"#,
        ];
        for c in cases {
            let derived: RawRecord<'_> = serde_json::from_str(c).expect("derived");
            let one: OnePass<'_> = serde_json::from_str(c).expect("one pass");
            assert_eq!(view(&derived), view(&one.0), "{c}");
        }
    }

    #[test]
    fn one_pass_refuses_what_the_derived_parse_refuses() {
        for c in [
            r#"{"eventName":"INSERT","eventName":"REMOVE"}"#,
            r#"{"dynamodb":{"Keys":{},"Keys":{}}}"#,
            r#"{"dynamodb":{"SequenceNumber":1}}"#,
            r#"{"eventName":"INSERT","dynamodb":{"NewImage":{"a":{"X":1}}}}"#,
            r#"{"eventName":"INSERT","dynamodb":{"Keys":[1]}}"#,
            r#"[]"#,
        ] {
            assert!(serde_json::from_str::<OnePass<'_>>(c).is_err(), "{c}");
        }
        // An image read before eventName that is not DynamoDB JSON: the derived parse
        // decides (here, that the record is well formed).
        let c = r#"{"dynamodb":{"OldImage":{"a":{"X":1}}},"eventName":"REMOVE"}"#;
        assert!(serde_json::from_str::<OnePass<'_>>(c).is_err());
        assert!(serde_json::from_str::<RawRecord<'_>>(c).is_ok());
    }
}
