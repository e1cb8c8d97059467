"""The sweep: runs SageMaker reports as ended free their slots even if their status event was lost.

Called on a schedule (and usable by hand). It completes a run left dispatching, releases the slot
of every run whose execution is no longer Executing or Stopping, then dispatches.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from trigger.scheduler.dispatch import Dispatcher, DispatchOutcome
from trigger.scheduler.slots import RUNNING, Slots

STILL_GOING = frozenset({"Executing", "Stopping"})


@dataclass
class SweepOutcome:
    released: list[str] = field(default_factory=list)  # execution ARNs
    dispatched: DispatchOutcome | None = None


class Sweeper:
    def __init__(
        self,
        *,
        slots: Slots,
        dispatcher: Dispatcher,
        execution_status: Callable[[str], str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._slots = slots
        self._dispatcher = dispatcher
        self._status = execution_status
        self._clock = clock

    def sweep(self) -> SweepOutcome:
        outcome = SweepOutcome()
        for run in self._slots.active_runs():
            arn = run.get("execution_arn")
            if run.get("state") != RUNNING or not arn:
                continue
            status = self._status(str(arn))
            if status not in STILL_GOING and self._slots.release(str(run["sk"]), status, self._clock()):
                outcome.released.append(str(arn))
        outcome.dispatched = self._dispatcher.dispatch()
        return outcome
