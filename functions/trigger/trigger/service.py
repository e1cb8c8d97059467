"""What the trigger does with one message from the queue. Knows nothing about Lambda."""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_lambda_powertools.metrics import MetricUnit

from trigger.adapters.notifications import Notifier
from trigger.adapters.pipeline_executions import PipelineExecutions
from trigger.config import TriggerSettings
from trigger.events import S3TestEvent, TriggerQueueRecord
from trigger.messages import run_not_started, run_started
from trigger.observability import logger, metrics
from trigger.planner import ObjectFilter, UploadedObject, plan_runs


@dataclass
class MessageOutcome:
    """What happened to one message: the executions it started and what it skipped."""

    message_id: str
    started: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    test_event: bool = False


class TriggerService:
    def __init__(self, settings: TriggerSettings, executions: PipelineExecutions, notifier: Notifier) -> None:
        self._settings = settings
        self._executions = executions
        self._notifier = notifier
        self._filter = ObjectFilter(prefix=settings.data_prefix, suffix=settings.data_suffix)

    def handle(self, message: TriggerQueueRecord) -> MessageOutcome:
        """Start a run for every accepted object in the message.

        Any exception leaves this method: the message is then reported as a batch item
        failure, returns to the queue and, after the redrive count, reaches the DLQ.
        """
        outcome = MessageOutcome(message_id=message.messageId)
        body = message.body
        if isinstance(body, S3TestEvent):
            logger.info("acknowledged S3 test event", extra={"bucket": body.bucket})
            metrics.add_metric(name="TestEventAcknowledged", unit=MetricUnit.Count, value=1)
            outcome.test_event = True
            return outcome

        objects = [UploadedObject.from_record(record) for record in body.records]
        plan = plan_runs(objects, pipeline_name=self._settings.pipeline_name, object_filter=self._filter)
        for skipped in plan.skipped:
            logger.info(
                "skipped object",
                extra={
                    "object": skipped.object.uri,
                    "event": skipped.object.event_name,
                    "reason": skipped.reason,
                },
            )
            metrics.add_metric(name="ObjectSkipped", unit=MetricUnit.Count, value=1)
            outcome.skipped.append(skipped.object.uri)

        for run in plan.runs:
            try:
                execution_arn = self._executions.start(run)
            except Exception as error:
                metrics.add_metric(name="RunStartFailed", unit=MetricUnit.Count, value=1)
                logger.exception(
                    "could not start pipeline execution",
                    extra={"object": run.objects[0].uri, "pipeline": run.pipeline_name},
                )
                receive_count = int(message.attributes.ApproximateReceiveCount)
                self._notifier.publish(run_not_started(run, error, receive_count))
                raise
            metrics.add_metric(name="RunStarted", unit=MetricUnit.Count, value=1)
            logger.info(
                "started pipeline execution",
                extra={
                    "object": run.objects[0].uri,
                    "key": run.objects[0].key,
                    "execution_arn": execution_arn,
                    "client_request_token": run.client_request_token,
                },
            )
            self._notifier.publish(run_started(run, execution_arn))
            outcome.started.append(execution_arn)
        return outcome
