"""The EventBridge rule path and the schedule: switched by TriggerPath, matching what they should."""

from __future__ import annotations

import json
import re
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

# Its module-scoped fixtures are built once: every test of the file runs on the same worker.
pytestmark = pytest.mark.xdist_group("test_alternative_triggers")

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
    ("trigger_path", "queue_notification", "rule", "queued_rule"),
    [
        ("Queue", True, False, False),
        ("EventBridge", False, True, False),
        ("EventBridgeQueued", False, False, True),
        ("Both", True, True, False),
    ],
)
def test_trigger_path_switches_the_notification_and_the_rules(
    template, trigger_path, queue_notification, rule, queued_rule
):
    values = parameter_values(template, TriggerPath=trigger_path)
    resources = resources_for(template, values)
    assert condition(template, "UseQueuePath", values) is queue_notification
    assert condition(template, "UseEventBridgePath", values) is rule
    assert ("ObjectCreatedRule" in resources) is rule
    assert ("EventBridgeDeadLetterQueue" in resources) is rule
    # EventBridgeQueued: the same rule's pattern, into the trigger queue (the queue's guarantees)
    assert ("QueuedObjectCreatedRule" in resources) is queued_rule
    assert ("QueuedEventsDeadLetterQueue" in resources) is queued_rule
    if queued_rule:
        queued = template["Resources"]["QueuedObjectCreatedRule"]["Properties"]
        assert queued["EventPattern"] == template["Resources"]["ObjectCreatedRule"]["Properties"]["EventPattern"]
        assert queued["Targets"][0]["Arn"] == {"Fn::GetAtt": ["TriggerQueue", "Arn"]}
    assert {"TriggerFunction", "TriggerQueue", "PipelineTargets"} <= resources
    notification = template["Resources"]["DataBucket"]["Properties"]["NotificationConfiguration"]
    assert notification["QueueConfigurations"]["Fn::If"][0] == "UseQueuePath"
    assert notification["EventBridgeConfiguration"]["Fn::If"][0] == "SendsS3EventsToEventBridge"
    assert condition(template, "SendsS3EventsToEventBridge", values) is (rule or queued_rule)


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


def targets_given(template: dict[str, Any], **parameters: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the PipelineTargets custom resource gives the rule and the schedule, for these parameters."""
    from unittest.mock import MagicMock

    from trigger.direct_targets import DirectTargets

    values = parameter_values(template, **parameters)
    properties = resolve(template["Resources"]["PipelineTargets"]["Properties"], values, template)
    rule, schedule = MagicMock(), MagicMock()
    DirectTargets(rule, schedule).apply(properties, None)
    [(_, target)] = [call.args for call in rule.put.call_args_list] or [(None, {})]
    [(_, settings)] = [call.args for call in schedule.put.call_args_list]
    return target, settings


def test_the_target_is_the_pipeline_with_bucket_and_key_resolved_from_the_event(template):
    target, _ = targets_given(template, TriggerPath="EventBridge")
    assert target["Arn"] == "arn:aws:sagemaker:us-east-1:123456789012:pipeline/retrain-pipeline"
    resolved = {
        parameter["Name"]: jsonpath(parameter["Value"]).find(EVENT)[0].value
        for parameter in target["SageMakerPipelineParameters"]["PipelineParameterList"]
        if parameter["Value"].startswith("$.")
    }
    # EventBridge delivers the key as it is: spaces and plus signs need no decoding on this path.
    assert resolved == {
        "InputBucket": SAMPLE_BUCKET,
        "InputKey": f"{DATA_PREFIX}2026 11/diabetes data+v1.csv",
        "InputBytes": EVENT["detail"]["object"]["size"],  # the object's size, for ProcessingEngine auto
    }
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    role = template["Resources"]["EventBridgePipelineRole"]["Properties"]
    [statement] = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "sagemaker:StartPipelineExecution"
    assert resolve(statement["Resource"], parameter_values(template)) == target["Arn"]


def test_with_all_objects_the_rule_starts_a_run_on_everything_under_the_prefix(template):
    target, _ = targets_given(template, TriggerPath="EventBridge", TrainingData="AllObjects", DataPrefix="incoming/")
    parameters = {p["Name"]: p["Value"] for p in target["SageMakerPipelineParameters"]["PipelineParameterList"]}
    assert parameters == {
        "InputBucket": SAMPLE_BUCKET,
        "InputKey": "incoming/",
        "InputDataType": "S3Prefix",
        "TrainingData": "AllObjects",
        "InputBytes": "0",  # no code of ours lists the prefix on this path: not known (docs/pipeline.md)
    }


def test_the_rule_passes_a_pipeline_of_ones_own_what_it_can_express(template):
    mapping = "InputDataUrl={prefix_uri},Bucket={bucket},TrainingInstanceType=ml.m5.2xlarge"
    target, _ = targets_given(template, TriggerPath="EventBridge", PipelineParameters=mapping)
    on_rule = {p["Name"]: p["Value"] for p in target["SageMakerPipelineParameters"]["PipelineParameterList"]}
    assert on_rule == {
        "InputDataUrl": f"s3://{SAMPLE_BUCKET}/{DATA_PREFIX}",
        "Bucket": "$.detail.bucket.name",
        "TrainingInstanceType": "ml.m5.2xlarge",
    }


@pytest.mark.parametrize(
    ("mapping", "reason"),
    [
        ("InputDataUrl={uri}", "cannot build {uri} out of bucket and key"),
        ("Data=s3://{bucket}/{key}", "cannot build this value from {bucket} and more"),
        ("Manifest={manifest_uri}", "has no manifest"),
        ("Input_Key={key}", "names of letters, digits and single hyphens"),
    ],
)
def test_a_mapping_the_rule_cannot_express_is_refused_at_deploy_with_its_reason(template, mapping, reason):
    from trigger.parameter_mapping import MappingError

    with pytest.raises(MappingError, match=re.escape(reason)):
        targets_given(template, TriggerPath="EventBridge", PipelineParameters=mapping, MaxObjectsPerRun="1")


def test_all_objects_with_an_empty_prefix_is_refused_at_deploy(template):
    rule = template["Rules"]["AllObjectsNeedsADataPrefix"]
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


def test_the_schedule_ships_disabled_and_sends_its_tick_to_the_trigger_queue(template):
    _, schedule = targets_given(template)  # with the queue path alone, the rule has no target to get
    assert template["Parameters"]["ScheduleState"]["Default"] == "DISABLED"
    assert schedule["State"] == "DISABLED"
    assert schedule["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    target = schedule["Target"]
    assert target["Arn"] == {"Fn::GetAtt": ["TriggerQueue", "Arn"]}
    assert "SageMakerPipelineParameters" not in target  # a run request: the queue's guarantees, not a run
    # the tick, as the trigger reads it once Scheduler has filled in its context attributes
    filled = target["Input"].replace(
        "<aws.scheduler.schedule-arn>", "arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly"
    )
    filled = filled.replace("<aws.scheduler.scheduled-time>", "2026-12-07T02:00:00Z")
    from trigger.sources import SourceContext, parse_body

    [tick] = parse_body(filled, SourceContext(SAMPLE_BUCKET)).requests
    assert (tick.kind, tick.cause) == ("schedule", "Scheduled retrain (nightly, 2026-12-07T02:00:00Z)")
    assert set(target["RetryPolicy"]) == {"MaximumEventAgeInSeconds", "MaximumRetryAttempts"}
    role = template["Resources"]["SchedulerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert [(s["Action"], s["Resource"]) for s in role] == [
        ("sqs:SendMessage", {"Fn::GetAtt": ["TriggerQueue", "Arn"]}),
        ("sqs:SendMessage", {"Fn::GetAtt": ["SchedulerDeadLetterQueue", "Arn"]}),
    ]
    _, enabled = targets_given(template, ScheduleState="ENABLED")
    assert enabled["State"] == "ENABLED"


def test_a_schedule_input_key_other_than_the_data_prefix_is_refused_at_deploy(template):
    from trigger.parameter_mapping import MappingError

    with pytest.raises(MappingError, match=r"ScheduleInputKey 'elsewhere/': a scheduled run reads everything"):
        targets_given(template, ScheduleInputKey="elsewhere/")


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


def test_a_run_request_source_with_an_empty_prefix_is_refused_at_deploy(template):
    rule = template["Rules"]["RunRequestsNeedADataPrefix"]
    applies = {"Conditions": {"when": rule["RuleCondition"]}}
    assert not condition(applies, "when", parameter_values(template))  # nothing asks: nothing to check
    topic = "arn:aws:sns:us-east-1:123456789012:data-ready"
    for asked in (
        {"ScheduleState": "ENABLED"},
        {"RetrainTopicArn": topic},
        {"RetrainOnEvents": "{}"},
        {"Deployment": "Instances"},  # prod's drift (DriftMonitoring DataQuality by default)
    ):
        assert condition(applies, "when", parameter_values(template, **asked))
    for quiet in ({"Deployment": "Instances", "DriftMonitoring": "None"}, {"Deployment": "Serverless"}):
        assert not condition(applies, "when", parameter_values(template, **quiet))  # no drift: nothing asks
    [assertion] = rule["Assertions"]
    check = {"Conditions": {"holds": assertion["Assert"]}}
    assert not condition(check, "holds", parameter_values(template, DataPrefix=""))
    assert condition(check, "holds", parameter_values(template))
