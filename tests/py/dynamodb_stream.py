#!/usr/bin/env python3
"""Makes real DynamoDB Streams records and prints them as a Lambda event.

dynamodb_stream.py TABLE > event.json

Against the DynamoDB server at AWS_ENDPOINT_URL (moto's, as tests/with-servers.sh
exports it): creates TABLE (pk/sk strings) with a NEW_AND_OLD_IMAGES stream, writes,
updates and deletes items of the four record types (demand, notification, event, sale)
with PII in phoneNumber, email, messageBody and the free-text `notes`, reads the stream
with GetRecords from every shard, and prints {"Records": [...]} with the records exactly
as the server sent them (the raw JSON, not boto3's parsed form). Stream records that
lack the Lambda event's `eventSourceARN` get the stream's ARN, as Lambda adds it.
"""
import json
import sys

import boto3

PHONE = "+1 555 010 9001"
EMAIL = "fan9001@example.com"


def s(v):
    return {"S": v}


def n(v):
    return {"N": str(v)}


ITEMS = [
    # demand, type from the sort key; requestedDate 2026-11-20 UTC
    {
        "pk": s("FAN#f-9001"), "sk": s("DEMAND#e-9001#s-901"),
        "eventId": s("e-9001"), "saleId": s("s-901"), "fanId": s("f-9001"),
        "requestedDate": s("2026-11-20T10:00:00Z"), "quantity": n(2), "status": s("PENDING"),
        "phoneNumber": s(PHONE), "email": s(EMAIL),
        "notes": s(f"call me on {PHONE} after 6pm"), "priceLevels": {"SS": ["PL1", "PL2"]},
    },
    # demand with recordType; 23:30 at -05:00 is 04:30 UTC on 2026-11-20
    {
        "pk": s("FAN#f-9002"), "sk": s("REQ#9002"), "recordType": s("demand"),
        "eventId": s("e-9001"), "saleId": s("s-901"), "fanId": s("f-9002"),
        "requestedDate": s("2026-11-19T23:30:00-05:00"), "email": s("fan9002@example.com"),
    },
    {
        "pk": s("FAN#f-9001"), "sk": s("NOTIFICATION#n-9001"),
        "notificationId": s("n-9001"), "fanId": s("f-9001"), "createdDate": s("2026-11-18T08:00:00Z"),
        "channel": s("sms"), "status": s("QUEUED"), "phoneNumber": s(PHONE), "email": s(EMAIL),
        "messageBody": s(f"Your tickets are ready, questions to {EMAIL}"),
    },
    {
        "pk": s("EVENT#e-9001"), "sk": s("EVENT#e-9001"),
        "eventId": s("e-9001"), "createdDate": s("2026-11-01T09:00:00Z"), "name": s("Borealis live"),
        "venueName": s("North Arena"), "eventDate": s("2026-12-12T20:00:00Z"), "isSeated": {"BOOL": True},
    },
    {
        "pk": s("EVENT#e-9001"), "sk": s("SALE#s-901"),
        "saleId": s("s-901"), "eventId": s("e-9001"), "createdDate": n(1793880000),
        "saleType": s("presale"), "startDate": s("2026-11-20T09:00:00Z"), "status": s("SCHEDULED"),
    },
]

UPDATES = [
    ({"pk": s("FAN#f-9001"), "sk": s("DEMAND#e-9001#s-901")},
     "SET #st = :v, updatedDate = :u", {":v": s("CONFIRMED"), ":u": s("2026-11-20T11:00:00Z")}),
    ({"pk": s("FAN#f-9001"), "sk": s("NOTIFICATION#n-9001")},
     "SET #st = :v, sentDate = :u", {":v": s("SENT"), ":u": n(1795160000123)}),
    ({"pk": s("EVENT#e-9001"), "sk": s("EVENT#e-9001")},
     "SET #st = :v", {":v": s("ON_SALE")}),
    ({"pk": s("EVENT#e-9001"), "sk": s("SALE#s-901")},
     "SET #st = :v", {":v": s("OPEN")}),
]

DELETES = [
    {"pk": s("FAN#f-9001"), "sk": s("DEMAND#e-9001#s-901")},
    {"pk": s("FAN#f-9001"), "sk": s("NOTIFICATION#n-9001")},
    {"pk": s("EVENT#e-9001"), "sk": s("SALE#s-901")},
    {"pk": s("EVENT#e-9001"), "sk": s("EVENT#e-9001")},
]


def create_table(ddb, table):
    """Creates TABLE (pk/sk strings) with a NEW_AND_OLD_IMAGES stream; returns the stream's ARN."""
    created = ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return created["TableDescription"]["LatestStreamArn"]


def main():
    table = sys.argv[1]
    ddb = boto3.client("dynamodb")
    stream_arn = create_table(ddb, table)
    for item in ITEMS:
        ddb.put_item(TableName=table, Item=item)
    for key, expr, values in UPDATES:
        ddb.update_item(TableName=table, Key=key, UpdateExpression=expr,
                        ExpressionAttributeNames={"#st": "status"}, ExpressionAttributeValues=values)
    for key in DELETES:
        ddb.delete_item(TableName=table, Key=key)

    streams = boto3.client("dynamodbstreams")
    raw = []
    # The server's own JSON, before boto3 turns timestamps into datetimes.
    streams.meta.events.register(
        "after-call.*.GetRecords", lambda http_response, **_: raw.append(json.loads(http_response.content))
    )
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    for shard in shards:
        it = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            got = streams.get_records(ShardIterator=it, Limit=1000)
            if not got["Records"]:
                break
            it = got.get("NextShardIterator")
    records = [r for page in raw for r in page["Records"]]
    for r in records:
        r.setdefault("eventSourceARN", stream_arn)
    json.dump({"Records": records}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
