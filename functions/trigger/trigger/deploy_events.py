"""The EventBridge events a deployment reacts to: a model package changed approval, an endpoint
changed status.

Their shapes are those of the SageMaker developer guide's "Events that Amazon SageMaker AI sends to
Amazon EventBridge" ("SageMaker Model Package State Change", "SageMaker Endpoint State Change").
Neither says what the state was before, so the deployment reads the rest from SageMaker itself.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field

PACKAGE_DETAIL_TYPE = "SageMaker Model Package State Change"
ENDPOINT_DETAIL_TYPE = "SageMaker Endpoint State Change"
# Where an update ends: InService (on the new configuration, or back on the old one after a rollback)
# or Failed (a new endpoint that never served). Creating, Updating, RollingBack... are on the way.
SETTLED_ENDPOINT_STATUSES = frozenset({"InService", "Failed", "UpdateRollbackFailed"})


class ModelPackageStateChange(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    group: str = Field(alias="ModelPackageGroupName")
    version: int | None = Field(default=None, alias="ModelPackageVersion")
    arn: str = Field(alias="ModelPackageArn")
    approval_status: str = Field(default="", alias="ModelApprovalStatus")


class EndpointStateChange(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    endpoint_name: str = Field(alias="EndpointName")
    status: str = Field(alias="EndpointStatus")
    config_name: str = Field(default="", alias="EndpointConfigName")

    @property
    def settled(self) -> bool:
        return self.status in SETTLED_ENDPOINT_STATUSES


class PackageEvent(EventBridgeModel):
    detail: ModelPackageStateChange


class EndpointEvent(EventBridgeModel):
    detail: EndpointStateChange


def parse_deploy_event(event: dict[str, Any]) -> ModelPackageStateChange | EndpointStateChange:
    """The detail of either event, by its detail-type; anything else is a ValueError naming it."""
    detail_type = event.get("detail-type")
    if detail_type == PACKAGE_DETAIL_TYPE:
        return PackageEvent.model_validate(event).detail
    if detail_type == ENDPOINT_DETAIL_TYPE:
        return EndpointEvent.model_validate(event).detail
    raise ValueError(f"not an event a deployment reacts to: detail-type {detail_type!r}")
