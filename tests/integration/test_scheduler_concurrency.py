"""Concurrent invocations against moto's server, each with its own clients and the functions' own
core: the cap holds, and each upload is in exactly one run."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import boto3
import pytest

from emulator.moto_server import REGION, running_moto_server
from tests.aws import create_placeholder_pipeline, create_scheduler_table
from tests.template_values import DATA_PREFIX
from trigger.adapters.clients import Clients
from trigger.factory import Core, build_core
from trigger.runs import PipelineRun
from trigger.settings import load_settings
from trigger.uploads import UploadedObject

pytestmark = pytest.mark.end_to_end

PIPELINE = os.environ["PIPELINE_NAME"]  # the pipeline the functions start (events/env.json)
INVOCATIONS = 8
UPLOAD = UploadedObject(bucket="data", key="k", event_name="ObjectCreated:Put", e_tag="e")


def invocation_core(cap: int) -> Core:
    """What one function container builds: its own clients, the template's settings with this cap."""
    settings = load_settings({**os.environ, "NOTIFICATION_TOPIC_ARN": "", "MAX_CONCURRENT_EXECUTIONS": str(cap)})
    clients = Clients(**{name: boto3.client(name, region_name=REGION) for name in ("dynamodb", "sagemaker", "s3")})
    return build_core(settings, clients)


def slow_reads(core: Core, seconds: float) -> None:
    """Every read of the pending set answers late: the window in which another dispatcher acts."""

    def late(**_: Any) -> None:
        time.sleep(seconds)

    core.clients.dynamodb.meta.events.register("after-call.dynamodb.Query", late)


def run_invocations(
    cap: int, stagger: float, read_delay: float
) -> tuple[list[tuple[PipelineRun, str]], list[str], int]:
    started: list[tuple[PipelineRun, str]] = []
    most_running = {"value": 0}
    lock = threading.Lock()
    with running_moto_server(serial=True):
        create_scheduler_table()
        create_placeholder_pipeline(PIPELINE)
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="data")

        def invocation(n: int) -> None:
            """One function invocation: record its batch, then dispatch."""
            core = invocation_core(cap)
            slow_reads(core, read_delay)
            time.sleep(n * stagger)  # uploads arrive one batch after another
            core.scheduler.accept([replace(UPLOAD, key=f"{DATA_PREFIX}{n}-{m}.csv") for m in range(5)])
            outcome = core.scheduler.dispatch()
            with lock:
                started.extend(outcome.started)
                most_running["value"] = max(most_running["value"], core.scheduler.dispatcher.cap.state().running)

        with ThreadPoolExecutor(max_workers=INVOCATIONS) as pool:
            list(pool.map(invocation, range(INVOCATIONS)))
        left = [entry.object.key for entry in invocation_core(cap).scheduler.pending.oldest(100)]
    return started, left, most_running["value"]


def every_upload_once(started: list[tuple[PipelineRun, str]], left: list[str]) -> None:
    in_runs = Counter(obj.key for run, _ in started for obj in run.objects)
    assert [key for key, count in in_runs.items() if count > 1] == []  # no upload trained twice
    keys = sorted([*in_runs, *left])
    assert keys == sorted(f"{DATA_PREFIX}{n}-{m}.csv" for n in range(INVOCATIONS) for m in range(5))


@pytest.mark.parametrize("cap", [1, 2])
def test_concurrent_invocations_never_take_more_slots_than_there_are(cap):
    started, left, most_running = run_invocations(cap, stagger=0, read_delay=0)

    assert 1 <= len(started) <= cap
    assert most_running <= cap
    every_upload_once(started, left)


@pytest.mark.parametrize("cap", [2, 0])
def test_dispatchers_that_read_the_pending_set_at_different_times_never_put_an_upload_in_two_runs(cap):
    """One dispatcher reads {a, b}; another reads {a, b, c} and starts a run over them; the first
    must not then start a second run over {a, b}."""
    started, left, most_running = run_invocations(cap, stagger=0.05, read_delay=0.2)

    assert started
    assert most_running <= (cap or INVOCATIONS)
    every_upload_once(started, left)
