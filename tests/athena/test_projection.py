"""Partition projection exists only in Athena. What can be checked here: its properties
render the locations that `dmd archive` writes, for default and custom prefixes, and
every written partition falls inside the projected range."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from conftest import BUCKET, RECORD_TYPES, ROOT, archive, dmd, glue_tables, read_avro


def tables(template, **params) -> dict[str, dict]:
    """Table name -> resolved TableInput, for the given template parameters."""
    overrides = {"ArchiveBucket": BUCKET, "GlueDatabase": "dmd_archive", **params}
    return {ti["Name"]: ti for ti, _ in glue_tables.all_ddl(overrides, template)}


def test_location_template_is_escaped_for_cloudformation(template):
    # In Fn::Sub, ${dt} would be a CloudFormation variable: the template writes ${!dt},
    # which CloudFormation turns into the literal ${dt} that Athena fills in.
    for res in glue_tables.glue_tables(template).values():
        sub = res["Properties"]["TableInput"]["Parameters"]["storage.location.template"]["Fn::Sub"]
        assert sub.endswith("dt=${!dt}"), sub
    for ti in tables(template).values():
        assert ti["Parameters"]["storage.location.template"].endswith("dt=${dt}")


@pytest.mark.parametrize("start", ["2020-01-01", "2025-06-30"])
def test_projection_properties(template, start):
    for name, ti in tables(template, ProjectionStartDate=start).items():
        p = ti["Parameters"]
        assert p["projection.enabled"] == "true"
        assert p["projection.dt.type"] == "date"
        assert p["projection.dt.format"] == "yyyy-MM-dd"
        assert p["projection.dt.range"] == f"{start},NOW"
        assert p["projection.dt.interval"] == "1" and p["projection.dt.interval.unit"] == "DAYS"
        # The partition folders sit right under the table's location.
        location = ti["StorageDescriptor"]["Location"]
        assert p["storage.location.template"] == location + "dt=${dt}"
        if name.endswith("_parquet"):
            prefix = f"compacted/_symlink_format_manifest/{name.removesuffix('_parquet')}/"
        else:
            prefix = "errors/" if name == "errors" else f"data/{name}/"
        assert location == f"s3://{BUCKET}/{prefix}"
        assert [k["Name"] for k in ti["PartitionKeys"]] == ["dt"]


def test_projected_dates_run_from_the_start_to_today():
    params = {"projection.dt.type": "date", "projection.dt.format": "yyyy-MM-dd",
              "projection.dt.range": "2026-02-27,NOW", "projection.dt.interval": "1",
              "projection.dt.interval.unit": "DAYS"}
    dates = glue_tables.projected_dates(params, today=dt.date(2026, 3, 2))
    assert dates == ["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert glue_tables.projected_dates(params)[-1] == today
    params["storage.location.template"] = "s3://b/data/sale/dt=${dt}"
    assert glue_tables.render_location(params, "2026-03-01") == "s3://b/data/sale/dt=2026-03-01"


@pytest.mark.parametrize(
    "data_prefix,error_prefix",
    [("data/", "errors/"), ("archive/v1/data/", "archive/v1/errors/")],
)
def test_projection_renders_the_keys_dmd_archive_writes(template, tmp_path, data_prefix, error_prefix):
    events = tmp_path / "events"
    dmd("generate", "--records", "400", "--batch", "200", "--source", "kinesis", "--seed", "5",
        "--bad-percent", "10", "--out", str(events))
    out = tmp_path / "archive"
    lines = archive(out, sorted(events.glob("*.json")),
                    env={"DATA_PREFIX": data_prefix, "ERROR_PREFIX": error_prefix})
    everything = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    # The manifests (MANIFEST_PREFIX, outside every table) name the files; the tables read the rest.
    manifests = sorted(line["manifest"] for line in lines)
    assert manifests and all(m.startswith("manifests/") for m in manifests)
    written = [k for k in everything if k not in manifests]
    assert written == sorted(f for line in lines for f in line["files"])
    assert any(f.startswith(error_prefix) for f in written)

    by_name = tables(template, DataPrefix=data_prefix, ErrorPrefix=error_prefix)
    # Every location that projection can produce, for every table.
    projected = {}
    for name, ti in by_name.items():
        for day in glue_tables.projected_dates(ti["Parameters"]):
            projected[glue_tables.render_location(ti["Parameters"], day)] = (name, day)
    schemas = glue_tables.load_schemas()
    for key in written:
        folder, _, filename = key.rpartition("/")
        assert f"s3://{BUCKET}/{folder}" in projected, f"{key} is outside every projected partition"
        name, day = projected[f"s3://{BUCKET}/{folder}"]
        if name == "errors":
            assert filename.endswith(".json")
            for line in (out / key).read_text(encoding="utf-8").splitlines():
                assert json.loads(line)["failed_at"][:10] == day
        else:
            assert key.startswith(f"{data_prefix}{name}/") and filename.endswith(".avro")
            schema, records = read_avro(out / key)
            # The file's schema is the table's avro.schema.literal.
            literal = by_name[name]["StorageDescriptor"]["SerdeInfo"]["Parameters"]["avro.schema.literal"]
            assert schema == json.loads(literal) == schemas[name]
            assert records and all(r["partition_date"] == day and r["record_type"] == name for r in records)
    assert {projected[f"s3://{BUCKET}/{k.rpartition('/')[0]}"][0] for k in written} == set(RECORD_TYPES) | {"errors"}


def test_ddl_command_prints_every_table():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "glue_tables.py"), "ddl", "--bucket", "my-archive",
         "--param", "GlueDatabaseName=analytics"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    statements = [s.strip() for s in proc.stdout.split(";\n") if s.strip()]
    assert len(statements) == 9
    for name in (*RECORD_TYPES, "errors", *(f"{t}_parquet" for t in RECORD_TYPES)):
        (ddl,) = [s for s in statements if s.startswith(f"CREATE EXTERNAL TABLE `analytics`.`{name}` (")]
        if name.endswith("_parquet"):
            folder = f"compacted/_symlink_format_manifest/{name.removesuffix('_parquet')}/"
        else:
            folder = "errors/" if name == "errors" else f"data/{name}/"
        assert f"LOCATION 's3://my-archive/{folder}'" in ddl
        assert f"'storage.location.template'='s3://my-archive/{folder}dt=${{dt}}'" in ddl
        assert "'projection.dt.range'='2020-01-01,NOW'" in ddl
