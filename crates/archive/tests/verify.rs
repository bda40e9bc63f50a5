//! The completeness audit on a local folder written by the pipeline entry: a clean
//! archive passes; a deleted file, a changed byte, a stray file, a manifest that is not
//! one and counts that do not add up are each reported with their key and kind.

// Test helpers may panic on what they set up themselves.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;

use dmd_archive::verify::{verify, ProblemKind, Scope};
use dmd_archive::{FixedClock, Limits, LocalDir, Pipeline, Settings};

const NOW: i64 = 1_795_000_000_000; // 2026-11-18T11:06:40Z
const EVENTS: [&str; 3] = [
    include_str!("../../../events/dynamodb-batch.json"),
    include_str!("../../../events/bad-records.json"),
    include_str!("../../../events/kinesis-batch.json"),
];

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(f)
}

fn archive(dir: &Path) {
    let pipeline = Pipeline::new(Settings::default()).expect("pipeline");
    for e in EVENTS {
        block(pipeline.run(e.as_bytes(), &FixedClock(NOW), &LocalDir::new(dir), Limits::default())).expect("run");
    }
}

fn audit(dir: &Path, scope: Scope) -> dmd_archive::verify::Report {
    block(verify(&LocalDir::new(dir), &Settings::default(), Scope { concurrency: 4, ..scope }, &()))
}

fn kinds(r: &dmd_archive::verify::Report) -> Vec<(ProblemKind, String)> {
    let mut k: Vec<_> = r.problems.iter().map(|p| (p.kind, p.key.clone())).collect();
    k.sort_by(|a, b| a.1.cmp(&b.1));
    k
}

fn first_key(dir: &Path, under: &str) -> String {
    let mut keys: Vec<String> = walk(&dir.join(under)).into_iter().collect();
    keys.sort();
    let path = keys.into_iter().next().expect("a file");
    path.strip_prefix(&format!("{}/", dir.display())).expect("under dir").to_owned()
}

fn walk(p: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).expect("dir") {
        let path = e.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}

#[test]
fn a_complete_archive_passes() {
    let dir = tempfile::tempdir().expect("tempdir");
    archive(dir.path());
    let r = audit(dir.path(), Scope::default());
    assert!(r.ok, "{:?}", r.problems);
    assert_eq!(r.manifests, 3);
    assert!(r.files >= 10 && r.files == r.listed, "{} files, {} listed", r.files, r.listed);
    let records: usize = EVENTS
        .iter()
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(e).expect("json")["Records"].as_array().expect("records").len()
        })
        .sum();
    assert_eq!(r.records, records);
}

#[test]
fn a_place_with_no_archive_is_not_a_complete_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("data/demand")).expect("an empty folder of data");
    let r = audit(dir.path(), Scope::default());
    assert!(!r.ok);
    assert_eq!(kinds(&r), [(ProblemKind::NoArchive, "manifests/".to_owned())]);
    // A window with nothing in it is an answer, not a wrong place.
    assert!(audit(dir.path(), Scope { since_day: Some(20_000), concurrency: 4 }).ok);
}

#[test]
fn each_fault_is_reported_with_its_key_and_kind() {
    let dir = tempfile::tempdir().expect("tempdir");
    archive(dir.path());
    let deleted = first_key(dir.path(), "data/demand");
    std::fs::remove_file(dir.path().join(&deleted)).expect("delete");
    let changed = first_key(dir.path(), "data/sale");
    let mut bytes = std::fs::read(dir.path().join(&changed)).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(dir.path().join(&changed), &bytes).expect("write");
    let grown = first_key(dir.path(), "errors");
    let mut text = std::fs::read(dir.path().join(&grown)).expect("read");
    text.push(b'\n');
    std::fs::write(dir.path().join(&grown), &text).expect("write");
    let stray = "data/event/dt=2026-11-19/stray.avro";
    std::fs::create_dir_all(dir.path().join("data/event/dt=2026-11-19")).expect("mkdir");
    std::fs::write(dir.path().join(stray), b"Obj\x01").expect("stray");
    let bad_manifest = "manifests/dt=2026-11-18/not-a-manifest.json";
    std::fs::write(dir.path().join(bad_manifest), b"{\"batch_id\": 1}").expect("bad manifest");
    let counted = first_key(dir.path(), "manifests");
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(&counted)).expect("read")).expect("json");
    m["records"] = (m["records"].as_u64().expect("records") + 1).into();
    std::fs::write(dir.path().join(&counted), serde_json::to_vec(&m).expect("json")).expect("write");

    let r = audit(dir.path(), Scope::default());
    assert!(!r.ok);
    let mut want = vec![
        (ProblemKind::MissingFile, deleted),
        (ProblemKind::ChecksumDiffers, changed),
        (ProblemKind::SizeDiffers, grown),
        (ProblemKind::Unnamed, stray.to_owned()),
        (ProblemKind::UnreadableManifest, bad_manifest.to_owned()),
        (ProblemKind::CountsDoNotAddUp, counted),
    ];
    want.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(kinds(&r), want);
}

#[test]
fn since_bounds_the_manifests_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    archive(dir.path());
    // Manifests of 2026-11-18: read from --since 2026-11-19 (a day of slack), not after.
    let day = NOW / 86_400_000;
    assert_eq!(audit(dir.path(), Scope { since_day: Some(day + 1), concurrency: 1 }).manifests, 3);
    let later = audit(dir.path(), Scope { since_day: Some(day + 2), concurrency: 1 });
    assert_eq!(later.manifests, 0);
    // The files were written now, after that day: none is named by a manifest read.
    assert!(later.problems.iter().all(|p| p.kind == ProblemKind::Unnamed));
}

#[test]
fn a_file_written_again_by_a_later_batch_matches_the_later_manifest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pipeline = Pipeline::new(Settings::default()).expect("pipeline");
    // The same batch a day later (a replayed or recovered range): the same data keys, new
    // bytes (`archived_at`), a second manifest under the next day.
    for now in [NOW, NOW + 86_400_000] {
        block(pipeline.run(EVENTS[0].as_bytes(), &FixedClock(now), &LocalDir::new(dir.path()), Limits::default()))
            .expect("run");
    }
    let r = audit(dir.path(), Scope::default());
    assert_eq!(r.manifests, 2);
    assert!(r.ok, "{:?}", r.problems);
    // A changed byte still shows: neither manifest matches it.
    let changed = first_key(dir.path(), "data/demand");
    let mut bytes = std::fs::read(dir.path().join(&changed)).expect("read");
    bytes[0] ^= 1;
    std::fs::write(dir.path().join(&changed), &bytes).expect("write");
    assert_eq!(kinds(&audit(dir.path(), Scope::default())), [(ProblemKind::ChecksumDiffers, changed)]);
}
