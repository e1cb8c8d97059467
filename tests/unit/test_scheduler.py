"""The run scheduler on moto's DynamoDB and SageMaker, built by the functions' own factory: each
upload in exactly one run, the cap held, every step resumable."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import boto3
import pytest

from tests.aws import REGION, create_placeholder_pipeline, create_scheduler_table
from tests.faults import Crash, crash_once, inject_faults, json_error, requests_of
from tests.template_values import DATA_PREFIX
from trigger.adapters.clients import Clients
from trigger.factory import Core, build_core
from trigger.runs import PipelineRun
from trigger.settings import load_settings
from trigger.uploads import UploadedObject

PIPELINE = os.environ["PIPELINE_NAME"]  # the pipeline the functions start (events/env.json)
UPLOAD = UploadedObject(bucket="data", key=f"{DATA_PREFIX}a.csv", event_name="ObjectCreated:Put", e_tag="e", size=3)


def upload(n: int) -> UploadedObject:
    return replace(UPLOAD, key=f"{DATA_PREFIX}{n:05d}.csv", e_tag=f"etag{n}")


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def core_with(clock: Clock, **variables: str) -> Core:
    """The core as the functions build it, with moto's clients, this clock and these variables."""
    settings = load_settings({**os.environ, "NOTIFICATION_TOPIC_ARN": "", **variables})
    clients = Clients(**{name: boto3.client(name, region_name=REGION) for name in ("dynamodb", "sagemaker", "s3")})
    return build_core(settings, clients, clock)


@pytest.fixture
def clock(aws: None) -> Clock:
    create_scheduler_table()
    create_placeholder_pipeline(PIPELINE)
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="data")
    return Clock()


@pytest.fixture
def core(clock: Clock) -> Core:
    return core_with(clock)


def record(core: Core, *objects: UploadedObject) -> None:
    core.scheduler.accept(list(objects))


def objects_of(run: PipelineRun) -> list[str]:
    return [obj.key for obj in run.objects]


def test_a_lone_upload_starts_its_run_at_once_and_a_redelivery_records_nothing(core):
    record(core, UPLOAD)
    duplicate = core.scheduler.accept([UPLOAD, UPLOAD])

    outcome = core.scheduler.dispatch()

    assert duplicate.new == []
    assert duplicate.duplicates == [UPLOAD]
    [(run, arn)] = outcome.started
    assert run.parameters == {
        "InputBucket": "data",
        "InputKey": f"{DATA_PREFIX}a.csv",
        "InputDataType": "S3Prefix",
        "TrainingData": "NewObjects",
        "InputBytes": str(UPLOAD.size),
    }
    assert arn.startswith("arn:aws:sagemaker:")
    assert core.scheduler.pending.oldest(10) == []
    assert core.scheduler.dispatcher.cap.state().running == 1


def test_a_burst_of_1000_while_a_run_is_going_becomes_exactly_one_next_run(core):
    record(core, UPLOAD)
    [(_, first_arn)] = core.scheduler.dispatch().started
    burst = [upload(n) for n in range(1000)]
    for start in range(0, 1000, 100):  # ten batches of the trigger queue
        record(core, *burst[start : start + 100])
        assert core.scheduler.dispatch().started == []  # the one slot is taken

    [(second, _)] = core.scheduler.run_ended(first_arn, "Succeeded").started

    assert sorted(objects_of(second)) == sorted(obj.key for obj in burst)
    assert second.parameters["InputDataType"] == "ManifestFile"
    assert core.scheduler.pending.oldest(10) == []
    assert core.scheduler.run_ended(first_arn, "Succeeded").started == []  # twice: one slot freed
    assert core.scheduler.dispatcher.cap.state().running == 1


def test_max_objects_per_run_splits_a_backlog_into_runs_in_arrival_order(clock):
    core = core_with(clock, MAX_CONCURRENT_EXECUTIONS="0", MAX_OBJECTS_PER_RUN="40")
    for n in range(100):
        clock.now += 1
        record(core, upload(n))

    started = core.scheduler.dispatch().started

    assert [len(run.objects) for run, _ in started] == [40, 40, 20]
    assert objects_of(started[0][0])[0] == upload(0).key


def test_quiet_seconds_waits_for_a_burst_to_end_but_never_longer_than_max_wait(clock):
    core = core_with(clock, QUIET_SECONDS="120", MAX_WAIT_SECONDS="600")
    record(core, upload(0))
    for n in range(1, 10):
        clock.now += 60
        record(core, upload(n))
        assert str(core.scheduler.dispatch().waiting).startswith("QuietSeconds")
    clock.now += 60  # the oldest has now waited 600 s
    [(run, _)] = core.scheduler.dispatch().started
    assert len(run.objects) == 10


def test_min_seconds_between_runs_holds_the_next_start(clock):
    core = core_with(clock, MAX_CONCURRENT_EXECUTIONS="0", MIN_SECONDS_BETWEEN_RUNS="300")
    record(core, upload(0))
    assert len(core.scheduler.dispatch().started) == 1
    clock.now += 100
    record(core, upload(1))
    assert str(core.scheduler.dispatch().waiting).startswith("MinSecondsBetweenRuns")
    clock.now += 200
    assert len(core.scheduler.dispatch().started) == 1


# Each step of dispatch, as the call on the AWS client that dies there (see dispatch.py's steps).
CRASH_POINTS = {
    "claim": ("dynamodb", "UpdateItem", 1, False),
    "manifest": ("s3", "PutObject", 1, False),
    "record": ("dynamodb", "TransactWriteItems", 1, False),
    "record, unanswered": ("dynamodb", "TransactWriteItems", 1, True),
    "delete pending": ("dynamodb", "BatchWriteItem", 2, False),  # the first 25 entries are gone, the rest not
    "start": ("sagemaker", "StartPipelineExecution", 1, False),
    "after start": ("sagemaker", "StartPipelineExecution", 1, True),
    "mark started": ("dynamodb", "TransactWriteItems", 2, False),
}


@pytest.mark.parametrize("step", list(CRASH_POINTS))
def test_a_crash_at_any_step_is_completed_by_the_next_dispatch_with_the_same_token(core, step):
    objects = [upload(n) for n in range(120)]  # more than one transaction of deletes
    record(core, *objects)
    service, operation, nth, after = CRASH_POINTS[step]
    sagemaker = core.clients.sagemaker

    with requests_of(sagemaker, "StartPipelineExecution") as starts:
        with crash_once(getattr(core.clients, service), operation, nth, after=after), pytest.raises(Crash):
            core.scheduler.dispatch()
        outcome = core.scheduler.dispatch()
        assert core.scheduler.dispatch().started == []

    [(run, arn)] = outcome.started
    assert sorted(objects_of(run)) == sorted(obj.key for obj in objects)  # each object in the one run
    executions = sagemaker.list_pipeline_executions(PipelineName=PIPELINE)["PipelineExecutionSummaries"]
    assert arn in {e["PipelineExecutionArn"] for e in executions}
    # moto makes a new execution for a repeated token (SageMaker returns the first): so every start
    # SageMaker was asked for, the crashed one included, carries the one run's token
    assert {start["ClientRequestToken"] for start in starts} == {run.client_request_token}
    # a crash at or after the start asks again, with that token: SageMaker answers with the first execution
    assert len(starts) == (2 if step in ("start", "after start", "mark started") else 1)
    assert core.scheduler.pending.oldest(200) == []
    state = core.scheduler.dispatcher.cap.state()
    assert (state.running, state.dispatching) == (1, None)


def test_a_lost_status_event_does_not_leak_the_slot_the_sweep_frees_it(core):
    record(core, upload(0))
    core.scheduler.dispatch()
    record(core, upload(1))
    assert core.scheduler.dispatch().waiting is not None  # the slot is taken; its end event never comes

    # moto marks executions Succeeded at once: the sweep sees the first run has ended
    outcome = core.scheduler.sweep()

    assert len(outcome.released) == 1
    [(run, _)] = outcome.dispatched.started
    assert objects_of(run) == [upload(1).key]


def test_a_transient_start_failure_keeps_the_run_and_retries_it_with_the_same_token(core):
    record(core, upload(0))
    with inject_faults(core.clients.sagemaker, "StartPipelineExecution", json_error("ThrottlingException", 400)):
        outcome = core.scheduler.dispatch()
    assert outcome.started == []
    assert outcome.not_started is not None
    assert "ThrottlingException" in outcome.not_started[1]
    assert core.scheduler.dispatcher.cap.state().dispatching == outcome.not_started[0].client_request_token

    [(run, _)] = core.scheduler.sweep().dispatched.started

    assert run.client_request_token == outcome.not_started[0].client_request_token
    assert objects_of(run) == [upload(0).key]


def test_a_run_sagemaker_refuses_for_good_is_dead_lettered_and_frees_its_slot(clock):
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="dead-letters")["QueueUrl"]
    core = build_core(
        load_settings(
            {
                **os.environ,
                "NOTIFICATION_TOPIC_ARN": "",
                "PIPELINE_NAME": "no-such-pipeline",
                "DEAD_LETTER_QUEUE_URL": queue,
            }
        ),
        Clients(sqs=sqs, **{name: boto3.client(name, region_name=REGION) for name in ("dynamodb", "sagemaker", "s3")}),
        clock,
    )
    record(core, upload(0))

    outcome = core.scheduler.dispatch()

    [(run, reason)] = outcome.refused
    assert objects_of(run) == [upload(0).key]
    assert "no-such-pipeline" in reason
    assert core.scheduler.dispatcher.cap.state().running == 0
    assert len(sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]) == 1
    # dispatch sent the run's one notice: it cannot be claimed again
    assert not core.scheduler.ledger.claim_not_started_notice(run.client_request_token)
