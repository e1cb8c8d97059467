"""The EventBridge event SageMaker sends when a pipeline execution changes status."""

from __future__ import annotations

from datetime import datetime

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, Field

DETAIL_TYPE = "SageMaker Model Building Pipeline Execution Status Change"


class PipelineExecutionStatusChange(BaseModel):
    pipeline_arn: str = Field(alias="pipelineArn")
    execution_arn: str = Field(alias="pipelineExecutionArn")
    display_name: str | None = Field(default=None, alias="pipelineExecutionDisplayName")
    status: str = Field(alias="currentPipelineExecutionStatus")
    previous_status: str | None = Field(default=None, alias="previousPipelineExecutionStatus")
    started: datetime | None = Field(default=None, alias="executionStartTime")
    ended: datetime | None = Field(default=None, alias="executionEndTime")
    description: str | None = Field(default=None, alias="pipelineExecutionDescription")

    @property
    def pipeline_name(self) -> str:
        return self.pipeline_arn.rsplit("/", 1)[-1]


class PipelineStatusEvent(EventBridgeModel):
    detail: PipelineExecutionStatusChange
