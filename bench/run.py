#!/usr/bin/env python3
"""Whole-process benchmarks of dmd-pipeline, run by `make bench`.

Runs, on the same generated event files and in one run, on all cores and pinned to one
(`taskset -c 0`, as a Lambda function below 1,769 MB has one vCPU):
  - the Python baseline (json + fastavro, deflate): bench/py_baseline.py,
  - the floor: a Rust program that only reads each file into a serde_json::Value,
  - `dmd archive` with the default codec (deflate) and with AVRO_CODEC=snappy,
and the Lambda cold start of `archiver` (exec to the first poll of a loopback stand-in for
the Lambda runtime API). With a local S3 server (DMD_MOTO_ENDPOINT, which
tests/with-servers.sh sets), also the `archiver`'s time per invocation of a 1,000-record
batch, from the runtime API's answer to the poll to the function's response. Each figure
is the median of several runs after one warm-up; peak memory is the largest resident set
size of a run (wait4's ru_maxrss).

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
import urllib.request


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


class Invocations(http.server.BaseHTTPRequestHandler):
    """Hands out the payloads of `queue` one per poll and times each until its response."""
    queue = []
    started = {}
    answers = []
    deadline_ms = 900_000  # each invocation's time limit (Lambda-Runtime-Deadline-Ms)
    done = threading.Event()
    lock = threading.Lock()

    def do_GET(self):  # noqa: N802 (the http.server interface)
        if not self.path.endswith("/runtime/invocation/next"):
            self.send_response(404)
            self.end_headers()
            return
        with Invocations.lock:
            item = Invocations.queue.pop(0) if Invocations.queue else None
        if item is None:
            time.sleep(5)
            self.send_response(503)
            self.end_headers()
            return
        rid, body = item
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", rid)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + Invocations.deadline_ms))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:archiver")
        self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        Invocations.started[rid] = time.perf_counter()
        self.wfile.write(body)
        self.wfile.flush()

    def do_POST(self):  # noqa: N802
        end = time.perf_counter()
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        rid = self.path.split("/invocation/", 1)[1].split("/", 1)[0]
        ok = self.path.endswith("/response")
        self.send_response(202)
        self.end_headers()
        with Invocations.lock:
            Invocations.answers.append((rid, ok, end - Invocations.started.get(rid, end), body))
            if not Invocations.queue:
                Invocations.done.set()

    def log_message(self, *args):
        pass


def invocations(archiver, payload_file, runs, pin):
    """Median milliseconds per invocation of `archiver` on payload_file against the local S3
    server (the first invocation, which opens the connections, is left out)."""
    bucket = "dmd-bench-invoke"
    env = dict(os.environ, AWS_LAMBDA_FUNCTION_NAME="archiver", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1024",
               AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_LAMBDA_LOG_STREAM_NAME="bench",
               AWS_LAMBDA_LOG_GROUP_NAME="bench", ARCHIVE_BUCKET=bucket, RUST_LOG="warn")
    cmd = (["taskset", "-c", "0"] if pin else []) + [archiver]
    return serve_invocations(cmd, env, bucket, payload_file, runs)[0]


def serve_invocations(cmd, env, bucket, payload_file, runs):
    """Starts `cmd` (an archiver) with `env` and the runtime API stand-in, hands it
    payload_file runs + 1 times, and returns the median milliseconds per invocation (the
    first left out) and its resident set (VmHWM, KiB) after the last."""
    endpoint = os.environ["DMD_MOTO_ENDPOINT"]
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{bucket}", method="PUT")).read()
    body = open(payload_file, "rb").read()
    Invocations.queue = [(f"bench-{i}", body) for i in range(runs + 1)]
    Invocations.answers, Invocations.started = [], {}
    Invocations.done.clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Invocations)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    finished = Invocations.done.wait(300)
    rss = high_water_kib(proc.pid)
    proc.kill()
    _, err = proc.communicate()
    server.shutdown()
    server.server_close()
    if not finished or not all(ok for _, ok, _, _ in Invocations.answers):
        sys.exit(f"bench: archiver invocations failed: {[a[3][:300] for a in Invocations.answers]} {err.decode()[-2000:]}")
    return statistics.median(seconds * 1000 for _, _, seconds, _ in Invocations.answers[1:]), rss


def serve_api(payloads):
    """The runtime API stand-in on a free loopback port, with `payloads` (id, body) to
    hand out; returns the server and its address (host:port)."""
    Invocations.queue = list(payloads)
    Invocations.answers, Invocations.started = [], {}
    Invocations.done.clear()
    api = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Invocations)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    return api, f"127.0.0.1:{api.server_address[1]}"


def write_between(path, begin, end, text):
    """Puts `text` between the markers `begin` and `end` of the Markdown file `path`."""
    old = open(path).read()
    if begin not in old or end not in old:
        sys.exit(f"bench: {path} has no {begin} ... {end}")
    head, rest = old.split(begin, 1)
    with open(path, "w") as f:
        f.write(f"{head}{begin}\n{text.rstrip()}\n{end}{rest.split(end, 1)[1]}")


def archiver_env(api, endpoint, bucket, memory_mb=512):
    """The environment of the archiver as Lambda starts it, against the runtime API
    stand-in `api` (host:port) and the S3 at `endpoint`, with dummy credentials."""
    return dict(os.environ, AWS_LAMBDA_FUNCTION_NAME="archiver", AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(memory_mb),
                AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_LAMBDA_LOG_STREAM_NAME="bench",
                AWS_LAMBDA_LOG_GROUP_NAME="bench", ARCHIVE_BUCKET=bucket, RUST_LOG="warn", AWS_REGION="eu-west-1",
                AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_ENDPOINT_URL_S3=endpoint,
                AWS_LAMBDA_RUNTIME_API=api)


def high_water_kib(pid):
    """The largest resident set of a running process so far (VmHWM), in KiB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


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
    ap.add_argument("--no-pinned", action="store_true", help="skip the runs pinned to one core")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    small = generate(args.dmd, args.work, 100_000, 1000, 7)
    large = generate(args.dmd, args.work, 10_000, 10_000, 8)
    out = os.path.join(args.work, "out")
    results = {}
    pins = [("all cores", [])] + ([] if args.no_pinned else [("one core", ["taskset", "-c", "0"])])
    for label, files, nrec in (("100 x 1,000", small, 100_000), ("1 x 10,000", large, 10_000)):
        env_snappy = dict(os.environ, AVRO_CODEC="snappy")
        env_deflate = {k: v for k, v in os.environ.items() if k != "AVRO_CODEC"}
        for cores, pin in pins:
            rows = [
                measure("Python baseline (json + fastavro, deflate)",
                        lambda: pin + [args.python, args.baseline, out] + files, args.runs, out_dir=out),
                measure("floor (read + serde_json::Value)", lambda: pin + [args.floor] + files, args.runs),
                measure("dmd archive (deflate)", lambda: pin + [args.dmd, "archive", "--out", out] + files,
                        args.runs, env=env_deflate, out_dir=out),
                measure("dmd archive (snappy)", lambda: pin + [args.dmd, "archive", "--out", out] + files,
                        args.runs, env=env_snappy, out_dir=out),
            ]
            for r in rows:
                r["records"] = nrec
                r["records_per_s"] = nrec / r["median_s"]
            results[f"{label} records, {cores}"] = rows
    cold = cold_start(args.archiver, max(args.runs, 10)) if args.archiver else None
    invoke = {}
    if args.archiver and os.environ.get("DMD_MOTO_ENDPOINT"):
        for cores, pin in pins:
            invoke[cores] = invocations(args.archiver, small[0], max(args.runs, 10), bool(pin))

    def get(label, prefix):
        return next(r for r in results[label] if r["name"].startswith(prefix))

    one = "one core" if not args.no_pinned else "all cores"
    py, floor = get("100 x 1,000 records, all cores", "Python"), get("100 x 1,000 records, all cores", "floor")
    dd = get("100 x 1,000 records, all cores", "dmd archive (deflate)")
    ds = get("100 x 1,000 records, all cores", "dmd archive (snappy)")
    big = get("1 x 10,000 records, all cores", "dmd archive (deflate)")
    py1, floor1 = get(f"100 x 1,000 records, {one}", "Python"), get(f"100 x 1,000 records, {one}", "floor")
    dd1 = get(f"100 x 1,000 records, {one}", "dmd archive (deflate)")
    ds1 = get(f"100 x 1,000 records, {one}", "dmd archive (snappy)")
    big1 = get(f"1 x 10,000 records, {one}", "dmd archive (deflate)")
    checks = [
        (f"{one}: dmd archive (deflate) vs the Python baseline", f"{py1['median_s'] / dd1['median_s']:.1f}x faster",
         ">= 8x", py1["median_s"] / dd1["median_s"] >= 8),
        (f"{one}: dmd archive (snappy) vs the floor", f"{ds1['median_s'] / floor1['median_s']:.2f}x the floor's time",
         "<= 0.35x", ds1["median_s"] <= 0.35 * floor1["median_s"]),
        (f"{one}: peak RSS, one 10,000-record file", f"{big1['peak_rss_kib'] / 1024:.1f} MiB", "<= 32 MiB",
         big1["peak_rss_kib"] <= 32 * 1024),
        ("all cores: dmd archive (deflate) vs the Python baseline", f"{py['median_s'] / dd['median_s']:.1f}x faster", ">= 8x",
         py["median_s"] / dd["median_s"] >= 8),
        ("all cores: dmd archive (snappy) vs the floor", f"{ds['median_s'] / floor['median_s']:.2f}x the floor's time", "<= 1.0x",
         ds["median_s"] <= floor["median_s"]),
        ("peak RSS, 1,000-record files", f"{dd['peak_rss_kib'] / 1024:.1f} MiB", "<= 32 MiB", dd["peak_rss_kib"] <= 32 * 1024),
        ("peak RSS, one 10,000-record file", f"{big['peak_rss_kib'] / 1024:.1f} MiB", "<= 64 MiB",
         big["peak_rss_kib"] <= 64 * 1024),
        ("100k records vs 10k records", f"{dd['median_s'] / big['median_s']:.2f}x the time", "<= 10.5x",
         dd["median_s"] / big["median_s"] <= 10.5),
    ]
    if cold is not None:
        checks.append(("Lambda cold start (exec to first poll)", f"{cold:.1f} ms", "<= 20 ms", cold <= 20))
    for cores, ms in invoke.items():
        checks.append((f"{cores}: archiver per invocation, 1,000 records, local S3 (moto)",
                       f"{ms:.0f} ms ({1000 / ms * 1000:,.0f} records/s)", "report", True))
    size = os.path.getsize(args.archiver) if args.archiver else None

    lines = [f"Measured by `make bench` on {dt.date.today().isoformat()}: {machine()}.",
             f"Each time is the median of {args.runs} runs after a warm-up run; peak RSS is the largest of those runs.",
             "\"one core\" runs are pinned with `taskset -c 0` (a Lambda function below 1,769 MB has one vCPU);",
             "\"all cores\" runs may use every core. The archiver's invocations run against moto's S3 on this machine.",
             "Workload: `dmd generate` output, DynamoDB Streams events with all four record types, INSERT/MODIFY/REMOVE,",
             "TTL deletions and PII: 100,000 records in 100 files of 1,000, and one file of 10,000.", ""]
    for label, rows in results.items():
        lines += [f"## {label}", "", "| program | median | records/s | peak RSS |", "| --- | ---: | ---: | ---: |"]
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
