"""Three changes to how moto runs, each applied by ``apply()``.

Speed, with the same answers: moto 5.2.5's DynamoDB TransactWriteItems takes a snapshot of a table (to restore it if a
condition fails) once per item of the transaction, not once per table: a 100-item transaction
copies the whole table 100 times, and recording 1,000 objects took about a minute. ``apply()``
makes the copies of one transaction share the first one, so each table is copied once; the
snapshot, and what a failed transaction restores, are the same as before.

Faithfulness: moto's S3 event notifications leave out ``versionId``, which S3 puts in every
notification from a versioning-enabled bucket. Without it, an upload and a backfill of the same
object version looked like two versions locally. ``apply()`` adds it, as S3 does; nothing else in
the notification changes.

A missing action: moto 5.2.5 has no ListPipelineExecutionSteps (NotImplementedError). ``apply()``
adds it as the SageMaker API reference describes it: the execution's steps, newest first, each with
StepName, StepStatus and, for a failed one, FailureReason. The steps are those the local pipeline
runner recorded for the execution (status_events.record_in_moto); an execution nothing ran has none.
"""

from __future__ import annotations

import copy
import functools
from contextvars import ContextVar
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.s3 import notifications

_snapshots: ContextVar[dict[int, Any] | None] = ContextVar("moto_transaction_snapshots", default=None)


def _table_snapshot(self: Table, memo: dict[int, Any]) -> Table:
    """A deep copy, as copy.deepcopy makes of a plain object; within one transaction, made once."""
    taken = _snapshots.get()
    if taken is not None and id(self) in taken:
        return taken[id(self)]  # type: ignore[no-any-return]
    snapshot: Table = copy.copy(self)  # a new object of its class; every attribute is replaced below
    memo[id(self)] = snapshot
    for name, value in self.__dict__.items():
        setattr(snapshot, name, copy.deepcopy(value, memo))
    if taken is not None:
        taken[id(self)] = snapshot
    return snapshot


def apply() -> None:
    _copy_each_table_once_per_transaction()
    _notify_with_the_version_id()
    _list_pipeline_execution_steps()


RECORDED_STEPS = "recorded_steps"  # the attribute of moto's execution that holds what a local run did


def _list_pipeline_execution_steps() -> None:
    from moto.core.responses import ActionResult
    from moto.sagemaker.responses import SageMakerResponse

    if hasattr(SageMakerResponse, "list_pipeline_execution_steps"):
        return

    def list_pipeline_execution_steps(self: SageMakerResponse) -> ActionResult:
        arn = self._get_param("PipelineExecutionArn")
        self.sagemaker_backend.describe_pipeline_execution(arn)  # a ValidationException if there is none
        execution = self.sagemaker_backend.pipelines[arn.split("/")[1]].pipeline_executions[arn]
        return ActionResult({"PipelineExecutionSteps": list(reversed(getattr(execution, RECORDED_STEPS, [])))})

    SageMakerResponse.list_pipeline_execution_steps = list_pipeline_execution_steps  # type: ignore[attr-defined]


def _notify_with_the_version_id() -> None:
    original = notifications._get_s3_event
    if getattr(original, "_adds_the_version_id", False):
        return

    @functools.wraps(original)
    def s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, list[dict[str, Any]]]:
        event = original(event_name, bucket, key, notification_id)
        if bucket.is_versioned and key.version_id != "null":
            for record in event["Records"]:
                record["s3"]["object"]["versionId"] = key.version_id
        return event

    s3_event._adds_the_version_id = True  # type: ignore[attr-defined]
    notifications._get_s3_event = s3_event


def _copy_each_table_once_per_transaction() -> None:
    if getattr(DynamoDBBackend.transact_write_items, "_copies_each_table_once", False):
        return
    original = DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        token = _snapshots.set({})
        try:
            return original(self, *args, **kwargs)
        finally:
            _snapshots.reset(token)

    transact_write_items._copies_each_table_once = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    Table.__deepcopy__ = _table_snapshot  # type: ignore[attr-defined]
