#!/usr/bin/env python3
"""How long the built archiver takes to answer a batch it cannot write, for each way S3
can fail: what the source mapping's retry defaults are reckoned from (docs/decisions.md,
"The failure record").

Three loopback stand-ins for S3: one that refuses connections (nothing listening), one
that answers every request `503 SlowDown`, one that accepts connections and never
answers. For each, the median time from the invocation to its answer (every record
handed back for retry), over --runs invocations after one warm-up, with the archiver's
default S3 settings (4 tries, 3 s connect and 10 s attempt timeouts, 30 s per object)
and the template's default timeout (30 s, --timeout).

    make bench-failing  # or, with a built archiver:
    .venv/bin/python bench/failing_invocation.py \\
        --archiver .aws-sam/build/ArchiverFunction-Shared/bootstrap --batch events/dynamodb-batch.json
"""
import argparse
import http.server
import json
import os
import socket
import statistics
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402 (bench/run.py: the runtime API stand-ins)


class SlowDown(http.server.BaseHTTPRequestHandler):
    """Answers every request as S3 does when it sheds load."""

    def answer(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
        self.send_response(503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = do_GET = do_POST = do_HEAD = answer  # noqa: N815

    def log_message(self, *args):
        pass


def refusing():
    """An address where nothing listens."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}", None


def slow_down():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowDown)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server.shutdown


def silent():
    """A listener that accepts connections and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1024)
    return f"http://127.0.0.1:{s.getsockname()[1]}", s.close


def failing(archiver, endpoint, body, runs, timeout):
    run.Invocations.deadline_ms = timeout * 1000
    api, address = run.serve_api((f"fail-{i}", body) for i in range(runs + 1))
    env = run.archiver_env(address, endpoint, "dmd-bench-failing")
    proc = subprocess.Popen([archiver], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finished = run.Invocations.done.wait(60 * (runs + 1))
    proc.kill()
    proc.wait()
    api.shutdown()
    api.server_close()
    if not finished:
        sys.exit("bench: the archiver did not answer every invocation")
    for _, ok, _, answer in run.Invocations.answers:
        failures = json.loads(answer).get("batchItemFailures") if ok else None
        if not failures:
            sys.exit(f"bench: an invocation was not answered with every record to retry: {answer[:300]!r}")
    return statistics.median(seconds for _, _, seconds, _ in run.Invocations.answers[1:])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archiver", required=True)
    ap.add_argument("--batch", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=int, default=30, help="the function's timeout, seconds")
    args = ap.parse_args()
    body = open(args.batch, "rb").read()
    print("| S3 | failing invocation (median) |")
    print("| --- | --- |")
    for name, start in (("refuses connections", refusing), ("answers 503 SlowDown", slow_down),
                        ("never answers", silent)):
        endpoint, stop = start()
        seconds = failing(args.archiver, endpoint, body, args.runs, args.timeout)
        if stop:
            stop()
        print(f"| {name} | {seconds:.2f} s |", flush=True)


if __name__ == "__main__":
    main()
