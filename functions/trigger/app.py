"""Lambda entry point of the trigger function: Powertools batch plumbing and nothing else."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from trigger.adapters.manifests import ManifestStore
from trigger.adapters.notifications import Notifier
from trigger.adapters.pipeline_executions import PipelineExecutions
from trigger.adapters.queue import WaitingRoom
from trigger.adapters.run_ledger import RunLedger
from trigger.batch import TriggerBatchProcessor, process_batch
from trigger.config import load_settings
from trigger.observability import logger, metrics, tracer
from trigger.service import TriggerService

settings = load_settings()
executions = PipelineExecutions()
service = TriggerService(
    settings,
    executions=executions,
    notifier=Notifier(settings.notification_topic_arn),
    ledger=RunLedger(settings.idempotency_table_name, start=executions.start_record),
    manifests=ManifestStore(),
    waiting_room=WaitingRoom(),
)
processor = TriggerBatchProcessor()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    service.ledger.register_lambda_context(context)
    return process_batch(event, service.parse, service.handle_batch, processor, context)
