"""Concurrent invocations against moto's server: the slots hold, and each object is in one run."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import boto3
import pytest

from emulator.moto_server import REGION, running_moto_server
from tests.aws import create_placeholder_pipeline, create_scheduler_table
from tests.template_values import DATA_PREFIX
from trigger.adapters.pipeline_executions import PipelineExecutions
from trigger.planner import PipelineRun, UploadedObject, run_for
from trigger.scheduler.dispatch import Dispatcher, RunPolicy
from trigger.scheduler.pending import PendingObjects
from trigger.scheduler.slots import Slots
from trigger.scheduler.table import SchedulerTable

pytestmark = pytest.mark.end_to_end

PIPELINE = os.environ["PIPELINE_NAME"]  # the pipeline the functions start (events/env.json)
TABLE = "scheduler"
INVOCATIONS = 8


def plan(objects: list[UploadedObject]) -> PipelineRun:
    return run_for(objects, pipeline_name=PIPELINE, manifest_prefix=os.environ["MANIFEST_PREFIX"])


@pytest.mark.parametrize("cap", [1, 2])
def test_concurrent_invocations_never_take_more_slots_than_there_are(cap):
    upload = UploadedObject(bucket="data", key="k", event_name="ObjectCreated:Put", e_tag="e")
    started: list[tuple[PipelineRun, str]] = []
    most_running = {"value": 0}
    lock = threading.Lock()

    with running_moto_server(serial=True):
        create_scheduler_table(TABLE)
        create_placeholder_pipeline(PIPELINE)

        def invocation(n: int) -> None:
            """One function invocation: its own clients, record its batch, dispatch."""
            table = SchedulerTable(TABLE, boto3.client("dynamodb", region_name=REGION))
            pending, slots = PendingObjects(table, PIPELINE), Slots(table, PIPELINE, cap=cap)
            executions = PipelineExecutions(boto3.client("sagemaker", region_name=REGION))
            dispatcher = Dispatcher(
                table=table,
                pending=pending,
                slots=slots,
                plan=plan,
                write_manifest=lambda run: None,
                start=executions.start_record,
                policy=RunPolicy(),
            )
            batch = [replace(upload, key=f"{DATA_PREFIX}{n}-{m}.csv") for m in range(5)]
            pending.record(batch, time.time())
            outcome = dispatcher.dispatch()
            with lock:
                started.extend(outcome.started)
                most_running["value"] = max(most_running["value"], slots.state().running)

        with ThreadPoolExecutor(max_workers=INVOCATIONS) as pool:
            list(pool.map(invocation, range(INVOCATIONS)))

        table = SchedulerTable(TABLE, boto3.client("dynamodb", region_name=REGION))
        slots = Slots(table, PIPELINE, cap=cap)
        left = PendingObjects(table, PIPELINE).oldest(100)
        running = slots.state().running

    assert 1 <= len(started) <= cap
    assert running == len(started) <= cap
    assert most_running["value"] <= cap
    keys = [obj.key for run, _ in started for obj in run.objects] + [entry.object.key for entry in left]
    assert sorted(keys) == sorted(f"{DATA_PREFIX}{n}-{m}.csv" for n in range(INVOCATIONS) for m in range(5))
