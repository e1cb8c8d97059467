"""P3: time per record of a 10,000-record batch through the handler, against a bare loop making the same
AWS calls. Every AWS call is answered by a stub at botocore's send hook, so only our code is timed."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import unquote_plus

from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse

from bench.figures import Figure
from bench.lambda_setup import BUCKET, configure_environment, upload_records

RECORDS = 10_000
ANSWERS: dict[str, bytes] = {
    "StartPipelineExecution": json.dumps(
        {"PipelineExecutionArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/retrain-pipeline/execution/x"}
    ).encode(),
    "GetItem": b"{}",
    "PutItem": b"{}",
    "UpdateItem": b"{}",
    "PutObject": b"",
}


def stub(client: Any) -> None:
    def answer(request: Any, event_name: str, **_: Any) -> AWSResponse:
        body = ANSWERS[event_name.rsplit(".", 1)[-1]]
        return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, MockRawResponse(body))  # type: ignore[arg-type]

    client.meta.events.register_first("before-send", answer)


def bare_loop(records: list[dict[str, Any]], sagemaker: Any, dynamodb: Any, s3: Any) -> None:
    """What the batch needs, written by hand: parse, decode, remember each object, start one run."""
    keys = []
    for record in records:
        for s3_record in json.loads(record["body"])["Records"]:
            key = unquote_plus(s3_record["s3"]["object"]["key"])
            item = {"id": {"S": key}}
            dynamodb.get_item(TableName="retrain-idempotency", Key=item)
            dynamodb.put_item(TableName="retrain-idempotency", Item=item)
            dynamodb.update_item(TableName="retrain-idempotency", Key=item)
            keys.append(key)
    s3.put_object(Bucket=BUCKET, Key="manifest", Body=json.dumps(keys).encode())
    s3.put_object(Bucket=BUCKET, Key="objects", Body=json.dumps(keys).encode())
    dynamodb.put_item(TableName="retrain-idempotency", Item={"id": {"S": "run"}})
    sagemaker.start_pipeline_execution(
        PipelineName="retrain-pipeline",
        PipelineParameters=[{"Name": "InputKey", "Value": "manifest"}],
        ClientRequestToken="t" * 64,
    )
    dynamodb.update_item(TableName="retrain-idempotency", Key={"id": {"S": "run"}})


def measure() -> Figure:
    configure_environment()
    import boto3

    import app
    from emulator.lambda_context import LocalLambdaContext

    service = app.service
    for client in (
        service._executions._client,
        service._manifests._client,
        service._ledger._claims.client,
        service._ledger._runs.client,
    ):
        stub(client)
    records = upload_records(RECORDS)
    clients = [boto3.client(name, region_name="us-east-1") for name in ("sagemaker", "dynamodb", "s3")]
    for client in clients:
        stub(client)

    started = time.perf_counter()
    bare_loop(records, *clients)
    baseline = time.perf_counter() - started

    started = time.perf_counter()
    response = app.lambda_handler({"Records": records}, LocalLambdaContext(timeout_seconds=900))
    ours = time.perf_counter() - started
    if response["batchItemFailures"]:
        raise RuntimeError(f"{len(response['batchItemFailures'])} records failed in the benchmark")
    return Figure(
        name="P3",
        what=f"per-record time, {RECORDS:,}-record batch, stubbed AWS: handler / bare loop with the same calls",
        value=ours / RECORDS * 1e6,
        baseline=baseline / RECORDS * 1e6,
        unit="us",
        goal=1.5,
    )


if __name__ == "__main__":
    print(json.dumps(measure().as_dict()))
