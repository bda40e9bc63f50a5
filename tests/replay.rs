//! `dmd replay` (data contract, section 7) on a folder and on moto: the lines of an error
//! file go back through the pipeline as one batch; records that now pass land in data
//! files under the keys `dmd archive` gives them, those that fail again are listed in the
//! marker with their error; the error file is kept; a marked file is skipped unless
//! --force; --dry-run writes nothing; replaying twice writes the same keys; and the
//! archive then verifies.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::moto;
use crate::util::{self, dmd, json_lines};

/// Every file below `dir`, by key, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    util::files_under(dir).into_iter().map(|k| (k.clone(), std::fs::read(dir.join(&k)).expect("read"))).collect()
}

fn run_ok(args: &[&str]) -> Vec<Value> {
    let out = dmd(args, &[]);
    assert!(out.status.success(), "dmd {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    json_lines(&out.stdout)
}

/// An error file as an older version of the archiver might have left it: the lines of
/// `errors` (records that still fail) and three records of `dynamodb-batch.json` that the
/// current code archives. Returns the file's text and the three records.
fn half_passing(errors: &[u8]) -> (Vec<u8>, Vec<Value>) {
    let batch: Value =
        serde_json::from_slice(&std::fs::read(util::event("dynamodb-batch.json")).expect("event")).expect("json");
    let good: Vec<Value> = batch["Records"].as_array().expect("records")[..3].to_vec();
    let mut text = errors.to_vec();
    for r in &good {
        let line = json!({"error_type": "validation", "message": "refused by an older rule", "record_type": null,
            "source": "aws:dynamodb", "sequence_number": r["dynamodb"]["SequenceNumber"],
            "failed_at": "2026-11-20T10:00:00.000Z", "record": r});
        text.extend(serde_json::to_vec(&line).expect("line"));
        text.push(b'\n');
    }
    (text, good)
}

#[test]
fn replay_on_a_folder_archives_what_now_passes_and_marks_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = dir.path().join("a");
    let a = archive.display().to_string();
    run_ok(&["archive", "--out", &a, &util::event("bad-records.json").display().to_string()]);
    let first_error = util::files_under(&archive).into_iter().find(|k| k.starts_with("errors/")).expect("error file");
    let original = std::fs::read(archive.join(&first_error)).expect("read");
    let (text, good) = half_passing(&original);
    let older = "errors/dt=2026-11-20/0123456789abcdef0123456789abcdef.json";
    std::fs::create_dir_all(archive.join("errors/dt=2026-11-20")).expect("mkdir");
    std::fs::write(archive.join(older), &text).expect("write");
    let lines_of = |b: &[u8]| b.split(|c| *c == b'\n').filter(|l| !l.is_empty()).count();
    let (n_original, n_older) = (lines_of(&original), lines_of(&text));

    // --dry-run: the same answer, nothing written.
    let before = snapshot(&archive);
    let dry = run_ok(&["replay", "--out", &a, "--dry-run"]);
    assert_eq!(snapshot(&archive), before);
    assert_eq!(dry.len(), 2);

    let lines = run_ok(&["replay", "--out", &a]);
    let by_file: BTreeMap<&str, &Value> = lines.iter().map(|l| (l["error_file"].as_str().expect("key"), l)).collect();
    let (o, h) = (by_file[first_error.as_str()], by_file[older]);
    assert_eq!(
        (o["lines"].as_u64(), o["archived"].as_u64(), o["failed_again"].as_u64()),
        (Some(n_original as u64), Some(0), Some(n_original as u64))
    );
    assert_eq!(
        (h["lines"].as_u64(), h["archived"].as_u64(), h["failed_again"].as_u64()),
        (Some(n_older as u64), Some(3), Some(n_original as u64))
    );
    for l in &dry {
        let real = by_file[l["error_file"].as_str().expect("key")];
        for f in ["lines", "archived", "failed_again", "files"] {
            assert_eq!(l[f], real[f], "{f}");
        }
    }
    // The records that pass get the keys `dmd archive` gives the same records.
    let direct = dir.path().join("direct");
    let event = dir.path().join("good.json");
    std::fs::write(&event, serde_json::to_vec(&json!({"Records": good})).expect("json")).expect("write");
    run_ok(&["archive", "--out", &direct.display().to_string(), &event.display().to_string()]);
    let direct_data: Vec<String> = util::files_under(&direct).into_iter().filter(|k| k.starts_with("data/")).collect();
    let replayed: Vec<String> =
        h["files"].as_array().expect("files").iter().map(|k| k.as_str().expect("key").to_owned()).collect();
    assert_eq!(replayed, direct_data);
    // The same records, but for the time they were archived.
    let records = |dir: &Path, k: &str| -> Vec<Value> {
        let bytes = std::fs::read(dir.join(k)).expect("data file");
        util::decode_avro(k, &bytes)
            .into_iter()
            .map(|mut r| {
                r.record.as_object_mut().expect("record").remove("archived_at");
                r.record
            })
            .collect()
    };
    for k in &replayed {
        assert_eq!(records(&archive, k), records(&direct, k), "{k}");
    }
    // The marker: beside the file, the lines that failed again with their error now.
    let marker: Value = serde_json::from_slice(
        &std::fs::read(archive.join(older.replace("errors/", "errors/replayed/"))).expect("marker"),
    )
    .expect("json");
    assert_eq!(marker["error_file"], older);
    assert_eq!(marker["lines"], n_older);
    assert_eq!(marker["archived"], 3);
    assert_eq!(marker["files"], h["files"]);
    let errors = marker["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), n_original);
    let original_types: Vec<Value> = original
        .split(|c| *c == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice::<Value>(l).expect("line")["error_type"].clone())
        .collect();
    assert_eq!(errors.iter().map(|e| e["error_type"].clone()).collect::<Vec<_>>(), original_types);
    assert_eq!(
        errors.iter().map(|e| e["line"].as_u64().expect("line")).collect::<Vec<_>>(),
        (1..=n_original as u64).collect::<Vec<_>>()
    );
    assert!(errors.iter().all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())));
    // The error files are kept as they were; no new error file.
    assert_eq!(std::fs::read(archive.join(&first_error)).expect("kept"), original);
    assert_eq!(std::fs::read(archive.join(older)).expect("kept"), text);
    let error_files = |s: &BTreeMap<String, Vec<u8>>| s.keys().filter(|k| k.starts_with("errors/dt=")).count();
    let after = snapshot(&archive);
    assert_eq!(error_files(&after), 2);

    // Marked files are skipped; --force writes the same keys again.
    let again = run_ok(&["replay", "--out", &a]);
    assert!(again.iter().all(|l| l["skipped"] == "already replayed"), "{again:?}");
    assert_eq!(snapshot(&archive), after);
    let forced = run_ok(&["replay", "--out", &a, "--force"]);
    assert_eq!(
        forced.iter().map(|l| l["files"].clone()).collect::<Vec<_>>(),
        lines.iter().map(|l| l["files"].clone()).collect::<Vec<_>>()
    );
    assert_eq!(snapshot(&archive).keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>());

    // Every file is named by a manifest: the replay's names its data files and the file.
    let out = dmd(&["verify", "--out", &a], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn replay_on_a_bucket_and_by_key() {
    let rt = moto::runtime();
    let client = rt.block_on(moto::client());
    let bucket = moto::unique_bucket("replay");
    rt.block_on(moto::create_bucket(&client, &bucket));
    run_ok(&["archive", "--bucket", &bucket, &util::event("bad-records.json").display().to_string()]);
    let keys = rt.block_on(moto::keys(&client, &bucket));
    let error_file = keys.iter().find(|k| k.starts_with("errors/")).expect("error file").clone();
    let original = rt.block_on(moto::objects(&client, &bucket))[&error_file].body.clone();
    let (text, _) = half_passing(&original);
    let older = "errors/dt=2026-11-20/fedcba9876543210fedcba9876543210.json";
    rt.block_on(client.put_object().bucket(&bucket).key(older).body(text.into()).send()).expect("put");

    let lines = run_ok(&["replay", "--bucket", &bucket, older]);
    assert_eq!(lines.len(), 1, "only the file named");
    assert_eq!(lines[0]["archived"], 3);
    let keys = rt.block_on(moto::keys(&client, &bucket));
    assert!(keys.contains(&older.replace("errors/", "errors/replayed/")));
    assert!(!keys.contains(&error_file.replace("errors/", "errors/replayed/")));
    for f in lines[0]["files"].as_array().expect("files") {
        assert!(keys.contains(&f.as_str().expect("key").to_owned()), "{f}");
    }
    let out = dmd(&["replay", "--bucket", &bucket, "errors/dt=2026-11-20/none.json"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such error file"));
    // The rest, then verify.
    let rest = run_ok(&["replay", "--bucket", &bucket]);
    assert_eq!(rest.iter().filter(|l| l["skipped"].is_null()).count(), 1);
    let out = dmd(&["verify", "--bucket", &bucket], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}
