"""The slots: at most MaxConcurrentExecutions runs of a pipeline at once, enforced by DynamoDB.

One item per pipeline (`slots#<pipeline>`) holds `running` (how many slots are taken),
`dispatching` (the token of the run being started, while it is) and `last_started_at`. Each run
has an item (`run#<pipeline>`, sort key = its ClientRequestToken) that moves
starting -> running -> ended (or failed). Every change to both is one transaction with conditions,
so concurrent dispatchers can never take more slots than there are, and releasing a run twice
(its status event, then the sweep) frees one slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from trigger.scheduler.table import KEEP_SECONDS, SchedulerTable, from_item, key, to_value

STARTING, RUNNING, ENDED, FAILED = "starting", "running", "ended", "failed"


@dataclass(frozen=True)
class SlotState:
    running: int
    dispatching: str | None
    last_started_at: float | None


def _cancelled(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in {
        "TransactionCanceledException",
        "ConditionalCheckFailedException",
    }


class Slots:
    def __init__(self, table: SchedulerTable, pipeline_name: str, cap: int) -> None:
        self._table = table
        self._pipeline = pipeline_name
        self._cap = cap  # 0: no cap
        self._slots_key = key(f"slots#{pipeline_name}", "slots")
        self._runs_pk = f"run#{pipeline_name}"

    def state(self) -> SlotState:
        item = self._table.client.get_item(TableName=self._table.name, Key=self._slots_key, ConsistentRead=True)
        values = from_item(item.get("Item", {}))
        last = values.get("last_started_at")
        return SlotState(int(values.get("running", 0)), values.get("dispatching"), float(last) if last else None)

    def free(self) -> bool:
        """Whether a run could take a slot now (acquire still decides, atomically)."""
        state = self.state()
        return not state.dispatching and (not self._cap or state.running < self._cap)

    def acquire(self, run: dict[str, Any], sks: list[str], now: float) -> bool:
        """Take a slot for this run and remember what it takes; False when every slot is taken or a
        run is being started."""
        token = run["client_request_token"]
        condition = "attribute_not_exists(dispatching)"
        values: dict[str, Any] = {":zero": to_value(0), ":one": to_value(1), ":token": to_value(token)}
        if self._cap:
            condition += " AND (attribute_not_exists(running) OR running < :cap)"
            values[":cap"] = to_value(self._cap)
        item = {
            "pk": self._runs_pk,
            "sk": token,
            "state": STARTING,
            "record": run,
            "sks": sks,
            "created_at": now,
            "expires_at": int(now) + KEEP_SECONDS,
        }
        try:
            self._table.transact(
                [
                    {
                        "Update": {
                            "TableName": self._table.name,
                            "Key": self._slots_key,
                            "UpdateExpression": (
                                "SET running = if_not_exists(running, :zero) + :one, dispatching = :token"
                            ),
                            "ConditionExpression": condition,
                            "ExpressionAttributeValues": values,
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table.name,
                            "Item": {name: to_value(value) for name, value in item.items()},
                            # A run SageMaker refused for good may be tried again once its
                            # objects are redriven from the dead-letter queue.
                            "ConditionExpression": "attribute_not_exists(pk) OR #state = :failed",
                            "ExpressionAttributeNames": {"#state": "state"},
                            "ExpressionAttributeValues": {":failed": to_value(FAILED)},
                        }
                    },
                ]
            )
        except ClientError as error:
            if _cancelled(error):
                return False
            raise
        return True

    def run(self, token: str) -> dict[str, Any] | None:
        item = self._table.client.get_item(
            TableName=self._table.name, Key=key(self._runs_pk, token), ConsistentRead=True
        ).get("Item")
        return from_item(item) if item else None

    def mark_started(self, token: str, execution_arn: str, now: float) -> bool:
        """starting -> running with its ARN, and the pipeline is free to start the next; False if done before."""
        return self._finish_dispatch(
            token,
            run_update="SET #state = :running, execution_arn = :arn, started_at = :now",
            run_values={":running": RUNNING, ":arn": execution_arn, ":now": now},
            slots_update="REMOVE dispatching SET last_started_at = :now",
        )

    def abandon(self, token: str, reason: str, now: float) -> bool:
        """starting -> failed (SageMaker refused it for good): its slot is free again."""
        return self._finish_dispatch(
            token,
            run_update="SET #state = :failed, reason = :reason, ended_at = :now",
            run_values={":failed": FAILED, ":reason": reason, ":now": now},
            slots_update="REMOVE dispatching SET running = running - :one",
        )

    def _finish_dispatch(self, token: str, run_update: str, run_values: dict[str, Any], slots_update: str) -> bool:
        try:
            self._table.transact(
                [
                    {
                        "Update": {
                            "TableName": self._table.name,
                            "Key": key(self._runs_pk, token),
                            "UpdateExpression": run_update,
                            "ConditionExpression": "#state = :starting",
                            "ExpressionAttributeNames": {"#state": "state"},
                            "ExpressionAttributeValues": {
                                name: to_value(value) for name, value in {**run_values, ":starting": STARTING}.items()
                            },
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table.name,
                            "Key": self._slots_key,
                            "UpdateExpression": slots_update,
                            "ConditionExpression": "dispatching = :token",
                            "ExpressionAttributeValues": {
                                ":token": to_value(token),
                                ":now": to_value(run_values[":now"]),
                                **({":one": to_value(1)} if ":one" in slots_update else {}),
                            },
                        }
                    },
                ]
            )
        except ClientError as error:
            if _cancelled(error):
                return False
            raise
        return True

    def release(self, token: str, status: str, now: float) -> bool:
        """running -> ended: its slot is free. Idempotent: False if it was released before."""
        try:
            self._table.transact(
                [
                    {
                        "Update": {
                            "TableName": self._table.name,
                            "Key": key(self._runs_pk, token),
                            "UpdateExpression": "SET #state = :ended, execution_status = :status, ended_at = :now",
                            "ConditionExpression": "#state = :running",
                            "ExpressionAttributeNames": {"#state": "state"},
                            "ExpressionAttributeValues": {
                                ":ended": to_value(ENDED),
                                ":running": to_value(RUNNING),
                                ":status": to_value(status),
                                ":now": to_value(now),
                            },
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table.name,
                            "Key": self._slots_key,
                            "UpdateExpression": "SET running = running - :one",
                            "ConditionExpression": "running > :zero",
                            "ExpressionAttributeValues": {":one": to_value(1), ":zero": to_value(0)},
                        }
                    },
                ]
            )
        except ClientError as error:
            if _cancelled(error):
                return False
            raise
        return True

    def active_runs(self) -> list[dict[str, Any]]:
        """The runs being started or running (ended ones are kept a while, and skipped)."""
        return [
            run
            for run in self._table.query(
                self._runs_pk,
                FilterExpression="#state IN (:starting, :running)",
                ExpressionAttributeNames={"#state": "state"},
                values={":starting": to_value(STARTING), ":running": to_value(RUNNING)},
            )
        ]

    def token_of(self, execution_arn: str) -> str | None:
        for run in self.active_runs():
            if run.get("execution_arn") == execution_arn:
                return str(run["sk"])
        return None

    def claim_not_started_notice(self, token: str) -> bool:
        """True once per run: the caller then sends its one "Retraining NOT started"."""
        try:
            self._table.client.update_item(
                TableName=self._table.name,
                Key=key(self._runs_pk, token),
                UpdateExpression="SET not_started_notified = :yes",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(not_started_notified)",
                ExpressionAttributeValues={":yes": to_value(True)},
            )
        except ClientError as error:
            if _cancelled(error):
                return False
            raise
        return True
