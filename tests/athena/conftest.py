"""Shared helpers of the template and Athena tests: paths, the `dmd` binary, archiving
events into a local folder, and reading what was written with fastavro."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Timestamps compare as UTC everywhere: in this process (PySpark turns timestamps into
# local datetimes) and in the JVM that PySpark starts (it inherits TZ).
os.environ["TZ"] = "UTC"
time.tzset()

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import glue_tables  # noqa: E402  (tools/glue_tables.py)

BUCKET = "example-archive-bucket"
RECORD_TYPES = glue_tables.RECORD_TYPES


def dmd_bin() -> Path:
    """The `dmd` binary: $DMD_BIN (set by the Makefile) or target/debug/dmd."""
    path = Path(os.environ.get("DMD_BIN") or ROOT / "target" / "debug" / "dmd")
    if not path.is_file():
        raise AssertionError(f"{path} does not exist: build it with `cargo build -p dmd-cli` (make bins)")
    return path


def dmd(*args: str, env: dict[str, str] | None = None) -> str:
    """Runs `dmd ARGS` and returns its standard output; a failure fails the test."""
    full_env = dict(os.environ)
    for k in ("DATA_PREFIX", "ERROR_PREFIX", "MANIFEST_PREFIX", "COMPACT_PREFIX", "AVRO_CODEC", "SYSTEM_ID",
              "DATABASE_ID", "MEMBER_ID", "PII_ATTRIBUTES"):
        full_env.pop(k, None)
    full_env.update(env or {})
    proc = subprocess.run([str(dmd_bin()), *args], capture_output=True, text=True, env=full_env)
    if proc.returncode != 0:
        raise AssertionError(f"dmd {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc.stdout


def archive(out: Path, events: list[Path], env: dict[str, str] | None = None) -> list[dict]:
    """`dmd archive --out OUT EVENTS...`: the summary line of each event file."""
    stdout = dmd("archive", "--out", str(out), *map(str, events), env=env)
    lines = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    if len(lines) != len(events):
        raise AssertionError(f"expected {len(events)} summary lines, got {len(lines)}:\n{stdout}")
    for line in lines:
        if line["batchItemFailures"]:
            raise AssertionError(f"records were not written: {line}")
    return lines


def read_avro(path: Path) -> tuple[dict, list[dict]]:
    """(writer schema as parsed JSON, records) of one Avro file, read with fastavro."""
    import fastavro

    with path.open("rb") as f:
        reader = fastavro.reader(f)
        schema = json.loads(reader.metadata["avro.schema"])
        return schema, list(reader)


def data_files(root: Path, record_type: str, data_prefix: str = "data/") -> list[Path]:
    return sorted((root / data_prefix / record_type).glob("dt=*/*.avro"))


def error_files(root: Path, error_prefix: str = "errors/") -> list[Path]:
    return sorted((root / error_prefix).glob("dt=*/*.json"))


@pytest.fixture(scope="session")
def template() -> dict:
    return glue_tables.load_template()
