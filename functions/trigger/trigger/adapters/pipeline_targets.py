"""The targets that start the pipeline without our code per upload: the EventBridge rule's target
(PutTargets) and the retrain schedule (EventBridge Scheduler); and the answer a CloudFormation
custom resource sends back to its ResponseURL."""

from __future__ import annotations

import json
import urllib.request
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_scheduler import EventBridgeSchedulerClient

TARGET_ID = "pipeline"


class RuleTarget:
    def __init__(self, client: EventBridgeClient) -> None:
        self._client = client

    def put(self, rule: str, target: dict[str, Any]) -> None:
        entry: Any = {"Id": TARGET_ID, **target}
        failed = self._client.put_targets(Rule=rule, Targets=[entry]).get("FailedEntries")
        if failed:
            raise RuntimeError(f"EventBridge did not take the target of rule {rule}: {failed[0].get('ErrorMessage')}")

    def remove(self, rule: str) -> None:
        try:
            self._client.remove_targets(Rule=rule, Ids=[TARGET_ID])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise


class Schedule:
    def __init__(self, client: EventBridgeSchedulerClient) -> None:
        self._client = client

    def put(self, name: str, settings: dict[str, Any]) -> None:
        """Create the schedule, or update it to these settings."""
        try:
            self._client.create_schedule(Name=name, **settings)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConflictException":
                raise
            self._client.update_schedule(Name=name, **settings)

    def delete(self, name: str) -> None:
        try:
            self._client.delete_schedule(Name=name)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise


def answer_cloudformation(event: dict[str, Any], physical_id: str, reason: str | None) -> None:
    """Tell CloudFormation how the custom resource went (SUCCESS, or FAILED with the reason it shows)."""
    body = {
        "Status": "FAILED" if reason else "SUCCESS",
        "Reason": (reason or "done")[:1000],
        "PhysicalResourceId": physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": {},
    }
    request = urllib.request.Request(  # noqa: S310 - the pre-signed URL CloudFormation gave
        event["ResponseURL"], data=json.dumps(body).encode(), method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310
        pass
