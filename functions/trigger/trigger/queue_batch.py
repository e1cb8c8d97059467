"""What the trigger does with a batch of queue messages. Knows nothing about Lambda.

1. Each message is parsed alone into run requests, by the source that reads its body (an S3
   notification, an SNS message, an EventBridge event, the schedule's tick, a run request). One that
   can never succeed (no source reads it, or an object no run can take) goes to the dead-letter
   queue at once, with the reason.
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

from trigger.adapters.dead_letters import DeadLetters
from trigger.dispatch import DispatchOutcome
from trigger.observability import logger, metrics
from trigger.run_requests import Unreadable
from trigger.runs import RunShape, refusal_of
from trigger.scheduler import RunScheduler
from trigger.sources import SourceContext, parse_body
from trigger.uploads import ObjectFilter, UploadedObject

SKIPPED = "skipped"  # not the pipeline's data (another prefix, a deletion): acknowledged, nothing recorded


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
    context: SourceContext

    def parse(self, record: dict[str, Any]) -> ParsedMessage:
        """Per message (the batch processor passes it as ``record``): its run requests, read by the
        source that claims its body (trigger/sources/). Raises only when a message that can never
        succeed could not be put in the dead-letter queue."""
        message_id, body = str(record.get("messageId", "")), record.get("body")
        if not isinstance(body, str):
            self._dead_letter(message_id, str(body or ""), "an SQS record without a body")
            return ParsedMessage(message_id)
        try:
            parsed = parse_body(body, self.context)
        except Unreadable as unreadable:
            self._dead_letter(message_id, body, str(unreadable))
            return ParsedMessage(message_id)
        if parsed.acknowledged:
            logger.info(f"acknowledged {parsed.acknowledged}", extra={"message_id": message_id})
            metrics.add_metric(name="TestEventAcknowledged", unit=MetricUnit.Count, value=1)
            return ParsedMessage(message_id)
        accepted = []
        for request in parsed.requests:
            for entry in request.entries(self.context.bucket, self.shape.data_prefix):
                refusal = self._refusal(entry)
                if refusal == SKIPPED:
                    continue
                if refusal is not None:
                    self._dead_letter(message_id, body, f"{entry.uri[:300]}: {refusal}")
                    return ParsedMessage(message_id)
                accepted.append(entry)
        return ParsedMessage(message_id, accepted)

    def _refusal(self, entry: UploadedObject) -> str | None:
        """Why no run can take this entry (None: it is accepted; SKIPPED: not the pipeline's data)."""
        if entry.covers_prefix:
            if not self.shape.data_prefix:
                return (
                    "a request for a run on TrainingData's objects needs a DataPrefix: an empty one would "
                    "train on the runs' own outputs (pipeline-artifacts/)"
                )
            return None
        skip = self.object_filter.reason_to_skip(entry)
        if skip is not None:
            logger.info("skipped object", extra={"object": entry.uri, "event": entry.event_name, "reason": skip})
            metrics.add_metric(name="ObjectSkipped", unit=MetricUnit.Count, value=1)
            return SKIPPED
        refusal = refusal_of(entry, self.shape)
        if refusal is not None and entry.is_empty:
            metrics.add_metric(name="EmptyUploadRefused", unit=MetricUnit.Count, value=1)
        return refusal

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
