//! Realistic synthetic Lambda events (`dmd generate`), for tests, demos and benchmarks:
//! all four record types, INSERT/MODIFY/REMOVE, TTL deletions, PII where the contract
//! names it, partition dates over one to seven days, and optionally bad records of every kind.
//! The same options and seed always give the same bytes. Each generated record comes
//! with what the archive is expected to make of it.

use base64::Engine;
use serde_json::{json, Value};

use crate::envelope::Source;
use crate::error::ErrorKind;
use crate::record_type::RecordType;
use crate::time::{format_millis, Date};

mod rng;
pub use rng::Rng;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    pub records: usize,
    pub batch: usize,
    pub source: Source,
    pub seed: u64,
    /// Percentage (0 to 100) of records that are malformed or invalid.
    pub bad_percent: u32,
    /// How many UTC days (1 to 7, from 2026-11-01) the partition timestamps spread over.
    /// 1 is a batch of a few minutes of changes to items of the same day; 7 splits every
    /// batch over a week of partitions.
    pub days: u32,
}

/// The expected fate of a generated record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    Archived { record_type: RecordType, date: String },
    Failed(ErrorKind),
}

/// One generated record and its ground truth.
#[derive(Debug, Clone)]
pub struct Truth {
    pub sequence_number: String,
    pub change_id: String,
    pub change_type: &'static str,
    pub expected: Expected,
    /// PII values of a deleted item (empty for INSERT and MODIFY): none of them may
    /// appear in any output.
    pub pii: Vec<String>,
}

/// One event file.
#[derive(Debug, Clone)]
pub struct Generated {
    pub json: String,
    pub truth: Vec<Truth>,
}

/// 2026-11-01T00:00:00Z, the start of the generated partitions.
const BASE_MS: i64 = 1_793_491_200_000;
const DAY_MS: i64 = 86_400_000;

/// Generates the event files of `opts`, lazily.
pub fn generate(opts: &Options) -> impl Iterator<Item = Generated> + '_ {
    let batch = opts.batch.max(1);
    let files = opts.records.div_ceil(batch);
    (0..files).map(move |f| {
        let start = f * batch;
        let end = (start + batch).min(opts.records);
        let mut records = Vec::with_capacity(end - start);
        let mut truth = Vec::with_capacity(end - start);
        for k in start..end {
            let mut rng = Rng::new(opts.seed.wrapping_mul(1_000_003).wrapping_add(k as u64));
            let (rec, t) = record(opts, k as u64, &mut rng);
            records.push(rec);
            truth.push(t);
        }
        let json = json!({ "Records": records }).to_string();
        Generated { json, truth }
    })
}

fn s(v: impl Into<String>) -> Value {
    json!({ "S": v.into() })
}

fn n(v: impl std::fmt::Display) -> Value {
    json!({ "N": v.to_string() })
}

fn uuid(rng: &mut Rng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

/// How a bad record is broken.
#[derive(Debug, Clone, Copy)]
enum Defect {
    BadAttribute,
    NoImage,
    UnknownType,
    MissingRequired,
    BadTimestamp,
    WrongType,
    HugeQuantity,
    BadBase64,
}

fn record(opts: &Options, k: u64, rng: &mut Rng) -> (Value, Truth) {
    let record_type = match rng.below(100) {
        0..=54 => RecordType::Demand,
        55..=79 => RecordType::Notification,
        80..=89 => RecordType::Event,
        _ => RecordType::Sale,
    };
    let change_type = match rng.below(10) {
        0..=4 => "INSERT",
        5..=7 => "MODIFY",
        _ => "REMOVE",
    };
    let ttl = change_type == "REMOVE" && rng.chance(40);
    let defect = rng.chance(opts.bad_percent).then(|| {
        let all = [
            Defect::BadAttribute,
            Defect::NoImage,
            Defect::UnknownType,
            Defect::MissingRequired,
            Defect::BadTimestamp,
            Defect::WrongType,
            Defect::HugeQuantity,
            Defect::BadBase64,
        ];
        let choices = if opts.source == Source::Kinesis { &all[..] } else { &all[..7] };
        choices[rng.below(choices.len() as u64) as usize]
    });
    // Partition timestamp: one of the first `days` days, in several notations.
    let day = rng.below(u64::from(opts.days.clamp(1, 7))) as i64;
    let ms = BASE_MS + day * DAY_MS + rng.below(DAY_MS as u64) as i64;
    let (ts_value, part_ms) = match rng.below(10) {
        0 => {
            let ms = ms / DAY_MS * DAY_MS;
            (s(Date::of_millis(ms).to_string()), ms)
        }
        1 => (n(ms / 1000), ms / 1000 * 1000),
        2 => (n(ms), ms),
        3 => {
            // Five hours west of UTC: the UTC date may be the next day.
            let local = format_millis(ms - 5 * 3_600_000);
            (s(format!("{}-05:00", &local[..local.len() - 1])), ms)
        }
        _ => (s(format_millis(ms)), ms),
    };
    let date = Date::of_millis(part_ms).to_string();
    let event_id = format!("evt-{}", rng.below(40));
    let sale_id = format!("sale-{}", rng.below(120));
    let fan_id = format!("fan-{k}");
    let phone = format!("+1 555 {:03} {:04}", (k / 10_000) % 1000, k % 10_000);
    let email = format!("fan{k}.{}@example.com", opts.seed % 1000);
    let note = format!("please call me on {phone} after six");
    let mut pii = Vec::new();
    let mut item = serde_json::Map::new();
    let created = s(format_millis(ms));
    let (pk, sk) = match record_type {
        RecordType::Demand => {
            item.insert("eventId".into(), s(&event_id));
            item.insert("saleId".into(), s(&sale_id));
            item.insert("fanId".into(), s(&fan_id));
            item.insert("requestedDate".into(), ts_value);
            item.insert("quantity".into(), n(1 + rng.below(8)));
            item.insert("status".into(), s(rng.pick(&["REQUESTED", "ALLOCATED", "CANCELLED"])));
            item.insert("channel".into(), s(rng.pick(&["web", "app", "box-office"])));
            item.insert("marketId".into(), s(rng.pick(&["us", "uk", "de"])));
            item.insert("priceLevels".into(), json!({"SS": ["PL1", "PL3"]}));
            item.insert("updatedDate".into(), created.clone());
            item.insert("phoneNumber".into(), s(&phone));
            item.insert("email".into(), s(&email));
            item.insert("notes".into(), s(&note));
            item.insert(
                "contact".into(),
                json!({"M": {"preferred": s("email"), "address": s(&email), "seenAt": s(format_millis(ms))}}),
            );
            pii.extend([phone.clone(), email.clone(), note.clone()]);
            (format!("FAN#{fan_id}"), format!("DEMAND#{event_id}#{sale_id}"))
        }
        RecordType::Notification => {
            let id = format!("ntf-{k}");
            item.insert("notificationId".into(), s(&id));
            item.insert("fanId".into(), s(&fan_id));
            item.insert("createdDate".into(), ts_value);
            item.insert("eventId".into(), s(&event_id));
            item.insert("saleId".into(), s(&sale_id));
            item.insert("channel".into(), s(rng.pick(&["sms", "email", "push"])));
            item.insert("status".into(), s(rng.pick(&["SENT", "DELIVERED", "FAILED"])));
            item.insert("templateId".into(), s(format!("tpl-{}", rng.below(9))));
            item.insert("sentDate".into(), created.clone());
            item.insert("phoneNumber".into(), s(&phone));
            item.insert("email".into(), s(&email));
            let body = format!("Hi, your tickets for {event_id} are ready. Reply to {email}.");
            item.insert("messageBody".into(), s(&body));
            item.insert("ttl".into(), n(part_ms / 1000 + 90 * 86_400));
            pii.extend([phone.clone(), email.clone(), body]);
            (format!("FAN#{fan_id}"), format!("NOTIFICATION#{id}"))
        }
        RecordType::Event => {
            item.insert("eventId".into(), s(&event_id));
            item.insert("createdDate".into(), ts_value);
            item.insert("name".into(), s(format!("Show {event_id}")));
            item.insert("venueId".into(), s(format!("ven-{}", rng.below(9))));
            item.insert("venueName".into(), s("The Hall"));
            item.insert("eventDate".into(), n((part_ms + 30 * DAY_MS) / 1000));
            item.insert("timezone".into(), s("America/New_York"));
            item.insert("status".into(), s("ON_SALE"));
            item.insert("capacity".into(), n(12_000 + rng.below(5000)));
            item.insert("score".into(), n("12345678901234567890.123456789"));
            (format!("EVENT#{event_id}"), format!("EVENT#{event_id}"))
        }
        RecordType::Sale => {
            item.insert("saleId".into(), s(&sale_id));
            item.insert("eventId".into(), s(&event_id));
            item.insert("createdDate".into(), ts_value);
            item.insert("name".into(), s("Presale"));
            item.insert("saleType".into(), s(rng.pick(&["PRESALE", "GENERAL"])));
            item.insert("startDate".into(), created.clone());
            item.insert("endDate".into(), s(format_millis(ms + 3 * DAY_MS)));
            item.insert("status".into(), s("OPEN"));
            item.insert("verified".into(), json!({"BOOL": true}));
            item.insert("limits".into(), json!({"L": [n(4), {"NULL": true}]}));
            (format!("EVENT#{event_id}"), format!("SALE#{sale_id}"))
        }
    };
    if rng.chance(50) {
        let name = record_type.as_str();
        let shown = if rng.chance(50) { name.to_uppercase() } else { name.to_string() };
        item.insert("recordType".into(), s(shown));
    }
    item.insert("pk".into(), s(&pk));
    item.insert("sk".into(), s(&sk));
    let mut expected = Expected::Archived { record_type, date };
    let mut drop_image = false;
    if let Some(d) = defect {
        let (kind, attr, value) = match (d, record_type) {
            (Defect::BadAttribute, _) => (ErrorKind::Parse, "weird", json!({"X": "1"})),
            (Defect::NoImage, _) => {
                drop_image = true;
                (ErrorKind::Parse, "", Value::Null)
            }
            (Defect::UnknownType, _) => {
                item.remove("recordType");
                item.insert("sk".into(), s(format!("REFUND#{k}")));
                (ErrorKind::UnknownRecordType, "", Value::Null)
            }
            (Defect::MissingRequired, _) => {
                let req = record_type.spec().required[0];
                item.remove(req);
                (ErrorKind::Validation, "", Value::Null)
            }
            (Defect::BadTimestamp, _) => (ErrorKind::Validation, record_type.spec().partition, s("next tuesday")),
            (Defect::WrongType, RecordType::Demand) => (ErrorKind::Validation, "quantity", s("three")),
            (Defect::WrongType, _) => (ErrorKind::Validation, "status", n(3)),
            (Defect::HugeQuantity, RecordType::Demand) => {
                (ErrorKind::Conversion, "quantity", n("123456789012345678901234567890"))
            }
            (Defect::HugeQuantity, _) => (ErrorKind::Conversion, record_type.spec().partition, n("1e300")),
            (Defect::BadBase64, _) => (ErrorKind::Parse, "", Value::Null),
        };
        if !attr.is_empty() {
            item.insert(attr.into(), value);
        }
        expected = Expected::Failed(kind);
        if matches!(d, Defect::UnknownType) {
            // The item is re-keyed: keys must match the image.
        }
    }
    let sk_now = item.get("sk").cloned().unwrap_or(Value::Null);
    let keys = json!({"pk": s(&pk), "sk": sk_now});
    let change_id = uuid(rng);
    let seq = match opts.source {
        Source::DynamoDb => format!("{:021}", 100_000_000_000_000_000_000u128 + u128::from(k) * 100),
        Source::Kinesis => format!("49{:054}", 1_000_000_000u128 + u128::from(k)),
    };
    let change_ms = BASE_MS + 7 * DAY_MS + k as i64 * 37;
    let mut ddb = serde_json::Map::new();
    ddb.insert("Keys".into(), keys);
    let image = Value::Object(item);
    if !drop_image {
        match change_type {
            "INSERT" => {
                ddb.insert("NewImage".into(), image);
            }
            "MODIFY" => {
                let mut old = image.clone();
                old["status"] = s("PREVIOUS");
                ddb.insert("NewImage".into(), image);
                ddb.insert("OldImage".into(), old);
            }
            _ => {
                ddb.insert("OldImage".into(), image);
            }
        }
    }
    ddb.insert("SizeBytes".into(), json!(300 + rng.below(400)));
    let mut change = serde_json::Map::new();
    change.insert("awsRegion".into(), json!("us-east-1"));
    change.insert("eventID".into(), json!(change_id));
    change.insert("eventName".into(), json!(change_type));
    if ttl {
        change.insert("userIdentity".into(), json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"}));
    }
    let record = match opts.source {
        Source::DynamoDb => {
            let secs = change_ms / 1000;
            let frac = change_ms % 1000;
            ddb.insert(
                "ApproximateCreationDateTime".into(),
                serde_json::from_str(&format!("{secs}.{frac:03}")).unwrap_or(json!(secs)),
            );
            ddb.insert("SequenceNumber".into(), json!(seq));
            ddb.insert("StreamViewType".into(), json!("NEW_AND_OLD_IMAGES"));
            change.insert("eventVersion".into(), json!("1.1"));
            change.insert("eventSource".into(), json!("aws:dynamodb"));
            change.insert("dynamodb".into(), Value::Object(ddb));
            change.insert(
                "eventSourceARN".into(),
                json!("arn:aws:dynamodb:us-east-1:123456789012:table/demand/stream/2026-11-01T00:00:00.000"),
            );
            Value::Object(change)
        }
        Source::Kinesis => {
            if rng.chance(10) {
                ddb.insert("ApproximateCreationDateTime".into(), json!(change_ms * 1000 + 123));
                ddb.insert("ApproximateCreationDateTimePrecision".into(), json!("MICROSECOND"));
            } else {
                ddb.insert("ApproximateCreationDateTime".into(), json!(change_ms));
            }
            change.insert("recordFormat".into(), json!("application/json"));
            change.insert("tableName".into(), json!("demand"));
            change.insert("eventSource".into(), json!("aws:dynamodb"));
            change.insert("dynamodb".into(), Value::Object(ddb));
            if !ttl {
                change.insert("userIdentity".into(), Value::Null);
            }
            let text = Value::Object(change).to_string();
            let data = if matches!(defect, Some(Defect::BadBase64)) {
                "%%% not base64 %%%".to_string()
            } else {
                base64::engine::general_purpose::STANDARD.encode(text)
            };
            json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": format!("{:032X}", rng.next_u64()),
                    "sequenceNumber": seq,
                    "data": data,
                    "approximateArrivalTimestamp": (change_ms as f64) / 1000.0 + 0.2
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("shardId-000000000000:{seq}"),
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/dmd-archiver",
                "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/demand-changes"
            })
        }
    };
    let pii = if change_type == "REMOVE" { pii } else { Vec::new() };
    let truth = Truth { sequence_number: seq, change_id, change_type, expected, pii };
    (record, truth)
}

#[cfg(test)]
mod tests;
