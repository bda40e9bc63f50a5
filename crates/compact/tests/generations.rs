//! Generations through the library on an in-memory store: every change once, a rerun
//! that writes nothing, a new generation that replaces and retires the old one, parts
//! split by size, and a failed partition that keeps its previous generation.

// Test helpers may panic on what they set up themselves.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use dmd_archive::envelope::Source;
use dmd_archive::sink::ObjectSink;
use dmd_archive::synth::{generate, Options};
use dmd_archive::{FixedClock, Limits, Memory, Pipeline, Settings};
use dmd_compact::{compact, PartLimits, Report, Selection};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const NOW: i64 = 1_795_000_000_000;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// Generated batches of `records` records over `days` days.
fn batches(records: usize, days: u32, seed: u64) -> Vec<String> {
    let opts = Options { records, batch: 500, source: Source::DynamoDb, seed, bad_percent: 0, days };
    generate(&opts).map(|g| g.json).collect()
}

fn archive(store: &Memory, payloads: &[String]) {
    let pipeline = Pipeline::new(Settings::default()).expect("pipeline");
    for p in payloads {
        rt().block_on(pipeline.run(p.as_bytes(), &FixedClock(NOW), store, Limits::default())).expect("run");
    }
}

/// The same records as `payload`'s first `n`: what a bisected retry archives again.
fn first_records(payload: &str, n: usize) -> String {
    let mut v: serde_json::Value = serde_json::from_str(payload).expect("event");
    v["Records"].as_array_mut().expect("records").truncate(n);
    v.to_string()
}

fn run(store: &Memory, selection: &Selection, limits: PartLimits) -> Vec<Report> {
    rt().block_on(compact(store, &Settings::default(), selection, limits)).expect("compact")
}

/// (change_id, sequence_number) of every row of the parts, in order.
fn parquet_changes(store: &Memory, keys: &[String]) -> Vec<(String, String)> {
    let objects = store.objects();
    let mut out = Vec::new();
    for key in keys {
        let body = objects.get(key).expect("part").clone();
        let reader = ParquetRecordBatchReaderBuilder::try_new(body).expect("parquet").build().expect("reader");
        for batch in reader {
            let batch = batch.expect("batch");
            let col = |n: &str| {
                batch.column_by_name(n).unwrap().as_any().downcast_ref::<arrow_array::StringArray>().unwrap().clone()
            };
            let (ids, seqs) = (col("change_id"), col("sequence_number"));
            for i in 0..batch.num_rows() {
                out.push((ids.value(i).to_owned(), seqs.value(i).to_owned()));
            }
        }
    }
    out
}

/// The changes of the partition's Avro files, each copy.
fn avro_changes(store: &Memory, prefix: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, body) in store.objects() {
        if !key.starts_with(prefix) {
            continue;
        }
        for value in apache_avro::Reader::new(&body[..]).expect("avro") {
            let apache_avro::types::Value::Record(fields) = value.expect("record") else { panic!("not a record") };
            let text = |n: &str| match fields.iter().find(|(k, _)| k == n).map(|(_, v)| v) {
                Some(apache_avro::types::Value::String(s)) => s.clone(),
                other => panic!("{n}: {other:?}"),
            };
            out.push((text("change_id"), text("sequence_number")));
        }
    }
    out
}

#[test]
fn every_change_once_and_a_rerun_writes_nothing() {
    let store = Memory::new();
    let payloads = batches(1500, 3, 7);
    archive(&store, &payloads);
    // The first 200 records of the second batch again, as their own files.
    archive(&store, &[first_records(&payloads[1], 200)]);
    let reports = run(&store, &Selection::default(), PartLimits::default());
    assert_eq!(reports.len(), 12, "four types over three days");
    let mut dropped = 0;
    for r in &reports {
        assert!(!r.is_skipped() && r.error.is_none(), "{r:?}");
        let prefix = format!("data/{}/dt={}/", r.record_type, r.partition_date);
        let copies = avro_changes(&store, &prefix);
        let distinct: BTreeSet<_> = copies.iter().cloned().collect();
        let rows = parquet_changes(&store, r.parts());
        assert_eq!(rows.len(), distinct.len(), "{r:?}");
        assert_eq!(rows.iter().cloned().collect::<BTreeSet<_>>(), distinct);
        assert_eq!(r.records, Some(distinct.len() as u64));
        assert_eq!(r.duplicates_dropped, Some((copies.len() - distinct.len()) as u64));
        assert_eq!(r.bytes, Some(r.parts().iter().map(|k| store.objects()[k].len() as u64).sum()));
        dropped += copies.len() - distinct.len();
    }
    assert_eq!(dropped, 200, "each record of the bisected retry once");
    let before = store.objects();
    let again = run(&store, &Selection::default(), PartLimits::default());
    for (r, first) in again.iter().zip(&reports) {
        assert!(r.is_skipped(), "{r:?}");
        // A skipped partition reports its current generation, counts from its description.
        assert_eq!(
            (&r.generation, &r.files, r.records, r.bytes),
            (&first.generation, &first.files, first.records, first.bytes)
        );
    }
    assert_eq!(store.objects(), before, "an unchanged archive is not written to");
}

#[test]
fn new_avro_files_make_a_new_generation_that_retires_the_old() {
    let store = Memory::new();
    let payloads = batches(1000, 1, 11);
    archive(&store, &payloads[..1]);
    let first = run(&store, &Selection::default(), PartLimits::default());
    archive(&store, &payloads[1..]);
    let data_before: BTreeMap<_, _> = store.objects().into_iter().filter(|(k, _)| k.starts_with("data/")).collect();
    let second = run(&store, &Selection::default(), PartLimits::default());
    assert_eq!(first.len(), second.len());
    for (old, new) in first.iter().zip(&second) {
        assert_ne!(old.generation, new.generation);
        let manifest =
            format!("compacted/_symlink_format_manifest/{}/dt={}/manifest", new.record_type, new.partition_date);
        let text = String::from_utf8(store.objects()[&manifest].to_vec()).expect("text");
        let named: Vec<String> = text.lines().map(|l| l.trim_start_matches("memory:///").to_owned()).collect();
        assert_eq!(named, new.parts());
        for k in old.parts() {
            assert!(!store.objects().contains_key(k), "{k} retired");
        }
    }
    let data_after: BTreeMap<_, _> = store.objects().into_iter().filter(|(k, _)| k.starts_with("data/")).collect();
    assert_eq!(data_before, data_after, "the Avro files are only read");
}

#[test]
fn parts_split_by_size_and_filters_select_partitions() {
    let store = Memory::new();
    archive(&store, &batches(2000, 2, 5));
    let sel = Selection {
        types: vec![dmd_archive::record_type::RecordType::Demand],
        dates: vec![chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap()],
    };
    let tiny = PartLimits { part_bytes: 16 << 10, row_group_rows: 100, read_ahead: 2 };
    let reports = run(&store, &sel, tiny);
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!((r.record_type, r.partition_date.as_str()), ("demand", "2026-11-02"));
    assert!(r.parts().len() > 1, "{r:?}");
    for (n, k) in r.parts().iter().enumerate() {
        assert!(k.ends_with(&format!("/part-{n}.parquet")), "{k}");
    }
    assert_eq!(parquet_changes(&store, r.parts()).len() as u64, r.records.unwrap());
    assert!(!store.objects().keys().any(|k| k.starts_with("compacted/sale/")), "other types untouched");
}

#[test]
fn a_partition_that_fails_keeps_its_generation_and_the_next_run_finishes() {
    let store = Memory::new();
    let payloads = batches(1000, 1, 3);
    archive(&store, &payloads[..1]);
    let first = run(&store, &Selection::default(), PartLimits::default());
    archive(&store, &payloads[1..]);
    let bad = "data/sale/dt=2026-11-01/00000000000000000000000000000000.avro";
    rt().block_on(store.put(bad, Bytes::from_static(b"Obj\x01 not really"), "application/avro")).expect("put");
    let failed = run(&store, &Selection::default(), PartLimits::default());
    let sale = failed.iter().find(|r| r.record_type == "sale").expect("sale");
    assert!(sale.error.as_deref().is_some_and(|e| e.contains(bad)), "{sale:?}");
    let old = first.iter().find(|r| r.record_type == "sale").expect("sale");
    for k in old.parts() {
        assert!(store.objects().contains_key(k), "the previous generation stays readable");
    }
    let manifest = "compacted/_symlink_format_manifest/sale/dt=2026-11-01/manifest";
    assert!(String::from_utf8_lossy(&store.objects()[manifest]).contains(old.generation.as_deref().unwrap()));
    assert!(failed.iter().filter(|r| r.record_type != "sale").all(|r| r.error.is_none() && !r.is_skipped()));
    store.remove(bad);
    let last = run(&store, &Selection::default(), PartLimits::default());
    let sale = last.iter().find(|r| r.record_type == "sale").expect("sale");
    assert!(!sale.is_skipped() && sale.error.is_none());
    let generations: BTreeSet<_> = store
        .objects()
        .keys()
        .filter_map(|k| k.strip_prefix("compacted/sale/dt=2026-11-01/"))
        .map(|rest| rest.split('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(generations.len(), 1, "{generations:?}");
}
