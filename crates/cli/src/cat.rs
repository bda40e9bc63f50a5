//! `dmd cat`: Avro object container files to JSON Lines, read with `apache-avro` (an
//! implementation independent of the archive's own encoder).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{anyhow, Result};
use apache_avro::types::Value as Avro;
use serde_json::Value;

/// Prints every record of `path` as one JSON line.
pub fn print_file(path: &Path, out: &mut impl Write) -> Result<()> {
    let file = std::fs::File::open(path)?;
    // apache-avro's messages already name their cause, so its error is not chained.
    let reader = apache_avro::Reader::new(std::io::BufReader::new(file))
        .map_err(|e| anyhow!("not an Avro object container file: {e}"))?;
    for (i, value) in reader.enumerate() {
        let value = value.map_err(|e| anyhow!("record {i} is unreadable: {e}"))?;
        serde_json::to_writer(&mut *out, &to_json(value))?;
        writeln!(out)?;
    }
    Ok(())
}

/// JSON of an Avro value: unions unwrapped, maps with sorted keys, timestamps as
/// RFC 3339 text in UTC.
pub fn to_json(v: Avro) -> Value {
    match v {
        Avro::Null => Value::Null,
        Avro::Boolean(b) => Value::Bool(b),
        Avro::Int(i) => i.into(),
        Avro::Long(i) => i.into(),
        Avro::Float(f) => serde_json::Number::from_f64(f64::from(f)).map_or(Value::Null, Value::Number),
        Avro::Double(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        Avro::String(s) | Avro::Enum(_, s) => Value::String(s),
        Avro::TimestampMillis(ms) => Value::String(dmd_archive::time::format_millis(ms)),
        Avro::TimestampMicros(us) => Value::String(dmd_archive::time::format_millis(us.div_euclid(1000))),
        Avro::Union(_, inner) => to_json(*inner),
        Avro::Array(xs) => Value::Array(xs.into_iter().map(to_json).collect()),
        Avro::Map(m) => {
            let sorted: BTreeMap<String, Value> = m.into_iter().map(|(k, v)| (k, to_json(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Avro::Record(fields) => Value::Object(fields.into_iter().map(|(k, v)| (k, to_json(v))).collect()),
        other => Value::String(format!("{other:?}")),
    }
}
