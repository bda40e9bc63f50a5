//! Properties over generated batches, through the library with an in-memory sink:
//! every record ends in exactly one place, no PII of a deleted item leaves, the same
//! input gives the same keys.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use dmd_archive::avro::Codec;
use dmd_archive::config::Settings;
use dmd_archive::deliver::{deliver, Deadline};
use dmd_archive::envelope::Source;
use dmd_archive::sink::Memory;
use dmd_archive::synth::{self, Expected};
use dmd_archive::Pipeline;
use proptest::prelude::*;
use serde_json::Value;

use crate::util::decode_avro;

/// Where a record ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    Data { record_type: String, date: String },
    Error(String),
    Retry,
}

struct Run {
    places: HashMap<String, Vec<Place>>,
    texts: Vec<String>,
    keys: Vec<String>,
}

fn run(opts: &synth::Options, codec: Codec, refuse_every: u64) -> (Vec<synth::Truth>, Run) {
    let settings = Settings { codec, ..Settings::default() };
    let pipeline = Pipeline::new(settings).expect("schemas");
    let refuse = move |key: &str| refuse_every > 0 && key.bytes().map(u64::from).sum::<u64>() % refuse_every == 0;
    let sink = Arc::new(Memory::refusing(refuse));
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let mut truth = Vec::new();
    let mut places: HashMap<String, Vec<Place>> = HashMap::new();
    let mut keys = Vec::new();
    for g in synth::generate(opts) {
        truth.extend(g.truth);
        let batch = pipeline.process(g.json.as_bytes(), 1_795_000_000_000).expect("a stream event");
        keys.extend(batch.files.iter().map(|f| f.key.clone()));
        let delivery = rt.block_on(deliver(sink.as_ref(), batch.files, 4, None));
        for f in delivery.answer.batch_item_failures {
            places.entry(f.item_identifier).or_default().push(Place::Retry);
        }
    }
    let mut texts = Vec::new();
    for (key, body) in sink.objects() {
        if key.ends_with(".avro") {
            for r in decode_avro(&key, &body) {
                let seq = r.record["sequence_number"].as_str().expect("seq").to_string();
                let place = Place::Data {
                    record_type: r.record["record_type"].as_str().expect("type").into(),
                    date: r.record["partition_date"].as_str().expect("dt").into(),
                };
                places.entry(seq).or_default().push(place);
                texts.push(r.record.to_string());
            }
        } else {
            let text = String::from_utf8(body.to_vec()).expect("utf-8");
            for line in text.lines() {
                let v: Value = serde_json::from_str(line).expect("JSON line");
                let seq = v["sequence_number"].as_str().expect("seq").to_string();
                places.entry(seq).or_default().push(Place::Error(v["error_type"].as_str().expect("type").into()));
            }
            texts.push(text);
        }
    }
    (truth, Run { places, texts, keys })
}

fn options() -> impl Strategy<Value = (synth::Options, Codec, u64)> {
    (
        1usize..160,
        1usize..80,
        prop_oneof![Just(Source::DynamoDb), Just(Source::Kinesis)],
        any::<u64>(),
        0u32..40,
        prop_oneof![Just(Codec::Null), Just(Codec::Deflate), Just(Codec::Snappy), Just(Codec::Zstandard)],
        prop_oneof![Just(0u64), 2u64..6],
        1u32..=7,
    )
        .prop_map(|(records, batch, source, seed, bad_percent, codec, refuse, days)| {
            (synth::Options { records, batch, source, seed, bad_percent, days }, codec, refuse)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// Each record is in exactly one of: a data file (of its expected type and date),
    /// the error file (with its expected error type), the batch answer.
    #[test]
    fn every_record_ends_in_exactly_one_place((opts, codec, refuse) in options()) {
        let (truth, run) = run(&opts, codec, refuse);
        prop_assert_eq!(run.places.len(), truth.len(), "no record invented or lost");
        for t in &truth {
            let places = run.places.get(&t.sequence_number).cloned().unwrap_or_default();
            prop_assert_eq!(places.len(), 1, "{} is in {:?}", t.sequence_number, places);
            match (&places[0], &t.expected) {
                (Place::Retry, _) => prop_assert!(refuse > 0, "retried with no write failure"),
                (Place::Data { record_type, date }, Expected::Archived { record_type: rt, date: d }) => {
                    prop_assert_eq!(record_type.as_str(), rt.as_str());
                    prop_assert_eq!(date, d);
                }
                (Place::Error(kind), Expected::Failed(k)) => prop_assert_eq!(kind.as_str(), k.as_str()),
                (got, want) => prop_assert!(false, "{} went to {:?}, expected {:?}", t.sequence_number, got, want),
            }
        }
    }

    /// No PII of a deleted item appears in any file, in any form the readers give back.
    #[test]
    fn no_pii_of_a_deleted_item_leaves((opts, codec, _refuse) in options()) {
        let (truth, run) = run(&opts, codec, 0);
        let all = run.texts.join("\n");
        for t in truth.iter().filter(|t| t.change_type == "REMOVE") {
            for secret in &t.pii {
                prop_assert!(!all.contains(secret.as_str()), "{:?} of deleted {} leaked", secret, t.sequence_number);
                // JSON text escapes nothing in these values, but check the escaped form too.
                let escaped = serde_json::to_string(secret).expect("json");
                prop_assert!(!all.contains(&escaped[1..escaped.len() - 1]));
            }
        }
    }

    /// The same batch gives the same keys whenever it is processed.
    #[test]
    fn the_same_input_gives_the_same_keys((opts, codec, _refuse) in options()) {
        let (_, a) = run(&opts, codec, 0);
        let (_, b) = run(&opts, codec, 0);
        prop_assert_eq!(&a.keys, &b.keys);
        let mut sorted = a.keys.clone();
        sorted.sort();
        sorted.dedup();
        prop_assert_eq!(sorted.len(), a.keys.len(), "no two groups share a key");
    }
}

#[test]
fn the_answer_is_what_lambda_expects() {
    // Every group refused: all records in the answer, as aws_lambda_events reads it.
    let opts = synth::Options { records: 50, batch: 50, source: Source::DynamoDb, seed: 3, bad_percent: 10, days: 7 };
    let g = synth::generate(&opts).next().expect("one batch");
    let pipeline = Pipeline::new(Settings::default()).expect("schemas");
    let batch = pipeline.process(g.json.as_bytes(), 0).expect("event");
    let sink = Memory::refusing(|_| true);
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let delivery = rt.block_on(deliver(&sink, batch.files, 2, None));
    let json = serde_json::to_string(&delivery.answer).expect("json");
    let parsed: aws_lambda_events::streams::DynamoDbEventResponse = serde_json::from_str(&json).expect("lambda shape");
    let ids: Vec<String> =
        parsed.batch_item_failures.into_iter().map(|f| f.item_identifier.unwrap_or_default()).collect();
    let want: Vec<String> = g.truth.iter().map(|t| t.sequence_number.clone()).collect();
    assert_eq!(ids, want, "every record, in stream order, none empty");
}

#[test]
fn a_failed_group_reports_exactly_its_records() {
    let opts = synth::Options { records: 300, batch: 300, source: Source::Kinesis, seed: 11, bad_percent: 5, days: 7 };
    let g = synth::generate(&opts).next().expect("one batch");
    let pipeline = Pipeline::new(Settings::default()).expect("schemas");
    let batch = pipeline.process(g.json.as_bytes(), 0).expect("event");
    let victim = batch.files.iter().find(|f| f.key.contains("/notification/")).expect("a notification group").clone();
    let sink = Memory::refusing({
        let key = victim.key.clone();
        move |k| k == key
    });
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let delivery = rt.block_on(deliver(&sink, batch.files, 3, None));
    let ids: Vec<String> = delivery.answer.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    let want: Vec<String> = victim.records.iter().map(|(_, s)| s.clone().expect("seq")).collect();
    assert_eq!(ids, want);
    assert_eq!(delivery.failed.len(), 1);
    assert!(!sink.objects().contains_key(&victim.key));
    let by_kind: BTreeMap<String, usize> = delivery
        .written
        .iter()
        .map(|w| (w.key.split('/').nth(1).unwrap_or("").to_string(), w.records))
        .fold(BTreeMap::new(), |mut m, (k, n)| {
            *m.entry(k).or_default() += n;
            m
        });
    assert!(by_kind.contains_key("demand"), "{by_kind:?}");
}

#[test]
fn a_passed_deadline_starts_no_write_and_reports_everything() {
    let opts = synth::Options { records: 40, batch: 40, source: Source::DynamoDb, seed: 5, bad_percent: 0, days: 7 };
    let g = synth::generate(&opts).next().expect("one batch");
    let pipeline = Pipeline::new(Settings::default()).expect("schemas");
    let batch = pipeline.process(g.json.as_bytes(), 0).expect("event");
    let sink = Memory::new();
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let past = std::time::Instant::now();
    let delivery =
        rt.block_on(deliver(&sink, batch.files, 3, Some(Deadline { at: past, margin: std::time::Duration::ZERO })));
    assert!(sink.objects().is_empty());
    assert_eq!(delivery.answer.batch_item_failures.len(), 40);
}

#[test]
fn compression_threads_do_not_change_a_byte() {
    let opts =
        synth::Options { records: 4000, batch: 4000, source: Source::DynamoDb, seed: 9, bad_percent: 2, days: 7 };
    let g = synth::generate(&opts).next().expect("one batch");
    for codec in Codec::ALL {
        let settings = Settings { codec, ..Settings::default() };
        let one = Pipeline::new(settings.clone()).expect("schemas").with_threads(1);
        let four = Pipeline::new(settings).expect("schemas").with_threads(4);
        let a = one.process(g.json.as_bytes(), 1_795_000_000_000).expect("event");
        let b = four.process(g.json.as_bytes(), 1_795_000_000_000).expect("event");
        assert!(a.files.len() > 8, "enough groups to spread");
        let files = |x: &dmd_archive::pipeline::Batch| {
            x.files.iter().map(|f| (f.key.clone(), f.body.clone())).collect::<Vec<_>>()
        };
        assert_eq!(files(&a), files(&b), "{}", codec.name());
    }
}
