"""What the trigger does with a batch of messages. Knows nothing about Lambda.

1. Every S3 record of every message is parsed (by the batch processor) and filtered.
2. The accepted objects of the whole batch become one run (per bucket): a burst, one run.
3. Each object is claimed for that run; an object seen before gets back the run it was first
   given, so a redelivery or duplicate starts nothing new.
4. Each run is started unless it already was; over the cap of concurrent executions (or when
   SageMaker answers ResourceLimitExceeded) the batch's messages wait in the queue instead.
5. A message fails (returns to the queue, then the DLQ) only if a run it asked for could not start.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from trigger.adapters.manifests import ManifestStore
from trigger.adapters.notifications import Notifier
from trigger.adapters.pipeline_executions import PipelineExecutions
from trigger.adapters.queue import WaitingRoom
from trigger.adapters.run_ledger import RunLedger
from trigger.config import TriggerSettings
from trigger.events import S3TestEvent, TriggerQueueRecord
from trigger.messages import run_not_started, run_started
from trigger.observability import logger, metrics
from trigger.planner import ObjectFilter, PipelineRun, UploadedObject, plan_runs, run_for

RESOURCE_LIMIT_CODES = {"ResourceLimitExceeded"}


@dataclass
class ParsedMessage:
    """One SQS message of the batch and the objects it announced."""

    message: TriggerQueueRecord
    objects: list[UploadedObject] = field(default_factory=list)

    @property
    def message_id(self) -> str:
        return self.message.messageId


@dataclass
class BatchOutcome:
    started: dict[str, str] = field(default_factory=dict)  # client request token -> execution ARN
    failed_message_ids: set[str] = field(default_factory=set)
    waiting_message_ids: set[str] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)


class RunsMustWait(RuntimeError):
    """The pipeline runs as many executions as allowed; the work waits in the queue."""


class TriggerService:
    def __init__(
        self,
        settings: TriggerSettings,
        *,
        executions: PipelineExecutions,
        notifier: Notifier,
        ledger: RunLedger,
        manifests: ManifestStore,
        waiting_room: WaitingRoom,
    ) -> None:
        self._settings = settings
        self._executions = executions
        self._notifier = notifier
        self._ledger = ledger
        self._manifests = manifests
        self._waiting_room = waiting_room
        self._filter = ObjectFilter(prefix=settings.data_prefix, suffix=settings.data_suffix)

    @property
    def ledger(self) -> RunLedger:
        return self._ledger

    def parse(self, record: TriggerQueueRecord) -> ParsedMessage:
        """Per message (the batch processor passes it as ``record``): the S3 test event is
        acknowledged, notifications yield their objects."""
        body = record.body
        if isinstance(body, S3TestEvent):
            logger.info("acknowledged S3 test event", extra={"bucket": body.bucket, "message_id": record.messageId})
            metrics.add_metric(name="TestEventAcknowledged", unit=MetricUnit.Count, value=1)
            return ParsedMessage(record)
        return ParsedMessage(record, [UploadedObject.from_record(s3_record) for s3_record in body.records])

    def handle_batch(self, messages: Iterable[ParsedMessage]) -> BatchOutcome:
        messages = list(messages)
        outcome = BatchOutcome()
        plan = plan_runs(
            [obj for message in messages for obj in message.objects],
            pipeline_name=self._settings.pipeline_name,
            object_filter=self._filter,
            manifest_prefix=self._settings.manifest_prefix,
            all_objects_under=self._settings.all_objects_under,
        )
        for skipped in plan.skipped:
            logger.info(
                "skipped object",
                extra={"object": skipped.object.uri, "event": skipped.object.event_name, "reason": skipped.reason},
            )
            metrics.add_metric(name="ObjectSkipped", unit=MetricUnit.Count, value=1)
            outcome.skipped.append(skipped.object.uri)
        for run in plan.runs:
            members = set(run.objects)
            carriers = [m for m in messages if any(obj in members for obj in m.objects)]
            try:
                self._handle_run(run, outcome)
            except RunsMustWait as waiting:
                self._wait(carriers, outcome, str(waiting))
            except Exception as error:  # noqa: BLE001 - logged, notified, and its messages fail: nothing is lost
                self._fail(run, carriers, outcome, error)
        for rejected in plan.rejected:
            carriers = [m for m in messages if rejected.object in set(m.objects)]
            logger.error(
                "object refused: SageMaker would reject its run",
                extra={"object": rejected.object.uri[:300], "reason": rejected.reason, "permanent": True},
            )
            metrics.add_metric(name="ObjectRefused", unit=MetricUnit.Count, value=1)
            outcome.failed_message_ids.update(m.message_id for m in carriers)
        return outcome

    def _handle_run(self, run: PipelineRun, outcome: BatchOutcome) -> None:
        cap = self._settings.max_concurrent_executions
        if cap and self._executions.running(run.pipeline_name, enough=cap) >= cap:
            raise RunsMustWait(f"{cap} executions of {run.pipeline_name} are running (MaxConcurrentExecutions)")
        # Objects seen before keep the run they were given (it is started if it had not been).
        fresh = []
        for obj in run.objects:
            earlier = self._ledger.assigned_run(obj)
            if earlier is None:
                fresh.append(obj)
            else:
                self._ensure(earlier, outcome, duplicate=True)
        if not fresh:
            return
        if len(fresh) != len(run.objects):
            run = run_for(
                fresh,
                pipeline_name=run.pipeline_name,
                manifest_prefix=self._settings.manifest_prefix,
                all_objects_under=self._settings.all_objects_under,
            )
        # The manifest exists before any claim names its run, so a retry can always start it.
        self._manifests.write(run)
        won = []
        for obj in run.objects:
            assigned = self._ledger.claim(obj, run)
            if assigned["client_request_token"] == run.client_request_token:
                won.append(obj)
            else:  # a concurrent batch claimed it first: it trains there, not here
                self._ensure(assigned, outcome, duplicate=True)
        if not won:
            return
        if len(won) != len(run.objects):
            run = replace(run, objects=tuple(won))
            self._manifests.write(run)
        execution_arn = self._ensure(run.as_record(), outcome, duplicate=False)
        if execution_arn:
            self._started(run, execution_arn)

    def _ensure(self, record: dict[str, Any], outcome: BatchOutcome, *, duplicate: bool) -> str | None:
        """Start the run a record describes unless it already started; None if done in this batch."""
        token = record["client_request_token"]
        if token in outcome.started:
            return None
        try:
            execution_arn = self._ledger.ensure_started(record)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in RESOURCE_LIMIT_CODES:
                raise RunsMustWait(f"SageMaker refused a new execution: {error}") from error
            raise
        outcome.started[token] = execution_arn
        if duplicate:
            logger.info(
                "object already belongs to an earlier run; nothing new started",
                extra={"execution_arn": execution_arn, "first_object": record.get("first_object")},
            )
            metrics.add_metric(name="DuplicateSuppressed", unit=MetricUnit.Count, value=1)
        return execution_arn

    def _started(self, run: PipelineRun, execution_arn: str) -> None:
        metrics.add_metric(name="RunStarted", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="ObjectsInRun", unit=MetricUnit.Count, value=len(run.objects))
        logger.info(
            "started pipeline execution",
            extra={
                "execution_arn": execution_arn,
                "objects": len(run.objects),
                "key": run.objects[0].key,
                "manifest": run.manifest_key,
                "client_request_token": run.client_request_token,
            },
        )
        self._notifier.publish(run_started(run, execution_arn))

    def _wait(self, carriers: list[ParsedMessage], outcome: BatchOutcome, reason: str) -> None:
        """Send each message back with a delay; if that fails, the message fails and is redelivered."""
        metrics.add_metric(name="RunWaiting", unit=MetricUnit.Count, value=1)
        logger.info("run waits for a free slot", extra={"reason": reason, "messages": len(carriers)})
        for parsed in carriers:
            message = parsed.message
            waited = message.messageAttributes.get("retrain-trigger-waits")
            waits = int(waited.stringValue or 0) if waited else 0
            try:
                self._waiting_room.send_back(
                    message.eventSourceARN, message.raw_body, self._settings.wait_seconds, waits + 1
                )
            except Exception:  # noqa: BLE001 - the message then fails and is redelivered: nothing is lost
                logger.exception("could not send the message back to wait", extra={"message_id": parsed.message_id})
                outcome.failed_message_ids.add(parsed.message_id)
            else:
                outcome.waiting_message_ids.add(parsed.message_id)

    def _fail(self, run: PipelineRun, carriers: list[ParsedMessage], outcome: BatchOutcome, error: Exception) -> None:
        metrics.add_metric(name="RunStartFailed", unit=MetricUnit.Count, value=1)
        logger.exception(
            "could not start pipeline execution",
            extra={"objects": len(run.objects), "first_object": run.objects[0].uri, "pipeline": run.pipeline_name},
        )
        receive_count = max(int(m.message.attributes.ApproximateReceiveCount) for m in carriers) if carriers else 1
        self._notifier.publish(run_not_started(run, error, receive_count))
        outcome.failed_message_ids.update(m.message_id for m in carriers)
