#!/usr/bin/env python3
"""Write the seed corpus of the `pipeline` fuzz target into fuzz/corpus/pipeline/.

Seeds: the sample events of events/*.json (whole, and one event per record), with their
e-mail addresses and phone numbers replaced by the planted secrets of the target (also
inside Kinesis `data`), plus hand-made payloads that put the secrets in hard places: in
every form of the text (escapes, references, compatibility forms, UTF-16 and nested
base64), and, for PII that matches no pattern, in PII attributes of records that archive,
fail validation, or do not parse.
Deterministic: `python3 fuzz/make_corpus.py` rewrites the same files. After a long run,
`make fuzz-cmin` adds what the fuzzer found that reaches new code (-set_cover_merge=1).
"""
import base64
import hashlib
import json
import pathlib
import re

HERE = pathlib.Path(__file__).resolve().parent
EVENTS = HERE.parent / "events"
OUT = HERE / "corpus" / "pipeline"

EMAIL = "ana@example.com"
EMAIL2 = "bob.smith@mail.example.org"
PHONE = "+1 555 010 4477"
DIGITS = "15550104477"
ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/demand/stream/2026-11-01T00:00:00.000"
KARN = "arn:aws:kinesis:eu-west-1:123456789012:stream/dmd-demand-changes"

seeds = {}


def b64(b):
    return base64.b64encode(b if isinstance(b, bytes) else b.encode()).decode()


def add(name, payload):
    data = payload if isinstance(payload, bytes) else payload.encode()
    seeds[name] = data


def plant(text):
    """The sample events' PII replaced by the planted secrets."""
    emails = iter([EMAIL, EMAIL2] * 100)
    text = re.sub(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[a-z]+", lambda m: next(emails), text)
    text = re.sub(r"\+?1? ?\(?\d{3}\)?[ -]\d{3}-\d{4}", PHONE, text)
    return text


def plant_event(ev):
    for r in ev.get("Records", []):
        k = r.get("kinesis")
        if isinstance(k, dict) and isinstance(k.get("data"), str):
            try:
                inner = base64.b64decode(k["data"], validate=True).decode()
                k["data"] = b64(plant(inner))
            except Exception:
                pass
    return json.loads(plant(json.dumps(ev)))


# 1. The sample events, whole and one record at a time.
for path in sorted(EVENTS.glob("*.json")):
    raw = path.read_text()
    ev = json.loads(raw)
    add(f"event-{path.stem}", json.dumps(plant_event(ev), separators=(",", ":")))
    for i, r in enumerate(ev.get("Records", []) if isinstance(ev, dict) else []):
        add(f"event-{path.stem}-{i}", json.dumps(plant_event({"Records": [r]}), separators=(",", ":")))


# 2. Hand-made: every record a deletion carrying secrets in hard places.
def ddb(image, name="REMOVE", seq="111100000000009000100", extra=None, ddb_extra=None):
    d = {"ApproximateCreationDateTime": 1795086002, "OldImage": image, "SequenceNumber": seq,
         "SizeBytes": 100, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    d.update(ddb_extra or {})
    r = {"eventID": "f4d69a15df6d82861d49f3a6c8c51dc4", "eventName": name, "eventVersion": "1.1",
         "eventSource": "aws:dynamodb", "awsRegion": "eu-west-1", "dynamodb": d, "eventSourceARN": ARN}
    r.update(extra or {})
    return r


def kin(data, seq="49656822397712398451253618027165449970146245371836664834"):
    return {"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "0F3B0C2A9D7E4B1C8A6F5E4D3C2B1A09",
                        "sequenceNumber": seq, "data": data, "approximateArrivalTimestamp": 1795348800.101},
            "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": "shardId-000000000000:" + seq,
            "eventName": "aws:kinesis:record", "awsRegion": "eu-west-1", "eventSourceARN": KARN}


def change(image, name="REMOVE"):
    return {"awsRegion": "eu-west-1", "eventID": "7f9fd084-8c53-46bb-afb7-b7760541ad5f", "eventName": name,
            "userIdentity": None, "recordFormat": "application/json", "tableName": "demand",
            "dynamodb": {"ApproximateCreationDateTime": 1795348800000, "Keys": {"pk": {"S": "FAN#f-1"}},
                         "OldImage": image, "NewImage": image, "SizeBytes": 100}, "eventSource": "aws:dynamodb"}


def S(v):
    return {"S": v}


def demand(**extra):
    img = {"pk": S("FAN#f-1"), "sk": S("DEMAND#e-1#s-1"), "eventId": S("e-1"), "saleId": S("s-1"),
           "fanId": S("f-1"), "requestedDate": S("2026-11-19T09:05:12Z")}
    img.update(extra)
    return img


def notification(**extra):
    img = {"pk": S("FAN#f-1"), "sk": S("NOTIFICATION#n-1"), "notificationId": S("n-1"), "fanId": S("f-1"),
           "createdDate": S("2026-11-12T08:00:00Z"), "channel": S("sms")}
    img.update(extra)
    return img


def event(records):
    return json.dumps({"Records": records}, separators=(",", ":"))


free_text = [
    f"call {PHONE} before 2026-11-19",
    f"2026-11-19T10:15:30Z {DIGITS} 2026-11-20",
    f"order 4411 then {PHONE[1:]} then 2026-11-19",
    f"invoice 12345678901234567890{DIGITS}",
    f"{EMAIL},{EMAIL2}",
    f"mailto:{EMAIL.upper()}",
    f"x{DIGITS}y",
    "(555) 010-4477",
    "555.010.4477",
    "2026-11-19T10:15:30.5550104477Z",
    b64(EMAIL),
    "xx" + b64("  " + PHONE) + "!",
]
add("adv-free-text", event([ddb(demand(notes=S(free_text[0]), **{f"note{i}": S(t) for i, t in enumerate(free_text)}))]))
add("adv-every-type", event([ddb(demand(
    s=S(EMAIL), n={"N": DIGITS}, nf={"N": "5550104477.25"}, ne={"N": "1e400"}, b={"B": b64(EMAIL)},
    ss={"SS": [PHONE, "a", EMAIL2]}, ns={"NS": [DIGITS, "1"]}, bs={"BS": [b64(PHONE), b64(DIGITS)]},
    l={"L": [S(EMAIL), {"N": DIGITS}, {"L": [S(PHONE)]}, {"NULL": True}, {"BOOL": False}]},
    m={"M": {"k": S(EMAIL), EMAIL: S("v"), PHONE: {"M": {DIGITS: {"N": "1"}}}}},
    quantity={"N": DIGITS}, phoneNumber={"L": [S(PHONE)]}, email={"M": {"x": S(EMAIL)}},
    priceLevels={"SS": [EMAIL, "PL1"]}, status=S(PHONE), channel=S(EMAIL2), marketId=S(DIGITS),
))]))
add("adv-names", event([ddb(demand(**{EMAIL: S("x"), PHONE: {"N": "1"}, DIGITS: {"M": {EMAIL2: S("y")}},
                                      b64(EMAIL): S("z")}))]))
deep = S(EMAIL)
for i in range(140):
    deep = {"M": {f"k{i}" if i % 7 else EMAIL2: deep}} if i % 2 else {"L": [deep, S(PHONE)]}
add("adv-deep-130", event([ddb(demand(deep=deep))]))
deep = S(PHONE)
for _ in range(60):
    deep = {"M": {EMAIL: deep}}
add("adv-deep-60", event([ddb(demand(deep=deep))]))
add("adv-malformed", event([
    ddb(demand(bad={"S": 5}, email=S(EMAIL))),
    ddb(demand(bad={"N": "abc" + DIGITS}, notes=S(PHONE))),
    ddb(demand(bad={"X": EMAIL})),
    ddb(demand(bad={"S": EMAIL, "N": "1"})),
    ddb(demand(bad={})),
    ddb(demand(requestedDate=S(f"tomorrow {PHONE}"))),
    ddb(demand(requestedDate={"N": "1e400"}, email=S(EMAIL))),
    ddb(demand(quantity={"N": "1" + "0" * 30}, email=S(EMAIL))),
    ddb(demand(requestedDate=S("10000-01-01T00:00:00Z"), email=S(EMAIL))),
    ddb({"pk": S(EMAIL), "sk": S("UNKNOWN#" + PHONE), "email": S(EMAIL)}),
    ddb({"sk": S("DEMAND#" + EMAIL), "fanId": S(PHONE)}),
    ddb(notification(messageBody=S(f"Hi, call {PHONE}"), email=S(EMAIL), sentDate=S(EMAIL))),
    ddb(demand(recordType=S("Sale"), saleId=S(EMAIL), createdDate=S("2026-11-19"))),
    ddb(demand(recordType={"N": DIGITS})),
    ddb("not an image " + EMAIL),
    ddb([S(EMAIL)]),
]))
text = event([ddb(demand(email=S(EMAIL)))])
add("adv-1e400-time", text.replace('"ApproximateCreationDateTime":1795086002', '"ApproximateCreationDateTime":1e400'))
add("adv-1e400-image", text.replace('"N":', '"N":').replace('"email":{"S":"ana@example.com"}',
                                                            '"email":{"N":1e400},"z":{"S":"ana@example.com","n":1e400}'))
add("adv-surrogate", text.replace(EMAIL, "ana\\u0040example.com \\ud800").replace('"e-1"', '"\\udfff e-1"'))
add("adv-surrogate-name", text.replace('"email"', '"\\ud800' + PHONE + '"'))
add("adv-dup-eventname", text.replace('"eventName":"REMOVE"', '"eventName":"REMOVE","eventName":"INSERT"'))
add("adv-dup-eventname2", text.replace('"eventName":"REMOVE"', '"eventName":"MODIFY","eventName":"REMOVE"'))
add("adv-escaped-insert", text.replace('"eventName":"REMOVE"', '"eventName":"\\u0049NSERT"'))
add("adv-no-eventname", text.replace('"eventName":"REMOVE",', ''))
add("adv-bad-eventname", text.replace('"eventName":"REMOVE"', '"eventName":"remove ' + EMAIL + '"'))
add("adv-bad-json-record", text[:-20] + '"' + PHONE + '",}]}')
add("adv-envelope", event([ddb(demand(email=S(EMAIL)), extra={
    "eventID": EMAIL, "awsRegion": PHONE, "eventSourceARN": "arn:aws:dynamodb:x:1:table/" + EMAIL,
    "userIdentity": {"type": "Service", "principalId": PHONE}, "extra": {"x": EMAIL2}},
    ddb_extra={"SequenceNumber": DIGITS + "000", "StreamViewType": EMAIL})]))
add("adv-no-seq", event([ddb(demand(email=S(EMAIL)), ddb_extra={"SequenceNumber": None})]))
add("adv-unknown-source", event([{"eventSource": "aws:sqs", "body": EMAIL}]))
add("adv-mixed-source", event([{"eventSource": "aws:sqs", "body": EMAIL}, ddb(demand(email=S(PHONE)))]))
add("adv-not-records-array", '{"Records":{"a":"' + EMAIL + '"}}')
add("adv-json-array", '[{"Records":[]}]')
add("adv-empty-records", '{"Records":[]}')
add("adv-records-of-junk", '{"Records":[1,"' + EMAIL + '",null,[],{}]}')
add("adv-not-json", '{"Records":[' + EMAIL)

inner = change(demand(email=S(EMAIL), phoneNumber=S(PHONE), notes=S(f"x {DIGITS}")))
add("kin-good", event([kin(b64(json.dumps(inner)))]))
add("kin-insert", event([kin(b64(json.dumps(change(demand(email=S(EMAIL)), "INSERT"))))]))
add("kin-bad-base64", event([kin("%%%" + EMAIL + "%%%"), kin(b64(EMAIL) + "!"), kin(b64(PHONE)[:-1])]))
add("kin-not-json", event([kin(b64(f"hello {EMAIL} call {PHONE}")), kin(b64(b"\xff\xfe" + PHONE.encode()))]))
add("kin-array", event([kin(b64(json.dumps([inner, EMAIL]))), kin(b64(json.dumps([S(PHONE)])))]))
add("kin-scalar", event([kin(b64(json.dumps(EMAIL))), kin(b64(DIGITS)), kin(b64("null"))]))
add("kin-bad-json-object", event([kin(b64(json.dumps(inner)[:-30])), kin(b64('{"eventName":"REMOVE","x":"'
                                                                               + EMAIL + '",}'))]))
add("kin-whitespace", event([kin("  " + b64(json.dumps(inner)) + "\n")]))
add("kin-urlsafe", event([kin(base64.urlsafe_b64encode(json.dumps(inner).encode() + b"\xfb\xff").decode())]))
add("kin-dup-eventname", event([kin(b64(json.dumps(inner).replace('"eventName": "REMOVE"',
                                                                    '"eventName": "REMOVE", "eventName": "INSERT"')))]))
add("kin-micro", event([kin(b64(json.dumps(inner).replace('"SizeBytes"', '"ApproximateCreationDateTimePrecision": '
                                                                          '"MICROSECOND", "SizeBytes"')))]))
add("kin-no-data", event([{k: v for k, v in kin("x").items() if k != "kinesis"} | {"kinesis": {"x": EMAIL}}]))
add("kin-bad-time", event([kin(b64(json.dumps(inner).replace("1795348800000", "1e400")))]))

# 3. Every form of the text: secrets written as escapes, references, compatibility forms,
# other digits and separators, UTF-16 and nested base64, a quoted local part, an address
# literal. Each form in its own deletion (as a value and as a map key), then all of them
# in one deletion that fails validation (an error line whose record is an object).
LITERAL = "ana@[192.0.2.1]"
FORMS = {
    "percent": "ana%40example.com",
    "percent-nested": "ana%2540example.com",
    "percent-phone": "%2B1%20555%20010%204477",
    "ref-decimal": "ana&#64;example.com",
    "ref-hex": "ana&#x40;example&#x2E;com",
    "ref-named": "ana&commat;example&period;com",
    "ref-amp": "ana&amp;#64;example.com",
    "ref-phone": "&plus;1&nbsp;555&ndash;010&ndash;4477",
    "json-escape": "ana\\u0040example.com",
    "fullwidth-email": "ａｎａ＠ｅｘａｍｐｌｅ．ｃｏｍ",
    "fullwidth-phone": "５５５ ０１０ ４４７７",
    "nbsp-phone": "555\u00a0010\u00a04477",
    "endash-phone": "555\u2013010\u20134477",
    "minus-phone": "555\u2212010\u22124477",
    "arabic-phone": "٥٥٥ ٠١٠ ٤٤٧٧",
    "zero-width-phone": "555\u200b010\u200b4477",
    "quoted-local": '"ana"@example.com',
    "address-literal": LITERAL,
    "b64-percent": b64("ana%40example.com"),
}
for name, form in FORMS.items():
    image = demand(remark=S(f"see {form} today"), m={"M": {form: {"N": "1"}}})
    add(f"form-{name}", event([ddb(image)]))
    if not form.isascii():
        add(f"form-{name}-utf8", json.dumps({"Records": [ddb(image)]}, separators=(",", ":"), ensure_ascii=False))
add("form-binary", event([ddb(demand(
    b={"B": b64(EMAIL2.encode("utf-16-le"))}, b2={"B": b64(("x" + EMAIL).encode("utf-16-be"))},
    bs={"BS": [b64(PHONE.encode("utf-16-le")), b64(b64(EMAIL)), b64(b"\x00" + EMAIL2.encode("utf-16-le"))]},
    nested=S(b64(b64(b64(PHONE)))), literal={"B": b64(LITERAL)}))]))
text = event([ddb(demand(remark=S("@@BOLD@@")))])
# 𝟓𝟓𝟓 𝟎𝟏𝟎 𝟒𝟒𝟕𝟕 (mathematical bold digits) as JSON surrogate-pair escapes.
bold = "".join(" " if c == " " else "\\ud835\\u%04x" % (0xdfce + int(c)) for c in "555 010 4477")
add("form-surrogate-pair-digits", text.replace("@@BOLD@@", bold))
failing = demand(requestedDate=S("not a date"), **{f"f{i}": S(f) for i, f in enumerate(FORMS.values())})
add("form-all-failed", event([ddb(failing)]))
add("form-all-kinesis", event([kin(b64(json.dumps(change(demand(**{f"f{i}": S(f) for i, f in enumerate(FORMS.values())})),
                                                  ensure_ascii=False)))]))

# 4. PII that matches no pattern: gone by the rule by name (data rows, error lines whose
# record is an object) and by structure (records that do not parse: 1e400, a lone
# surrogate, nesting 200 levels deep; Kinesis data that is not JSON).
ODD = "ana.lopez(at)example.org"
NAME = "Zebulon Quixote"
unpatterned_demand = dict(email=S(ODD), phoneNumber={"L": [S("Zebulon"), S("Quixote")]}, notes={"M": {"who": S(NAME)}})
unpatterned_note = dict(messageBody=S(NAME), email={"SS": [ODD]}, phoneNumber=S("call Zebulon"))
add("name-data", event([ddb(demand(**unpatterned_demand)), ddb(notification(**unpatterned_note))]))
add("name-failed", event([
    ddb(demand(requestedDate=S("not a date"), m={"M": {"email": S(NAME), "x": {"L": [{"M": {"messageBody": S(ODD)}}]}}},
               **unpatterned_demand)),
    ddb(notification(createdDate={"BOOL": True}, **unpatterned_note)),
    ddb({"pk": S("X#1"), "sk": S("UNKNOWN#1"), "email": S(ODD), "messageBody": S(NAME)}),
]))
for kind, image in [("demand", demand(**unpatterned_demand)), ("note", notification(**unpatterned_note))]:
    text = event([ddb(image)])
    add(f"struct-1e400-{kind}", text.replace('"SizeBytes":100', '"SizeBytes":1e400'))
    add(f"struct-1e400-image-{kind}", text.replace('"fanId":{"S":"f-1"}', '"fanId":{"N":1e400}'))
    add(f"struct-surrogate-{kind}", text.replace('"f-1"', '"f-1 \\ud800"', 1))
    deep = S("end")
    for _ in range(100):
        deep = {"M": {"a": deep}}
    add(f"struct-deep-{kind}", event([ddb(dict(image, deep=deep))]))
    inner = json.dumps(change(image), separators=(",", ":"))
    add(f"struct-kin-1e400-{kind}", event([kin(b64(inner.replace('"SizeBytes":100', '"SizeBytes":1e400')))]))
    add(f"struct-kin-surrogate-{kind}", event([kin(b64(inner.replace('"f-1"', '"\\udc00f-1"', 1)))]))
    add(f"struct-kin-broken-{kind}", event([kin(b64(inner[:-40]))]))
add("struct-kin-text", event([kin(b64(f"REMOVE email {ODD} name {NAME}")),
                              kin(b64(f'{{"eventName":"REMOVE","email":"{ODD}","who":{NAME},')),
                              kin(b64(f"{{email: {ODD}}}".encode("utf-16-le")))]))
add("struct-bad-json-record", event([ddb(demand(**unpatterned_demand))])[:-3] + ',"who":' + NAME + "}]}")

OUT.mkdir(parents=True, exist_ok=True)
# Replace the seeds of an earlier run of this script; inputs merged in by `make fuzz-cmin`
# (named by their SHA-1) stay.
for old in OUT.iterdir():
    if old.name.startswith(("event-", "adv-", "kin-", "form-", "name-", "struct-")):
        old.unlink()
for name, data in sorted(seeds.items()):
    (OUT / f"{name}-{hashlib.sha1(data).hexdigest()[:8]}.json").write_bytes(data)
print(f"{len(seeds)} seeds, {sum(map(len, seeds.values()))} bytes in {OUT}")
