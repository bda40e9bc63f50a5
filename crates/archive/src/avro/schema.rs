//! One Avro schema per record type (`schemas/*.avsc`, loaded and checked once) and the
//! encoding plan derived from it: a field that is missing, unknown or mistyped stops the
//! start.

use std::sync::OnceLock;

use serde_json::{json, Value};

use crate::record_type::{FieldKind, RecordType};

/// The schema texts, as kept in the repository.
pub const SCHEMA_FILES: [(RecordType, &str); 4] = [
    (RecordType::Demand, include_str!("../../schemas/demand.avsc")),
    (RecordType::Notification, include_str!("../../schemas/notification.avsc")),
    (RecordType::Event, include_str!("../../schemas/event.avsc")),
    (RecordType::Sale, include_str!("../../schemas/sale.avsc")),
];

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
    /// The built-in schemas failed to load earlier in this process.
    #[error("the built-in Avro schemas do not load: {0}")]
    Builtin(String),
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
    pub fn builtin() -> Result<&'static Catalog, SchemaError> {
        static CATALOG: OnceLock<Result<Catalog, SchemaError>> = OnceLock::new();
        CATALOG.get_or_init(Catalog::load).as_ref().map_err(|e| SchemaError::Builtin(e.to_string()))
    }

    pub fn get(&self, rt: RecordType) -> &TypeSchema {
        // `load` builds the schemas in `RecordType::ALL` order.
        &self.schemas[rt as usize]
    }
}

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
}
