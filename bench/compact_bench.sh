#!/usr/bin/env bash
# Compacting a day of RECORDS records (default 1,000,000) into the Parquet copy, and one
# partition's aggregate query over its Avro files and over its Parquet copy, in DuckDB.
# usage: bench/compact_bench.sh [WORK] [OUT]
#   WORK  folder for the events and the archive (default $BENCH_WORK/compact, else
#         /dev/shm/dmd-bench/compact); emptied first, the events removed once archived
#   OUT   the Markdown file whose <!-- compact:begin/end --> block gets the report
#         (default docs/performance.md; "-" prints it only)
# Environment: RECORDS (1000000), BATCH (10000, records per event file), SEED (7), RUNS
# (3, query runs), DMD_BIN (default target/release/dmd when built, else
# target/debug/dmd), DMD_PYTHON (default .venv/bin/python).
#
# `dmd generate --days 1` puts every partition timestamp on 2026-11-01, so the day is one
# partition per record type. The compaction is timed as a whole process by
# `/usr/bin/time -v` (wall time, peak RSS, CPU); the query by bench/query_bench.py.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-${BENCH_WORK:-/dev/shm/dmd-bench}/compact}"
out="${2:-$root/docs/performance.md}"
records="${RECORDS:-1000000}"
batch="${BATCH:-10000}"
seed="${SEED:-7}"
runs="${RUNS:-3}"
date=2026-11-01
python="${DMD_PYTHON:-$root/.venv/bin/python}"
if [[ -n "${DMD_BIN:-}" ]]; then
  dmd="$DMD_BIN"
elif [[ -x "$root/target/release/dmd" ]]; then
  dmd="$root/target/release/dmd"
else
  dmd="$root/target/debug/dmd"
  echo "compact_bench.sh: no target/release/dmd; using the debug build $dmd" >&2
fi
[[ -x "$dmd" ]] || { echo "compact_bench.sh: $dmd is missing: cargo build --bin dmd" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "compact_bench.sh: /usr/bin/time is missing (GNU time)" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
archive="$work/archive"
echo "compact_bench.sh: generating $records records in files of $batch ($work/events)" >&2
"$dmd" generate --records "$records" --batch "$batch" --days 1 --seed "$seed" --out "$work/events" 2>/dev/null
echo "compact_bench.sh: archiving them with $dmd archive" >&2
"$dmd" archive --out "$archive" "$work/events"/*.json > "$work/archive.jsonl"
rm -rf "$work/events"
dates=$(find "$archive/data" -mindepth 2 -maxdepth 2 -name 'dt=*' -printf '%f\n' | sort -u | tr '\n' ' ')
[[ "$dates" == "dt=$date " ]] || { echo "compact_bench.sh: expected one partition date, got: $dates" >&2; exit 1; }

echo "compact_bench.sh: dmd compact --out $archive" >&2
/usr/bin/time -v -o "$work/compact.time" "$dmd" compact --out "$archive" > "$work/compact.jsonl"
# The rerun takes less than /usr/bin/time's 10 ms resolution: its wall time is taken here.
start=$(date +%s%N)
/usr/bin/time -v -o "$work/rerun.time" "$dmd" compact --out "$archive" > "$work/rerun.jsonl"
rerun_ms=$(( ($(date +%s%N) - start) / 1000000 ))
"$python" -c 'import json, sys; assert all(json.loads(l)["skipped"] for l in open(sys.argv[1])), "the rerun rebuilt"' \
  "$work/rerun.jsonl"

kind="a local folder"
[[ "$work" == /dev/shm/* ]] && kind="/dev/shm (memory), so that the figures measure the programs rather than the disk"
args=(--archive "$archive" --type demand --date "$date" --runs "$runs" --compact-lines "$work/compact.jsonl"
  --time-file "$work/compact.time" --rerun-time-file "$work/rerun.time" --rerun-ms "$rerun_ms" --dmd "$dmd" --work-kind "$kind"
  --workload "\`dmd generate --records $records --batch $batch --days 1 --seed $seed\` (DynamoDB Streams events, all four record types, INSERT/MODIFY/REMOVE, TTL deletions, PII), archived by \`dmd archive --out\`: every record on partition date $date")
[[ "$out" != "-" ]] && args+=(--out "$out")
"$python" "$root/bench/query_bench.py" "${args[@]}"
