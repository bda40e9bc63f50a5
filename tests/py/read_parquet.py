#!/usr/bin/env python3
"""Reads the Parquet copy of the archive with readers independent of dmd-pipeline's
writer (pyarrow's Parquet C++ reader, or DuckDB's own Parquet reader) and prints what
the tests compare.

read_parquet.py rows --reader pyarrow|duckdb [--manifest FILE [--map URI_PREFIX=DIR]...] [PART...]
    One JSON line per row (keys sorted): timestamps as epoch milliseconds, maps as
    objects with sorted keys, lists as arrays, nulls as null. The parts are the files
    given, then those a symlink manifest names (one URI per line: file:///path, or any
    URI whose prefix --map replaces with a local folder, e.g. s3://bucket/=/tmp/copy/).

read_parquet.py stats PART...
    One JSON line per column chunk with statistics: "path", "row_group", and "min" and
    "max" as text (bytes decoded as UTF-8, replacing what does not decode), from pyarrow.

read_parquet.py schema PART
    One JSON object with the facts of the file's Parquet schema and metadata:
    "columns": the top-level fields in order as a tree (name, repetition, physical_type,
    converted_type, logical_type, children), from DuckDB's parquet_schema();
    "leaves": every leaf column (path, physical_type, logical_type as pyarrow's JSON,
    max_definition_level, max_repetition_level), from pyarrow;
    "chunks": every column chunk of every row group (row_group, path, compression,
    has_min_max, null_count, num_values) from pyarrow, with DuckDB's view of the same
    chunk (duckdb_compression, duckdb_min_max);
    "num_rows", "row_groups".
"""
import argparse
import json
import sys
from urllib.parse import unquote, urlparse

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


def manifest_parts(path, maps):
    """The local paths of the parts a symlink manifest names."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines():
            uri = line.strip()
            if not uri:
                continue
            for prefix, folder in maps:
                if uri.startswith(prefix):
                    out.append(folder.rstrip("/") + "/" + uri[len(prefix):])
                    break
            else:
                parsed = urlparse(uri)
                if parsed.scheme != "file":
                    sys.exit(f"read_parquet.py: {uri}: not a file:// URI and no --map for it")
                out.append(unquote(parsed.path))
    return out


def plain_arrow(value, typ):
    """A pyarrow Python value as canonical JSON (timestamps are converted column-wise)."""
    if value is None:
        return None
    if pa.types.is_map(typ):
        return {k: plain_arrow(v, typ.item_type) for k, v in sorted(value)}
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return [plain_arrow(v, typ.value_type) for v in value]
    if pa.types.is_struct(typ):
        return {f.name: plain_arrow(value[f.name], f.type) for f in typ}
    return value


def rows_pyarrow(paths):
    for path in paths:
        table = pq.ParquetFile(path).read()
        columns = {}
        for field, column in zip(table.schema, table.columns):
            if pa.types.is_timestamp(field.type):
                millis = pc.cast(column, pa.timestamp("ms", tz=field.type.tz))
                columns[field.name] = pc.cast(millis, pa.int64()).to_pylist()
            else:
                columns[field.name] = [plain_arrow(v, field.type) for v in column.to_pylist()]
        for i in range(table.num_rows):
            yield {name: values[i] for name, values in columns.items()}


def plain_duck(value):
    if isinstance(value, dict):
        return {k: plain_duck(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [plain_duck(v) for v in value]
    return value


def quoted(name):
    return '"' + name.replace('"', '""') + '"'


def rows_duckdb(paths):
    if not paths:
        return
    con = duckdb.connect()
    # hive_partitioning off: the rows are what the files hold, not a dt taken from the path.
    source = "read_parquet(?, hive_partitioning = false)"
    columns = con.execute(f"DESCRIBE SELECT * FROM {source}", [paths]).fetchall()
    select = ", ".join(
        f"epoch_ms({quoted(name)}) AS {quoted(name)}" if typ.startswith("TIMESTAMP") else quoted(name)
        for name, typ, *_ in columns
    )
    cur = con.execute(f"SELECT {select} FROM {source}", [paths])
    names = [d[0] for d in cur.description]
    while True:
        chunk = cur.fetchmany(4096)
        if not chunk:
            break
        for row in chunk:
            yield {n: plain_duck(v) for n, v in zip(names, row)}


def schema_tree(con, path):
    nodes = con.execute(
        "SELECT name, type, repetition_type, num_children, converted_type, logical_type FROM parquet_schema(?)", [path]
    ).fetchall()
    pos = 0

    def take():
        nonlocal pos
        name, physical, repetition, children, converted, logical = nodes[pos]
        pos += 1
        node = {
            "name": name,
            "repetition": repetition,
            "physical_type": physical,
            "converted_type": converted,
            "logical_type": logical,
            "children": [],
        }
        for _ in range(children or 0):
            node["children"].append(take())
        return node

    return take()["children"]


def schema(path):
    con = duckdb.connect()
    pf = pq.ParquetFile(path)
    meta = pf.metadata
    leaves = []
    for i in range(meta.num_columns):
        c = pf.schema.column(i)
        leaves.append(
            {
                "path": c.path,
                "physical_type": c.physical_type,
                "logical_type": json.loads(c.logical_type.to_json()),
                "max_definition_level": c.max_definition_level,
                "max_repetition_level": c.max_repetition_level,
            }
        )
    duck = con.execute(
        "SELECT row_group_id, column_id, compression, stats_min_value IS NOT NULL AND stats_max_value IS NOT NULL "
        "FROM parquet_metadata(?)",
        [path],
    ).fetchall()
    duck = {(rg, col): (comp, mm) for rg, col, comp, mm in duck}
    chunks = []
    for rg in range(meta.num_row_groups):
        group = meta.row_group(rg)
        for col in range(group.num_columns):
            c = group.column(col)
            stats = c.statistics
            comp, mm = duck.get((rg, col), (None, None))
            chunks.append(
                {
                    "row_group": rg,
                    "path": c.path_in_schema,
                    "compression": c.compression,
                    "has_min_max": bool(stats is not None and stats.has_min_max),
                    "null_count": None if stats is None or not stats.has_null_count else stats.null_count,
                    "num_values": c.num_values,
                    "duckdb_compression": comp,
                    "duckdb_min_max": mm,
                }
            )
    return {
        "columns": schema_tree(con, path),
        "leaves": leaves,
        "chunks": chunks,
        "num_rows": meta.num_rows,
        "row_groups": meta.num_row_groups,
    }


def stats(paths):
    import pyarrow.parquet as pq
    for path in paths:
        meta = pq.ParquetFile(path).metadata
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in range(group.num_columns):
                col = group.column(c)
                st = col.statistics
                if st is None or not st.has_min_max:
                    continue
                text = lambda v: v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                yield {"path": col.path_in_schema, "row_group": g, "min": text(st.min), "max": text(st.max)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    rows = sub.add_parser("rows")
    rows.add_argument("--reader", choices=["pyarrow", "duckdb"], required=True)
    rows.add_argument("--manifest")
    rows.add_argument("--map", action="append", default=[], metavar="URI_PREFIX=DIR")
    rows.add_argument("parts", nargs="*")
    sch = sub.add_parser("schema")
    sch.add_argument("part")
    st = sub.add_parser("stats")
    st.add_argument("parts", nargs="+")
    args = ap.parse_args()
    if args.mode == "stats":
        for line in stats(args.parts):
            print(json.dumps(line, sort_keys=True, ensure_ascii=False))
        return
    if args.mode == "schema":
        print(json.dumps(schema(args.part), sort_keys=True))
        return
    maps = [tuple(m.split("=", 1)) for m in args.map]
    paths = list(args.parts)
    if args.manifest:
        paths += manifest_parts(args.manifest, maps)
    reader = rows_pyarrow if args.reader == "pyarrow" else rows_duckdb
    out = sys.stdout
    for row in reader(paths):
        out.write(json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
