"""Look at every message of a queue and leave them all there.

A receive with VisibilityTimeout=0 returns a sample that may repeat (moto returns the same first
ten every time), so reading until "nothing new" can stop early. Each message is instead hidden as
it is read, so the next receive returns others, and all are made visible again at the end.
"""

from __future__ import annotations

from typing import Any

BATCH = 10  # SQS ReceiveMessage and ChangeMessageVisibilityBatch limit
HIDDEN_SECONDS = 60  # while the look lasts


def peek(sqs: Any, queue_url: str, **receive: Any) -> list[dict[str, Any]]:
    """Every message of the queue, oldest receive first; each is visible again when this returns."""
    found: dict[str, dict[str, Any]] = {}
    try:
        while True:
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=BATCH, VisibilityTimeout=HIDDEN_SECONDS, **receive
            ).get("Messages", [])
            new = [message for message in messages if message["MessageId"] not in found]
            if not new:
                break
            found.update({message["MessageId"]: dict(message) for message in new})
    finally:
        handles = [message["ReceiptHandle"] for message in found.values()]
        for start in range(0, len(handles), BATCH):
            entries = [
                {"Id": str(n), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                for n, handle in enumerate(handles[start : start + BATCH])
            ]
            sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)
    return list(found.values())
