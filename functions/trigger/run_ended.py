"""Lambda entry point of the run-ended function: SageMaker's status-change event for a run that
ended frees the run's slot and dispatches what is pending, then tells a person, once, how it ended."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from trigger.factory import build_core
from trigger.observability import logger, metrics, tracer
from trigger.settings import RunEndedSettings, load_settings, required
from trigger.status_events import PipelineStatusEvent

settings = load_settings(model=RunEndedSettings)
core = build_core(settings)
# Duplicated status events carry the same execution and status: that pair is the key.
idempotency = IdempotencyConfig(
    event_key_jmespath="[detail.pipelineExecutionArn, detail.currentPipelineExecutionStatus]",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=7 * 24 * 3600,
)
persistence = DynamoDBPersistenceLayer(table_name=settings.idempotency_table_name)
required(settings.data_bucket, "DATA_BUCKET")


@idempotent_function(  # type: ignore[untyped-decorator]
    data_keyword_argument="event", config=idempotency, persistence_store=persistence
)
def notify_once(event: dict[str, Any]) -> dict[str, Any]:
    return core.run_status.notify(PipelineStatusEvent.model_validate(event).detail)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    change = PipelineStatusEvent.model_validate(event).detail
    metrics.add_metric(name="RunEnded", unit=MetricUnit.Count, value=1)
    idempotency.register_lambda_context(context)
    # Releasing twice frees one slot, so a repeated event (or the sweep before it) changes nothing.
    core.scheduler.run_ended(change.execution_arn, change.status)
    told: dict[str, Any] = notify_once(event=event)
    return told
