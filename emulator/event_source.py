"""Plays the part of the Lambda SQS event source mapping, which moto cannot run without Docker.

It receives a batch, hands it to the real handler as the Lambda service would, deletes only the
messages the handler did not report in ``batchItemFailures`` and leaves those to be received
again; the queue's own redrive policy moves a message to the DLQ after its receive limit.

With a batching window (the mapping's MaximumBatchingWindowInSeconds, the template's
BatchingWindowSeconds) it gathers messages from the first one's arrival until the window ends or
the batch is full, and only then invokes, as Lambda does ("Lambda event source mappings",
batching behavior: the window, the batch size or the 6 MB payload, whichever comes first).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from emulator.alarms import publish_function_error
from emulator.lambda_context import LocalLambdaContext
from emulator.moto_server import REGION

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class PollReport:
    invocations: int = 0
    received: int = 0
    deleted: int = 0
    reported_failures: int = 0
    invocation_errors: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)


class QueueEventSource:
    def __init__(
        self,
        queue_url: str,
        queue_arn: str,
        handler: Handler,
        *,
        batch_size: int = 10,
        redeliver_failures_at_once: bool = True,
        context: LocalLambdaContext | None = None,
        batching_window_seconds: float = 0.0,
    ) -> None:
        self._sqs = boto3.client("sqs", region_name=REGION)
        self._queue_url = queue_url
        self._queue_arn = queue_arn
        self._handler = handler
        self._batch_size = batch_size
        self._window = batching_window_seconds
        self._context = context or LocalLambdaContext()
        # The real mapping waits for the visibility timeout before a failed message comes back;
        # locally there is no point in waiting 18 minutes.
        self._redeliver_at_once = redeliver_failures_at_once

    def poll_once(self, report: PollReport | None = None) -> PollReport:
        """One receive + invoke + delete cycle."""
        report = report or PollReport()
        messages = self._gather()
        if not messages:
            return report
        event = {"Records": [self._lambda_record(message) for message in messages]}
        try:
            result = self._handler(event, self._context.fresh()) or {}
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:  # noqa: BLE001 - as Lambda does: a failed or dead invocation returns the batch
            result = {"batchItemFailures": [{"itemIdentifier": m["MessageId"]} for m in messages]}
            report.invocation_errors.append(repr(error))
            publish_function_error(self._context.function_name)  # Lambda's Errors metric, which alarms watch
        failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        report.invocations += 1
        report.received += len(messages)
        report.reported_failures += len(failed)
        report.events.append(event)
        report.responses.append(result)
        for message in messages:
            if message["MessageId"] in failed:
                if self._redeliver_at_once:
                    self._sqs.change_message_visibility(
                        QueueUrl=self._queue_url,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=0,
                    )
                continue
            self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
            report.deleted += 1
        return report

    def _gather(self) -> list[Any]:
        """A batch: what is there now, and with a window, what arrives until it ends or the batch is full."""
        messages: list[Any] = []
        window_ends: float | None = None
        while len(messages) < self._batch_size:
            received = self._sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=min(10, self._batch_size - len(messages)),
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            messages.extend(received)
            if messages and window_ends is None:
                window_ends = time.monotonic() + self._window
            if received:
                continue
            if window_ends is None or time.monotonic() >= window_ends:
                break
            time.sleep(min(0.1, max(0.0, window_ends - time.monotonic())))
        return messages

    def drain(self, *, max_invocations: int = 1000, idle_seconds: float = 0.5) -> PollReport:
        """Poll until the queue stays empty for ``idle_seconds`` (or the invocation cap)."""
        report = PollReport()
        idle_since: float | None = None
        while report.invocations < max_invocations:
            before = report.invocations
            self.poll_once(report)
            if report.invocations > before:
                idle_since = None
                continue
            now = time.monotonic()
            idle_since = idle_since or now
            if now - idle_since >= idle_seconds:
                break
            time.sleep(0.05)
        return report

    def _lambda_record(self, message: dict[str, Any]) -> dict[str, Any]:
        """The record shape of a Lambda SQS event."""
        attributes = message.get("Attributes", {})
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                name: attributes[name]
                for name in (
                    "ApproximateReceiveCount",
                    "SentTimestamp",
                    "SenderId",
                    "ApproximateFirstReceiveTimestamp",
                )
                if name in attributes
            },
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value["DataType"],
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody")
            or hashlib.md5(message["Body"].encode(), usedforsecurity=False).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self._queue_arn,
            "awsRegion": REGION,
        }
