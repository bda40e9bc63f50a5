#!/usr/bin/env python3
"""The query half of `make bench-compact`, and the report of the whole benchmark.

One single-partition aggregate query, with DuckDB standing in for Athena, over:
- the partition's Avro files: DuckDB has no Avro reader without downloading its avro
  extension, so fastavro decodes every file into a pyarrow table that DuckDB then
  queries; bytes read = the files' total size (a row format is read in full);
- the partition's Parquet copy (the parts its symlink manifest names), read by DuckDB's
  own Parquet reader; bytes read = what the process read from files during the query
  (`rchar` of /proc/self/io);
- the same parts as a pyarrow dataset on a filesystem that counts the bytes each read
  returns (fsspec is not installed, so pyarrow's PyFileSystem does the counting), which
  DuckDB scans with its projection and filter pushed down.
Each is timed as the median of --runs runs, each on a fresh DuckDB connection; the
three results must be equal.

With --compact-lines and --time-file (the output of `/usr/bin/time -v dmd compact`), it
also writes the Markdown report between <!-- compact:begin --> and <!-- compact:end -->
of --out (docs/performance.md).

query_bench.py --archive DIR --type T --date YYYY-MM-DD [--runs N]
               [--compact-lines FILE --time-file FILE --rerun-time-file FILE --rerun-ms MS --dmd PATH
                --workload TEXT --out docs/performance.md]
"""
import argparse
import datetime as dt
import io
import json
import os
import platform
import re
import statistics
import subprocess
import threading
import time
from urllib.parse import unquote, urlparse

import duckdb
import fastavro
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs as pafs

QUERY = """
SELECT status, channel, count(*) AS changes, sum(quantity) AS tickets, count(DISTINCT fan_id) AS fans
FROM {source}
WHERE NOT is_deleted
GROUP BY ALL
ORDER BY ALL
"""


def rchar():
    with open("/proc/self/io", encoding="ascii") as f:
        return int(next(line for line in f if line.startswith("rchar:")).split()[1])


def arrow_type(avro):
    if isinstance(avro, list):
        return arrow_type(next(t for t in avro if t != "null"))
    if isinstance(avro, dict):
        if avro.get("logicalType") == "timestamp-millis":
            return pa.timestamp("ms", tz="UTC")
        if avro["type"] == "map":
            return pa.map_(pa.string(), arrow_type(avro["values"]))
        if avro["type"] == "array":
            return pa.list_(arrow_type(avro["items"]))
        return arrow_type(avro["type"])
    return {"string": pa.string(), "long": pa.int64(), "boolean": pa.bool_()}[avro]


def avro_table(paths):
    """Every record of the Avro files, decoded by fastavro, as one pyarrow table."""
    schema = None
    batches = []
    for path in paths:
        with open(path, "rb") as f:
            reader = fastavro.reader(f)
            if schema is None:
                schema = pa.schema([pa.field(x["name"], arrow_type(x["type"])) for x in reader.writer_schema["fields"]])
            batches.append(pa.RecordBatch.from_pylist(list(reader), schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


class Counter:
    def __init__(self):
        self.bytes = 0
        self.lock = threading.Lock()

    def add(self, n):
        with self.lock:
            self.bytes += n


class CountingFile(io.RawIOBase):
    """A local file that adds the size of every read to a counter."""

    def __init__(self, path, counter):
        self.file = open(path, "rb", buffering=0)
        self.counter = counter

    def readable(self):
        return True

    def seekable(self):
        return True

    def readinto(self, buffer):
        n = self.file.readinto(buffer)
        self.counter.add(n or 0)
        return n

    def seek(self, offset, whence=io.SEEK_SET):
        return self.file.seek(offset, whence)

    def tell(self):
        return self.file.tell()

    def close(self):
        self.file.close()
        super().close()


class CountingFs(pafs.FileSystemHandler):
    """The local filesystem, read only, counting the bytes its files return."""

    def __init__(self, counter):
        self.local = pafs.LocalFileSystem()
        self.counter = counter

    def get_type_name(self):
        return "counting"

    def get_file_info(self, paths):
        return self.local.get_file_info(paths)

    def get_file_info_selector(self, selector):
        return self.local.get_file_info(selector)

    def normalize_path(self, path):
        return self.local.normalize_path(path)

    def open_input_file(self, path):
        return pa.PythonFile(CountingFile(path, self.counter), mode="r")

    def open_input_stream(self, path):
        return self.open_input_file(path)

    def _read_only(self, *args):
        raise NotImplementedError("read only")

    create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = delete_file = _read_only
    move = copy_file = open_output_stream = open_append_stream = _read_only


def connect():
    con = duckdb.connect()
    try:
        con.execute("SET enable_external_file_cache = false")
    except duckdb.Error:
        pass
    return con


def run_avro(paths):
    start = time.perf_counter()
    table = avro_table(paths)
    decoded = time.perf_counter()
    con = connect()
    con.register("partition", table)
    result = con.execute(QUERY.format(source="partition")).fetchall()
    end = time.perf_counter()
    return {"seconds": end - start, "decode_seconds": decoded - start, "rows": table.num_rows}, result


def run_parquet(parts):
    con = connect()
    before = rchar()
    start = time.perf_counter()
    result = con.execute(QUERY.format(source="read_parquet(?, hive_partitioning = false)"), [parts]).fetchall()
    end = time.perf_counter()
    return {"seconds": end - start, "bytes_read": rchar() - before}, result


def run_dataset(parts):
    counter = Counter()
    start = time.perf_counter()
    fs = pafs.PyFileSystem(CountingFs(counter))
    dataset = pads.dataset(parts, format="parquet", filesystem=fs)
    con = connect()
    con.register("partition", dataset)
    result = con.execute(QUERY.format(source="partition")).fetchall()
    end = time.perf_counter()
    return {"seconds": end - start, "bytes_read": counter.bytes}, result


def median_of(runs, fn, arg):
    figures, results = zip(*(fn(arg) for _ in range(runs)))
    assert all(r == results[0] for r in results), "the same query gave different results"
    keys = figures[0].keys()
    return {k: statistics.median_low(f[k] for f in figures) for k in keys}, results[0]


def query_bench(archive, record_type, date, runs):
    folder = os.path.join(archive, "data", record_type, f"dt={date}")
    avro = sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".avro"))
    manifest = os.path.join(archive, "compacted/_symlink_format_manifest", record_type, f"dt={date}", "manifest")
    with open(manifest, encoding="utf-8") as f:
        parts = [unquote(urlparse(line).path) for line in f.read().split()]
    out = {
        "partition": f"{record_type}/dt={date}",
        "avro_files": len(avro),
        "avro_bytes": sum(os.path.getsize(p) for p in avro),
        "parquet_files": len(parts),
        "parquet_bytes": sum(os.path.getsize(p) for p in parts),
    }
    before = rchar()
    out["avro"], by_avro = median_of(runs, run_avro, avro)
    out["avro"]["bytes_read"] = out["avro_bytes"]
    out["avro"]["rchar_per_run"] = (rchar() - before) // runs
    out["parquet"], by_parquet = median_of(runs, run_parquet, parts)
    out["dataset"], by_dataset = median_of(runs, run_dataset, parts)
    assert by_avro == by_parquet == by_dataset, "Avro and Parquet answer differently"
    out["result_rows"] = len(by_parquet)
    out["query"] = " ".join(QUERY.format(source=f"{record_type}").split())
    return out


def time_v(path):
    """Wall time (s), peak RSS (KiB), user+system CPU (s) from `/usr/bin/time -v`."""
    text = open(path, encoding="utf-8").read()
    wall = re.search(r"Elapsed \(wall clock\) time .*: (?:(\d+):)?(\d+):([\d.]+)", text)
    h, m, s = wall.groups()
    seconds = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", text))
    return seconds, rss, cpu


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip() or "rustc ?"
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem / 2**20:.0f} GiB; Linux {platform.release()}; {rustc}; "
        f"Python {platform.python_version()}, pyarrow {pa.__version__}, DuckDB {duckdb.__version__}, "
        f"fastavro {fastavro.__version__}"
    )


def mib(n):
    return f"{n / 2**20:,.1f} MiB"


def report(args, q):
    lines = [json.loads(l) for l in open(args.compact_lines, encoding="utf-8") if l.strip()]
    wall, rss, cpu = time_v(args.time_file)
    _, rerun_rss, _ = time_v(args.rerun_time_file)
    records = sum(l["records"] for l in lines)
    avro_bytes = {}
    for l in lines:
        folder = os.path.join(args.archive, "data", l["record_type"], f"dt={l['partition_date']}")
        avro_bytes[(l["record_type"], l["partition_date"])] = sum(
            os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder)
        )
    total_avro, total_parquet = sum(avro_bytes.values()), sum(l["bytes"] for l in lines)
    build = "release" if "/release/" in args.dmd else "debug (no release build on this machine)"
    out = [
        f"Measured by `make bench-compact` on {dt.date.today().isoformat()}: {machine()}.",
        f"`dmd` build: {build}. Files in {args.work_kind}.",
        f"Workload: {args.workload}.",
        "",
        "### Compacting the day",
        "",
        "| partitions | Avro files | records | duplicates dropped | Avro bytes | Parquet bytes | Parquet / Avro | wall time | CPU (user + sys) | records/s | peak RSS |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {len(lines)} | {sum(l['avro_files'] for l in lines):,} | {records:,} | "
        f"{sum(l['duplicates_dropped'] for l in lines):,} | {mib(total_avro)} | {mib(total_parquet)} | "
        f"{total_parquet / total_avro:.2f} | {wall:.2f} s | {cpu:.2f} s | {records / wall:,.0f} | {rss / 1024:.1f} MiB |",
        "",
        "| partition | Avro files | records | Avro bytes | Parquet parts | Parquet bytes |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for l in lines:
        key = (l["record_type"], l["partition_date"])
        out.append(
            f"| {l['record_type']}/dt={l['partition_date']} | {l['avro_files']} | {l['records']:,} | "
            f"{mib(avro_bytes[key])} | {len(l['files'])} | {mib(l['bytes'])} |"
        )
    out += [
        "",
        f"A second run with nothing changed (every partition skipped, nothing written): {args.rerun_ms} ms, "
        f"peak RSS {rerun_rss / 1024:.1f} MiB.",
        "",
        f"### One partition's aggregate query ({q['partition']}, {q['avro']['rows']:,} records)",
        "",
        f"`{q['query']}` ({q['result_rows']} result rows, the same from every source). "
        f"Median of {args.runs} runs, each on a fresh DuckDB connection.",
        "",
        "| source | how it is read | time | bytes read | of the source's bytes |",
        "| --- | --- | ---: | ---: | ---: |",
        f"| Avro: {q['avro_files']} files, {mib(q['avro_bytes'])} | fastavro -> pyarrow table -> DuckDB "
        f"(decoding {q['avro']['decode_seconds']:.2f} s of it) | {q['avro']['seconds']:.2f} s | "
        f"{mib(q['avro']['bytes_read'])} (every byte; rchar {mib(q['avro']['rchar_per_run'])}) | 100 % |",
        f"| Parquet: {q['parquet_files']} part(s), {mib(q['parquet_bytes'])} | DuckDB read_parquet | "
        f"{q['parquet']['seconds']:.3f} s | {mib(q['parquet']['bytes_read'])} (rchar) | "
        f"{100 * q['parquet']['bytes_read'] / q['parquet_bytes']:.0f} % |",
        f"| Parquet, same part(s) | pyarrow dataset on a byte-counting filesystem, scanned by DuckDB | "
        f"{q['dataset']['seconds']:.3f} s | {mib(q['dataset']['bytes_read'])} (counted) | "
        f"{100 * q['dataset']['bytes_read'] / q['parquet_bytes']:.0f} % |",
    ]
    return "\n".join(out) + "\n"


def write_between_markers(path, text):
    begin, end = "<!-- compact:begin -->", "<!-- compact:end -->"
    doc = open(path, encoding="utf-8").read()
    if begin not in doc or end not in doc:
        raise SystemExit(f"{path}: no {begin} ... {end} block to fill")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + begin + "\n" + text + end + tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archive", required=True)
    ap.add_argument("--type", default="demand")
    ap.add_argument("--date", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--compact-lines")
    ap.add_argument("--time-file")
    ap.add_argument("--rerun-time-file")
    ap.add_argument("--rerun-ms", type=int)
    ap.add_argument("--dmd", default="dmd")
    ap.add_argument("--workload", default="")
    ap.add_argument("--work-kind", default="a local folder")
    ap.add_argument("--out")
    args = ap.parse_args()
    q = query_bench(args.archive, args.type, args.date, args.runs)
    print(json.dumps(q, indent=2))
    if args.compact_lines:
        text = report(args, q)
        print(text)
        if args.out:
            write_between_markers(args.out, text)


if __name__ == "__main__":
    main()
