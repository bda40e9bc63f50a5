//! `dmd archive`'s check of an input against the pipeline: on mutated sample events
//! (broken JSON, sources renamed, escaped or duplicated, records and structure cut), the
//! check fails exactly where processing the payload fails, so that a run that passed the
//! check cannot stop half-way with files written.

// Test helpers may panic on what they set up themselves.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use dmd_archive::check::check_event;
use dmd_archive::{Pipeline, Settings};
use proptest::prelude::*;

const SAMPLES: [&str; 6] = [
    include_str!("../../../events/dynamodb-batch.json"),
    include_str!("../../../events/kinesis-batch.json"),
    include_str!("../../../events/bad-records.json"),
    include_str!("../../../events/dynamodb-insert.json"),
    include_str!("../../../events/dynamodb-ttl-remove.json"),
    include_str!("../../../events/not-a-stream-event.json"),
];

/// What the edits aim at: the text that decides whether a payload is an event.
const TARGETS: [&str; 9] =
    ["\"aws:dynamodb\"", "\"aws:kinesis\"", "\"eventSource\"", "\"Records\"", "\"data\"", "{", "[", "\"", ","];

/// Tokens that change what a payload is: structure, sources under other spellings,
/// escapes, numbers and literals.
const TOKENS: [&str; 30] = [
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\",
    " ",
    "\\u0064",
    "\\ud800",
    "1",
    "-0",
    "1e5",
    "01",
    "null",
    "tru",
    "\"aws:dynamodb\"",
    "\"aws:kinesis\"",
    "\"aws:sqs\"",
    "\"eventSource\":\"aws:sqs\",",
    "\"eventSource\":\"aws:dynamodb\",",
    "\"eventSource\":",
    "\"Records\":[],",
    "\"Records\":",
    "{\"Records\":[]}",
    "\u{1}",
    "é",
    "\"dynamodb\":null,",
    "\"kinesis\":{\"data\":\"!!\"},",
];

/// A sample event with a few edits: a token inserted, a span removed or replaced by a
/// token, or one or every occurrence of a target replaced by a token.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let edit = (
        any::<prop::sample::Index>(),
        0usize..5,
        0usize..40,
        prop::sample::select(TOKENS.to_vec()),
        prop::sample::select(TARGETS.to_vec()),
    );
    (prop::sample::select(SAMPLES.to_vec()), prop::collection::vec(edit, 1..4)).prop_map(|(sample, edits)| {
        let mut p = String::from_utf8_lossy(sample.as_bytes()).into_owned().into_bytes();
        for (at, kind, len, token, target) in edits {
            let text = String::from_utf8_lossy(&p).into_owned();
            let found: Vec<usize> = text.match_indices(target).map(|(i, _)| i).collect();
            let at = at.index(p.len() + 1);
            let end = (at + len).min(p.len());
            match kind {
                0 => drop(p.splice(at..at, token.bytes())),
                1 => drop(p.drain(at..end)),
                2 => drop(p.splice(at..end, token.bytes())),
                3 if !found.is_empty() => {
                    let i = found[at % found.len()];
                    p.splice(i..i + target.len(), token.bytes());
                }
                _ => p = text.replace(target, token).into_bytes(),
            }
        }
        p
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    #[test]
    fn the_check_fails_exactly_where_processing_fails(payload in mutated()) {
        let pipeline = Pipeline::new(Settings::default()).expect("pipeline");
        let checked = check_event(&payload).map_err(|e| e.to_string());
        let processed = pipeline.process(&payload, 1_795_000_000_000).map(|_| ()).map_err(|e| e.to_string());
        prop_assert_eq!(checked, processed, "{}", String::from_utf8_lossy(&payload));
    }
}

#[test]
fn the_samples_pass_or_fail_as_documented() {
    for (i, sample) in SAMPLES.iter().enumerate() {
        assert_eq!(check_event(sample.as_bytes()).is_ok(), i + 1 < SAMPLES.len(), "sample {i}");
    }
}
