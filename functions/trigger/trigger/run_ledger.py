"""The run ledger: every run of the pipeline, by its ClientRequestToken (`run#<pipeline>`).

A run moves starting -> running -> ended, or starting -> failed when SageMaker refused it for
good. Each move is one transaction with the concurrency cap's item, so a slot is taken and given
back exactly once however often a status event comes. The ledger also remembers that a run's one
"Retraining NOT started" notice was sent.
"""

from __future__ import annotations

from typing import Any

from trigger.adapters.scheduler_table import SchedulerTable, key, to_item, to_values
from trigger.concurrency_cap import ConcurrencyCap
from trigger.errors import WriteConflict
from trigger.pending import KEEP_SECONDS
from trigger.runs import PipelineRun

STARTING, RUNNING, ENDED, FAILED = "starting", "running", "ended", "failed"


class RunLedger:
    def __init__(self, table: SchedulerTable, pipeline_name: str, cap: ConcurrencyCap) -> None:
        self._table = table
        self._cap = cap
        self._pk = f"run#{pipeline_name}"

    def record(self, run: PipelineRun, sks: list[str], claim: str, now: float) -> bool:
        """The run, with what it takes, joins the ledger as `starting` and the dispatcher's claim
        becomes the run's; False if the claim was no longer held (another dispatcher took over)."""
        token = run.client_request_token
        item = {
            "pk": self._pk,
            "sk": token,
            "state": STARTING,
            "record": {**run.as_record(), "objects": [obj.as_item() for obj in run.objects]},
            "sks": sks,
            "created_at": now,
            "expires_at": int(now) + KEEP_SECONDS,
        }
        put = {
            "Put": {
                "TableName": self._table.name,
                "Item": to_item(item),
                # A run SageMaker refused for good may be tried again once its objects are redriven.
                "ConditionExpression": "attribute_not_exists(pk) OR #state = :failed",
                "ExpressionAttributeNames": {"#state": "state"},
                "ExpressionAttributeValues": to_values({":failed": FAILED}),
            }
        }
        return self._transact(self._cap.hand_over(claim, token), put)

    def run(self, token: str) -> dict[str, Any] | None:
        return self._table.get(key(self._pk, token))

    def mark_started(self, token: str, execution_arn: str, now: float) -> bool:
        """starting -> running with its ARN; the pipeline is free to start the next. False if done before."""
        update = self._move(
            token, STARTING, "SET #state = :to, execution_arn = :arn, started_at = :now", to=RUNNING, arn=execution_arn
        )
        return self._transact(self._with_now(update, now), self._cap.started(token, now))

    def mark_refused(self, token: str, reason: str, now: float) -> bool:
        """starting -> failed (SageMaker refused it for good): its slot is free again."""
        update = self._move(
            token, STARTING, "SET #state = :to, reason = :reason, ended_at = :now", to=FAILED, reason=reason
        )
        return self._transact(self._with_now(update, now), self._cap.refused(token))

    def mark_ended(self, token: str, status: str, now: float) -> bool:
        """running -> ended: its slot is free. Idempotent: False if it was released before."""
        update = self._move(
            token, RUNNING, "SET #state = :to, execution_status = :status, ended_at = :now", to=ENDED, status=status
        )
        return self._transact(self._with_now(update, now), self._cap.freed())

    def active_runs(self) -> list[dict[str, Any]]:
        """The runs being started or running (ended ones are kept a while, and skipped)."""
        return list(
            self._table.query(
                self._pk,
                FilterExpression="#state IN (:starting, :running)",
                ExpressionAttributeNames={"#state": "state"},
                values=to_values({":starting": STARTING, ":running": RUNNING}),
            )
        )

    def token_of(self, execution_arn: str) -> str | None:
        for run in self.active_runs():
            if run.get("execution_arn") == execution_arn:
                return str(run["sk"])
        return None

    def run_of(self, execution_arn: str) -> dict[str, Any] | None:
        """The run SageMaker knows by this ARN, in whatever state."""
        for run in self._table.query(
            self._pk, FilterExpression="execution_arn = :arn", values=to_values({":arn": execution_arn})
        ):
            return run
        return None

    def claim_not_started_notice(self, token: str) -> bool:
        """True once per run: the caller then sends its one "Retraining NOT started"."""
        try:
            self._table.update(
                key(self._pk, token),
                UpdateExpression="SET not_started_notified = :yes",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(not_started_notified)",
                ExpressionAttributeValues=to_values({":yes": True}),
            )
        except WriteConflict:
            return False
        return True

    def _move(self, token: str, source: str, expression: str, **values: Any) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table.name,
                "Key": key(self._pk, token),
                "UpdateExpression": expression,
                "ConditionExpression": "#state = :from",
                "ExpressionAttributeNames": {"#state": "state"},
                "ExpressionAttributeValues": to_values({":from": source, **{f":{n}": v for n, v in values.items()}}),
            }
        }

    @staticmethod
    def _with_now(update: dict[str, Any], now: float) -> dict[str, Any]:
        update["Update"]["ExpressionAttributeValues"].update(to_values({":now": now}))
        return update

    def _transact(self, *items: dict[str, Any]) -> bool:
        try:
            self._table.transact(items)
        except WriteConflict:
            return False
        return True
