#!/usr/bin/env bash
# Runs a command with the local servers the end-to-end tests need, and stops them after.
# usage: tests/with-servers.sh COMMAND [ARG...]
#
# Starts moto's server (S3, DynamoDB, DynamoDB Streams) on 127.0.0.1 on a free port (or on
# $DMD_MOTO_PORT when set) and
# exports, for the command and everything it starts:
#   DMD_MOTO_ENDPOINT, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3   http://127.0.0.1:PORT
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION       dummy values for moto
# and points the AWS shared config and credential files at empty files, so that nothing
# on this machine can send a request to AWS. A server that does not come up is a
# failure; the servers are stopped however the command ends.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${DMD_VENV:-$root/.venv}"
moto_server="$venv/bin/moto_server"
python="$venv/bin/python"
if [[ ! -x "$moto_server" ]]; then
  echo "with-servers.sh: $moto_server is missing: run 'make venv' (tests/py/requirements.txt)" >&2
  exit 1
fi

state="$(mktemp -d "${TMPDIR:-/tmp}/dmd-servers.XXXXXX")"
pids=()
stop() {
  local status=$?
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$state"
  exit "$status"
}
trap stop EXIT
trap 'exit 130' INT TERM

# A port nobody listens on now (the kernel's choice for port 0).
free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits until http://127.0.0.1:$1/ answers, or fails with the server's log.
wait_http() {
  local port=$1 pid=$2 log=$3 name=$4
  for _ in $(seq 1 150); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "with-servers.sh: $name exited at start; its log:" >&2
      cat "$log" >&2
      exit 1
    fi
    if "$python" - "$port" <<'EOF' 2>/dev/null; then
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1)
except urllib.error.HTTPError:
    pass
EOF
      return 0
    fi
    sleep 0.2
  done
  echo "with-servers.sh: $name did not answer on 127.0.0.1:$port within 30 s; its log:" >&2
  cat "$log" >&2
  exit 1
}

port="${DMD_MOTO_PORT:-$(free_port)}"
"$moto_server" -H 127.0.0.1 -p "$port" >"$state/moto.log" 2>&1 &
pids+=($!)
wait_http "$port" "${pids[-1]}" "$state/moto.log" "moto_server"

: >"$state/aws-config"
export DMD_MOTO_ENDPOINT="http://127.0.0.1:$port"
export AWS_ENDPOINT_URL="$DMD_MOTO_ENDPOINT"
export AWS_ENDPOINT_URL_S3="$DMD_MOTO_ENDPOINT"
export AWS_ACCESS_KEY_ID=dmd-test
export AWS_SECRET_ACCESS_KEY=dmd-test
export AWS_REGION=eu-west-1
export AWS_DEFAULT_REGION=eu-west-1
export AWS_CONFIG_FILE="$state/aws-config"
export AWS_SHARED_CREDENTIALS_FILE="$state/aws-config"
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN
echo "with-servers.sh: moto_server on $DMD_MOTO_ENDPOINT" >&2

# Not exec: the trap must run after the command.
"$@"
