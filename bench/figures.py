"""A measured figure: a value, its baseline from the same run, and their ratio."""

from __future__ import annotations

import statistics
import subprocess
import time
from dataclasses import asdict, dataclass
from typing import Any


def median_process_seconds(command: list[str], runs: int, **options: Any) -> float:
    """The median wall time of ``runs`` fresh processes of ``command`` (its output discarded)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, **options)  # noqa: S603 - the bench's own commands
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@dataclass(frozen=True)
class Figure:
    name: str
    what: str
    value: float
    baseline: float
    unit: str
    goal: float | None  # the ratio (or the value, see goal_on) should be at most this; None: no goal
    goal_on: str = "ratio"

    @property
    def ratio(self) -> float:
        return self.value / self.baseline

    @property
    def verdict(self) -> str:
        if self.goal is None:
            return "-"
        measured = self.ratio if self.goal_on == "ratio" else self.value
        return "meets goal" if measured <= self.goal else "MISSES goal"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "verdict": self.verdict}
