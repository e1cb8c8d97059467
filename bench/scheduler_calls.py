"""P7: AWS calls per object for a 1,000-object batch: the run scheduler's recording and dispatch,
against today's trigger function handling the same batch (its run ledger), both on moto in this
process. Every botocore API call is counted."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import BaseClient
from moto import mock_aws

from bench.figures import Figure
from bench.lambda_setup import BUCKET, configure_environment, upload_records

OBJECTS = 1_000
SCHEDULER_TABLE = "retrain-scheduler"


@contextmanager
def counted_calls() -> Iterator[list[str]]:
    """Every AWS API call made while inside, by operation name."""
    calls: list[str] = []
    original: Callable[..., Any] = BaseClient._make_api_call  # type: ignore[attr-defined]

    def counting(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        calls.append(operation_name)
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = counting  # type: ignore[attr-defined]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[attr-defined]


def create_resources() -> None:
    import boto3

    from tests.aws import create_idempotency_table, create_placeholder_pipeline, create_scheduler_table

    create_idempotency_table()
    create_scheduler_table(SCHEDULER_TABLE)
    create_placeholder_pipeline(os.environ["PIPELINE_NAME"])
    boto3.client("s3").create_bucket(Bucket=BUCKET)


def todays_handler(records: list[dict[str, Any]]) -> int:
    import app
    from emulator.lambda_context import LocalLambdaContext

    with counted_calls() as calls:
        response = app.lambda_handler({"Records": records}, LocalLambdaContext(timeout_seconds=900))
    if response["batchItemFailures"]:
        raise RuntimeError(f"{len(response['batchItemFailures'])} records failed in the benchmark")
    return len(calls)


def scheduler(records: list[dict[str, Any]]) -> int:
    import boto3

    from trigger.adapters.manifests import ManifestStore
    from trigger.adapters.pipeline_executions import PipelineExecutions
    from trigger.events import TriggerQueueRecord
    from trigger.planner import UploadedObject, run_for
    from trigger.scheduler.dispatch import Dispatcher, RunPolicy
    from trigger.scheduler.pending import PendingObjects
    from trigger.scheduler.slots import Slots
    from trigger.scheduler.table import SchedulerTable

    pipeline = os.environ["PIPELINE_NAME"]
    objects = [
        UploadedObject.from_record(s3_record)
        for record in records
        for s3_record in TriggerQueueRecord.model_validate(record).body.records  # type: ignore[union-attr]
    ]
    # other versions of the same keys: new objects for the scheduler, whatever today's handler recorded
    objects = [obj.__class__(**{**obj.__dict__, "version_id": f"s-{uuid.uuid4()}"}) for obj in objects]
    with counted_calls() as calls:
        table = SchedulerTable(SCHEDULER_TABLE, boto3.client("dynamodb"))
        pending = PendingObjects(table, pipeline)
        pending.record(objects, 1_800_000_000.0)
        Dispatcher(
            table=table,
            pending=pending,
            slots=Slots(table, pipeline, cap=1),
            plan=lambda batch: run_for(batch, pipeline_name=pipeline, manifest_prefix="pipeline-artifacts/manifests/"),
            write_manifest=ManifestStore(boto3.client("s3")).write,
            start=PipelineExecutions(boto3.client("sagemaker")).start_record,
            policy=RunPolicy(max_objects_per_run=OBJECTS),
            clock=lambda: 1_800_000_100.0,
        ).dispatch()
    return len(calls)


def measure() -> Figure:
    configure_environment()
    with mock_aws():
        create_resources()
        records = upload_records(OBJECTS)
        baseline = todays_handler(records)
        ours = scheduler(records)
    return Figure(
        name="P7",
        what=f"AWS calls per object, {OBJECTS:,}-object batch: run scheduler (value) vs today's run ledger (baseline)",
        value=ours / OBJECTS,
        baseline=baseline / OBJECTS,
        unit="",
        goal=0.5,
        goal_on="value",
    )


if __name__ == "__main__":
    print(json.dumps(measure().as_dict()))
