"""template.yaml, what watches a deployed stack: the alarms that see a stopped or
struggling pipeline (the source's writes against the archiver's invocations, the
duration against the timeout, undelivered failure records, the helpers' errors and
throttles), every function's logs shipped to a Kinesis stream, and tracing."""

from __future__ import annotations

import pytest

from test_template import DDB_STREAM, KINESIS_STREAM, Stack, param


def test_tracing_is_optional_and_its_grant_follows_it(template):
    assert param(template, "Tracing")["Default"] == "PassThrough"
    functions = {"ArchiverFunction": "ArchiverRole", "RecovererFunction": "RecovererRole",
                 "CompactorFunction": "CompactorRole", "AuditorFunction": "AuditorRole"}
    for value, traced in (("PassThrough", False), ("Active", True)):
        stack = Stack(template, SourceStreamArn=DDB_STREAM, Tracing=value)
        for function, role in functions.items():
            assert stack.resource(function)["Tracing"] == value, function
            statements = [st for p in stack.resource(role)["Policies"] for st in p["PolicyDocument"]["Statement"]]
            actions = [a if isinstance(a, list) else [a] for a in (st["Action"] for st in statements)]
            xray = [st for st, a in zip(statements, actions) if any(x.startswith("xray:") for x in a)]
            if traced:
                assert len(xray) == 1 and set(xray[0]["Action"]) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
            else:
                assert xray == [], role


SUBSCRIPTIONS = {"LogSubscription": "<ArchiverLogGroup>", "RecovererLogSubscription": "<RecovererLogGroup>",
                 "CompactorLogSubscription": "<CompactorLogGroup>", "AuditorLogSubscription": "<AuditorLogGroup>"}


def test_every_functions_logs_ship_to_a_stream_the_stack_makes_by_default(template):
    stack = Stack(template, SourceStreamArn=DDB_STREAM)
    stream = stack.resource("LogStream")
    assert stream["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}
    assert stream["StreamModeDetails"] == {"StreamMode": "PROVISIONED"} and stream["ShardCount"] == 1
    for name, group in SUBSCRIPTIONS.items():
        sub = stack.resource(name)
        assert (sub["LogGroupName"], sub["DestinationArn"], sub["FilterPattern"]) == (group, "<LogStream.Arn>", ""), name
        assert sub["RoleArn"] == "<LogSubscriptionRole.Arn>"
    role = stack.resource("LogSubscriptionRole")
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    source = trust["Condition"]["ArnLike"]["aws:SourceArn"]
    assert source == "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/dmd-pipeline-*:*"
    for group in ("Archiver", "Recoverer", "Compactor", "Auditor"):
        name = stack.resource(f"{group}LogGroup")["LogGroupName"]
        assert name.startswith("/aws/lambda/dmd-pipeline-"), name
    (policy,) = role["Policies"]
    (st,) = policy["PolicyDocument"]["Statement"]
    assert st["Action"] == "kinesis:PutRecord" and st["Resource"] == "<LogStream.Arn>"
    # Without the recoverer, its subscription goes with its log group.
    assert Stack(template, SourceStreamArn=DDB_STREAM, AutoRecover="false").resource("RecovererLogSubscription") == {}


def test_logs_ship_to_a_named_stream_with_its_key_or_nowhere(template):
    logs_stream = "arn:aws:kinesis:eu-west-1:123456789012:stream/log-aggregation"
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    stack = Stack(template, SourceStreamArn=DDB_STREAM, LogDestinationArn=logs_stream, LogDestinationKmsKeyArn=key)
    assert stack.resource("LogStream") == {}
    assert {stack.resource(n)["DestinationArn"] for n in SUBSCRIPTIONS} == {logs_stream}
    (policy,) = stack.resource("LogSubscriptionRole")["Policies"]
    put, kms = policy["PolicyDocument"]["Statement"]
    assert put["Resource"] == logs_stream
    assert (kms["Action"], kms["Resource"]) == ("kms:GenerateDataKey", key)
    none = Stack(template, SourceStreamArn=DDB_STREAM, LogDestinationArn="")
    for name in [*SUBSCRIPTIONS, "LogStream", "LogSubscriptionRole"]:
        assert none.resource(name) == {}, name


@pytest.mark.parametrize("arn,namespace,metric,dimension,name", [
    (DDB_STREAM, "AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", DDB_STREAM.split("/")[1]),
    (KINESIS_STREAM, "AWS/Kinesis", "IncomingRecords", "StreamName", "dmd-demand-changes"),
])
def test_an_archiver_that_stops_while_the_source_changes_raises_an_alarm(template, arn, namespace, metric, dimension, name):
    # A disabled mapping or a lost stream emits no archiver metric at all, so no alarm on
    # the archiver's metrics can see it: the source's writes against the invocations can.
    kind = "dynamodb" if namespace == "AWS/DynamoDB" else "kinesis"
    alarm = Stack(template, SourceStreamArn=arn, SourceType=kind).resource("ArchiverStoppedAlarm")
    metrics = {m["Id"]: m for m in alarm["Metrics"]}
    (shown,) = [m for m in alarm["Metrics"] if m["ReturnData"]]
    assert shown["Expression"] == "IF(FILL(changes, 0) > 0 AND FILL(invocations, 0) == 0, 1, 0)"
    changes = metrics["changes"]["MetricStat"]["Metric"]
    assert (changes["Namespace"], changes["MetricName"]) == (namespace, metric)
    assert changes["Dimensions"] == [{"Name": dimension, "Value": name}]
    invocations = metrics["invocations"]["MetricStat"]["Metric"]
    assert (invocations["Namespace"], invocations["MetricName"]) == ("AWS/Lambda", "Invocations")
    assert invocations["Dimensions"] == [{"Name": "FunctionName", "Value": "<ArchiverFunction>"}]
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"], alarm["Threshold"]) == (3, 3, 0)
    assert alarm["AlarmActions"] == ["<AlarmTopic>"]


def test_duration_alarm_follows_the_timeout_and_helpers_failures_alarm(template):
    stack = Stack(template, SourceStreamArn=DDB_STREAM, Timeout="45")
    alarm = stack.resource("DurationNearTimeoutAlarm")
    (shown,) = [m for m in alarm["Metrics"] if m["ReturnData"]]
    assert shown["Expression"] == "duration / 45000" and alarm["Threshold"] == 0.8
    (duration,) = [m for m in alarm["Metrics"] if not m["ReturnData"]]
    assert duration["MetricStat"]["Metric"]["MetricName"] == "Duration" and duration["MetricStat"]["Stat"] == "Maximum"

    def alarm_of(name):
        a = stack.resource(name)
        assert a["AlarmActions"] == ["<AlarmTopic>"]
        return a["Namespace"], a["MetricName"], {d["Name"]: d["Value"] for d in a["Dimensions"]}

    assert alarm_of("FailureDestinationAlarm") == ("AWS/Lambda", "DestinationDeliveryFailures",
                                                   {"FunctionName": "<ArchiverFunction>"})
    assert stack.resource("RecovererFunction")["FunctionName"] == "dmd-pipeline-recoverer"
    for name, metric, function in (("RecovererErrorsAlarm", "Errors", "dmd-pipeline-recoverer"),
                                   ("RecovererThrottlesAlarm", "Throttles", "dmd-pipeline-recoverer"),
                                   ("CompactorThrottlesAlarm", "Throttles", "<CompactorFunction>"),
                                   ("AuditorThrottlesAlarm", "Throttles", "<AuditorFunction>")):
        assert alarm_of(name) == ("AWS/Lambda", metric, {"FunctionName": function}), name
