"""The Parquet tables (`<type>_parquet`) as Athena gets them, over a folder written by
`dmd archive` and compacted by `dmd compact`: their CREATE EXTERNAL TABLE, from
template.yaml, runs in Spark with Hive support next to the Avro tables'. Every row of a
Parquet table must be a row of its Avro table, and every change of the Avro table must
be in it exactly once. The files themselves are read with pyarrow and DuckDB, two
readers independent of the writer, and the Parquet queries of docs/athena.md run and
are checked against answers computed here.

Athena reads a Parquet table's partition through the symlink manifest at the
partition's location; Spark cannot (its Parquet reader wants the files at the location,
and Hive's SymlinkTextInputFormat reads the files a manifest lists as text). So the
test does what Athena does with a manifest: it reads it, checks
that every line names a part of the partition's current generation and that the
generation holds nothing else, and registers the partition at that generation's
folder."""

from __future__ import annotations

import collections
import datetime as dt
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

import scenario
from conftest import BUCKET, RECORD_TYPES, archive, data_files, dmd, glue_tables, read_avro
from test_athena_queries import canon, multiset, spark  # noqa: F401  (spark: the module's Spark session)

DATABASE = "dmd_archive"
CODECS = ("deflate", "snappy", "zstandard", "null")
QUERIES = {q["name"]: q["sql"] for q in glue_tables.load_queries() if q["name"].endswith("_parquet")}
TESTED_QUERIES: set[str] = set()
PART = re.compile(r"(?P<type>\w+)/dt=(?P<day>\d{4}-\d{2}-\d{2})/(?P<generation>[0-9a-f]{32})/part-(?P<n>\d+)\.parquet")


def compact(root: Path, *args: str) -> dict[tuple[str, str], dict]:
    """`dmd compact --out ROOT ARGS`: its line for each (type, dt)."""
    lines = [json.loads(line) for line in dmd("compact", "--out", str(root), *args).splitlines() if line.strip()]
    by_partition = {(line["record_type"], line["partition_date"]): line for line in lines}
    assert len(by_partition) == len(lines), "one line per partition"
    assert not [line for line in lines if "error" in line]
    return by_partition


def avro_partitions(root: Path) -> dict[tuple[str, str], tuple[int, list[dict]]]:
    """(type, dt) -> the number of its Avro files and their records, read with fastavro."""
    out = collections.defaultdict(lambda: (0, []))
    for t in RECORD_TYPES:
        for path in data_files(root, t):
            files, records = out[(t, path.parent.name.removeprefix("dt="))]
            out[(t, path.parent.name.removeprefix("dt="))] = (files + 1, records + read_avro(path)[1])
    return dict(out)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def compacted(tmp_path_factory):
    """An archive of generated events (both sources, every codec) and the scenario,
    compacted three times: once, again with nothing new, and after a late file that
    holds one change archived before (a duplicate, in a new Avro file)."""
    base = tmp_path_factory.mktemp("parquet")
    events = base / "events"
    dmd("generate", "--records", "600", "--batch", "200", "--source", "dynamodb", "--seed", "21",
        "--bad-percent", "5", "--out", str(events / "dynamodb"))
    dmd("generate", "--records", "300", "--batch", "150", "--source", "kinesis", "--seed", "22",
        "--bad-percent", "5", "--out", str(events / "kinesis"))
    files = sorted((events / "dynamodb").glob("*.json")) + sorted((events / "kinesis").glob("*.json"))
    files += scenario.write(events / "scenario")
    root = base / "bucket"
    for i, f in enumerate(files):
        archive(root, [f], env={"AVRO_CODEC": CODECS[i % len(CODECS)]})
    runs = {"before": avro_partitions(root), "first": compact(root)}
    copy = snapshot(root / "compacted")
    runs["second"] = compact(root)
    runs["unchanged"] = snapshot(root / "compacted") == copy
    # f-903's INSERT again, in a batch of its own: a new Avro file in demand dt=2026-11-10.
    main = json.loads((events / "scenario" / "scenario-batch.json").read_text(encoding="utf-8"))
    (again,) = [r for r in main["Records"] if r["eventName"] == "INSERT"
                and r["dynamodb"]["Keys"] == {"pk": {"S": "FAN#f-903"}, "sk": {"S": "DEMAND#e-900#s-900"}}]
    late = events / "late.json"
    late.write_text(json.dumps({"Records": [again]}), encoding="utf-8")
    archive(root, [late])
    runs["third"] = compact(root)
    return root, runs


def key(r: dict) -> tuple[str, str]:
    return r["change_id"], r["sequence_number"]


# ---------------------------------------------------------------------------
# dmd compact's lines and the folder it leaves


def test_first_run_compacts_every_partition_once(compacted):
    root, runs = compacted
    assert set(runs["first"]) == set(runs["before"]) and runs["first"]
    dropped = 0
    for (t, day), line in runs["first"].items():
        files, records = runs["before"][(t, day)]
        assert line["skipped"] is False
        assert line["avro_files"] == files
        assert line["records"] == len({key(r) for r in records})
        assert line["records"] + line["duplicates_dropped"] == len(records)
        assert re.fullmatch(r"[0-9a-f]{32}", line["generation"])
        for n, f in enumerate(line["files"]):
            m = PART.fullmatch(f.removeprefix("compacted/"))
            assert m and (m["type"], m["day"], m["generation"], int(m["n"])) == (t, day, line["generation"], n), f
        dropped += line["duplicates_dropped"]
    # The scenario's retried batch archived two changes twice.
    assert dropped >= 2


def test_second_run_writes_nothing(compacted):
    _, runs = compacted
    assert runs["unchanged"], "an unchanged partition is not rebuilt"
    assert set(runs["second"]) == set(runs["first"])
    for p, line in runs["second"].items():
        assert line["skipped"] is True
        assert (line["generation"], line["files"]) == (runs["first"][p]["generation"], runs["first"][p]["files"])


def test_a_late_file_rebuilds_its_partition_only(compacted):
    root, runs = compacted
    late = ("demand", "2026-11-10")
    rebuilt = {p for p, line in runs["third"].items() if not line["skipped"]}
    assert rebuilt == {late}
    first, third = runs["first"][late], runs["third"][late]
    assert third["avro_files"] == first["avro_files"] + 1
    assert third["records"] == first["records"] and third["duplicates_dropped"] == first["duplicates_dropped"] + 1
    assert third["generation"] != first["generation"]
    assert not (root / "compacted" / "demand" / "dt=2026-11-10" / first["generation"]).exists()


def test_a_finished_run_leaves_one_generation_named_by_each_manifest(compacted):
    root, runs = compacted
    for (t, day), line in runs["third"].items():
        folder = current_generation(root, t, day)
        assert folder.name == line["generation"]
        assert [p.name for p in folder.parent.iterdir()] == [line["generation"]]
        assert sorted(p.relative_to(root).as_posix() for p in folder.glob("*.parquet")) == sorted(line["files"])
        if not line["skipped"]:
            assert line["bytes"] == sum((root / f).stat().st_size for f in line["files"])
    manifests = root / "compacted" / "_symlink_format_manifest"
    assert {(m.parent.parent.name, m.parent.name.removeprefix("dt=")) for m in manifests.glob("*/dt=*/manifest")} \
        == set(runs["third"])


def current_generation(root: Path, t: str, day: str) -> Path:
    """What Athena does with a partition's symlink manifest: the folder of the files it
    lists, after checking that each line names an existing part of one generation of
    this partition, and that the generation holds those parts and nothing else."""
    text = (root / "compacted" / "_symlink_format_manifest" / t / f"dt={day}" / "manifest").read_text(encoding="utf-8")
    assert text.endswith("\n")
    paths = []
    for line in text.splitlines():
        uri = urlparse(line)
        assert uri.scheme == "file" and uri.netloc == "", line
        path = Path(unquote(uri.path))
        assert path.is_absolute() and path.is_file(), line
        paths.append(path.resolve())
    assert paths
    (folder,) = {p.parent for p in paths}
    relative = folder.relative_to(root.resolve() / "compacted").as_posix()
    assert re.fullmatch(rf"{t}/dt={day}/[0-9a-f]{{32}}", relative), relative
    # The folder holds the parts the manifest names and the generation's description.
    assert sorted(paths) == sorted(p.resolve() for p in folder.iterdir() if p.name != "_generation.json")
    described = json.loads((folder / "_generation.json").read_text(encoding="utf-8"))
    assert described["generation"] == folder.name
    assert sorted(root / k for k in described["files"]) == sorted(paths)
    return folder


# ---------------------------------------------------------------------------
# The files, with two independent readers


def arrow_type(t) -> str:
    """A pyarrow type in the Avro schema's terms (entry and element names aside)."""
    import pyarrow as pa

    if pa.types.is_timestamp(t):
        return f"timestamp-millis ({t.tz})" if t.unit == "ms" else str(t)
    if pa.types.is_map(t):
        return f"map<{arrow_type(t.key_type)},{arrow_type(t.item_type)}>"
    if pa.types.is_list(t):
        return f"array<{arrow_type(t.value_type)}>"
    return {"string": "string", "int64": "long", "bool": "boolean"}.get(str(t), str(t))


def avro_type(typ) -> str:
    if isinstance(typ, dict) and typ.get("logicalType") == "timestamp-millis":
        return "timestamp-millis (UTC)"
    if isinstance(typ, dict) and typ["type"] == "map":
        return f"map<string,{avro_type(typ['values'])}>"
    if isinstance(typ, dict) and typ["type"] == "array":
        return f"array<{avro_type(typ['items'])}>"
    return typ


def test_parts_have_the_avro_schemas_columns(compacted):
    """Names, order, types and nullability of the Avro fields (no dt column); zstd,
    and min/max statistics in every column chunk that holds a value."""
    import pyarrow.parquet as pq

    root, runs = compacted
    schemas = glue_tables.load_schemas()
    for (t, _), line in runs["third"].items():
        expected = []
        for f in schemas[t]["fields"]:
            nullable = isinstance(f["type"], list)
            expected.append((f["name"], avro_type(f["type"][1] if nullable else f["type"]), nullable))
        for f in line["files"]:
            parquet = pq.ParquetFile(root / f)
            got = [(field.name, arrow_type(field.type).replace("(+00:00)", "(UTC)"), field.nullable)
                   for field in parquet.schema_arrow]
            assert got == expected, f
            for column in parquet.schema:
                if column.logical_type.type == "TIMESTAMP":
                    text = column.logical_type.to_json().replace(" ", "")
                    assert '"isAdjustedToUTC":true' in text and '"timeUnit":"milliseconds"' in text, text
            for i in range(parquet.metadata.num_row_groups):
                group = parquet.metadata.row_group(i)
                for c in range(group.num_columns):
                    chunk = group.column(c)
                    assert chunk.compression == "ZSTD", (f, chunk.path_in_schema)
                    stats = chunk.statistics
                    assert stats is not None and (stats.has_min_max or stats.null_count == chunk.num_values), \
                        (f, chunk.path_in_schema)


def test_duckdb_reads_each_change_once_through_the_manifests(compacted):
    import duckdb

    root, _ = compacted
    before = avro_partitions(root)
    for t in RECORD_TYPES:
        days = sorted(day for (kind, day) in before if kind == t)
        parts = [str(p) for day in days for p in sorted(current_generation(root, t, day).glob("*.parquet"))]
        ((rows, distinct),) = duckdb.sql(
            "SELECT count(*), count(DISTINCT change_id || '/' || sequence_number) FROM read_parquet($parts)",
            params={"parts": parts},
        ).fetchall()
        assert rows == distinct == len({key(r) for day in days for r in before[(t, day)][1]}), t


# ---------------------------------------------------------------------------
# The tables in Spark


@pytest.fixture(scope="module")
def catalog(spark, template, compacted):  # noqa: F811
    """The Avro and Parquet tables from the template's DDL; the Avro partitions where
    projection points, the Parquet ones at the generation their manifest names."""
    root, runs = compacted
    # With this setting (Spark's default, set so that the test does not depend on it), a
    # table whose SerDe is ParquetHiveSerDe is read by Spark's own Parquet reader: the
    # InputFormat is ignored and a partition's location must hold the Parquet files,
    # here the generation folder that the manifest names. With false, Hive's reader goes
    # through SymlinkTextInputFormat, which takes every file at the location for a
    # manifest of text files: it fails on the generation folder's Parquet files, and
    # returns no rows at the manifest's own folder.
    spark.conf.set("spark.sql.hive.convertMetastoreParquet", "true")
    s3_root, local_root = f"s3://{BUCKET}/", root.as_uri() + "/"
    spark.sql(f"CREATE DATABASE `{DATABASE}`")
    partitions = {}
    for ti, ddl in glue_tables.all_ddl({"ArchiveBucket": BUCKET, "GlueDatabase": DATABASE}, template):
        name, location = ti["Name"], ti["StorageDescriptor"]["Location"]
        if name == "errors":
            continue
        athena_location = f"LOCATION {glue_tables.sql_string(location)}"
        assert ddl.count(athena_location) == 1
        local = location.replace(s3_root, local_root, 1)
        spark.sql(ddl.replace(athena_location, f"LOCATION {glue_tables.sql_string(local)}"))
        props = {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES `{DATABASE}`.`{name}`").collect()}
        found = []
        for day in glue_tables.projected_dates(props):
            folder = root / glue_tables.render_location(props, day).removeprefix(s3_root)
            if not folder.is_dir():
                continue
            if name.endswith("_parquet"):
                assert [p.name for p in folder.iterdir()] == ["manifest"]
                folder = current_generation(root, name.removesuffix("_parquet"), day)
            # Not as_uri(): it would escape the = of dt=, which Hadoop then reads literally.
            found.append((day, f"file://{folder}"))
        assert found, f"no partition of {name} holds files"
        clauses = " ".join(f"PARTITION (dt={glue_tables.sql_string(d)}) LOCATION {glue_tables.sql_string(loc)}"
                           for d, loc in found)
        spark.sql(f"ALTER TABLE `{DATABASE}`.`{name}` ADD {clauses}")
        partitions[name] = [d for d, _ in found]
    spark.sql(f"USE `{DATABASE}`")
    for t in RECORD_TYPES:
        assert partitions[f"{t}_parquet"] == partitions[t] == sorted(day for (kind, day) in runs["third"] if kind == t)
    return partitions


@pytest.fixture(scope="module")
def avro_rows(spark, catalog):  # noqa: F811
    """Every row of each Avro table, read through Hive's AvroSerDe."""
    return {t: [r.asDict(recursive=True) for r in spark.sql(f"SELECT * FROM {t}").collect()] for t in RECORD_TYPES}


def deduplicated(rows: list[dict]) -> list[dict]:
    return list({key(r): r for r in rows}.values())


@pytest.mark.parametrize("record_type", RECORD_TYPES)
def test_parquet_table_holds_each_change_of_the_avro_table_once(spark, avro_rows, record_type):  # noqa: F811
    table = spark.table(f"{record_type}_parquet")
    assert [f.name for f in table.schema.fields] == [f.name for f in spark.table(record_type).schema.fields]
    assert [f.dataType for f in table.schema.fields] == [f.dataType for f in spark.table(record_type).schema.fields]
    rows = [r.asDict(recursive=True) for r in table.collect()]
    copies = collections.defaultdict(set)
    for r in avro_rows[record_type]:
        copies[key(r)].add(canon(r))
    assert len(rows) == len({key(r) for r in rows}) == len(copies) > 0
    for r in rows:
        assert canon(r) in copies[key(r)], r
    # A change archived twice differs only in archived_at between its copies.
    drop = lambda r: {k: v for k, v in r.items() if k != "archived_at"}  # noqa: E731
    assert multiset(map(drop, rows)) == multiset(map(drop, deduplicated(avro_rows[record_type])))


def run(spark, name: str, *args) -> list[dict]:  # noqa: F811
    TESTED_QUERIES.add(name)
    return [r.asDict(recursive=True) for r in spark.sql(QUERIES[name], args=list(args)).collect()]


def newest(rows, by):
    best = {}
    for r in rows:
        rank = (r["change_time"], int(r["sequence_number"]))
        if r[by] not in best or rank > best[r[by]][0]:
            best[r[by]] = (rank, r)
    return [r for _, r in best.values()]


def test_daily_demand_parquet(spark, catalog, avro_rows):  # noqa: F811
    for day in catalog["demand_parquet"]:
        expected = collections.defaultdict(lambda: [0, 0, 0])
        for r in newest([r for r in deduplicated(avro_rows["demand"]) if r["dt"] == day], "reference_id"):
            e = expected[(r["event_id"], r["sale_id"])]
            e[0] += 1
            e[1] += int(r["is_deleted"])
            e[2] += 0 if r["is_deleted"] else (r["quantity"] or 0)
        rows = run(spark, "daily_demand_parquet", day)
        got = {(r["event_id"], r["sale_id"]): [r["demands"], r["deleted"], r["tickets_requested"]] for r in rows}
        assert got == dict(expected) and len(rows) == len(got) > 0, day
        assert list(got) == sorted(got)
        if day == "2026-11-10":
            for k, value in scenario.DAILY.items():
                assert tuple(got[k]) == value


def test_deletions_of_day_parquet(spark, catalog, avro_rows):  # noqa: F811
    expected = collections.defaultdict(collections.Counter)
    for t in RECORD_TYPES:
        for r in deduplicated(avro_rows[t]):
            if r["is_deleted"]:
                expected[r["deleted_at"].date().isoformat()][(t, r["deletion_kind"])] += 1
    assert set(scenario.DELETIONS) <= {(day, t, kind) for day, c in expected.items() for t, kind in c}
    for day in sorted(expected):
        rows = run(spark, "deletions_of_day_parquet", day)
        got = {(r["record_type"], r["deletion_kind"]): r["deletions"] for r in rows}
        assert got == dict(expected[day]), day
        assert list(got) == sorted(got)
    for (day, t, kind), n in scenario.DELETIONS.items():
        assert expected[day][(t, kind)] == n
    # A day without deletions.
    assert run(spark, "deletions_of_day_parquet", (dt.date.fromisoformat(min(expected)) - dt.timedelta(days=1)).isoformat()) == []


def test_every_parquet_query_ran():
    """Runs last in this module: each Parquet query of docs/athena.md was checked above."""
    assert QUERIES and TESTED_QUERIES == set(QUERIES), f"not tested: {sorted(set(QUERIES) - TESTED_QUERIES)}"
