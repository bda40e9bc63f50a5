"""A small, hand-made story in DynamoDB Streams events, whose query results are known
without computing them: fans notified about sale s-900 of event e-900, their demand,
its changes and deletions, a retried batch that archives two changes twice, and a bad
record. The expected results at the bottom are worked out by hand from the story."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/demand/stream/2026-11-01T00:00:00.000"
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def _epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _s(v):
    return {"S": v}


def _n(v):
    return {"N": str(v)}


class Story:
    def __init__(self):
        self.records = []
        self.seq = 300000000000000000100

    def change(self, name, keys, image, at, seq=None, identity=None):
        if seq is None:
            self.seq += 100
            seq = str(self.seq)
        ddb = {
            "ApproximateCreationDateTime": _epoch(at),
            "Keys": keys,
            "SequenceNumber": seq,
            "SizeBytes": 200,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        if name == "REMOVE":
            ddb["OldImage"] = image
        else:
            ddb["NewImage"] = image
        rec = {
            "eventID": f"{len(self.records) + 1:08x}" + "5c3e9d0f1a2b3c4d5e6f7a8b",
            "eventName": name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "eu-west-1",
            "dynamodb": ddb,
            "eventSourceARN": ARN,
        }
        if identity:
            rec["userIdentity"] = identity
        self.records.append(rec)
        return rec


def demand(fan, sale, requested, qty, status, phone=None, email=None):
    keys = {"pk": _s(f"FAN#{fan}"), "sk": _s(f"DEMAND#e-900#{sale}")}
    image = dict(keys, eventId=_s("e-900"), saleId=_s(sale), fanId=_s(fan), requestedDate=_s(requested),
                 quantity=_n(qty), status=_s(status), channel=_s("web"))
    if phone:
        image["phoneNumber"] = _s(phone)
    if email:
        image["email"] = _s(email)
    return keys, image


def notification(nid, fan, channel, status, sent=None, created="2026-11-09T08:00:00Z"):
    keys = {"pk": _s(f"FAN#{fan}"), "sk": _s(f"NOTIFICATION#{nid}")}
    image = dict(keys, recordType=_s("notification"), notificationId=_s(nid), fanId=_s(fan), eventId=_s("e-900"),
                 saleId=_s("s-900"), channel=_s(channel), status=_s(status), createdDate=_s(created),
                 phoneNumber=_s("+1 555 010 9000"), messageBody=_s("Tickets for e-900 go on sale soon"),
                 ttl=_n(1800000000))
    if sent:
        image["sentDate"] = _s(sent)
    return keys, image


def write(folder: Path) -> list[Path]:
    """Writes the story's event files: the main batch, then the retried batch."""
    s = Story()
    ev_keys = {"pk": _s("EVENT#e-900"), "sk": _s("EVENT#e-900")}
    s.change("INSERT", ev_keys, dict(ev_keys, eventId=_s("e-900"), createdDate=_s("2026-11-01T08:00:00Z"),
                                     name=_s("Aurora live")), "2026-11-09T07:00:00Z")
    sale_keys = {"pk": _s("EVENT#e-900"), "sk": _s("SALE#s-900")}
    s.change("INSERT", sale_keys, dict(sale_keys, saleId=_s("s-900"), eventId=_s("e-900"),
                                       createdDate=_s("2026-11-01T09:00:00Z")), "2026-11-09T07:00:01Z")
    # Notifications for sale s-900.
    s.change("INSERT", *notification("n-901", "f-901", "sms", "SENT", "2026-11-09T09:00:00Z"), "2026-11-09T09:00:00Z")
    s.change("INSERT", *notification("n-902", "f-902", "email", "SENT", "2026-11-09T09:00:00Z"), "2026-11-09T09:00:01Z")
    s.change("INSERT", *notification("n-903", "f-903", "push", "QUEUED"), "2026-11-09T09:00:02Z")
    s.change("INSERT", *notification("n-904", "f-904", "sms", "SENT", "2026-11-11T12:00:00Z"), "2026-11-11T12:00:00Z")
    s.change("INSERT", *notification("n-905", "f-905", "sms", "DELIVERED", "2026-11-09T10:00:00Z"), "2026-11-09T10:00:00Z")
    # f-901: asks, confirms, then deletes the demand.
    s.change("INSERT", *demand("f-901", "s-900", "2026-11-10T10:00:00Z", 2, "REQUESTED",
                               phone="+1 555 010 9001", email="f901@example.com"), "2026-11-10T10:00:00Z")
    s.change("MODIFY", *demand("f-901", "s-900", "2026-11-10T10:00:00Z", 4, "CONFIRMED",
                               phone="+1 555 010 9001", email="f901@example.com"), "2026-11-10T10:30:00Z")
    f901_remove = s.change("REMOVE", *demand("f-901", "s-900", "2026-11-10T10:00:00Z", 4, "CONFIRMED",
                                             phone="+1 555 010 9001", email="f901@example.com"),
                           "2026-11-11T08:00:00Z")
    # f-902: two changes in the same second; the later sequence number wins.
    s.change("INSERT", *demand("f-902", "s-900", "2026-11-10T11:00:00Z", 1, "REQUESTED"), "2026-11-10T11:00:00Z")
    s.change("MODIFY", *demand("f-902", "s-900", "2026-11-10T11:00:00Z", 3, "REQUESTED"), "2026-11-10T11:05:00Z")
    f902_last = s.change("MODIFY", *demand("f-902", "s-900", "2026-11-10T11:00:00Z", 5, "CONFIRMED"),
                         "2026-11-10T11:05:00Z")
    s.change("INSERT", *demand("f-904", "s-900", "2026-11-10T12:00:00Z", 2, "REQUESTED"), "2026-11-10T12:00:00Z")
    s.change("INSERT", *demand("f-905", "s-901", "2026-11-10T13:00:00Z", 2, "REQUESTED"), "2026-11-10T13:00:00Z")
    # n-903 fails; f-903 asks for tickets anyway.
    s.change("MODIFY", *notification("n-903", "f-903", "push", "FAILED", "2026-11-09T09:30:00Z"), "2026-11-09T09:30:00Z")
    s.change("INSERT", *demand("f-903", "s-900", "2026-11-10T14:00:00Z", 1, "REQUESTED"), "2026-11-10T14:00:00Z")
    # TTL expiry of the (sent) notification n-902.
    s.change("REMOVE", *notification("n-902", "f-902", "email", "SENT", "2026-11-09T09:00:00Z"),
             "2026-11-12T03:00:00Z", identity=TTL_IDENTITY)
    # f-906: sequence numbers of different lengths; numerically, the 22-digit one is later.
    s.change("INSERT", *demand("f-906", "s-900", "2026-11-10T15:00:00Z", 1, "REQUESTED"), "2026-11-10T15:00:00Z",
             seq="999999999999999999990")
    s.change("MODIFY", *demand("f-906", "s-900", "2026-11-10T15:00:00Z", 7, "CONFIRMED"), "2026-11-10T15:00:00Z",
             seq="1000000000000000000010")
    # A demand without fanId: a validation error.
    bad_keys, bad = demand("f-907", "s-900", "2026-11-10T16:00:00Z", 1, "REQUESTED")
    del bad["fanId"]
    s.change("INSERT", bad_keys, bad, "2026-11-10T16:00:00Z")

    folder.mkdir(parents=True, exist_ok=True)
    main = folder / "scenario-batch.json"
    main.write_text(json.dumps({"Records": s.records}), encoding="utf-8")
    # The same two changes delivered again (a retried, bisected batch): new files, the
    # same rows.
    retry = folder / "scenario-retry.json"
    retry.write_text(json.dumps({"Records": [f901_remove, f902_last]}), encoding="utf-8")
    return [main, retry]


# ---------------------------------------------------------------------------
# Expected results, worked out by hand from the story above.

# demand_latest, for event e-900: (fan, sale) -> (quantity, status, is_deleted, deletion_kind)
LATEST = {
    ("f-901", "s-900"): (4, "CONFIRMED", True, "user"),
    ("f-902", "s-900"): (5, "CONFIRMED", False, None),
    ("f-903", "s-900"): (1, "REQUESTED", False, None),
    ("f-904", "s-900"): (2, "REQUESTED", False, None),
    ("f-906", "s-900"): (7, "CONFIRMED", False, None),
    ("f-905", "s-901"): (2, "REQUESTED", False, None),
}

# live_demand_by_sale: (event, sale) -> (live_demands, tickets_requested)
LIVE_BY_SALE = {("e-900", "s-900"): (4, 15), ("e-900", "s-901"): (1, 2)}

# daily_demand for 2026-11-10: (event, sale) -> (demands, deleted, tickets_requested)
DAILY = {("e-900", "s-900"): (5, 1, 15), ("e-900", "s-901"): (1, 0, 2)}

# notification_effectiveness, sale s-900:
# sms: n-901 (f-901 asked after it, later deleted: counts), n-904 (f-904 asked before
# it: does not), n-905 (f-905 asked for another sale: does not).
# email: n-902 (expired by TTL, but it was sent; f-902 asked after it).
# push: n-903 failed: not sent.
# channel -> (notifications_sent, fans_notified, fans_with_demand_after, conversion_pct)
EFFECTIVENESS = {
    "sms": (3, 3, 1, Decimal("33.3")),
    "email": (1, 1, 1, Decimal("100.0")),
}

# deletions_by_day: (day, record_type, deletion_kind) -> deletions (the retried REMOVE
# of f-901 counts once).
DELETIONS = {("2026-11-11", "demand", "user"): 1, ("2026-11-12", "notification", "ttl"): 1}

# deleted_items between 2026-11-11 and 2026-11-13.
DELETED_ITEMS = [
    ("2026-11-11 08:00:00", "demand", "e-900#s-900#f-901", "user"),
    ("2026-11-12 03:00:00", "notification", "n-902", "ttl"),
]
