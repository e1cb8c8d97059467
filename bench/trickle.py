"""P6: a trickle of uploads while the pipeline is busy, in virtual time, through the real handlers on moto.

One upload every 30 s for an hour (P6s: with the schedule's tick and two events too); each run lasts 20
minutes; MaxConcurrentExecutions 1; the event
source hands the function a batch every 60 s (BatchingWindowSeconds). The trigger function gets each
batch and the run-ended function each run's status-change event 5 s after it ends; the scheduler in both
reads a virtual clock. Figures: the runs started against the ideal (each run takes everything that
arrived while the one before it ran), and the worst wait from upload to run start against its bound
(run duration + batching window + 60 s).
"""

from __future__ import annotations

import json
import os
import statistics
from typing import Any
from urllib.parse import unquote_plus

import boto3
from moto import mock_aws
from moto.sagemaker.models import sagemaker_backends

from bench.figures import Figure
from bench.lambda_setup import BUCKET, configure_environment, upload_records
from emulator import moto_fixes
from emulator.lambda_context import LocalLambdaContext
from emulator.moto_server import ACCOUNT, REGION
from emulator.pipeline_runner import RunResult
from emulator.status_events import executions_that_keep_running, record_in_moto, status_change_event

UPLOAD_EVERY = 30
UPLOADS = 3600 // UPLOAD_EVERY
RUN_SECONDS = 1200
WINDOW_SECONDS = 60
EVENT_DELAY_SECONDS = 5  # EventBridge delivers the status-change event a few seconds after the run ends
STEP_SECONDS = 5
EPOCH = 1_800_000_000.0
LATENCY_BOUND = RUN_SECONDS + WINDOW_SECONDS + 60


def ideal(arrivals: list[float]) -> tuple[int, list[float]]:
    """One slot; a run starts once the slot is free and something arrived, and takes all that arrived."""
    runs, latencies, free_at, index = 0, [], 0.0, 0
    while index < len(arrivals):
        start = max(free_at, arrivals[index])
        taken = [arrival for arrival in arrivals[index:] if arrival <= start]
        latencies += [start - arrival for arrival in taken]
        index += len(taken)
        runs += 1
        free_at = start + RUN_SECONDS
    return runs, latencies


class VirtualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return EPOCH + self.now


def keys_of(sagemaker: Any, s3: Any, execution_arn: str) -> list[str]:
    parameters = {
        p["Name"]: p["Value"]
        for p in sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=execution_arn)[
            "PipelineParameters"
        ]
    }
    if parameters.get("InputDataType") != "ManifestFile":
        return [parameters["InputKey"]]
    folder = parameters["InputKey"].rsplit("/", 1)[0]
    listing = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{folder}/objects.json")["Body"].read())
    return [item["key"] for item in listing["objects"]]


# The variant P6s: in the same hour, the schedule's tick and two events matching RetrainOnEvents, each
# a run request in the trigger queue (trigger/sources/), at these seconds.
REQUESTS = (
    (
        1200,
        {
            "runRequest": {
                "kind": "schedule",
                "schedule": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly",
                "time": "T",
            }
        },
    ),
    (2100, {"id": "e1", "source": "partner.data", "detail-type": "Data job done", "detail": {}}),
    (3000, {"id": "e2", "source": "partner.data", "detail-type": "Data job done", "detail": {}}),
)


def request_records(requests: tuple[tuple[int, dict[str, Any]], ...]) -> list[tuple[float, dict[str, Any]]]:
    template = upload_records(1)[0]
    return [
        (float(at), {**template, "messageId": f"request-{n}", "body": json.dumps(body)})
        for n, (at, body) in enumerate(requests)
    ]


def simulate(requests: tuple[tuple[int, dict[str, Any]], ...] = ()) -> tuple[int, list[float]]:
    """Runs started, and each message's wait for its run (uploads, and the run requests given)."""
    from tests.aws import create_idempotency_table, create_placeholder_pipeline, create_scheduler_table

    with mock_aws(), executions_that_keep_running():
        create_scheduler_table()
        create_idempotency_table()
        create_placeholder_pipeline(os.environ["PIPELINE_NAME"])
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        os.environ["NOTIFICATION_TOPIC_ARN"] = boto3.client("sns").create_topic(Name="bench")["TopicArn"]
        import app
        import run_ended
        from trigger.factory import build_core

        clock = VirtualClock()
        app.core = build_core(app.core.settings, clock=clock)
        run_ended.core = build_core(run_ended.core.settings, clock=clock)
        backend = sagemaker_backends[ACCOUNT][REGION].pipelines[os.environ["PIPELINE_NAME"]]
        messages = sorted(
            [(float(n * UPLOAD_EVERY), record) for n, record in enumerate(upload_records(UPLOADS))]
            + request_records(requests),
            key=lambda item: item[0],
        )
        return _run_the_hour(clock, backend, messages, app=app, run_ended=run_ended, s3=s3)


def _run_the_hour(
    clock: VirtualClock,
    backend: Any,
    messages: list[tuple[float, dict[str, Any]]],
    *,
    app: Any,
    run_ended: Any,
    s3: Any,
) -> tuple[int, list[float]]:
    sagemaker = boto3.client("sagemaker")
    waiting: dict[str, float] = {}  # message id -> arrival, delivered and not yet in a run
    waits: list[float] = []
    ends: dict[str, float] = {}  # execution ARN -> when it ends
    delivered = 0
    keys = {record["messageId"]: _key(record) for _, record in messages}

    def note_new_runs() -> None:
        for arn in backend.pipeline_executions:
            if arn in ends:
                continue
            ends[arn] = clock.now + RUN_SECONDS + EVENT_DELAY_SECONDS
            covered = set(keys_of(sagemaker, s3, arn))
            whole_prefix = covered == {os.environ["DATA_PREFIX"]}  # a run request's run reads everything
            for message_id in [m for m in waiting if whole_prefix or keys[m] in covered]:
                waits.append(clock.now - waiting.pop(message_id))

    while delivered < len(messages) or waiting or any(end > clock.now for end in ends.values()):
        for arn, end in list(ends.items()):
            if end == clock.now:
                ended = RunResult(arn, status="Succeeded", seconds=RUN_SECONDS)
                record_in_moto(ended)
                run_ended.lambda_handler(status_change_event(ended), LocalLambdaContext(function_name="run-status"))
                note_new_runs()
        if clock.now % WINDOW_SECONDS == 0:
            batch = [record for at, record in messages[delivered:] if at <= clock.now]
            if batch:
                response = app.lambda_handler({"Records": batch}, LocalLambdaContext())
                if response["batchItemFailures"]:
                    raise RuntimeError("a batch failed in the simulation")
                waiting.update({record["messageId"]: at for at, record in messages[delivered : delivered + len(batch)]})
                delivered += len(batch)
                note_new_runs()
        clock.now += STEP_SECONDS
    return len(ends), waits


def _key(record: dict[str, Any]) -> str | None:
    body = json.loads(record["body"])
    return unquote_plus(body["Records"][0]["s3"]["object"]["key"]) if "Records" in body else None


def measure() -> list[Figure]:
    configure_environment()
    moto_fixes.apply()
    runs, latencies = simulate()
    uploads = [float(n * UPLOAD_EVERY) for n in range(UPLOADS)]
    ideal_runs, ideal_latencies = ideal(uploads)
    runs_with_requests, _ = simulate(REQUESTS)
    ideal_with_requests, _ = ideal(sorted(uploads + [float(at) for at, _ in REQUESTS]))
    return [
        Figure(
            name="P6",
            what=(
                f"runs started, an upload every {UPLOAD_EVERY} s for an hour, {RUN_SECONDS // 60}-min runs, "
                f"1 at a time: ours / the ideal"
            ),
            value=runs,
            baseline=ideal_runs,
            unit="",
            goal=1,
        ),
        Figure(
            name="P6w",
            what=(
                f"worst upload-to-run-start wait (mean {statistics.mean(latencies):.0f} s, ideal mean "
                f"{statistics.mean(ideal_latencies):.0f} s) / bound run + window + 60 s"
            ),
            value=max(latencies),
            baseline=LATENCY_BOUND,
            unit="s",
            goal=1,
        ),
        Figure(
            name="P6s",
            what=(
                "runs started, the same hour with the schedule's tick and two RetrainOnEvents events in the "
                "trigger queue: ours / the ideal"
            ),
            value=runs_with_requests,
            baseline=ideal_with_requests,
            unit="",
            goal=1,
        ),
    ]


if __name__ == "__main__":
    print(json.dumps([figure.as_dict() for figure in measure()]))
