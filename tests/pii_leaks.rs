//! Adversarial black-box tests of the PII rule of CONTRACT.md §3 ("Deleted records and PII",
//! "Error files"): deleted items with PII hidden in hard places go through the real
//! `dmd archive` at RUST_LOG=debug, and every byte it writes or prints is searched for the
//! PII as plain text, as digits only, and as base64 (of its UTF-8 and UTF-16 bytes) at
//! every alignment, in the text as written and in each of its readings (`pii_reading`:
//! escapes, character references, compatibility forms, Unicode separators).

#[path = "pii_cases.rs"]
mod cases;
#[path = "pii_faults.rs"]
mod faults;
#[path = "pii_form_props.rs"]
mod form_props;
#[path = "pii_props.rs"]
mod props;
#[path = "pii_reading.rs"]
pub mod reading;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::util::{dmd, files_under};
use cases::{Case, Rec, Src, CONTROL_EMAIL, CONTROL_N, CONTROL_NOTES, CONTROL_PHONE};
use reading::base64_forms;

/// What one run of `dmd archive` put out.
struct Output {
    /// (where, text): raw bytes of every file and stream, and their decoded forms.
    texts: Vec<(String, String)>,
    /// The summary lines on stdout.
    lines: Vec<Value>,
    data: Vec<Value>,
    errors: Vec<Value>,
    retry: Vec<String>,
    problems: Vec<String>,
    status: String,
}

/// Every string and key of `v`, recursing into strings that are JSON themselves, after
/// `v` as compact JSON text.
fn flatten(v: &Value) -> String {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => {
                out.push(s.clone());
                if let Ok(inner @ (Value::Object(_) | Value::Array(_))) = serde_json::from_str::<Value>(s) {
                    walk(&inner, out);
                }
            }
            Value::Array(xs) => xs.iter().for_each(|x| walk(x, out)),
            Value::Object(m) => m.iter().for_each(|(k, x)| {
                out.push(k.clone());
                walk(x, out);
            }),
            other => out.push(other.to_string()),
        }
    }
    let mut out = vec![v.to_string()];
    walk(v, &mut out);
    out.join("\n")
}

/// An Avro value as JSON, whatever its type.
fn avro_to_json(v: apache_avro::types::Value) -> Value {
    use apache_avro::types::Value as A;
    match v {
        A::Null => Value::Null,
        A::Boolean(b) => Value::Bool(b),
        A::Int(i) => i.into(),
        A::Long(i) | A::TimestampMillis(i) | A::TimestampMicros(i) => i.into(),
        A::String(s) | A::Enum(_, s) => Value::String(s),
        A::Bytes(b) | A::Fixed(_, b) => Value::String(String::from_utf8_lossy(&b).into_owned()),
        A::Union(_, inner) => avro_to_json(*inner),
        A::Array(xs) => Value::Array(xs.into_iter().map(avro_to_json).collect()),
        A::Map(m) => Value::Object(m.into_iter().map(|(k, v)| (k, avro_to_json(v))).collect()),
        A::Record(f) => Value::Object(f.into_iter().map(|(k, v)| (k, avro_to_json(v))).collect()),
        other => Value::String(format!("{other:?}")),
    }
}

fn run(event: &str, env: &[(String, String)]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, out) = (dir.path().join("event.json"), dir.path().join("out"));
    std::fs::write(&path, event).expect("write event");
    let mut envs: Vec<(&str, &str)> = vec![("RUST_LOG", "debug")];
    envs.extend(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let res = dmd(&["archive", "--out", &out.to_string_lossy(), &path.to_string_lossy()], &envs);
    let stderr = String::from_utf8_lossy(&res.stderr).into_owned();
    let mut o = Output {
        texts: Vec::new(),
        lines: Vec::new(),
        data: Vec::new(),
        errors: Vec::new(),
        retry: Vec::new(),
        problems: Vec::new(),
        status: format!("{} (stderr: {})", res.status, stderr.lines().last().unwrap_or("")),
    };
    let stdout = String::from_utf8_lossy(&res.stdout).into_owned();
    for line in stdout.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()) {
        for f in line["batchItemFailures"].as_array().into_iter().flatten() {
            o.retry.push(f["itemIdentifier"].as_str().unwrap_or_default().to_string());
        }
        o.texts.push(("stdout (JSON decoded)".into(), flatten(&line)));
        o.lines.push(line);
    }
    o.texts.push(("stdout".into(), stdout));
    o.texts.push(("stderr at RUST_LOG=debug".into(), stderr));
    for rel in files_under(&out) {
        let bytes = std::fs::read(out.join(&rel)).expect("read output");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if rel.ends_with(".avro") {
            match apache_avro::Reader::new(&bytes[..]) {
                Ok(reader) => {
                    for (i, r) in reader.enumerate() {
                        match r {
                            Ok(v) => {
                                let j = avro_to_json(v);
                                o.texts.push((format!("{rel} record {i} (decoded)"), flatten(&j)));
                                o.data.push(j);
                            }
                            Err(e) => o.problems.push(format!("{rel}: record {i} does not decode: {e}")),
                        }
                    }
                }
                Err(e) => o.problems.push(format!("{rel}: not an Avro file: {e}")),
            }
        } else {
            for (i, line) in text.lines().enumerate() {
                if let Ok(v) = serde_json::from_str::<Value>(line) {
                    o.texts.push((format!("{rel} line {} (JSON decoded)", i + 1), flatten(&v)));
                    if rel.starts_with("errors/") {
                        o.errors.push(v);
                    }
                }
            }
        }
        o.texts.push((format!("{rel} (raw bytes)"), text));
    }
    let read: Vec<(String, String)> = o
        .texts
        .iter()
        .flat_map(|(place, text)| {
            reading::readings(text).into_iter().map(move |r| (format!("{place} (read in every form)"), r))
        })
        .collect();
    o.texts.extend(read);
    o
}

/// The forms of a secret to look for: (form, needle).
fn forms(secret: &str) -> Vec<(String, String)> {
    let mut v = vec![("plain text".to_string(), secret.to_string())];
    let digits: String = secret.chars().filter(char::is_ascii_digit).collect();
    let phone_like = secret.chars().all(|c| c.is_ascii_digit() || "+ .-()".contains(c));
    if phone_like && digits.len() >= 7 && digits != secret {
        v.push(("digits only".into(), digits));
    }
    v.extend(base64_forms(secret).into_iter().map(|f| ("base64".to_string(), f)));
    v.extend(reading::utf16_base64_forms(secret).into_iter().map(|f| ("base64 of UTF-16".to_string(), f)));
    v
}

/// Up to 50 characters either side of byte `at`.
fn context(text: &str, at: usize, len: usize) -> String {
    let start = (0..=at.saturating_sub(50)).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    let end = (at + len + 50).min(text.len());
    let end = (end..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
    text[start..end].replace('\n', "⏎")
}

/// Every problem of `case` run from `src`: leaks, misplaced records, redacted INSERTs.
fn check(case: &Case, src: Src) -> Vec<String> {
    let tag = format!("[{} / {}]", case.name, if src == Src::Ddb { "dynamodb" } else { "kinesis" });
    let o = run(&case.event(src), &case.env);
    let mut problems: Vec<String> = o.problems.iter().map(|p| format!("{tag} {p}")).collect();
    for secret in &case.secrets {
        // One line per place (its first form found), at most 4 places per secret.
        let mut hits = o.texts.iter().filter_map(|(place, text)| {
            forms(secret).into_iter().find_map(|(form, needle)| {
                let at = text.find(&needle)?;
                let ctx = context(text, at, needle.len());
                Some(format!("{tag} LEAK as {form} ({needle:?} of {secret:?}) in {place}: …{ctx}…"))
            })
        });
        problems.extend(hits.by_ref().take(4));
        let more = hits.count();
        if more > 0 {
            problems.push(format!("{tag} LEAK of {secret:?} in {more} more places"));
        }
    }
    // The summary adds up: records = archived + errors + retry.
    let total = case.recs.len() + 1;
    for line in &o.lines {
        let archived: u64 = line["archived"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
            .filter_map(|d| d.as_object())
            .flat_map(|d| d.values())
            .filter_map(Value::as_u64)
            .sum();
        let (errors, retry) = (line["errors"].as_u64().unwrap_or(0), line["retry"].as_u64().unwrap_or(0));
        if line["records"] != total || archived + errors + retry != total as u64 {
            problems.push(format!("{tag} summary does not add up to {total} records: {line}"));
        }
    }
    if o.lines.len() != 1 {
        problems.push(format!("{tag} {} summary lines on stdout; exit {}", o.lines.len(), o.status));
    }
    // Every record in exactly one place.
    let mut places: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let seq = |v: &Value| v["sequence_number"].as_str().unwrap_or("<none>").to_string();
    o.data.iter().for_each(|d| places.entry(seq(d)).or_default().push("data file"));
    o.errors.iter().for_each(|e| places.entry(seq(e)).or_default().push("error file"));
    o.retry.iter().for_each(|r| places.entry(r.clone()).or_default().push("batchItemFailures"));
    let control = Rec::insert(CONTROL_N, "", "", "");
    for r in case.recs.iter().chain([&control]) {
        let got = places.remove(&r.seq(src)).unwrap_or_default();
        if got.len() != 1 {
            problems.push(format!("{tag} record n={} is in {got:?}, not in exactly one place; exit {}", r.n, o.status));
        }
    }
    for (s, got) in places {
        problems.push(format!("{tag} unknown sequence number {s:?} in {got:?}"));
    }
    // INSERTs keep their free text and PII exactly.
    let kept = [(CONTROL_N, CONTROL_NOTES.to_string(), CONTROL_PHONE.to_string(), CONTROL_EMAIL.to_string())];
    for (n, notes, phone, email) in case.kept.iter().chain(&kept) {
        let s = Rec::insert(*n, "", "", "").seq(src);
        let Some(d) = o.data.iter().find(|d| d["sequence_number"] == s.as_str()) else { continue };
        let got = (&d["attributes"]["notes"], &d["phone_number"], &d["email"]);
        if got != (&Value::from(notes.as_str()), &Value::from(phone.as_str()), &Value::from(email.as_str())) {
            problems.push(format!("{tag} INSERT n={n} not kept exactly: {got:?}"));
        }
    }
    // Archived deletions: PII fields and PII_ATTRIBUTES are REDACTED or null.
    let extra: Vec<&str> =
        case.env.iter().filter(|(k, _)| k == "PII_ATTRIBUTES").flat_map(|(_, v)| v.split(',')).collect();
    for d in o.data.iter().filter(|d| d["change_type"] == "REMOVE") {
        let fields = ["phone_number", "email", "message_body"].map(|f| (f, &d[f]));
        let attrs = extra.iter().map(|a| (*a, &d["attributes"][*a]));
        for (f, v) in fields.into_iter().chain(attrs) {
            if !v.is_null() && v != "REDACTED" {
                problems.push(format!("{tag} deleted {} keeps {f} = {v}", seq(d)));
            }
        }
    }
    problems
}

/// Runs every case from each source it applies to; fails with the list of failing cases.
fn check_cases(cases: &[Case]) {
    let mut failed: Vec<String> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let mut runs = 0;
    for case in cases {
        for src in [Src::Ddb, Src::Kin].into_iter().filter(|s| case.only.is_none_or(|o| o == *s)) {
            runs += 1;
            let p = check(case, src);
            if !p.is_empty() {
                failed.push(format!("{}/{src:?}", case.name));
                lines.extend(p);
            }
        }
    }
    assert!(failed.is_empty(), "{} of {runs} runs fail: {}\n{}", failed.len(), failed.join(", "), lines.join("\n"));
}

#[test]
fn free_text_pii_of_deleted_items_never_leaves() {
    check_cases(&cases::free_text());
}

#[test]
fn pii_in_attribute_names_and_map_keys_never_leaves() {
    check_cases(&cases::names());
}

#[test]
fn pii_in_every_attribute_type_never_leaves() {
    check_cases(&cases::types());
}

/// Numbers of a deletion with the digits of a phone number are redacted too
/// (docs/decisions.md, PII): a phone number stored as `N` must not leave.
#[test]
fn pii_in_numbers_of_other_attributes_never_leaves() {
    check_cases(&cases::numbers());
}

#[test]
fn pii_attributes_of_any_type_never_leave() {
    check_cases(&cases::pii_attributes());
}

#[test]
fn failing_deleted_records_leak_no_pii() {
    check_cases(&faults::failing());
}

#[test]
fn broken_kinesis_data_leaks_no_pii() {
    check_cases(&faults::kinesis());
}

#[test]
fn faults_mid_batch_keep_every_record_and_leak_nothing() {
    let (ddb, kin) = (faults::batch(Src::Ddb), faults::batch(Src::Kin));
    assert!(ddb.recs.len() >= 45 && kin.recs.len() > ddb.recs.len(), "a batch of ~50 records");
    check_cases(&[ddb, kin]);
}

/// The scanner itself: a control INSERT's PII is found in the decoded data file in every
/// form, so the checks above cannot pass by reading nothing.
#[test]
fn the_scanner_finds_pii_that_is_kept() {
    for src in [Src::Ddb, Src::Kin] {
        let case = Case::new("control_only", Rec::insert(5, "", "", ""), &[]);
        let mut case = Case { recs: Vec::new(), ..case };
        case.secrets = vec![CONTROL_EMAIL.into(), CONTROL_PHONE.into()];
        let p = check(&case, src);
        for s in [CONTROL_EMAIL, CONTROL_PHONE] {
            assert!(p.iter().any(|l| l.contains("LEAK as plain text") && l.contains(s) && l.contains("(decoded)")));
        }
        assert!(p.iter().all(|l| l.contains("LEAK")), "only the planted leaks: {p:?}");
    }
    // A base64 form is found at every alignment.
    use base64::Engine;
    for pad in ["", "x", "xy"] {
        let enc = base64::engine::general_purpose::STANDARD.encode(format!("{pad}{CONTROL_EMAIL}!"));
        assert!(forms(CONTROL_EMAIL).iter().any(|(f, n)| f == "base64" && enc.contains(n.as_str())), "{pad:?}");
    }
}
