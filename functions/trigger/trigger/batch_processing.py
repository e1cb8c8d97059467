"""Powertools batch plumbing: parse every message alone, then hand the batch to the service at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.base import FailureResponse
from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from trigger.observability import logger, metrics
from trigger.queue_batch import BatchOutcome, ParsedMessage


class TriggerBatchProcessor(BatchProcessor):
    """Reports each message that failed (it returns to the queue, then the DLQ) with its id."""

    def __init__(self) -> None:
        # The service parses each record itself, so that a record that can never parse is put in
        # the dead-letter queue with its reason instead of being retried. A batch in which every
        # message failed is reported as such, not raised: the response stays readable.
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        error = exception[1]
        metrics.add_metric(name="MessageFailed", unit=MetricUnit.Count, value=1)
        logger.error(
            "message failed; it returns to the queue and, after the receive limit, to the DLQ",
            extra={
                "message_id": getattr(record, "message_id", None),
                "error_type": type(error).__name__,
                "error": str(error),
            },
        )
        return super().failure_handler(record, exception)


def process_batch(
    event: dict[str, Any],
    parse: Callable[[dict[str, Any]], ParsedMessage],
    handle: Callable[[list[ParsedMessage]], BatchOutcome],
    processor: TriggerBatchProcessor,
    context: LambdaContext,
) -> PartialItemFailureResponse:
    with processor(
        records=event.get("Records", []), handler=lambda record: parse(record.raw_event), lambda_context=context
    ):
        results = processor.process()
    parsed = [result for status, result, _ in results if status == "success"]
    outcome = handle(parsed)
    failures = list(processor.response()["batchItemFailures"])
    for message_id in sorted(outcome.failed_message_ids):
        metrics.add_metric(name="MessageFailed", unit=MetricUnit.Count, value=1)
        logger.error(
            "message failed: its objects could not be recorded; it returns to the queue and, "
            "after the receive limit, to the DLQ",
            extra={"message_id": message_id, "permanent": False},
        )
        failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
