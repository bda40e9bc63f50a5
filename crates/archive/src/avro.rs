//! The Avro side: one schema per record type (`schemas/*.avsc`, loaded once), the
//! binary encoding of a record straight from its typed columns, and the object container
//! framing with its codecs.
//!
//! Records are encoded by a plan derived from the `.avsc` files rather than through
//! `apache_avro::types::Value`: no per-record schema resolution, no intermediate values.
//! `apache-avro` parses and checks the schemas here and reads the files back in `dmd cat`
//! and the tests. See <https://avro.apache.org/docs/1.11.1/specification/>.

use std::cell::RefCell;
use std::str::FromStr;
use std::sync::OnceLock;

use serde_json::{json, Value};

use crate::item::{FieldKind, RecordType};

/// The schema texts, as kept in the repository.
pub const SCHEMA_FILES: [(RecordType, &str); 4] = [
    (RecordType::Demand, include_str!("../schemas/demand.avsc")),
    (RecordType::Notification, include_str!("../schemas/notification.avsc")),
    (RecordType::Event, include_str!("../schemas/event.avsc")),
    (RecordType::Sale, include_str!("../schemas/sale.avsc")),
];

/// An Avro file codec (`AVRO_CODEC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Codec {
    Null,
    #[default]
    Deflate,
    Snappy,
    Zstandard,
}

impl Codec {
    pub const ALL: [Codec; 4] = [Codec::Null, Codec::Deflate, Codec::Snappy, Codec::Zstandard];

    /// The name in the file header (`avro.codec`) and in `AVRO_CODEC`.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Null => "null",
            Codec::Deflate => "deflate",
            Codec::Snappy => "snappy",
            Codec::Zstandard => "zstandard",
        }
    }
}

impl FromStr for Codec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Codec::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("{s:?} is not one of deflate, snappy, zstandard, null"))
    }
}

/// One column of a record, in schema order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    RecordType,
    ChangeType,
    ChangeId,
    SequenceNumber,
    ChangeTime,
    ArchivedAt,
    PartitionDate,
    SourceTable,
    Keys,
    IsDeleted,
    DeletedAt,
    DeletionKind,
    Attributes,
    /// A well-known attribute: index into the type's `TypeSpec::well_known`.
    WellKnown(usize),
    ReferenceId,
    SystemId,
    DatabaseId,
    MemberId,
}

const COMMON: [(&str, Column); 13] = [
    ("record_type", Column::RecordType),
    ("change_type", Column::ChangeType),
    ("change_id", Column::ChangeId),
    ("sequence_number", Column::SequenceNumber),
    ("change_time", Column::ChangeTime),
    ("archived_at", Column::ArchivedAt),
    ("partition_date", Column::PartitionDate),
    ("source_table", Column::SourceTable),
    ("keys", Column::Keys),
    ("is_deleted", Column::IsDeleted),
    ("deleted_at", Column::DeletedAt),
    ("deletion_kind", Column::DeletionKind),
    ("attributes", Column::Attributes),
];

const DEMAND_EXTRA: [(&str, Column); 4] = [
    ("reference_id", Column::ReferenceId),
    ("system_id", Column::SystemId),
    ("database_id", Column::DatabaseId),
    ("member_id", Column::MemberId),
];

fn ts() -> Value {
    json!({"type": "long", "logicalType": "timestamp-millis"})
}

/// The Avro type a column must have, and whether it is a nullable (defaulted) field.
fn expected_type(rt: RecordType, col: Column) -> (Value, bool) {
    let nullable = |t: Value| (json!(["null", t]), true);
    match col {
        Column::RecordType | Column::ChangeType | Column::ChangeId | Column::SequenceNumber | Column::PartitionDate => {
            (json!("string"), false)
        }
        Column::ChangeTime | Column::ArchivedAt => (ts(), false),
        Column::Keys | Column::Attributes => (json!({"type": "map", "values": "string"}), false),
        Column::IsDeleted => (json!("boolean"), false),
        Column::DeletedAt => (json!(["null", ts()]), false),
        Column::SourceTable | Column::DeletionKind => (json!(["null", "string"]), false),
        Column::ReferenceId | Column::SystemId | Column::DatabaseId | Column::MemberId => nullable(json!("string")),
        Column::WellKnown(i) => match rt.spec().well_known[i].kind {
            FieldKind::Str => nullable(json!("string")),
            FieldKind::Long => nullable(json!("long")),
            FieldKind::Timestamp => nullable(ts()),
            FieldKind::StrList => nullable(json!({"type": "array", "items": "string"})),
        },
    }
}

/// A schema that does not match what the archive writes.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("schema of {0} is not valid JSON: {1}")]
    Json(RecordType, #[source] serde_json::Error),
    #[error("schema of {0} is not a valid Avro schema: {1}")]
    Avro(RecordType, #[source] Box<apache_avro::Error>),
    #[error("schema of {0}: {1}")]
    Mismatch(RecordType, String),
}

/// A record type's schema: its text for file headers, the parsed schema, and the
/// encoding plan.
#[derive(Debug)]
pub struct TypeSchema {
    pub record_type: RecordType,
    /// Compact JSON text, written into each file's `avro.schema`.
    pub json: String,
    pub schema: apache_avro::Schema,
    pub plan: Vec<Column>,
}

impl TypeSchema {
    /// Parses and checks a schema text against the columns of `rt`.
    pub fn load(rt: RecordType, text: &str) -> Result<TypeSchema, SchemaError> {
        let value: Value = serde_json::from_str(text).map_err(|e| SchemaError::Json(rt, e))?;
        let schema = apache_avro::Schema::parse(&value).map_err(|e| SchemaError::Avro(rt, Box::new(e)))?;
        let mismatch = |m: String| SchemaError::Mismatch(rt, m);
        if value.get("name").and_then(Value::as_str) != Some(rt.as_str()) {
            return Err(mismatch(format!("the record must be named {rt}")));
        }
        let fields = value.get("fields").and_then(Value::as_array).ok_or_else(|| mismatch("no fields".into()))?;
        let spec = rt.spec();
        let mut plan = Vec::with_capacity(fields.len());
        for f in fields {
            let name = f.get("name").and_then(Value::as_str).unwrap_or_default();
            let col = COMMON
                .iter()
                .chain(if rt == RecordType::Demand { DEMAND_EXTRA.iter() } else { [].iter() })
                .find(|(n, _)| *n == name)
                .map(|(_, c)| *c)
                .or_else(|| spec.well_known.iter().position(|w| w.field == name).map(Column::WellKnown))
                .ok_or_else(|| mismatch(format!("field {name} is not a column the archive writes")))?;
            if plan.contains(&col) {
                return Err(mismatch(format!("field {name} appears twice")));
            }
            let (want, defaulted) = expected_type(rt, col);
            if f.get("type") != Some(&want) {
                return Err(mismatch(format!("field {name} must have type {want}")));
            }
            if defaulted && f.get("default") != Some(&Value::Null) {
                return Err(mismatch(format!("field {name} must have \"default\": null")));
            }
            plan.push(col);
        }
        let expected =
            COMMON.len() + spec.well_known.len() + if rt == RecordType::Demand { DEMAND_EXTRA.len() } else { 0 };
        if plan.len() != expected {
            let missing: Vec<_> = COMMON
                .iter()
                .map(|(n, _)| *n)
                .chain(spec.well_known.iter().map(|w| w.field))
                .filter(|n| !fields.iter().any(|f| f.get("name").and_then(Value::as_str) == Some(n)))
                .collect();
            return Err(mismatch(format!("fields missing: {}", missing.join(", "))));
        }
        Ok(TypeSchema { record_type: rt, json: value.to_string(), schema, plan })
    }
}

/// The four schemas, loaded and checked once per process.
#[derive(Debug)]
pub struct Catalog {
    schemas: Vec<TypeSchema>,
}

impl Catalog {
    pub fn load() -> Result<Catalog, SchemaError> {
        let schemas =
            SCHEMA_FILES.iter().map(|(rt, text)| TypeSchema::load(*rt, text)).collect::<Result<Vec<_>, _>>()?;
        Ok(Catalog { schemas })
    }

    /// The catalog of the built-in schemas. They are checked by the test suite, so a
    /// failure here is a build defect, reported at start-up by `Pipeline::new`.
    pub fn builtin() -> Result<&'static Catalog, &'static SchemaError> {
        static CATALOG: OnceLock<Result<Catalog, SchemaError>> = OnceLock::new();
        CATALOG.get_or_init(Catalog::load).as_ref()
    }

    pub fn get(&self, rt: RecordType) -> &TypeSchema {
        // `load` builds the schemas in `RecordType::ALL` order.
        &self.schemas[rt as usize]
    }
}

/// Avro's variable-length zig-zag `long`.
#[inline]
pub fn put_long(out: &mut Vec<u8>, v: i64) {
    let mut n = ((v << 1) ^ (v >> 63)) as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Avro `string` / `bytes`: length, then the bytes.
#[inline]
pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_long(out, b.len() as i64);
    out.extend_from_slice(b);
}

#[inline]
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

/// A union `["null", X]`: branch 0 for null, else branch 1 followed by the value.
#[inline]
pub fn put_null(out: &mut Vec<u8>) {
    out.push(0);
}

#[inline]
pub fn put_some(out: &mut Vec<u8>) {
    out.push(2);
}

/// The object container magic.
const MAGIC: &[u8; 4] = b"Obj\x01";

/// Writes a whole object container file: header, then one block per `(end, count)` of
/// `blocks` over `data`, each compressed with `codec`.
pub fn write_container(
    schema_json: &str,
    codec: Codec,
    sync: &[u8; 16],
    data: &[u8],
    blocks: &[(usize, u64)],
    out: &mut Vec<u8>,
) -> std::io::Result<()> {
    out.extend_from_slice(MAGIC);
    put_long(out, 2);
    put_str(out, "avro.codec");
    put_str(out, codec.name());
    put_str(out, "avro.schema");
    put_str(out, schema_json);
    put_long(out, 0);
    out.extend_from_slice(sync);
    let mut start = 0;
    let mut packed = Vec::new();
    for &(end, count) in blocks {
        let raw = &data[start..end];
        start = end;
        let body: &[u8] = match codec {
            Codec::Null => raw,
            Codec::Deflate => {
                deflate(raw, &mut packed)?;
                &packed
            }
            Codec::Snappy => {
                packed.clear();
                packed.resize(snap::raw::max_compress_len(raw.len()), 0);
                let n = snap::raw::Encoder::new().compress(raw, &mut packed).map_err(std::io::Error::other)?;
                packed.truncate(n);
                packed.extend_from_slice(&crc32fast::hash(raw).to_be_bytes());
                &packed
            }
            Codec::Zstandard => {
                packed = ZSTD.with(|z| -> std::io::Result<Vec<u8>> {
                    let mut z = z.borrow_mut();
                    let z = match &mut *z {
                        Some(z) => z,
                        slot => slot.insert(zstd::bulk::Compressor::new(ZSTD_LEVEL)?),
                    };
                    z.compress(raw)
                })?;
                &packed
            }
        };
        put_long(out, count as i64);
        put_bytes(out, body);
        out.extend_from_slice(sync);
    }
    Ok(())
}

thread_local! {
    /// Compressor state is large (tens to hundreds of KiB, zeroed on creation) and a batch
    /// has dozens of small files: each thread keeps one and resets it per block.
    static DEFLATE: RefCell<Option<flate2::Compress>> = const { RefCell::new(None) };
    static ZSTD: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
}

/// Raw deflate (RFC 1951, no zlib header) of `raw` into `out`, as Avro's deflate codec.
fn deflate(raw: &[u8], out: &mut Vec<u8>) -> std::io::Result<()> {
    DEFLATE.with(|c| {
        let mut c = c.borrow_mut();
        let c = c.get_or_insert_with(|| flate2::Compress::new(flate2::Compression::new(DEFLATE_LEVEL), false));
        c.reset();
        let start = c.total_in();
        out.clear();
        out.reserve(raw.len() / 3 + 64);
        loop {
            let consumed = usize::try_from(c.total_in() - start).map_err(std::io::Error::other)?;
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(4096));
            }
            match c.compress_vec(&raw[consumed..], out, flate2::FlushCompress::Finish).map_err(std::io::Error::other)? {
                flate2::Status::StreamEnd => return Ok(()),
                flate2::Status::Ok | flate2::Status::BufError => {}
            }
        }
    })
}

/// zlib's default level: the usual balance of size and speed.
pub const DEFLATE_LEVEL: u32 = 6;
/// zstd's default level.
pub const ZSTD_LEVEL: i32 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_schemas_load_and_cover_every_column() {
        let cat = Catalog::load().expect("schemas");
        for rt in RecordType::ALL {
            let s = cat.get(rt);
            assert_eq!(s.record_type, rt);
            for i in 0..rt.spec().well_known.len() {
                assert!(s.plan.contains(&Column::WellKnown(i)));
            }
            let canon = s.schema.canonical_form();
            assert!(canon.contains(&format!("\"name\":\"dmd.archive.{rt}\"")), "{canon}");
        }
    }

    #[test]
    fn schema_drift_is_refused() {
        let text = SCHEMA_FILES[0].1;
        let renamed = text.replacen("\"fan_id\"", "\"fanId\"", 1);
        assert!(TypeSchema::load(RecordType::Demand, &renamed).is_err());
        let retyped = text.replacen(
            "\"name\": \"quantity\",\n      \"type\": [\n        \"null\",\n        \"long\"",
            "\"name\": \"quantity\",\n      \"type\": [\n        \"null\",\n        \"int\"",
            1,
        );
        assert_ne!(retyped, text, "the test must change the schema");
        assert!(TypeSchema::load(RecordType::Demand, &retyped).is_err());
        let value: Value = serde_json::from_str(text).expect("json");
        let mut dropped = value.clone();
        dropped["fields"].as_array_mut().expect("fields").retain(|f| f["name"] != "email");
        assert!(TypeSchema::load(RecordType::Demand, &dropped.to_string()).is_err());
        assert!(TypeSchema::load(RecordType::Sale, text).is_err(), "a demand schema is not a sale schema");
    }

    #[test]
    fn zigzag() {
        let enc = |v| {
            let mut o = Vec::new();
            put_long(&mut o, v);
            o
        };
        assert_eq!(enc(0), [0]);
        assert_eq!(enc(-1), [1]);
        assert_eq!(enc(1), [2]);
        assert_eq!(enc(-64), [0x7f]);
        assert_eq!(enc(64), [0x80, 0x01]);
        assert_eq!(enc(i64::MAX).len(), 10);
    }

    #[test]
    fn one_deflate_state_serves_many_blocks() {
        use std::io::Read;
        for n in [0usize, 1, 1000, 300_000, 5] {
            let raw: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
            let mut packed = Vec::new();
            deflate(&raw, &mut packed).expect("deflate");
            let mut back = Vec::new();
            flate2::read::DeflateDecoder::new(packed.as_slice()).read_to_end(&mut back).expect("inflate");
            assert_eq!(back, raw, "{n} bytes");
        }
    }

    #[test]
    fn codec_names() {
        for c in Codec::ALL {
            assert_eq!(c.name().parse::<Codec>(), Ok(c));
        }
        assert_eq!("Snappy".parse::<Codec>(), Ok(Codec::Snappy));
        assert!("gzip".parse::<Codec>().is_err());
    }
}
