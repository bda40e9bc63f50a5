#!/usr/bin/env python3
"""Regenerate kinesis-batch.json and kinesis-bad-records.json.

Kinesis Data Streams for DynamoDB delivers each change record as base64 JSON in
`kinesis.data`, which cannot be edited by hand. Edit the change records below
and run `python3 events/make_kinesis.py`; the output is deterministic.
"""
import base64
import datetime
import hashlib
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
REGION = "eu-west-1"
ACCOUNT = "123456789012"
TABLE = "demand"
STREAM_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/dmd-demand-changes"
INVOKE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/dmd-archiver"
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def S(v):
    return {"S": v}


def N(v):
    return {"N": str(v)}


def epoch_us(ts):
    """Epoch microseconds of an RFC 3339 timestamp, exactly."""
    t = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    delta = t - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def av_size(av):
    (t, v), = av.items()
    if t == "S":
        return len(v.encode())
    if t == "N":
        return len(v.lstrip("-").replace(".", "")) // 2 + 1
    if t in ("BOOL", "NULL"):
        return 1
    if t == "SS":
        return sum(len(x.encode()) for x in v)
    if t == "L":
        return 3 + sum(1 + av_size(x) for x in v)
    if t == "M":
        return 3 + sum(1 + len(k.encode()) + av_size(x) for k, x in v.items())
    raise ValueError(f"add a size rule for {t}")


def item_size(item):
    return sum(len(k.encode()) + av_size(v) for k, v in (item or {}).items())


def change_record(n, name, ts, new=None, old=None, ttl=False, micros=False):
    """A DynamoDB change record as Kinesis Data Streams for DynamoDB writes it."""
    image = new if new is not None else old
    keys = {"pk": image["pk"], "sk": image["sk"]}
    us = epoch_us(ts)
    d = {"ApproximateCreationDateTime": us if micros else us // 1000}
    if micros:
        d["ApproximateCreationDateTimePrecision"] = "MICROSECOND"
    d["Keys"] = keys
    if new is not None:
        d["NewImage"] = new
    if old is not None:
        d["OldImage"] = old
    d["SizeBytes"] = item_size(keys) + item_size(new) + item_size(old)
    h = hashlib.md5(f"dmd-kinesis-sample-{n}".encode()).hexdigest()
    return {
        "awsRegion": REGION,
        "eventID": f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}",
        "eventName": name,
        "userIdentity": TTL_IDENTITY if ttl else None,
        "recordFormat": "application/json",
        "tableName": TABLE,
        "dynamodb": d,
        "eventSource": "aws:dynamodb",
    }


def kinesis_record(base_seq, i, data, partition_key, arrival):
    """A Kinesis record as Lambda delivers it; data is the payload bytes."""
    seq = str(base_seq + i * 10**20)
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": seq,
            "data": data,
            "approximateArrivalTimestamp": arrival,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{seq}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": INVOKE_ROLE,
        "awsRegion": REGION,
        "eventSourceARN": STREAM_ARN,
    }


def encode(change):
    return base64.b64encode(json.dumps(change, separators=(",", ":")).encode()).decode()


def partition_key(change):
    keys = change["dynamodb"]["Keys"]
    return hashlib.md5(json.dumps(keys, sort_keys=True).encode()).hexdigest().upper()


def arrival(change):
    d = change["dynamodb"]
    div = 1e6 if d.get("ApproximateCreationDateTimePrecision") == "MICROSECOND" else 1e3
    return round(d["ApproximateCreationDateTime"] / div + 0.412, 3)


def batch(base_seq, entries):
    """entries: change records (dict) or (raw data string, partition key, arrival)."""
    out = []
    for i, e in enumerate(entries, start=1):
        if isinstance(e, dict):
            out.append(kinesis_record(base_seq, i, encode(e), partition_key(e), arrival(e)))
        else:
            out.append(kinesis_record(base_seq, i, *e))
    return {"Records": out}


def write(name, obj):
    with open(HERE / name, "w") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


# --- kinesis-batch.json ------------------------------------------------------
demand_f2001 = {
    "pk": S("FAN#f-2001"), "sk": S("DEMAND#e-3001#s-300"),
    "eventId": S("e-3001"), "saleId": S("s-300"), "fanId": S("f-2001"),
    "requestedDate": S("2026-11-20T08:00:00Z"), "quantity": N(2),
    "status": S("REQUESTED"), "channel": S("web"), "marketId": S("mkt-de"),
    "priceLevels": {"SS": ["PL1"]},
    "phoneNumber": S("+1 202 555 0120"), "email": S("mia.schulz@example.com"),
}
demand_f2001_new = dict(demand_f2001, status=S("CONFIRMED"), updatedDate=S("2026-11-20T08:05:00.123456Z"))
notif_n6001 = {
    "pk": S("FAN#f-2001"), "sk": S("NOTIFICATION#n-6001"), "recordType": S("Notification"),
    "notificationId": S("n-6001"), "fanId": S("f-2001"), "createdDate": S("2026-11-20T08:00:05Z"),
    "eventId": S("e-3001"), "saleId": S("s-300"), "channel": S("email"), "status": S("QUEUED"),
    "templateId": S("tpl-demand-received"), "email": S("mia.schulz@example.com"),
    "messageBody": S("Thanks Mia, we received your request."),
}
event_e3001 = {
    "pk": S("EVENT#e-3001"), "sk": S("EVENT#e-3001"),
    "eventId": S("e-3001"), "createdDate": S("2026-11-15T12:00:00Z"), "name": S("Northern Lights Tour"),
    "venueId": S("v-410"), "venueName": S("Hafen Halle"), "eventDate": S("2027-02-14T19:30:00+01:00"),
    "timezone": S("Europe/Berlin"), "status": S("ANNOUNCED"),
    "headliners": {"L": [S("Borealis"), S("The Auroras")]},
}
sale_s300 = {
    "pk": S("EVENT#e-3001"), "sk": S("SALE#s-300"),
    "saleId": S("s-300"), "eventId": S("e-3001"), "createdDate": S("2026-11-16T08:00:00+09:00"),
    "name": S("Fan presale"), "saleType": S("PRESALE"),
    "startDate": S("2026-11-20T08:00:00Z"), "endDate": S("2026-11-21T08:00:00Z"), "status": S("OPEN"),
}
demand_f2002 = {
    "pk": S("FAN#f-2002"), "sk": S("DEMAND#e-3001#s-300"),
    "eventId": S("e-3001"), "saleId": S("s-300"), "fanId": S("f-2002"),
    "requestedDate": S("2026-11-19T22:00:00Z"), "quantity": N(3),
    "status": S("REQUESTED"), "channel": S("app"),
    "phoneNumber": S("(202) 555-0187"), "email": S("noah.berg@example.com"),
    "notes": S("second account, same as noah.berg@example.com"),
}
notif_n6002 = {
    "pk": S("FAN#f-2003"), "sk": S("NOTIFICATION#n-6002"),
    "notificationId": S("n-6002"), "fanId": S("f-2003"), "createdDate": S("2026-11-13T10:00:00Z"),
    "channel": S("sms"), "status": S("DELIVERED"), "sentDate": S("2026-11-13T10:00:01Z"),
    "phoneNumber": S("+12025550164"), "messageBody": S("Your verification code is 771204."),
    "ttl": N(1795132800),
}

changes = [
    change_record(1, "INSERT", "2026-11-20T08:00:01.250Z", new=demand_f2001),
    change_record(2, "INSERT", "2026-11-20T08:00:05.500Z", new=notif_n6001),
    change_record(3, "MODIFY", "2026-11-20T08:05:00.123456Z", new=demand_f2001_new, old=demand_f2001, micros=True),
    change_record(4, "INSERT", "2026-11-20T08:06:00Z", new=event_e3001),
    change_record(5, "INSERT", "2026-11-20T08:06:30Z", new=sale_s300),
    change_record(6, "REMOVE", "2026-11-20T08:07:15Z", old=demand_f2002),
    change_record(7, "REMOVE", "2026-11-20T08:09:59.999Z", old=notif_n6002, ttl=True),
]
write("kinesis-batch.json", batch(49656822397712398451253618027165449870146245371836661762, changes))

# --- kinesis-bad-records.json ------------------------------------------------
good = change_record(11, "INSERT", "2026-11-22T12:00:00Z", new={
    "pk": S("FAN#f-4001"), "sk": S("DEMAND#e-3001#s-300"),
    "eventId": S("e-3001"), "saleId": S("s-300"), "fanId": S("f-4001"),
    "requestedDate": S("2026-11-22T11:59:58Z"), "quantity": N(1), "status": S("REQUESTED"),
})
write("kinesis-bad-records.json", batch(49656822397712398451253618027165449870146245371836664834, [
    ("%%%not-base64%%%", "0F3B0C2A9D7E4B1C8A6F5E4D3C2B1A09", 1795348800.101),
    good,
    (base64.b64encode(b"this is not json").decode(), "7A1C5E3B9F2D4A6C8E0B1D3F5A7C9E2B", 1795348800.733),
]))
