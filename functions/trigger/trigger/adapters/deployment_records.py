"""Each stage's deployment record in the scheduler's table (pk ``deployment``, sk the stage).

A save expects the revision it read: two invocations that decide at once cannot both start an
update of one endpoint (UpdateEndpoint refuses an endpoint that is Updating); the one whose save
fails stops, and the update's end decides again."""

from __future__ import annotations

from dataclasses import replace

from trigger.adapters.scheduler_table import SchedulerTable, key, to_item
from trigger.deployments import Stage, StageRecord

PARTITION = "deployment"


class DeploymentRecords:
    def __init__(self, table: SchedulerTable) -> None:
        self._table = table

    def read(self, stage: Stage) -> StageRecord:
        return StageRecord.from_item(stage, self._table.get(key(PARTITION, stage)))

    def save(self, record: StageRecord) -> StageRecord:
        """Write the record if nobody wrote since it was read; WriteConflict otherwise."""
        saved = replace(record, revision=record.revision + 1)
        condition = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if record.revision == 0
            else {
                "ConditionExpression": "revision = :read",
                "ExpressionAttributeValues": {":read": {"N": str(record.revision)}},
            }
        )
        self._table.put({**key(PARTITION, record.stage), **to_item(saved.as_item())}, **condition)
        return saved
