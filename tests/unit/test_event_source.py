"""The local event source gathers a burst as Lambda's SQS mapping does: until the batching window
ends or the batch is full."""

from __future__ import annotations

import threading
import time

import boto3

from emulator.event_source import QueueEventSource
from emulator.lambda_context import LocalLambdaContext
from tests.aws import REGION


def burst_over(window: float, batch_size: int = 10) -> list[int]:
    """Batch sizes the function is invoked with: one message now, two more 0.3 s later."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName=f"q-{int(window * 10)}-{batch_size}")["QueueUrl"]
    batches: list[int] = []

    def handler(event, context):
        batches.append(len(event["Records"]))
        return {"batchItemFailures": []}

    source = QueueEventSource(
        url,
        "arn:aws:sqs:us-east-1:123456789012:q",
        handler,
        batch_size=batch_size,
        context=LocalLambdaContext(),
        batching_window_seconds=window,
    )
    sqs.send_message(QueueUrl=url, MessageBody="first")
    later = threading.Timer(0.3, lambda: [sqs.send_message(QueueUrl=url, MessageBody=b) for b in ("2", "3")])
    later.start()
    source.poll_once()
    later.join()
    source.drain(idle_seconds=0.2)
    return batches


def test_a_window_gathers_what_arrives_during_it_into_one_invocation(aws):
    started = time.monotonic()
    assert burst_over(window=1.0) == [3]
    assert time.monotonic() - started >= 1.0  # it waited the window out: nothing filled the batch


def test_without_a_window_the_first_message_is_delivered_at_once(aws):
    assert burst_over(window=0.0) == [1, 2]


def test_a_full_batch_is_delivered_before_the_window_ends(aws):
    started = time.monotonic()
    assert burst_over(window=30.0, batch_size=3) == [3]
    assert time.monotonic() - started < 10
