"""The trigger function's error alarm, as the template declares it, evaluated as CloudWatch does:
a failed invocation of the local event source is Lambda's Errors metric, and the alarm e-mails."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3

from emulator.alarms import evaluate_alarms
from emulator.event_source import QueueEventSource
from emulator.lambda_context import LocalLambdaContext
from tests.aws import REGION
from tests.template_values import TEMPLATE

FUNCTION = "retrain-trigger-dev-TriggerFunction"


def the_templates_alarm(topic_arn: str, name: str = "TriggerFunctionErrorsAlarm") -> str:
    properties = dict(TEMPLATE["Resources"][name]["Properties"])
    properties["Dimensions"] = [{"Name": "FunctionName", "Value": FUNCTION}]
    properties["AlarmActions"] = [topic_arn]
    boto3.client("cloudwatch", region_name=REGION).put_metric_alarm(AlarmName=name, **properties)
    return name


def inbox(topic_arn: str) -> str:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return url


def test_a_failed_invocation_puts_the_function_error_alarm_in_alarm_and_a_person_is_told(aws):
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="notifications")["TopicArn"]
    told = inbox(topic)
    alarm = the_templates_alarm(topic)
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="trigger")["QueueUrl"]

    def handler(event, context):
        raise RuntimeError("the function crashed")

    source = QueueEventSource(
        queue, "arn:aws:sqs:us-east-1:123456789012:trigger", handler, context=LocalLambdaContext(function_name=FUNCTION)
    )
    # no data is notBreaching: OK, as moto created it (AWS's INSUFFICIENT_DATA -> OK would run no action either)
    assert evaluate_alarms() == []
    assert sqs.receive_message(QueueUrl=told, WaitTimeSeconds=0).get("Messages", []) == []

    sqs.send_message(QueueUrl=queue, MessageBody="{}")
    source.poll_once()

    assert evaluate_alarms() == [alarm]
    [message] = sqs.receive_message(QueueUrl=told, WaitTimeSeconds=0)["Messages"]
    envelope = json.loads(message["Body"])
    assert envelope["Subject"] == f'ALARM: "{alarm}" in US East (N. Virginia)'
    assert json.loads(envelope["Message"])["OldStateValue"] == "OK"
    # a period later the error is out of the window: OK again (the template has no OK action: no e-mail)
    assert evaluate_alarms(now=datetime.now(UTC) + timedelta(seconds=600)) == [alarm]
    state = boto3.client("cloudwatch", region_name=REGION).describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]
    assert state["StateValue"] == "OK"
