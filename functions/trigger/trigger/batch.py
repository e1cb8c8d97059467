"""The Powertools batch processor, with one log line per failed message."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.base import FailureResponse
from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from pydantic import ValidationError

from trigger.events import TriggerQueueRecord
from trigger.observability import logger, metrics
from trigger.planner import InvalidRunRequest

PERMANENT_ERRORS = (ValidationError, InvalidRunRequest)


class TriggerBatchProcessor(BatchProcessor):
    """Reports each failed message (returned to the queue, then the DLQ) with its id and reason."""

    def __init__(self) -> None:
        # A batch in which every message failed is reported as such, not raised: the same
        # messages return to the queue either way, and the response stays readable.
        super().__init__(event_type=EventType.SQS, model=TriggerQueueRecord, raise_on_entire_batch_failure=False)

    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        error = exception[1]
        permanent = isinstance(error, PERMANENT_ERRORS)
        metrics.add_metric(name="MessageFailed", unit=MetricUnit.Count, value=1)
        logger.error(
            "message failed; it returns to the queue and, after the receive limit, to the DLQ",
            extra={
                "message_id": record.messageId if hasattr(record, "messageId") else record.message_id,
                "error_type": type(error).__name__,
                "error": str(error),
                "permanent": permanent,
            },
        )
        return super().failure_handler(record, exception)


__all__ = ["PartialItemFailureResponse", "TriggerBatchProcessor"]
