"""Looking at a queue sees every message and takes none (the DLQ listing, the local inbox)."""

from __future__ import annotations

import boto3

from ops.queues import peek


def test_a_look_at_a_queue_of_25_sees_all_25_and_leaves_them_there(aws):
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    for n in range(25):
        sqs.send_message(QueueUrl=queue, MessageBody=f"message {n}")

    first = peek(sqs, queue)
    again = peek(sqs, queue)

    assert sorted(m["Body"] for m in first) == sorted(f"message {n}" for n in range(25))
    assert sorted(m["Body"] for m in again) == sorted(m["Body"] for m in first)
