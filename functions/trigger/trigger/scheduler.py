"""The run scheduler as the functions use it: accept uploads, dispatch, end runs, sweep; and what
each outcome tells a person (a notification per run started or not started, a metric, a log line)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aws_lambda_powertools.metrics import MetricUnit

from trigger.adapters.notifications import NotificationTopic
from trigger.adapters.pipeline_executions import PipelineExecutions
from trigger.dispatch import Dispatcher, DispatchOutcome
from trigger.notifications import run_not_started, run_started
from trigger.observability import logger, metrics
from trigger.pending import PendingObjects, Recorded
from trigger.run_ledger import RUNNING, RunLedger
from trigger.runs import PipelineRun
from trigger.uploads import UploadedObject

STILL_GOING = frozenset({"Executing", "Stopping"})


@dataclass
class SweepOutcome:
    released: list[str] = field(default_factory=list)  # execution ARNs
    dispatched: DispatchOutcome | None = None


@dataclass
class RunScheduler:
    dispatcher: Dispatcher
    pending: PendingObjects
    ledger: RunLedger
    executions: PipelineExecutions
    topic: NotificationTopic
    clock: Callable[[], float]

    def accept(self, objects: list[UploadedObject]) -> Recorded:
        """Record each new object version once; raises if they could not be recorded (nothing is
        acknowledged then, and the queue redelivers)."""
        recorded = self.pending.record(objects, self.clock())
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
        token = self.ledger.token_of(execution_arn)
        if token is not None and self.ledger.mark_ended(token, status, self.clock()):
            metrics.add_metric(name="SlotReleased", unit=MetricUnit.Count, value=1)
            logger.info("run ended: its slot is free", extra={"execution_arn": execution_arn, "status": status})
        return self.dispatch()

    def sweep(self) -> SweepOutcome:
        """Runs SageMaker reports as ended free their slots even if their status event was lost;
        then what is pending is dispatched (which completes a run left half-started)."""
        outcome = SweepOutcome()
        for run in self.ledger.active_runs():
            arn = run.get("execution_arn")
            if run.get("state") != RUNNING or not arn:
                continue
            status = self.executions.status(str(arn))
            if status not in STILL_GOING and self.ledger.mark_ended(str(run["sk"]), status, self.clock()):
                outcome.released.append(str(arn))
                metrics.add_metric(name="SlotReleasedBySweep", unit=MetricUnit.Count, value=1)
                logger.warning(
                    "the sweep freed the slot of a run whose end event never came", extra={"execution_arn": arn}
                )
        outcome.dispatched = self.dispatch()
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
            self.topic.try_publish(run_started(run, execution_arn))
        if outcome.not_started is not None:
            self._not_started(*outcome.not_started, permanent=False)
        for run, reason in outcome.refused:
            metrics.add_metric(name="ObjectDeadLettered", unit=MetricUnit.Count, value=len(run.objects))
            self._not_started(run, reason, permanent=True)
        if outcome.waiting:
            logger.info("pending objects wait", extra={"reason": outcome.waiting})

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
        if self.ledger.claim_not_started_notice(run.client_request_token):
            self.topic.try_publish(run_not_started(run, reason, permanent=permanent))
