"""Lambda entry point of the sweep, run on a schedule: runs SageMaker reports as ended free their
slots even when their status event was lost, a run left half-started is completed, and what is
pending is dispatched."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from trigger.factory import build_core
from trigger.observability import logger, metrics, tracer
from trigger.settings import SweepSettings, load_settings

core = build_core(load_settings(model=SweepSettings))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcome = core.scheduler.sweep()
    pending = core.scheduler.pending.count()
    # Every few minutes, the size of the pending set: the dashboard's backlog.
    metrics.add_metric(name="PendingObjects", unit=MetricUnit.Count, value=pending)
    dispatched = outcome.dispatched
    return {
        "released": outcome.released,
        "started": [arn for _, arn in dispatched.started] if dispatched else [],
        "waiting": dispatched.waiting if dispatched else "a run could not be started; it is tried again",
        "pending": pending,
        "starting": core.scheduler.dispatcher.cap.state().dispatching,
    }
