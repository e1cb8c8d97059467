"""The coalescing rule: which pending uploads the next run takes, or why they wait. Pure logic:
pending entries + policy + now -> the next run's entries, or a reason to wait.

One run takes every pending upload of one bucket, oldest first, up to MaxObjectsPerRun; the
policy may hold it back (QuietSeconds, MaxWaitSeconds, MinSecondsBetweenRuns).
"""

from __future__ import annotations

from dataclasses import dataclass

from trigger.uploads import UploadedObject

# A run's item holds its objects and must stay under DynamoDB's 400 KB item limit: a run takes
# pending objects only up to this many bytes of keys (at 1 KB per key, the S3 maximum, about 250).
MAX_RUN_KEY_BYTES = 250_000
NOTHING_PENDING = "nothing is pending"


@dataclass(frozen=True)
class PendingEntry:
    sk: str  # sorts by arrival
    object: UploadedObject
    arrived_at: float


@dataclass(frozen=True)
class RunPolicy:
    max_objects_per_run: int = 1000
    quiet_seconds: float = 0  # start only when nothing new arrived for this long ...
    max_wait_seconds: float = 900  # ... unless the oldest pending object has waited this long
    min_seconds_between_runs: float = 0


@dataclass(frozen=True)
class Wait:
    reason: str


def next_run(
    oldest: list[PendingEntry], *, newest_arrival: float, last_started: float | None, now: float, policy: RunPolicy
) -> list[PendingEntry] | Wait:
    """The entries the next run takes, from the oldest pending ones (at most MaxObjectsPerRun, in
    arrival order), or why it waits."""
    if not oldest:
        return Wait(NOTHING_PENDING)
    if last_started is not None and now - last_started < policy.min_seconds_between_runs:
        return Wait(f"MinSecondsBetweenRuns: the last run started {now - last_started:.0f} s ago")
    waited = now - oldest[0].arrived_at
    if policy.quiet_seconds > 0 and now - newest_arrival < policy.quiet_seconds and waited < policy.max_wait_seconds:
        return Wait(f"QuietSeconds: the newest object arrived {now - newest_arrival:.0f} s ago")
    return _one_run_of(oldest[: policy.max_objects_per_run])


def _one_run_of(entries: list[PendingEntry]) -> list[PendingEntry]:
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
