"""Six changes to how moto runs, each applied by ``apply()``.

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

An approval that forgets: moto 5.2.5's UpdateModelPackage sets every field it was not given to
nothing, so `aws sagemaker update-model-package --model-approval-status Approved` wiped the package's
CustomerMetadataProperties (the run, the upload, the smoke check) and ApprovalDescription. SageMaker
changes only what the call names: the API reference's UpdateModelPackage adds or replaces the
CustomerMetadataProperties given and removes those in CustomerMetadataPropertiesToRemove.
``apply()`` keeps what a call leaves out.

Custom resources without Docker: moto's CloudFormation starts a thread that invokes the resource's
function in a container, and ignores a FAILED answer. ``apply()`` keeps each request instead
(``CUSTOM_RESOURCE_REQUESTS``: emulator/cloudformation.py has the function answer it in this
process), and a FAILED answer fails the stack with the answer's Reason in its events, as
CloudFormation documents it for custom resources. A rule's EventPattern given as JSON text
(CloudFormation takes a Json property as an object or as text) is read before moto encodes it. moto
sends no request when a stack update changes a custom resource's properties; CloudFormation sends an
Update request with the new ResourceProperties, the OldResourceProperties and the PhysicalResourceId
("Custom resource request objects"), kept here the same way.

Missing actions: Model Monitor's schedules (emulator/monitoring_schedules.py says which and how).
"""

from __future__ import annotations

import copy
import functools
import json
import uuid
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
    _event_pattern_as_text()
    _copy_each_table_once_per_transaction()
    _notify_with_the_version_id()
    _list_pipeline_execution_steps()
    _update_only_what_is_named()
    _keep_custom_resource_requests()
    from emulator import monitoring_schedules  # Model Monitor's schedule APIs, which moto lacks

    monitoring_schedules.install()


def _event_pattern_as_text() -> None:
    """CloudFormation takes a rule's EventPattern (type Json) as an object or as JSON text (the
    template's RetrainOnEvents passes text); moto's Rule JSON-encodes whatever it gets, so text would be
    encoded twice. Text is read first here; text that is not JSON fails the rule as EventBridge does."""
    from moto.events.exceptions import InvalidEventPatternException
    from moto.events.models import Rule

    original = Rule.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    if getattr(original, "_reads_text", False):
        return

    def create(cls: Any, resource_name: str, cloudformation_json: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        pattern = cloudformation_json.get("Properties", {}).get("EventPattern")
        if isinstance(pattern, str):
            try:
                parsed = json.loads(pattern)
            except ValueError:
                raise InvalidEventPatternException(reason="Invalid JSON") from None
            cloudformation_json = {
                **cloudformation_json,
                "Properties": {**cloudformation_json["Properties"], "EventPattern": parsed},
            }
        return original(cls, resource_name, cloudformation_json, *args, **kwargs)

    create._reads_text = True  # type: ignore[attr-defined]
    Rule.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment]


def _update_only_what_is_named() -> None:
    from moto.sagemaker.models import SageMakerModelBackend

    original = SageMakerModelBackend.update_model_package
    if getattr(original, "_keeps_what_is_left_out", False):
        return

    @functools.wraps(original)
    def update_model_package(  # noqa: PLR0917 - moto's own signature
        self: SageMakerModelBackend,
        model_package_arn: str,
        model_approval_status: str | None,
        approval_description: str | None,
        customer_metadata_properties: dict[str, str] | None,
        customer_metadata_properties_to_remove: list[str],
        additional_inference_specifications_to_add: list[Any] | None,
    ) -> str:
        package = self.describe_model_package(model_package_arn)
        return original(
            self,
            model_package_arn,
            model_approval_status or package.model_approval_status,
            approval_description if approval_description is not None else package.approval_description,
            {**(package.customer_metadata_properties or {}), **(customer_metadata_properties or {})} or None,
            customer_metadata_properties_to_remove,
            additional_inference_specifications_to_add,
        )

    update_model_package._keeps_what_is_left_out = True  # type: ignore[attr-defined]
    SageMakerModelBackend.update_model_package = update_model_package  # type: ignore[method-assign]


CUSTOM_RESOURCE_REQUESTS: list[dict[str, Any]] = []  # what CloudFormation asked custom resources, oldest first


class _KeptRequest:
    """Stands for the thread moto would start to invoke the function: it keeps the request."""

    def __init__(self, target: Any, args: tuple[str, Any, Any]) -> None:
        self._event = json.loads(args[0])

    def start(self) -> None:
        CUSTOM_RESOURCE_REQUESTS.append(self._event)
        _PROPERTIES[(self._event["StackId"], self._event["LogicalResourceId"])] = self._event["ResourceProperties"]


_PROPERTIES: dict[tuple[str, str], dict[str, Any]] = {}  # each custom resource's properties, as last requested


def _keep_custom_resource_requests() -> None:
    from types import SimpleNamespace

    from moto.cloudformation import custom_model
    from moto.cloudformation.responses import CloudFormationResponse

    if isinstance(getattr(custom_model, "threading", None), SimpleNamespace):
        return
    setattr(custom_model, "threading", SimpleNamespace(Thread=_KeptRequest))  # noqa: B010 - moto's module global
    # moto builds the request's ResponseURL from its own host, which inside a container it asks
    # Docker's socket for (moto/settings.py, moto_server_host), printing a warning when there is no
    # Docker. The local stack points the ResponseURL at its own endpoint anyway
    # (emulator/cloudformation.py), so no host is looked up.
    from moto import settings

    setattr(settings, "moto_server_host", lambda: "http://localhost")  # noqa: B010 - moto's module function
    original = CloudFormationResponse.process_cfn_response

    @functools.wraps(original)
    def process_cfn_response(self: CloudFormationResponse) -> Any:
        stack = self.cloudformation_backend.get_stack(self._get_param("StackId"))
        updating = stack.status.startswith("UPDATE")
        if self._get_param("Status") == "FAILED":
            stack.status = "UPDATE_FAILED" if updating else "CREATE_FAILED"
            stack._add_stack_event(stack.status, f"{self._get_param('LogicalResourceId')}: {self._get_param('Reason')}")
        before = stack.status
        answered = original(self)
        if updating:  # moto would mark an updated stack CREATE_COMPLETE on a custom resource's answer
            stack.status = before
        return answered

    CloudFormationResponse.process_cfn_response = process_cfn_response  # type: ignore[method-assign]
    setattr(custom_model.CustomModel, "update_from_cloudformation_json", classmethod(_update_request))  # noqa: B010


def _update_request(  # noqa: PLR0917 - moto's signature for a resource's update
    cls: Any,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> Any:
    """CloudFormation's Update request to the resource's function, when its properties changed."""
    from moto.cloudformation.models import cloudformation_backends

    properties = cloudformation_json["Properties"]
    stack = next(
        stack
        for stack in cloudformation_backends[account_id][region_name].stacks.values()
        if original_resource in stack.custom_resources.values()
    )
    old = _PROPERTIES.get((stack.stack_id, original_resource.logical_id))
    if old == properties:
        return original_resource
    _PROPERTIES[(stack.stack_id, original_resource.logical_id)] = properties
    CUSTOM_RESOURCE_REQUESTS.append(
        {
            "RequestType": "Update",
            "ServiceToken": properties["ServiceToken"],
            "ResponseURL": f"http://localhost/cloudformation_{region_name}/cfnresponse?stack={stack.stack_id}",
            "StackId": stack.stack_id,
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": original_resource.logical_id,
            "PhysicalResourceId": original_resource.physical_resource_id,
            "ResourceType": cloudformation_json["Type"],
            "ResourceProperties": properties,
            "OldResourceProperties": old or {},
        }
    )
    return original_resource


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
