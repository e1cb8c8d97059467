"""Lambda entry point: one notification per run end, even when SageMaker sends the event twice."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from run_status.events import PipelineStatusEvent
from run_status.service import RunStatusNotifier, required_environment

logger = Logger()
tracer = Tracer()
notifier = RunStatusNotifier(
    required_environment("NOTIFICATION_TOPIC_ARN"),
    bucket=required_environment("DATA_BUCKET"),
    runs_prefix=required_environment("RUNS_PREFIX"),
)
# Duplicated status events carry the same execution and status: that pair is the key.
idempotency = IdempotencyConfig(
    event_key_jmespath="[detail.pipelineExecutionArn, detail.currentPipelineExecutionStatus]",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=7 * 24 * 3600,
)
persistence = DynamoDBPersistenceLayer(table_name=required_environment("IDEMPOTENCY_TABLE_NAME"))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@idempotent(config=idempotency, persistence_store=persistence)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return notifier.notify(PipelineStatusEvent.model_validate(event).detail)
