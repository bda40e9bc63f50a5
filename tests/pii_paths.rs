//! PII of deleted items in every form (CONTRACT.md §3), held by name or by form, on every
//! path out of a folder archive: `dmd archive` at RUST_LOG=trace (data files, error files,
//! manifests, what it prints), `dmd cat`, `dmd verify`, `dmd replay` (its markers and data
//! files) and `dmd compact` (the Parquet rows as pyarrow reads them and every column
//! chunk's statistics). Every byte is searched as written and in each of its readings.

use std::path::Path;
use std::process::Command;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::pii_leaks::reading::{readings, utf16_base64_forms};
use crate::util::{self, dmd, files_under};

/// The PII planted below, as plain text (each written in another form in the records).
const PLAIN: &[&str] = &[
    "ana@example.org",
    "555 010 4477",
    "kim@example.com",
    "ana lopez\"@example.org",
    "ana@[192.0.2.1]",
    "bo@example.org",
    "ana.lopez(at)example.org",
    "Zebulon Quixote",
    "\"S\":\"0104\"",
    "0104\",\"4477",
];
/// The e-mail address planted as the UTF-16 bytes of a `B` value.
const UTF16_EMAIL: &str = "zoe@example.net";
/// The control INSERT's PII, which must be archived as it came.
const KEPT: &str = "keep.me@example.net";

fn image(n: u32, with_date: bool) -> String {
    let utf16: Vec<u8> = UTF16_EMAIL.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let date = if with_date { r#","requestedDate":{"S":"2026-11-19T10:00:00Z"}"# } else { "" };
    let phone =
        if with_date { r#"{"S":"five five five"}"# } else { r#"{"L":[{"S":"555"},{"S":"0104"},{"S":"4477"}]}"# };
    format!(
        r#"{{"pk":{{"S":"FAN#f-{n}"}},"sk":{{"S":"DEMAND#e-1#s-1"}},"eventId":{{"S":"e-1"}},"saleId":{{"S":"s-1"}},
        "fanId":{{"S":"f-{n}"}}{date},"email":{{"S":"ana.lopez(at)example.org"}},"phoneNumber":{phone},
        "fanNote":{{"S":"Zebulon Quixote"}},
        "notes":{{"S":"mail ana&#64;example.org"}},"alt":{{"S":"or ana%40example.org"}},
        "wide":{{"S":"call ５５５ ０１０ ４４７７"}},"nbsp":{{"S":"call 555\u00a0010\u00a04477"}},
        "dash":{{"L":[{{"S":"call 555\u2013010\u20134477"}}]}},"tab":{{"S":"call 555\t010\t4477"}},
        "json":{{"S":"{{\"to\":\"kim\\u0040example.com\"}}"}},"quoted":{{"S":"\"ana lopez\"@example.org"}},
        "literal":{{"M":{{"to":{{"S":"ana@[192.0.2.1]"}}}}}},"bo&#64;example&period;org":{{"BOOL":true}},
        "blob":{{"B":"{}"}}}}"#,
        STANDARD.encode(utf16)
    )
}

fn record(n: u32, name: &str, time: &str, img: &str) -> String {
    let field = if name == "INSERT" { "NewImage" } else { "OldImage" };
    format!(
        r#"{{"eventID":"ev-{n}","eventName":"{name}","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",
        "eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/demand/stream/2026-11-19T00:00:00.000",
        "dynamodb":{{"ApproximateCreationDateTime":{time},"Keys":{{"pk":{{"S":"FAN#f-{n}"}},"sk":{{"S":"DEMAND#e-1#s-1"}}}},
        "{field}":{img},"SequenceNumber":"{n}00000000000000000001","SizeBytes":200,"StreamViewType":"NEW_AND_OLD_IMAGES"}}}}"#
    )
}

/// A deletion that archives, one that does not parse (a time out of range), one that
/// fails validation, and a control INSERT.
fn event() -> String {
    let insert = format!(
        r#"{{"pk":{{"S":"FAN#f-9"}},"sk":{{"S":"DEMAND#e-1#s-1"}},"eventId":{{"S":"e-1"}},"saleId":{{"S":"s-1"}},
        "fanId":{{"S":"f-9"}},"requestedDate":{{"S":"2026-11-19T10:00:00Z"}},"email":{{"S":"{KEPT}"}}}}"#
    );
    format!(
        r#"{{"Records":[{},{},{},{}]}}"#,
        record(1, "REMOVE", "1763546400", &image(1, true)),
        record(2, "REMOVE", "1e400", &image(2, true)),
        record(3, "REMOVE", "1763546400", &image(3, false)),
        record(9, "INSERT", "1763546400", &insert)
    )
}

/// Every text a command printed and every file under `dir` (Avro decoded too).
fn outputs(dir: &Path, printed: &mut Vec<(String, String)>) {
    for rel in files_under(dir) {
        let bytes = std::fs::read(dir.join(&rel)).expect("read output");
        if rel.ends_with(".avro") {
            for r in util::decode_avro(&rel, &bytes) {
                printed.push((format!("{rel} (decoded)"), format!("{:?}", r)));
            }
        }
        printed.push((rel, String::from_utf8_lossy(&bytes).into_owned()));
    }
}

fn run(what: &str, args: &[&str], printed: &mut Vec<(String, String)>) -> std::process::Output {
    let out = dmd(args, &[("RUST_LOG", "trace"), ("PII_ATTRIBUTES", "fanNote")]);
    printed.push((format!("{what} stdout"), String::from_utf8_lossy(&out.stdout).into_owned()));
    printed.push((format!("{what} stderr"), String::from_utf8_lossy(&out.stderr).into_owned()));
    out
}

fn parquet(mode: &str, parts: &[String], printed: &mut Vec<(String, String)>) {
    let out = Command::new(util::python())
        .arg(util::root().join("tests/py/read_parquet.py"))
        .arg(mode)
        .args(if mode == "rows" { vec!["--reader", "pyarrow"] } else { vec![] })
        .args(parts)
        .output()
        .expect("run read_parquet.py");
    assert!(out.status.success(), "read_parquet.py {mode}: {}", String::from_utf8_lossy(&out.stderr));
    printed.push((format!("Parquet {mode} (pyarrow)"), String::from_utf8_lossy(&out.stdout).into_owned()));
}

#[test]
fn pii_in_every_form_and_by_name_leaves_by_no_path() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (path, dir) = (tmp.path().join("event.json"), tmp.path().join("archive"));
    std::fs::write(&path, event()).expect("write event");
    let d = dir.to_string_lossy().into_owned();
    let mut printed = Vec::new();
    let out = run("dmd archive", &["archive", "--out", &d, &path.to_string_lossy()], &mut printed);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let files = files_under(&dir);
    let errors: Vec<&String> = files.iter().filter(|f| f.starts_with("errors/")).collect();
    assert_eq!(errors.len(), 1, "{files:?}");
    let error_text = std::fs::read_to_string(dir.join(errors[0])).expect("error file");
    assert_eq!(error_text.lines().count(), 2, "the unparseable and the invalid deletion: {error_text}");
    for avro in files.iter().filter(|f| f.ends_with(".avro")) {
        run("dmd cat", &["cat", &dir.join(avro).to_string_lossy()], &mut printed);
    }
    assert!(run("dmd verify", &["verify", "--out", &d], &mut printed).status.success());
    run("dmd replay", &["replay", "--out", &d, errors[0]], &mut printed);
    let compact = run("dmd compact", &["compact", "--out", &d], &mut printed);
    assert!(compact.status.success(), "{}", String::from_utf8_lossy(&compact.stderr));
    let parts: Vec<String> = files_under(&dir)
        .iter()
        .filter(|f| f.ends_with(".parquet"))
        .map(|f| dir.join(f).display().to_string())
        .collect();
    assert!(!parts.is_empty(), "dmd compact wrote Parquet parts");
    parquet("rows", &parts, &mut printed);
    parquet("stats", &parts, &mut printed);
    outputs(&dir, &mut printed);

    let read: Vec<(String, String)> = printed
        .iter()
        .flat_map(|(place, text)| readings(text).into_iter().map(move |r| (format!("{place} (read)"), r)))
        .collect();
    printed.extend(read);
    let mut needles: Vec<String> = PLAIN.iter().map(|s| s.to_string()).collect();
    needles.extend(utf16_base64_forms(UTF16_EMAIL));
    let mut leaks = Vec::new();
    for (place, text) in &printed {
        for n in &needles {
            if let Some(at) = text.find(n.as_str()) {
                let ctx: String = text[at.saturating_sub(60)..].chars().take(140).collect();
                leaks.push(format!("{n:?} in {place}: …{ctx}…"));
            }
        }
    }
    assert!(leaks.is_empty(), "{} leaks:\n{}", leaks.len(), leaks.join("\n"));
    // The scan sees what is kept: the INSERT's address, in a data file and in Parquet.
    for place in ["(decoded)", "Parquet rows"] {
        assert!(printed.iter().any(|(p, t)| p.contains(place) && t.contains(KEPT)), "{KEPT} not found in {place}");
    }
}
