//! The commands README.md and events/README.md show, run as written (through `sh`, so
//! that their globs expand as a reader's shell expands them), and the facts those files
//! state that a run can check: exit codes, record counts, data files per type and date,
//! error lines, and the `attributes` each single-record sample keeps or redacts.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::util::{dmd, dmd_bin, event, json_lines, root};

/// The lines of the first ```sh block after `heading` in `file`, comments cut off and
/// continued lines (`\`) joined.
fn commands(file: &str, heading: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(file)).expect("the document");
    let after = &text[text.find(heading).unwrap_or_else(|| panic!("{file} has no {heading:?}"))..];
    let block = after.split("```sh\n").nth(1).and_then(|b| b.split("```").next()).expect("a sh block");
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for line in block.lines() {
        let line = line.split("  #").next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (line, continues) = line.strip_suffix('\\').map_or((line, false), |l| (l.trim(), true));
        match out.last_mut() {
            Some(last) if open => *last = format!("{last} {line}"),
            _ => out.push(line.to_owned()),
        }
        open = continues;
    }
    out
}

/// `command` through `sh -c` in `dir`, with `dmd` (and `cargo run --bin dmd --`) the
/// built binary and `events/` the repository's.
fn shell(dir: &Path, command: &str) -> Output {
    let command = command.replace("cargo run --bin dmd --", "dmd");
    let bin = dmd_bin();
    let path = format!("{}:{}", bin.parent().expect("bin dir").display(), std::env::var("PATH").unwrap_or_default());
    Command::new("sh")
        .arg("-c")
        .arg(&command)
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("RUST_LOG")
        .output()
        .expect("sh runs")
}

/// A folder to run commands in, with `events/` of the repository in it.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(root().join("events"), dir.path().join("events")).expect("link events/");
    dir
}

#[test]
fn the_readme_dmd_commands_run_as_written() {
    let lines = commands("README.md", "## The `dmd` command");
    let dir = workspace();
    let (mut ran, mut elsewhere) = (Vec::new(), Vec::new());
    for line in &lines {
        // Names of the reader's own resources (a bucket, a queue, a stream, a file of
        // theirs) and the build: tests/s3.rs, recover.rs, audit.rs and failure_records.rs
        // run those commands on moto.
        let placeholder = ["my-archive", " URL", " ARN", "event.json"].iter().any(|p| line.contains(p));
        if placeholder || line.starts_with("cargo build") {
            elsewhere.push(line.clone());
            continue;
        }
        let line = line.replace("/tmp/events", "generated");
        let out = shell(dir.path(), &line);
        assert!(out.status.success(), "{line}: {}", String::from_utf8_lossy(&out.stderr));
        ran.push(line);
    }
    let shown: Vec<&str> = ran.iter().map(|l| l.split_whitespace().nth(1).unwrap_or("")).collect();
    assert_eq!(shown, ["archive", "verify", "replay", "compact", "cat", "generate", "schema"], "{ran:?}");
    assert_eq!(elsewhere.len(), 6, "{elsewhere:?}");
    // What they wrote holds: the archive verifies, the generated events are there.
    let out = dmd(&["verify", "--out", &dir.path().join("archive").display().to_string()], &[]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("the verify report");
    assert!(out.status.success() && report["manifests"].as_u64() >= Some(5), "{report}");
    assert_eq!(std::fs::read_dir(dir.path().join("generated")).expect("generated events").count(), 100);
}

#[test]
fn the_events_readme_commands_run_as_written() {
    let dir = workspace();
    let lines: Vec<String> = commands("events/README.md", "# Sample Lambda events")
        .into_iter()
        .filter(|l| l.starts_with("cargo run --bin dmd"))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    for line in lines {
        let line = line.replace("/tmp/archive", "listed");
        let out = shell(dir.path(), &line);
        assert!(out.status.success(), "{line}: {}", String::from_utf8_lossy(&out.stderr));
        let summaries = json_lines(&out.stdout);
        let files = line.split_whitespace().filter(|w| w.starts_with("events/")).count();
        assert!(summaries.len() >= files, "one summary line per file: {line}");
        assert!(summaries.iter().all(|s| s["batchItemFailures"] == serde_json::json!([])), "{summaries:?}");
    }
}

/// The `| file | source | records | what it shows | expected archive |` rows.
fn table() -> Vec<(String, Option<u64>, String)> {
    let text = std::fs::read_to_string(root().join("events/README.md")).expect("events/README.md");
    text.lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split(" | ").map(|c| c.trim_matches(|ch| ch == '|' || ch == ' ')).collect();
            (cells[0].trim_matches('`').to_owned(), cells[2].parse().ok(), cells[4].to_owned())
        })
        .collect()
}

/// `N` in the text `... <what> N ...`, e.g. `8 data files`.
fn count_before(text: &str, what: &str) -> Option<u64> {
    let at = text.find(what)?;
    text[..at].split_whitespace().last()?.parse().ok()
}

#[test]
fn the_events_table_states_what_dmd_archive_writes() {
    let rows = table();
    assert_eq!(rows.len(), 9, "{rows:?}");
    for (file, records, expected) in rows {
        let dir = tempfile::tempdir().expect("tempdir");
        let out_dir = dir.path().join("archive").display().to_string();
        let out = dmd(&["archive", "--out", &out_dir, &event(&file).display().to_string()], &[]);
        let Some(records) = records else {
            assert_eq!(out.status.code(), Some(2), "{file}: {expected}");
            assert!(!dir.path().join("archive").join("data").exists(), "{file} writes nothing");
            continue;
        };
        assert!(out.status.success(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
        let summary = &json_lines(&out.stdout)[0];
        assert_eq!(summary["records"].as_u64(), Some(records), "{file}");
        // `type/dt=DATE`: N records, for each group the row names.
        let parts: Vec<&str> = expected.split('`').collect();
        for (group, after) in parts.iter().zip(parts.iter().skip(1)).skip(1).step_by(2) {
            let Some((record_type, date)) = group.split_once("/dt=") else { continue };
            let digits: String =
                after.trim_start_matches(':').trim().chars().take_while(char::is_ascii_digit).collect();
            let n: u64 = digits.parse().unwrap_or_else(|_| panic!("{file}: no count after {group}"));
            assert_eq!(summary["archived"][record_type][date].as_u64(), Some(n), "{file}: {group} in {summary}");
        }
        if let Some(files) = count_before(&expected, "data files") {
            assert_eq!(summary["files"].as_array().map(Vec::len), Some(files as usize), "{file}");
        }
        let errors = count_before(&expected, "lines").unwrap_or(0);
        assert_eq!(summary["errors"].as_u64(), Some(errors), "{file}: {expected}");
    }
}

/// What a `### \`file\`` section states of its record: `attributes` = `{...}` as a
/// whole, and bullets `- \`name\`[, \`name\`]...: \`value\`` for fields and for
/// `attributes.NAME` (a value that is JSON is compared as JSON).
fn stated_facts() -> BTreeMap<String, Vec<(String, Value)>> {
    let text = std::fs::read_to_string(root().join("events/README.md")).expect("events/README.md");
    let mut out: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
    for section in text.split("\n### `").skip(1) {
        let Some((file, body)) = section.split_once("`\n") else { continue };
        let facts = out.entry(file.to_owned()).or_default();
        if let Some(at) = body.find("`attributes` = `") {
            let json = body[at + "`attributes` = `".len()..].split('`').next().unwrap_or("");
            let value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{file}: {json}: {e}"));
            facts.push(("attributes".to_owned(), value));
        }
        for line in body.lines().filter_map(|l| l.strip_prefix("- `")) {
            let Some(at) = line.rfind(": `") else { continue };
            let value = line[at + 3..].split('`').next().unwrap_or("");
            let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
            let names = &line[..at];
            // The names are the backticked words before any parenthesis.
            let names = names.split(" (").next().unwrap_or(names);
            for name in names.split('`').step_by(2).map(|n| n.trim_matches(|c| c == ',' || c == ' ')) {
                if !name.is_empty() {
                    facts.push((name.to_owned(), value.clone()));
                }
            }
        }
    }
    out.retain(|_, facts| !facts.is_empty());
    out
}

#[test]
fn each_single_record_sample_keeps_and_redacts_what_it_states() {
    let stated = stated_facts();
    let single = ["dynamodb-insert.json", "dynamodb-modify.json", "dynamodb-remove.json", "dynamodb-ttl-remove.json"];
    assert!(single.iter().all(|f| stated.contains_key(*f)), "{stated:?}");
    let mut checked = 0;
    for file in single {
        let dir = tempfile::tempdir().expect("tempdir");
        let out_dir = dir.path().join("archive");
        let out = dmd(&["archive", "--out", &out_dir.display().to_string(), &event(file).display().to_string()], &[]);
        assert!(out.status.success(), "{file}");
        let files = crate::util::files_under(&out_dir.join("data"));
        assert_eq!(files.len(), 1, "{file}: {files:?}");
        let cat = dmd(&["cat", &out_dir.join("data").join(&files[0]).display().to_string()], &[]);
        let mut record = json_lines(&cat.stdout).remove(0);
        // `attributes` is JSON text in the file; `dmd cat` may show it parsed.
        if let Some(text) = record["attributes"].as_str().map(str::to_owned) {
            record["attributes"] = serde_json::from_str(&text).expect("attributes JSON");
        }
        for (name, value) in &stated[file] {
            let got = match name.strip_prefix("attributes.") {
                Some(attribute) => &record["attributes"][attribute],
                None => &record[name.as_str()],
            };
            // A string attribute that holds JSON text is stated as that text.
            let same = got == value || got.as_str() == Some(value.to_string().as_str());
            assert!(same, "{file}: events/README.md states {name} = {value}, the archive holds {got}");
            checked += 1;
        }
    }
    assert!(checked >= 9, "{checked} facts checked");
}
