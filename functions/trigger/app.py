"""Lambda entry point of the trigger function: Powertools batch plumbing and nothing else."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from trigger.batch import TriggerBatchProcessor, process_batch
from trigger.config import load_settings
from trigger.observability import logger, metrics, tracer
from trigger.run_scheduler import RunScheduler
from trigger.service import TriggerService

settings = load_settings()
service = TriggerService(settings, RunScheduler.from_settings(settings))
processor = TriggerBatchProcessor()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_batch(event, service.parse, service.handle_batch, processor, context)
