//! DynamoDB attribute values, parsed without copying, and JSON string literals.
//!
//! The stream carries items in DynamoDB's typed JSON (`{"S": "x"}`, `{"N": "1.5"}`, ...).
//! Strings borrow from the event buffer where JSON escapes allow it, numbers keep their
//! exact digits (DynamoDB numbers have up to 38 significant digits, more than an `f64`
//! holds), and maps keep the order in which the stream wrote their entries.
//! See <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_AttributeValue.html>.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// A JSON string of the event, borrowed when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text<'a>(pub Cow<'a, str>);

impl<'a> Text<'a> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// The text of a DynamoDB number, checked against JSON's number grammar so that it can be
/// written into JSON text as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Number<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Text(s) = Text::deserialize(d)?;
        if is_json_number(&s) {
            Ok(Number(s))
        } else {
            Err(de::Error::custom("an N value is not a number"))
        }
    }
}

/// One attribute value in DynamoDB's typed JSON.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(clippy::upper_case_acronyms)]
pub enum AttrValue<'a> {
    #[serde(borrow)]
    S(Text<'a>),
    #[serde(borrow)]
    N(Number<'a>),
    #[serde(borrow)]
    B(Text<'a>),
    #[serde(borrow)]
    SS(Vec<Text<'a>>),
    #[serde(borrow)]
    NS(Vec<Number<'a>>),
    #[serde(borrow)]
    BS(Vec<Text<'a>>),
    #[serde(borrow)]
    M(Item<'a>),
    #[serde(borrow)]
    L(Vec<AttrValue<'a>>),
    NULL(bool),
    BOOL(bool),
}

impl AttrValue<'_> {
    /// The DynamoDB type descriptor, for error messages (never the value itself).
    pub fn type_name(&self) -> &'static str {
        match self {
            AttrValue::S(_) => "S",
            AttrValue::N(_) => "N",
            AttrValue::B(_) => "B",
            AttrValue::SS(_) => "SS",
            AttrValue::NS(_) => "NS",
            AttrValue::BS(_) => "BS",
            AttrValue::M(_) => "M",
            AttrValue::L(_) => "L",
            AttrValue::NULL(_) => "NULL",
            AttrValue::BOOL(_) => "BOOL",
        }
    }
}

/// An item (or an `M` value): attribute names and values in stream order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Item<'a>(pub Vec<(Text<'a>, AttrValue<'a>)>);

impl<'a> Item<'a> {
    pub fn get(&self, name: &str) -> Option<&AttrValue<'a>> {
        self.0.iter().find(|(k, _)| k.as_str() == name).map(|(_, v)| v)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k.as_str() == name)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Item<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Item<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of attribute values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some((k, v)) = map.next_entry::<Text<'a>, AttrValue<'a>>()? {
                    out.push((k, v));
                }
                Ok(Item(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
pub fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_len = i - int_start;
    if int_len == 0 || (int_len > 1 && b[int_start] == b'0') {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == s {
            return false;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == s {
            return false;
        }
    }
    i == b.len()
}

/// Writes `s` as a JSON string literal.
pub fn write_json_str(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(c >> 4) as usize], HEX[(c & 0xf) as usize]]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_values() {
        for bad in [
            r#"{"X":"1"}"#,
            r#"{"N":"one"}"#,
            r#"{"N":"01"}"#,
            r#"{"N":"1."}"#,
            r#"{"S":1}"#,
            r#"{"S":"a","N":"1"}"#,
            r#"{"NS":["1","x"]}"#,
            r#"{}"#,
        ] {
            assert!(serde_json::from_str::<AttrValue>(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn strings_borrow_from_the_input() {
        let json = r#"{"S":"plain"}"#.to_string();
        let v: AttrValue = serde_json::from_str(&json).expect("value");
        match v {
            AttrValue::S(Text(Cow::Borrowed(_))) => {}
            other => panic!("expected a borrowed string, got {other:?}"),
        }
    }

    #[test]
    fn number_grammar() {
        for ok in ["0", "-1", "1.5", "1e40", "1E+2", "-0.0001", "12345678901234567890123456789012345678"] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in ["", "-", "+1", "1.", ".5", "01", "1e", "NaN", "1 ", "0x10"] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }
}
