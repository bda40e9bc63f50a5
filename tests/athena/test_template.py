"""template.yaml: lint-clean before and after the SAM transform, typos caught, and the
settings the archive depends on (source mapping, least privilege, bucket, alarms,
Glue tables generated from the .avsc files)."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, RECORD_TYPES, glue_tables

TEMPLATE = ROOT / "template.yaml"
DDB_STREAM = "arn:aws:dynamodb:eu-west-1:123456789012:table/demand/stream/2026-11-01T00:00:00.000"
KINESIS_STREAM = "arn:aws:kinesis:eu-west-1:123456789012:stream/dmd-demand-changes"
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0b1e2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"

# The environment of the function, as the data contract (section 4) names it.
CONTRACT_ENV = {
    "ARCHIVE_BUCKET", "DATA_PREFIX", "ERROR_PREFIX", "MANIFEST_PREFIX", "COMPACT_PREFIX", "AVRO_CODEC", "SYSTEM_ID",
    "DATABASE_ID", "MEMBER_ID", "PII_ATTRIBUTES",
}


# ---------------------------------------------------------------------------
# Tools


def cfn_lint(path: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "cfn-lint"
    if not exe.is_file():
        raise AssertionError(f"cfn-lint is not installed next to {sys.executable}: run `make venv`")
    return subprocess.run([str(exe), str(path)], capture_output=True, text=True)


class NoManagedPolicies:
    """The translator asks IAM for managed policy ARNs only when a function names one;
    this template names none, so the offline transform never needs AWS."""

    def load(self):
        return {}


def sam_transform(tpl: dict, params: dict | None = None) -> dict:
    """The SAM transform, offline, as CloudFormation would apply it. Local CodeUri
    values are what `sam package` replaces with an S3 location, so they are replaced
    here too."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    from samtranslator.translator.transform import transform

    tpl = copy.deepcopy(tpl)
    for res in tpl["Resources"].values():
        if res.get("Type") == "AWS::Serverless::Function":
            res["Properties"]["CodeUri"] = "s3://sam-artifacts/archiver.zip"
    return transform(tpl, params or {"SourceStreamArn": DDB_STREAM}, NoManagedPolicies())


def lint_text(tmp_path: Path, text: str, name: str = "template.yaml") -> subprocess.CompletedProcess:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return cfn_lint(path)


def load_text(text: str, tmp_path: Path) -> dict:
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    return glue_tables.load_template(path)


# ---------------------------------------------------------------------------
# A small evaluator of the template for given parameters: Ref, Sub, GetAtt, If,
# Equals, Not and AWS::NoValue. Resources evaluate to placeholders like <Name.Attr>.

NOVALUE = object()


class Stack:
    def __init__(self, tpl: dict, **params: str):
        self.tpl = tpl
        self.values = glue_tables.template_refs(tpl, {k: str(v) for k, v in params.items()})

    def cond(self, name: str) -> bool:
        return bool(self.ev(self.tpl["Conditions"][name]))

    def ref(self, name: str):
        if name == "AWS::NoValue":
            return NOVALUE
        if name in self.values:
            return self.values[name]
        if name in self.tpl["Resources"]:
            return f"<{name}>"
        raise KeyError(name)

    def ev(self, v):
        if isinstance(v, dict) and len(v) == 1:
            (k, x), = v.items()
            if k == "Ref":
                return self.ref(x)
            if k == "Fn::GetAtt":
                return f"<{x[0]}.{x[1]}>"
            if k == "Fn::Sub":
                def sub(m):
                    inner = m.group(1)
                    if inner.startswith("!"):
                        return "${" + inner[1:] + "}"
                    if "." in inner:
                        return f"<{inner}>"
                    return str(self.ref(inner))
                return re.sub(r"\$\{([^}]*)\}", sub, x)
            if k == "Fn::If":
                return self.ev(x[1] if self.cond(x[0]) else x[2])
            if k == "Fn::Equals":
                return str(self.ev(x[0])) == str(self.ev(x[1]))
            if k == "Fn::Not":
                return not self.ev(x[0])
            if k == "Fn::Or":
                return any(self.ev(c) for c in x)
            if k == "Fn::And":
                return all(self.ev(c) for c in x)
            if k == "Fn::Contains":
                return str(self.ev(x[1])) in [str(self.ev(c)) for c in x[0]]
            if k == "Condition":
                return self.cond(x)
            if k == "Fn::Split":
                return str(self.ev(x[1])).split(x[0])
            if k == "Fn::Select":
                return self.ev(x[1])[int(x[0])]
        if isinstance(v, dict):
            out = {k: self.ev(x) for k, x in v.items()}
            return {k: x for k, x in out.items() if x is not NOVALUE}
        if isinstance(v, list):
            return [y for y in (self.ev(x) for x in v) if y is not NOVALUE]
        return v

    def resource(self, name: str) -> dict:
        res = self.tpl["Resources"][name]
        if "Condition" in res and not self.cond(res["Condition"]):
            return {}
        return self.ev(res.get("Properties", {}))


def param(tpl: dict, name: str) -> dict:
    return tpl["Parameters"][name]


# ---------------------------------------------------------------------------
# Linting


def assert_lints_clean(transformed: dict, tmp_path: Path) -> None:
    """cfn-lint finds nothing in a transformed template."""
    path = tmp_path / "transformed.json"
    path.write_text(json.dumps(transformed, indent=1), encoding="utf-8")
    proc = cfn_lint(path)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_cfn_lint_template_is_clean():
    proc = cfn_lint(TEMPLATE)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


@pytest.mark.parametrize("source", ["dynamodb", "kinesis"])
def test_sam_transform_then_cfn_lint_is_clean(template, tmp_path, source):
    arn = DDB_STREAM if source == "dynamodb" else KINESIS_STREAM
    out = sam_transform(template, {"SourceType": source, "SourceStreamArn": arn})
    assert "Transform" not in out
    types = {r["Type"] for r in out["Resources"].values()}
    assert not any(t.startswith("AWS::Serverless::") for t in types), types
    path = tmp_path / "transformed.json"
    path.write_text(json.dumps(out, indent=1), encoding="utf-8")
    proc = cfn_lint(path)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_transform_creates_what_the_docs_list(template):
    out = sam_transform(template)
    created = sorted((name, r["Type"]) for name, r in out["Resources"].items())
    expected = {
        ("ArchiveBucket", "AWS::S3::Bucket"),
        ("ArchiveBucketPolicy", "AWS::S3::BucketPolicy"),
        ("ArchiverLogGroup", "AWS::Logs::LogGroup"),
        ("ArchiverRole", "AWS::IAM::Role"),
        ("ArchiverFunction", "AWS::Lambda::Function"),
        ("SourceMapping", "AWS::Lambda::EventSourceMapping"),
        ("FailedBatchQueue", "AWS::SQS::Queue"),
        ("FailedBatchQueuePolicy", "AWS::SQS::QueuePolicy"),
        # The S3 on-failure destination (FailureDestination=s3, the default).
        ("FailedBatchBucket", "AWS::S3::Bucket"), ("FailedBatchBucketPolicy", "AWS::S3::BucketPolicy"),
        ("FailedBatchRule", "AWS::Events::Rule"), ("FailedBatchDeadLetterQueue", "AWS::SQS::Queue"),
        ("FailedBatchDeadLetterAlarm", "AWS::CloudWatch::Alarm"),
        ("RecovererLogGroup", "AWS::Logs::LogGroup"),
        ("RecovererRole", "AWS::IAM::Role"),
        ("RecovererFunction", "AWS::Lambda::Function"),
        ("RecovererMapping", "AWS::Lambda::EventSourceMapping"),
        ("AlarmTopic", "AWS::SNS::Topic"),
        ("AlarmEmailSubscription", "AWS::SNS::Subscription"),
        ("FunctionErrorsAlarm", "AWS::CloudWatch::Alarm"),
        ("ArchivedErrorsAlarm", "AWS::CloudWatch::Alarm"),
        ("IteratorAgeAlarm", "AWS::CloudWatch::Alarm"),
        ("DiscardedBatchesAlarm", "AWS::CloudWatch::Alarm"),
        ("RetriedRecordsAlarm", "AWS::CloudWatch::Alarm"),
        ("FailedFilesAlarm", "AWS::CloudWatch::Alarm"),
        ("ThrottlesAlarm", "AWS::CloudWatch::Alarm"),
        ("UnrecoveredBatchesAlarm", "AWS::CloudWatch::Alarm"),
        # A stopped or struggling pipeline, and the helpers' own failures.
        ("ArchiverStoppedAlarm", "AWS::CloudWatch::Alarm"), ("DurationNearTimeoutAlarm", "AWS::CloudWatch::Alarm"),
        ("FailureDestinationAlarm", "AWS::CloudWatch::Alarm"), ("RecovererErrorsAlarm", "AWS::CloudWatch::Alarm"),
        ("RecovererThrottlesAlarm", "AWS::CloudWatch::Alarm"), ("CompactorThrottlesAlarm", "AWS::CloudWatch::Alarm"),
        ("AuditorThrottlesAlarm", "AWS::CloudWatch::Alarm"),
        # The Parquet copy (test_compactor_template.py checks their settings).
        ("CompactorLogGroup", "AWS::Logs::LogGroup"), ("CompactorRole", "AWS::IAM::Role"),
        ("CompactorFunction", "AWS::Lambda::Function"), ("CompactScheduleRule", "AWS::Events::Rule"),
        ("CompactSchedulePermission", "AWS::Lambda::Permission"), ("CompactQueue", "AWS::SQS::Queue"),
        ("CompactDeadLetterQueue", "AWS::SQS::Queue"), ("CompactQueuePolicy", "AWS::SQS::QueuePolicy"),
        ("CompactorMapping", "AWS::Lambda::EventSourceMapping"), ("CompactFailuresAlarm", "AWS::CloudWatch::Alarm"),
        ("CompactorErrorsAlarm", "AWS::CloudWatch::Alarm"),
        # The audit against the stream (test_auditor_template.py checks their settings).
        ("AuditorLogGroup", "AWS::Logs::LogGroup"), ("AuditorRole", "AWS::IAM::Role"),
        ("AuditorFunction", "AWS::Lambda::Function"), ("AuditScheduleRule", "AWS::Events::Rule"),
        ("AuditSchedulePermission", "AWS::Lambda::Permission"), ("AuditQueue", "AWS::SQS::Queue"),
        ("AuditDeadLetterQueue", "AWS::SQS::Queue"), ("AuditQueuePolicy", "AWS::SQS::QueuePolicy"),
        ("AuditorMapping", "AWS::Lambda::EventSourceMapping"), ("MissingRecordsAlarm", "AWS::CloudWatch::Alarm"),
        ("AuditIncompleteAlarm", "AWS::CloudWatch::Alarm"), ("AuditorErrorsAlarm", "AWS::CloudWatch::Alarm"),
        ("Dashboard", "AWS::CloudWatch::Dashboard"),
        ("LogStream", "AWS::Kinesis::Stream"), ("LogSubscriptionRole", "AWS::IAM::Role"),
        ("LogSubscription", "AWS::Logs::SubscriptionFilter"), ("RecovererLogSubscription", "AWS::Logs::SubscriptionFilter"),
        ("CompactorLogSubscription", "AWS::Logs::SubscriptionFilter"), ("AuditorLogSubscription", "AWS::Logs::SubscriptionFilter"),
        ("GlueDatabase", "AWS::Glue::Database"),
        ("AthenaWorkGroup", "AWS::Athena::WorkGroup"),
        ("DemandTable", "AWS::Glue::Table"),
        ("NotificationTable", "AWS::Glue::Table"),
        ("EventTable", "AWS::Glue::Table"),
        ("SaleTable", "AWS::Glue::Table"),
        ("ErrorsTable", "AWS::Glue::Table"),
        ("DemandParquetTable", "AWS::Glue::Table"), ("NotificationParquetTable", "AWS::Glue::Table"),
        ("EventParquetTable", "AWS::Glue::Table"), ("SaleParquetTable", "AWS::Glue::Table"),
    }
    queries = {(f"Query{glue_tables.logical_id(q['name'])}", "AWS::Athena::NamedQuery") for q in glue_tables.load_queries()}
    assert set(created) == expected | queries
    # The documented list (docs/deploy.md) names every resource.
    deploy_doc = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for name, _ in expected:
        assert f"`{name}`" in deploy_doc, f"docs/deploy.md does not list {name}"


# The chain catches the typos that a plain lint of a SAM template lets through.
@pytest.mark.parametrize(
    "old,new,needle",
    [
        ("- ReportBatchItemFailures", "- ReportBatchFailures", "ReportBatchFailures"),
        ("StartingPosition: !Ref StartingPosition", "StartingPosition: OLDEST", "OLDEST"),
        ("Runtime: provided.al2023", "Runtime: provided.al2033", "provided.al2033"),
        ("BisectBatchOnFunctionError: true", "BisectBatchOnFunctionError: yes-please", "yes-please"),
    ],
)
def test_transform_and_lint_catch_typos(tmp_path, old, new, needle):
    text = TEMPLATE.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    broken = load_text(text.replace(old, new), tmp_path)
    out = sam_transform(broken)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(out, indent=1), encoding="utf-8")
    proc = cfn_lint(path)
    assert proc.returncode != 0, f"cfn-lint accepted {new!r}"
    assert needle in proc.stdout, proc.stdout


def test_transform_refuses_an_unknown_function_property(tmp_path):
    from samtranslator.model.exceptions import InvalidDocumentException

    text = TEMPLATE.read_text(encoding="utf-8")
    broken = load_text(text.replace("      MemorySize: !Ref MemorySize", "      MemorySise: !Ref MemorySize"), tmp_path)
    with pytest.raises(InvalidDocumentException, match="MemorySise"):
        sam_transform(broken)


# ---------------------------------------------------------------------------
# The function


def test_function_runtime_architecture_and_build(template):
    fn = template["Resources"]["ArchiverFunction"]
    props = fn["Properties"]
    assert props["Runtime"] == "provided.al2023"
    assert props["Handler"] == "bootstrap"
    assert props["Architectures"] == [{"Ref": "Architecture"}]
    arch = param(template, "Architecture")
    assert arch["Default"] == "arm64" and set(arch["AllowedValues"]) == {"arm64", "x86_64"}
    assert fn["Metadata"]["BuildMethod"] == "rust-cargolambda"
    binary = fn["Metadata"]["BuildProperties"]["Binary"]
    # The binary exists in the workspace that CodeUri points at.
    assert props["CodeUri"] == "."
    manifest = tomllib.loads((ROOT / "crates" / "functions" / "Cargo.toml").read_text(encoding="utf-8"))
    assert binary == "dmd-function" and binary in [b["name"] for b in manifest.get("bin", [])], manifest.get("bin")
    assert {"Ref": "MemorySize"} == props["MemorySize"] and {"Ref": "Timeout"} == props["Timeout"]
    assert props["Role"] == {"Fn::GetAtt": ["ArchiverRole", "Arn"]}
    assert "Policies" not in props, "the function's permissions live in ArchiverRole only"
    # samconfig.toml turns on the SAM CLI's beta features that rust-cargolambda needs.
    samconfig = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    assert samconfig["default"]["build"]["parameters"]["beta_features"] is True


def test_function_environment(template):
    stack = Stack(template, SourceStreamArn=DDB_STREAM, DataPrefix="archive/data/", AvroCodec="zstandard",
                  SystemId="tm", PiiAttributes="address")
    env = stack.resource("ArchiverFunction")["Environment"]["Variables"]
    assert set(env) == CONTRACT_ENV
    assert env["ARCHIVE_BUCKET"] == "<ArchiveBucket>"
    assert env["DATA_PREFIX"] == "archive/data/" and env["ERROR_PREFIX"] == "errors/"
    assert env["AVRO_CODEC"] == "zstandard" and env["SYSTEM_ID"] == "tm" and env["PII_ATTRIBUTES"] == "address"
    assert set(param(template, "AvroCodec")["AllowedValues"]) == {"deflate", "snappy", "zstandard", "null"}
    assert param(template, "AvroCodec")["Default"] == "deflate"


def test_logs_have_retention(template):
    stack = Stack(template, SourceStreamArn=DDB_STREAM)
    group = stack.resource("ArchiverLogGroup")
    assert group["RetentionInDays"] == "30"
    assert stack.resource("ArchiverFunction")["LoggingConfig"]["LogGroup"] == "<ArchiverLogGroup>"


def test_log_level_and_format_are_lambdas_own_settings(template):
    # The level is the function's logging configuration (AWS_LAMBDA_LOG_LEVEL), in JSON
    # (AWS_LAMBDA_LOG_FORMAT), which the archiver reads (crates/lambda/src/logging.rs).
    level = param(template, "LogLevel")
    assert level["Default"] == "INFO"
    assert level["AllowedValues"] == ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
    logging = Stack(template, SourceStreamArn=DDB_STREAM, LogLevel="DEBUG").resource("ArchiverFunction")["LoggingConfig"]
    assert logging["LogFormat"] == "JSON" and logging["ApplicationLogLevel"] == "DEBUG"
    assert logging["SystemLogLevel"] == "INFO"
    source = (ROOT / "crates" / "lambda" / "src" / "logging.rs").read_text(encoding="utf-8")
    assert '"AWS_LAMBDA_LOG_LEVEL"' in source and '"AWS_LAMBDA_LOG_FORMAT"' in source


# ---------------------------------------------------------------------------
# The source mapping


def test_source_mapping(template):
    stack = Stack(template, SourceStreamArn=KINESIS_STREAM, SourceType="kinesis")
    esm = stack.resource("SourceMapping")
    assert esm["EventSourceArn"] == KINESIS_STREAM
    assert esm["FunctionName"] == "<ArchiverFunction>"
    assert esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert esm["BatchSize"] == "10000"
    assert esm["BisectBatchOnFunctionError"] is True
    assert esm["StartingPosition"] == "TRIM_HORIZON"
    # The whole batch to the failure bucket by default; its range to the queue with sqs.
    assert esm["DestinationConfig"]["OnFailure"]["Destination"] == "<FailedBatchBucket.Arn>"
    sqs = Stack(template, SourceStreamArn=KINESIS_STREAM, SourceType="kinesis", FailureDestination="sqs")
    assert sqs.resource("SourceMapping")["DestinationConfig"]["OnFailure"]["Destination"] == "<FailedBatchQueue.Arn>"
    assert not sqs.resource("FailedBatchBucket") and not sqs.resource("FailedBatchRule")
    assert template["Resources"]["FailedBatchQueue"]["Type"] == "AWS::SQS::Queue"
    assert esm["ParallelizationFactor"] == "1"
    assert template["Resources"]["SourceMapping"]["Properties"]["ParallelizationFactor"] == {"Ref": "ParallelizationFactor"}
    assert esm["Enabled"] is True


def test_a_failing_batch_blocks_its_shard_an_hour_at_most_and_is_then_kept_whole(template):
    # The record age bounds the retries (a count would not: a failing invocation lasts
    # from milliseconds to the timeout, bench/failing_invocation.py), and by default the
    # batch Lambda then discards goes whole to the failure bucket (docs/decisions.md).
    retries = param(template, "MaximumRetryAttempts")
    assert retries["Default"] == -1 and retries["MinValue"] == -1 and retries["MaxValue"] == 10000
    age = param(template, "MaximumRecordAgeInSeconds")
    assert age["Default"] == 3600 and age["MinValue"] == -1 and age["MaxValue"] == 604800
    esm = Stack(template, SourceStreamArn=DDB_STREAM).resource("SourceMapping")
    assert esm["MaximumRetryAttempts"] == "-1" and esm["MaximumRecordAgeInSeconds"] == "3600"
    assert esm["DestinationConfig"]["OnFailure"]["Destination"] == "<FailedBatchBucket.Arn>"
    bucket = Stack(template, SourceStreamArn=DDB_STREAM).resource("FailedBatchBucket")
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert param(template, "FailureRecordRetentionInDays")["Default"] == 14
    assert rule["ExpirationInDays"] == "14" and rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1


@pytest.mark.parametrize("age,valid", [("-1", True), ("0", False), ("59", False), ("60", True), ("604800", True)])
def test_record_age_rule_refuses_what_lambda_refuses(template, age, valid):
    (assertion,) = template["Rules"]["RecordAgeIsValid"]["Assertions"]
    stack = Stack(template, SourceStreamArn=DDB_STREAM, MaximumRecordAgeInSeconds=age)
    assert stack.ev(assertion["Assert"]) is valid


def test_batch_size_and_window_reach_the_sources_limits(template):
    # The sources' own limits: 10,000 records a batch, a 300 s batching window (Lambda
    # keeps a batch's payload under 6 MB itself). The default window keeps the 60 s
    # latency promise: at most 40 s of batching leaves 20 s for delivery and the work.
    window = param(template, "MaximumBatchingWindowInSeconds")
    assert window["MinValue"] == 0 and window["MaxValue"] == 300 and window["Default"] <= 40
    batch = param(template, "BatchSize")
    assert batch["Default"] == 10000 and batch["MinValue"] == 1 and batch["MaxValue"] == 10000
    factor = param(template, "ParallelizationFactor")
    assert factor["MinValue"] == 1 and factor["MaxValue"] == 10


# ---------------------------------------------------------------------------
# Least privilege


def role_statements(template, **params) -> list[dict]:
    stack = Stack(template, **params)
    role = stack.resource("ArchiverRole")
    assert "ManagedPolicyArns" not in role
    statements = []
    for policy in role["Policies"]:
        for st in policy["PolicyDocument"]["Statement"]:
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            statements.append({"effect": st["Effect"], "actions": set(actions), "resources": resources})
    return statements


@pytest.mark.parametrize(
    "params,stream_actions",
    [
        (
            {"SourceType": "dynamodb", "SourceStreamArn": DDB_STREAM},
            {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"},
        ),
        (
            {"SourceType": "kinesis", "SourceStreamArn": KINESIS_STREAM},
            {"kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
             "kinesis:GetShardIterator", "kinesis:ListShards"},
        ),
    ],
)
def test_role_is_least_privilege(template, params, stream_actions):
    statements = role_statements(template, **params)
    by_action: dict[str, list[str]] = {}
    for st in statements:
        assert st["effect"] == "Allow"
        for a in st["actions"]:
            assert "*" not in a, a
            by_action.setdefault(a, []).extend(st["resources"])
        for r in st["resources"]:
            assert r != "*", st
    assert set(by_action) == {"s3:PutObject", "s3:ListBucket", "logs:CreateLogStream", "logs:PutLogEvents"} | stream_actions
    # Objects under the data and error prefixes only: no read, no list, no delete; and
    # the failure records that the source mapping writes with this role.
    assert sorted(by_action["s3:PutObject"]) == [
        "<ArchiveBucket.Arn>/data/*", "<ArchiveBucket.Arn>/errors/*", "<ArchiveBucket.Arn>/manifests/*",
        "<FailedBatchBucket.Arn>/*"]
    assert by_action["s3:ListBucket"] == ["<FailedBatchBucket.Arn>"]
    for a in stream_actions:
        assert by_action[a] == [params["SourceStreamArn"]]
    assert by_action["logs:PutLogEvents"] == ["<ArchiverLogGroup.Arn>"]
    # With the queue as the destination, it sends there instead, and nothing to S3 but the archive.
    queued = role_statements(template, FailureDestination="sqs", **params)
    sends = [st for st in queued if "sqs:SendMessage" in st["actions"]]
    assert [st["resources"] for st in sends] == [["<FailedBatchQueue.Arn>"]]
    assert not any("s3:ListBucket" in st["actions"] for st in queued)


def test_role_decrypts_only_with_the_named_key(template):
    with_key = role_statements(template, SourceType="kinesis", SourceStreamArn=KINESIS_STREAM, SourceKmsKeyArn=KMS_KEY)
    kms = [st for st in with_key if "kms:Decrypt" in st["actions"]]
    assert len(kms) == 1 and kms[0]["actions"] == {"kms:Decrypt"} and kms[0]["resources"] == [KMS_KEY]
    without = role_statements(template, SourceType="kinesis", SourceStreamArn=KINESIS_STREAM)
    assert not any("kms:Decrypt" in st["actions"] for st in without)


def test_role_follows_the_prefixes(template):
    statements = role_statements(template, SourceStreamArn=DDB_STREAM, DataPrefix="a/data/", ErrorPrefix="a/errors/",
                                 ManifestPrefix="a/manifests/")
    puts = [r for st in statements if "s3:PutObject" in st["actions"] for r in st["resources"]
            if r.startswith("<ArchiveBucket.Arn>")]
    assert sorted(puts) == ["<ArchiveBucket.Arn>/a/data/*", "<ArchiveBucket.Arn>/a/errors/*",
                            "<ArchiveBucket.Arn>/a/manifests/*"]


def test_trust_policy_is_lambda_of_this_account(template):
    trust = Stack(template, SourceStreamArn=DDB_STREAM).resource("ArchiverRole")["AssumeRolePolicyDocument"]
    (st,) = trust["Statement"]
    assert st["Principal"] == {"Service": "lambda.amazonaws.com"} and st["Action"] == "sts:AssumeRole"
    assert st["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"


# ---------------------------------------------------------------------------
# The bucket


def test_bucket_is_private_encrypted_and_tls_only(template):
    stack = Stack(template, SourceStreamArn=DDB_STREAM)
    b = stack.resource("ArchiveBucket")
    (rule,) = b["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert b["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    assert b["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    policy = stack.resource("ArchiveBucketPolicy")
    assert policy["Bucket"] == "<ArchiveBucket>"
    deny = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert any(
        s["Action"] == "s3:*"
        and s["Principal"] == "*"
        and set(s["Resource"]) == {"<ArchiveBucket.Arn>", "<ArchiveBucket.Arn>/*"}
        and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in deny
    ), deny
    assert template["Resources"]["ArchiveBucket"]["DeletionPolicy"] == "Retain"


def test_lifecycle_rules(template):
    rules = {r["Id"]: r for r in Stack(template, SourceStreamArn=DDB_STREAM).resource("ArchiveBucket")
             ["LifecycleConfiguration"]["Rules"]}
    # (The Parquet copy's two rules: test_compactor_template.py.)
    assert set(rules) == {"expire-error-files", "expire-athena-results", "expire-noncurrent-versions",
                          "abort-incomplete-uploads", "expire-retired-generations"}
    assert rules["expire-error-files"]["Prefix"] == "errors/" and rules["expire-error-files"]["ExpirationInDays"] == "90"
    assert rules["expire-athena-results"]["Prefix"] == "athena-results/"
    assert rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": "30"}
    assert rules["abort-incomplete-uploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    # Data files are kept for good unless DataRetentionInDays says otherwise.
    expiring = {r["Id"]: r for r in Stack(template, SourceStreamArn=DDB_STREAM, DataRetentionInDays="400")
                .resource("ArchiveBucket")["LifecycleConfiguration"]["Rules"]}
    assert expiring["expire-data-files"]["Prefix"] == "data/" and expiring["expire-data-files"]["ExpirationInDays"] == "400"


def test_athena_results_stay_in_the_bucket(template):
    wg = Stack(template, SourceStreamArn=DDB_STREAM).resource("AthenaWorkGroup")["WorkGroupConfiguration"]
    assert wg["ResultConfiguration"]["OutputLocation"] == "s3://<ArchiveBucket>/athena-results/"
    assert wg["EnforceWorkGroupConfiguration"] is True


# ---------------------------------------------------------------------------
# Alarms


def test_alarms(template):
    stack = Stack(template, SourceStreamArn=DDB_STREAM)

    def alarm(name):
        a = stack.resource(name)
        assert a["AlarmActions"] == ["<AlarmTopic>"]
        return a["Namespace"], a["MetricName"], {d["Name"]: d["Value"] for d in a["Dimensions"]}

    assert alarm("FunctionErrorsAlarm") == ("AWS/Lambda", "Errors", {"FunctionName": "<ArchiverFunction>"})
    assert alarm("IteratorAgeAlarm") == ("AWS/Lambda", "IteratorAge", {"FunctionName": "<ArchiverFunction>"})
    assert stack.resource("IteratorAgeAlarm")["Threshold"] == "60000"
    assert alarm("DiscardedBatchesAlarm") == (
        "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "<FailedBatchQueue.QueueName>"}
    )
    assert alarm("ThrottlesAlarm") == ("AWS/Lambda", "Throttles", {"FunctionName": "<ArchiverFunction>"})
    # The function's own metrics (embedded metric format, crates/lambda/src/report.rs).
    emitted = emitted_metrics()
    for name, metric in (("ArchivedErrorsAlarm", "ErrorRecords"), ("RetriedRecordsAlarm", "RetriedRecords"),
                         ("FailedFilesAlarm", "FilesFailed")):
        assert alarm(name) == ("dmd-pipeline", metric, {"FunctionName": "<ArchiverFunction>"}), name
        assert metric in emitted, metric
    assert stack.resource("RetriedRecordsAlarm")["Threshold"] == "0"
    # The recoverer's own metric, under the name the function is given.
    assert alarm("UnrecoveredBatchesAlarm") == ("dmd-pipeline", "UnrecoveredBatches", {"FunctionName": "dmd-pipeline-recoverer"})
    assert stack.resource("RecovererFunction")["FunctionName"] == "dmd-pipeline-recoverer"
    recovery = (ROOT / "crates" / "lambda" / "src" / "recovery_report.rs").read_text(encoding="utf-8")
    assert '("UnrecoveredBatches", ' in recovery


def emitted_metrics() -> set[str]:
    """The metric names crates/lambda/src/report.rs declares in its EMF documents."""
    report = (ROOT / "crates" / "lambda" / "src" / "report.rs").read_text(encoding="utf-8")
    assert 'pub const NAMESPACE: &str = "dmd-pipeline";' in report
    names = set(re.findall(r'\("(\w+)", "(?:Count|Bytes|Milliseconds)"', report))
    names |= set(re.findall(r'"Name": "(\w+)", "Unit"', report))
    return names


def dashboard(template, **params) -> dict:
    stack = Stack(template, SourceStreamArn=DDB_STREAM, **params)
    return json.loads(stack.resource("Dashboard")["DashboardBody"])


def dashboard_rows(body: dict) -> list[tuple]:
    """Every metric row of the dashboard's metric widgets written out: "." repeats the
    previous row's value at that place, "..." all of them but the last; options left out."""
    rows, previous = [], None
    for w in body["widgets"]:
        if w["type"] != "metric":
            continue
        for row in w["properties"]["metrics"]:
            if isinstance(row[0], dict):
                continue
            if row[0] == "...":
                row = previous[:-1] + row[1:]
            else:
                row = [previous[i] if v == "." else v for i, v in enumerate(row)]
            row = [v for v in row if not isinstance(v, dict)]
            rows.append(tuple(row))
            previous = row
    return rows


def test_dashboard_is_valid_json_and_shows_what_operations_md_explains(template):
    body = dashboard(template, Timeout="30")
    metrics = [m for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]]
    named = set()
    for row in metrics:
        if isinstance(row[0], dict):
            named |= set(re.findall(r'MetricName=\\?"(\w+)\\?"', row[0]["expression"]))
            continue
        # ".", "..." repeat the previous row's values.
        if row[0] not in (".", "..."):
            namespace = row[0]
        if row[0] != "...":
            if row[3] != ".":
                function = row[3]
            named.add(row[1])
            # The archiver's own metrics (the compactor's: test_compactor_template.py).
            if namespace == "dmd-pipeline" and function == "<ArchiverFunction>":
                assert row[1] in emitted_metrics(), row
    wanted = {"Records", "ArchivedRecords", "ErrorRecords", "RetriedRecords", "FilesWritten", "FilesFailed",
              "BytesWritten", "RecordsPerFile", "Duration", "IteratorAge", "OldestChangeAge", "Throttles",
              "Errors", "Invocations", "ApproximateNumberOfMessagesVisible"}
    assert wanted <= named, wanted - named
    # Every alarm of the stack is on it.
    alarms = {name for name, r in template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert set(alarm_widget["properties"]["alarms"]) == {f"<{a}.Arn>" for a in alarms}
    # Each metric and alarm is explained in docs/operations.md.
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for m in wanted - {"Invocations", "Errors", "ApproximateNumberOfMessagesVisible"}:
        assert f"`{m}`" in guide, m
    for a in alarms:
        assert f"`{a}`" in guide, a
    # The timeout line follows the parameter.
    durations = [w for w in body["widgets"] if w.get("properties", {}).get("title", "").startswith("Duration")]
    assert durations[0]["properties"]["annotations"]["horizontal"][0]["value"] == 30000


# ---------------------------------------------------------------------------
# Glue tables: generated from the .avsc files, and a test fails when they drift.


def test_generated_section_is_up_to_date():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "glue_tables.py"), "check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_check_notices_a_schema_change():
    schemas = glue_tables.load_schemas()
    changed = copy.deepcopy(schemas)
    changed["sale"]["fields"].append({"name": "presale_code", "type": ["null", "string"], "default": None})
    text = TEMPLATE.read_text(encoding="utf-8")
    _, section, _ = glue_tables.split_template(text)
    assert glue_tables.render_section(schemas) == section
    assert glue_tables.render_section(changed) != section


@pytest.mark.parametrize(
    "bad",
    [
        ["string", "null"],
        ["null", "string", "long"],
        {"type": "long", "logicalType": "timestamp-micros"},
        {"type": "enum", "name": "e", "symbols": ["A"]},
    ],
)
def test_schema_types_athena_cannot_read_are_refused(bad):
    with pytest.raises(glue_tables.SchemaError):
        glue_tables.hive_type(bad, "x.y")


def test_tables_match_the_avsc_files(template):
    schemas = glue_tables.load_schemas()
    tables = {r["Properties"]["TableInput"]["Name"]: r["Properties"]["TableInput"]
              for r in glue_tables.glue_tables(template).values()}
    # (The Parquet tables, `<type>_parquet`: test_compactor_template.py.)
    assert set(tables) == set(RECORD_TYPES) | {"errors"} | {f"{t}_parquet" for t in RECORD_TYPES}
    hive = {"string": "string", "long": "bigint", "boolean": "boolean"}
    for t in RECORD_TYPES:
        ti, schema = tables[t], schemas[t]
        sd = ti["StorageDescriptor"]
        assert json.loads(sd["SerdeInfo"]["Parameters"]["avro.schema.literal"]) == schema
        assert sd["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.serde2.avro.AvroSerDe"
        assert sd["InputFormat"] == "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat"
        assert sd["OutputFormat"] == "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat"
        # Column by column, written out independently of the generator.
        expected = []
        for f in schema["fields"]:
            typ = f["type"]
            if isinstance(typ, list):
                assert typ[0] == "null" and len(typ) == 2
                typ = typ[1]
            if isinstance(typ, dict) and typ.get("logicalType") == "timestamp-millis":
                h = "timestamp"
            elif isinstance(typ, dict) and typ["type"] == "map":
                h = f"map<string,{hive[typ['values']]}>"
            elif isinstance(typ, dict) and typ["type"] == "array":
                h = f"array<{hive[typ['items']]}>"
            else:
                h = hive[typ]
            expected.append((f["name"], h))
        assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == expected
        assert ti["PartitionKeys"] == [{"Name": "dt", "Type": "string", "Comment": glue_tables.PARTITION_COMMENT}]
        assert ti["TableType"] == "EXTERNAL_TABLE"
    errors = tables["errors"]
    assert [c["Name"] for c in errors["StorageDescriptor"]["Columns"]] == [
        "error_type", "message", "record_type", "source", "sequence_number", "failed_at", "record",
    ]
    assert errors["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"


def test_saved_queries_are_the_documented_ones(template):
    docs = {q["name"]: q for q in glue_tables.load_queries()}
    assert {"demand_latest", "daily_demand", "notification_effectiveness", "deletions_by_day",
            "errors_of_day"} <= set(docs)
    saved = {r["Properties"]["Name"]: r["Properties"] for r in template["Resources"].values()
             if r["Type"] == "AWS::Athena::NamedQuery"}
    assert set(saved) == set(docs)
    for name, props in saved.items():
        assert props["QueryString"] == docs[name]["sql"]
        assert props["Database"] == {"Ref": "GlueDatabase"}


def test_yaml_has_no_ambiguous_scalars(template):
    """Values CloudFormation reads as strings must not be YAML 1.1 dates or booleans, or
    a tool that loads the template with a plain YAML loader sees other values."""
    for name, p in template["Parameters"].items():
        if p["Type"] == "String" and "Default" in p:
            assert isinstance(p["Default"], str), name
    for res in glue_tables.glue_tables(template).values():
        for k, v in res["Properties"]["TableInput"]["Parameters"].items():
            assert isinstance(v, (str, dict)), k


# ---------------------------------------------------------------------------
# The recoverer: the failure queue's batches recovered by a function of its own.

RECOVERER = ("RecovererLogGroup", "RecovererRole", "RecovererFunction", "RecovererMapping")


def recoverer_statements(template, **params) -> list[dict]:
    role = Stack(template, **params).resource("RecovererRole")
    assert "ManagedPolicyArns" not in role
    statements = []
    for policy in role["Policies"]:
        for st in policy["PolicyDocument"]["Statement"]:
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            assert st["Effect"] == "Allow", st
            statements.append({"actions": sorted(actions), "resources": sorted(resources)})
    return sorted(statements, key=lambda st: st["actions"])


@pytest.mark.parametrize(
    "params,stream_actions",
    [
        ({"SourceType": "dynamodb", "SourceStreamArn": DDB_STREAM}, ["dynamodb:GetRecords", "dynamodb:GetShardIterator"]),
        ({"SourceType": "kinesis", "SourceStreamArn": KINESIS_STREAM}, ["kinesis:GetRecords", "kinesis:GetShardIterator"]),
    ],
)
def test_recoverer_role_is_least_privilege(template, params, stream_actions):
    # Exactly: the two calls that read a range back, on the one source stream; objects
    # under the data and error prefixes (no read, list or delete); what the SQS mapping
    # needs on the failure queue only; its own log group.
    assert recoverer_statements(template, **params) == sorted([
        {"actions": stream_actions, "resources": [params["SourceStreamArn"]]},
        {"actions": ["s3:PutObject"],
         "resources": ["<ArchiveBucket.Arn>/data/*", "<ArchiveBucket.Arn>/errors/*", "<ArchiveBucket.Arn>/manifests/*"]},
        {"actions": ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
         "resources": ["<FailedBatchQueue.Arn>"]},
        # The failure records it is told of, and the markers of those it recovered.
        {"actions": ["s3:GetObject"], "resources": ["<FailedBatchBucket.Arn>/*"]},
        {"actions": ["s3:PutObject"], "resources": ["<FailedBatchBucket.Arn>/recovered/*"]},
        {"actions": ["logs:CreateLogStream", "logs:PutLogEvents"], "resources": ["<RecovererLogGroup.Arn>"]},
    ], key=lambda st: st["actions"])
    # The calls crates/recover makes are the ones granted.
    source = "\n".join((ROOT / "crates" / "recover" / "src" / f).read_text(encoding="utf-8")
                       for f in ("dynamodb.rs", "kinesis.rs"))
    calls = set(re.findall(r"\.(get_shard_iterator|get_records|describe_stream\w*|list_\w+)\(\)", source))
    assert calls == {"get_shard_iterator", "get_records"}, calls


def test_recoverer_role_follows_the_prefixes_and_the_key(template):
    statements = recoverer_statements(template, SourceType="kinesis", SourceStreamArn=KINESIS_STREAM,
                                      SourceKmsKeyArn=KMS_KEY, DataPrefix="a/data/", ErrorPrefix="a/errors/",
                                      ManifestPrefix="a/manifests/")
    assert {"actions": ["kms:Decrypt"], "resources": [KMS_KEY]} in statements
    assert {"actions": ["s3:PutObject"], "resources": ["<ArchiveBucket.Arn>/a/data/*", "<ArchiveBucket.Arn>/a/errors/*",
                                                       "<ArchiveBucket.Arn>/a/manifests/*"]} in statements
    trust = Stack(template, SourceStreamArn=DDB_STREAM).resource("RecovererRole")["AssumeRolePolicyDocument"]
    (st,) = trust["Statement"]
    assert st["Principal"] == {"Service": "lambda.amazonaws.com"} and st["Action"] == "sts:AssumeRole"
    assert st["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"


def test_recoverer_mapping_reports_each_message_on_its_own(template):
    stack = Stack(template, SourceStreamArn=DDB_STREAM)
    esm = stack.resource("RecovererMapping")
    assert esm["FunctionName"] == "<RecovererFunction>"
    assert esm["EventSourceArn"] == "<FailedBatchQueue.Arn>"
    assert esm["BatchSize"] == 1
    assert esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert esm["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert esm["Enabled"] is True
    # Lambda advises a visibility timeout of at least six times the function's timeout.
    timeout = stack.resource("RecovererFunction")["Timeout"]
    assert stack.resource("FailedBatchQueue")["VisibilityTimeout"] >= 6 * timeout
    assert stack.resource("FailedBatchQueue")["MessageRetentionPeriod"] == 1209600


def test_recoverer_function_is_the_archivers_configuration_and_binary(template):
    stack = Stack(template, SourceStreamArn=DDB_STREAM, AvroCodec="zstandard", PiiAttributes="address")
    fn, archiver = stack.resource("RecovererFunction"), stack.resource("ArchiverFunction")
    # The archiver's environment, and the one executable told to serve the recoverer.
    # The failure bucket's name too: its records hold their batch.
    assert fn["Environment"]["Variables"] == dict(archiver["Environment"]["Variables"], DMD_FUNCTION="recoverer",
                                                  FAILED_BATCH_BUCKET="<FailedBatchBucket>")
    queued = Stack(template, SourceStreamArn=DDB_STREAM, FailureDestination="sqs").resource("RecovererFunction")
    assert queued["Environment"]["Variables"]["FAILED_BATCH_BUCKET"] == ""
    assert "DMD_FUNCTION" not in archiver["Environment"]["Variables"]
    assert fn["Environment"]["Variables"]["PII_ATTRIBUTES"] == "address"
    for key in ("Runtime", "Handler", "Architectures", "MemorySize", "CodeUri"):
        assert fn[key] == archiver[key], key
    assert fn["Role"] == "<RecovererRole.Arn>" and "Policies" not in fn
    assert fn["LoggingConfig"] == dict(archiver["LoggingConfig"], LogGroup="<RecovererLogGroup>")
    assert stack.resource("RecovererLogGroup")["RetentionInDays"] == "30"
    # The archiver's build: `sam build` builds one executable for both.
    assert template["Resources"]["RecovererFunction"]["Metadata"] == template["Resources"]["ArchiverFunction"]["Metadata"]


def test_auto_recover_is_on_by_default_and_can_be_turned_off(template, tmp_path):
    p = param(template, "AutoRecover")
    assert p["Default"] == "true" and p["AllowedValues"] == ["true", "false"]
    for name in RECOVERER:
        assert template["Resources"][name]["Condition"] == "RecoversAutomatically", name
        assert Stack(template, SourceStreamArn=DDB_STREAM, AutoRecover="false").resource(name) == {}
        assert Stack(template, SourceStreamArn=DDB_STREAM).resource(name) != {}
    assert template["Outputs"]["RecovererFunctionName"]["Condition"] == "RecoversAutomatically"
    # Either way the stack transforms and lints clean.
    out = sam_transform(template, {"SourceStreamArn": DDB_STREAM, "AutoRecover": "false"})
    path = tmp_path / "no-recoverer.json"
    path.write_text(json.dumps(out, indent=1), encoding="utf-8")
    proc = cfn_lint(path)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr
