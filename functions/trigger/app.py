"""Lambda entry point of the trigger function: Powertools batch plumbing and nothing else."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from trigger.batch_processing import TriggerBatchProcessor, process_batch
from trigger.factory import build_core
from trigger.observability import logger, metrics, tracer
from trigger.settings import TriggerSettings, load_settings

core = build_core(load_settings(model=TriggerSettings))
processor = TriggerBatchProcessor()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_batch(event, core.queue_batch.parse, core.queue_batch.handle, processor, context)
