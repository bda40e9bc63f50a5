#!/usr/bin/env python3
"""Reads every .avro file below a folder with fastavro (an Avro implementation independent
of dmd-pipeline's encoder) and prints one JSON line per record:
{"file": <path relative to the folder>, "codec": <avro.codec>, "schema": <record name>,
 "record": <record>}. Timestamps are printed as RFC 3339 text in UTC with milliseconds,
as `dmd cat` prints them.

read_avro.py DIR
"""
import datetime as dt
import json
import os
import sys

import fastavro


def plain(v):
    if isinstance(v, dt.datetime):
        v = v.astimezone(dt.timezone.utc)
        return v.strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond // 1000:03d}Z"
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def main():
    root = sys.argv[1]
    for base, _, names in sorted(os.walk(root)):
        for name in sorted(names):
            if not name.endswith(".avro"):
                continue
            path = os.path.join(base, name)
            with open(path, "rb") as f:
                reader = fastavro.reader(f)
                codec = reader.codec
                schema = reader.writer_schema["name"]
                for rec in reader:
                    line = {"file": os.path.relpath(path, root), "codec": codec, "schema": schema, "record": plain(rec)}
                    print(json.dumps(line, sort_keys=True))


if __name__ == "__main__":
    main()
