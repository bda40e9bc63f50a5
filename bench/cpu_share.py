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
import math
import os
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import invocation_bound as bound  # noqa: E402

SIZES = (128, 256, 512, 1024, 1769)
ARM_GB_S, X86_GB_S, PER_REQUEST, PER_PUT = 0.0000133334, 0.0000166667, 0.20e-6, 0.005e-3


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
    args = ap.parse_args()
    os.sched_setaffinity(0, {1 % (os.cpu_count() or 1)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), bound.SlowS3)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    bound.SlowS3.latency = args.latency / 1000
    print("| records | dates | data files | memory | CPU share | median invocation | billed | peak RSS "
          "| Lambda arm64 per million changes | Lambda x86_64 | S3 PUTs |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    cheapest = {}
    with tempfile.TemporaryDirectory() as work:
        for records, days in [(1000, 1), (1000, 2), (1000, 7)] + [(args.large, 7)] * bool(args.large):
            out = os.path.join(work, f"r{records}-d{days}")
            subprocess.run([args.dmd, "generate", "--records", str(records), "--batch", str(records), "--days", str(days),
                            "--seed", "23", "--out", out], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            batch = os.path.join(out, sorted(os.listdir(out))[0])
            files = len(bound.group_keys(args.dmd, batch, work))
            invocations = 1_000_000 / records
            for mb in SIZES:
                path, procs = cgroup(f"dmd-bench-{mb}", mb / 1769)
                prefix = ("sh", "-c", f'echo $$ > {procs} && exec taskset -c 0 "$0"')
                ms, _ = bound.median_invocation(args.archiver, batch, args.runs, endpoint, args.concurrency, prefix)
                os.rmdir(path) if not open(procs).read().strip() else None
                billed = math.ceil(ms)
                gb_s = invocations * billed / 1000 * mb / 1024
                arm = gb_s * ARM_GB_S + invocations * PER_REQUEST
                x86 = gb_s * X86_GB_S + invocations * PER_REQUEST
                puts = invocations * (files + 1) * PER_PUT
                cheapest.setdefault((records, days), []).append((arm, mb))
                rss = bound.last_rss_kib / 1024
                print(f"| {records:,} | {days} | {files} | {mb:,} MB | {mb / 1769:.3f} | {ms:.0f} ms | {billed} ms "
                      f"| {rss:.1f} MiB | ${arm:.4f} | ${x86:.4f} | ${puts:.4f} |", flush=True)
    for (records, days), costs in cheapest.items():
        arm, mb = min(costs)
        print(f"\ncheapest for {records:,} records over {days} date(s): {mb} MB "
              f"(${arm:.4f} of Lambda per million changes, arm64)")
    server.shutdown()


if __name__ == "__main__":
    main()
