//! Fuzz target on the pipeline entry (`Pipeline::process`), with a PII oracle.
//!
//! The fuzz bytes are a Lambda event payload. Before the pipeline sees them, every JSON
//! string literal that decodes to `INSERT` or `MODIFY` becomes `"REMOVE"` and every one
//! that decodes to `Keys` becomes `"Kezs"`, also inside base64 strings that decode to
//! something (Kinesis `data`), recursively. So every record the pipeline can read is a
//! deletion without key attributes, and no planted secret may appear in any output
//! (contract section 3). Checked on every input:
//!
//! - no panic (a panic aborts the process: libFuzzer records a crash);
//! - `Err` only for a payload that is not a stream event, and always for one;
//! - conservation: every record index `0..batch.records` is in exactly one file, at most
//!   one error file, an Avro file decodes to as many rows as it claims, every error line
//!   is one JSON object;
//! - every data row is a REMOVE (`change_type`, `is_deleted`);
//! - no planted secret in any string, map key or long of a data row or an error line, in
//!   any form (`forms`, `secrets`): each string is read with its JSON escapes, percent
//!   escapes and HTML/XML character references decoded, in NFKC with the digits of every
//!   script as ASCII digits, Unicode spaces as a space, dashes as `-` and zero-width
//!   characters dropped, a few rounds deep; every base64 run (either alphabet) of any
//!   reading is decoded at its four alignments as UTF-8 and as UTF-16 in both byte
//!   orders, nested. The secrets: three e-mail addresses (an address literal among them,
//!   a quoted local part read as its text) and the phone number in any layout the
//!   contract calls a phone number;
//! - the rules by name and by structure, against planted PII that matches no pattern
//!   (`ana.lopez(at)example.org`, `Zebulon`): a data row's `email`, `phone_number` and
//!   `message_body` are null or `REDACTED`, and so is its `notes` attribute
//!   (`PII_ATTRIBUTES`); in an error line's `record`, nothing under a PII attribute name
//!   of the line's type (`email`, `phoneNumber`, `messageBody`, `notes`) at any depth holds
//!   one; a `record` that is a string (a record redacted by its structure) is read by a
//!   lenient tokenizer (`lines`), and none of its string literals holds one.
//!
//! Excluded as identifiers, not item content (fuzz/README.md): a data row's
//! `sequence_number`, `change_id`, `source_table` and its timestamp-millis values; an error
//! line's `sequence_number`; in the error line's `record`, the phone digits (and the
//! unpatterned secrets) of identifier-shaped values of envelope identifier fields
//! (`eventID`, `SequenceNumber`, ...), which are still searched for e-mail addresses and
//! base64.
#![no_main]

use std::sync::OnceLock;

use apache_avro::types::Value as Avro;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use dmd_archive::deliver::FileKind;
use dmd_archive::{EventError, Pipeline, Settings};
use libfuzzer_sys::fuzz_target;
use serde_json::Value as Json;

mod forms;
mod lines;
mod secrets;

use secrets::Want;

/// The processing time of every run: 2026-11-26T12:00:00Z.
const NOW_MS: i64 = 1_795_694_400_000;

fn pipeline() -> &'static Pipeline {
    static P: OnceLock<Pipeline> = OnceLock::new();
    P.get_or_init(|| {
        let settings = Settings { pii_attributes: vec!["notes".into()], ..Settings::default() };
        match Pipeline::new(settings) {
            Ok(p) => p.with_threads(1),
            Err(e) => panic!("the built-in schemas do not load: {e}"),
        }
    })
}

// ---------------------------------------------------------------------------------------
// The rewrite: every record a deletion without keys.

/// `input` with each JSON string literal that decodes to INSERT or MODIFY replaced by
/// "REMOVE", each that decodes to Keys by "Kezs", and each that is base64 of bytes that
/// this rewrite changes re-encoded from the rewritten bytes (Kinesis `data`).
fn rewrite(input: &[u8], depth: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] != b'"' {
            out.push(input[i]);
            i += 1;
            continue;
        }
        // A string literal: up to the next unescaped quote.
        let mut j = i + 1;
        while j < input.len() && input[j] != b'"' {
            j += if input[j] == b'\\' { 2 } else { 1 };
        }
        if j >= input.len() {
            out.extend_from_slice(&input[i..]);
            break;
        }
        let literal = &input[i..=j];
        match unescape(&input[i + 1..j]) {
            Some(s) if s == "INSERT" || s == "MODIFY" => out.extend_from_slice(b"\"REMOVE\""),
            Some(s) if s == "Keys" => out.extend_from_slice(b"\"Kezs\""),
            Some(s) if depth < 3 && !s.trim().is_empty() => match STANDARD.decode(s.trim()) {
                Ok(bytes) => {
                    let inner = rewrite(&bytes, depth + 1);
                    if inner == bytes {
                        out.extend_from_slice(literal);
                    } else {
                        out.push(b'"');
                        out.extend_from_slice(STANDARD.encode(&inner).as_bytes());
                        out.push(b'"');
                    }
                }
                Err(_) => out.extend_from_slice(literal),
            },
            _ => out.extend_from_slice(literal),
        }
        i = j + 1;
    }
    out
}

/// The text of a JSON string literal's body, or none when it is not valid (then no JSON
/// parser reads it as text, and it is left as it is). Lone surrogates become U+FFFD.
fn unescape(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            if (c as u32) < 0x20 {
                return None;
            }
            out.push(c);
            continue;
        }
        match chars.next()? {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '/' => out.push('/'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                let u = u32::from_str_radix(&hex, 16).ok().filter(|_| hex.len() == 4)?;
                out.push(char::from_u32(u).unwrap_or('\u{fffd}'));
            }
            _ => return None,
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------
// The oracle.

/// Where a string was found, for the report.
fn leak(place: &str, what: &str, text: &str) -> ! {
    panic!("PII leak: {what} in {place}: {text:?}")
}

/// Panics when `s` holds a planted secret in any form. An `identifier` (an envelope
/// identifier, not item content) keeps its own digits: it is searched for the e-mail
/// addresses and for anything base64-encoded, not for the phone digits of its text.
fn check_str(place: &str, s: &str, identifier: bool) {
    let want = if identifier { Want::Identifier } else { Want::Item };
    if let Some(found) = secrets::find(s, want) {
        leak(place, &found, s);
    }
}

/// Checks every string, map key and long of an Avro value.
fn check_avro(place: &str, v: &Avro) {
    match v {
        Avro::String(s) | Avro::Enum(_, s) => check_str(place, s, false),
        Avro::Long(n) => check_str(place, &n.to_string(), false),
        Avro::Int(n) => check_str(place, &n.to_string(), false),
        Avro::Bytes(b) | Avro::Fixed(_, b) => check_str(place, &String::from_utf8_lossy(b), false),
        Avro::Union(_, x) => check_avro(place, x),
        Avro::Array(xs) => xs.iter().for_each(|x| check_avro(place, x)),
        Avro::Map(m) => {
            for (k, x) in m {
                check_str(place, k, false);
                check_avro(place, x);
            }
        }
        Avro::Record(fields) => {
            for (name, x) in fields {
                check_str(place, name, false);
                check_avro(place, x);
            }
        }
        // Timestamps are converted epoch times, not text of the item.
        _ => {}
    }
}

/// The rule by name in a data row: the PII fields are null or `REDACTED`, and so is the
/// `notes` attribute (`PII_ATTRIBUTES`), whatever they held.
fn check_pii_fields(place: &str, row: &[(String, Avro)]) {
    let redacted = |v: &Avro| match v {
        Avro::Union(_, x) => matches!(&**x, Avro::Null) || matches!(&**x, Avro::String(s) if s == "REDACTED"),
        Avro::Null => true,
        Avro::String(s) => s == "REDACTED",
        _ => false,
    };
    for name in ["email", "phone_number", "message_body"] {
        if let Some(v) = field(row, name) {
            if !redacted(v) {
                panic!("PII leak: {place} field {name} of a deleted item is {v:?}, not null or REDACTED");
            }
        }
    }
    let attributes = match field(row, "attributes") {
        Some(Avro::Union(_, x)) => &**x,
        Some(v) => v,
        None => return,
    };
    if let Avro::Map(m) = attributes {
        if let Some(v) = m.get("notes") {
            if !redacted(v) {
                panic!("PII leak: {place} attributes[notes] of a deleted item is {v:?}, not REDACTED");
            }
        }
    }
}

fn field<'v>(row: &'v [(String, Avro)], name: &str) -> Option<&'v Avro> {
    row.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

/// Checks one data file: an Avro container of `expected` REMOVE rows, without secrets.
fn check_data_file(key: &str, body: &[u8], expected: usize) {
    let reader = match apache_avro::Reader::new(body) {
        Ok(r) => r,
        Err(e) => panic!("{key}: not an Avro file: {e}"),
    };
    let mut rows = 0;
    for value in reader {
        let value = match value {
            Ok(v) => v,
            Err(e) => panic!("{key}: row {rows} does not decode: {e}"),
        };
        let Avro::Record(fields) = &value else { panic!("{key}: row {rows} is not a record") };
        match field(fields, "change_type") {
            Some(Avro::String(s)) if s == "REMOVE" => {}
            other => panic!("{key}: row {rows} is not a REMOVE (the rewrite was bypassed?): {other:?}"),
        }
        if field(fields, "is_deleted") != Some(&Avro::Boolean(true)) {
            panic!("{key}: row {rows} is a REMOVE with is_deleted not true");
        }
        let place = format!("{key} row {rows}");
        check_pii_fields(&place, fields);
        for (name, v) in fields {
            if matches!(name.as_str(), "sequence_number" | "change_id" | "source_table") {
                continue;
            }
            check_avro(&format!("{place} field {name}"), v);
        }
        rows += 1;
    }
    assert_eq!(rows, expected, "{key}: rows in the file vs records the file claims");
}

/// Checks the error file: one JSON object per line, one line per record, no secrets.
fn check_error_file(key: &str, body: &[u8], expected: usize) {
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(e) => panic!("{key}: not UTF-8: {e}"),
    };
    let mut lines = 0;
    for line in text.lines() {
        let v: Json = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => panic!("{key}: line {lines} is not JSON ({e}): {line:?}"),
        };
        assert!(v.is_object(), "{key}: line {lines} is not an object");
        lines::check_line(&format!("{key} line {lines}"), &v);
        lines += 1;
    }
    assert_eq!(lines, expected, "{key}: lines in the file vs records the file claims");
}

/// The event as an independent, strict reading sees it: `Some(records)` when it has a
/// `Records` array, `None` when it has none; no answer when this reading fails.
#[derive(serde::Deserialize)]
struct Envelope {
    #[serde(rename = "Records", default)]
    records: Option<Vec<Json>>,
}

fn stream_event(payload: &[u8]) -> Option<Option<Vec<Json>>> {
    let value: Json = serde_json::from_slice(payload).ok()?;
    if !value.is_object() {
        return Some(None);
    }
    serde_json::from_slice::<Envelope>(payload).ok().map(|e| e.records)
}

fn known_source(r: &Json) -> bool {
    matches!(r.get("eventSource").and_then(Json::as_str), Some("aws:dynamodb" | "aws:kinesis"))
}

fuzz_target!(|data: &[u8]| {
    let payload = rewrite(data, 0);
    let result = pipeline().process(&payload, NOW_MS);
    let batch = match result {
        Err(e) => {
            // Only a payload that is not a stream event is refused.
            match (&e, stream_event(&payload)) {
                (_, None) | (_, Some(None)) => {}
                (EventError::UnsupportedSource(_), Some(Some(records))) if !records.iter().any(known_source) => {
                    assert!(!records.is_empty(), "an empty Records array refused: {e}");
                }
                (_, Some(Some(_))) => panic!("a stream event refused: {e}"),
            }
            return;
        }
        Ok(b) => b,
    };
    if let Some(None) = stream_event(&payload) {
        panic!("a payload without a Records array was accepted");
    }
    // Conservation: each record in exactly one file.
    let mut seen = vec![0u32; batch.records];
    let mut error_files = 0;
    for f in &batch.files {
        for (i, _) in &f.records {
            assert!(*i < batch.records, "{}: record index {i} out of 0..{}", f.key, batch.records);
            seen[*i] += 1;
        }
        match &f.kind {
            FileKind::Data { .. } => check_data_file(&f.key, &f.body, f.records.len()),
            FileKind::Errors => {
                error_files += 1;
                check_error_file(&f.key, &f.body, f.records.len());
            }
            FileKind::Manifest => panic!("{}: processing makes no manifest (it is written after the files)", f.key),
        }
        check_str(&format!("{} key", f.key), &f.key, false);
    }
    assert!(error_files <= 1, "{error_files} error files in one batch");
    let total: usize = batch.files.iter().map(|f| f.records.len()).sum();
    assert_eq!(total, batch.records, "records in files vs records in the batch");
    if let Some(i) = seen.iter().position(|&n| n != 1) {
        panic!("record {i} is in {} files", seen[i]);
    }
});
