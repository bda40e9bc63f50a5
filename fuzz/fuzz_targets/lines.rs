//! The oracle on the lines of an error file: no planted secret in any string, key or
//! number, envelope identifiers aside; no unpatterned secret under a PII name; and a
//! `record` that is a string (the text of a record redacted by its structure) read by a
//! lenient tokenizer of its own.

use serde_json::Value as Json;

use crate::secrets::{find, Want};
use crate::{check_str, leak};

/// Envelope fields whose values are identifiers, times or AWS metadata, not item content.
const IDENTIFIERS: &[&str] = &[
    "eventID",
    "eventSource",
    "eventVersion",
    "awsRegion",
    "invokeIdentityArn",
    "kinesisSchemaVersion",
    "encryptionType",
    "recordFormat",
    "StreamViewType",
    "type",
    "eventSourceARN",
    "tableName",
    "SequenceNumber",
    "sequenceNumber",
    "partitionKey",
    "ApproximateCreationDateTime",
    "approximateArrivalTimestamp",
    "SizeBytes",
    "principalId",
];

/// The PII attributes of contract section 2 for the line's `record_type` (all of them
/// when the type is not known), and `notes` (`PII_ATTRIBUTES` of the target).
fn pii_names(record_type: Option<&str>) -> &'static [&'static str] {
    match record_type {
        Some("demand") => &["phoneNumber", "email", "notes"],
        Some("event" | "sale") => &["notes"],
        _ => &["phoneNumber", "email", "messageBody", "notes"],
    }
}

/// Whether `path` (keys from the error line down) is an envelope identifier field of the
/// line's `record`: `record.eventID`, `record.dynamodb.SequenceNumber`, ...
fn is_identifier(path: &[String]) -> bool {
    let Some((leaf, parent)) = path.split_last() else { return false };
    let parent: Vec<&str> = parent.iter().map(String::as_str).collect();
    let envelope = matches!(
        parent.as_slice(),
        ["record"] | ["record", "dynamodb"] | ["record", "kinesis"] | ["record", "userIdentity"]
    );
    envelope && IDENTIFIERS.contains(&leaf.as_str())
}

/// Letters, digits and `:_-./`: the shape of an identifier or a time.
fn identifier_shaped(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || b":_-./".contains(&c))
}

/// Panics when `s`, under a PII name, holds an unpatterned secret in any form.
fn check_unpatterned(place: &str, s: &str) {
    if let Some(found) = find(s, Want::Unpatterned) {
        leak(place, &format!("unpatterned {found}"), s);
    }
}

/// Checks one error line, a JSON object.
pub fn check_line(place: &str, line: &Json) {
    let names = pii_names(line.get("record_type").and_then(Json::as_str));
    check_json(place, line, &mut Vec::new(), names, false);
}

/// Checks every string, key and number of `v`; `under` tells a value under a PII name.
fn check_json(place: &str, v: &Json, path: &mut Vec<String>, names: &[&str], under: bool) {
    match v {
        Json::String(s) if path.len() == 1 && path[0] == "record" => check_record_text(place, s, names),
        Json::String(s) => {
            check_str(place, s, identifier_shaped(s) && is_identifier(path));
            if under {
                check_unpatterned(place, s);
            }
        }
        Json::Number(n) => {
            let text = n.to_string();
            check_str(place, &text, is_identifier(path));
            if under {
                check_unpatterned(place, &text);
            }
        }
        Json::Array(xs) => {
            for x in xs {
                path.push(String::new());
                check_json(place, x, path, names, under);
                path.pop();
            }
        }
        Json::Object(m) => {
            for (k, x) in m {
                check_str(place, k, false);
                if under {
                    check_unpatterned(place, k);
                }
                if path.is_empty() && k == "sequence_number" {
                    continue;
                }
                let pii = path.first().is_some_and(|p| p == "record") && names.contains(&k.as_str());
                path.push(k.clone());
                check_json(place, x, path, names, under || pii);
                path.pop();
            }
        }
        Json::Bool(_) | Json::Null => {}
    }
}

/// Where the tokenizer is: in an object (the current name, and whether a name comes
/// next) or in an array.
enum Frame {
    Object { name: Option<String>, expect_name: bool },
    Array,
}

fn structural(c: u8) -> bool {
    matches!(c, b'{' | b'}' | b'[' | b']' | b',' | b':') || c.is_ascii_whitespace()
}

/// Checks a `record` that is text: read as JSON by a tokenizer that never fails, each
/// string literal and bare token with its path of names. Identifier-shaped values of
/// envelope identifier fields are searched as identifiers; the rest of the text, with
/// those values masked, as item text; every string literal (a record redacted by its
/// structure keeps none but identifiers and names of the format), and every token under
/// a PII name, for the unpatterned secrets.
fn check_record_text(place: &str, text: &str, names: &[&str]) {
    let b = text.as_bytes();
    let mut frames: Vec<Frame> = Vec::new();
    let mut masked = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if structural(c) {
            match c {
                b'{' => frames.push(Frame::Object { name: None, expect_name: true }),
                b'[' => frames.push(Frame::Array),
                b'}' | b']' => {
                    frames.pop();
                }
                b',' | b':' => {
                    if let Some(Frame::Object { name, expect_name }) = frames.last_mut() {
                        *expect_name = c == b',';
                        if c == b',' {
                            *name = None;
                        }
                    }
                }
                _ => {}
            }
            masked.push(char::from(c));
            i += 1;
            continue;
        }
        let quoted = c == b'"';
        let end = if quoted { string_end(b, i + 1) } else { token_end(b, i) };
        let token = &text[i..end];
        let inner = if quoted {
            token.get(1..token.len() - usize::from(token.len() > 1 && token.ends_with('"')))
        } else {
            Some(token)
        };
        let inner = inner.unwrap_or("");
        let read = if quoted {
            crate::unescape(inner.as_bytes()).unwrap_or_else(|| inner.to_owned())
        } else {
            inner.to_owned()
        };
        let is_name = matches!(frames.last(), Some(Frame::Object { expect_name: true, .. }));
        let mut path = vec!["record".to_owned()];
        path.extend(frames.iter().map(|f| match f {
            Frame::Object { name, .. } => name.clone().unwrap_or_default(),
            Frame::Array => String::new(),
        }));
        let under = path.iter().any(|p| names.contains(&p.as_str()));
        let identifier = !is_name && identifier_shaped(inner) && is_identifier(&path);
        if identifier {
            check_str(place, inner, true);
            masked.push_str("\"ID\"");
        } else {
            masked.push_str(token);
            if quoted || under {
                check_unpatterned(place, &read);
            }
        }
        if is_name {
            if let Some(Frame::Object { name, .. }) = frames.last_mut() {
                *name = Some(read);
            }
        }
        i = end;
    }
    check_str(place, &masked, false);
}

/// The index after the closing quote of a string literal whose text starts at `i`, or
/// the end of the text when it has none.
fn string_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

fn token_end(b: &[u8], i: usize) -> usize {
    (i..b.len()).find(|&k| structural(b[k]) || b[k] == b'"').unwrap_or(b.len())
}
