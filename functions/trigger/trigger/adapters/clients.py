"""The AWS clients the core uses: each made on its first use, unless it was given (tests give
moto's, and inject faults on them)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

# Standard mode retries throttling and 5xx errors with exponential backoff and full jitter.
# Ten attempts span about a minute of backoff; the function timeout leaves room for it.
RETRYING_CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 10})
# InvokeEndpoint waits at most this long for staging's answer (SageMaker itself allows 60 s).
SMOKE_CHECK_TIMEOUT_SECONDS = 60


class Clients:
    def __init__(self, **given: Any) -> None:
        unknown = set(given) - {"dynamodb", "sagemaker", "s3", "sns", "sqs", "events", "scheduler", "sagemaker_runtime"}
        if unknown:
            raise TypeError(f"unknown clients: {sorted(unknown)}")
        self._given = given

    def _client(self, service: str) -> Any:
        return self._given.get(service) or boto3.client(service, config=RETRYING_CLIENT_CONFIG)  # type: ignore[call-overload]

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        client: DynamoDBClient = self._client("dynamodb")
        return client

    @cached_property
    def sagemaker(self) -> SageMakerClient:
        client: SageMakerClient = self._client("sagemaker")
        return client

    @cached_property
    def s3(self) -> S3Client:
        client: S3Client = self._client("s3")
        return client

    @cached_property
    def sns(self) -> SNSClient:
        client: SNSClient = self._client("sns")
        return client

    @cached_property
    def sqs(self) -> SQSClient:
        client: SQSClient = self._client("sqs")
        return client

    @cached_property
    def events(self) -> EventBridgeClient:
        client: EventBridgeClient = self._client("events")
        return client

    @cached_property
    def scheduler(self) -> EventBridgeSchedulerClient:
        client: EventBridgeSchedulerClient = self._client("scheduler")
        return client

    @cached_property
    def sagemaker_runtime(self) -> Any:
        """InvokeEndpoint: a smoke check that does not answer within the read timeout has failed."""
        given = self._given.get("sagemaker_runtime")
        if given is not None:
            return given
        return boto3.client(
            "sagemaker-runtime",
            config=RETRYING_CLIENT_CONFIG.merge(Config(read_timeout=SMOKE_CHECK_TIMEOUT_SECONDS, connect_timeout=10)),
        )
