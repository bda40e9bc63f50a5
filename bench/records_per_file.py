#!/usr/bin/env python3
"""Records per Avro data file, run by `make bench-files`.

The archiver writes one data file per (record type, partition date) of each batch, so the
size of its files depends on how many records a batch holds and how they spread over types
and dates. This script generates workloads with `dmd generate`, archives them with
`dmd archive --out`, counts the records of every data file from its Avro block headers, and
writes two tables between the markers of the "Records per file" section of
docs/performance.md:

  - batch sizes 1,000 / 5,000 / 10,000, with partition dates spread over 1, 2 and 7 days;
  - table write rates x batching windows x BatchSize: the effective batch size (computed)
    and the records per file measured at that batch size.

The figures depend on the workload only (the generator is deterministic), not on the machine.

bench/records_per_file.py --dmd target/debug/dmd --work /dev/shm/dmd-bench/files \\
    --out docs/performance.md
"""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys

BATCH_SIZES = (1000, 5000, 10_000)
SPREADS = (1, 2, 7)  # days the partition timestamps spread over (`dmd generate --days`)
RATES = (10, 100, 1000)  # changes per second reaching one batch
WINDOWS = (1, 5, 20, 40, 300)  # MaximumBatchingWindowInSeconds
MAPPING_BATCH_SIZES = (1000, 10_000)  # the event source mapping's BatchSize
PAYLOAD_LIMIT = 6 * 1024 * 1024  # Lambda's invocation payload limit, 6 MB
TARGET = 100  # records per file the archive aims at
MIN_RECORDS = 20_000  # records per workload, at least
MIN_BATCHES = 10  # batches per workload, at least
SEED = 7
BEGIN, END = "<!-- files:begin -->", "<!-- files:end -->"


def read_long(data, pos):
    """Decodes one Avro long (zig-zag varint) at pos; returns (value, next position)."""
    shift = result = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return (result >> 1) ^ -(result & 1), pos
        shift += 7


def skip_header(data):
    """Returns the position of the first data block of an Avro object container file."""
    if data[:4] != b"Obj\x01":
        raise ValueError("not an Avro object container file")
    pos = 4
    while True:  # the metadata map, in blocks
        count, pos = read_long(data, pos)
        if count == 0:
            return pos + 16  # the sync marker
        if count < 0:
            count = -count
            _, pos = read_long(data, pos)  # the block's size in bytes
        for _ in range(2 * count):  # key and value of each entry
            size, pos = read_long(data, pos)
            pos += size


def count_records(path):
    """Counts the records of an Avro data file from its block headers, without decoding them."""
    with open(path, "rb") as f:
        data = f.read()
    pos, total = skip_header(data), 0
    while pos < len(data):
        count, pos = read_long(data, pos)
        size, pos = read_long(data, pos)
        total += count
        pos += size + 16
    return total


def data_files(out):
    """The Avro data files written under out/data."""
    for root, _, names in os.walk(os.path.join(out, "data")):
        for name in names:
            if name.endswith(".avro"):
                yield os.path.join(root, name)


def generate(dmd, folder, records, batch, days, source="dynamodb"):
    """Writes the event files of a workload into folder; returns their paths."""
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run([dmd, "generate", "--records", str(records), "--batch", str(batch), "--days", str(days),
                    "--seed", str(SEED), "--source", source, "--out", folder], check=True, stderr=subprocess.DEVNULL)
    return sorted(os.path.join(folder, name) for name in os.listdir(folder))


def measure(dmd, work, batch, days):
    """Archives a generated workload of batches of `batch` records; returns its file statistics."""
    batches = max(MIN_BATCHES, math.ceil(MIN_RECORDS / batch))
    events = generate(dmd, os.path.join(work, "events"), batch * batches, batch, days)
    out = os.path.join(work, "out")
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([dmd, "archive", "--out", out] + events, check=True, stdout=subprocess.DEVNULL)
    counts = sorted(count_records(path) for path in data_files(out))
    if sum(counts) != batch * batches:
        sys.exit(f"records_per_file: {sum(counts)} records in the files, {batch * batches} generated")
    shutil.rmtree(out)
    shutil.rmtree(os.path.dirname(events[0]))
    return {"batch": batch, "days": days, "batches": batches, "files": len(counts),
            "files_per_batch": len(counts) / batches, "min": counts[0], "median": statistics.median(counts),
            "mean": statistics.mean(counts), "max": counts[-1],
            "share_target": sum(c for c in counts if c >= TARGET) / sum(counts)}


def bytes_per_record(dmd, work, source):
    """The average size of a record in the generated event payloads of a source."""
    records = 10_000
    events = generate(dmd, os.path.join(work, "size"), records, 1000, 1, source)
    size = sum(os.path.getsize(path) for path in events)
    shutil.rmtree(os.path.dirname(events[0]))
    return size / records


def effective_batch(rate, window, batch_size, cap):
    """Records per invocation at a steady rate: min(BatchSize, rate x window, 6 MB cap)."""
    return min(batch_size, rate * window, cap)


def limited_by(rate, window, batch_size, cap):
    """Which of the three limits end the batch (several when they are equal)."""
    n = effective_batch(rate, window, batch_size, cap)
    limits = (("window", rate * window), ("BatchSize", batch_size), ("6 MB", cap))
    return " = ".join(name for name, value in limits if value == n)


def fmt(x):
    """A count or a median: whole numbers without decimals."""
    return f"{x:,.0f}" if x == int(x) else f"{x:,.1f}"


def pct(x):
    """A share as a percentage that reads 0 % or 100 % only when it is exactly that."""
    if 0 < x < 0.01:
        return "< 1 %"
    if 0.99 < x < 1:
        return "> 99 %"
    return f"{100 * x:.0f} %"


def batch_table(stats):
    """The Markdown table of records per file by batch size and partition spread."""
    lines = ["| batch size | partition days | files per batch | min | median | mean | max | records in files of 100+ |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for s in stats:
        lines.append(f"| {s['batch']:,} | {s['days']} | {s['files_per_batch']:.1f} | {s['min']:,} | "
                     f"{fmt(s['median'])} | {fmt(s['mean'])} | {s['max']:,} | {pct(s['share_target'])} |")
    return lines


def window_table(by_batch, cap):
    """The Markdown table of effective batches (computed) and their records per file (measured)."""
    head = "| changes/s | window (s) | rate x window |"
    rule = "| ---: | ---: | ---: |"
    for size in MAPPING_BATCH_SIZES:
        head += (f" BatchSize {size:,}: batch (computed) | files per batch | median records per file |"
                 " in files of 100+ |")
        rule += " ---: | ---: | ---: | ---: |"
    lines = [head, rule]
    for rate in RATES:
        for window in WINDOWS:
            row = f"| {rate:,} | {window} | {rate * window:,} |"
            for size in MAPPING_BATCH_SIZES:
                n = effective_batch(rate, window, size, cap)
                s = by_batch[n]
                row += (f" {n:,} ({limited_by(rate, window, size, cap)}) | {s['files_per_batch']:.1f} | "
                        f"{fmt(s['median'])} | {pct(s['share_target'])} |")
            lines.append(row)
    return lines


def report(batch_stats, window_stats, sizes, cap):
    """The text between the markers: both tables and how they were made."""
    ddb, kinesis = sizes["dynamodb"], sizes["kinesis"]
    kinesis_cap = int(PAYLOAD_LIMIT // kinesis)
    largest = max(BATCH_SIZES)
    return "\n".join([
        f"Measured by `make bench-files`: `dmd generate --seed {SEED} --days D` (DynamoDB Streams events, all four",
        "record types, INSERT/MODIFY/REMOVE), archived by `dmd archive`; records counted in every data file.",
        f"Each row archives at least {MIN_BATCHES} batches and {MIN_RECORDS:,} records. "
        "The figures depend on the workload, not on the machine.",
        "",
        "### By batch size (measured)",
        "",
        *batch_table(batch_stats),
        "",
        f"A generated DynamoDB Streams record takes {ddb:,.0f} bytes of payload on average "
        f"(Kinesis: {kinesis:,.0f}), so",
        f"Lambda's 6 MB payload limit holds at most {cap:,} of them ({kinesis_cap:,} from Kinesis): "
        f"a {largest:,}-record",
        f"batch of this workload is never delivered whole (the {largest:,} rows hold for records of "
        f"{PAYLOAD_LIMIT // largest:,}",
        "bytes or less).",
        "",
        "### By write rate and batching window",
        "",
        "Effective batch (computed) = min(BatchSize, rate x MaximumBatchingWindowInSeconds, "
        f"6 MB / {ddb:,.0f} bytes = {cap:,}),",
        "for a steady rate of changes on one shard that the function keeps up with; in brackets, the limit that",
        "ends the batch. Files per batch, median records per file and the share of records in files of 100+",
        "are measured by archiving batches of exactly that size, partition dates on 1 day.",
        "",
        *window_table(window_stats, cap),
    ]) + "\n"


def write_section(path, text):
    """Puts text between the markers of path, appending the section when it has none."""
    old = open(path).read() if os.path.exists(path) else ""
    if BEGIN not in old or END not in old:
        old = f"{old.rstrip()}\n\n## Records per file\n\n{BEGIN}\n{END}\n"
    head, rest = old.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    with open(path, "w") as f:
        f.write(f"{head}{BEGIN}\n{text}{END}{tail}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dmd", required=True, help="the dmd binary")
    ap.add_argument("--work", default=".bench/files", help="scratch folder for events and archives")
    ap.add_argument("--out", help="the Markdown file to write the tables into")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    sizes = {source: bytes_per_record(args.dmd, args.work, source) for source in ("dynamodb", "kinesis")}
    cap = int(PAYLOAD_LIMIT // sizes["dynamodb"])
    batch_stats = [measure(args.dmd, args.work, batch, days) for batch in BATCH_SIZES for days in SPREADS]
    needed = sorted({effective_batch(r, w, b, cap) for r in RATES for w in WINDOWS for b in MAPPING_BATCH_SIZES})
    window_stats = {n: measure(args.dmd, args.work, n, 1) for n in needed}
    text = report(batch_stats, window_stats, sizes, cap)
    print(text)
    if args.out:
        write_section(args.out, text)
    with open(os.path.join(args.work, "results.json"), "w") as f:
        json.dump({"bytes_per_record": sizes, "payload_cap": cap, "by_batch": batch_stats,
                   "by_window": list(window_stats.values())}, f, indent=2)


if __name__ == "__main__":
    main()
