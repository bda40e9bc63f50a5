#!/usr/bin/env python3
"""The archiver's invocation time against its bound: its own CPU time plus two S3 round
trips (the data files written at once, then the manifest).

A loopback stand-in for S3 answers each PUT after --latency milliseconds (about what S3
takes inside a region); optionally one PUT in --slow-every takes --slow-ms instead (a
slow tail). The built archiver, pinned to one core (a function below 1,769 MB has one
vCPU), gets each batch --runs times through the runtime API stand-in of bench/run.py;
the S3 stand-in runs on another core. The bound is the median invocation with a 0 ms
S3 (the CPU time, loopback HTTP included) plus twice the latency.

    make bench-bound    # or, with a built bootstrap:
    .venv/bin/python bench/invocation_bound.py \\
        --archiver .aws-sam/build/ArchiverFunction-Shared/bootstrap --dmd target/debug/dmd
"""
import argparse
import http.server
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402 (bench/run.py: the runtime API stand-ins)


# The archiver's largest resident set (VmHWM, KiB) in the last median_invocation.
last_rss_kib = 0


class SlowS3(http.server.BaseHTTPRequestHandler):
    """Answers every PUT with 200 after `latency` seconds; every `slow_every`-th one after
    `slow` seconds instead."""
    protocol_version = "HTTP/1.1"
    latency = 0.0
    slow_every = 0
    slow = 0.0
    count = itertools.count(1)

    def do_PUT(self):  # noqa: N802 (the http.server interface)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        n = next(SlowS3.count)
        time.sleep(SlowS3.slow if SlowS3.slow_every and n % SlowS3.slow_every == 0 else SlowS3.latency)
        self.send_response(200)
        self.send_header("ETag", '"0"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def median_invocation(archiver, batch, runs, endpoint, concurrency, prefix=("taskset", "-c", "0")):
    body = open(batch, "rb").read()
    api, address = run.serve_api((f"bound-{i}", body) for i in range(runs + 1))
    env = run.archiver_env(address, endpoint, "dmd-bench-bound")
    if concurrency:
        env["WRITE_CONCURRENCY"] = str(concurrency)
    proc = subprocess.Popen([*prefix, archiver], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    finished = run.Invocations.done.wait(600)
    global last_rss_kib
    last_rss_kib = run.high_water_kib(proc.pid)
    proc.kill()
    _, err = proc.communicate()
    api.shutdown()
    api.server_close()
    answers = run.Invocations.answers
    if not finished or not all(ok and b'"batchItemFailures":[]' in body.replace(b" ", b"") for _, ok, _, body in answers):
        sys.exit(f"bench: invocations failed: {[a[3][:200] for a in answers]} {err.decode()[-1000:]}")
    times = [seconds * 1000 for _, _, seconds, _ in answers[1:]]
    return statistics.median(times), max(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archiver", required=True)
    ap.add_argument("--dmd", required=True, help="for `dmd generate`")
    ap.add_argument("--latency", type=int, action="append", help="ms per PUT (repeatable; default 40 and 100)")
    ap.add_argument("--records", type=int, action="append", help="records per batch (default 1,000 and 10,000)")
    ap.add_argument("--days", type=int, action="append", help="partition dates per batch (default 1, 2, 7)")
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--concurrency", type=int, default=0, help="WRITE_CONCURRENCY (0: the function's default)")
    ap.add_argument("--slow-every", type=int, default=50)
    ap.add_argument("--slow-ms", type=int, default=1000)
    ap.add_argument("--out", help="the Markdown file to write the table into (between its bound markers)")
    args = ap.parse_args()
    latencies = args.latency or [40, 100]
    os.sched_setaffinity(0, {1 % (os.cpu_count() or 1)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowS3)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    lines = [f"With `WRITE_CONCURRENCY={args.concurrency or '32'}` on {run.machine()}:", "",
             "| records | dates | data files | PUT latency | median invocation | bound: cpu + 2 x PUT | ratio |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    print("\n".join(lines))
    with tempfile.TemporaryDirectory() as work:
        for records, days in itertools.product(args.records or [1000, 10000], args.days or [1, 2, 7]):
            out = os.path.join(work, f"{records}-{days}")
            subprocess.run([args.dmd, "generate", "--records", str(records), "--batch", str(records), "--days",
                            str(days), "--seed", "23", "--out", out], check=True, stdout=subprocess.DEVNULL)
            batch = os.path.join(out, sorted(os.listdir(out))[0])
            files = len({(r["record_type"], r["date"]) for r in group_keys(args.dmd, batch, work)})
            SlowS3.latency, SlowS3.slow_every = 0.0, 0
            cpu, _ = median_invocation(args.archiver, batch, args.runs, endpoint, args.concurrency)
            for latency in latencies:
                SlowS3.latency = latency / 1000
                for slow in (False, True):
                    SlowS3.slow_every, SlowS3.slow = (args.slow_every, args.slow_ms / 1000) if slow else (0, 0.0)
                    # Enough invocations that the slow PUT comes at least twice.
                    runs = max(args.runs, -(-2 * args.slow_every // (files + 1))) if slow else args.runs
                    median, longest = median_invocation(args.archiver, batch, runs, endpoint, args.concurrency)
                    # With a slow tail, the longest invocation (the one that met the slow
                    # PUT) against the bound plus that PUT.
                    ms = longest if slow else median
                    bound = cpu + 2 * latency + (args.slow_ms if slow else 0)
                    label = f"{latency} ms" + (f", 1 in {args.slow_every} at {args.slow_ms} ms (longest)" if slow else "")
                    lines.append(f"| {records:,} | {days} | {files} | {label} | {ms:.0f} ms | {bound:.0f} ms "
                                 f"| {ms / bound:.2f} |")
                    print(lines[-1], flush=True)
    server.shutdown()
    if args.out:
        run.write_between(args.out, "<!-- bound:begin -->", "<!-- bound:end -->", "\n".join(lines))


def group_keys(dmd, batch, work):
    """The (type, date) groups of a batch: what `dmd archive` writes for it."""
    out = os.path.join(work, "groups")
    proc = subprocess.run([dmd, "archive", "--out", out, batch], check=True, capture_output=True, text=True)
    line = json.loads(proc.stdout.splitlines()[0])
    return [{"record_type": t, "date": d} for t, dates in line["archived"].items() for d in dates]


if __name__ == "__main__":
    main()
