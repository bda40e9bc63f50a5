//! `dmd compact --out` (contract section 8) on a folder: every change of a partition's
//! Avro files once in its Parquet generation, read back by pyarrow and by DuckDB and
//! compared column by column with the Avro files read by apache-avro; the schema the
//! contract gives; nothing written when nothing changed; only changed partitions
//! rebuilt, one generation left; a failed run leaves every partition readable and the
//! next run finishes; the Avro files are never touched. The bucket side is in
//! compact_s3.rs.

#[path = "compact_faults.rs"]
mod faults;
#[path = "compact_read.rs"]
pub mod read;
#[path = "compact_s3.rs"]
mod s3;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::{json, Value};

use crate::util::{self, dmd, json_lines};
use read::{check_line, check_rows, check_schema, expected, folder_partitions, strings, Expected};

pub fn s(p: &Path) -> String {
    p.display().to_string()
}

/// `dmd ARGS`: the exit code and the JSON lines.
pub fn run(args: &[&str]) -> (i32, Vec<Value>) {
    let out = dmd(args, &[]);
    let code = out.status.code().expect("exit code");
    assert!(code == 0 || args[0] == "compact", "dmd {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    (code, json_lines(&out.stdout))
}

/// Events to archive: four generated batches of 200 over two partition dates, the
/// records of batch 1 at every third position as a batch of their own (what Lambda
/// sends when it bisects a failed batch: the same changes again, in other files), and
/// batch 2 turned into deletions under new event ids (a REMOVE-heavy batch).
pub struct Events {
    pub dir: tempfile::TempDir,
    pub batches: Vec<PathBuf>,
    pub bisected: PathBuf,
    pub removes: PathBuf,
    /// Batch 3, demand and notification records only: touches some partitions.
    pub extra: PathBuf,
    /// The PII strings of the deleted items of `removes`.
    pub pii: Vec<String>,
}

fn records(path: &Path) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&std::fs::read(path).expect("event file")).expect("JSON");
    v["Records"].as_array().expect("Records").clone()
}

fn write_event(path: &Path, records: Vec<Value>) {
    std::fs::write(path, serde_json::to_vec(&json!({ "Records": records })).expect("JSON")).expect("write event");
}

impl Events {
    pub fn new() -> Events {
        let dir = tempfile::tempdir().expect("tempdir");
        let gen = dir.path().join("gen");
        let out = dmd(
            &["generate", "--records", "800", "--batch", "200", "--days", "2", "--seed", "21", "--out", &s(&gen)],
            &[],
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let batches: Vec<PathBuf> = (0..4).map(|i| gen.join(format!("batch-{i:05}.json"))).collect();

        let bisected = dir.path().join("bisected.json");
        write_event(&bisected, records(&batches[1]).into_iter().step_by(3).collect());

        let mut pii = Vec::new();
        let removes: Vec<Value> = records(&batches[2])
            .into_iter()
            .enumerate()
            .map(|(i, mut r)| {
                r["eventID"] = format!("rm-{}", r["eventID"].as_str().expect("eventID")).into();
                let db = r["dynamodb"].as_object_mut().expect("dynamodb");
                if let Some(image) = db.remove("NewImage") {
                    db.insert("OldImage".into(), image);
                }
                for attr in ["phoneNumber", "email", "messageBody"] {
                    if let Some(text) = db["OldImage"][attr]["S"].as_str() {
                        pii.push(text.to_owned());
                    }
                }
                r["eventName"] = "REMOVE".into();
                if i % 4 == 0 {
                    r["userIdentity"] = json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"});
                }
                r
            })
            .collect();
        assert!(pii.len() > 50, "the REMOVE-heavy batch carries PII");
        let removes_path = dir.path().join("removes.json");
        write_event(&removes_path, removes);

        let extra = dir.path().join("extra.json");
        let sk = |r: &Value| r["dynamodb"]["Keys"]["sk"]["S"].as_str().unwrap_or_default().to_owned();
        write_event(
            &extra,
            records(&batches[3])
                .into_iter()
                .filter(|r| sk(r).starts_with("DEMAND#") || sk(r).starts_with("NOTIFICATION#"))
                .collect(),
        );
        Events { dir, batches, bisected, removes: removes_path, extra, pii }
    }

    /// What the fixture archives first, in order: batches 0 and 1, the bisected part of
    /// batch 1, the REMOVE-heavy batch.
    pub fn initial(&self) -> Vec<&Path> {
        vec![&self.batches[0], &self.batches[1], &self.bisected, &self.removes]
    }
}

/// Archives `events` one invocation each (`--out DIR` or `--bucket B`), a few
/// milliseconds apart so that copies of a change differ in `archived_at`.
pub fn archive(target: &[&str], events: &[&Path]) {
    for e in events {
        std::thread::sleep(std::time::Duration::from_millis(5));
        let mut args = vec!["archive"];
        args.extend_from_slice(target);
        let e = s(e);
        args.push(&e);
        let (code, _) = run(&args);
        assert_eq!(code, 0);
    }
}

/// Every file and folder below `dir` with its size and modification time.
fn listing(dir: &Path) -> BTreeMap<String, (u64, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            let meta = std::fs::metadata(&p).expect("metadata");
            let rel = s(p.strip_prefix(dir).expect("below"));
            out.insert(rel, (meta.len(), meta.modified().expect("mtime")));
            if meta.is_dir() {
                stack.push(p);
            }
        }
    }
    out
}

/// Every file under `data/`: bytes and modification time.
fn data_files(dir: &Path) -> BTreeMap<String, (Vec<u8>, SystemTime)> {
    util::files_under(dir)
        .into_iter()
        .filter(|k| k.starts_with("data/"))
        .map(|k| {
            let p = dir.join(&k);
            let mtime = std::fs::metadata(&p).expect("metadata").modified().expect("mtime");
            (k, (std::fs::read(&p).expect("read"), mtime))
        })
        .collect()
}

fn partition(line: &Value) -> String {
    format!("{}/dt={}", line["record_type"].as_str().expect("type"), line["partition_date"].as_str().expect("date"))
}

fn manifest_of(dir: &Path, partition: &str) -> PathBuf {
    dir.join(format!("compacted/_symlink_format_manifest/{partition}/manifest"))
}

/// The generation folders of a partition.
fn generations(dir: &Path, partition: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("compacted").join(partition))
        .map(|rd| rd.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Checks a partition that a run built: its line, its manifest (the `file://` URIs of
/// exactly the parts), one generation folder holding exactly those parts, rows by two
/// readers equal to the Avro files' changes, the schema of every part.
fn check_built(dir: &Path, line: &Value, avro: &read::AvroPartitions) -> Expected {
    let p = partition(line);
    let files = &avro[&p];
    let want = expected(files);
    check_line(line, files, &want);
    let generation = line["generation"].as_str().expect("generation");
    let parts = strings(&line["files"]);
    let manifest = std::fs::read_to_string(manifest_of(dir, &p)).expect("manifest");
    let uris: String = parts.iter().map(|k| format!("file://{}\n", dir.join(k).display())).collect();
    assert_eq!(manifest, uris, "{p}: the manifest names the parts");
    assert_eq!(generations(dir, &p), [generation], "{p}: one generation");
    // Parts only: a temporary file an interrupted write left is no part (see compact_faults.rs).
    let in_folder: Vec<String> = util::files_under(&dir.join("compacted").join(&p))
        .into_iter()
        .filter(|f| f.ends_with(".parquet"))
        .map(|f| format!("compacted/{p}/{f}"))
        .collect();
    assert_eq!(in_folder, parts, "{p}: the generation holds its parts only");
    let bytes: u64 = parts.iter().map(|k| std::fs::metadata(dir.join(k)).expect("part").len()).sum();
    assert_eq!(line["bytes"], bytes, "{p}");
    check_rows(&p, &manifest_of(dir, &p), &[], &want);
    for k in &parts {
        check_schema(&dir.join(k), line["record_type"].as_str().expect("type"));
    }
    want
}

/// A folder archive of [`Events::initial`].
fn archived() -> (Events, PathBuf) {
    let events = Events::new();
    let dir = events.dir.path().join("archive");
    archive(&["--out", &s(&dir)], &events.initial());
    (events, dir)
}

#[test]
fn a_folder_gets_every_change_once_in_parquet_that_pyarrow_and_duckdb_read_as_the_avro_holds() {
    let (events, dir) = archived();
    let data_before = data_files(&dir);
    let (code, lines) = run(&["compact", "--out", &s(&dir)]);
    assert_eq!(code, 0, "{lines:?}");
    let avro = folder_partitions(&dir);
    assert_eq!(lines.iter().map(partition).collect::<BTreeSet<_>>(), avro.keys().cloned().collect::<BTreeSet<_>>());
    assert_eq!(avro.len(), 8, "four types over two dates");
    let (mut duplicates, mut differing) = (0, 0);
    for line in &lines {
        let want = check_built(&dir, line, &avro);
        duplicates += want.duplicates;
        differing += want.differing_copies;
    }
    // The bisected batch repeated changes in other files; the copy kept is the first in
    // key order (files sorted by key, rows in file order), archived_at included.
    assert!(duplicates > 0 && differing > 0, "duplicates {duplicates}, with another archived_at {differing}");
    assert_eq!(data_files(&dir), data_before, "the Avro files are neither changed nor rewritten");

    // Deleted items: PII stays REDACTED, and none of the deleted items' PII is anywhere.
    let mut redacted = 0;
    for line in &lines {
        let rows = read::parquet_rows("pyarrow", &manifest_of(&dir, &partition(line)), &[]);
        for row in rows.iter().filter(|r| r["is_deleted"] == true) {
            for f in ["phone_number", "email", "message_body"] {
                match &row[f] {
                    Value::Null => {}
                    Value::String(v) if v == "REDACTED" => redacted += 1,
                    other => panic!("{f} of a deleted item: {other}"),
                }
            }
            let text = row.to_string();
            for secret in &events.pii {
                let quoted = serde_json::to_string(secret).expect("json");
                assert!(!text.contains(&quoted[1..quoted.len() - 1]), "PII of a deleted item in {row}");
            }
        }
    }
    assert!(redacted > 100, "{redacted} REDACTED values");
}

#[test]
fn a_second_run_with_nothing_changed_writes_nothing_and_a_generation_names_its_avro_files() {
    let (_events, dir) = archived();
    let (code, first) = run(&["compact", "--out", &s(&dir)]);
    assert_eq!(code, 0);
    let before = listing(&dir);
    let (code, again) = run(&["compact", "--out", &s(&dir)]);
    assert_eq!(code, 0);
    assert_eq!(again.len(), first.len());
    for (a, b) in first.iter().zip(&again) {
        let keys: BTreeSet<&str> = b.as_object().expect("line").keys().map(String::as_str).collect();
        let fields = [
            "record_type",
            "partition_date",
            "avro_files",
            "records",
            "duplicates_dropped",
            "generation",
            "files",
            "bytes",
        ];
        let want: BTreeSet<&str> = fields.into_iter().chain(["skipped"]).collect();
        assert_eq!(keys, want, "{b}");
        assert_eq!(b["skipped"], true);
        // The counts of the generation, from its description.
        for f in fields {
            assert_eq!(a[f], b[f], "{f}");
        }
    }
    assert_eq!(listing(&dir), before, "no file written, modified or removed");

    // The same Avro files elsewhere give the same generations.
    let other = dir.parent().expect("parent").join("copy");
    for k in util::files_under(&dir).into_iter().filter(|k| k.starts_with("data/")) {
        std::fs::create_dir_all(other.join(&k).parent().expect("parent")).expect("mkdir");
        std::fs::copy(dir.join(&k), other.join(&k)).expect("copy");
    }
    let (code, copy) = run(&["compact", "--out", &s(&other)]);
    assert_eq!(code, 0);
    let gens = |lines: &[Value]| lines.iter().map(|l| (partition(l), l["generation"].clone())).collect::<Vec<_>>();
    assert_eq!(gens(&copy), gens(&first));
}

#[test]
fn added_avro_files_rebuild_only_their_partitions_and_filters_restrict_the_run() {
    let (events, dir) = archived();
    let a = s(&dir);
    let (code, first) = run(&["compact", "--out", &a]);
    assert_eq!(code, 0);
    let old: BTreeMap<String, String> =
        first.iter().map(|l| (partition(l), l["generation"].as_str().expect("gen").to_owned())).collect();
    let data_before = data_files(&dir);
    archive(&["--out", &a], &[&events.extra]);
    let data_after = data_files(&dir);
    let changed: BTreeSet<String> =
        data_after.keys().filter(|k| !data_before.contains_key(*k)).map(|k| read::partition_of(k)).collect();
    let dates: BTreeSet<String> =
        first.iter().map(|l| l["partition_date"].as_str().expect("date").to_owned()).collect();
    let (d0, d1) = (dates.first().expect("date").clone(), dates.last().expect("date").clone());
    let want_changed: BTreeSet<String> =
        ["demand", "notification"].iter().flat_map(|t| [format!("{t}/dt={d0}"), format!("{t}/dt={d1}")]).collect();
    assert_eq!(changed, want_changed);

    // A date with no Avro file: a line per type, nothing built, nothing written.
    let before = listing(&dir);
    let (code, none) = run(&["compact", "--out", &a, "--date", "2030-01-01"]);
    assert_eq!(code, 0);
    assert_eq!(none.len(), 4);
    assert!(
        none.iter().all(|l| l["skipped"] == true && l["avro_files"] == 0 && l.get("generation").is_none()),
        "{none:?}"
    );
    // --type: only that type's partitions, here unchanged.
    let (code, sales) = run(&["compact", "--out", &a, "--type", "sale"]);
    assert_eq!(code, 0);
    assert_eq!(sales.iter().map(partition).collect::<Vec<_>>(), [format!("sale/dt={d0}"), format!("sale/dt={d1}")]);
    assert!(sales.iter().all(|l| l["skipped"] == true));
    assert_eq!(listing(&dir), before);

    // --type and --date: exactly that partition is rebuilt.
    let (code, one) = run(&["compact", "--out", &a, "--type", "demand", "--date", &d0]);
    assert_eq!(code, 0);
    assert_eq!(one.iter().map(partition).collect::<Vec<_>>(), [format!("demand/dt={d0}")]);
    let avro = folder_partitions(&dir);
    check_built(&dir, &one[0], &avro);
    assert_ne!(one[0]["generation"], old[&format!("demand/dt={d0}")]);
    for (p, g) in &old {
        if *p != format!("demand/dt={d0}") {
            assert_eq!(generations(&dir, p), [g.as_str()], "{p} untouched");
        }
    }
    // --date: that date's four partitions; the changed ones rebuilt.
    let (code, day) = run(&["compact", "--out", &a, "--date", &d1]);
    assert_eq!(code, 0);
    assert_eq!(day.len(), 4);
    for l in &day {
        let p = partition(l);
        assert_eq!(l["skipped"] == false, changed.contains(&p), "{l}");
        if changed.contains(&p) {
            check_built(&dir, l, &avro);
        }
    }
    // No filter: what is left.
    let (code, rest) = run(&["compact", "--out", &a]);
    assert_eq!(code, 0);
    let rebuilt: Vec<String> = rest.iter().filter(|l| l["skipped"] == false).map(partition).collect();
    assert_eq!(rebuilt, [format!("notification/dt={d0}")]);
    for l in &rest {
        let p = partition(l);
        if changed.contains(&p) {
            assert_ne!(l["generation"], old[&p], "{p}");
            assert_eq!(read::strings(&l["files"]).len(), 1);
        } else {
            assert_eq!(l["generation"], old[&p], "{p}");
        }
        assert_eq!(generations(&dir, &p), [l["generation"].as_str().expect("gen")], "{p}: the old generation is gone");
        let manifest = std::fs::read_to_string(manifest_of(&dir, &p)).expect("manifest");
        assert!(manifest.lines().all(|u| u.contains(l["generation"].as_str().expect("gen"))), "{manifest}");
        let want = expected(&avro[&p]);
        check_rows(&p, &manifest_of(&dir, &p), &[], &want);
    }
    assert_eq!(data_files(&dir), data_after, "the Avro files are neither changed nor rewritten");
}
