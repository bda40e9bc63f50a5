#!/usr/bin/env python3
"""Whole-process benchmarks of dmd-pipeline, run by `make bench`.

Runs, on the same generated event files and in one run:
  - the Python baseline (json + fastavro, deflate): bench/py_baseline.py,
  - the floor: a Rust program that only reads each file into a serde_json::Value,
  - `dmd archive` with the default codec (deflate) and with AVRO_CODEC=snappy,
and the Lambda cold start of `archiver` (exec to the first poll of a loopback stand-in for
the Lambda runtime API). Each figure is the median of several runs after one warm-up;
peak memory is the largest resident set size of a run (wait4's ru_maxrss).

bench/run.py --dmd target/release/dmd --floor target/release/floor \
    --archiver target/release/archiver --baseline bench/py_baseline.py \
    --work .bench --runs 5 --out docs/performance.md
"""
import argparse
import datetime as dt
import http.server
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time


def run_once(cmd, env=None):
    """Runs cmd; returns (seconds, peak RSS in KiB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd[:3])}... failed ({proc.returncode}): {err.decode()[-2000:]}")
    return seconds, usage.ru_maxrss, out


def measure(name, make_cmd, runs, env=None, out_dir=None):
    times, rss = [], []
    for i in range(runs + 1):
        if out_dir:
            shutil.rmtree(out_dir, ignore_errors=True)
        seconds, peak, _ = run_once(make_cmd(), env)
        if i > 0:  # the first run warms the page cache
            times.append(seconds)
            rss.append(peak)
    return {"name": name, "median_s": statistics.median(times), "min_s": min(times), "peak_rss_kib": max(rss), "runs": runs}


def generate(dmd, work, records, batch, seed):
    out = os.path.join(work, f"events-{records}x{batch}")
    if not os.path.isdir(out):
        subprocess.run([dmd, "generate", "--records", str(records), "--batch", str(batch), "--seed", str(seed),
                        "--source", "dynamodb", "--out", out + ".tmp"], check=True)
        os.rename(out + ".tmp", out)
    return sorted(os.path.join(out, f) for f in os.listdir(out))


class RuntimeApi(http.server.BaseHTTPRequestHandler):
    """Notes the time of the first poll of the Lambda runtime API, then keeps the poll open."""
    first_poll = None
    polled = threading.Event()

    def do_GET(self):  # noqa: N802 (the http.server interface)
        if self.path.endswith("/runtime/invocation/next") and not RuntimeApi.polled.is_set():
            RuntimeApi.first_poll = time.perf_counter()
            RuntimeApi.polled.set()
        time.sleep(0.5)
        self.send_response(503)
        self.end_headers()

    def log_message(self, *args):
        pass


def cold_start(archiver, runs):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}",
               AWS_LAMBDA_FUNCTION_NAME="archiver", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
               AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_LAMBDA_LOG_STREAM_NAME="bench",
               AWS_LAMBDA_LOG_GROUP_NAME="bench", ARCHIVE_BUCKET="dmd-bench", AWS_REGION="us-east-1",
               AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", RUST_LOG="warn")
    samples = []
    for _ in range(runs + 1):
        RuntimeApi.polled.clear()
        start = time.perf_counter()
        proc = subprocess.Popen([archiver], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not RuntimeApi.polled.wait(10):
            proc.kill()
            sys.exit(f"bench: archiver never polled the runtime API: {proc.stderr.read().decode()[-2000:]}")
        samples.append((RuntimeApi.first_poll - start) * 1000)
        proc.kill()
        proc.wait()
    server.shutdown()
    return statistics.median(samples[1:])


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
            mem = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{cpu}, {os.cpu_count()} cores, {mem}; {platform.system()} {platform.release()}; {rustc}; Python {platform.python_version()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dmd", required=True)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--archiver")
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--work", default=".bench")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    small = generate(args.dmd, args.work, 100_000, 1000, 7)
    large = generate(args.dmd, args.work, 10_000, 10_000, 8)
    out = os.path.join(args.work, "out")
    results = {}
    for label, files, nrec in (("100 x 1,000", small, 100_000), ("1 x 10,000", large, 10_000)):
        env_snappy = dict(os.environ, AVRO_CODEC="snappy")
        env_deflate = {k: v for k, v in os.environ.items() if k != "AVRO_CODEC"}
        rows = [
            measure("Python baseline (json + fastavro, deflate)",
                    lambda: [args.python, args.baseline, out] + files, args.runs, out_dir=out),
            measure("floor (read + serde_json::Value)", lambda: [args.floor] + files, args.runs),
            measure("dmd archive (deflate)", lambda: [args.dmd, "archive", "--out", out] + files, args.runs,
                    env=env_deflate, out_dir=out),
            measure("dmd archive (snappy)", lambda: [args.dmd, "archive", "--out", out] + files, args.runs,
                    env=env_snappy, out_dir=out),
        ]
        for r in rows:
            r["records"] = nrec
            r["records_per_s"] = nrec / r["median_s"]
        results[label] = rows
    cold = cold_start(args.archiver, max(args.runs, 10)) if args.archiver else None

    def get(label, prefix):
        return next(r for r in results[label] if r["name"].startswith(prefix))

    py, floor = get("100 x 1,000", "Python"), get("100 x 1,000", "floor")
    dd, ds = get("100 x 1,000", "dmd archive (deflate)"), get("100 x 1,000", "dmd archive (snappy)")
    big = get("1 x 10,000", "dmd archive (deflate)")
    checks = [
        ("dmd archive (deflate) vs the Python baseline", f"{py['median_s'] / dd['median_s']:.1f}x faster", ">= 8x",
         py["median_s"] / dd["median_s"] >= 8),
        ("dmd archive (snappy) vs the floor", f"{ds['median_s'] / floor['median_s']:.2f}x the floor's time", "<= 1.0x",
         ds["median_s"] <= floor["median_s"]),
        ("peak RSS, 1,000-record files", f"{dd['peak_rss_kib'] / 1024:.1f} MiB", "<= 32 MiB", dd["peak_rss_kib"] <= 32 * 1024),
        ("peak RSS, one 10,000-record file", f"{big['peak_rss_kib'] / 1024:.1f} MiB", "<= 64 MiB",
         big["peak_rss_kib"] <= 64 * 1024),
        ("100k records vs 10k records", f"{dd['median_s'] / big['median_s']:.2f}x the time", "<= 10.5x",
         dd["median_s"] / big["median_s"] <= 10.5),
    ]
    if cold is not None:
        checks.append(("Lambda cold start (exec to first poll)", f"{cold:.1f} ms", "<= 20 ms", cold <= 20))
    size = os.path.getsize(args.archiver) if args.archiver else None

    lines = [f"Measured by `make bench` on {dt.date.today().isoformat()}: {machine()}.",
             f"Each time is the median of {args.runs} runs after a warm-up run; peak RSS is the largest of those runs.",
             "Workload: `dmd generate` output, DynamoDB Streams events with all four record types, INSERT/MODIFY/REMOVE,",
             "TTL deletions and PII: 100,000 records in 100 files of 1,000, and one file of 10,000.", ""]
    for label, rows in results.items():
        lines += [f"## {label} records", "", "| program | median | records/s | peak RSS |", "| --- | ---: | ---: | ---: |"]
        for r in rows:
            lines.append(f"| {r['name']} | {r['median_s'] * 1000:.0f} ms | {r['records_per_s']:,.0f} | "
                         f"{r['peak_rss_kib'] / 1024:.1f} MiB |")
        lines.append("")
    lines += ["## Targets", "", "| figure | measured | target | met |", "| --- | --- | --- | --- |"]
    for name, measured, target, ok in checks:
        lines.append(f"| {name} | {measured} | {target} | {'yes' if ok else 'NO'} |")
    if size is not None:
        lines += ["", f"Release `archiver` binary: {size / 1024 / 1024:.1f} MiB."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        # The measured part goes between the markers; the notes around it are kept.
        begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
        old = open(args.out).read() if os.path.exists(args.out) else f"{begin}\n{end}\n"
        if begin not in old or end not in old:
            old = f"{old.rstrip()}\n\n{begin}\n{end}\n"
        head, rest = old.split(begin, 1)
        tail = rest.split(end, 1)[1]
        with open(args.out, "w") as f:
            f.write(f"{head}{begin}\n{text}{end}{tail}")
    json.dump(results, open(os.path.join(args.work, "results.json"), "w"), indent=2)


if __name__ == "__main__":
    main()
