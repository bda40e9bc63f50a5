"""template.yaml, the Parquet copy: the compactor function and its least-privilege role
(no delete anywhere), the schedule that invokes it, its FIFO queue and dead-letter
queue, the copy's lifecycle rules, its alarms and dashboard, and the `<type>_parquet`
Glue tables, whose columns must be the Avro tables' columns."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest

from conftest import BUCKET, RECORD_TYPES, ROOT, glue_tables
from test_template import DDB_STREAM, KINESIS_STREAM, KMS_KEY, Stack, assert_lints_clean, dashboard, dashboard_rows, param, sam_transform

COMPACTOR_ENV = {"DMD_FUNCTION", "ARCHIVE_BUCKET", "DATA_PREFIX", "ERROR_PREFIX", "MANIFEST_PREFIX", "COMPACT_PREFIX", "COMPACT_QUEUE_URL",
                 "COMPACT_LOOKBACK_MINUTES"}
COMPACTOR_METRICS = {"CompactedRecords", "DuplicatesDropped", "CompactedPartitions", "CompactFailures", "QueuedPartitions"}
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
SYMLINK_INPUT = "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"


def stack(template, **params) -> Stack:
    return Stack(template, **{"SourceStreamArn": DDB_STREAM, **params})


# ---------------------------------------------------------------------------
# Linting and parameters


@pytest.mark.parametrize("params", [{}, {"DataRetentionInDays": "400", "CompactPrefix": "parquet/v1/",
                                         "CompactSchedule": "cron(15 * * * ? *)", "SourceType": "kinesis",
                                         "SourceStreamArn": KINESIS_STREAM}])
def test_sam_transform_then_cfn_lint_is_clean(template, tmp_path, params):
    """With and without data expiry (which adds the copy's expiry rule)."""
    out = sam_transform(template, {"SourceStreamArn": DDB_STREAM, **params})
    assert out["Resources"]["CompactorFunction"]["Type"] == "AWS::Lambda::Function"
    assert_lints_clean(out, tmp_path)


def test_parameters(template):
    prefix = param(template, "CompactPrefix")
    assert prefix["Default"] == "compacted/"
    for key in ("Type", "AllowedPattern", "ConstraintDescription"):
        assert prefix[key] == param(template, "DataPrefix")[key], key
    assert re.fullmatch(prefix["AllowedPattern"], "parquet/v1/") and not re.fullmatch(prefix["AllowedPattern"], "parquet")
    schedule = param(template, "CompactSchedule")
    assert schedule["Default"] == "rate(1 hour)"
    for good in ("rate(1 hour)", "rate(15 minutes)", "cron(0 * * * ? *)"):
        assert re.fullmatch(schedule["AllowedPattern"], good), good
    for bad in ("hourly", "rate 1 hour", ""):
        assert not re.fullmatch(schedule["AllowedPattern"], bad), bad
    memory = param(template, "CompactorMemorySize")
    assert (memory["Default"], memory["MinValue"], memory["MaxValue"]) == (2048, 128, 10240)
    retired = param(template, "RetiredGenerationRetentionInDays")
    assert retired["Default"] == 1 and retired["MinValue"] == 1
    grouped = [p for g in template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"] for p in g["Parameters"]]
    assert sorted(grouped) == sorted(template["Parameters"]), "every parameter belongs to one group"


@pytest.mark.parametrize("compact,valid", [("compacted/", True), ("data/", False), ("errors/", False),
                                           ("manifests/", False), ("parquet/", True)])
def test_prefix_rule_refuses_a_compact_prefix_equal_to_another(template, compact, valid):
    stack_ = stack(template, CompactPrefix=compact)
    results = [stack_.ev(a["Assert"]) for a in template["Rules"]["PrefixesDiffer"]["Assertions"]]
    assert all(results) is valid


# ---------------------------------------------------------------------------
# Least privilege


def statements(template, role: str, **params) -> list[dict]:
    res = stack(template, **params).resource(role)
    assert res, role
    assert "ManagedPolicyArns" not in res, role
    out = []
    for policy in res.get("Policies", []):
        for st in policy["PolicyDocument"]["Statement"]:
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            assert st["Effect"] == "Allow", st
            out.append({"actions": sorted(actions), "resources": sorted(resources), "condition": st.get("Condition")})
    return sorted(out, key=lambda st: st["actions"])


@pytest.mark.parametrize("data,compact", [("data/", "compacted/"), ("a/data/", "a/parquet/")])
def test_compactor_role_is_least_privilege(template, data, compact):
    arn = "<ArchiveBucket.Arn>"
    got = statements(template, "CompactorRole", DataPrefix=data, CompactPrefix=compact)
    assert got == sorted([
        {"actions": ["s3:ListBucket"], "resources": [arn],
         "condition": {"StringLike": {"s3:prefix": [f"{data}*", f"{compact}*", "manifests/*"]}}},
        {"actions": ["s3:GetObject"], "resources": sorted([f"{arn}/{data}*", f"{arn}/{compact}*", f"{arn}/manifests/*"]),
         "condition": None},
        {"actions": ["s3:PutObject", "s3:PutObjectTagging"], "resources": [f"{arn}/{compact}*"], "condition": None},
        {"actions": ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:SendMessage"],
         "resources": ["<CompactQueue.Arn>"], "condition": None},
        {"actions": ["logs:CreateLogStream", "logs:PutLogEvents"], "resources": ["<CompactorLogGroup.Arn>"],
         "condition": None},
    ], key=lambda st: st["actions"])
    trust = stack(template).resource("CompactorRole")["AssumeRolePolicyDocument"]
    (st,) = trust["Statement"]
    assert st["Principal"] == {"Service": "lambda.amazonaws.com"} and st["Action"] == "sts:AssumeRole"
    assert st["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"


def test_no_role_can_delete_or_tag_outside_the_copy(template):
    """Every role of the stack, with every optional grant turned on: no delete of
    objects or versions, no wildcard action, and tagging only under CompactPrefix."""
    params = {"SourceType": "kinesis", "SourceStreamArn": KINESIS_STREAM, "SourceKmsKeyArn": KMS_KEY,
              "Tracing": "Active", "LogDestinationArn": "arn:aws:kinesis:eu-west-1:123456789012:stream/logs"}
    roles = [name for name, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"]
    assert {"ArchiverRole", "RecovererRole", "CompactorRole", "LogSubscriptionRole"} <= set(roles)
    for role in roles:
        for st in statements(template, role, **params):
            for action in st["actions"]:
                assert "*" not in action, (role, action)
                service, _, name = action.partition(":")
                if service == "s3":
                    assert "Delete" not in name, (role, action)
                    assert "Version" not in name and "Lifecycle" not in name and "Policy" not in name, (role, action)
                if "Tagging" in name:
                    assert (role, st["resources"]) == ("CompactorRole", ["<ArchiveBucket.Arn>/compacted/*"]), st
    # The Rust side: the compactor tags, it never deletes an object in a bucket.
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "crates" / "s3" / "src").glob("*.rs"))
    assert ".put_object_tagging()" in sources
    compact_sources = "\n".join(p.read_text(encoding="utf-8") for d in ("compact", "compactor")
                                for p in (ROOT / "crates" / d / "src").glob("*.rs"))
    assert ".delete_object" not in compact_sources and ".delete_objects" not in compact_sources


# ---------------------------------------------------------------------------
# The function, its schedule, its queue


def test_compactor_function(template):
    st = stack(template, CompactorMemorySize="4096", DataPrefix="a/data/", CompactPrefix="a/parquet/", LogLevel="DEBUG")
    fn = st.resource("CompactorFunction")
    archiver = st.resource("ArchiverFunction")
    for key in ("Runtime", "Handler", "Architectures", "CodeUri"):
        assert fn[key] == archiver[key], key
    assert fn["FunctionName"] == "dmd-pipeline-compactor"
    assert fn["Timeout"] == 900 and fn["MemorySize"] == "4096"
    assert fn["Role"] == "<CompactorRole.Arn>" and "Policies" not in fn and "Events" not in fn
    assert fn["LoggingConfig"] == dict(archiver["LoggingConfig"], LogGroup="<CompactorLogGroup>")
    assert fn["LoggingConfig"]["ApplicationLogLevel"] == "DEBUG"
    env = fn["Environment"]["Variables"]
    assert set(env) == COMPACTOR_ENV
    assert env["ARCHIVE_BUCKET"] == "<ArchiveBucket>" and env["COMPACT_QUEUE_URL"] == "<CompactQueue>"
    assert env["DATA_PREFIX"] == "a/data/" and env["COMPACT_PREFIX"] == "a/parquet/"
    # Every function shares the archive's configuration, the compact prefix included.
    for other in ("ArchiverFunction", "RecovererFunction"):
        assert st.resource(other)["Environment"]["Variables"]["COMPACT_PREFIX"] == "a/parquet/", other
    group = st.resource("CompactorLogGroup")
    assert group["LogGroupName"] == "/aws/lambda/dmd-pipeline-compactor" and group["RetentionInDays"] == "30"
    # The archiver's build: `sam build` builds one executable for every function, and
    # DMD_FUNCTION makes it the compactor, which reads the queue's URL.
    assert template["Resources"]["CompactorFunction"]["Metadata"] == template["Resources"]["ArchiverFunction"]["Metadata"]
    assert env["DMD_FUNCTION"] == "compactor"
    main = (ROOT / "crates" / "functions" / "src" / "compactor.rs").read_text(encoding="utf-8")
    assert '"COMPACT_QUEUE_URL"' in main


@pytest.mark.parametrize("expression", ["rate(1 hour)", "cron(5 * * * ? *)"])
def test_schedule_invokes_the_compactor(template, expression):
    params = {} if expression == "rate(1 hour)" else {"CompactSchedule": expression}
    st = stack(template, **params)
    rule = st.resource("CompactScheduleRule")
    assert rule["ScheduleExpression"] == expression and rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert target["Arn"] == "<CompactorFunction.Arn>" and "Input" not in target
    permission = st.resource("CompactSchedulePermission")
    assert permission == {"Action": "lambda:InvokeFunction", "FunctionName": "<CompactorFunction>",
                          "Principal": "events.amazonaws.com", "SourceArn": "<CompactScheduleRule.Arn>"}


def test_queue_is_fifo_with_a_fifo_dead_letter_queue(template):
    st = stack(template)
    queue, dlq = st.resource("CompactQueue"), st.resource("CompactDeadLetterQueue")
    for q in (queue, dlq):
        assert q["FifoQueue"] is True and q["QueueName"].endswith(".fifo") and q["SqsManagedSseEnabled"] is True
    assert queue["ContentBasedDeduplication"] is True
    # Lambda advises a visibility timeout of at least six times the function's timeout.
    assert queue["VisibilityTimeout"] >= 6 * st.resource("CompactorFunction")["Timeout"]
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": "<CompactDeadLetterQueue.Arn>", "maxReceiveCount": 3}
    # A message keeps its first enqueue time in the dead-letter queue: it must be kept longer.
    assert dlq["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]
    policy = st.resource("CompactQueuePolicy")
    assert policy["Queues"] == ["<CompactQueue>", "<CompactDeadLetterQueue>"]
    (deny,) = policy["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == ["<CompactQueue.Arn>", "<CompactDeadLetterQueue.Arn>"]


def test_queue_mapping_compacts_one_partition_per_invocation(template):
    esm = stack(template).resource("CompactorMapping")
    assert esm["FunctionName"] == "<CompactorFunction>" and esm["EventSourceArn"] == "<CompactQueue.Arn>"
    assert esm["BatchSize"] == 1 and esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert esm["ScalingConfig"] == {"MaximumConcurrency": 4} and esm["Enabled"] is True
    assert "MaximumBatchingWindowInSeconds" not in esm, "FIFO queues take no batching window"


# ---------------------------------------------------------------------------
# The bucket


def rules(template, **params) -> dict[str, dict]:
    bucket = stack(template, **params).resource("ArchiveBucket")
    return {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}


def test_lifecycle_expires_retired_generations_and_the_copy_with_its_data(template):
    kept = rules(template)
    retired = kept["expire-retired-generations"]
    assert retired == {"Id": "expire-retired-generations", "Status": "Enabled", "Prefix": "compacted/",
                       "TagFilters": [{"Key": "dmd-retired", "Value": "true"}], "ExpirationInDays": "1"}
    assert "expire-compacted-files" not in kept and "expire-data-files" not in kept
    # The tag is the one the Rust side puts on a retired object.
    retire = (ROOT / "crates" / "archive" / "src" / "retire.rs").read_text(encoding="utf-8")
    assert 'pub const RETIRED_TAG: (&str, &str) = ("dmd-retired", "true");' in retire
    # Data expiry on: the copy (PII included) expires after the same number of days.
    expiring = rules(template, DataRetentionInDays="400", CompactPrefix="parquet/", RetiredGenerationRetentionInDays="3")
    copy = expiring["expire-compacted-files"]
    assert copy == {"Id": "expire-compacted-files", "Status": "Enabled", "Prefix": "parquet/", "ExpirationInDays": "400"}
    assert copy["ExpirationInDays"] == expiring["expire-data-files"]["ExpirationInDays"]
    assert expiring["expire-retired-generations"]["Prefix"] == "parquet/"
    assert expiring["expire-retired-generations"]["ExpirationInDays"] == "3"


# ---------------------------------------------------------------------------
# Alarms, dashboard, operations guide


def test_alarms(template):
    st = stack(template)
    expected = {
        "CompactFailuresAlarm": ("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                                 {"QueueName": "<CompactDeadLetterQueue.QueueName>"}),
        "CompactorErrorsAlarm": ("AWS/Lambda", "Errors", {"FunctionName": "<CompactorFunction>"}),
    }
    for name, (namespace, metric, dims) in expected.items():
        a = st.resource(name)
        assert (a["Namespace"], a["MetricName"], {d["Name"]: d["Value"] for d in a["Dimensions"]}) == (namespace, metric, dims)
        assert a["Threshold"] == 0 and a["ComparisonOperator"] == "GreaterThanThreshold"
        assert a["AlarmActions"] == ["<AlarmTopic>"] and a["OKActions"] == ["<AlarmTopic>"]
        assert a["TreatMissingData"] == "notBreaching"


def compactor_metrics() -> set[str]:
    """The metric names crates/compactor declares in its EMF documents."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "crates" / "compactor" / "src").glob("*.rs"))
    assert '"Namespace": "dmd-pipeline"' in source and '"Dimensions": [["FunctionName"]]' in source
    return set(re.findall(r'\("(\w+)", ', source))


def test_dashboard_and_operations_guide_show_the_compactor(template):
    body = dashboard(template)
    rows = dashboard_rows(body)
    for metric in COMPACTOR_METRICS:
        assert ("dmd-pipeline", metric, "FunctionName", "<CompactorFunction>") in rows, metric
    assert COMPACTOR_METRICS <= compactor_metrics()
    for metric in ("Invocations", "Errors", "Duration"):
        assert ("AWS/Lambda", metric, "FunctionName", "<CompactorFunction>") in rows, metric
    for queue in ("CompactQueue", "CompactDeadLetterQueue"):
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"<{queue}.QueueName>") in rows, queue
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert {"<CompactFailuresAlarm.Arn>", "<CompactorErrorsAlarm.Arn>"} <= set(alarm_widget["properties"]["alarms"])
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for name in (*COMPACTOR_METRICS, "CompactFailuresAlarm", "CompactorErrorsAlarm"):
        assert f"`{name}`" in guide, name
    # What to do: the previous generation stays; rerun the partition by hand.
    assert "leaves the previous generation in place" in guide
    assert "dmd compact --bucket BUCKET --type T --date D" in guide
    outputs = template["Outputs"]
    assert outputs["CompactorFunctionName"]["Value"] == {"Ref": "CompactorFunction"}
    assert outputs["CompactQueueUrl"]["Value"] == {"Ref": "CompactQueue"}


# ---------------------------------------------------------------------------
# The Parquet tables


def tables(template, **params) -> dict[str, dict]:
    overrides = {"ArchiveBucket": BUCKET, "GlueDatabase": "dmd_archive", **params}
    return {ti["Name"]: ti for ti, _ in glue_tables.all_ddl(overrides, template)}


@pytest.mark.parametrize("compact", ["compacted/", "archive/parquet/"])
def test_parquet_tables_are_the_avro_tables_over_the_symlink_manifests(template, compact):
    by_name = tables(template, CompactPrefix=compact)
    for t in RECORD_TYPES:
        avro, parquet = by_name[t], by_name[f"{t}_parquet"]
        sd, avro_sd = parquet["StorageDescriptor"], avro["StorageDescriptor"]
        # Columns: names, order, types (and comments) of the Avro table.
        assert sd["Columns"] == avro_sd["Columns"]
        assert [c["Name"] for c in sd["Columns"]] == [f["name"] for f in glue_tables.load_schemas()[t]["fields"]]
        assert parquet["PartitionKeys"] == avro["PartitionKeys"]
        assert sd["SerdeInfo"] == {"SerializationLibrary": PARQUET_SERDE}
        assert sd["InputFormat"] == SYMLINK_INPUT and sd["OutputFormat"] == TEXT_OUTPUT
        assert parquet["TableType"] == "EXTERNAL_TABLE" and parquet["Parameters"]["classification"] == "parquet"
        # The manifests' folder of the type, one partition folder per dt.
        location = f"s3://{BUCKET}/{compact}_symlink_format_manifest/{t}/"
        assert sd["Location"] == location
        assert parquet["Parameters"]["storage.location.template"] == location + "dt=${dt}"
        # Projection as the Avro table's.
        same = {k: v for k, v in avro["Parameters"].items() if k not in ("classification", "storage.location.template")}
        assert {k: parquet["Parameters"][k] for k in same} == same
        assert set(parquet["Parameters"]) == set(avro["Parameters"])


def test_ddl_command_prints_the_parquet_tables():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "glue_tables.py"), "ddl", "--bucket", "my-archive",
         "--param", "CompactPrefix=parquet/"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    for t in RECORD_TYPES:
        (ddl,) = [s for s in proc.stdout.split(";\n") if f"`dmd_archive`.`{t}_parquet` (" in s]
        assert f"ROW FORMAT SERDE '{PARQUET_SERDE}'" in ddl
        assert f"STORED AS INPUTFORMAT '{SYMLINK_INPUT}'" in ddl
        assert f"LOCATION 's3://my-archive/parquet/_symlink_format_manifest/{t}/'" in ddl
        assert f"'storage.location.template'='s3://my-archive/parquet/_symlink_format_manifest/{t}/dt=${{dt}}'" in ddl


def test_parquet_queries_are_named_for_their_tables():
    """The Parquet tables' saved queries end in `_parquet` (test_athena_queries.py leaves
    them to test_parquet_tables.py by that name), and only they read those tables."""
    queries = glue_tables.load_queries()
    reads = re.compile(r"\b(?:%s)_parquet\b" % "|".join(RECORD_TYPES))
    for q in queries:
        assert bool(reads.search(q["sql"])) == q["name"].endswith("_parquet"), q["name"]
    assert len([q for q in queries if q["name"].endswith("_parquet")]) >= 2
