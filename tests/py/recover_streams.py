#!/usr/bin/env python3
"""Real streams and a real queue for the recovery tests, on the servers at AWS_ENDPOINT_URL
(moto's, as tests/with-servers.sh exports it).

recover_streams.py dynamodb TABLE   creates TABLE with a NEW_AND_OLD_IMAGES stream, makes
                                    the changes of dynamodb_stream.py (inserts, updates and
                                    deletes of the four record types, PII in the deleted
                                    items), reads the stream back with GetRecords
recover_streams.py kinesis STREAM   creates a one-shard Kinesis stream and puts change
                                    records on it in the shape Kinesis Data Streams for
                                    DynamoDB writes them (events/make_kinesis.py), the last
                                    ones deletions with PII
    Both print {"stream_arn", "shard_id", "records": [...]}: the records as the Lambda
    event carries them, built here from the raw GetRecords answer (for DynamoDB Streams
    the API record plus eventSourceARN; for Kinesis the base64 data, sequence number,
    partition key and arrival time in the Lambda record).
recover_streams.py queue NAME       creates an SQS queue and prints its URL
recover_streams.py send URL FILE    sends the content of FILE as one message
recover_streams.py count URL        prints the number of messages in the queue (visible,
                                    in flight or delayed)
"""
import base64
import hashlib
import json
import pathlib
import sys

import boto3

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from dynamodb_stream import DELETES, ITEMS, UPDATES, create_table  # noqa: E402


def raw_answers(client, operation):
    """Collects the server's own JSON of every call of `operation` (before boto3 turns
    numbers and timestamps into Python objects)."""
    pages = []
    client.meta.events.register(f"after-call.*.{operation}",
                                lambda http_response, **_: pages.append(json.loads(http_response.content)))
    return pages


def dynamodb(table):
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
    pages = raw_answers(streams, "GetRecords")
    (shard,) = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    it = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while it:
        got = streams.get_records(ShardIterator=it, Limit=1000)
        if not got["Records"]:
            break
        it = got.get("NextShardIterator")
    records = [r for page in pages for r in page["Records"]]
    for r in records:
        r.setdefault("eventSourceARN", stream_arn)
    return {"stream_arn": stream_arn, "shard_id": shard["ShardId"], "records": records}


def S(v):
    return {"S": v}


def change_record(n, name, millis, new=None, old=None):
    """A DynamoDB change record as Kinesis Data Streams for DynamoDB writes it."""
    image = new if new is not None else old
    d = {"ApproximateCreationDateTime": millis, "Keys": {"pk": image["pk"], "sk": image["sk"]}}
    if new is not None:
        d["NewImage"] = new
    if old is not None:
        d["OldImage"] = old
    d["SizeBytes"] = len(json.dumps(d))
    h = hashlib.md5(f"dmd-recover-{n}".encode()).hexdigest()
    return {"awsRegion": boto3.session.Session().region_name,
            "eventID": f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}",
            "eventName": name, "userIdentity": None, "recordFormat": "application/json",
            "tableName": "demand", "dynamodb": d, "eventSource": "aws:dynamodb"}


def kinesis_changes():
    demand = {"pk": S("FAN#f-7001"), "sk": S("DEMAND#e-7001#s-701"), "eventId": S("e-7001"),
              "saleId": S("s-701"), "fanId": S("f-7001"), "requestedDate": S("2026-11-21T09:00:00Z"),
              "status": S("REQUESTED"), "phoneNumber": S("+1 555 010 7001"), "email": S("fan7001@example.com"),
              "notes": S("call +1 555 010 7001 after 6pm")}
    notification = {"pk": S("FAN#f-7001"), "sk": S("NOTIFICATION#n-7001"), "notificationId": S("n-7001"),
                    "fanId": S("f-7001"), "createdDate": S("2026-11-21T09:00:05Z"), "channel": S("sms"),
                    "phoneNumber": S("+1 555 010 7001"), "messageBody": S("Hi, write to fan7001@example.com")}
    event = {"pk": S("EVENT#e-7001"), "sk": S("EVENT#e-7001"), "eventId": S("e-7001"),
             "createdDate": S("2026-11-02T12:00:00Z"), "name": S("Solstice live")}
    sale = {"pk": S("EVENT#e-7001"), "sk": S("SALE#s-701"), "saleId": S("s-701"), "eventId": S("e-7001"),
            "createdDate": S("2026-11-03T12:00:00Z"), "saleType": S("PRESALE")}
    confirmed = dict(demand, status=S("CONFIRMED"))
    t = 1795250000000
    # The items with PII first; then a stretch with no PII but that of deletions.
    return [
        change_record(1, "INSERT", t, new=demand),
        change_record(2, "INSERT", t + 1000, new=notification),
        change_record(3, "MODIFY", t + 2000, new=confirmed, old=demand),
        change_record(4, "INSERT", t + 3000, new=event),
        change_record(5, "INSERT", t + 4000, new=sale),
        change_record(6, "REMOVE", t + 5000, old=confirmed),
        change_record(7, "REMOVE", t + 6000, old=notification),
        change_record(8, "MODIFY", t + 7000, new=dict(event, status=S("ON_SALE")), old=event),
    ]


def lambda_kinesis_record(r, shard_id, region, stream_arn):
    """A record of the raw GetRecords answer as the Lambda event carries it."""
    seq = r["SequenceNumber"]
    return {
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": r["PartitionKey"],
                    "sequenceNumber": seq, "data": r["Data"],
                    "approximateArrivalTimestamp": r["ApproximateArrivalTimestamp"]},
        "eventSource": "aws:kinesis", "eventVersion": "1.0",
        "eventID": f"{shard_id}:{seq}", "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/dmd-archiver",
        "awsRegion": region, "eventSourceARN": stream_arn,
    }


def kinesis(name):
    kin = boto3.client("kinesis")
    kin.create_stream(StreamName=name, ShardCount=1)
    summary = kin.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    stream_arn = summary["StreamARN"]
    for change in kinesis_changes():
        keys = change["dynamodb"]["Keys"]
        kin.put_record(StreamARN=stream_arn, Data=json.dumps(change, separators=(",", ":")).encode(),
                       PartitionKey=hashlib.md5(json.dumps(keys, sort_keys=True).encode()).hexdigest().upper())
    (shard,) = kin.list_shards(StreamARN=stream_arn)["Shards"]
    pages = raw_answers(kin, "GetRecords")
    it = kin.get_shard_iterator(StreamARN=stream_arn, ShardId=shard["ShardId"],
                                ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while it:
        got = kin.get_records(StreamARN=stream_arn, ShardIterator=it, Limit=1000)
        if not got["Records"]:
            break
        it = got.get("NextShardIterator")
    region = boto3.session.Session().region_name
    records = []
    for page in pages:
        for r in page["Records"]:
            records.append(lambda_kinesis_record(r, shard["ShardId"], region, stream_arn))
    # The Data of the raw answer is the base64 text of the bytes put: what Lambda delivers.
    assert all(base64.b64decode(r["kinesis"]["data"]) for r in records)
    return {"stream_arn": stream_arn, "shard_id": shard["ShardId"], "records": records}


def main():
    what, arg = sys.argv[1], sys.argv[2]
    if what == "dynamodb":
        json.dump(dynamodb(arg), sys.stdout)
    elif what == "kinesis":
        json.dump(kinesis(arg), sys.stdout)
    elif what == "queue":
        print(boto3.client("sqs").create_queue(QueueName=arg)["QueueUrl"])
    elif what == "send":
        body = pathlib.Path(sys.argv[3]).read_text(encoding="utf-8")
        print(boto3.client("sqs").send_message(QueueUrl=arg, MessageBody=body)["MessageId"])
    elif what == "count":
        attrs = boto3.client("sqs").get_queue_attributes(QueueUrl=arg, AttributeNames=["All"])["Attributes"]
        print(sum(int(attrs[k]) for k in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                                          "ApproximateNumberOfMessagesDelayed")))
    else:
        raise SystemExit(f"unknown command {what!r}")
    print()


if __name__ == "__main__":
    main()
