//! What naming every record costs a manifest (data contract, section 6): the bytes that
//! `sequence_numbers` and `shard_id` add, and the time to build and serialize the
//! manifest, at 1,000 and 10,000 records, with DynamoDB Streams' 21-digit sequence
//! numbers and Kinesis' 56-digit ones. Every sequence number goes through the PII boundary
//! (it is searched in every form), as a deleted item's identifiers do.
//!
//! `cargo run --release -p dmd-archive --example manifest_cost` (pin it with
//! `taskset -c 0` for one core).

use std::time::Instant;

use dmd_archive::deliver::Delivery;
use dmd_archive::manifest::{manifest_of, BatchIdentity};

/// A sequence number of `digits` decimal digits as the services write them: no run of
/// zeros (a number padded with zeros would stand for another workload).
fn sequence_number(state: &mut u64, digits: usize) -> String {
    (0..digits)
        .map(|_| {
            *state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            char::from(b'0' + ((*state >> 33) % 10) as u8)
        })
        .collect()
}

/// Median time of `runs` calls of `f`, in microseconds.
fn median_us(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn main() {
    println!("| source | records | manifest | of which sequence_numbers | build + serialize | without them |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (source, digits, shard) in [("DynamoDB Streams", 21, None), ("Kinesis", 56, Some("shardId-000000000003"))] {
        for records in [1_000usize, 10_000] {
            let mut batch = BatchIdentity::default();
            let mut state = 0x9e37_79b9_7f4a_7c15u64;
            for i in 0..records {
                batch.add(format!("{{\"record\":{i}}}").as_bytes(), Some(sequence_number(&mut state, digits)));
            }
            batch.shard_id = shard.map(str::to_owned);
            let delivery = Delivery::default();
            let full = manifest_of(&batch, &delivery, 1_795_000_000_000);
            let bytes = serde_json::to_vec(&full).map(|v| v.len()).unwrap_or(0);
            let mut bare = full.clone();
            bare.sequence_numbers.clear();
            bare.shard_id = None;
            let bare_bytes = serde_json::to_vec(&bare).map(|v| v.len()).unwrap_or(0);
            let with = median_us(21, || {
                let m = manifest_of(&batch, &delivery, 1_795_000_000_000);
                std::hint::black_box(serde_json::to_vec(&m).map(|v| v.len()).unwrap_or(0));
            });
            let mut lean = batch.clone();
            lean.sequence_numbers.truncate(2);
            let without = median_us(21, || {
                let m = manifest_of(&lean, &delivery, 1_795_000_000_000);
                std::hint::black_box(serde_json::to_vec(&m).map(|v| v.len()).unwrap_or(0));
            });
            println!(
                "| {source} | {records} | {:.1} KB | {:.1} KB | {:.2} ms | {:.3} ms |",
                bytes as f64 / 1000.0,
                (bytes - bare_bytes) as f64 / 1000.0,
                with / 1000.0,
                without / 1000.0
            );
        }
    }
}
