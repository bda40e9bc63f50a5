#!/usr/bin/env python3
"""The start of each Lambda function and the archiver's invocations, for one bootstrap or
one per function: what docs/performance.md, "One build for every function", reports.

For each function (archiver, recoverer, compactor): the cold start, from exec to the first
poll of a loopback stand-in for the Lambda runtime API (median of --runs after one
warm-up), and the resident set at that poll (VmHWM). For the archiver, with a local S3
server (DMD_MOTO_ENDPOINT, set by tests/with-servers.sh), also the median time of an
invocation of a 1,000-record batch and the resident set after --runs of them. Every
process is pinned to one core (`taskset -c 0`), as a function below 1,769 MB has one vCPU.

    tests/with-servers.sh .venv/bin/python bench/functions_start.py \\
        --bootstrap .aws-sam/build/ArchiverFunction-Shared/bootstrap --batch EVENT.json
    # one bootstrap per function (the layout of one build per function):
    ... --bootstrap archiver=A --bootstrap recoverer=R --bootstrap compactor=C
"""
import argparse
import http.server
import os
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402 (bench/run.py: the runtime API stand-ins)

ROLES = ("archiver", "recoverer", "compactor")
LAMBDA_ENV = dict(AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1024", AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
                  AWS_LAMBDA_LOG_STREAM_NAME="bench", AWS_LAMBDA_LOG_GROUP_NAME="bench", RUST_LOG="warn",
                  AWS_REGION="eu-west-1", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")


def role_env(role, api, bucket):
    env = dict(os.environ, **LAMBDA_ENV, AWS_LAMBDA_RUNTIME_API=api, AWS_LAMBDA_FUNCTION_NAME=role,
               ARCHIVE_BUCKET=bucket, DMD_FUNCTION=role)
    if role == "compactor":
        env["COMPACT_QUEUE_URL"] = "http://127.0.0.1:9/123456789012/dmd-compact.fifo"
    return env


def cold_start(role, bootstrap, runs):
    """Median ms from exec to the first poll, and the largest resident set (KiB) at it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), run.RuntimeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = role_env(role, f"127.0.0.1:{server.server_address[1]}", "dmd-bench")
    samples, rss = [], []
    for _ in range(runs + 1):
        run.RuntimeApi.polled.clear()
        start = time.perf_counter()
        proc = subprocess.Popen(["taskset", "-c", "0", bootstrap], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        if not run.RuntimeApi.polled.wait(10):
            proc.kill()
            sys.exit(f"bench: {role} never polled the runtime API: {proc.stderr.read().decode()[-2000:]}")
        samples.append((run.RuntimeApi.first_poll - start) * 1000)
        rss.append(run.high_water_kib(proc.pid))
        proc.kill()
        proc.wait()
    server.shutdown()
    server.server_close()
    return statistics.median(samples[1:]), max(rss[1:])


def invocations(bootstrap, batch, runs):
    """Median ms per invocation of the archiver on `batch` (the first left out) and its
    resident set (KiB) after them."""
    bucket = "dmd-bench-functions"
    env = role_env("archiver", "", bucket)
    return run.serve_invocations(["taskset", "-c", "0", bootstrap], env, bucket, batch, runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", action="append", required=True,
                    help="PATH (every function) or FUNCTION=PATH; repeatable")
    ap.add_argument("--batch", help="a 1,000-record event file for the archiver's invocations")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--label", default="")
    args = ap.parse_args()
    paths = {}
    for b in args.bootstrap:
        role, sep, path = b.partition("=")
        if sep:
            paths[role] = path
        else:
            paths.update({r: b for r in ROLES})
    print("| build | function | bootstrap | cold start | RSS at first poll | invocation (1,000 records) | RSS after |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for role in ROLES:
        if role not in paths:
            continue
        path = paths[role]
        size = os.path.getsize(path) / 2**20
        start, rss = cold_start(role, path, args.runs)
        inv = ""
        after = ""
        if role == "archiver" and args.batch:
            ms, kib = invocations(path, args.batch, args.runs)
            inv, after = f"{ms:.1f} ms", f"{kib / 1024:.1f} MiB"
        print(f"| {args.label} | {role} | {size:.1f} MiB | {start:.1f} ms | {rss / 1024:.1f} MiB | {inv} | {after} |",
              flush=True)


if __name__ == "__main__":
    main()
