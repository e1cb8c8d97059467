"""400 uploads, 10% of AWS calls failing, a crash in the middle: each upload in exactly one run or in the DLQ.

(A burst of 1,000 becoming one run is tests/unit/test_scheduler.py's, without faults.)"""

from __future__ import annotations

import json
from collections import Counter
from contextlib import ExitStack
from typing import Any

import boto3
import pytest

from emulator.moto_server import REGION
from tests.aws import create_placeholder_pipeline
from tests.faults import inject_faults, json_error, query_error
from tests.integration.conftest import LocalRun
from tests.template_values import DATA_PREFIX

pytestmark = pytest.mark.end_to_end
UPLOADS = 400
ERRORS = {
    "Publish": query_error,
    "PutObject": json_error,
    "StartPipelineExecution": json_error,
    "TransactWriteItems": json_error,
}


class SimulatedCrash(BaseException):
    """The function dies (timeout, out of memory) after the run started, before it returns."""


def one_call_in_ten(attempt: int) -> bool:
    # the 1st, 11th, 21st... call of each operation: operations called only a few times fail too
    return attempt % 10 == 1


def every_other_call(attempt: int) -> bool:
    # Publish is called once per run (the first call is the crash's): every other call fails
    return attempt % 2 == 1


def app_clients(run: LocalRun) -> list[tuple[str, Any]]:
    """The clients of the trigger function and of the sweep, each with the call that fails."""
    clients = []
    for core in (run.app.core, run.sweep.core):
        clients += [
            ("StartPipelineExecution", core.clients.sagemaker),
            ("PutObject", core.clients.s3),
            ("TransactWriteItems", core.clients.dynamodb),
            ("Publish", core.clients.sns),
        ]
    return clients


def objects_in_runs(run: LocalRun) -> Counter[str]:
    """How many runs each key was given to, read from the runs' parameters and manifests."""
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    counts: Counter[str] = Counter()
    pages = sagemaker.get_paginator("list_pipeline_executions").paginate(PipelineName=run.deployment.pipeline_name)
    for page in pages:
        for summary in page["PipelineExecutionSummaries"]:
            parameters = {
                p["Name"]: p["Value"]
                for p in sagemaker.list_pipeline_parameters_for_execution(
                    PipelineExecutionArn=summary["PipelineExecutionArn"]
                )["PipelineParameters"]
            }
            if parameters.get("InputDataType") == "ManifestFile":
                folder = parameters["InputKey"].rsplit("/", 1)[0]
                listing = json.loads(
                    s3.get_object(Bucket=parameters["InputBucket"], Key=f"{folder}/objects.json")["Body"].read()
                )
                counts.update(item["key"] for item in listing["objects"])
            else:
                counts[parameters["InputKey"]] += 1
    return counts


def keys_in_dlq(run: LocalRun) -> list[str]:
    sqs = boto3.client("sqs", region_name=REGION)
    keys = []
    while messages := sqs.receive_message(QueueUrl=run.deployment.dead_letter_queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in messages:
            for record in json.loads(message["Body"]).get("Records", []):
                from urllib.parse import unquote_plus

                keys.append(unquote_plus(record["s3"]["object"]["key"]))
            sqs.delete_message(QueueUrl=run.deployment.dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"])
    return keys


def test_every_upload_ends_in_exactly_one_run_or_in_the_dlq(local_run):
    create_placeholder_pipeline(local_run.deployment.pipeline_name)
    s3 = boto3.client("s3", region_name=REGION)
    keys = [f"{DATA_PREFIX}load/{n:04d} part.csv" for n in range(UPLOADS)]
    first_wave, second_wave = keys[: UPLOADS // 2], keys[UPLOADS // 2 :]  # the second arrives while a run goes
    for key in first_wave:
        s3.put_object(Bucket=local_run.deployment.bucket, Key=key, Body=b"x,target\n1,2\n")

    crashed: list[str] = []

    def crash_once(request: Any, **_: Any) -> None:
        if not crashed:
            crashed.append(request.url)
            raise SimulatedCrash("the function died after starting a run")

    with ExitStack() as faults:
        logs = [
            (
                operation,
                faults.enter_context(
                    inject_faults(
                        client,
                        operation,
                        ERRORS[operation]("InternalFailure", 500),
                        every_other_call if operation == "Publish" else one_call_in_ten,
                    )
                ),
            )
            for operation, client in app_clients(local_run)
        ]
        sns = local_run.app.core.clients.sns
        sns.meta.events.register_first("before-send.sns.Publish", crash_once)
        report = local_run.event_source.drain(max_invocations=200)
        sns.meta.events.unregister("before-send.sns.Publish", crash_once)
        for key in second_wave:
            s3.put_object(Bucket=local_run.deployment.bucket, Key=key, Body=b"x,target\n1,2\n")
        local_run.event_source.drain(max_invocations=200)
        local_run.settle()

    assert crashed, "the crash was not simulated"
    assert report.invocation_errors  # the crashed invocation returned its whole batch to the queue
    injected = Counter[str]()
    for operation, log in logs:
        injected[operation] += log.injected
    assert set(injected) == set(ERRORS)
    assert all(count > 0 for count in injected.values()), injected
    in_runs = objects_in_runs(local_run)
    in_dlq = keys_in_dlq(local_run)
    assert [key for key, count in in_runs.items() if count > 1] == []  # none in two runs
    assert sorted([*in_runs, *in_dlq]) == sorted(keys)  # none missing, none in a run and the DLQ
    # a burst of uploads becomes a handful of runs (one per run end), not one per upload
    runs = len(
        boto3.client("sagemaker", region_name=REGION).list_pipeline_executions(
            PipelineName=local_run.deployment.pipeline_name, MaxResults=100
        )["PipelineExecutionSummaries"]
    )
    assert runs <= 5, f"{runs} runs for a burst of {UPLOADS} uploads"
