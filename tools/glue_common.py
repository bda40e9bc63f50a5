"""What every generated Glue table of template.yaml shares: the record types and their
Avro schemas (crates/archive/schemas/<type>.avsc), the Hive column type of each Avro
field, and the YAML fragments the tables are written with (quoting, logical ids,
partition projection, columns). Used by glue_tables.py (the Avro and errors tables)
and glue_parquet.py (the Parquet tables). Standard library only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "crates" / "archive" / "schemas"

RECORD_TYPES = ("demand", "notification", "event", "sale")

PARTITION_COMMENT = "UTC date of the record's partition timestamp (YYYY-MM-DD), from the key"


class SchemaError(Exception):
    """An Avro schema that Athena cannot read as the archive needs."""


def load_schemas(directory: Path = SCHEMAS) -> dict[str, dict]:
    """The Avro schema of each record type, as parsed JSON."""
    out = {}
    for t in RECORD_TYPES:
        path = directory / f"{t}.avsc"
        schema = json.loads(path.read_text(encoding="utf-8"))
        if schema.get("type") != "record" or schema.get("name") != t:
            raise SchemaError(f"{path}: expected a record named {t!r}")
        out[t] = schema
    return out


def hive_type(avro, where: str) -> str:
    """The Hive/Athena column type of an Avro field type (the subset the archive uses)."""
    if isinstance(avro, list):
        rest = [x for x in avro if x != "null"]
        if len(avro) != 2 or avro[0] != "null" or len(rest) != 1:
            raise SchemaError(f"{where}: only [\"null\", X] unions are readable in Athena, not {avro}")
        return hive_type(rest[0], where)
    if isinstance(avro, dict):
        kind = avro.get("type")
        logical = avro.get("logicalType")
        if logical is not None:
            if kind == "long" and logical == "timestamp-millis":
                return "timestamp"
            raise SchemaError(f"{where}: logical type {logical!r} on {kind!r} is not supported")
        if kind == "map":
            return f"map<string,{hive_type(avro['values'], where)}>"
        if kind == "array":
            return f"array<{hive_type(avro['items'], where)}>"
        return hive_type(kind, where)
    scalars = {"string": "string", "long": "bigint", "int": "int", "boolean": "boolean", "double": "double"}
    if avro in scalars:
        return scalars[avro]
    raise SchemaError(f"{where}: Avro type {avro!r} is not supported")


def columns(schema: dict) -> list[tuple[str, str, str | None]]:
    """(name, Hive type, comment) of each field, in schema order."""
    out = []
    for f in schema["fields"]:
        name = f["name"]
        if name != name.lower() or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise SchemaError(f"{schema['name']}.{name}: Athena needs snake_case column names")
        out.append((name, hive_type(f["type"], f"{schema['name']}.{name}"), f.get("doc")))
    return out


def q(s: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(s, ensure_ascii=False)


def single_quoted(s: str) -> str:
    """A YAML single-quoted scalar: easier to read for JSON text than double quotes."""
    if "\n" in s:
        raise ValueError("a single-quoted scalar here must be one line")
    return "'" + s.replace("'", "''") + "'"


def logical_id(name: str) -> str:
    return "".join(p.capitalize() for p in re.split(r"[_\-\s]+", name) if p)


def projection_yaml(lines: list[str], location_sub: str) -> None:
    """The `projection.dt.*` table parameters and the location template of `dt`."""
    lines += [
        '          projection.enabled: "true"',
        "          projection.dt.type: date",
        "          projection.dt.format: yyyy-MM-dd",
        '          projection.dt.range: !Sub "${ProjectionStartDate},NOW"',
        '          projection.dt.interval: "1"',
        "          projection.dt.interval.unit: DAYS",
        # ${!dt} is CloudFormation's escape for a literal ${dt}, which Athena fills in.
        f'          storage.location.template: !Sub "{location_sub}dt=${{!dt}}"',
    ]


def partition_keys_yaml(lines: list[str], comment: str) -> None:
    lines += [
        "        PartitionKeys:",
        "          - Name: dt",
        "            Type: string",
        f"            Comment: {q(comment)}",
    ]


def columns_yaml(lines: list[str], cols) -> None:
    lines.append("          Columns:")
    for name, typ, comment in cols:
        lines.append(f"            - Name: {name}")
        lines.append(f"              Type: {q(typ)}")
        if comment:
            lines.append(f"              Comment: {q(comment)}")
