"""The Parquet tables of template.yaml's generated section: `<type>_parquet`, one per
record type, over the compacted copy that `dmd compact` and the compactor function
write (data contract, section 8).

Each partition of the copy is a folder of Parquet parts, one folder per generation,
and a symlink manifest names the parts of the current generation:
`${CompactPrefix}_symlink_format_manifest/<type>/dt=<day>/manifest`. The tables point
at the manifests (Hive's SymlinkTextInputFormat with the Parquet SerDe, the form
Athena reads), so that overwriting one manifest switches every reader from the old
generation to the new one at once. The columns are the Avro table's, same names,
order and types, so that a query moves from `demand` to `demand_parquet` unchanged.
Standard library only.
"""

from __future__ import annotations

from glue_common import (
    PARTITION_COMMENT,
    columns,
    columns_yaml,
    logical_id,
    partition_keys_yaml,
    projection_yaml,
    q,
)

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
SYMLINK_INPUT = "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"

# The folder of the manifests under COMPACT_PREFIX (the name Delta Lake gives the
# same thing for Athena), and the suffix of the tables' names.
MANIFEST_FOLDER = "_symlink_format_manifest"
SUFFIX = "_parquet"

DESCRIPTION = (
    " The Parquet copy: one row per change (a change archived twice appears once),"
    " from the current generation of each partition."
)


def table_name(record_type: str) -> str:
    return record_type + SUFFIX


def location_sub(record_type: str) -> str:
    """The table's location, as the text of a CloudFormation !Sub."""
    return f"s3://${{ArchiveBucket}}/${{CompactPrefix}}{MANIFEST_FOLDER}/{record_type}/"


def parquet_table_yaml(record_type: str, schema: dict) -> list[str]:
    """The AWS::Glue::Table of one record type's Parquet copy."""
    location = location_sub(record_type)
    lines = [
        f"  {logical_id(table_name(record_type))}Table:",
        "    Type: AWS::Glue::Table",
        "    Properties:",
        "      CatalogId: !Ref AWS::AccountId",
        "      DatabaseName: !Ref GlueDatabase",
        "      TableInput:",
        f"        Name: {table_name(record_type)}",
        f"        Description: {q(schema.get('doc', record_type) + DESCRIPTION)}",
        "        TableType: EXTERNAL_TABLE",
        "        Parameters:",
        '          EXTERNAL: "TRUE"',
        "          classification: parquet",
    ]
    projection_yaml(lines, location)
    partition_keys_yaml(lines, PARTITION_COMMENT)
    lines += [
        "        StorageDescriptor:",
        f'          Location: !Sub "{location}"',
        f"          InputFormat: {SYMLINK_INPUT}",
        f"          OutputFormat: {TEXT_OUTPUT}",
        "          SerdeInfo:",
        f"            SerializationLibrary: {PARQUET_SERDE}",
    ]
    columns_yaml(lines, columns(schema))
    return lines


def render(schemas: dict[str, dict], record_types) -> list[str]:
    """Every Parquet table, with the comment that introduces them."""
    lines = [
        "  # The Parquet copy (dmd compact, CompactorFunction): one table per record type,",
        "  # read through the symlink manifest of each partition's current generation.",
    ]
    for t in record_types:
        lines += parquet_table_yaml(t, schemas[t])
        lines.append("")
    return lines
