"""Dispatch: start what the coalescing rule allows, one resumable step at a time. It acts; what
to start is decided by coalescing.next_run, and what a run is by runs.run_for.

1. take a slot and the right to dispatch (the concurrency cap's claim), then read what is pending;
2. plan the run (its ClientRequestToken is a digest of its objects) and write its manifest;
3. record the run in the ledger as `starting`, handing the claim over to it, in one transaction:
   a dispatcher that lost its claim records nothing, so no upload is in two runs;
4. take its entries out of the pending set (deleting a deleted entry changes nothing);
5. StartPipelineExecution with the run's token (SageMaker returns the same execution for the same token);
6. mark it `running` with its ARN, which frees the right to dispatch.

A crash anywhere leaves a claim or a `starting` run that the next dispatch, status event or sweep
completes (the same objects give the same token).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from trigger.adapters.data_listing import DataListing
from trigger.adapters.dead_letters import DeadLetters
from trigger.adapters.manifests import ManifestStore
from trigger.adapters.pipeline_executions import PipelineExecutions
from trigger.coalescing import NOTHING_PENDING, PendingEntry, RunPolicy, Wait, next_run
from trigger.concurrency_cap import CapState, ConcurrencyCap, is_claim, new_claim
from trigger.errors import StartDeferred, StartRefused
from trigger.events import notification_body
from trigger.parameter_mapping import MappingError
from trigger.pending import PendingObjects
from trigger.pipeline_check import PipelineCheck
from trigger.run_ledger import STARTING, RunLedger
from trigger.run_requests import run_request_body
from trigger.runs import ListedObject, PipelineRun, RunShape, lists_the_prefix, run_for
from trigger.uploads import UploadedObject


@dataclass
class DispatchOutcome:
    started: list[tuple[PipelineRun, str]] = field(default_factory=list)
    waiting: str | None = None  # why pending objects were left pending
    # SageMaker did not start this run this time: it stays `starting`, and the next dispatch
    # tries it again with its token before anything else.
    not_started: tuple[PipelineRun, str] | None = None
    # SageMaker (or the pipeline check) refused these for good: their uploads are in the DLQ.
    refused: list[tuple[PipelineRun, str]] = field(default_factory=list)


@dataclass
class Dispatcher:
    pending: PendingObjects
    cap: ConcurrencyCap
    ledger: RunLedger
    executions: PipelineExecutions
    manifests: ManifestStore
    dead_letters: DeadLetters | None
    check: PipelineCheck
    shape: RunShape
    policy: RunPolicy
    clock: Callable[[], float]
    listing: DataListing | None = None  # AllObjects runs told their size (runs.lists_the_prefix)

    def dispatch(self) -> DispatchOutcome:
        """Complete a run left half-started, then start runs while slots are free and objects pend."""
        outcome = DispatchOutcome()
        while self._next(outcome):
            pass
        return outcome

    def _next(self, outcome: DispatchOutcome) -> bool:
        """One step; True when another may follow."""
        state = self.cap.state()
        if state.dispatching:
            return self._resume(state.dispatching, outcome)
        decision = self._decide(state)
        if isinstance(decision, Wait):
            outcome.waiting = outcome.waiting or (None if decision.reason == NOTHING_PENDING else decision.reason)
            return False
        if not self.cap.has_room(state) or not self.cap.take(claim := new_claim()):
            outcome.waiting = "every slot is taken (MaxConcurrentExecutions) or another run is being started"
            return False
        return self._claimed(claim, outcome)

    def _decide(self, state: CapState) -> list[PendingEntry] | Wait:
        oldest = self.pending.oldest(self.policy.max_objects_per_run)
        if not oldest:
            return Wait(NOTHING_PENDING)
        newest = self.pending.newest_arrival() or oldest[-1].arrived_at
        return next_run(
            oldest, newest_arrival=newest, last_started=state.last_started_at, now=self.clock(), policy=self.policy
        )

    def _claimed(self, claim: str, outcome: DispatchOutcome) -> bool:
        """Under the claim, read what is pending again: no other dispatcher can take it now."""
        decision = self._decide(self.cap.state())
        if isinstance(decision, Wait):
            self.cap.give_back(claim)
            if decision.reason != NOTHING_PENDING:
                outcome.waiting = decision.reason
            return False
        try:
            objects = [entry.object for entry in decision]
            run = run_for(objects, self.shape, self._listed(objects))
        except MappingError as error:  # a run of several objects can render longer than any one of them
            self._dead_letter([entry.object for entry in decision], str(error))
            self.pending.remove([entry.sk for entry in decision])
            self.cap.give_back(claim)
            return True
        self.manifests.write(run)
        sks = [entry.sk for entry in decision]
        if not self.ledger.record(run, sks, claim, self.clock()):
            outcome.waiting = "another dispatcher is starting a run"
            return False
        return self._complete(run, sks, outcome)

    def _resume(self, dispatching: str, outcome: DispatchOutcome) -> bool:
        if is_claim(dispatching):
            return self._claimed(dispatching, outcome)
        stored = self.ledger.run(dispatching)
        if stored is None or stored.get("state") != STARTING:
            outcome.waiting = f"run {dispatching} is being started"
            return False
        objects = [UploadedObject.from_item(item) for item in stored["record"]["objects"]]
        run = run_for(objects, self.shape, self._listed(objects))
        if run.client_request_token != dispatching:
            raise RuntimeError(f"run {dispatching} re-planned as {run.client_request_token}: the planner changed")
        self.manifests.write(run)
        return self._complete(run, list(stored["sks"]), outcome)

    def _listed(self, objects: list[UploadedObject]) -> tuple[ListedObject, ...]:
        """For a run that reads the whole prefix and is told its size or given a manifest, what is under
        the prefix now (listed once, here)."""
        if self.listing is None or not lists_the_prefix(self.shape, objects):
            return ()
        return self.listing.objects_under(objects[0].bucket, self.shape.data_prefix)

    def _complete(self, run: PipelineRun, sks: list[str], outcome: DispatchOutcome) -> bool:
        """Steps 4 to 6; False when SageMaker did not start the run this time (dispatch stops there)."""
        token = run.client_request_token
        self.pending.remove(sks)
        try:
            self.check.ensure()
            execution_arn = self.executions.start(run)
        except StartDeferred as deferred:
            outcome.not_started = (run, str(deferred))
            outcome.waiting = f"SageMaker did not start run {token}; it is tried again first"
            return False
        except StartRefused as refused:
            # Into the DLQ before the run is marked failed: a crash in between repeats this.
            self._dead_letter(list(run.objects), str(refused))
            if self.ledger.mark_refused(token, str(refused), self.clock()):
                outcome.refused.append((run, str(refused)))
            return True
        if self.ledger.mark_started(token, execution_arn, self.clock()):
            outcome.started.append((run, execution_arn))
        return True

    def _dead_letter(self, objects: list[UploadedObject], reason: str) -> None:
        """Uploads no run can take go to the DLQ as an S3 notification (so a redrive replays them)
        and are forgotten (so the replay records them again)."""
        if self.dead_letters is None:
            raise RuntimeError(f"no dead-letter queue configured for the uploads of a refused run: {reason}")
        uploads = [obj for obj in objects if not obj.covers_prefix]
        requests = [obj for obj in objects if obj.covers_prefix]
        if uploads:
            self.dead_letters.put(notification_body([obj.as_item() for obj in uploads]), reason)
        if requests:  # a request on TrainingData's objects goes back as itself, so a redrive replays it
            self.dead_letters.put(run_request_body(requests), reason)
        self.pending.forget(objects)
