"""Put a message that can never succeed in the dead-letter queue at once, with the reason (SQS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

REASON_ATTRIBUTE = "retrain-trigger-reason"
MAX_REASON_LENGTH = 1000


class DeadLetters:
    def __init__(self, queue_url: str, client: SQSClient) -> None:
        self.queue_url = queue_url
        self._client = client

    def put(self, body: str, reason: str) -> None:
        """Raises if the queue did not take it: the caller then lets the queue's redrive do it."""
        self._client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=body,
            MessageAttributes={
                REASON_ATTRIBUTE: {"DataType": "String", "StringValue": reason[:MAX_REASON_LENGTH] or "unknown"}
            },
        )
