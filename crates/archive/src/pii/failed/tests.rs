//! Tests of the PII rules for failed records: redaction by name and by pattern when
//! the record parses, by structure when it does not, and messages.

use super::*;
use crate::error::ErrorKind;
use crate::pii::parser_message::{parser_message, parser_text, without_values};

fn clean(json: &str, declared: Declared) -> String {
    let f = FailedRecord { body: Body::Change(Sensitive::new(json.as_bytes().to_vec())), declared, record_type: None };
    f.clean(&Policy::default()).as_raw().get().to_owned()
}

#[test]
fn failed_deletions_are_redacted() {
    let out = clean(
        r#"{"eventName":"REMOVE","eventID":"e1","dynamodb":{"SequenceNumber":"4959000000000000001",
            "ApproximateCreationDateTime":1763542530,"Keys":{"pk":{"S":"FAN#555-010-4477"}},
            "OldImage":{"pk":{"S":"FAN#555-010-4477"},"email":{"N":"5550104477"},"bad":{"X":"call 555 010 4477"},
            "note":{"M":{"ana@example.com":{"S":"hi"},"bob@example.com":{"N":"5550104477"}}},
            "ok":{"S":"2026-11-19T10:15:30Z"},"ana2@example.com":{"S":"x"}}}}"#,
        Declared::MaybeDeleted,
    );
    let v: Value = serde_json::from_str(&out).expect("json");
    let img = &v["dynamodb"]["OldImage"];
    assert_eq!(img["pk"]["S"], "FAN#555-010-4477", "keys stay");
    assert_eq!(img["email"]["S"], "REDACTED", "a PII attribute of any type");
    assert_eq!(img["bad"]["X"], "REDACTED");
    assert_eq!(img["note"]["M"]["REDACTED"]["S"], "hi");
    assert_eq!(img["note"]["M"]["REDACTED_2"]["N"], "REDACTED");
    assert_eq!(img["ok"]["S"], "2026-11-19T10:15:30Z");
    assert_eq!(img["REDACTED"]["S"], "x", "names are strings too");
    assert_eq!(v["dynamodb"]["SequenceNumber"], "4959000000000000001", "identifiers stay");
    assert_eq!(v["dynamodb"]["ApproximateCreationDateTime"], 1763542530);
    let out = clean(r#"{"eventID":"shard:YW5hQGV4YW1wbGUuY29t","eventName":"REMOVE"}"#, Declared::MaybeDeleted);
    assert!(out.contains(r#""eventID":"REDACTED""#), "{out}");
}

#[test]
fn inserts_stay_and_unparseable_text_is_redacted_as_text() {
    let insert = r#"{"eventName":"INSERT","dynamodb":{"NewImage":{"e":{"S":"a@b.com"}}}}"#;
    assert_eq!(clean(insert, Declared::NotDeleted), insert);
    assert!(!clean(insert, Declared::MaybeDeleted).contains("a@b.com"));
    for bad in [
        r#"{"eventName":"REMOVE","x":{"S":"ana@example.com"},"n":1e400}"#,
        r#"{"eventName":"REMOVE","x":{"S":"ana\u0040example.com \ud800"}}"#,
        r#"{"eventName":"REMOVE","x":{"S":"call \"555 010 4477\""},"#,
    ] {
        let out = clean(bad, Declared::MaybeDeleted);
        let s: String = serde_json::from_str(&out).expect("a JSON string");
        assert!(!s.contains("ana") && !s.contains("4477"), "{s}");
        assert!(s.contains("REDACTED"), "{s}");
    }
}

#[test]
fn undecodable_kinesis_data_is_withheld() {
    let f = FailedRecord {
        body: Body::UndecodableKinesis(Sensitive::new(
            br#"{"eventSource":"aws:kinesis","kinesis":{"data":"eyJhIjoi!!","sequenceNumber":"1"}}"#.to_vec(),
        )),
        declared: Declared::NotDeleted,
        record_type: None,
    };
    let out = f.clean(&Policy::default());
    let v: Value = serde_json::from_str(out.as_raw().get()).expect("json");
    assert_eq!(v["kinesis"]["data"], "REDACTED");
    assert_eq!(v["kinesis"]["sequenceNumber"], "1");
}

#[test]
fn minify_keeps_strings_and_numbers() {
    let text = "{\n  \"a\" : \"x  y\\\" z\",\n  \"n\": 1.50e3 ,\"l\":[ 1, 2 ]\n}";
    assert_eq!(minify_json(text), r#"{"a":"x  y\" z","n":1.50e3,"l":[1,2]}"#);
}

#[test]
fn messages_lose_their_pii() {
    let e = RecordError::new(ErrorKind::Parse, "eventName ana@example.com at column 5550104477");
    assert_eq!(message(&e).as_str(), "eventName REDACTED at column REDACTED");
    assert_eq!(format!("{:?}", Sensitive::new("ana@example.com")), "[REDACTED]");
    assert_eq!(without_values("unknown variant `ana@x.com`, expected `S`"), "unknown variant `…`, expected `S`");
    assert_eq!(without_values("missing field `NewImage`"), "missing field `NewImage`");
    // A value that closes its quote early, or a tag with a back-quote in it, passes
    // nothing but known words: the rest becomes `…`.
    let escaped =
        r#"invalid type: string "a\" ana@exa\u{200b}mple.com 555\u{a0}010\u{a0}4477 \"b", expected a boolean"#;
    assert_eq!(without_values(escaped), r#"invalid type: string "…", expected a boolean"#);
    let ticked = "unknown variant `a` ana@x.com 555 010 4477 `b`, expected one of `S`, `N`";
    assert_eq!(without_values(ticked), "unknown variant `…` … `…`, expected one of `S`, `N`");
    assert_eq!(without_values("expected `,` or `}`"), "expected `,` or `}`");
    assert_eq!(without_values("unknown field `NewImages`"), "unknown field `…`");
    assert_eq!(without_values("invalid type: string \"5550104477"), "invalid type: string \"…");
    // The parser's position is its own, however long the record.
    let long = format!("[{}1,]", "1,".repeat(3_000_000));
    let e = serde_json::from_str::<Vec<u8>>(&long).unwrap_err();
    assert!(parser_message(&e).ends_with(&format!("at line 1 column {}", e.column())), "{}", parser_message(&e));
    let held = RecordError::new(ErrorKind::Parse, parser_text(&e)).at(e.line(), e.column());
    assert!(message(&held).as_str().ends_with(&format!("at line 1 column {}", e.column())));
    assert!(e.column() > 5_000_000, "a column that would read as a phone number");
    let e = serde_json::from_str::<Vec<u8>>(r#""ana@example.com""#).unwrap_err();
    assert!(!parser_message(&e).contains("ana@"), "{}", parser_message(&e));
}

#[test]
fn only_the_keys_under_dynamodb_are_kept_as_they_are() {
    let out = clean(
        r#"{"eventName":"REMOVE","Keys":{"email":{"S":"ana@example.org"}},
            "userIdentity":{"Keys":{"n":"call 555 010 4477"}},"eventID":{"Keys":["bo@example.org"]},
            "dynamodb":{"Keys":{"pk":{"S":"FAN#1"}},"OldImage":{}}}"#,
        Declared::MaybeDeleted,
    );
    for leak in ["ana@example.org", "555 010 4477", "bo@example.org"] {
        assert!(!out.contains(leak), "{leak} in {out}");
    }
    assert!(out.contains(r#""Keys":{"pk":{"S":"FAN#1"}}"#), "{out}");
}
