"""What the trigger does with a batch of queue messages. Knows nothing about Lambda.

1. Each message is parsed alone. One that can never succeed (not an S3 notification, or an
   object no run can take) goes to the dead-letter queue at once, with the reason.
2. The accepted objects of the whole batch are recorded in the pending set: each object version
   once, so a redelivery, a duplicate notification or a replay records nothing new.
3. The messages are acknowledged: nothing waits in SQS. Only a message whose objects could not
   be recorded fails, and the queue redelivers it (then, after MaxReceiveCount, its DLQ).
4. Dispatch starts what the run policy allows: every pending object in one run when a slot is free.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from trigger.adapters.dead_letters import DeadLetters
from trigger.dispatch import DispatchOutcome
from trigger.events import S3TestEvent, TriggerQueueRecord
from trigger.observability import logger, metrics
from trigger.runs import RunShape, refusal_of
from trigger.scheduler import RunScheduler
from trigger.uploads import ObjectFilter, UploadedObject


@dataclass
class ParsedMessage:
    """One SQS message of the batch and the objects it announced (none if it was dead-lettered)."""

    message_id: str
    objects: list[UploadedObject] = field(default_factory=list)


@dataclass
class BatchOutcome:
    recorded: list[UploadedObject] = field(default_factory=list)
    duplicates: list[UploadedObject] = field(default_factory=list)
    failed_message_ids: set[str] = field(default_factory=set)
    dispatched: DispatchOutcome | None = None


class PermanentMessageError(RuntimeError):
    """A message that can never succeed, with no dead-letter queue to put it in directly."""


@dataclass
class QueueBatch:
    scheduler: RunScheduler
    object_filter: ObjectFilter
    shape: RunShape
    dead_letters: DeadLetters | None

    def parse(self, record: dict[str, Any]) -> ParsedMessage:
        """Per message (the batch processor passes it as ``record``). Raises only when a message
        that can never succeed could not be put in the dead-letter queue."""
        message_id = str(record.get("messageId", ""))
        try:
            message = TriggerQueueRecord.model_validate(record)
        except ValidationError as invalid:
            reason = "cannot be read as an S3 event notification: " + _problems(invalid)
            self._dead_letter(message_id, str(record.get("body", "")), reason)
            return ParsedMessage(message_id)
        body = message.body
        if isinstance(body, S3TestEvent):
            logger.info("acknowledged S3 test event", extra={"bucket": body.bucket, "message_id": message_id})
            metrics.add_metric(name="TestEventAcknowledged", unit=MetricUnit.Count, value=1)
            return ParsedMessage(message_id)
        accepted = []
        for s3_record in body.records:
            obj = UploadedObject.from_record(s3_record)
            skip = self.object_filter.reason_to_skip(obj)
            if skip is not None:
                logger.info("skipped object", extra={"object": obj.uri, "event": obj.event_name, "reason": skip})
                metrics.add_metric(name="ObjectSkipped", unit=MetricUnit.Count, value=1)
                continue
            refusal = refusal_of(obj, self.shape)
            if refusal is not None:
                if obj.is_empty:
                    metrics.add_metric(name="EmptyUploadRefused", unit=MetricUnit.Count, value=1)
                self._dead_letter(message_id, message.raw_body, f"{obj.uri[:300]}: {refusal}")
                return ParsedMessage(message_id)
            accepted.append(obj)
        return ParsedMessage(message_id, accepted)

    def handle(self, messages: Iterable[ParsedMessage]) -> BatchOutcome:
        messages = list(messages)
        outcome = BatchOutcome()
        objects = [obj for message in messages for obj in message.objects]
        if objects:
            try:
                recorded = self.scheduler.accept(objects)
            except Exception:  # noqa: BLE001 - the messages fail and are redelivered: nothing is lost
                logger.exception("could not record the batch's objects; its messages return to the queue")
                outcome.failed_message_ids.update(m.message_id for m in messages if m.objects)
                return outcome
            outcome.recorded, outcome.duplicates = recorded.new, recorded.duplicates
        try:
            outcome.dispatched = self.scheduler.dispatch()
        except Exception:  # noqa: BLE001 - the objects are recorded: the next dispatch or the sweep starts them
            logger.exception("dispatch failed; the recorded objects stay pending for the next dispatch or the sweep")
        return outcome

    def _dead_letter(self, message_id: str, body: str, reason: str) -> None:
        if self.dead_letters is None:  # no queue configured: fail it, and the queue's redrive takes it there
            raise PermanentMessageError(reason)
        self.dead_letters.put(body, reason)  # if this raises, the message fails and is redelivered
        logger.error(
            "message can never succeed: moved to the dead-letter queue with its reason",
            extra={"message_id": message_id, "reason": reason, "permanent": True},
        )
        metrics.add_metric(name="MessageDeadLettered", unit=MetricUnit.Count, value=1)


def _problems(invalid: ValidationError) -> str:
    """What is wrong with a body, in a line: the S3-notification reading of it (the test-event
    alternative is left out unless the body claims to be one), without pydantic's type names."""
    errors = invalid.errors()
    notification = [e for e in errors if "S3TestEvent" not in [str(part) for part in e["loc"]]]
    shown = notification or errors
    return "; ".join(
        ".".join(str(part) for part in error["loc"] if part not in ("S3EventNotification", "S3TestEvent"))
        + f": {error['msg']}"
        for error in shown[:3]
    )
