"""The smoke check: staging's answers for rows of the run's own test split against the answers
Evaluate computed offline for the same rows. Pure logic: no AWS here.

A model that answers differently online than offline (another transform, another library, a
container that parses the rows otherwise) is stopped here, before prod.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MAX_LISTED_MISMATCHES = 3


@dataclass(frozen=True)
class SmokeSample:
    body: str  # the raw rows, as a caller would send them
    expected: tuple[str, ...]  # one answer per row, as the endpoint formats them
    content_type: str = "text/csv"
    accept: str = "text/csv"
    tolerance: float = 0.0  # relative, for numbers (regression); labels must be equal

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> SmokeSample:
        """smoke_check.json (pipeline/steps/reports.py names its keys)."""
        return cls(
            body=str(document["body"]),
            expected=tuple(str(answer) for answer in document["expected"]),
            content_type=str(document.get("content_type", "text/csv")),
            accept=str(document.get("accept", "text/csv")),
            tolerance=float(document.get("tolerance", 0.0)),
        )


def mismatch(sample: SmokeSample, answer: str) -> str | None:
    """Why the answer is not the expected one (None: it is), in one line."""
    answers = [line.strip() for line in answer.strip().splitlines()]
    if len(answers) != len(sample.expected):
        return f"{len(answers)} answers for {len(sample.expected)} rows"
    wrong = [
        (row, got, want)
        for row, (got, want) in enumerate(zip(answers, sample.expected, strict=True), start=1)
        if not _same(got, want, sample.tolerance)
    ]
    if not wrong:
        return None
    listed = "; ".join(
        f"row {row}: {got!r} online, {want!r} offline" for row, got, want in wrong[:MAX_LISTED_MISMATCHES]
    )
    more = f" and {len(wrong) - MAX_LISTED_MISMATCHES} more" if len(wrong) > MAX_LISTED_MISMATCHES else ""
    return f"{len(wrong)} of {len(answers)} answers differ from Evaluate's: {listed}{more}"


def _same(got: str, want: str, tolerance: float) -> bool:
    if got == want:
        return True
    try:
        online, offline = float(got), float(want)
    except ValueError:
        return False
    return math.isclose(online, offline, rel_tol=tolerance, abs_tol=tolerance)
