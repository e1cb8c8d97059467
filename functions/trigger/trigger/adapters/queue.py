"""Put messages back on the trigger queue to wait, without spending their receive count."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

from trigger.adapters import RETRYING_CLIENT_CONFIG

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_DELAY_SECONDS = 900  # SQS limit for DelaySeconds


class WaitingRoom:
    def __init__(self, client: SQSClient | None = None) -> None:
        self._client = client or boto3.client("sqs", config=RETRYING_CLIENT_CONFIG)
        self._urls: dict[str, str] = {}

    def send_back(self, queue_arn: str, body: str, delay_seconds: int, waits: int) -> None:
        """A copy of the message, delayed; the caller then lets the original be deleted.

        The copy is a new message, so waiting never counts towards the redrive policy's limit.
        """
        self._client.send_message(
            QueueUrl=self._url(queue_arn),
            MessageBody=body,
            DelaySeconds=min(max(delay_seconds, 0), MAX_DELAY_SECONDS),
            MessageAttributes={"retrain-trigger-waits": {"DataType": "Number", "StringValue": str(waits)}},
        )

    def _url(self, queue_arn: str) -> str:
        if queue_arn not in self._urls:
            _, _, _, _, account, name = queue_arn.split(":", 5)
            self._urls[queue_arn] = self._client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)[
                "QueueUrl"
            ]
        return self._urls[queue_arn]
