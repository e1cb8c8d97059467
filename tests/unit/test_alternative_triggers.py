"""The EventBridge rule path and the schedule: switched by TriggerPath, matching what they should."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from jsonpath_ng.parser import parse as jsonpath
from moto import mock_aws
from moto.events.models import EventPattern

from emulator.deployment import load_template
from tests.aws import SAMPLE_BUCKET
from tests.events import load_event
from tests.template_values import DATA_PREFIX, condition, parameter_values, resolve, resources_for

EVENT = load_event("eventbridge-object-created.json")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def rule_pattern(template: dict[str, Any], **parameters: str) -> dict[str, Any]:
    values = parameter_values(template, **parameters)
    return dict(resolve(template["Resources"]["ObjectCreatedRule"]["Properties"]["EventPattern"], values))


def matches(pattern: dict[str, Any], event: Any) -> bool:
    return EventPattern.load(json.dumps(pattern)).matches_event(event)


def with_key(key: str, **changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(json.dumps(EVENT))
    event["detail"]["object"]["key"] = key
    event.update(changes)
    return event


@pytest.mark.parametrize(
    ("trigger_path", "queue_notification", "rule"),
    [("Queue", True, False), ("EventBridge", False, True), ("Both", True, True)],
)
def test_trigger_path_switches_the_notification_and_the_rule(template, trigger_path, queue_notification, rule):
    values = parameter_values(template, TriggerPath=trigger_path)
    resources = resources_for(template, values)
    assert condition(template, "UseQueuePath", values) is queue_notification
    assert condition(template, "UseEventBridgePath", values) is rule
    assert ("ObjectCreatedRule" in resources) is rule
    assert ("EventBridgeDeadLetterQueue" in resources) is rule
    assert {"TriggerFunction", "TriggerQueue", "RetrainSchedule"} <= resources
    notification = template["Resources"]["DataBucket"]["Properties"]["NotificationConfiguration"]
    assert notification["QueueConfigurations"]["Fn::If"][0] == "UseQueuePath"
    assert notification["EventBridgeConfiguration"]["Fn::If"][0] == "UseEventBridgePath"


def test_the_rule_matches_the_sample_upload(template):
    assert matches(rule_pattern(template), EVENT)


@pytest.mark.parametrize(
    "event",
    [
        with_key("other-prefix/data.csv"),
        with_key(f"{DATA_PREFIX}data.parquet"),
        with_key(f"{DATA_PREFIX}data.csv.tmp"),
        {**EVENT, "detail-type": "Object Deleted"},
        {**EVENT, "detail": {**EVENT["detail"], "bucket": {"name": "someone-elses-bucket"}}},
    ],
)
def test_the_rule_ignores_other_keys_other_events_and_other_buckets(template, event):
    assert not matches(rule_pattern(template), event)


def test_the_rule_follows_the_prefix_and_suffix_parameters(template):
    pattern = rule_pattern(template, DataPrefix="incoming/", DataSuffix=".parquet")
    assert matches(pattern, with_key("incoming/2026/x.parquet"))
    assert not matches(pattern, with_key(f"{DATA_PREFIX}x.csv"))


def test_the_target_is_the_pipeline_with_bucket_and_key_resolved_from_the_event(template):
    values = parameter_values(template)
    [target] = resolve(template["Resources"]["ObjectCreatedRule"]["Properties"]["Targets"], values, template)
    assert target["Arn"] == "arn:aws:sagemaker:us-east-1:123456789012:pipeline/retrain-pipeline"
    resolved = {
        parameter["Name"]: jsonpath(parameter["Value"]).find(EVENT)[0].value
        for parameter in target["SageMakerPipelineParameters"]["PipelineParameterList"]
    }
    # EventBridge delivers the key as it is: spaces and plus signs need no decoding on this path.
    assert resolved == {
        "InputBucket": SAMPLE_BUCKET,
        "InputKey": f"{DATA_PREFIX}2026 11/diabetes data+v1.csv",
    }
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["EventBridgeDeadLetterQueue", "Arn"]}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    role = template["Resources"]["EventBridgePipelineRole"]["Properties"]
    [statement] = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "sagemaker:StartPipelineExecution"
    assert resolve(statement["Resource"], values) == target["Arn"]


def test_with_all_objects_the_rule_starts_a_run_on_everything_under_the_prefix(template):
    values = parameter_values(template, TrainingData="AllObjects", DataPrefix="incoming/")
    [target] = resolve(template["Resources"]["ObjectCreatedRule"]["Properties"]["Targets"], values, template)
    parameters = {p["Name"]: p["Value"] for p in target["SageMakerPipelineParameters"]["PipelineParameterList"]}
    assert parameters == {"InputBucket": "$.detail.bucket.name", "InputKey": "incoming/", "TrainingData": "AllObjects"}


def test_all_objects_with_an_empty_prefix_is_refused_at_deploy(template):
    [rule] = template["Rules"].values()
    applies = {"Conditions": {"when": rule["RuleCondition"]}}
    assert condition(applies, "when", parameter_values(template, TrainingData="AllObjects"))
    assert not condition(applies, "when", parameter_values(template))
    [assertion] = rule["Assertions"]
    check = {"Conditions": {"holds": assertion["Assert"]}}
    assert condition(check, "holds", parameter_values(template, TrainingData="AllObjects", DataPrefix="data/"))
    assert not condition(check, "holds", parameter_values(template, TrainingData="AllObjects", DataPrefix=""))
    assert "DataPrefix" in assertion["AssertDescription"]


def test_through_moto_s3_sends_the_event_the_rule_matches_with_the_key_unencoded(template):
    # moto never invokes a SageMaker target, so the rule's pattern gets an SQS target here instead.
    key = f"{DATA_PREFIX}2026 11/my file+v2.csv"
    values = parameter_values(template, Stage="dev")
    bucket = resolve(template["Resources"]["DataBucket"]["Properties"]["BucketName"], values)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        events = boto3.client("events", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        queue_url = sqs.create_queue(QueueName="rule-target")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="object-created", EventPattern=json.dumps(rule_pattern(template)))
        events.put_targets(Rule="object-created", Targets=[{"Id": "q", "Arn": queue_arn}])

        s3.put_object(Bucket=bucket, Key=key, Body=b"x,target\n1,2\n")
        s3.put_object(Bucket=bucket, Key=f"{DATA_PREFIX}notes.txt", Body=b"not training data")

        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    delivered = [json.loads(message["Body"]) for message in messages]
    assert [jsonpath("$.detail.object.key").find(event)[0].value for event in delivered] == [key]
    assert jsonpath("$.detail.bucket.name").find(delivered[0])[0].value == bucket


def test_the_schedule_ships_disabled_and_starts_the_pipeline_with_static_parameters(template):
    values = parameter_values(template)
    schedule = resolve(template["Resources"]["RetrainSchedule"]["Properties"], values)
    assert template["Parameters"]["ScheduleState"]["Default"] == "DISABLED"
    assert schedule["State"] == "DISABLED"
    assert schedule["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    target = schedule["Target"]
    assert target["Arn"] == "arn:aws:sagemaker:us-east-1:123456789012:pipeline/retrain-pipeline"
    assert target["SageMakerPipelineParameters"]["PipelineParameterList"] == [
        {"Name": "InputBucket", "Value": SAMPLE_BUCKET},
        {"Name": "InputKey", "Value": DATA_PREFIX},
        {"Name": "TrainingData", "Value": "AllObjects"},  # whatever the uploads do
    ]
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["SchedulerDeadLetterQueue", "Arn"]}
    assert set(target["RetryPolicy"]) == {"MaximumEventAgeInSeconds", "MaximumRetryAttempts"}
    enabled = resolve(
        template["Resources"]["RetrainSchedule"]["Properties"], parameter_values(template, ScheduleState="ENABLED")
    )
    assert enabled["State"] == "ENABLED"


def test_every_dead_letter_queue_has_an_alarm_to_the_topic(template):
    alarms = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    watched = {
        dimension["Value"]["Fn::GetAtt"][0]
        for alarm in alarms
        for dimension in alarm["Dimensions"]
        if isinstance(dimension["Value"], dict) and "Fn::GetAtt" in dimension["Value"]
    }
    assert {"TriggerDeadLetterQueue", "EventBridgeDeadLetterQueue", "SchedulerDeadLetterQueue"} <= watched
    metrics = {(alarm["Namespace"], alarm["MetricName"]) for alarm in alarms}
    assert ("AWS/Lambda", "Errors") in metrics
    assert ("AWS/Sagemaker/ModelBuildingPipeline", "ExecutionFailed") in metrics
    assert all(alarm["AlarmActions"] == [{"Ref": "NotificationTopic"}] for alarm in alarms)
