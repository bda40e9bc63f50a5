"""template.yaml, the audit against the stream: the auditor function and its
least-privilege role (write access only with AuditRepair), the schedule that invokes
it, its FIFO queue (one group per shard) and dead-letter queue, its alarms, whose
metric is the one crates/auditor prints, and the dashboard."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT
from test_compactor_template import statements as role_statements
from test_template import DDB_STREAM, KINESIS_STREAM, KMS_KEY, Stack, assert_lints_clean, dashboard, dashboard_rows, param, sam_transform

AUDITOR_ENV = {"DMD_FUNCTION", "ARCHIVE_BUCKET", "DATA_PREFIX", "ERROR_PREFIX", "MANIFEST_PREFIX", "COMPACT_PREFIX",
               "AVRO_CODEC", "SYSTEM_ID", "DATABASE_ID", "MEMBER_ID", "PII_ATTRIBUTES", "AUDIT_STREAM_ARN",
               "AUDIT_QUEUE_URL", "AUDIT_WINDOW_MINUTES", "AUDIT_SETTLE_SECONDS", "AUDIT_REPAIR"}
AUDITOR_METRICS = {"AuditedRecords", "MissingRecords", "UnsettledRecords", "RetryingRecords", "RepairedRecords",
                   "UnauditedShards", "QueuedShards"}


def stack(template, **params) -> Stack:
    return Stack(template, **{"SourceStreamArn": DDB_STREAM, **params})


def auditor_sources() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "crates" / "auditor" / "src").glob("*.rs")))


@pytest.mark.parametrize("params", [{}, {"AuditRepair": "true", "SourceType": "kinesis", "SourceStreamArn": KINESIS_STREAM,
                                         "AuditSchedule": "cron(10 * * * ? *)"}])
def test_sam_transform_then_cfn_lint_is_clean(template, tmp_path, params):
    out = sam_transform(template, {"SourceStreamArn": DDB_STREAM, **params})
    assert out["Resources"]["AuditorFunction"]["Type"] == "AWS::Lambda::Function"
    assert_lints_clean(out, tmp_path)


def test_parameters(template):
    schedule = param(template, "AuditSchedule")
    assert schedule["Default"] == "rate(1 hour)"
    assert schedule["AllowedPattern"] == param(template, "CompactSchedule")["AllowedPattern"]
    window = param(template, "AuditWindowMinutes")
    # The window covers the schedule's interval and the settle time, so the unsettled end
    # of one audit is inside the next.
    assert window["Default"] * 60 > 3600 + param(template, "AuditSettleSeconds")["Default"]
    assert param(template, "AuditRepair") == {"Type": "String", "Default": "false", "AllowedValues": ["true", "false"],
                                              "Description": param(template, "AuditRepair")["Description"]}
    assert param(template, "AuditorMemorySize")["Default"] == 1024


def statements(template, **params) -> list[dict]:
    return role_statements(template, "AuditorRole", **params)


@pytest.mark.parametrize(
    "params,stream_actions",
    [
        ({"SourceType": "dynamodb", "SourceStreamArn": DDB_STREAM},
         ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]),
        ({"SourceType": "kinesis", "SourceStreamArn": KINESIS_STREAM},
         ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"]),
    ],
)
def test_auditor_role_reads_the_stream_and_the_manifests_only(template, params, stream_actions):
    arn = "<ArchiveBucket.Arn>"
    expected = [
        {"actions": stream_actions, "resources": [params["SourceStreamArn"]], "condition": None},
        {"actions": ["s3:ListBucket"], "resources": [arn], "condition": {"StringLike": {"s3:prefix": ["manifests/*"]}}},
        {"actions": ["s3:GetObject"], "resources": [f"{arn}/manifests/*"], "condition": None},
        {"actions": ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:SendMessage"],
         "resources": ["<AuditQueue.Arn>"], "condition": None},
        {"actions": ["logs:CreateLogStream", "logs:PutLogEvents"], "resources": ["<AuditorLogGroup.Arn>"],
         "condition": None},
    ]
    assert statements(template, **params) == sorted(expected, key=lambda st: st["actions"])
    # With repair on, it also writes what the archiver writes, and nothing else.
    repair = statements(template, AuditRepair="true", **params)
    (put,) = [st for st in repair if st["actions"] == ["s3:PutObject"]]
    assert put["resources"] == [f"{arn}/data/*", f"{arn}/errors/*", f"{arn}/manifests/*"]
    assert [st for st in repair if st is not put] == statements(template, **params)
    # A key of the source stream is used to decrypt it.
    keyed = statements(template, SourceKmsKeyArn=KMS_KEY, **params)
    assert {"actions": ["kms:Decrypt"], "resources": [KMS_KEY], "condition": None} in keyed
    # The calls the role allows are the calls the audit makes.
    recover = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "crates" / "recover" / "src").glob("*.rs"))
    for call in (".describe_stream()", ".list_shards()", ".get_shard_iterator()", ".get_records()"):
        assert call in recover, call


def test_auditor_function(template):
    st = stack(template, AuditorMemorySize="2048", DataPrefix="a/data/", AuditWindowMinutes="120", PiiAttributes="x")
    fn, archiver = st.resource("AuditorFunction"), st.resource("ArchiverFunction")
    for key in ("Runtime", "Handler", "Architectures", "CodeUri"):
        assert fn[key] == archiver[key], key
    assert template["Resources"]["AuditorFunction"]["Metadata"] == template["Resources"]["ArchiverFunction"]["Metadata"]
    assert fn["FunctionName"] == "dmd-pipeline-auditor"
    assert fn["Timeout"] == 900 and fn["MemorySize"] == "2048"
    assert fn["Role"] == "<AuditorRole.Arn>" and "Events" not in fn
    assert fn["LoggingConfig"] == dict(archiver["LoggingConfig"], LogGroup="<AuditorLogGroup>")
    env = fn["Environment"]["Variables"]
    assert set(env) == AUDITOR_ENV
    assert env["DMD_FUNCTION"] == "auditor"
    assert env["AUDIT_STREAM_ARN"] == DDB_STREAM and env["AUDIT_QUEUE_URL"] == "<AuditQueue>"
    assert env["AUDIT_WINDOW_MINUTES"] == "120" and env["AUDIT_REPAIR"] == "false"
    # A repair writes what the archiver would: the same configuration.
    for k, v in archiver["Environment"]["Variables"].items():
        assert env[k] == v, k
    # Every variable the template sets is one the function reads.
    settings = (ROOT / "crates" / "auditor" / "src" / "settings.rs").read_text(encoding="utf-8")
    for var in AUDITOR_ENV:
        if var.startswith("AUDIT_"):
            assert f'"{var}"' in settings, var
    group = st.resource("AuditorLogGroup")
    assert group["LogGroupName"] == "/aws/lambda/dmd-pipeline-auditor"


def test_schedule_queue_and_mapping(template):
    st = stack(template, AuditSchedule="cron(10 * * * ? *)")
    rule = st.resource("AuditScheduleRule")
    assert rule["ScheduleExpression"] == "cron(10 * * * ? *)" and rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert target["Arn"] == "<AuditorFunction.Arn>" and "Input" not in target
    assert st.resource("AuditSchedulePermission") == {
        "Action": "lambda:InvokeFunction", "FunctionName": "<AuditorFunction>",
        "Principal": "events.amazonaws.com", "SourceArn": "<AuditScheduleRule.Arn>"}
    queue, dlq = st.resource("AuditQueue"), st.resource("AuditDeadLetterQueue")
    for q in (queue, dlq):
        assert q["FifoQueue"] is True and q["QueueName"].endswith(".fifo") and q["SqsManagedSseEnabled"] is True
    assert queue["ContentBasedDeduplication"] is True
    assert queue["VisibilityTimeout"] >= 6 * st.resource("AuditorFunction")["Timeout"]
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": "<AuditDeadLetterQueue.Arn>", "maxReceiveCount": 3}
    assert dlq["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]
    (deny,) = st.resource("AuditQueuePolicy")["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Resource"] == ["<AuditQueue.Arn>", "<AuditDeadLetterQueue.Arn>"]
    esm = st.resource("AuditorMapping")
    assert esm["FunctionName"] == "<AuditorFunction>" and esm["EventSourceArn"] == "<AuditQueue.Arn>"
    assert esm["BatchSize"] == 1 and esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert esm["ScalingConfig"] == {"MaximumConcurrency": 2}
    # One message group per shard: what the queue's code sends.
    assert "grouped.push((body, m.shard_id.clone()))" in auditor_sources()


def test_alarms_watch_what_the_auditor_prints(template):
    st = stack(template)

    def alarm(name):
        a = st.resource(name)
        assert a["AlarmActions"] == ["<AlarmTopic>"] and a["OKActions"] == ["<AlarmTopic>"]
        assert a["Threshold"] == 0 and a["ComparisonOperator"] == "GreaterThanThreshold"
        return a["Namespace"], a["MetricName"], {d["Name"]: d["Value"] for d in a["Dimensions"]}

    assert alarm("MissingRecordsAlarm") == ("dmd-pipeline", "MissingRecords", {"FunctionName": "dmd-pipeline-auditor"})
    assert alarm("AuditIncompleteAlarm") == ("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                                             {"QueueName": "<AuditDeadLetterQueue.QueueName>"})
    assert alarm("AuditorErrorsAlarm") == ("AWS/Lambda", "Errors", {"FunctionName": "<AuditorFunction>"})
    source = auditor_sources()
    assert 'pub const NAMESPACE: &str = "dmd-pipeline";' in source
    assert 'pub const MISSING_RECORDS: &str = "MissingRecords";' in source
    declared = set(re.findall(r'\("(\w+)", ', source)) | {"MissingRecords"}
    assert AUDITOR_METRICS <= declared, AUDITOR_METRICS - declared


def test_dashboard_and_operations_guide_show_the_auditor(template):
    body = dashboard(template)
    rows = dashboard_rows(body)
    for metric in AUDITOR_METRICS:
        assert ("dmd-pipeline", metric, "FunctionName", "<AuditorFunction>") in rows, metric
    for queue in ("AuditQueue", "AuditDeadLetterQueue"):
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"<{queue}.QueueName>") in rows, queue
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for name in (*AUDITOR_METRICS, "MissingRecordsAlarm", "AuditIncompleteAlarm", "AuditorErrorsAlarm"):
        assert f"`{name}`" in guide, name
    outputs = template["Outputs"]
    assert outputs["AuditorFunctionName"]["Value"] == {"Ref": "AuditorFunction"}
    assert outputs["AuditQueueUrl"]["Value"] == {"Ref": "AuditQueue"}
