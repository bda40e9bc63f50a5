//! `dmd compact --out` after an interrupted run and through a failing one (contract
//! section 8): parts of generations that never finished, a half-written part of the
//! very generation the run builds, and an Avro file that cannot be read. The failed
//! partition says why, keeps its previous generation readable, and the others are
//! compacted; once the bad file is gone the next run finishes with one generation per
//! partition.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::read::{self, check_rows, expected, strings};
use super::{archive, archived, check_built, data_files, generations, manifest_of, partition, run, s};
use crate::util;

/// Copies every file below `from` to `to`.
fn copy_tree(from: &Path, to: &Path) {
    for k in util::files_under(from) {
        std::fs::create_dir_all(to.join(&k).parent().expect("parent")).expect("mkdir");
        std::fs::copy(from.join(&k), to.join(&k)).expect("copy");
    }
}

/// Writes `bytes` at `path` (folders created), stamped `age` ago.
fn leave(path: &Path, bytes: &[u8], age: Duration) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
    let f = std::fs::File::options().write(true).open(path).expect("open");
    f.set_modified(SystemTime::now() - age).expect("set mtime");
}

/// The part files (`*.parquet`) below a partition's folder of the Parquet copy.
fn parquet_files(dir: &Path, partition: &str) -> Vec<String> {
    util::files_under(&dir.join("compacted").join(partition)).into_iter().filter(|f| f.ends_with(".parquet")).collect()
}

#[test]
fn a_failed_run_leaves_every_partition_readable_and_the_next_run_finishes() {
    let (events, dir) = archived();
    let a = s(&dir);
    let (code, first) = run(&["compact", "--out", &a]);
    assert_eq!(code, 0);
    let old: BTreeMap<String, Value> = first.iter().map(|l| (partition(l), l.clone())).collect();
    archive(&["--out", &a], &[&events.extra]);
    let avro = read::folder_partitions(&dir);
    let d0 = first[0]["partition_date"].as_str().expect("date").to_owned();
    // `bad` gets an unreadable Avro file; `other` is rebuilt; `quiet` is unchanged.
    let (bad, other, quiet) = (format!("demand/dt={d0}"), format!("notification/dt={d0}"), format!("sale/dt={d0}"));

    // The generation the next run builds for `other`, learnt from a copy of the archive.
    let copy = dir.parent().expect("parent").join("copy");
    copy_tree(&dir, &copy);
    let (code, lines) = run(&["compact", "--out", &s(&copy), "--type", "notification", "--date", &d0]);
    assert_eq!(code, 0);
    let next = lines[0]["generation"].as_str().expect("generation").to_owned();

    // What interrupted runs left: a part cut short under a generation that never
    // finished (in `quiet` from before its current generation, whose run stopped before
    // retiring it), and the first bytes of a part of `other`'s next generation, renamed
    // into place and as a temporary file.
    let part = std::fs::read(dir.join(&strings(&old[&other]["files"])[0])).expect("part");
    let fake = "0123456789abcdef0123456789abcdef";
    leave(&dir.join(format!("compacted/{other}/{fake}/part-0.parquet")), &part[..part.len() / 2], Duration::ZERO);
    leave(&dir.join(format!("compacted/{bad}/{fake}/part-0.parquet")), &part[..part.len() / 2], Duration::ZERO);
    leave(&dir.join(format!("compacted/{quiet}/{fake}/part-1.parquet")), &part[..100], Duration::from_secs(3600));
    leave(&dir.join(format!("compacted/{other}/{next}/part-0.parquet")), &part[..100], Duration::ZERO);
    leave(&dir.join(format!("compacted/{other}/{next}/part-0.parquet.tmp-4242")), &part[..200], Duration::ZERO);
    // An Avro file that cannot be read.
    let garbage = format!("data/{bad}/ffffffffffffffffffffffffffffffff.avro");
    leave(&dir.join(&garbage), b"Obj\x01 this is not an Avro container", Duration::ZERO);

    let bad_manifest = std::fs::read(manifest_of(&dir, &bad)).expect("manifest");
    let bad_parts: Vec<(String, Vec<u8>)> = strings(&old[&bad]["files"])
        .into_iter()
        .map(|k| (k.clone(), std::fs::read(dir.join(&k)).expect("part")))
        .collect();
    let bad_rows = read::parquet_rows("pyarrow", &manifest_of(&dir, &bad), &[]);
    let data_before = data_files(&dir);

    let (code, lines) = run(&["compact", "--out", &a]);
    assert_eq!(code, 1, "a failed partition fails the run: {lines:?}");
    assert_eq!(lines.len(), old.len());
    for l in &lines {
        let p = partition(l);
        if p == bad {
            let error = l["error"].as_str().expect("the failed partition says why");
            assert!(error.contains(&garbage), "{error}");
            let mut keys: Vec<&String> = l.as_object().expect("object").keys().collect();
            keys.sort();
            assert_eq!(keys, ["error", "partition_date", "record_type"], "{l}");
            continue;
        }
        assert!(l.get("error").is_none(), "{l}");
        if l["skipped"] == false {
            check_built(&dir, l, &avro);
        } else {
            assert_eq!(l["generation"], old[&p]["generation"], "{p}");
            assert_eq!(parquet_files(&dir, &p).len(), 1, "{p}: the unfinished generation is retired");
        }
    }
    assert_eq!(lines.iter().find(|l| partition(l) == other).expect("other")["generation"], next.as_str());
    assert_eq!(generations(&dir, &quiet), [old[&quiet]["generation"].as_str().expect("gen")]);

    // The failed partition: its manifest and previous generation as they were, readable.
    assert_eq!(std::fs::read(manifest_of(&dir, &bad)).expect("manifest"), bad_manifest);
    for (k, bytes) in &bad_parts {
        assert_eq!(&std::fs::read(dir.join(k)).expect("part"), bytes, "{k}");
    }
    let by_duckdb = read::parquet_rows("duckdb", &manifest_of(&dir, &bad), &[]);
    read::assert_same_rows("the previous generation, by DuckDB", &by_duckdb, &bad_rows);
    read::assert_same_rows(
        "the previous generation, by pyarrow",
        &read::parquet_rows("pyarrow", &manifest_of(&dir, &bad), &[]),
        &bad_rows,
    );
    assert_eq!(data_files(&dir), data_before, "the Avro files are neither changed nor rewritten");

    // Without the bad file, the next run finishes the work.
    std::fs::remove_file(dir.join(&garbage)).expect("remove");
    let (code, lines) = run(&["compact", "--out", &a]);
    assert_eq!(code, 0, "{lines:?}");
    for l in &lines {
        let p = partition(l);
        assert_eq!(l["skipped"] == false, p == bad, "{l}");
        if p == bad {
            check_built(&dir, l, &avro);
        }
        let generation = l["generation"].as_str().expect("generation");
        assert_eq!(generations(&dir, &p), [generation], "{p}: one generation");
        let parts: Vec<String> =
            strings(&l["files"]).iter().map(|k| k.trim_start_matches(&format!("compacted/{p}/")).to_owned()).collect();
        assert_eq!(parquet_files(&dir, &p), parts, "{p}: no other part");
        check_rows(&p, &manifest_of(&dir, &p), &[], &expected(&avro[&p]));
    }
}

/// The partition `demand/dt=<first date>` of a compacted fixture, after archiving
/// [`super::Events::extra`] (which changes it): (events, archive folder, partition, the
/// generation that names it now, the generation the next run builds).
fn changed_partition() -> (super::Events, std::path::PathBuf, String, String, String) {
    let (events, dir) = archived();
    let (code, first) = run(&["compact", "--out", &s(&dir)]);
    assert_eq!(code, 0);
    archive(&["--out", &s(&dir)], &[&events.extra]);
    let p = partition(&first[0]);
    let date = first[0]["partition_date"].as_str().expect("date").to_owned();
    let copy = dir.parent().expect("parent").join("copy");
    copy_tree(&dir, &copy);
    let (code, lines) = run(&["compact", "--out", &s(&copy), "--type", "demand", "--date", &date]);
    assert_eq!(code, 0);
    let old = first[0]["generation"].as_str().expect("generation").to_owned();
    let next = lines[0]["generation"].as_str().expect("generation").to_owned();
    (events, dir, p, old, next)
}

#[test]
fn a_temporary_file_of_an_interrupted_write_does_not_keep_a_replaced_generation() {
    let (_events, dir, p, old, next) = changed_partition();
    leave(&dir.join(format!("compacted/{p}/{old}/part-1.parquet.tmp-4242")), b"half a part", Duration::ZERO);
    let (code, _) = run(&["compact", "--out", &s(&dir)]);
    assert_eq!(code, 0);
    assert_eq!(generations(&dir, &p), [next], "one generation per partition");
}

#[test]
fn a_leftover_part_of_the_generation_being_built_is_not_left_beside_it() {
    let (_events, dir, p, _old, next) = changed_partition();
    leave(&dir.join(format!("compacted/{p}/{next}/part-7.parquet")), b"a part of an earlier attempt", Duration::ZERO);
    let (code, lines) = run(&["compact", "--out", &s(&dir)]);
    assert_eq!(code, 0);
    let parts: Vec<String> = strings(&lines[0]["files"])
        .iter()
        .map(|k| k.trim_start_matches(&format!("compacted/{p}/")).to_owned())
        .collect();
    assert_eq!(parquet_files(&dir, &p), parts, "only the parts the manifest names");
}
