"""Dispatch: when a slot is free, one run takes every pending object (up to MaxObjectsPerRun).

The steps, each idempotent, in this order:

1. read the oldest pending entries; the run policy may say to wait (QuietSeconds, MaxWaitSeconds,
   MinSecondsBetweenRuns);
2. plan the run (planner.run_for: its ClientRequestToken is a digest of the objects) and write its
   manifest (same objects, same bytes, same key);
3. take a slot and record the run with its objects, in one transaction: from here the run is
   `dispatching` and whoever dispatches next completes it before anything else;
4. take its entries out of the pending set (deleting a deleted entry changes nothing);
5. StartPipelineExecution with the run's token (SageMaker returns the same execution for the same
   token);
6. record the ARN and free `dispatching`.

A crash anywhere leaves either nothing (before 3: the objects are still pending) or a dispatching
run that the next dispatch, the next status event or the sweep completes with the same token.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from trigger.planner import PipelineRun, UploadedObject
from trigger.scheduler.pending import PendingEntry, PendingObjects, object_as_item, object_from_item
from trigger.scheduler.slots import STARTING, Slots
from trigger.scheduler.table import SchedulerTable

# SageMaker's answers that no retry will change: the run is abandoned and its objects dead-lettered.
PERMANENT_START_ERRORS = frozenset({"ValidationException", "ResourceNotFound", "AccessDeniedException"})
# A run's item holds its objects and must stay under DynamoDB's 400 KB item limit: a run takes
# pending objects only up to this many bytes of keys (at 1 KB per key, the S3 maximum, about 250).
MAX_RUN_KEY_BYTES = 250_000


@dataclass(frozen=True)
class RunPolicy:
    max_objects_per_run: int = 1000
    quiet_seconds: float = 0  # start only when nothing new arrived for this long ...
    max_wait_seconds: float = 900  # ... unless the oldest pending object has waited this long
    min_seconds_between_runs: float = 0

    def reason_to_wait(self, oldest: float, newest: float, last_started: float | None, now: float) -> str | None:
        if last_started is not None and now - last_started < self.min_seconds_between_runs:
            return f"MinSecondsBetweenRuns: the last run started {now - last_started:.0f} s ago"
        if self.quiet_seconds > 0 and now - newest < self.quiet_seconds and now - oldest < self.max_wait_seconds:
            return f"QuietSeconds: the newest object arrived {now - newest:.0f} s ago"
        return None


@dataclass
class DispatchOutcome:
    started: list[tuple[PipelineRun, str]] = field(default_factory=list)
    waiting: str | None = None  # why pending objects were left pending
    abandoned: list[tuple[PipelineRun, str]] = field(default_factory=list)
    # SageMaker did not start this run this time: it stays `starting`, and the next dispatch
    # tries it again with its token before anything else.
    not_started: tuple[PipelineRun, str] | None = None


class Dispatcher:
    def __init__(
        self,
        *,
        table: SchedulerTable,
        pending: PendingObjects,
        slots: Slots,
        plan: Callable[[list[UploadedObject]], PipelineRun],
        write_manifest: Callable[[PipelineRun], None],
        start: Callable[[dict[str, Any]], str],
        policy: RunPolicy,
        abandon: Callable[[PipelineRun, str], None] = lambda run, reason: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``abandon`` takes care of the objects of a run SageMaker refused for good (it puts them in
        the dead-letter queue); it runs before the run is marked failed, so a crash repeats it."""
        self._table = table
        self._pending = pending
        self._slots = slots
        self._plan = plan
        self._write_manifest = write_manifest
        self._start = start
        self._abandon = abandon
        self.policy = policy
        self._clock = clock

    def dispatch(self) -> DispatchOutcome:
        """Complete a run left dispatching, then start runs while slots are free and objects pend."""
        outcome = DispatchOutcome()
        state = self._slots.state()
        if state.dispatching and not self._resume(state.dispatching, outcome):
            return outcome
        while True:
            entries = self._pending.oldest(self.policy.max_objects_per_run)
            if not entries:
                return outcome
            if not self._slots.free():
                outcome.waiting = "every slot is taken (MaxConcurrentExecutions)"
                return outcome
            now = self._clock()
            last_started = self._slots.state().last_started_at
            newest = self._pending.newest_arrival() or entries[-1].arrived_at
            wait = self.policy.reason_to_wait(entries[0].arrived_at, newest, last_started, now)
            if wait:
                outcome.waiting = wait
                return outcome
            if not self._start_new(entries, now, outcome):
                return outcome

    def _start_new(self, entries: list[PendingEntry], now: float, outcome: DispatchOutcome) -> bool:
        entries = one_run_of(entries)
        run = self._plan([entry.object for entry in entries])
        self._write_manifest(run)
        record = {**run.as_record(), "objects": [object_as_item(obj) for obj in run.objects]}
        sks = [entry.sk for entry in entries]
        if not self._slots.acquire(record, sks, now):
            outcome.waiting = "every slot is taken (MaxConcurrentExecutions) or another run is being started"
            return False
        return self._complete(run, sks, outcome)

    def _resume(self, token: str, outcome: DispatchOutcome) -> bool:
        stored = self._slots.run(token)
        if stored is None or stored.get("state") != STARTING:
            return True
        run = self._plan([object_from_item(item) for item in stored["record"]["objects"]])
        if run.client_request_token != token:
            raise RuntimeError(f"run {token} re-planned as {run.client_request_token}: the planner changed")
        self._write_manifest(run)
        return self._complete(run, list(stored["sks"]), outcome)

    def _complete(self, run: PipelineRun, sks: list[str], outcome: DispatchOutcome) -> bool:
        """Steps 4 to 6; False when SageMaker did not start the run this time (dispatch stops there)."""
        token = run.client_request_token
        self._pending.remove(sks)
        try:
            execution_arn = self._start(run.as_record())
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code not in PERMANENT_START_ERRORS:
                outcome.not_started = (run, str(error))
                outcome.waiting = f"SageMaker did not start run {token}; it is tried again first"
                return False
            self._abandon(run, str(error))
            if self._slots.abandon(token, str(error), self._clock()):
                outcome.abandoned.append((run, str(error)))
            return True
        if self._slots.mark_started(token, execution_arn, self._clock()):
            outcome.started.append((run, execution_arn))
        return True


def one_run_of(entries: list[PendingEntry]) -> list[PendingEntry]:
    """The oldest entries that fit one run: all from the bucket of the oldest (a run reads one
    bucket), and no more key bytes than the run's item can hold."""
    bucket = entries[0].object.bucket
    taken: list[PendingEntry] = []
    size = 0
    for entry in entries:
        if entry.object.bucket != bucket:
            continue
        size += len(entry.object.key.encode("utf-8")) + len(entry.sk)
        if taken and size > MAX_RUN_KEY_BYTES:
            break
        taken.append(entry)
    return taken
