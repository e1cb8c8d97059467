"""The run policy through the real handlers: every upload in exactly one run, the fewest runs.

The trigger records uploads and starts a run when a slot is free; the run-ended function frees
the slot and starts what arrived meanwhile; the sweep does the same when a status event is lost.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from app import lambda_handler
from emulator.pipeline_runner import RunResult
from emulator.status_events import executions_that_keep_running, record_in_moto
from tests.aws import SAMPLE_BUCKET, TriggerTargets
from tests.events import load_event
from tests.faults import inject_faults, json_error
from tests.template_values import DATA_PREFIX

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


def set_status(execution_arn: str, status: str) -> None:
    """How SageMaker would report the execution now, set through moto's own backend."""
    record_in_moto(RunResult(execution_arn, status=status))


def end_run(targets: TriggerTargets, execution_arn: str, lambda_context: Any, status: str = "Succeeded") -> None:
    """SageMaker's status-change event for the run, delivered to the run-ended function."""
    import run_ended

    set_status(execution_arn, status)
    event = load_event("pipeline-status-succeeded.json")
    event["detail"].update(pipelineExecutionArn=execution_arn, currentPipelineExecutionStatus=status)
    event["resources"][1] = execution_arn
    run_ended.lambda_handler(event, lambda_context)


def latest_execution(targets: TriggerTargets) -> str:
    return str(max(targets.executions(), key=lambda e: e["StartTime"])["PipelineExecutionArn"])


@pytest.fixture(autouse=True)
def executions_keep_running() -> Iterator[None]:
    """moto's executions succeed the moment they start; here they run until a test ends them."""
    with executions_that_keep_running():
        yield


def test_the_same_object_delivered_three_ways_is_in_one_run(targets, lambda_context):
    first = message(f"{DATA_PREFIX}a.csv", "v1")
    lambda_handler({"Records": [first]}, lambda_context)
    # SQS redelivers the same message (the first invocation crashed before deleting it)
    lambda_handler({"Records": [first]}, lambda_context)
    # S3 sends a duplicate notification: another message, same object version
    lambda_handler({"Records": [message(f"{DATA_PREFIX}a.csv", "v1")]}, lambda_context)
    # a replay arrives in a batch with a genuinely new object, while a's run is going
    lambda_handler(
        {"Records": [message(f"{DATA_PREFIX}a.csv", "v1"), message(f"{DATA_PREFIX}b.csv", "v1")]},
        lambda_context,
    )
    assert targets.trained_keys() == [[f"{DATA_PREFIX}a.csv"]]

    end_run(targets, latest_execution(targets), lambda_context)

    assert targets.trained_keys() == [[f"{DATA_PREFIX}a.csv"], [f"{DATA_PREFIX}b.csv"]]


def test_a_new_version_of_the_same_key_is_in_the_next_run(targets, lambda_context):
    lambda_handler({"Records": [message(f"{DATA_PREFIX}a.csv", "v1")]}, lambda_context)
    lambda_handler({"Records": [message(f"{DATA_PREFIX}a.csv", "v2")]}, lambda_context)
    end_run(targets, latest_execution(targets), lambda_context)

    assert targets.trained_keys() == [[f"{DATA_PREFIX}a.csv"], [f"{DATA_PREFIX}a.csv"]]
    assert len({e["PipelineExecutionArn"] for e in targets.executions()}) == 2


def test_a_lone_upload_is_the_plain_run_and_a_burst_while_it_runs_is_exactly_one_next_run(targets, lambda_context):
    lambda_handler({"Records": [message(f"{DATA_PREFIX}alone.csv", "v1")]}, lambda_context)
    [alone] = targets.executions()
    assert alone["Parameters"] == {
        "InputBucket": SAMPLE_BUCKET,
        "InputKey": f"{DATA_PREFIX}alone.csv",
        "InputDataType": "S3Prefix",
        "TrainingData": "NewObjects",
        "InputBytes": "1024",  # the size the notification gives
    }
    # While it runs, 50 uploads arrive in batches of every size: all acknowledged, none started.
    burst = [message(f"{DATA_PREFIX}burst/{n:03d}.csv", "v1") for n in range(50)]
    for start, size in ((0, 1), (1, 9), (10, 40)):
        response = lambda_handler({"Records": burst[start : start + size]}, lambda_context)
        assert failed_ids(response) == []
    assert len(targets.executions()) == 1

    end_run(targets, alone["PipelineExecutionArn"], lambda_context)

    assert targets.trained_keys() == [
        [f"{DATA_PREFIX}alone.csv"],
        [f"{DATA_PREFIX}burst/{n:03d}.csv" for n in range(50)],
    ]


def test_a_failed_or_stopped_run_frees_its_slot_too(targets, lambda_context):
    lambda_handler({"Records": [message(f"{DATA_PREFIX}a.csv", "v1")]}, lambda_context)
    lambda_handler({"Records": [message(f"{DATA_PREFIX}b.csv", "v1")]}, lambda_context)
    end_run(targets, latest_execution(targets), lambda_context, status="Failed")
    lambda_handler({"Records": [message(f"{DATA_PREFIX}c.csv", "v1")]}, lambda_context)
    end_run(targets, latest_execution(targets), lambda_context, status="Stopped")

    assert targets.trained_keys() == [
        [f"{DATA_PREFIX}a.csv"],
        [f"{DATA_PREFIX}b.csv"],
        [f"{DATA_PREFIX}c.csv"],
    ]


def test_the_same_status_event_twice_frees_one_slot(targets, lambda_context, monkeypatch):
    import run_ended
    from trigger.factory import build_core
    from trigger.settings import load_settings

    monkeypatch.setattr(run_ended, "core", build_core(load_settings({**os.environ, "MAX_CONCURRENT_EXECUTIONS": "2"})))
    for key in ("a", "b"):
        lambda_handler({"Records": [message(f"{DATA_PREFIX}{key}.csv", "v1")]}, lambda_context)
    first = min(targets.executions(), key=lambda e: e["StartTime"])["PipelineExecutionArn"]
    end_run(targets, first, lambda_context)
    end_run(targets, first, lambda_context)  # EventBridge delivers at least once

    assert run_ended.core.scheduler.dispatcher.cap.state().running == 1  # b's run still holds its slot


def test_a_lost_status_event_does_not_leak_the_slot_the_sweep_frees_it(targets, lambda_context):
    import sweep

    lambda_handler({"Records": [message(f"{DATA_PREFIX}a.csv", "v1")]}, lambda_context)
    lambda_handler({"Records": [message(f"{DATA_PREFIX}b.csv", "v1")]}, lambda_context)
    first = latest_execution(targets)
    assert sweep.lambda_handler(load_event("sweep.json"), lambda_context)["released"] == []  # still executing

    set_status(first, "Succeeded")  # it ended, but its event never arrived
    result = sweep.lambda_handler(load_event("sweep.json"), lambda_context)

    assert result["released"] == [first]
    assert targets.trained_keys() == [[f"{DATA_PREFIX}a.csv"], [f"{DATA_PREFIX}b.csv"]]
    assert result["started"] == [latest_execution(targets)]


def test_sagemaker_resource_limit_keeps_the_run_and_the_next_dispatch_starts_it(targets, lambda_context):
    import app

    record = message(f"{DATA_PREFIX}limited.csv", "v1")
    client = app.core.clients.sagemaker
    with inject_faults(client, "StartPipelineExecution", json_error("ResourceLimitExceeded", 400)):
        response = lambda_handler({"Records": [record]}, lambda_context)

    assert failed_ids(response) == []  # recorded: nothing waits in SQS
    assert targets.executions() == []
    # the next upload dispatches: the waiting run goes first, with its own token, then the new one
    lambda_handler({"Records": [message(f"{DATA_PREFIX}next.csv", "v1")]}, lambda_context)
    assert targets.trained_keys() == [[f"{DATA_PREFIX}limited.csv"]]
    end_run(targets, latest_execution(targets), lambda_context)
    assert targets.trained_keys() == [[f"{DATA_PREFIX}limited.csv"], [f"{DATA_PREFIX}next.csv"]]
