#!/usr/bin/env python3
"""What each Lambda memory size costs: the archiver limited to the CPU share Lambda gives
that size, its billed duration, and the cost per million changes.

Lambda gives a function CPU in proportion to its memory, one vCPU at 1,769 MB. The
archiver as `sam build` builds it runs pinned to one core and in a CPU cgroup whose quota
is MB / 1,769 of that core (cgroup v1 `cpu.cfs_quota_us`, or v2 `cpu.max`; 100 ms
periods), for 128, 256, 512, 1,024 and 1,769 MB, on the three workloads of
`make bench-files` (1,000-record batches over 1, 2 and 7 partition dates), against the
loopback S3 of bench/invocation_bound.py answering each PUT after 40 ms. Billed duration
is the median invocation rounded up to the millisecond.

Prices (us-east-1, as published on aws.amazon.com/lambda/pricing and
aws.amazon.com/s3/pricing, read 2026-12-04): arm64 $0.0000133334 per GB-s, x86_64
$0.0000166667, $0.20 per million requests; S3 Standard PUT $0.005 per 1,000.

    make bench-cpu      # needs root, for the cgroup
"""
import argparse
import http.server
import json
import math
import os
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import invocation_bound as bound  # noqa: E402
import run  # noqa: E402

SIZES = (128, 256, 512, 1024, 1769)
ARM_GB_S, X86_GB_S, PER_REQUEST, PER_PUT = 0.0000133334, 0.0000166667, 0.20e-6, 0.005e-3
PER_GB_MONTH = 0.023


def archived(dmd, batch, records, work):
    """What `dmd archive` writes for `batch`: its data files, and the bytes per record of
    those files and of the manifest."""
    out = os.path.join(work, "sizes")
    subprocess.run(["rm", "-rf", out], check=True)
    proc = subprocess.run([dmd, "archive", "--out", out, batch], check=True, capture_output=True, text=True)
    line = json.loads(proc.stdout.splitlines()[0])
    manifests = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(out, "manifests"))
                    for f in fs)
    return len(line["files"]), (line["bytes"] + manifests) / records


def cgroup(name, share):
    """A CPU cgroup allowed `share` of one core; returns its procs file."""
    v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    path = f"/sys/fs/cgroup/{name}" if v2 else f"/sys/fs/cgroup/cpu/{name}"
    os.makedirs(path, exist_ok=True)
    quota = max(1000, int(100_000 * share))
    if v2:
        with open(f"{path}/cpu.max", "w") as f:
            f.write(f"{quota} 100000")
    else:
        with open(f"{path}/cpu.cfs_period_us", "w") as f:
            f.write("100000")
        with open(f"{path}/cpu.cfs_quota_us", "w") as f:
            f.write(str(quota))
    return path, f"{path}/cgroup.procs"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archiver", required=True)
    ap.add_argument("--dmd", required=True)
    ap.add_argument("--latency", type=int, default=40)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--concurrency", type=int, default=0, help="WRITE_CONCURRENCY (0: the function's default)")
    ap.add_argument("--large", type=int, default=10000, help="also a batch of this many records over 7 dates (0: none)")
    ap.add_argument("--out", help="the Markdown file to write the tables into (between its cpu markers)")
    args = ap.parse_args()
    os.sched_setaffinity(0, {1 % (os.cpu_count() or 1)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), bound.SlowS3)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    bound.SlowS3.latency = args.latency / 1000
    lines = [f"On {run.machine()}, S3 answering each PUT after {args.latency} ms:", "",
             "| records | dates | data files | memory | CPU share | median invocation | billed | peak RSS |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    costs = ["| workload | memory | billed per invocation | Lambda GB-s (arm64) | Lambda requests "
             "| S3 PUTs (files + manifests) | storage, first month | total | Lambda x86_64 instead |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    print("\n".join(lines))
    with tempfile.TemporaryDirectory() as work:
        for records, days in [(1000, 1), (1000, 2), (1000, 7)] + [(args.large, 7)] * bool(args.large):
            out = os.path.join(work, f"r{records}-d{days}")
            subprocess.run([args.dmd, "generate", "--records", str(records), "--batch", str(records), "--days", str(days),
                            "--seed", "23", "--out", out], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            batch = os.path.join(out, sorted(os.listdir(out))[0])
            files, stored = archived(args.dmd, batch, records, work)
            invocations = 1_000_000 / records
            for mb in SIZES:
                path, procs = cgroup(f"dmd-bench-{mb}", mb / 1769)
                prefix = ("sh", "-c", f'echo $$ > {procs} && exec taskset -c 0 "$0"')
                ms, _ = bound.median_invocation(args.archiver, batch, args.runs, endpoint, args.concurrency, prefix)
                os.rmdir(path) if not open(procs).read().strip() else None
                billed = math.ceil(ms)
                gb_s = invocations * billed / 1000 * mb / 1024
                requests = invocations * PER_REQUEST
                puts = invocations * (files + 1) * PER_PUT
                storage = 1_000_000 * stored / 1e9 * PER_GB_MONTH
                total = gb_s * ARM_GB_S + requests + puts + storage
                rss = bound.last_rss_kib / 1024
                lines.append(f"| {records:,} | {days} | {files} | {mb:,} MB | {mb / 1769:.3f} | {ms:.0f} ms "
                             f"| {billed} ms | {rss:.1f} MiB |")
                print(lines[-1], flush=True)
                costs.append(f"| {records:,} records, {days} date(s), {files} files | {mb:,} MB | {billed} ms "
                             f"| ${gb_s * ARM_GB_S:.5f} | ${requests:.5f} | ${puts:.4f} | ${storage:.4f} "
                             f"| ${total:.4f} | ${total + gb_s * (X86_GB_S - ARM_GB_S):.4f} |")
    print("\n".join(["", *costs]))
    server.shutdown()
    if args.out:
        run.write_between(args.out, "<!-- cpu:begin -->", "<!-- cpu:end -->", "\n".join(lines))
        run.write_between(args.out, "<!-- cost:begin -->", "<!-- cost:end -->", "\n".join(costs))


if __name__ == "__main__":
    main()
