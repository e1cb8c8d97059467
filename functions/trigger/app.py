"""Lambda entry point of the trigger function: Powertools batch plumbing and nothing else."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from trigger.adapters.notifications import Notifier
from trigger.adapters.pipeline_executions import PipelineExecutions
from trigger.batch import TriggerBatchProcessor
from trigger.config import load_settings
from trigger.events import TriggerQueueRecord
from trigger.observability import logger, metrics, tracer
from trigger.service import MessageOutcome, TriggerService

settings = load_settings()
service = TriggerService(
    settings,
    executions=PipelineExecutions(),
    notifier=Notifier(settings.notification_topic_arn),
)
processor = TriggerBatchProcessor()


@tracer.capture_method
def record_handler(record: TriggerQueueRecord) -> MessageOutcome:
    return service.handle(record)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
