"""Every source through the same guarantees, on the local stack with IAM enforcement: an upload, a
"data ready" message on another team's topic (RetrainTopicArn), an event RetrainOnEvents matches and
the schedule's tick each become run requests in the trigger queue. While a run is going they wait
(the cap); each is in exactly one next run, which reads the whole data prefix; a redelivered message
or tick asks for nothing new; a message no source reads goes to the DLQ with its reason."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from emulator.moto_server import ACCOUNT, REGION
from emulator.status_events import executions_that_keep_running
from tests.aws import create_placeholder_pipeline
from tests.integration.conftest import LocalRun, enforced_local_run
from tests.template_values import DATA_PREFIX

pytestmark = pytest.mark.end_to_end

TOPIC = "data-ready"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC}"
PATTERN = {"source": ["partner.data"], "detail-type": ["Data job done"]}
SCHEDULE = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/retrain-trigger-local-retrain"
TICK = json.dumps({"runRequest": {"kind": "schedule", "schedule": SCHEDULE, "time": "2026-12-07T02:00:00Z"}})


@pytest.fixture
def sources_run() -> Iterator[LocalRun]:
    overrides = {"RetrainTopicArn": TOPIC_ARN, "RetrainOnEvents": json.dumps(PATTERN), "MaxConcurrentExecutions": "1"}

    def another_teams_topic() -> None:
        boto3.client("sns", region_name=REGION).create_topic(Name=TOPIC)

    with executions_that_keep_running(), enforced_local_run(overrides, before_deploy=another_teams_topic) as run:
        create_placeholder_pipeline(run.deployment.pipeline_name)
        yield run


def test_a_message_an_event_and_a_tick_wait_for_the_running_run_and_are_one_next_run(sources_run):
    run = sources_run
    s3, sqs = boto3.client("s3", region_name=REGION), boto3.client("sqs", region_name=REGION)
    s3.put_object(Bucket=run.deployment.bucket, Key=f"{DATA_PREFIX}a.csv", Body=b"x,target\n1,2\n")
    run.event_source.drain()
    [first] = run.targets.executions()

    boto3.client("sns", region_name=REGION).publish(TopicArn=TOPIC_ARN, Subject="day 2026-12-06", Message="done")
    events = boto3.client("events", region_name=REGION)
    events.put_events(Entries=[{"Source": "partner.data", "DetailType": "Data job done", "Detail": "{}"}])
    sqs.send_message(QueueUrl=run.deployment.queue_url, MessageBody=TICK)
    delivered = peek_bodies(sqs, run.deployment.queue_url)
    run.event_source.drain()
    # each again, as SQS redelivers a message whose deletion was lost: nothing new
    for body in delivered:
        sqs.send_message(QueueUrl=run.deployment.queue_url, MessageBody=body)
    run.event_source.drain()
    assert len(run.targets.executions()) == 1  # the cap: all three wait for the running run

    run.end_run(first["PipelineExecutionArn"])

    executions = run.targets.executions()
    assert len(executions) == 2
    [second] = [e for e in executions if e["PipelineExecutionArn"] != first["PipelineExecutionArn"]]
    # the whole data prefix, listed once into the run's manifest (the default mapping passes InputBytes)
    parameters = second["Parameters"]
    assert (parameters["InputDataType"], parameters["TrainingData"]) == ("ManifestFile", "AllObjects")
    assert parameters["InputBytes"] == str(len(b"x,target\n1,2\n"))
    assert run.targets.trained_keys()[-1] == [f"{DATA_PREFIX}a.csv"]
    described = boto3.client("sagemaker", region_name=REGION).describe_pipeline_execution(
        PipelineExecutionArn=second["PipelineExecutionArn"]
    )["PipelineExecutionDescription"]
    assert f"Data ready: {TOPIC} (day 2026-12-06)" in described
    assert "Event: partner.data Data job done" in described
    assert "Scheduled retrain (retrain-trigger-local-retrain, 2026-12-07T02:00:00Z)" in described

    started = [n for n in run.targets.notifications() if n["subject"].startswith("Retraining started")][-1]
    assert started["subject"] == "Retraining started: scheduled retrain, data ready, an event"
    assert f"everything under s3://{run.deployment.bucket}/{DATA_PREFIX}" in started["message"]

    run.end_run(second["PipelineExecutionArn"])
    assert len(run.targets.executions()) == 2  # nothing was left over for a third run
    assert run.targets.dead_letters() == []


def test_a_message_from_a_topic_the_stack_does_not_name_goes_to_the_dlq_with_its_reason(sources_run):
    run = sources_run
    other = json.dumps(
        {
            "Type": "Notification",
            "MessageId": "b1a2",
            "TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:someone-else",
            "Message": "done",
        }
    )
    boto3.client("sqs", region_name=REGION).send_message(QueueUrl=run.deployment.queue_url, MessageBody=other)
    run.event_source.drain()

    [letter] = run.targets.dead_letters()
    assert letter["body"] == other
    assert letter["reason"] == (
        f"a message from arn:aws:sns:{REGION}:{ACCOUNT}:someone-else, but RetrainTopicArn names {TOPIC_ARN}: "
        "not for this stack"
    )
    assert run.targets.executions() == []


def peek_bodies(sqs, queue_url: str) -> list[str]:
    from ops.queues import peek

    return [message["Body"] for message in peek(sqs, queue_url)]


def test_an_invalid_pattern_fails_the_deploy_in_one_line_and_an_update_with_it_changes_nothing():
    from emulator.deployment import deploy_locally, update_locally
    from emulator.moto_server import running_moto_server

    with running_moto_server():
        with pytest.raises(RuntimeError) as refused:
            deploy_locally({"RetrainOnEvents": "{not json"})
        assert str(refused.value) == "stack retrain-trigger-local: Event pattern is not valid. Reason: Invalid JSON"

    with running_moto_server():
        deployment = deploy_locally({"RetrainOnEvents": json.dumps(PATTERN)})
        for pattern in ("{not json", '{"source": "partner.data"}'):  # not JSON; JSON EventBridge refuses
            with pytest.raises(RuntimeError, match=r"^Event pattern is not valid\. Reason: "):
                update_locally(deployment, {"RetrainOnEvents": pattern})
            rule = boto3.client("events", region_name=REGION).describe_rule(
                Name="retrain-trigger-local-retrain-on-events"
            )
            assert json.loads(rule["EventPattern"]) == PATTERN  # rolled back: the rule as it was
