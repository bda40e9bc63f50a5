#!/usr/bin/env python3
"""How long `dmd audit` takes, and how much memory, for a Kinesis stream of CHANGES
change records over SHARDS shards on moto (run it under tests/with-servers.sh).

usage: tests/with-servers.sh .venv/bin/python bench/audit_time.py [CHANGES] [SHARDS]

Puts CHANGES change records (the shape Kinesis Data Streams for DynamoDB writes) with
PutRecords, reads every shard back into Lambda events of 1,000 records, archives them
into a folder with `dmd archive`, deletes one manifest (a hole of one batch), then times
`dmd audit --settle 0 --interval 0` as a whole process (wall time, and peak RSS from
wait4) and prints one JSON line: changes, shards, manifests, archive_s, audit_s,
records_per_s, reads, missing, peak_rss_mib.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import boto3

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests/py"))
from audit_streams import change, read_all  # noqa: E402
from recover_streams import lambda_kinesis_record  # noqa: E402


def main():
    changes = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    shards = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    dmd = os.environ.get("DMD_BIN") or str(ROOT / "target/release/dmd")
    if not pathlib.Path(dmd).exists():
        dmd = str(ROOT / "target/debug/dmd")
    kin = boto3.client("kinesis")
    name = f"dmd-audit-bench-{os.getpid()}"
    kin.create_stream(StreamName=name, ShardCount=shards)
    arn = kin.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    for start in range(0, changes, 500):
        entries = [{"Data": json.dumps(change(i), separators=(",", ":")).encode(), "PartitionKey": f"item-{i // 3}"}
                   for i in range(start, min(start + 500, changes))]
        kin.put_records(StreamARN=arn, Records=entries)
    region = boto3.session.Session().region_name
    work = pathlib.Path(tempfile.mkdtemp(prefix="dmd-audit-bench."))
    try:
        events = work / "events"
        events.mkdir()
        n = 0
        for shard in kin.list_shards(StreamARN=arn)["Shards"]:
            sid = shard["ShardId"]
            raw = read_all(kin, sid, {"StreamARN": arn}, {"StreamARN": arn})
            records = [lambda_kinesis_record(r, sid, region, arn) for r in raw]
            for i in range(0, len(records), 1000):
                (events / f"batch-{n:05}.json").write_text(json.dumps({"Records": records[i:i + 1000]}))
                n += 1
        archive = work / "archive"
        started = time.perf_counter()
        files = sorted(str(p) for p in events.iterdir())
        done = subprocess.run([dmd, "archive", "--out", str(archive), *files], capture_output=True)
        if done.returncode != 0:
            failed = [line for line in done.stdout.decode().splitlines() if '"batchItemFailures":[]' not in line]
            sys.exit(f"dmd archive failed ({done.returncode}): {done.stderr.decode()[-2000:]} {failed[:1]}"[:3000])
        archived = time.perf_counter() - started
        manifests = sorted((archive / "manifests").rglob("*.json"))
        manifests[len(manifests) // 2].unlink()
        started = time.perf_counter()
        proc = subprocess.Popen([dmd, "audit", "--stream", arn, "--out", str(archive), "--settle", "0",
                                 "--interval", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out = proc.stdout.read()
        proc.stderr.read()
        _, _, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - started
        summary = json.loads(out.splitlines()[-1])
        print(json.dumps({"changes": changes, "shards": shards, "manifests": len(manifests),
                          "archive_s": round(archived, 1), "audit_s": round(took, 1),
                          "records_per_s": round(summary["records"] / took), "reads": summary["reads"],
                          "records": summary["records"], "missing": summary["missing"],
                          "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
                          "dmd": os.path.relpath(dmd, ROOT)}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
