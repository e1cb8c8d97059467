"""The trigger function in this benchmark process, configured as in the tests (moto or stubs behind it)."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any
from urllib.parse import quote_plus

from emulator.function_environment import function_environment
from emulator.moto_server import ACCOUNT, REGION

# The functions' environment in the dev stack, as the template gives it (events/env.json, which a test
# keeps equal to the template), without the topic and the DLQ, which the benchmarks do not create.
FUNCTION_ENVIRONMENT = {
    **function_environment(),
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "NOTIFICATION_TOPIC_ARN": "",
    "DEAD_LETTER_QUEUE_URL": "",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
BUCKET = FUNCTION_ENVIRONMENT["DATA_BUCKET"]
PIPELINE_NAME = FUNCTION_ENVIRONMENT["PIPELINE_NAME"]
DATA_PREFIX = FUNCTION_ENVIRONMENT["DATA_PREFIX"]
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:retrain-trigger-bench-queue"


def configure_environment() -> None:
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(FUNCTION_ENVIRONMENT)


def upload_records(count: int) -> list[dict[str, Any]]:
    """SQS records as the event source delivers them, one S3 upload each."""
    records = []
    for n in range(count):
        body = json.dumps(
            {
                "Records": [
                    {
                        "eventVersion": "2.1",
                        "eventSource": "aws:s3",
                        "eventName": "ObjectCreated:Put",
                        "s3": {
                            "bucket": {"name": BUCKET},
                            "object": {
                                "key": quote_plus(f"{DATA_PREFIX}burst/{n:05d} part.csv", safe="/"),
                                "size": 1024,
                                "eTag": f"{n:032x}",
                                "versionId": f"v{n}",
                            },
                        },
                    }
                ]
            }
        )
        records.append(
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "handle",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795342530123",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1795342530130",
                },
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": QUEUE_ARN,
                "awsRegion": "us-east-1",
            }
        )
    return records
