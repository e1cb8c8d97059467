"""One run per object version, whatever the deliveries; waiting instead of failing when capped."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from moto.sagemaker.models import sagemaker_backends

from app import lambda_handler
from tests.aws import SAMPLE_BUCKET, TriggerTargets
from tests.events import load_event
from tests.faults import inject_faults, json_error

UPLOAD = load_event("sqs-upload.json")


def message(key: str, version: str, message_id: str | None = None) -> dict[str, Any]:
    record = json.loads(json.dumps(UPLOAD["Records"][0]))
    body = json.loads(record["body"])
    body["Records"][0]["s3"]["object"]["key"] = key
    body["Records"][0]["s3"]["object"]["versionId"] = version
    record["body"] = json.dumps(body)
    record["messageId"] = message_id or str(uuid.uuid4())
    return dict(record)


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def test_the_same_object_delivered_three_ways_starts_one_run(targets, lambda_context):
    first = message("pipeline-dataset/a.csv", "v1")
    lambda_handler({"Records": [first]}, lambda_context)
    # SQS redelivers the same message (the first invocation crashed before deleting it)
    lambda_handler({"Records": [first]}, lambda_context)
    # S3 sends a duplicate notification: another message, same object version
    lambda_handler({"Records": [message("pipeline-dataset/a.csv", "v1")]}, lambda_context)
    # a replay arrives in a batch with a genuinely new object
    lambda_handler(
        {"Records": [message("pipeline-dataset/a.csv", "v1"), message("pipeline-dataset/b.csv", "v1")]},
        lambda_context,
    )

    assert targets.trained_keys() == [["pipeline-dataset/a.csv"], ["pipeline-dataset/b.csv"]]


def test_a_new_version_of_the_same_key_starts_a_new_run(targets, lambda_context):
    lambda_handler({"Records": [message("pipeline-dataset/a.csv", "v1")]}, lambda_context)
    lambda_handler({"Records": [message("pipeline-dataset/a.csv", "v2")]}, lambda_context)

    assert targets.trained_keys() == [["pipeline-dataset/a.csv"], ["pipeline-dataset/a.csv"]]
    assert len({e["PipelineExecutionArn"] for e in targets.executions()}) == 2


def test_a_burst_in_one_batch_is_one_run_and_a_single_upload_is_the_plain_run(targets, lambda_context):
    burst = [message(f"pipeline-dataset/burst/{n:03d}.csv", "v1") for n in range(50)]
    lambda_handler({"Records": burst}, lambda_context)
    lambda_handler({"Records": [message("pipeline-dataset/alone.csv", "v1")]}, lambda_context)

    executions = targets.executions()
    assert len(executions) == 2
    plain = [e for e in executions if e["Parameters"]["InputKey"] == "pipeline-dataset/alone.csv"]
    assert plain[0]["Parameters"] == {"InputBucket": SAMPLE_BUCKET, "InputKey": "pipeline-dataset/alone.csv"}
    assert [["pipeline-dataset/alone.csv"], [f"pipeline-dataset/burst/{n:03d}.csv" for n in range(50)]] == (
        targets.trained_keys()
    )


def test_a_start_that_failed_is_started_again_with_the_same_token(targets, lambda_context):
    import app

    batch = [message("pipeline-dataset/x.csv", "v1"), message("pipeline-dataset/y.csv", "v1")]
    client = app.service._executions._client
    with inject_faults(client, "StartPipelineExecution", json_error("ValidationException", 400)):
        response = lambda_handler({"Records": batch}, lambda_context)
    assert sorted(failed_ids(response)) == sorted(m["messageId"] for m in batch)
    assert targets.executions() == []

    # redelivered one at a time: each object is already assigned to the run that failed to start
    lambda_handler({"Records": [batch[1]]}, lambda_context)
    lambda_handler({"Records": [batch[0]]}, lambda_context)

    assert targets.trained_keys() == [["pipeline-dataset/x.csv", "pipeline-dataset/y.csv"]]


def set_running(targets: TriggerTargets, count: int) -> None:
    """moto's executions end at once; mark some as still running, through moto's own backend."""
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    backend = sagemaker_backends["123456789012"]["us-east-1"]
    for _ in range(count):
        arn = sagemaker.start_pipeline_execution(
            PipelineName=targets.pipeline_name,
            PipelineParameters=[{"Name": "InputBucket", "Value": "b"}, {"Name": "InputKey", "Value": "running"}],
            ClientRequestToken=str(uuid.uuid4()),
        )["PipelineExecutionArn"]
        backend.pipelines[targets.pipeline_name].pipeline_executions[arn].pipeline_execution_status = "Executing"


def trigger_queue(targets: TriggerTargets) -> tuple[str, str]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="retrain-trigger-TriggerQueue-EXAMPLE")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def configure(monkeypatch: pytest.MonkeyPatch, **settings: int) -> None:
    """The function as deployed with other MaxConcurrentExecutions / wait settings."""
    import app

    monkeypatch.setattr(app.service, "_settings", app.settings.model_copy(update=settings))


@pytest.fixture
def capped(monkeypatch: pytest.MonkeyPatch) -> None:
    # waiting messages come back at once, so that the test can read them
    configure(monkeypatch, max_concurrent_executions=2, wait_seconds=0)


def waiting_messages(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])
    return [dict(m) for m in found]


def test_waiting_messages_are_delayed_by_the_wait_setting(targets, lambda_context, monkeypatch):
    configure(monkeypatch, max_concurrent_executions=1, wait_seconds=300)
    url, arn = trigger_queue(targets)
    set_running(targets, 1)

    lambda_handler({"Records": [dict(message("pipeline-dataset/later.csv", "v1"), eventSourceARN=arn)]}, lambda_context)

    attributes = boto3.client("sqs", region_name="us-east-1").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"
    assert waiting_messages(url) == []


def test_at_the_cap_new_work_waits_in_the_queue_and_is_not_failed(targets, capped, lambda_context):
    url, arn = trigger_queue(targets)
    set_running(targets, 2)
    burst = [dict(message(f"pipeline-dataset/w{n}.csv", "v1"), eventSourceARN=arn) for n in range(3)]

    response = lambda_handler({"Records": burst}, lambda_context)

    assert failed_ids(response) == []  # the originals are deleted: waiting spends no receive count
    assert len(targets.executions()) == 2  # only the two running ones
    waiting = waiting_messages(url)
    assert sorted(m["Body"] for m in waiting) == sorted(m["body"] for m in burst)
    assert {m["MessageAttributes"]["retrain-trigger-waits"]["StringValue"] for m in waiting} == {"1"}


def test_below_the_cap_the_waiting_work_starts(targets, capped, lambda_context):
    url, arn = trigger_queue(targets)
    set_running(targets, 1)
    lambda_handler({"Records": [dict(message("pipeline-dataset/go.csv", "v1"), eventSourceARN=arn)]}, lambda_context)

    assert ["pipeline-dataset/go.csv"] in targets.trained_keys()
    assert waiting_messages(url) == []


def test_sagemaker_resource_limit_makes_the_work_wait_too(targets, lambda_context, monkeypatch):
    import app

    configure(monkeypatch, wait_seconds=0)
    url, arn = trigger_queue(targets)
    record = dict(message("pipeline-dataset/limited.csv", "v1"), eventSourceARN=arn)
    client = app.service._executions._client
    with inject_faults(client, "StartPipelineExecution", json_error("ResourceLimitExceeded", 400)):
        response = lambda_handler({"Records": [record]}, lambda_context)

    assert failed_ids(response) == []
    [waiting] = waiting_messages(url)
    assert waiting["Body"] == record["body"]
    # when it comes back, the object is still assigned to the same run, which now starts
    lambda_handler({"Records": [dict(record, messageId=str(uuid.uuid4()))]}, lambda_context)
    assert targets.trained_keys() == [["pipeline-dataset/limited.csv"]]
