#!/usr/bin/env bash
# How long `dmd verify --bucket` takes for an archive of about FILES files on moto's S3.
# usage: tests/with-servers.sh bench/verify_time.sh FILES [RECORDS_PER_BATCH]
# Writes the archive with `dmd archive --bucket` (generated batches over 7 partition
# days: 28 data files and a manifest a batch), then times `dmd verify --bucket`.
set -euo pipefail
files=${1:?usage: verify_time.sh FILES [RECORDS_PER_BATCH]}
per_batch=${2:-100}
root="$(cd "$(dirname "$0")/.." && pwd)"
dmd="${DMD_BIN:-$root/target/debug/dmd}"
python="${DMD_PYTHON:-$root/.venv/bin/python}"
bucket="dmd-verify-$files-$$"
work="$(mktemp -d "${TMPDIR:-/tmp}/dmd-verify.XXXXXX")"
trap 'rm -rf "$work"' EXIT
batches=$(( (files + 28) / 29 ))
"$python" -c "import boto3, os; boto3.client('s3').create_bucket(Bucket='$bucket', CreateBucketConfiguration={'LocationConstraint': os.environ['AWS_REGION']})"
"$dmd" generate --records $(( batches * per_batch )) --batch "$per_batch" --days 7 --seed 7 --out "$work/events" 2>/dev/null
start=$(date +%s.%N)
find "$work/events" -name '*.json' | sort | xargs -n 200 "$dmd" archive --bucket "$bucket" --jobs 2 > /dev/null
archived=$(date +%s.%N)
/usr/bin/time -f '%M' -o "$work/rss" "$dmd" verify --bucket "$bucket" --concurrency 32 > "$work/summary.json" || true
verified=$(date +%s.%N)
"$python" - "$work/summary.json" "$start" "$archived" "$verified" "$(cat "$work/rss")" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
start, archived, verified, rss = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
took = verified - archived
print(json.dumps({"files": s["files"], "listed": s["listed"], "manifests": s["manifests"], "records": s["records"],
                  "bytes": s["bytes"], "ok": s["ok"], "archive_s": round(archived - start, 1),
                  "verify_s": round(took, 1), "files_per_s": round(s["files"] / took), "peak_rss_mib": round(rss / 1024, 1)}))
PY
