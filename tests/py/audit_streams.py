#!/usr/bin/env python3
"""Streams of several thousand changes for the audit tests, on the servers at
AWS_ENDPOINT_URL (moto's, as tests/with-servers.sh exports it).

audit_streams.py kinesis STREAM N   a two-shard Kinesis stream whose shard 0 is split in
                                    two (a closed parent and its children), then N change
                                    records (in the shape Kinesis Data Streams for DynamoDB
                                    writes them, deletions with PII among them, one record
                                    that is not a change record)
audit_streams.py dynamodb TABLE N   a table with a NEW_AND_OLD_IMAGES stream and N changes
                                    (inserts, updates, deletes with PII)
    Both print {"stream_arn", "shards": [{"shard_id", "parent_shard_id", "records": [...]}]}:
    every shard, each with its records as the Lambda event carries them.
"""
import base64
import hashlib
import json
import pathlib
import sys

import boto3

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from dynamodb_stream import create_table  # noqa: E402
from recover_streams import S, change_record, lambda_kinesis_record  # noqa: E402


def change(n):
    """Change n: an insert, an update or a deletion (with PII) of demand item n // 3."""
    k = n // 3
    demand = {"pk": S(f"FAN#f-{k}"), "sk": S(f"DEMAND#e-{k % 7}#s-{k % 11}"), "eventId": S(f"e-{k % 7}"),
              "saleId": S(f"s-{k % 11}"), "fanId": S(f"f-{k}"), "requestedDate": S("2026-11-21T09:00:00Z"),
              "status": S("REQUESTED"), "phoneNumber": S(f"+1 555 {k % 1000:03} {k % 10000:04}"),
              "email": S(f"fan{k}@example.com"), "notes": S(f"call +1 555 {k % 1000:03} {k % 10000:04} after 6pm")}
    t = 1795250000000 + n * 10
    kind = n % 3
    if kind == 0:
        return change_record(n, "INSERT", t, new=demand)
    if kind == 1:
        return change_record(n, "MODIFY", t, new=dict(demand, status=S("CONFIRMED")), old=demand)
    return change_record(n, "REMOVE", t, old=dict(demand, status=S("CONFIRMED")))


def read_all(client, shard_id, arn, records_arn):
    pages = []

    def keep(http_response, **_):
        pages.append(json.loads(http_response.content))

    client.meta.events.register("after-call.*.GetRecords", keep)
    it = client.get_shard_iterator(ShardId=shard_id, ShardIteratorType="TRIM_HORIZON", **arn)["ShardIterator"]
    while it:
        got = client.get_records(ShardIterator=it, Limit=1000, **records_arn)
        if not got["Records"]:
            break
        it = got.get("NextShardIterator")
    client.meta.events.unregister("after-call.*.GetRecords", keep)
    return [r for page in pages for r in page["Records"]]


def kinesis(name, n):
    kin = boto3.client("kinesis")
    kin.create_stream(StreamName=name, ShardCount=2)
    stream_arn = kin.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    region = boto3.session.Session().region_name

    def put(i):
        if i == 5:
            data = b"not a change record"
        else:
            data = json.dumps(change(i), separators=(",", ":")).encode()
        key = hashlib.md5(f"item-{i // 3}".encode()).hexdigest().upper()
        kin.put_record(StreamARN=stream_arn, Data=data, PartitionKey=key)

    shards = kin.list_shards(StreamARN=stream_arn)["Shards"]
    first = shards[0]
    lo, hi = int(first["HashKeyRange"]["StartingHashKey"]), int(first["HashKeyRange"]["EndingHashKey"])
    kin.split_shard(StreamARN=stream_arn, ShardToSplit=first["ShardId"], NewStartingHashKey=str((lo + hi) // 2))
    for i in range(n):
        put(i)
    out = []
    for shard in kin.list_shards(StreamARN=stream_arn)["Shards"]:
        sid = shard["ShardId"]
        raw = read_all(kin, sid, {"StreamARN": stream_arn}, {"StreamARN": stream_arn})
        records = [lambda_kinesis_record(r, sid, region, stream_arn) for r in raw]
        assert all(base64.b64decode(r["kinesis"]["data"]) for r in records)
        out.append({"shard_id": sid, "parent_shard_id": shard.get("ParentShardId"), "records": records})
    return {"stream_arn": stream_arn, "shards": out}


def dynamodb(table, n):
    ddb = boto3.client("dynamodb")
    stream_arn = create_table(ddb, table)
    for i in range(n):
        c = change(i)["dynamodb"]
        if "NewImage" in c:
            ddb.put_item(TableName=table, Item=c["NewImage"])
        else:
            ddb.delete_item(TableName=table, Key=c["Keys"])
    streams = boto3.client("dynamodbstreams")
    out = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        records = read_all(streams, shard["ShardId"], {"StreamArn": stream_arn}, {})
        for r in records:
            r.setdefault("eventSourceARN", stream_arn)
        out.append({"shard_id": shard["ShardId"], "parent_shard_id": shard.get("ParentShardId"), "records": records})
    return {"stream_arn": stream_arn, "shards": out}


def main():
    what, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    json.dump({"kinesis": kinesis, "dynamodb": dynamodb}[what](name, n), sys.stdout)
    print()


if __name__ == "__main__":
    main()
