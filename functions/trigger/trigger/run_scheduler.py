"""The run scheduler as the functions use it: accept objects, dispatch, end runs, sweep.

It puts the scheduler's parts together (scheduler/: pending set, slots, dispatch, sweep) with
the adapters (SageMaker, S3 manifests, SNS, the dead-letter queue), and says what happened:
a notification per run started or not started, a metric and a log line for each outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import boto3
from aws_lambda_powertools.metrics import MetricUnit

from trigger.adapters import RETRYING_CLIENT_CONFIG
from trigger.adapters.dead_letters import DeadLetters
from trigger.adapters.manifests import ManifestStore
from trigger.adapters.notifications import Notifier
from trigger.adapters.pipeline_executions import PipelineExecutions
from trigger.config import TriggerSettings
from trigger.events import notification_body
from trigger.messages import run_not_started, run_started
from trigger.observability import logger, metrics
from trigger.planner import PipelineRun, UploadedObject, run_for
from trigger.scheduler.dispatch import Dispatcher, DispatchOutcome, RunPolicy
from trigger.scheduler.pending import PendingObjects, Recorded, object_as_item
from trigger.scheduler.slots import Slots
from trigger.scheduler.sweep import Sweeper, SweepOutcome
from trigger.scheduler.table import SchedulerTable


class RunScheduler:
    def __init__(
        self,
        settings: TriggerSettings,
        *,
        table: SchedulerTable,
        executions: PipelineExecutions,
        manifests: ManifestStore,
        notifier: Notifier,
        dead_letters: DeadLetters | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.executions = executions
        self.manifests = manifests
        self.notifier = notifier
        self._dead_letters = dead_letters
        self._clock = clock
        self.pending = PendingObjects(table, settings.pipeline_name)
        self.slots = Slots(table, settings.pipeline_name, settings.max_concurrent_executions)
        self.dispatcher = Dispatcher(
            table=table,
            pending=self.pending,
            slots=self.slots,
            plan=partial(
                run_for,
                pipeline_name=settings.pipeline_name,
                manifest_prefix=settings.manifest_prefix,
                all_objects_under=settings.all_objects_under,
            ),
            write_manifest=manifests.write,
            start=executions.start_record,
            policy=RunPolicy(
                max_objects_per_run=settings.max_objects_per_run,
                quiet_seconds=settings.quiet_seconds,
                max_wait_seconds=settings.max_wait_seconds,
                min_seconds_between_runs=settings.min_seconds_between_runs,
            ),
            abandon=self._dead_letter_run,
            clock=clock,
        )
        self.sweeper = Sweeper(
            slots=self.slots, dispatcher=self.dispatcher, execution_status=executions.status, clock=clock
        )

    @classmethod
    def from_settings(cls, settings: TriggerSettings, clock: Callable[[], float] = time.time) -> RunScheduler:
        return cls(
            settings,
            table=SchedulerTable(
                settings.scheduler_table_name, boto3.client("dynamodb", config=RETRYING_CLIENT_CONFIG)
            ),
            executions=PipelineExecutions(),
            manifests=ManifestStore(),
            notifier=Notifier(settings.notification_topic_arn),
            dead_letters=DeadLetters(settings.dead_letter_queue_url) if settings.dead_letter_queue_url else None,
            clock=clock,
        )

    @property
    def dead_letters(self) -> DeadLetters | None:
        return self._dead_letters

    def accept(self, objects: list[UploadedObject]) -> Recorded:
        """Record each new object version once; raises if they could not be recorded (nothing is
        acknowledged then, and the queue redelivers)."""
        recorded = self.pending.record(objects, self._clock())
        if recorded.new:
            metrics.add_metric(name="ObjectsPending", unit=MetricUnit.Count, value=len(recorded.new))
        for duplicate in recorded.duplicates:
            logger.info("object version seen before: nothing new recorded", extra={"object": duplicate.uri})
        if recorded.duplicates:
            metrics.add_metric(name="DuplicateSuppressed", unit=MetricUnit.Count, value=len(recorded.duplicates))
        return recorded

    def dispatch(self) -> DispatchOutcome:
        """Start what the run policy allows now. A start SageMaker did not take stays with its run
        and is retried by the next dispatch: it is reported (once per run), not raised."""
        outcome = self.dispatcher.dispatch()
        self._report(outcome)
        return outcome

    def run_ended(self, execution_arn: str, status: str) -> DispatchOutcome:
        """A run's status event: free its slot (once, however often the event comes), then dispatch."""
        token = self.slots.token_of(execution_arn)
        if token is not None and self.slots.release(token, status, self._clock()):
            metrics.add_metric(name="SlotReleased", unit=MetricUnit.Count, value=1)
            logger.info("run ended: its slot is free", extra={"execution_arn": execution_arn, "status": status})
        return self.dispatch()

    def sweep(self) -> SweepOutcome:
        outcome = self.sweeper.sweep()
        for execution_arn in outcome.released:
            metrics.add_metric(name="SlotReleasedBySweep", unit=MetricUnit.Count, value=1)
            logger.warning(
                "the sweep freed the slot of a run whose end event never came", extra={"execution_arn": execution_arn}
            )
        if outcome.dispatched is not None:
            self._report(outcome.dispatched)
        return outcome

    def _report(self, outcome: DispatchOutcome) -> None:
        for run, execution_arn in outcome.started:
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
            self.notifier.publish(run_started(run, execution_arn))
        if outcome.not_started is not None:
            self._not_started(*outcome.not_started, permanent=False)
        if outcome.waiting:
            logger.info("pending objects wait", extra={"reason": outcome.waiting})

    def _dead_letter_run(self, run: PipelineRun, reason: str) -> None:
        """SageMaker refused the run for good: its objects go to the DLQ (so a redrive replays them)
        and are forgotten (so the replay records them again)."""
        if self._dead_letters is None:
            raise RuntimeError(f"no dead-letter queue configured for the objects of refused run: {reason}")
        self._dead_letters.put(notification_body([object_as_item(obj) for obj in run.objects]), reason)
        self.pending.forget(list(run.objects))
        metrics.add_metric(name="ObjectDeadLettered", unit=MetricUnit.Count, value=len(run.objects))
        self._not_started(run, reason, permanent=True)

    def _not_started(self, run: PipelineRun, reason: str, *, permanent: bool) -> None:
        metrics.add_metric(name="RunStartFailed", unit=MetricUnit.Count, value=1)
        logger.error(
            "could not start pipeline execution",
            extra={
                "objects": len(run.objects),
                "first_object": run.objects[0].uri,
                "client_request_token": run.client_request_token,
                "reason": reason,
                "permanent": permanent,
            },
        )
        if self.slots.claim_not_started_notice(run.client_request_token):
            self.notifier.publish(run_not_started(run, reason, permanent=permanent))
