//! `dmd` as a user runs it: exit codes, messages, nothing written on bad input, stdin,
//! reruns, `generate`, `cat`.

use std::path::Path;

use crate::util::*;

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_explains_each_command() {
    let out = dmd(&["--help"], &[]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["archive", "cat", "generate", "schema"] {
        assert!(text.contains(cmd), "--help mentions {cmd}: {text}");
    }
    let out = dmd(&["archive", "--help"], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--out") && text.contains("--bucket") && text.contains("batchItemFailures"), "{text}");
}

#[test]
fn a_payload_that_is_not_a_stream_event_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("archive");
    let bad = event("not-a-stream-event.json");
    let res = dmd(&["archive", "--out", &s(&out), &s(&bad)], &[]);
    assert_eq!(res.status.code(), Some(2));
    let err = stderr(&res);
    assert!(err.contains("not-a-stream-event.json") && err.contains("not a stream event"), "{err}");
    assert!(res.stdout.is_empty());
    assert!(!out.exists(), "nothing may be written");
    // Also when it comes after good files: every input is checked first.
    let good = event("dynamodb-batch.json");
    let res = dmd(&["archive", "--out", &s(&out), &s(&good), &s(&bad)], &[]);
    assert_eq!(res.status.code(), Some(2), "{}", stderr(&res));
    assert!(!out.exists(), "nothing may be written");
}

#[test]
fn other_non_events_are_refused_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("archive");
    for (payload, msg) in [
        (r#"{"Records":[{"eventSource":"aws:sqs","body":"x"}]}"#, "aws:sqs"),
        ("[1,2,3]", "no Records"),
        ("{not json", "not JSON"),
        (r#"{"Records":"nope"}"#, "not an array"),
    ] {
        let res = dmd_stdin(&["archive", "--out", &s(&out), "-"], &[], Some(payload.as_bytes()));
        assert_eq!(res.status.code(), Some(2), "{payload}");
        assert!(stderr(&res).contains(msg), "{payload}: {}", stderr(&res));
        assert!(!out.exists(), "{payload}: nothing may be written");
    }
}

#[test]
fn a_batch_of_another_service_after_good_files_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("archive");
    let sqs = dir.path().join("sqs.json");
    std::fs::write(&sqs, r#"{"Records":[{"eventSource":"aws:sqs","messageId":"1","body":"x"}]}"#).expect("write");
    let good = event("dynamodb-insert.json");
    let res = dmd(&["archive", "--out", &s(&out), &s(&good), &s(&sqs)], &[]);
    assert_eq!(res.status.code(), Some(2), "{}", stderr(&res));
    assert!(stderr(&res).contains("sqs.json") && stderr(&res).contains("aws:sqs"), "{}", stderr(&res));
    assert!(res.stdout.is_empty());
    assert!(!out.exists(), "nothing may be written");
}

#[test]
fn invalid_configuration_names_the_variable_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("archive");
    let ev = event("dynamodb-insert.json");
    for (var, value) in
        [("AVRO_CODEC", "gzip"), ("DATA_PREFIX", "/abs"), ("ERROR_PREFIX", "data/"), ("RUST_LOG", "[[[")]
    {
        let res = dmd(&["archive", "--out", &s(&out), &s(&ev)], &[(var, value)]);
        assert_eq!(res.status.code(), Some(2), "{var}={value}");
        assert!(stderr(&res).contains(var), "{var}: {}", stderr(&res));
        assert!(!out.exists(), "{var}: nothing may be written");
    }
}

#[test]
fn prefixes_and_codec_come_from_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("archive");
    let res = dmd(
        &["archive", "--out", &s(&out), &s(&event("bad-records.json"))],
        &[("DATA_PREFIX", "lake/data"), ("ERROR_PREFIX", "lake/errors/"), ("AVRO_CODEC", "zstandard")],
    );
    assert!(res.status.success(), "{}", stderr(&res));
    let files = files_under(&out);
    assert!(files.iter().any(|f| f.starts_with("lake/data/demand/dt=")), "{files:?}");
    assert!(files.iter().any(|f| f.starts_with("lake/errors/dt=") && f.ends_with(".json")), "{files:?}");
    let records = read_with_apache_avro(&out);
    assert!(records.iter().all(|r| r.codec == "zstandard"));
}

#[test]
fn stdin_gives_the_same_archive_as_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let ev = event("kinesis-batch.json");
    let payload = std::fs::read(&ev).expect("read");
    let ra = dmd(&["archive", "--out", &s(&a), &s(&ev)], &[]);
    let rb = dmd_stdin(&["archive", "--out", &s(&b), "-"], &[], Some(&payload));
    assert!(ra.status.success() && rb.status.success());
    assert_eq!(files_under(&a), files_under(&b));
    let la = json_lines(&ra.stdout);
    let lb = json_lines(&rb.stdout);
    assert_eq!(la[0]["files"], lb[0]["files"]);
    assert_eq!(lb[0]["event"], "-");
}

#[test]
fn a_rerun_overwrites_its_own_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("archive");
    let events: Vec<String> = sample_events().iter().map(|p| s(p)).collect();
    let mut args = vec!["archive", "--out"];
    let out_s = s(&out);
    args.push(&out_s);
    args.extend(events.iter().map(String::as_str));
    assert!(dmd(&args, &[]).status.success());
    let first = files_under(&out);
    let before = read_with_apache_avro(&out).len();
    assert!(dmd(&args, &[]).status.success());
    assert_eq!(files_under(&out), first, "the same keys, no new files");
    assert_eq!(read_with_apache_avro(&out).len(), before, "no duplicated records");
}

#[test]
fn unwritable_output_puts_every_record_in_the_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Regular files where the data and error folders should be: every write fails (a
    // file where the output folder itself should be is refused before any work).
    let out = dir.path().join("archive");
    std::fs::create_dir(&out).expect("the output folder");
    for prefix in ["data", "errors"] {
        std::fs::write(out.join(prefix), b"in the way").expect("write");
    }
    let ev = event("bad-records.json");
    let res = dmd(&["archive", "--out", &s(&out), &s(&ev)], &[]);
    assert_eq!(res.status.code(), Some(1), "{}", stderr(&res));
    let line = &json_lines(&res.stdout)[0];
    let ids: Vec<&str> = line["batchItemFailures"]
        .as_array()
        .expect("answer")
        .iter()
        .map(|f| f["itemIdentifier"].as_str().expect("itemIdentifier"))
        .collect();
    let payload: serde_json::Value = serde_json::from_slice(&std::fs::read(&ev).expect("read")).expect("json");
    let want: Vec<&str> = payload["Records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["dynamodb"]["SequenceNumber"].as_str().expect("seq"))
        .collect();
    assert_eq!(ids, want, "every record, in stream order");
    assert_eq!(line["files"], serde_json::json!([]));
    assert!(stderr(&res).contains("could not write"), "{}", stderr(&res));
}

#[test]
fn generate_is_deterministic_and_archivable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
    for (d, seed) in [(&a, "5"), (&b, "5"), (&c, "6")] {
        let res = dmd(
            &["generate", "--records", "250", "--batch", "100", "--source", "kinesis", "--seed", seed, "--out", &s(d)],
            &[],
        );
        assert!(res.status.success(), "{}", stderr(&res));
    }
    let names = files_under(&a);
    assert_eq!(names, ["batch-00000.json", "batch-00001.json", "batch-00002.json"]);
    for n in &names {
        assert_eq!(std::fs::read(a.join(n)).expect("a"), std::fs::read(b.join(n)).expect("b"), "same seed, same bytes");
        assert_ne!(std::fs::read(a.join(n)).expect("a"), std::fs::read(c.join(n)).expect("c"), "other seed");
    }
    let out = dir.path().join("archive");
    let inputs: Vec<String> = names.iter().map(|n| s(&a.join(n))).collect();
    let mut args = vec!["archive".to_string(), "--out".into(), s(&out)];
    args.extend(inputs);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let res = dmd(&args, &[]);
    assert!(res.status.success(), "{}", stderr(&res));
    let lines = json_lines(&res.stdout);
    let total: u64 = lines.iter().map(|l| l["records"].as_u64().expect("records")).sum();
    assert_eq!(total, 250);
    let types: std::collections::BTreeSet<String> = read_with_apache_avro(&out)
        .iter()
        .map(|r| r.record["record_type"].as_str().expect("type").to_string())
        .collect();
    assert_eq!(types.len(), 4, "all four record types: {types:?}");
}

#[test]
fn cat_prints_every_record_as_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("archive");
    assert!(dmd(&["archive", "--out", &s(&out), &s(&event("dynamodb-batch.json"))], &[]).status.success());
    let files: Vec<String> =
        files_under(&out).into_iter().filter(|f| f.ends_with(".avro")).map(|f| s(&out.join(f))).collect();
    let mut args = vec!["cat"];
    args.extend(files.iter().map(String::as_str));
    let res = dmd(&args, &[]);
    assert!(res.status.success(), "{}", stderr(&res));
    let lines = json_lines(&res.stdout);
    assert_eq!(lines.len(), 12);
    let expected = read_with_apache_avro(&out);
    assert_eq!(lines.len(), expected.len());
    assert!(lines.iter().all(|l| l["record_type"].is_string() && l["keys"].is_object()));
    let bad = dmd(&["cat", &s(&event("dynamodb-batch.json"))], &[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("not an Avro"), "{}", stderr(&bad));
}

#[test]
fn schema_prints_the_avsc() {
    let res = dmd(&["schema", "sale"], &[]);
    assert!(res.status.success());
    let v: serde_json::Value = serde_json::from_slice(&res.stdout).expect("json");
    assert_eq!(v["name"], "sale");
    let on_disk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join("crates/archive/schemas/sale.avsc")).expect("avsc"))
            .expect("json");
    assert_eq!(v, on_disk);
}

#[test]
fn jobs_change_nothing_but_speed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events: Vec<String> = sample_events().iter().map(|p| s(p)).collect();
    let mut outputs = Vec::new();
    for jobs in ["1", "3"] {
        let out = s(&dir.path().join(jobs));
        let mut args = vec!["archive", "--jobs", jobs, "--out", &out];
        args.extend(events.iter().map(String::as_str));
        let res = dmd(&args, &[]);
        assert!(res.status.success(), "{}", stderr(&res));
        let lines: Vec<(serde_json::Value, serde_json::Value)> =
            json_lines(&res.stdout).into_iter().map(|l| (l["event"].clone(), l["files"].clone())).collect();
        outputs.push((lines, files_under(&dir.path().join(jobs))));
    }
    assert_eq!(outputs[0], outputs[1], "the same lines in the same order, the same files");
}

#[test]
fn a_bad_out_is_named_before_any_input_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a folder").expect("a file");
    let inputs: Vec<String> = sample_events().iter().map(|p| s(p)).collect();
    for out in [file.clone(), file.join("archive")] {
        let mut args = vec!["archive".to_owned(), "--out".to_owned(), s(&out)];
        args.extend(inputs.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let res = dmd(&args, &[]);
        assert_eq!(res.status.code(), Some(2), "{}", stderr(&res));
        let err = stderr(&res);
        assert_eq!(err.lines().count(), 1, "one line, not one per file: {err}");
        assert!(err.contains(&format!("--out {}", s(&out))) && err.contains("is not a folder"), "{err}");
        assert!(res.stdout.is_empty());
    }
}

#[test]
fn verify_where_there_is_no_archive_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let res = dmd(&["verify", "--out", &s(dir.path())], &[]);
    assert_eq!(res.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&res.stdout).expect("the report");
    assert_eq!(report["ok"], false);
    assert_eq!(report["problems"][0]["kind"], "no_archive", "{report}");
    let res = dmd(&["verify", "--out", &s(&dir.path().join("mistyped"))], &[]);
    assert_eq!(res.status.code(), Some(2));
    assert!(stderr(&res).contains("mistyped"), "{}", stderr(&res));
}

#[test]
fn a_reader_that_stops_early_ends_cat_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("archive");
    let generated = dir.path().join("events");
    let res = dmd(&["generate", "--records", "10000", "--batch", "10000", "--seed", "3", "--out", &s(&generated)], &[]);
    assert!(res.status.success(), "{}", stderr(&res));
    let batch = std::fs::read_dir(&generated).expect("generated").next().expect("a file").expect("entry").path();
    assert!(dmd(&["archive", "--out", &s(&out), &s(&batch)], &[]).status.success());
    let files: Vec<String> = files_under(&out.join("data")).iter().map(|f| s(&out.join("data").join(f))).collect();
    // `dmd cat ... | head -1`: standard output closed after the first line.
    let mut child = std::process::Command::new(dmd_bin())
        .arg("cat")
        .args(&files)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("dmd cat");
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().expect("stdout")), &mut first)
        .expect("a line");
    let res = child.wait_with_output().expect("dmd cat ends");
    assert!(first.starts_with('{'), "{first}");
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    assert!(res.stderr.is_empty(), "{}", stderr(&res));
}
