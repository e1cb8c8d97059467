"""`retrain-trigger dlq` and `redrive`: what never became a run and why, and sending it back."""

from __future__ import annotations

import argparse
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ops.announcements import progress
from ops.queues import peek
from ops.targets import Targets, need
from trigger.adapters.dead_letters import REASON_ATTRIBUTE
from trigger.events import S3EventNotification

BATCH = 10  # SQS ReceiveMessage limit
MAX_SHOWN = 5  # status ends with the dead-letter queue's first few messages
# What an endpoint without SQS's message-move task (moto, older emulators) answers StartMessageMoveTask with.
MOVE_TASK_UNSUPPORTED = {"UnsupportedOperation", "InvalidAction", "NotImplemented", "500"}


def dlq_command(args: argparse.Namespace, targets: Targets) -> int:
    return show_dead_letters(targets)


def redrive_command(args: argparse.Namespace, targets: Targets) -> int:
    return redrive(targets, dry_run=args.dry_run)


def dead_letters(targets: Targets) -> list[dict[str, Any]]:
    """The DLQ's messages, looked at and left in place."""
    source = need(targets.dead_letter_queue_url, "dead-letter queue")
    return peek(
        boto3.client("sqs"),
        source,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
    )


def describe_dead_letter(message: dict[str, Any]) -> list[str]:
    attributes: dict[str, Any] = message.get("MessageAttributes") or {}
    reason = (attributes.get(REASON_ATTRIBUTE) or {}).get("StringValue") or (
        "no reason attached: moved by the queue's redrive policy after MaxReceiveCount failed deliveries; "
        "see the function's logs for this message id"
    )
    try:  # read as the trigger reads it: keys decoded (my+file.csv is "my file.csv")
        records = S3EventNotification.model_validate_json(message["Body"]).records
        objects = [f"s3://{r.s3.bucket.name}/{r.s3.object.key}" for r in records]
    except ValueError:
        objects = []
    lines = [f"- {message['MessageId']}"]
    lines += [f"    object   {uri}" for uri in objects] or [f"    body     {message['Body'][:200]!r}"]
    lines.append(f"    reason   {reason}")
    return lines


def show_dead_letters(targets: Targets) -> int:
    messages = dead_letters(targets)
    print(f"{len(messages)} message(s) in the dead-letter queue")
    for message in messages:
        for line in describe_dead_letter(message):
            print(line)
    if messages:
        print("fix the cause, then `retrain-trigger redrive` (see what it would move with --dry-run);")
        print("an empty upload can never train: upload the file again with its data (a redrive puts it back here)")
    return 0


def summary(targets: Targets) -> None:
    """What never became a run (an empty upload, a key SageMaker cannot take, a mapping that does not fit)."""
    if not targets.dead_letter_queue_url:
        return
    messages = dead_letters(targets)
    if not messages:
        return
    print(f"{len(messages)} message(s) in the dead-letter queue, not trained on:")
    for message in messages[:MAX_SHOWN]:
        for line in describe_dead_letter(message):
            print(f"  {line}")
    if len(messages) > MAX_SHOWN:
        print(f"  ... and {len(messages) - MAX_SHOWN} more: `retrain-trigger dlq` lists them all")


def redrive(targets: Targets, dry_run: bool = False) -> int:
    """Move every message of the DLQ back to the trigger queue: with SQS's own message-move task
    where the endpoint has it, else message by message (sent first, then deleted)."""
    sqs = boto3.client("sqs")
    source, destination = need(targets.dead_letter_queue_url, "dead-letter queue"), need(targets.queue_url, "queue")
    waiting = int(
        sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
    )
    if dry_run:
        print(f"redrive --dry-run: {waiting} message(s) would move from {source} to {destination}; nothing moved")
        return show_dead_letters(targets) if waiting else 0
    if _moved_by_sqs(sqs, source, destination, waiting):
        return 0
    moved = 0
    while messages := sqs.receive_message(
        QueueUrl=source, MaxNumberOfMessages=BATCH, WaitTimeSeconds=1, MessageAttributeNames=["All"]
    ).get("Messages", []):
        for message in messages:
            # The reason stays behind: a message that fails again gets a new one.
            sqs.send_message(QueueUrl=destination, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
            progress("redrive", moved, waiting)
    print(f"redrive: {moved} message(s) moved from the dead-letter queue back to the trigger queue")
    return 0


def _moved_by_sqs(sqs: Any, source: str, destination: str, waiting: int) -> bool:
    """Whether SQS's own message-move task took the messages (False where the endpoint has none)."""
    arns = [
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for url in (source, destination)
    ]
    try:
        # One attempt: an endpoint without the task (moto) answers 500, which retries would only repeat.
        once = boto3.client("sqs", config=Config(retries={"total_max_attempts": 1}))
        task = once.start_message_move_task(SourceArn=arns[0], DestinationArn=arns[1])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in MOVE_TASK_UNSUPPORTED:
            raise
        return False
    except NotImplementedError:  # moto in this process
        return False
    print(f"redrive: SQS is moving {waiting} message(s) back to the trigger queue (task {task['TaskHandle'][:40]}...)")
    return True
