//! Both copies of a partition in one canonical form, for comparing them: the Avro files
//! decoded by apache-avro, the Parquet parts by pyarrow and by DuckDB (through
//! tests/py/read_parquet.py); rows as JSON objects with timestamps as epoch
//! milliseconds and maps with sorted keys. Also the Parquet schema facts, checked
//! against the type's Avro schema (contract section 8).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::util::{self, dmd, json_lines};

/// An Avro value as canonical JSON: unions unwrapped, timestamps as epoch
/// milliseconds, maps as objects.
pub fn canon(v: apache_avro::types::Value) -> Value {
    use apache_avro::types::Value as A;
    match v {
        A::Null => Value::Null,
        A::Boolean(b) => Value::Bool(b),
        A::Long(i) | A::TimestampMillis(i) => i.into(),
        A::Int(i) => i.into(),
        A::String(s) => Value::String(s),
        A::Union(_, inner) => canon(*inner),
        A::Array(xs) => Value::Array(xs.into_iter().map(canon).collect()),
        A::Map(m) => {
            Value::Object(m.into_iter().map(|(k, v)| (k, canon(v))).collect::<BTreeMap<_, _>>().into_iter().collect())
        }
        A::Record(fields) => Value::Object(fields.into_iter().map(|(k, v)| (k, canon(v))).collect()),
        other => panic!("unexpected Avro value {other:?}"),
    }
}

/// The rows of one Avro container, in file order.
pub fn avro_rows(name: &str, bytes: &[u8]) -> Vec<Value> {
    let reader = apache_avro::Reader::new(bytes).unwrap_or_else(|e| panic!("{name}: not an Avro file: {e}"));
    reader.map(|v| canon(v.unwrap_or_else(|e| panic!("{name}: bad record: {e}")))).collect()
}

/// `<type>/dt=<date>` of a data key.
pub fn partition_of(key: &str) -> String {
    let rest = key.strip_prefix("data/").unwrap_or_else(|| panic!("{key}: not a data key"));
    rest.rsplit_once('/').expect("data key has a file name").0.to_owned()
}

/// The Avro files of each partition (`<type>/dt=<date>`), each file with its rows, files
/// in key order.
pub type AvroPartitions = BTreeMap<String, Vec<(String, Vec<Value>)>>;

/// Groups decoded data files (key, bytes) by partition.
pub fn by_partition<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> AvroPartitions {
    let mut out = AvroPartitions::new();
    for (key, bytes) in files {
        if key.starts_with("data/") && key.ends_with(".avro") {
            out.entry(partition_of(key)).or_default().push((key.to_owned(), avro_rows(key, bytes)));
        }
    }
    for files in out.values_mut() {
        files.sort_by(|a, b| a.0.cmp(&b.0));
    }
    out
}

/// The Avro files below a local archive, by partition.
pub fn folder_partitions(dir: &Path) -> AvroPartitions {
    let files: Vec<(String, Vec<u8>)> = util::files_under(dir)
        .into_iter()
        .filter(|k| k.starts_with("data/"))
        .map(|k| {
            let bytes = std::fs::read(dir.join(&k)).expect("read data file");
            (k, bytes)
        })
        .collect();
    by_partition(files.iter().map(|(k, b)| (k.as_str(), b.as_slice())))
}

/// The (change_id, sequence_number) of a row.
pub fn change_key(row: &Value) -> (String, String) {
    let text = |f: &str| row[f].as_str().unwrap_or_else(|| panic!("row without {f}: {row}")).to_owned();
    (text("change_id"), text("sequence_number"))
}

/// What a generation of a partition must hold.
#[derive(Debug)]
pub struct Expected {
    /// The first copy of each change, files in key order and rows in file order; sorted
    /// by change key.
    pub rows: Vec<Value>,
    /// Rows that repeat a change of an earlier row.
    pub duplicates: u64,
    /// Of those, how many have another `archived_at` than the copy kept (the rule "first
    /// copy in key order" is only tested when some do).
    pub differing_copies: u64,
}

pub fn expected(files: &[(String, Vec<Value>)]) -> Expected {
    let mut kept: BTreeMap<(String, String), Value> = BTreeMap::new();
    let (mut duplicates, mut differing_copies) = (0, 0);
    for (_, rows) in files {
        for row in rows {
            match kept.get(&change_key(row)) {
                Some(first) => {
                    duplicates += 1;
                    if first["archived_at"] != row["archived_at"] {
                        differing_copies += 1;
                    }
                }
                None => {
                    kept.insert(change_key(row), row.clone());
                }
            }
        }
    }
    Expected { rows: kept.into_values().collect(), duplicates, differing_copies }
}

/// Rows sorted by change key; each key must appear once.
fn sorted_unique(what: &str, mut rows: Vec<Value>) -> Vec<Value> {
    rows.sort_by_key(change_key);
    let mut seen = HashSet::new();
    for r in &rows {
        assert!(seen.insert(change_key(r)), "{what}: change {:?} appears twice", change_key(r));
    }
    rows
}

/// The rows of the parts a symlink manifest names, read by `reader` (`pyarrow` or
/// `duckdb`); `maps` replaces URI prefixes by local folders (a bucket's downloaded copy).
pub fn parquet_rows(reader: &str, manifest: &Path, maps: &[(String, &Path)]) -> Vec<Value> {
    let mut cmd = Command::new(util::python());
    cmd.arg(util::root().join("tests/py/read_parquet.py")).args(["rows", "--reader", reader, "--manifest"]);
    cmd.arg(manifest);
    for (prefix, dir) in maps {
        cmd.arg("--map").arg(format!("{prefix}={}", dir.display()));
    }
    let out = cmd.output().expect("run read_parquet.py");
    assert!(
        out.status.success(),
        "{reader} failed on {}: {}",
        manifest.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    sorted_unique(&format!("{reader} {}", manifest.display()), json_lines(&out.stdout))
}

/// Asserts two row lists are equal, naming the first row that differs.
pub fn assert_same_rows(what: &str, got: &[Value], want: &[Value]) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g, w, "{what}: row {i} differs");
    }
    assert_eq!(got.len(), want.len(), "{what}: row count");
}

/// Checks the rows of a partition's current generation (read through its manifest) by
/// pyarrow and by DuckDB against the Avro files: every column of every row.
pub fn check_rows(what: &str, manifest: &Path, maps: &[(String, &Path)], want: &Expected) {
    let by_pyarrow = parquet_rows("pyarrow", manifest, maps);
    let by_duckdb = parquet_rows("duckdb", manifest, maps);
    assert_same_rows(&format!("{what}: pyarrow vs Avro"), &by_pyarrow, &want.rows);
    assert_same_rows(&format!("{what}: DuckDB vs pyarrow"), &by_duckdb, &by_pyarrow);
}

/// The JSON line of `dmd compact` matches what the partition's Avro files hold.
pub fn check_line(line: &Value, files: &[(String, Vec<Value>)], want: &Expected) {
    let what = format!("{}/{}", line["record_type"], line["partition_date"]);
    let keys: Vec<&str> = line.as_object().expect("object").keys().map(String::as_str).collect();
    let mut expected_keys = vec![
        "avro_files",
        "bytes",
        "duplicates_dropped",
        "files",
        "generation",
        "partition_date",
        "record_type",
        "records",
        "skipped",
    ];
    expected_keys.sort_unstable();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort_unstable();
    assert_eq!(keys_sorted, expected_keys, "{what}: fields of a built partition's line");
    assert_eq!(line["skipped"], false, "{what}");
    assert_eq!(line["avro_files"], files.len(), "{what}");
    assert_eq!(line["records"], want.rows.len(), "{what}");
    assert_eq!(line["duplicates_dropped"], want.duplicates, "{what}");
    let generation = line["generation"].as_str().expect("generation");
    assert!(is_generation(generation), "{what}: {generation}");
    let parts = strings(&line["files"]);
    assert!(!parts.is_empty(), "{what}: no part");
    let (t, d) = (line["record_type"].as_str().expect("type"), line["partition_date"].as_str().expect("date"));
    for (n, part) in parts.iter().enumerate() {
        assert_eq!(*part, format!("compacted/{t}/dt={d}/{generation}/part-{n}.parquet"), "{what}");
    }
}

/// 32 lowercase hex digits.
pub fn is_generation(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The strings of a JSON array.
pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().expect("text").to_owned())
        .collect()
}

/// The schema facts of a part (see tests/py/read_parquet.py).
pub fn parquet_schema(part: &Path) -> Value {
    let out = Command::new(util::python())
        .arg(util::root().join("tests/py/read_parquet.py"))
        .arg("schema")
        .arg(part)
        .output()
        .expect("run read_parquet.py");
    assert!(out.status.success(), "schema of {}: {}", part.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("schema JSON")
}

/// The Avro schema of a type, as `dmd schema` prints it.
pub fn avro_schema(record_type: &str) -> Value {
    let out = dmd(&["schema", record_type], &[]);
    assert!(out.status.success(), "dmd schema {record_type}");
    serde_json::from_slice(&out.stdout).expect("schema JSON")
}

/// Checks a part's Parquet schema against the type's Avro schema: the same columns in
/// the same order, optional exactly where the Avro field is a union with null, the
/// contract's types, no `dt`; zstd on every column chunk; min/max statistics on every
/// chunk that holds a value (a chunk of nulls only has none to give, and must say so
/// with its null count).
pub fn check_schema(part: &Path, record_type: &str) {
    let facts = parquet_schema(part);
    let avro = avro_schema(record_type);
    let what = part.display().to_string();
    let fields = avro["fields"].as_array().expect("fields");
    let columns = facts["columns"].as_array().expect("columns");
    let names = |v: &[Value]| v.iter().map(|c| c["name"].as_str().expect("name").to_owned()).collect::<Vec<_>>();
    assert_eq!(names(columns), names(fields), "{what}: columns");
    assert!(!names(columns).iter().any(|n| n == "dt"), "{what}: a dt column");
    let leaves: BTreeMap<String, &Value> = facts["leaves"]
        .as_array()
        .expect("leaves")
        .iter()
        .map(|l| (l["path"].as_str().expect("path").to_owned(), l))
        .collect();
    for (field, column) in fields.iter().zip(columns) {
        let name = field["name"].as_str().expect("name");
        let (nullable, base) = match &field["type"] {
            Value::Array(branches) => {
                assert_eq!(branches.len(), 2, "{name}: only [null, X] unions");
                assert_eq!(branches[0], "null", "{name}");
                (true, branches[1].clone())
            }
            other => (false, other.clone()),
        };
        let want_rep = if nullable { "OPTIONAL" } else { "REQUIRED" };
        assert_eq!(column["repetition"], want_rep, "{what}: {name} nullability");
        check_type(&what, name, &base, column, &leaves);
    }
    let chunks = facts["chunks"].as_array().expect("chunks");
    let row_groups = facts["row_groups"].as_u64().expect("row groups");
    assert!(row_groups >= 1, "{what}: no row group");
    assert_eq!(chunks.len() as u64, row_groups * leaves.len() as u64, "{what}: chunks");
    for c in chunks {
        assert_eq!(c["compression"], "ZSTD", "{what}: {c}");
        assert_eq!(c["duckdb_compression"], "ZSTD", "{what}: {c}");
        if c["null_count"].as_u64() != c["num_values"].as_u64() {
            assert_eq!(c["has_min_max"], true, "{what}: min/max missing: {c}");
            assert_eq!(c["duckdb_min_max"], true, "{what}: min/max missing for DuckDB: {c}");
        }
    }
}

fn leaf<'a>(what: &str, leaves: &BTreeMap<String, &'a Value>, path: &str) -> &'a Value {
    leaves.get(path).unwrap_or_else(|| panic!("{what}: no leaf column {path}: {:?}", leaves.keys()))
}

fn assert_string_leaf(what: &str, leaves: &BTreeMap<String, &Value>, path: &str) {
    let l = leaf(what, leaves, path);
    assert_eq!(l["physical_type"], "BYTE_ARRAY", "{what}: {path}");
    assert_eq!(l["logical_type"]["Type"], "String", "{what}: {path}");
}

/// string -> STRING, long -> INT64, boolean -> BOOLEAN, timestamp-millis -> INT64
/// TIMESTAMP(MILLIS, UTC), map -> MAP<STRING, STRING>, array -> LIST<STRING>.
fn check_type(what: &str, name: &str, avro: &Value, column: &Value, leaves: &BTreeMap<String, &Value>) {
    let children = column["children"].as_array().expect("children");
    match avro {
        Value::String(s) if s == "string" => assert_string_leaf(what, leaves, name),
        Value::String(s) if s == "long" => {
            let l = leaf(what, leaves, name);
            assert_eq!(l["physical_type"], "INT64", "{what}: {name}");
            assert!(matches!(l["logical_type"]["Type"].as_str(), Some("None" | "Int")), "{what}: {name}: {l}");
        }
        Value::String(s) if s == "boolean" => {
            assert_eq!(leaf(what, leaves, name)["physical_type"], "BOOLEAN", "{what}: {name}");
        }
        Value::Object(o) if o.get("logicalType").and_then(Value::as_str) == Some("timestamp-millis") => {
            let l = leaf(what, leaves, name);
            assert_eq!(l["physical_type"], "INT64", "{what}: {name}");
            let t = &l["logical_type"];
            assert_eq!(
                (&t["Type"], &t["isAdjustedToUTC"], &t["timeUnit"]),
                (&"Timestamp".into(), &true.into(), &"milliseconds".into()),
                "{what}: {name}: {t}"
            );
        }
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("map") => {
            assert_eq!(o["values"], "string", "{name}");
            assert_eq!(column["logical_type"], "MapType()", "{what}: {name}");
            assert_eq!(children.len(), 1, "{what}: {name}");
            let kv = &children[0];
            assert_eq!((&kv["name"], &kv["repetition"]), (&"key_value".into(), &"REPEATED".into()), "{what}: {name}");
            let kv_children = names_of(kv);
            assert_eq!(kv_children, ["key", "value"], "{what}: {name}");
            assert_eq!(kv["children"][0]["repetition"], "REQUIRED", "{what}: {name}: map keys are required");
            assert_string_leaf(what, leaves, &format!("{name}.key_value.key"));
            assert_string_leaf(what, leaves, &format!("{name}.key_value.value"));
        }
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("array") => {
            assert_eq!(o["items"], "string", "{name}");
            assert_eq!(column["logical_type"], "ListType()", "{what}: {name}");
            assert_eq!(children.len(), 1, "{what}: {name}");
            let list = &children[0];
            assert_eq!((&list["name"], &list["repetition"]), (&"list".into(), &"REPEATED".into()), "{what}: {name}");
            assert_eq!(names_of(list), ["element"], "{what}: {name}");
            assert_string_leaf(what, leaves, &format!("{name}.list.element"));
        }
        other => panic!("{what}: {name}: an Avro type the contract does not map: {other}"),
    }
    if !matches!(avro, Value::Object(o) if matches!(o.get("type").and_then(Value::as_str), Some("map" | "array"))) {
        assert!(children.is_empty(), "{what}: {name} is a group");
    }
}

fn names_of(node: &Value) -> Vec<String> {
    node["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(|c| c["name"].as_str().expect("name").to_owned())
        .collect()
}
