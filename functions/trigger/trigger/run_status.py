"""How a run ended, told to a person once: its status, why it failed and in which step, what it was
started for, and (for the bundled pipeline) what it learned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from trigger.adapters.notifications import NotificationTopic
from trigger.adapters.pipeline_executions import PipelineExecutions
from trigger.adapters.run_reports import RunReportReader
from trigger.notifications import RunEnding, run_ended
from trigger.observability import logger, metrics
from trigger.run_ledger import RunLedger
from trigger.status_events import PipelineExecutionStatusChange


@dataclass
class RunStatusNotifier:
    executions: PipelineExecutions
    reports: RunReportReader
    ledger: RunLedger
    topic: NotificationTopic
    stack_name: str = ""

    def ending_of(self, change: PipelineExecutionStatusChange) -> RunEnding:
        reports = self.reports.read(change.execution_arn)
        steps = self.executions.steps_of(change.execution_arn)
        failure_reason = failed_step = None
        if change.status == "Failed":
            if steps.failed is not None:
                failed_step, failure_reason = steps.failed
            # The run's own reports say why in the data owner's words; SageMaker's reason otherwise.
            failure_reason = reports.refusal or failure_reason or self.executions.failure_reason(change.execution_arn)
        return RunEnding(
            failure_reason,
            failed_step,
            self._objects(change.execution_arn),
            reports,
            self.stack_name,
            registered=steps.registered,
        )

    def _objects(self, execution_arn: str) -> tuple[str, ...]:
        stored = self.ledger.run_of(execution_arn)
        objects = ((stored or {}).get("record") or {}).get("objects") or []
        return tuple(f"s3://{item['bucket']}/{item['key']}" for item in objects)

    def notify(self, change: PipelineExecutionStatusChange) -> dict[str, Any]:
        # Errors propagate: EventBridge retries the invocation, and the idempotency record of a
        # failed attempt is removed, so the retry publishes.
        ending = self.ending_of(change)
        if ending.reports and (ending.reports.data_report or {}).get("accepted") is False:
            # Data no run can train on (not CSV text, no target, ...): counted beside the trigger's refusals.
            metrics.add_metric(name="DataRefused", unit=MetricUnit.Count, value=1)
        notification = run_ended(change, ending)
        message_id = self.topic.publish(notification)
        logger.info(
            "notified run end",
            extra={"execution_arn": change.execution_arn, "status": change.status, "message_id": message_id},
        )
        return {"execution_arn": change.execution_arn, "status": change.status, "message_id": message_id}
