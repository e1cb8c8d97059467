"""P3: time per record of a 10,000-record batch through the handler, against a bare loop making the same
AWS calls. Every AWS call is answered by a stub at botocore's send hook, so only our code is timed: the
objects are recorded (50 per transaction) and dispatch finds the slot free and nothing pending."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import unquote_plus

from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse

from bench.figures import Figure
from bench.lambda_setup import PIPELINE_NAME, configure_environment, upload_records
from emulator.moto_server import ACCOUNT, REGION
from trigger.adapters.scheduler_table import KEY_SCHEMA, TTL_ATTRIBUTE

RECORDS = 10_000
ANSWERS: dict[str, bytes] = {
    "StartPipelineExecution": json.dumps(
        {"PipelineExecutionArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{PIPELINE_NAME}/execution/x"}
    ).encode(),
    "GetItem": b"{}",
    "Query": b'{"Items": [], "Count": 0}',
    "TransactWriteItems": b"{}",
}


def stub(client: Any) -> None:
    def answer(request: Any, event_name: str, **_: Any) -> AWSResponse:
        body = ANSWERS[event_name.rsplit(".", 1)[-1]]
        return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, MockRawResponse(body))  # type: ignore[arg-type]

    client.meta.events.register_first("before-send", answer)


def bare_loop(records: list[dict[str, Any]], dynamodb: Any) -> None:
    """What the batch needs, written by hand: parse, decode, record each object once (the same items,
    attribute for attribute, 50 objects per transaction), look for work."""
    (partition, _), (sort, _) = KEY_SCHEMA  # the template's SchedulerTable declares the same (a test checks)
    items = []
    now = time.time()
    for record in records:
        for s3_record in json.loads(record["body"])["Records"]:
            s3_object = s3_record["s3"]["object"]
            key = unquote_plus(s3_object["key"])
            bucket = s3_record["s3"]["bucket"]["name"]
            identity = f"object#{bucket}\n{key}\n{s3_object.get('versionId', '')}"
            items.append(
                {
                    "Put": {
                        "TableName": "t",
                        "Item": {
                            partition: {"S": identity},
                            sort: {"S": "object"},
                            "recorded_at": {"N": str(now)},
                            "pipeline": {"S": PIPELINE_NAME},
                            TTL_ATTRIBUTE: {"N": str(int(now) + 86400)},
                        },
                        "ConditionExpression": f"attribute_not_exists({partition})",
                    }
                }
            )
            entry = {
                partition: {"S": f"pending#{PIPELINE_NAME}"},
                sort: {"S": f"{now:017.6f}#{hash(identity):x}"},
                "arrived_at": {"N": str(now)},
                "bucket": {"S": bucket},
                "key": {"S": key},
                "event_name": {"S": s3_record["eventName"]},
                "size": {"N": str(s3_object["size"])},
                "e_tag": {"S": s3_object["eTag"]},
                "version_id": {"S": s3_object["versionId"]},
            }
            items.append({"Put": {"TableName": "t", "Item": entry}})
    for start in range(0, len(items), 100):
        dynamodb.transact_write_items(TransactItems=items[start : start + 100])
    dynamodb.get_item(TableName="t", Key={partition: {"S": "slots"}})
    dynamodb.query(
        TableName="t", KeyConditionExpression=f"{partition} = :pk", ExpressionAttributeValues={":pk": {"S": "p"}}
    )


def measure() -> Figure:
    configure_environment()
    import boto3

    import app
    from emulator.lambda_context import LocalLambdaContext

    stub(app.core.clients.dynamodb)
    stub(app.core.clients.sagemaker)
    records = upload_records(RECORDS)
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    stub(dynamodb)

    started = time.perf_counter()
    bare_loop(records, dynamodb)
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
