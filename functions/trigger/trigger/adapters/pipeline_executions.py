"""Start SageMaker Pipeline executions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

from trigger.adapters import RETRYING_CLIENT_CONFIG
from trigger.planner import PipelineRun

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient


class PipelineExecutions:
    def __init__(self, client: SageMakerClient | None = None) -> None:
        self._client = client or boto3.client("sagemaker", config=RETRYING_CLIENT_CONFIG)

    def start(self, run: PipelineRun) -> str:
        """Start the run and return its execution ARN. Errors left after retries propagate."""
        response = self._client.start_pipeline_execution(
            PipelineName=run.pipeline_name,
            PipelineExecutionDisplayName=run.display_name,
            PipelineExecutionDescription=run.description,
            PipelineParameters=[{"Name": name, "Value": value} for name, value in run.parameters.items()],
            ClientRequestToken=run.client_request_token,
        )
        return response["PipelineExecutionArn"]
