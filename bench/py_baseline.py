#!/usr/bin/env python3
"""The archiver in pure Python (json + fastavro, deflate): what `make bench` compares
`dmd archive` against.

It is written the way such a Lambda function usually is in Python, and does the archiver's
work on each Lambda event file: it reads the DynamoDB Streams or Kinesis records, takes
NewImage (INSERT, MODIFY) or OldImage (REMOVE), redacts the PII of deleted items, turns each
record into the columns of its type (those of crates/archive/schemas/), groups the records
by type and UTC partition date, and writes one deflate Avro file per group to
OUT_DIR/data/<type>/dt=<date>/<file-id>.avro, named by the hash of its sequence numbers.
Records it cannot convert go, as JSON Lines, to OUT_DIR/errors/dt=<today>/. At the end it
prints {"archived": N, "errors": M}.

It is a reference point for the benchmarks, not part of the product: it follows the
contract on the benchmark's workload (valid records of the four types) and is simpler
elsewhere (every failure is a `validation` error; PII in other attributes of a deleted item
is found by two regular expressions).

bench/py_baseline.py OUT_DIR EVENT.json...
"""
import base64
import datetime as dt
import hashlib
import io
import json
import os
import re
import sys
import time

import fastavro

STRING, LONG, TIME, LIST = "string", "long", "time", "list"

# The attributes that have a column of their own, by record type, in column order.
WELL_KNOWN = {
    "demand": {"eventId": STRING, "saleId": STRING, "fanId": STRING, "requestedDate": TIME, "quantity": LONG,
               "status": STRING, "channel": STRING, "marketId": STRING, "priceLevels": LIST, "updatedDate": TIME,
               "phoneNumber": STRING, "email": STRING},
    "notification": {"notificationId": STRING, "fanId": STRING, "createdDate": TIME, "eventId": STRING,
                     "saleId": STRING, "channel": STRING, "status": STRING, "templateId": STRING, "sentDate": TIME,
                     "phoneNumber": STRING, "email": STRING, "messageBody": STRING},
    "event": {"eventId": STRING, "createdDate": TIME, "name": STRING, "venueId": STRING, "venueName": STRING,
              "eventDate": TIME, "timezone": STRING, "status": STRING},
    "sale": {"saleId": STRING, "eventId": STRING, "createdDate": TIME, "name": STRING, "saleType": STRING,
             "startDate": TIME, "endDate": TIME, "status": STRING},
}
REQUIRED = {"demand": ["eventId", "saleId", "fanId", "requestedDate"],
            "notification": ["notificationId", "fanId", "createdDate"],
            "event": ["eventId", "createdDate"], "sale": ["saleId", "eventId", "createdDate"]}
PARTITION = {"demand": "requestedDate", "notification": "createdDate", "event": "createdDate", "sale": "createdDate"}
PII = {"demand": ["phoneNumber", "email"], "notification": ["phoneNumber", "email", "messageBody"],
       "event": [], "sale": []}
REDACTED = "REDACTED"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE = re.compile(r"\+?[\d\s().-]{7,}")
CAMEL_HUMP = re.compile(r"(?<!^)(?=[A-Z])")
MILLIS = {"type": "long", "logicalType": "timestamp-millis"}
COLUMN_TYPES = {STRING: ["null", "string"], LONG: ["null", "long"], TIME: ["null", MILLIS],
                LIST: ["null", {"type": "array", "items": "string"}]}
DEMAND_IDS = {"system_id": os.environ.get("SYSTEM_ID"), "database_id": os.environ.get("DATABASE_ID"),
              "member_id": os.environ.get("MEMBER_ID")}


def snake(name):
    """requestedDate -> requested_date."""
    return CAMEL_HUMP.sub("_", name).lower()


def schema(kind):
    """The Avro schema of a record type: the common fields, then its well-known attributes."""
    fields = [{"name": "record_type", "type": "string"}, {"name": "change_type", "type": "string"},
              {"name": "change_id", "type": "string"}, {"name": "sequence_number", "type": "string"},
              {"name": "change_time", "type": MILLIS}, {"name": "archived_at", "type": MILLIS},
              {"name": "partition_date", "type": "string"}, {"name": "source_table", "type": ["null", "string"]},
              {"name": "keys", "type": {"type": "map", "values": "string"}}, {"name": "is_deleted", "type": "boolean"},
              {"name": "deleted_at", "type": ["null", MILLIS]}, {"name": "deletion_kind", "type": ["null", "string"]},
              {"name": "attributes", "type": {"type": "map", "values": "string"}}]
    fields += [{"name": snake(a), "type": COLUMN_TYPES[t], "default": None} for a, t in WELL_KNOWN[kind].items()]
    if kind == "demand":
        fields += [{"name": name, "type": ["null", "string"], "default": None}
                   for name in ("reference_id", "system_id", "database_id", "member_id")]
    return fastavro.parse_schema({"type": "record", "name": kind, "namespace": "dmd", "fields": fields})


SCHEMAS = {kind: schema(kind) for kind in WELL_KNOWN}


def plain(value):
    """A DynamoDB attribute value ({"S": "x"}, {"N": "1"}, ...) as a plain Python value."""
    (tag, x), = value.items()
    if tag == "N":
        return float(x) if any(c in x for c in ".eE") else int(x)
    if tag in ("S", "BOOL", "B"):
        return x
    if tag == "NULL":
        return None
    if tag == "M":
        return {k: plain(v) for k, v in x.items()}
    if tag == "L":
        return [plain(v) for v in x]
    if tag in ("SS", "NS", "BS"):
        return list(x)
    raise ValueError("bad attribute type " + tag)


def to_millis(value):
    """A timestamp (epoch seconds or milliseconds, a date, an ISO 8601 time) in epoch milliseconds."""
    if isinstance(value, (int, float)):
        return int(value * 1000) if value < 1e11 else int(value)
    if len(value) == 10:
        moment = dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
    else:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
    return int(moment.timestamp() * 1000)


def scrub(value):
    """Redacts every string of a deleted item's attribute that looks like an e-mail or a phone number."""
    if isinstance(value, str):
        return REDACTED if EMAIL.search(value) or PHONE.search(value) else value
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def as_text(value, separators=None):
    """A map value of the archive: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, separators=separators)


def record_type(item):
    """The record type: the recordType attribute, or the prefix of the sort key."""
    kind = item.get("recordType")
    if kind is None:
        kind = str(item.get("sk", "")).split("#")[0]
    kind = str(kind).lower()
    if kind not in WELL_KNOWN:
        raise KeyError("unknown_record_type")
    return kind


def source_table(change):
    """The table name: tableName (Kinesis), or the table of the stream's ARN."""
    arn = change.get("eventSourceARN", "")
    if change.get("tableName"):
        return change["tableName"]
    return arn.split("/")[1] if "/" in arn else None


def deletion_kind(change):
    """ttl for a deletion by DynamoDB's time to live, user for any other."""
    principal = (change.get("userIdentity") or {}).get("principalId")
    return "ttl" if principal == "dynamodb.amazonaws.com" else "user"


def change_millis(ddb, source):
    """ApproximateCreationDateTime in epoch milliseconds: seconds from DynamoDB Streams,
    milliseconds (or microseconds, as its precision says) from Kinesis."""
    created = ddb["ApproximateCreationDateTime"]
    if source == "aws:dynamodb":
        return int(created * 1000)
    if ddb.get("ApproximateCreationDateTimePrecision") == "MICROSECOND":
        return int(created) // 1000
    return int(created)


def convert(change, source, sequence_number, now_ms):
    """One DynamoDB change as (record type, partition date, Avro record)."""
    ddb = change["dynamodb"]
    deleted = change["eventName"] == "REMOVE"
    item = {k: plain(v) for k, v in (ddb["OldImage"] if deleted else ddb["NewImage"]).items()}
    kind = record_type(item)
    for name in REQUIRED[kind]:
        if name not in item:
            raise ValueError("validation: missing " + name)
    if deleted:
        for name in PII[kind]:
            if name in item:
                item[name] = REDACTED
    change_ms = change_millis(ddb, source)
    partition_ms = to_millis(item[PARTITION[kind]])
    date = dt.datetime.fromtimestamp(partition_ms / 1000, dt.timezone.utc).strftime("%Y-%m-%d")
    row = {"record_type": kind, "change_type": change["eventName"], "change_id": change["eventID"],
           "sequence_number": sequence_number, "change_time": change_ms, "archived_at": now_ms,
           "partition_date": date, "source_table": source_table(change),
           "keys": {k: as_text(plain(v)) for k, v in ddb["Keys"].items()}, "is_deleted": deleted,
           "deleted_at": change_ms if deleted else None, "deletion_kind": deletion_kind(change) if deleted else None}
    columns, others = WELL_KNOWN[kind], {}
    for name, value in item.items():
        column = columns.get(name)
        if column is None:
            if name != "recordType":
                others[name] = scrub(value) if deleted else value
        else:
            row[snake(name)] = to_millis(value) if column == TIME else value
    row["attributes"] = {k: as_text(v, (",", ":")) for k, v in others.items()}
    if kind == "demand":
        row["reference_id"] = f"{item['eventId']}#{item['saleId']}#{item['fanId']}"
        row.update(DEMAND_IDS)
    return kind, date, row


def unwrap(record):
    """(sequence number, DynamoDB change) of a stream record; a Kinesis record carries the change in base64."""
    if record.get("eventSource") == "aws:kinesis":
        return record["kinesis"]["sequenceNumber"], json.loads(base64.b64decode(record["kinesis"]["data"]))
    return record["dynamodb"]["SequenceNumber"], record


def write_group(out_dir, kind, date, rows):
    """Writes one data file: the records of one type and date, in stream order."""
    file_id = hashlib.sha256("".join(r["sequence_number"] for r in rows).encode()).hexdigest()[:32]
    folder = os.path.join(out_dir, "data", kind, f"dt={date}")
    os.makedirs(folder, exist_ok=True)
    buf = io.BytesIO()
    fastavro.writer(buf, SCHEMAS[kind], rows, codec="deflate")
    with open(os.path.join(folder, file_id + ".avro"), "wb") as f:
        f.write(buf.getvalue())


def write_errors(out_dir, errors):
    """Writes the records that failed as one JSON Lines file, dated by the processing day."""
    text = "".join(json.dumps(e) + "\n" for e in errors)
    folder = os.path.join(out_dir, "errors", "dt=" + time.strftime("%Y-%m-%d", time.gmtime()))
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, hashlib.sha256(text.encode()).hexdigest()[:32] + ".json"), "w") as f:
        f.write(text)


def process(event, out_dir):
    """Archives one Lambda event; returns (records archived, records failed)."""
    now_ms = int(time.time() * 1000)
    groups, errors = {}, []
    for record in event["Records"]:
        try:
            sequence_number, change = unwrap(record)
            kind, date, row = convert(change, record.get("eventSource"), sequence_number, now_ms)
        except Exception as e:  # noqa: BLE001 (any record that cannot be converted is an error record)
            errors.append({"error_type": "validation", "message": str(e), "record": record})
            continue
        groups.setdefault((kind, date), []).append(row)
    for (kind, date), rows in groups.items():
        write_group(out_dir, kind, date, rows)
    if errors:
        write_errors(out_dir, errors)
    return sum(len(rows) for rows in groups.values()), len(errors)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out_dir, archived, failed = sys.argv[1], 0, 0
    for path in sys.argv[2:]:
        with open(path) as f:
            event = json.load(f)
        n, e = process(event, out_dir)
        archived += n
        failed += e
    print(json.dumps({"archived": archived, "errors": failed}))


if __name__ == "__main__":
    main()
