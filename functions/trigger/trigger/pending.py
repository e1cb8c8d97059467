"""The pending set: accepted object versions that no run has taken yet.

Recording is one transaction per 50 objects: for each, a conditional put of its object record
(`attribute_not_exists`: a version seen before is a duplicate and writes nothing) and a put of its
entry in the pipeline's pending partition. Entries sort by arrival, so a run takes the oldest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from trigger.adapters.scheduler_table import MAX_TRANSACTION_ITEMS, SchedulerTable, key, to_item
from trigger.coalescing import PendingEntry
from trigger.errors import WriteConflict
from trigger.uploads import UploadedObject

OBJECTS_PER_TRANSACTION = MAX_TRANSACTION_ITEMS // 2  # an object record and a pending entry each
KEEP_SECONDS = 30 * 24 * 3600  # object and run records: replays within 30 days start nothing new


def object_pk(obj: UploadedObject) -> str:
    return "object#" + obj.identity


def entry_sk(obj: UploadedObject, arrived_at: float) -> str:
    """Arrival time first (sortable), then a digest of the version: unique, and at most 60 characters."""
    digest = hashlib.sha256(object_pk(obj).encode("utf-8")).hexdigest()[:24]
    return f"{arrived_at:017.6f}#{digest}"


@dataclass
class Recorded:
    new: list[UploadedObject] = field(default_factory=list)
    duplicates: list[UploadedObject] = field(default_factory=list)


class PendingObjects:
    def __init__(self, table: SchedulerTable, pipeline_name: str) -> None:
        self._table = table
        self._pipeline = pipeline_name
        self.pk = f"pending#{pipeline_name}"

    def record(self, objects: list[UploadedObject], now: float) -> Recorded:
        """Each new object version joins the pending set once; the others are reported as duplicates."""
        outcome = Recorded()
        unique = list({object_pk(obj): obj for obj in objects}.values())
        for start in range(0, len(unique), OBJECTS_PER_TRANSACTION):
            chunk = unique[start : start + OBJECTS_PER_TRANSACTION]
            while chunk:
                try:
                    self._table.transact([item for obj in chunk for item in self._writes(obj, now)])
                except WriteConflict as conflict:
                    seen = [obj for n, obj in enumerate(chunk) if _failed(conflict, 2 * n)]
                    if not seen:
                        raise
                    outcome.duplicates.extend(seen)
                    chunk = [obj for obj in chunk if obj not in seen]
                    continue
                outcome.new.extend(chunk)
                break
        return outcome

    def _writes(self, obj: UploadedObject, now: float) -> list[dict[str, Any]]:
        record = {
            "pk": object_pk(obj),
            "sk": "object",
            "recorded_at": now,
            "pipeline": self._pipeline,
            "expires_at": int(now) + KEEP_SECONDS,
        }
        entry = {"pk": self.pk, "sk": entry_sk(obj, now), "arrived_at": now, **obj.as_item()}
        return [
            {
                "Put": {
                    "TableName": self._table.name,
                    "Item": to_item(record),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": {"TableName": self._table.name, "Item": to_item(entry)}},
        ]

    def oldest(self, limit: int) -> list[PendingEntry]:
        """The pending entries in arrival order, at most ``limit``."""
        return [_entry(item) for item in self._table.query(self.pk, limit=limit)]

    def count(self) -> int:
        """How many objects are pending."""
        return self._table.count(self.pk)

    def newest_arrival(self) -> float | None:
        items = list(self._table.query(self.pk, limit=1, ScanIndexForward=False))
        return float(items[0]["arrived_at"]) if items else None

    def forget(self, objects: list[UploadedObject]) -> int:
        """Forget that these versions were seen (their run was refused for good): once redriven
        from the dead-letter queue, they are recorded again. Returns the calls."""
        return self._table.delete_all([key(object_pk(obj), "object") for obj in objects])

    def remove(self, sks: list[str]) -> int:
        """Take these entries out of the set (idempotent: a deleted one stays deleted); returns the calls."""
        return self._table.delete_all([key(self.pk, sk) for sk in sks])


def _entry(item: dict[str, Any]) -> PendingEntry:
    return PendingEntry(sk=item["sk"], object=UploadedObject.from_item(item), arrived_at=float(item["arrived_at"]))


def _failed(conflict: WriteConflict, index: int) -> bool:
    return index < len(conflict.reasons) and conflict.reasons[index] == "ConditionalCheckFailed"
