"""The run scheduler on moto's DynamoDB and SageMaker: each upload in exactly one run, the cap held."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
import pytest

from tests.aws import REGION, create_placeholder_pipeline, create_scheduler_table
from tests.template_values import DATA_PREFIX
from trigger.adapters.pipeline_executions import PipelineExecutions
from trigger.planner import PipelineRun, UploadedObject, run_for
from trigger.scheduler.dispatch import Dispatcher, RunPolicy
from trigger.scheduler.pending import PendingObjects
from trigger.scheduler.slots import Slots
from trigger.scheduler.sweep import Sweeper
from trigger.scheduler.table import SchedulerTable

PIPELINE = os.environ["PIPELINE_NAME"]  # the pipeline the functions start (events/env.json)
TABLE = "scheduler"
UPLOAD = UploadedObject(bucket="data", key=f"{DATA_PREFIX}a.csv", event_name="ObjectCreated:Put", e_tag="e", size=3)


def upload(n: int) -> UploadedObject:
    return replace(UPLOAD, key=f"{DATA_PREFIX}{n:05d}.csv", e_tag=f"etag{n}")


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Scheduler:
    """The scheduler's parts wired as the functions wire them, with the calls they make recorded."""

    clock: Clock
    cap: int = 1
    policy: RunPolicy = field(default_factory=RunPolicy)
    started_tokens: list[str] = field(default_factory=list)
    fail_start: Callable[[dict[str, Any]], None] | None = None
    manifests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.table = SchedulerTable(TABLE, boto3.client("dynamodb", region_name=REGION))
        self.pending = PendingObjects(self.table, PIPELINE)
        self.slots = Slots(self.table, PIPELINE, cap=self.cap)
        self.executions = PipelineExecutions(boto3.client("sagemaker", region_name=REGION))
        self.dispatcher = Dispatcher(
            table=self.table,
            pending=self.pending,
            slots=self.slots,
            plan=self.plan,
            write_manifest=lambda run: self.manifests.append(run.client_request_token),
            start=self.start,
            policy=self.policy,
            clock=self.clock,
        )
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        self.sweeper = Sweeper(
            slots=self.slots,
            dispatcher=self.dispatcher,
            execution_status=lambda arn: sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)[
                "PipelineExecutionStatus"
            ],
            clock=self.clock,
        )

    @staticmethod
    def plan(objects: list[UploadedObject]) -> PipelineRun:
        return run_for(objects, pipeline_name=PIPELINE, manifest_prefix=os.environ["MANIFEST_PREFIX"])

    def start(self, record: dict[str, Any]) -> str:
        if self.fail_start:
            self.fail_start(record)
        self.started_tokens.append(record["client_request_token"])
        return self.executions.start_record(record)

    def record(self, *objects: UploadedObject) -> None:
        self.pending.record(list(objects), self.clock())


@pytest.fixture
def scheduler(aws: None) -> Scheduler:
    create_scheduler_table(TABLE)
    create_placeholder_pipeline(PIPELINE)
    return Scheduler(Clock())


def objects_of(run: PipelineRun) -> list[str]:
    return [obj.key for obj in run.objects]


def test_a_lone_upload_starts_its_run_at_once_and_a_redelivery_records_nothing(scheduler):
    scheduler.record(UPLOAD)
    duplicate = scheduler.pending.record([UPLOAD, UPLOAD], scheduler.clock())

    outcome = scheduler.dispatcher.dispatch()

    assert duplicate.new == []
    assert duplicate.duplicates == [UPLOAD]
    [(run, arn)] = outcome.started
    assert run.parameters == {"InputBucket": "data", "InputKey": f"{DATA_PREFIX}a.csv"}
    assert arn.startswith("arn:aws:sagemaker:")
    assert scheduler.pending.oldest(10) == []
    assert scheduler.slots.state().running == 1


def test_a_burst_of_1000_while_a_run_is_going_becomes_exactly_one_next_run(scheduler):
    scheduler.record(UPLOAD)
    [(first, _first_arn)] = scheduler.dispatcher.dispatch().started
    burst = [upload(n) for n in range(1000)]
    for start in range(0, 1000, 100):  # ten batches of the trigger queue
        scheduler.record(*burst[start : start + 100])
        assert scheduler.dispatcher.dispatch().started == []  # the one slot is taken

    assert scheduler.slots.release(first.client_request_token, "Succeeded", scheduler.clock())
    [(second, _)] = scheduler.dispatcher.dispatch().started

    assert sorted(objects_of(second)) == sorted(obj.key for obj in burst)
    assert scheduler.pending.oldest(10) == []
    assert not scheduler.slots.release(first.client_request_token, "Succeeded", scheduler.clock())  # twice: once
    assert scheduler.slots.state().running == 1


def test_max_objects_per_run_splits_a_backlog_into_runs_in_arrival_order(scheduler):
    scheduler.cap = 0
    scheduler = Scheduler(scheduler.clock, cap=0, policy=RunPolicy(max_objects_per_run=40))
    for n in range(100):
        scheduler.clock.now += 1
        scheduler.record(upload(n))

    started = scheduler.dispatcher.dispatch().started

    assert [len(run.objects) for run, _ in started] == [40, 40, 20]
    assert objects_of(started[0][0])[0] == upload(0).key


def test_quiet_seconds_waits_for_a_burst_to_end_but_never_longer_than_max_wait(scheduler):
    scheduler = Scheduler(scheduler.clock, policy=RunPolicy(quiet_seconds=120, max_wait_seconds=600))
    scheduler.record(upload(0))
    for n in range(1, 10):
        scheduler.clock.now += 60
        scheduler.record(upload(n))
        assert scheduler.dispatcher.dispatch().waiting.startswith("QuietSeconds")
    scheduler.clock.now += 60  # the oldest has now waited 600 s
    [(run, _)] = scheduler.dispatcher.dispatch().started
    assert len(run.objects) == 10


def test_min_seconds_between_runs_holds_the_next_start(scheduler):
    scheduler = Scheduler(scheduler.clock, cap=0, policy=RunPolicy(min_seconds_between_runs=300))
    scheduler.record(upload(0))
    assert len(scheduler.dispatcher.dispatch().started) == 1
    scheduler.clock.now += 100
    scheduler.record(upload(1))
    assert scheduler.dispatcher.dispatch().waiting.startswith("MinSecondsBetweenRuns")
    scheduler.clock.now += 200
    assert len(scheduler.dispatcher.dispatch().started) == 1


class Crash(RuntimeError):
    pass


@pytest.mark.parametrize("step", ["manifest", "acquire", "delete pending", "start", "after start", "mark started"])
def test_a_crash_at_any_step_is_completed_by_the_next_dispatch_with_the_same_token(scheduler, step, monkeypatch):
    objects = [upload(n) for n in range(120)]  # more than one transaction of deletes
    scheduler.record(*objects)
    crashed = {"done": False}

    def crash_once() -> bool:
        if not crashed["done"]:
            crashed["done"] = True
            raise Crash(step)
        return False

    dispatcher, slots, table = scheduler.dispatcher, scheduler.slots, scheduler.table
    if step == "manifest":
        original_write = dispatcher._write_manifest
        monkeypatch.setattr(dispatcher, "_write_manifest", lambda run: (crash_once(), original_write(run)))
    elif step == "acquire":
        original_acquire = slots.acquire
        monkeypatch.setattr(slots, "acquire", lambda *a: (original_acquire(*a), crash_once())[0])
    elif step == "delete pending":
        original_batch = table.client.batch_write_item
        calls = {"n": 0}

        def batch_write_item(**arguments: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == 2:  # the first 25 entries are gone, the rest are not
                crash_once()
            return original_batch(**arguments)

        monkeypatch.setattr(table.client, "batch_write_item", batch_write_item)
    elif step == "start":
        scheduler.fail_start = lambda record: crash_once()
    elif step == "after start":
        original_start = scheduler.start
        monkeypatch.setattr(dispatcher, "_start", lambda record: (original_start(record), crash_once())[0])
    else:
        original_mark = slots.mark_started
        monkeypatch.setattr(slots, "mark_started", lambda *a: (crash_once(), original_mark(*a))[1])

    with pytest.raises(Crash):
        scheduler.dispatcher.dispatch()
    outcome = scheduler.dispatcher.dispatch()

    [(run, _)] = outcome.started
    assert sorted(objects_of(run)) == sorted(obj.key for obj in objects)  # each object in the one run
    assert len(set(scheduler.started_tokens)) == 1  # a second start repeats the token: SageMaker's same run
    assert scheduler.pending.oldest(200) == []
    assert scheduler.slots.state() == replace(scheduler.slots.state(), running=1, dispatching=None)
    assert scheduler.dispatcher.dispatch().started == []


def test_a_lost_status_event_does_not_leak_the_slot_the_sweep_frees_it(scheduler):
    scheduler.record(upload(0))
    scheduler.dispatcher.dispatch()
    scheduler.record(upload(1))
    assert scheduler.dispatcher.dispatch().waiting is not None  # the slot is taken; its end event never comes

    # moto marks executions Succeeded at once: the sweep sees the first run has ended
    outcome = scheduler.sweeper.sweep()

    assert len(outcome.released) == 1
    [(run, _)] = outcome.dispatched.started
    assert objects_of(run) == [upload(1).key]


def test_a_transient_start_failure_keeps_the_run_and_retries_it_with_the_same_token(scheduler):
    from botocore.exceptions import ClientError

    def throttled(record: dict[str, Any]) -> None:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "StartPipelineExecution")

    scheduler.fail_start = throttled
    scheduler.record(upload(0))
    outcome = scheduler.dispatcher.dispatch()
    assert outcome.started == []
    assert outcome.not_started is not None
    assert "slow down" in outcome.not_started[1]
    assert scheduler.slots.state().dispatching == outcome.not_started[0].client_request_token
    scheduler.fail_start = None
    [(run, _)] = scheduler.sweeper.sweep().dispatched.started
    assert objects_of(run) == [upload(0).key]


def test_a_run_sagemaker_refuses_for_good_is_abandoned_and_frees_its_slot(scheduler):
    scheduler.record(upload(0))
    scheduler.dispatcher._plan = lambda objects: replace(Scheduler.plan(objects), pipeline_name="no-such-pipeline")

    outcome = scheduler.dispatcher.dispatch()

    [(run, reason)] = outcome.abandoned
    assert objects_of(run) == [upload(0).key]
    assert "no-such-pipeline" in reason or "does not exist" in reason
    assert scheduler.slots.state().running == 0
    assert scheduler.slots.claim_not_started_notice(run.client_request_token)
    assert not scheduler.slots.claim_not_started_notice(run.client_request_token)  # one notice per run
