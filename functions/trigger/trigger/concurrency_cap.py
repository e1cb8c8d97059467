"""The concurrency cap: at most MaxConcurrentExecutions runs of a pipeline at once, and one
dispatcher at a time, enforced by one DynamoDB item per pipeline (`slots#<pipeline>`).

The item holds `running` (slots taken), `dispatching` (a dispatcher's claim, then the token of the
run it records, while a run is being started) and `last_started_at`. A dispatcher takes a slot
and its claim in one conditional update *before* it reads what is pending, so two dispatchers can
never build runs from the same pending entries. The run ledger hands the claim over to a run in
the same transaction that records the run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from trigger.adapters.scheduler_table import SchedulerTable, key, to_values
from trigger.errors import WriteConflict

CLAIM_PREFIX = "claim#"


@dataclass(frozen=True)
class CapState:
    running: int
    dispatching: str | None  # a claim (CLAIM_PREFIX...) or the token of the run being started
    last_started_at: float | None


def new_claim() -> str:
    return CLAIM_PREFIX + uuid.uuid4().hex


def is_claim(dispatching: str) -> bool:
    return dispatching.startswith(CLAIM_PREFIX)


class ConcurrencyCap:
    def __init__(self, table: SchedulerTable, pipeline_name: str, cap: int) -> None:
        self._table = table
        self._cap = cap  # 0: no cap
        self._key = key(f"slots#{pipeline_name}", "slots")

    def state(self) -> CapState:
        values = self._table.get(self._key) or {}
        last = values.get("last_started_at")
        return CapState(int(values.get("running", 0)), values.get("dispatching"), float(last) if last else None)

    def has_room(self, state: CapState) -> bool:
        """Whether a run could take a slot now (take still decides, atomically)."""
        return not state.dispatching and (not self._cap or state.running < self._cap)

    def take(self, claim: str) -> bool:
        """Take a slot and the right to dispatch; False when every slot is taken or another
        dispatcher holds it."""
        condition = "attribute_not_exists(dispatching)"
        values: dict[str, Any] = {":zero": 0, ":one": 1, ":claim": claim}
        if self._cap:
            condition += " AND (attribute_not_exists(running) OR running < :cap)"
            values[":cap"] = self._cap
        try:
            self._table.update(
                self._key,
                UpdateExpression="SET running = if_not_exists(running, :zero) + :one, dispatching = :claim",
                ConditionExpression=condition,
                ExpressionAttributeValues=to_values(values),
            )
        except WriteConflict:
            return False
        return True

    def give_back(self, claim: str) -> bool:
        """Nothing to start after all: the claim's slot is free again (False if it was handed over)."""
        try:
            self._table.update(self._key, **_held_by(claim, "REMOVE dispatching SET running = running - :one", one=1))
        except WriteConflict:
            return False
        return True

    # The parts of the run ledger's transactions that touch this item.
    def hand_over(self, claim: str, token: str) -> dict[str, Any]:
        """The claim becomes the run's: the run is being started."""
        return self._in_transaction(_held_by(claim, "SET dispatching = :token", token=token))

    def started(self, token: str, now: float) -> dict[str, Any]:
        return self._in_transaction(_held_by(token, "REMOVE dispatching SET last_started_at = :now", now=now))

    def refused(self, token: str) -> dict[str, Any]:
        """The run SageMaker refused for good gives its slot back."""
        return self._in_transaction(_held_by(token, "REMOVE dispatching SET running = running - :one", one=1))

    def freed(self) -> dict[str, Any]:
        """A run that ended gives its slot back."""
        return self._in_transaction(
            {
                "UpdateExpression": "SET running = running - :one",
                "ConditionExpression": "running > :zero",
                "ExpressionAttributeValues": to_values({":one": 1, ":zero": 0}),
            }
        )

    def _in_transaction(self, update: dict[str, Any]) -> dict[str, Any]:
        return {"Update": {"TableName": self._table.name, "Key": self._key, **update}}


def _held_by(holder: str, expression: str, **values: Any) -> dict[str, Any]:
    """An update that happens only while ``holder`` (a claim or a run's token) is dispatching."""
    return {
        "UpdateExpression": expression,
        "ConditionExpression": "dispatching = :holder",
        "ExpressionAttributeValues": to_values({":holder": holder, **{f":{name}": v for name, v in values.items()}}),
    }
