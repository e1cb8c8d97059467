"""P7: AWS calls per object for a 1,000-object batch through the trigger function (recording and
dispatch), against the unbatched way to deduplicate (one conditional PutItem per object, then one
start), both on moto in this process. Every botocore API call is counted.

P7m: the same batch with a pipeline of one's own and a non-default PipelineParameters (static
values, a manifest, a count), against P7's default mapping: the mapping adds no call per object."""

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
from emulator import moto_fixes
from trigger.adapters.scheduler_table import KEY_SCHEMA

OBJECTS = 1_000


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

    from tests.aws import create_placeholder_pipeline, create_scheduler_table

    create_scheduler_table()
    create_placeholder_pipeline(os.environ["PIPELINE_NAME"])
    boto3.client("s3").create_bucket(Bucket=BUCKET)


@contextmanager
def function_on_moto() -> Iterator[None]:
    """moto in this process, with what the trigger function needs (configured as in the tests)."""
    configure_environment()
    moto_fixes.apply()
    with mock_aws():
        create_resources()
        yield


def handler_calls(records: list[dict[str, Any]]) -> int:
    import app
    from emulator.lambda_context import LocalLambdaContext

    with counted_calls() as calls:
        response = app.lambda_handler({"Records": records}, LocalLambdaContext(timeout_seconds=900))
    if response["batchItemFailures"]:
        raise RuntimeError(f"{len(response['batchItemFailures'])} records failed in the benchmark")
    return len(calls)


def unbatched_calls(records: list[dict[str, Any]]) -> int:
    """One conditional put per object (a duplicate fails its condition), then one start."""
    import boto3

    from trigger.events import TriggerQueueRecord

    dynamodb = boto3.client("dynamodb")
    sagemaker = boto3.client("sagemaker")
    (partition, _), (sort, _) = KEY_SCHEMA  # the template's SchedulerTable declares the same (a test checks)
    with counted_calls() as calls:
        for record in records:
            for s3_record in TriggerQueueRecord.model_validate(record).body.records:  # type: ignore[union-attr]
                dynamodb.put_item(
                    TableName=os.environ["SCHEDULER_TABLE_NAME"],
                    Item={
                        partition: {"S": f"unbatched#{s3_record.s3.object.key}"},
                        sort: {"S": str(uuid.uuid4())},
                    },
                    ConditionExpression=f"attribute_not_exists({partition})",
                )
        sagemaker.start_pipeline_execution(
            PipelineName=os.environ["PIPELINE_NAME"],
            PipelineParameters=[{"Name": "InputBucket", "Value": BUCKET}, {"Name": "InputKey", "Value": "all"}],
            ClientRequestToken=str(uuid.uuid4()),
        )
    return len(calls)


OWN_MAPPING = "DataManifest={manifest_uri},Type={input_data_type},Count={object_count},InstanceType=ml.m5.2xlarge"


def calls_with_own_mapping() -> int:
    """The handler's calls for the batch, the function built for a pipeline of one's own."""
    import app
    from tests.aws import create_placeholder_pipeline
    from trigger.factory import build_core
    from trigger.settings import load_settings

    with function_on_moto():
        create_placeholder_pipeline("own-pipeline", OWN_MAPPING)
        environment = {**os.environ, "PIPELINE_NAME": "own-pipeline", "PIPELINE_PARAMETERS": OWN_MAPPING}
        app.core = build_core(load_settings(environment))
        return handler_calls(upload_records(OBJECTS))


def measure() -> list[Figure]:
    with function_on_moto():
        records = upload_records(OBJECTS)
        baseline = unbatched_calls(records)
        ours = handler_calls(records)
    own = calls_with_own_mapping()
    return [
        Figure(
            name="P7",
            what=f"AWS calls per object, {OBJECTS:,}-object batch: trigger function (value) vs one put per object",
            value=ours / OBJECTS,
            baseline=baseline / OBJECTS,
            unit="",
            goal=0.5,
            goal_on="value",
        ),
        Figure(
            name="P7m",
            what="the same batch with a pipeline of one's own and a non-default mapping (value) vs P7",
            value=own / OBJECTS,
            baseline=ours / OBJECTS,
            unit="",
            goal=1.0,
        ),
    ]


if __name__ == "__main__":
    print(json.dumps([figure.as_dict() for figure in measure()]))
