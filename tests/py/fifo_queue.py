"""The compactor's FIFO queue on moto, for tests/compactor.rs.

    fifo_queue.py create NAME     create NAME.fifo; print its URL
    fifo_queue.py receive URL     receive every message; print a JSON array of
                                  {"id", "body", "group"} (the messages stay invisible)
    fifo_queue.py tags BUCKET KEY print the object's tags as a JSON object
"""

import json
import sys

import boto3


def receive(url):
    sqs = boto3.client("sqs")
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["MessageGroupId"],
                                  WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return out
        for m in got:
            out.append({"id": m["MessageId"], "body": m["Body"], "group": m["Attributes"]["MessageGroupId"]})


def main():
    what = sys.argv[1]
    if what == "create":
        attrs = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
        print(boto3.client("sqs").create_queue(QueueName=sys.argv[2] + ".fifo", Attributes=attrs)["QueueUrl"])
    elif what == "receive":
        print(json.dumps(receive(sys.argv[2])))
    elif what == "tags":
        tags = boto3.client("s3").get_object_tagging(Bucket=sys.argv[2], Key=sys.argv[3])["TagSet"]
        print(json.dumps({t["Key"]: t["Value"] for t in tags}))
    else:
        raise SystemExit(f"unknown command {what!r}")


if __name__ == "__main__":
    main()
