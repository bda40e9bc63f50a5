//! The test harness: where the binaries and the Python tools are, running `dmd`, and
//! reading archives back with two independent Avro readers.
//!
//! Nothing here skips: a missing tool is a test failure that says how to install it
//! (`make test` installs everything).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file of `events/`.
pub fn event(name: &str) -> PathBuf {
    root().join("events").join(name)
}

/// The sample events that are stream events (all but the one that is there to be refused).
pub fn sample_events() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("events"))
        .expect("events/ exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| !p.ends_with("not-a-stream-event.json"))
        .collect();
    v.sort();
    v
}

fn target_dir() -> PathBuf {
    // tests run from target/<profile>/deps/tests-<hash>
    let exe = std::env::current_exe().expect("current exe");
    exe.parent().and_then(Path::parent).expect("target dir").to_path_buf()
}

/// The `dmd` binary: `$DMD_BIN`, or the one built beside the test binary.
pub fn dmd_bin() -> PathBuf {
    let p = std::env::var_os("DMD_BIN").map(PathBuf::from).unwrap_or_else(|| target_dir().join("dmd"));
    assert!(
        p.exists(),
        "{} is missing: build it first (`make bins`, or `cargo build --workspace --bins`)",
        p.display()
    );
    p
}

/// The Python of the project's virtualenv (fastavro and friends): `$DMD_PYTHON`, or
/// `.venv/bin/python`.
pub fn python() -> PathBuf {
    let p = std::env::var_os("DMD_PYTHON").map(PathBuf::from).unwrap_or_else(|| root().join(".venv/bin/python"));
    assert!(p.exists(), "{} is missing: create the virtualenv with `make venv`", p.display());
    p
}

/// `dmd ARGS` with extra environment, stdin closed.
pub fn dmd(args: &[&str], env: &[(&str, &str)]) -> Output {
    dmd_stdin(args, env, None)
}

/// `dmd ARGS` with `input` on standard input.
pub fn dmd_stdin(args: &[&str], env: &[(&str, &str)], input: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(dmd_bin());
    cmd.args(args).env_remove("RUST_LOG");
    for var in [
        "DATA_PREFIX",
        "ERROR_PREFIX",
        "MANIFEST_PREFIX",
        "AVRO_CODEC",
        "SYSTEM_ID",
        "DATABASE_ID",
        "MEMBER_ID",
        "PII_ATTRIBUTES",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn dmd");
    if let Some(bytes) = input {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(bytes).expect("write stdin");
    }
    child.wait_with_output().expect("dmd output")
}

/// The JSON lines of a command's standard output.
pub fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Every file below `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for e in rd {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).expect("prefix").to_string_lossy().into_owned());
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

/// A record read back: the file (relative key), the codec, and the record as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadRecord {
    pub file: String,
    pub codec: String,
    pub record: Value,
}

/// Reads every `.avro` below `dir` with apache-avro (Rust).
pub fn read_with_apache_avro(dir: &Path) -> Vec<ReadRecord> {
    let mut out = Vec::new();
    for rel in files_under(dir).into_iter().filter(|f| f.ends_with(".avro")) {
        let bytes = std::fs::read(dir.join(&rel)).expect("read avro");
        out.extend(decode_avro(&rel, &bytes));
    }
    out
}

/// Decodes one Avro container with apache-avro.
pub fn decode_avro(name: &str, bytes: &[u8]) -> Vec<ReadRecord> {
    let reader = apache_avro::Reader::new(bytes).unwrap_or_else(|e| panic!("{name}: not an Avro file: {e}"));
    let codec =
        reader.user_metadata().get("avro.codec").map(|c| String::from_utf8_lossy(c).into_owned()).unwrap_or_default();
    let codec = if codec.is_empty() { header_codec(bytes) } else { codec };
    reader
        .map(|v| ReadRecord {
            file: name.to_string(),
            codec: codec.clone(),
            record: avro_json(v.unwrap_or_else(|e| panic!("{name}: bad record: {e}"))),
        })
        .collect()
}

/// The `avro.codec` of a container header (apache-avro keeps it out of user metadata).
fn header_codec(bytes: &[u8]) -> String {
    for c in ["deflate", "snappy", "zstandard", "null"] {
        let needle = [b"\x14avro.codec".as_slice(), &[(c.len() * 2) as u8], c.as_bytes()].concat();
        if bytes.windows(needle.len()).take(4096).any(|w| w == needle.as_slice()) {
            return c.to_string();
        }
    }
    String::new()
}

/// The JSON form both readers agree on: unions unwrapped, timestamps as RFC 3339 text.
pub fn avro_json(v: apache_avro::types::Value) -> Value {
    use apache_avro::types::Value as A;
    match v {
        A::Null => Value::Null,
        A::Boolean(b) => Value::Bool(b),
        A::Long(i) => i.into(),
        A::Int(i) => i.into(),
        A::String(s) => Value::String(s),
        A::TimestampMillis(ms) => Value::String(dmd_archive::time::format_millis(ms)),
        A::Union(_, inner) => avro_json(*inner),
        A::Array(xs) => Value::Array(xs.into_iter().map(avro_json).collect()),
        A::Map(m) => {
            let sorted: BTreeMap<String, Value> = m.into_iter().map(|(k, v)| (k, avro_json(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        A::Record(fields) => {
            let sorted: BTreeMap<String, Value> = fields.into_iter().map(|(k, v)| (k, avro_json(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        other => panic!("unexpected Avro value {other:?}"),
    }
}

/// Reads every `.avro` below `dir` with fastavro (Python), through tests/py/read_avro.py.
pub fn read_with_fastavro(dir: &Path) -> Vec<ReadRecord> {
    let out =
        Command::new(python()).arg(root().join("tests/py/read_avro.py")).arg(dir).output().expect("run read_avro.py");
    assert!(out.status.success(), "fastavro failed: {}", String::from_utf8_lossy(&out.stderr));
    json_lines(&out.stdout)
        .into_iter()
        .map(|mut l| ReadRecord {
            file: l["file"].as_str().expect("file").to_string(),
            codec: l["codec"].as_str().expect("codec").to_string(),
            record: sort_keys(l["record"].take()),
        })
        .collect()
}

fn sort_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<String, Value> = m.into_iter().map(|(k, v)| (k, sort_keys(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(xs) => Value::Array(xs.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

/// The lines of every error file below `dir`.
pub fn error_lines(dir: &Path) -> Vec<Value> {
    files_under(dir)
        .into_iter()
        // Manifests and replay markers are JSON too, but not error files.
        .filter(|f| f.ends_with(".json") && !f.starts_with("manifests/") && !f.contains("replayed/"))
        .flat_map(|f| json_lines(&std::fs::read(dir.join(f)).expect("read error file")))
        .collect()
}
