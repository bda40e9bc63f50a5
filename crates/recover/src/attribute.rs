//! DynamoDB attribute values, as the DynamoDB Streams SDK gives them, back into the
//! DynamoDB JSON of a Lambda event (`{"S": "..."}`, `{"N": "..."}`, binary as base64).
//! Map keys come out sorted, so the same item always gives the same text.

use std::collections::HashMap;

use aws_sdk_dynamodbstreams::types::AttributeValue;
use base64::Engine;
use serde_json::{Map, Value};

use crate::range::ReadError;

/// One attribute value. A type this SDK does not know cannot be written as Lambda would
/// deliver it, so it is an error rather than a guess.
pub fn attribute_value(v: &AttributeValue) -> Result<Value, ReadError> {
    let b64 = |b: &aws_smithy_types::Blob| Value::String(base64::engine::general_purpose::STANDARD.encode(b.as_ref()));
    let strings = |xs: &[String]| Value::Array(xs.iter().cloned().map(Value::String).collect());
    let (tag, value) = match v {
        AttributeValue::S(s) => ("S", Value::String(s.clone())),
        AttributeValue::N(n) => ("N", Value::String(n.clone())),
        AttributeValue::B(b) => ("B", b64(b)),
        AttributeValue::Bool(b) => ("BOOL", Value::Bool(*b)),
        AttributeValue::Null(b) => ("NULL", Value::Bool(*b)),
        AttributeValue::Ss(xs) => ("SS", strings(xs)),
        AttributeValue::Ns(xs) => ("NS", strings(xs)),
        AttributeValue::Bs(xs) => ("BS", Value::Array(xs.iter().map(b64).collect())),
        AttributeValue::L(xs) => ("L", Value::Array(xs.iter().map(attribute_value).collect::<Result<_, _>>()?)),
        AttributeValue::M(m) => ("M", item(m)?),
        _ => return Err(ReadError::UnknownAttributeType),
    };
    let mut tagged = Map::new();
    tagged.insert(tag.to_owned(), value);
    Ok(Value::Object(tagged))
}

/// An item (or a map value, or `Keys`): its attributes by name, sorted.
pub fn item(attributes: &HashMap<String, AttributeValue>) -> Result<Value, ReadError> {
    let mut names: Vec<&String> = attributes.keys().collect();
    names.sort();
    let mut out = Map::new();
    for name in names {
        if let Some(v) = attributes.get(name) {
            out.insert(name.clone(), attribute_value(v)?);
        }
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::Blob;
    use serde_json::json;

    #[test]
    fn every_type_in_dynamodb_json() {
        let mut inner = HashMap::new();
        inner.insert("z".to_owned(), AttributeValue::N("1.50".into()));
        inner.insert("a".to_owned(), AttributeValue::Null(true));
        let mut it = HashMap::new();
        it.insert("s".to_owned(), AttributeValue::S("fan@example.com".into()));
        it.insert("n".to_owned(), AttributeValue::N("12345678901234567890123456789012345678".into()));
        it.insert("b".to_owned(), AttributeValue::B(Blob::new(b"\x00\xffhi".to_vec())));
        it.insert("t".to_owned(), AttributeValue::Bool(false));
        it.insert("ss".to_owned(), AttributeValue::Ss(vec!["PL1".into(), "PL2".into()]));
        it.insert("ns".to_owned(), AttributeValue::Ns(vec!["1".into(), "-2.5".into()]));
        it.insert("bs".to_owned(), AttributeValue::Bs(vec![Blob::new(b"a".to_vec())]));
        it.insert("l".to_owned(), AttributeValue::L(vec![AttributeValue::S("x".into()), AttributeValue::M(inner)]));
        let v = item(&it).expect("known types");
        assert_eq!(
            v,
            json!({
                "b": {"B": "AP9oaQ=="}, "bs": {"BS": ["YQ=="]},
                "l": {"L": [{"S": "x"}, {"M": {"a": {"NULL": true}, "z": {"N": "1.50"}}}]},
                "n": {"N": "12345678901234567890123456789012345678"}, "ns": {"NS": ["1", "-2.5"]},
                "s": {"S": "fan@example.com"}, "ss": {"SS": ["PL1", "PL2"]}, "t": {"BOOL": false}
            })
        );
        // Keys in order, at every depth: the same item always gives the same text.
        let text = v.to_string();
        assert!(text.starts_with(r#"{"b":"#) && text.contains(r#"{"M":{"a":"#), "{text}");
    }
}
