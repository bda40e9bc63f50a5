"""Athena compatibility: every table's CREATE EXTERNAL TABLE, as template.yaml gives it
to Athena, runs in Spark with Hive support (Hive's own AvroSerDe, the SerDe Athena
uses). Only LOCATION points at a local folder written by `dmd archive`. Partitions are
registered where the projection properties point. Then every query of docs/athena.md
runs, and its result is compared with values computed here from the Avro and error
files (read with fastavro and json), and with values worked out by hand for a small
scenario (scenario.py).

Where Spark's SQL differs from Athena's, the differences are bridged in one place
(`bridge_functions`, `errors_table_ddl`), and tests/athena/README.md lists them."""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import shutil
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

import scenario
from conftest import BUCKET, RECORD_TYPES, archive, data_files, dmd, error_files, glue_tables, read_avro

DATABASE = "dmd_archive"
CODECS = ("deflate", "snappy", "zstandard", "null")
# The queries of the Parquet tables run in test_parquet_tables.py, over a compacted copy.
QUERIES = {q["name"]: q["sql"] for q in glue_tables.load_queries() if not q["name"].endswith("_parquet")}
TESTED_QUERIES: set[str] = set()

# ---------------------------------------------------------------------------
# The archive: generated events from both sources (bad records included), the
# hand-made scenario, every codec.


@pytest.fixture(scope="module")
def archived(tmp_path_factory):
    base = tmp_path_factory.mktemp("athena")
    events = base / "events"
    dmd("generate", "--records", "1200", "--batch", "400", "--source", "dynamodb", "--seed", "11",
        "--bad-percent", "6", "--out", str(events / "dynamodb"))
    dmd("generate", "--records", "600", "--batch", "300", "--source", "kinesis", "--seed", "12",
        "--bad-percent", "6", "--out", str(events / "kinesis"))
    # The Kinesis-fed deployment has its system metadata set; the others have none.
    system = {"SYSTEM_ID": "tm", "DATABASE_ID": "db-eu-1", "MEMBER_ID": "m-7"}
    files = [(f, {}) for f in sorted((events / "dynamodb").glob("*.json"))]
    files += [(f, system) for f in sorted((events / "kinesis").glob("*.json"))]
    files += [(f, {}) for f in scenario.write(events / "scenario")]
    root = base / "bucket"
    lines = []
    for i, (f, env) in enumerate(files):
        lines += archive(root, [f], env={"AVRO_CODEC": CODECS[i % len(CODECS)], **env})
    return root, lines


def utc(ts: dt.datetime | None) -> dt.datetime | None:
    """A fastavro timestamp (aware, UTC) as Spark returns it here (naive, UTC)."""
    return None if ts is None else ts.astimezone(dt.timezone.utc).replace(tzinfo=None)


@pytest.fixture(scope="module")
def truth(archived):
    """Every archived record, read with fastavro, as {type: [record + dt]}; every error
    line as a dict + dt."""
    root, _ = archived
    out = {}
    schemas = glue_tables.load_schemas()
    for t in RECORD_TYPES:
        rows = []
        for path in data_files(root, t):
            schema, records = read_avro(path)
            assert schema == schemas[t]
            day = path.parent.name.removeprefix("dt=")
            for r in records:
                r = {k: (utc(v) if isinstance(v, dt.datetime) else v) for k, v in r.items()}
                r["dt"] = day
                rows.append(r)
        out[t] = rows
    errors = []
    for path in error_files(root):
        day = path.parent.name.removeprefix("dt=")
        for line in path.read_text(encoding="utf-8").splitlines():
            e = json.loads(line)
            e["dt"] = day
            errors.append(e)
    out["errors"] = errors
    return out


# ---------------------------------------------------------------------------
# Spark with Hive support, and the tables as Athena would get them.


def bridge_functions(spark):
    """Athena (Trino) functions the queries use that Spark names differently. Each is a
    SQL function with the same name and meaning, so the query text stays as written."""
    spark.sql("CREATE TEMPORARY FUNCTION json_extract_scalar(json STRING, path STRING) "
              "RETURNS STRING RETURN get_json_object(json, path)")
    spark.sql("CREATE TEMPORARY FUNCTION from_iso8601_timestamp(text STRING) "
              "RETURNS TIMESTAMP RETURN CAST(text AS TIMESTAMP)")


def errors_table_ddl(ti: dict, location: str) -> str:
    """Spark ships no OpenX JSON SerDe, and a run must not download one: the errors table
    is made with the same columns, partitioning and properties over Spark's JSON source,
    which, like the OpenX SerDe, gives a JSON object in a string column as its JSON
    text."""
    sd = ti["StorageDescriptor"]
    assert sd["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    cols = [*sd["Columns"], *ti["PartitionKeys"]]
    body = ",\n".join(f"  `{c['Name']}` {c['Type']}" for c in cols)
    parts = ", ".join(f"`{c['Name']}`" for c in ti["PartitionKeys"])
    props = ",\n".join(f"  {glue_tables.sql_string(k)}={glue_tables.sql_string(v)}"
                       for k, v in ti["Parameters"].items() if k != "EXTERNAL")
    return (f"CREATE TABLE `{DATABASE}`.`{ti['Name']}` (\n{body}\n) USING json\n"
            f"PARTITIONED BY ({parts})\nLOCATION {glue_tables.sql_string(location)}\nTBLPROPERTIES (\n{props}\n)")


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    java = shutil.which("java") or (os.environ.get("JAVA_HOME") and Path(os.environ["JAVA_HOME"], "bin", "java"))
    assert java, "Java (17) is needed for Spark: install openjdk-17-jre-headless"
    from pyspark.sql import SparkSession

    work = tmp_path_factory.mktemp("spark")
    started = time.monotonic()
    session = (
        SparkSession.builder.master("local[2]")
        .appName("dmd-athena-compat")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "true")
        # Spark replaces ${name} in SQL text with a variable (empty when unset), which
        # would empty the ${dt} of storage.location.template; Athena does not.
        .config("spark.sql.variable.substitute", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.warehouse.dir", str(work / "warehouse"))
        .config("spark.hadoop.javax.jdo.option.ConnectionURL",
                f"jdbc:derby:;databaseName={work / 'metastore'};create=true")
        .config("spark.driver.extraJavaOptions",
                f"-Duser.timezone=UTC -Dderby.system.home={work} -Dderby.stream.error.file={work / 'derby.log'}")
        .enableHiveSupport()
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    assert session.conf.get("spark.sql.catalogImplementation") == "hive"
    print(f"Spark {session.version} with Hive support started in {time.monotonic() - started:.1f}s")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def catalog(spark, template, archived):
    """Creates the tables from the template's DDL and registers the projected partitions
    that hold files. Returns {table: [dt, ...]}."""
    root, _ = archived
    s3_root = f"s3://{BUCKET}/"
    local_root = root.as_uri() + "/"
    spark.sql(f"CREATE DATABASE `{DATABASE}`")
    partitions = {}
    for ti, ddl in glue_tables.all_ddl({"ArchiveBucket": BUCKET, "GlueDatabase": DATABASE}, template):
        name = ti["Name"]
        if name.endswith("_parquet"):
            continue  # the Parquet copy: test_parquet_tables.py
        location = ti["StorageDescriptor"]["Location"]
        local = location.replace(s3_root, local_root, 1)
        if name == "errors":
            spark.sql(errors_table_ddl(ti, local))
        else:
            athena_location = f"LOCATION {glue_tables.sql_string(location)}"
            assert ddl.count(athena_location) == 1
            spark.sql(ddl.replace(athena_location, f"LOCATION {glue_tables.sql_string(local)}"))
        # Partition projection, read back from the table as Athena reads it from Glue.
        props = {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES `{DATABASE}`.`{name}`").collect()}
        found = []
        for day in glue_tables.projected_dates(props):
            where = glue_tables.render_location(props, day)
            assert where.startswith(s3_root)
            folder = root / where[len(s3_root):]
            if folder.is_dir():
                found.append((day, where.replace(s3_root, local_root, 1)))
        assert found, f"no partition of {name} holds files"
        clauses = " ".join(f"PARTITION (dt={glue_tables.sql_string(d)}) LOCATION {glue_tables.sql_string(loc)}"
                           for d, loc in found)
        spark.sql(f"ALTER TABLE `{DATABASE}`.`{name}` ADD {clauses}")
        partitions[name] = [d for d, _ in found]
    spark.sql(f"USE `{DATABASE}`")
    bridge_functions(spark)
    spark.sql(QUERIES["demand_latest"])
    TESTED_QUERIES.add("demand_latest")
    return partitions


def run(spark, name: str, *args) -> list[dict]:
    TESTED_QUERIES.add(name)
    df = spark.sql(QUERIES[name], args=list(args)) if args else spark.sql(QUERIES[name])
    return [r.asDict(recursive=True) for r in df.collect()]


def canon(row: dict) -> str:
    return json.dumps(row, sort_keys=True, default=str)


def multiset(rows) -> collections.Counter:
    return collections.Counter(canon(r) for r in rows)


# ---------------------------------------------------------------------------
# Python's answers to the queries, computed from the files alone.


def newest(rows, key):
    """The latest version of each item: highest change_time, then sequence number."""
    best = {}
    for r in rows:
        k = r[key]
        rank = (r["change_time"], int(r["sequence_number"]))
        if k not in best or rank > best[k][0]:
            best[k] = (rank, r)
    return [r for _, r in best.values()]




def pct(part: int, whole: int) -> Decimal:
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------
# The tables


def test_every_projected_partition_with_files_is_registered(catalog, archived):
    root, lines = archived
    for t in RECORD_TYPES:
        on_disk = sorted(p.name.removeprefix("dt=") for p in (root / "data" / t).iterdir())
        assert catalog[t] == on_disk
        from_summaries = sorted({day for line in lines for day in line["archived"].get(t, {})})
        assert on_disk == from_summaries
    assert catalog["errors"] == sorted(p.name.removeprefix("dt=") for p in (root / "errors").iterdir())


@pytest.mark.parametrize("record_type", RECORD_TYPES)
def test_table_reads_every_record_as_written(spark, catalog, truth, record_type):
    """Every column of every row, through Hive's AvroSerDe, equals what fastavro reads:
    timestamps as UTC instants, maps, arrays, nulls, all four codecs."""
    rows = [r.asDict(recursive=True) for r in spark.sql(f"SELECT * FROM {record_type}").collect()]
    assert len(rows) == len(truth[record_type]) > 0
    assert multiset(rows) == multiset(truth[record_type])


def test_row_counts_match_the_archive_summaries(spark, catalog, archived):
    _, lines = archived
    expected = collections.Counter()
    for line in lines:
        for t, days in line["archived"].items():
            for day, n in days.items():
                expected[(t, day)] += n
    got = collections.Counter()
    for t in RECORD_TYPES:
        for r in spark.sql(f"SELECT dt, count(*) AS n FROM {t} GROUP BY dt").collect():
            got[(t, r["dt"])] = r["n"]
    assert got == expected


def test_timestamps_are_utc(spark, catalog):
    (row,) = spark.sql(
        "SELECT change_time, requested_date, CAST(change_time AS STRING) AS text FROM demand "
        "WHERE reference_id = 'e-900#s-900#f-901' AND change_type = 'INSERT'"
    ).collect()
    assert row["change_time"] == dt.datetime(2026, 11, 10, 10, 0, 0)
    assert row["requested_date"] == dt.datetime(2026, 11, 10, 10, 0, 0)
    assert row["text"] == "2026-11-10 10:00:00"


def test_errors_table_reads_every_error_line(spark, catalog, truth, archived):
    _, lines = archived
    rows = [r.asDict() for r in spark.sql("SELECT * FROM errors").collect()]
    assert len(rows) == len(truth["errors"]) == sum(line["errors"] for line in lines) > 0
    for r in rows:
        r["record"] = json.loads(r["record"])
    assert multiset(rows) == multiset(truth["errors"])


# ---------------------------------------------------------------------------
# The queries of docs/athena.md


def test_demand_latest_view(spark, catalog, truth):
    view_cols = [f.name for f in spark.table("demand_latest").schema.fields]
    table_cols = [f.name for f in spark.table("demand").schema.fields]
    assert sorted(view_cols) == sorted(table_cols), "the view must show every demand column"
    rows = [r.asDict(recursive=True) for r in spark.sql("SELECT * FROM demand_latest").collect()]
    expected = newest(truth["demand"], "reference_id")
    assert len(rows) == len(expected) == len({r["reference_id"] for r in truth["demand"]})
    # A change archived twice has two copies that differ only in archived_at: either may
    # represent it.
    drop = lambda r: {k: v for k, v in r.items() if k != "archived_at"}  # noqa: E731
    assert multiset(map(drop, rows)) == multiset(map(drop, expected))
    # The hand-made story.
    story = {(r["fan_id"], r["sale_id"]): (r["quantity"], r["status"], r["is_deleted"], r["deletion_kind"])
             for r in rows if r["event_id"] == "e-900"}
    assert story == scenario.LATEST
    (f901,) = [r for r in rows if r["reference_id"] == "e-900#s-900#f-901"]
    assert f901["phone_number"] == "REDACTED" and f901["email"] == "REDACTED"
    assert f901["deleted_at"] == dt.datetime(2026, 11, 11, 8, 0, 0)


def test_live_demand_by_sale(spark, catalog, truth):
    rows = run(spark, "live_demand_by_sale")
    expected = collections.defaultdict(lambda: [0, 0])
    for r in newest(truth["demand"], "reference_id"):
        if not r["is_deleted"]:
            e = expected[(r["event_id"], r["sale_id"])]
            e[0] += 1
            e[1] += r["quantity"] or 0
    got = {(r["event_id"], r["sale_id"]): [r["live_demands"], r["tickets_requested"]] for r in rows}
    assert got == dict(expected)
    for key, value in scenario.LIVE_BY_SALE.items():
        assert tuple(got[key]) == value
    order = [(-r["tickets_requested"], r["event_id"], r["sale_id"]) for r in rows]
    assert order == sorted(order)


@pytest.mark.parametrize("first,last", [("2026-11-02", "2026-11-04"), ("2026-11-01", "2026-11-30")])
def test_daily_demand(spark, catalog, truth, first, last):
    rows = run(spark, "daily_demand", first, last)
    expected = collections.defaultdict(lambda: [0, 0, 0])
    for r in newest(truth["demand"], "reference_id"):
        if first <= r["dt"] <= last:
            e = expected[(r["dt"], r["event_id"], r["sale_id"])]
            e[0] += 1
            e[1] += int(r["is_deleted"])
            e[2] += 0 if r["is_deleted"] else (r["quantity"] or 0)
    got = {(r["requested_on"], r["event_id"], r["sale_id"]): [r["demands"], r["deleted"], r["tickets_requested"]]
           for r in rows}
    assert got == dict(expected) and len(rows) == len(got) > 0
    assert [(r["requested_on"], r["event_id"], r["sale_id"]) for r in rows] == sorted(got)
    if first <= "2026-11-10" <= last:
        for (event, sale), value in scenario.DAILY.items():
            assert tuple(got[("2026-11-10", event, sale)]) == value


def test_notification_effectiveness(spark, catalog, truth):
    rows = run(spark, "notification_effectiveness")
    demand = newest(truth["demand"], "reference_id")
    groups = collections.defaultdict(lambda: {"sent": 0, "fans": set(), "converted": set()})
    for n in newest(truth["notification"], "notification_id"):
        if n["sent_date"] is None or (n["status"] or "") == "FAILED":
            continue
        g = groups[(n["event_id"], n["sale_id"], n["channel"])]
        g["sent"] += 1
        g["fans"].add(n["fan_id"])
        if any(d["event_id"] == n["event_id"] and d["sale_id"] == n["sale_id"] and d["fan_id"] == n["fan_id"]
               and d["requested_date"] is not None and d["requested_date"] >= n["sent_date"] for d in demand):
            g["converted"].add(n["fan_id"])
    expected = {k: (g["sent"], len(g["fans"]), len(g["converted"]), pct(len(g["converted"]), len(g["fans"])))
                for k, g in groups.items()}
    got = {(r["event_id"], r["sale_id"], r["channel"]):
           (r["notifications_sent"], r["fans_notified"], r["fans_with_demand_after"], r["conversion_pct"])
           for r in rows}
    assert got == expected and len(rows) == len(got) > 0
    for channel, value in scenario.EFFECTIVENESS.items():
        assert got[("e-900", "s-900", channel)] == value
    assert ("e-900", "s-900", "push") not in got


def deletions(truth):
    for t in RECORD_TYPES:
        for r in truth[t]:
            if r["is_deleted"]:
                yield t, r


def test_deletions_by_day(spark, catalog, truth):
    rows = run(spark, "deletions_by_day")
    changes = collections.defaultdict(set)
    for t, r in deletions(truth):
        changes[(r["deleted_at"].date(), t, r["deletion_kind"])].add(r["change_id"])
    expected = {k: len(v) for k, v in changes.items()}
    got = {(r["deleted_on"], r["record_type"], r["deletion_kind"]): r["deletions"] for r in rows}
    assert got == expected
    assert {"ttl", "user"} == {k[2] for k in got}
    for (day, t, kind), n in scenario.DELETIONS.items():
        assert got[(dt.date.fromisoformat(day), t, kind)] == n
    assert [(r["deleted_on"], r["record_type"], r["deletion_kind"]) for r in rows] == sorted(got)


@pytest.mark.parametrize("start,end", [("2026-11-11", "2026-11-13"), ("2026-11-08 00:00:20", "2026-11-12")])
def test_deleted_items(spark, catalog, truth, start, end):
    rows = run(spark, "deleted_items", start, end)
    lo, hi = dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)
    item = {"demand": "reference_id", "notification": "notification_id", "event": "event_id", "sale": "sale_id"}
    expected = {(r["deleted_at"], t, r[item[t]], r["deletion_kind"], r["change_id"])
                for t, r in deletions(truth) if lo <= r["deleted_at"] < hi}
    got = [(r["deleted_at"], r["record_type"], r["item_id"], r["deletion_kind"], r["change_id"]) for r in rows]
    assert len(got) == len(set(got)) and set(got) == expected and got
    assert [g[:3] for g in got] == sorted(g[:3] for g in got)
    if start == "2026-11-11":
        assert [(str(g[0]), g[1], g[2], g[3]) for g in got] == scenario.DELETED_ITEMS


def test_errors_of_day(spark, catalog, truth, archived):
    days = sorted({e["dt"] for e in truth["errors"]})
    assert days
    _, lines = archived
    by_type = collections.Counter()
    for line in lines:
        by_type.update(line["error_types"])
    total = collections.Counter()
    for day in days:
        rows = run(spark, "errors_of_day", day)
        expected = collections.Counter((e["error_type"], e["record_type"], e["source"])
                                       for e in truth["errors"] if e["dt"] == day)
        got = {(r["error_type"], r["record_type"], r["source"]): r["records"] for r in rows}
        assert got == dict(expected)
        assert [r["records"] for r in rows] == sorted((r["records"] for r in rows), reverse=True)
        for (error_type, _, _), n in got.items():
            total[error_type] += n
    assert total == by_type
    assert {"parse", "unknown_record_type", "validation", "conversion"} <= set(total)


def test_error_records_of_day(spark, catalog, truth):
    for day in sorted({e["dt"] for e in truth["errors"]}):
        rows = run(spark, "error_records_of_day", day)
        expected = []
        for e in truth["errors"]:
            if e["dt"] != day:
                continue
            rec = e["record"]
            scalar = lambda v: None if isinstance(v, (dict, list)) or v is None else str(v)  # noqa: E731
            expected.append({
                "failed_time": utc(dt.datetime.fromisoformat(e["failed_at"].replace("Z", "+00:00"))),
                "error_type": e["error_type"], "record_type": e["record_type"], "source": e["source"],
                "sequence_number": e["sequence_number"], "message": e["message"],
                "stream_event_id": scalar(rec.get("eventID")), "event_name": scalar(rec.get("eventName")),
            })
        assert multiset(rows) == multiset(expected) and rows
        keys = [(r["failed_time"], r["sequence_number"]) for r in rows]
        assert keys == sorted(keys)
    # The scenario's demand without fanId.
    (bad,) = [e for e in truth["errors"] if e["record"].get("eventSourceARN") == scenario.ARN]
    assert bad["error_type"] == "validation" and bad["record_type"] == "demand"


def test_every_documented_query_ran():
    """Runs last in this module: each query of docs/athena.md was checked above."""
    assert TESTED_QUERIES == set(QUERIES), f"not tested: {sorted(set(QUERIES) - TESTED_QUERIES)}"
