//! Criterion benchmarks of the in-memory pipeline on a generated 1,000-record batch, by
//! stage: splitting the event, parsing each record, the whole process without
//! compression, and with each codec (the difference is the compression cost).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dmd_archive::avro::Codec;
use dmd_archive::config::Settings;
use dmd_archive::envelope::{split_event, Source};
use dmd_archive::record::receive;
use dmd_archive::synth;
use dmd_archive::Pipeline;

fn payload(source: Source) -> String {
    let opts = synth::Options { records: 1000, batch: 1000, source, seed: 42, bad_percent: 0, days: 7 };
    let json = synth::generate(&opts).next().map(|g| g.json).unwrap_or_default();
    json
}

fn stages(c: &mut Criterion) {
    for (name, source) in [("dynamodb", Source::DynamoDb), ("kinesis", Source::Kinesis)] {
        let json = payload(source);
        let mut g = c.benchmark_group(format!("{name}-1000"));
        g.throughput(Throughput::Elements(1000));
        g.bench_function("split", |b| b.iter(|| split_event(black_box(json.as_bytes())).map(|r| r.len())));
        g.bench_function("parse", |b| {
            b.iter(|| {
                let raws = split_event(json.as_bytes()).unwrap_or_default();
                raws.iter()
                    .filter(|r| {
                        receive(r)
                            .map_err(|r| r.error)
                            .and_then(|mut rec| rec.change().map(|c| c.image.0.len()))
                            .is_ok()
                    })
                    .count()
            })
        });
        for codec in Codec::ALL {
            let pipeline = match Pipeline::new(Settings { codec, ..Settings::default() }) {
                Ok(p) => p,
                Err(e) => panic!("schemas: {e}"),
            };
            g.bench_with_input(BenchmarkId::new("process", codec.name()), &json, |b, json| {
                b.iter(|| pipeline.process(black_box(json.as_bytes()), 0).map(|batch| batch.files.len()))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
