"""Start SageMaker Pipeline executions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3

from trigger.adapters import RETRYING_CLIENT_CONFIG

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient


class PipelineExecutions:
    def __init__(self, client: SageMakerClient | None = None) -> None:
        self._client = client or boto3.client("sagemaker", config=RETRYING_CLIENT_CONFIG)

    def status(self, execution_arn: str) -> str:
        """Executing, Stopping, Stopped, Failed or Succeeded."""
        described = self._client.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        return str(described["PipelineExecutionStatus"])

    def start_record(self, run: dict[str, Any]) -> str:
        """Start the run a remembered run record describes (see PipelineRun.as_record)."""
        response = self._client.start_pipeline_execution(
            PipelineName=run["pipeline_name"],
            PipelineExecutionDisplayName=run["display_name"],
            PipelineExecutionDescription=run["description"],
            PipelineParameters=[{"Name": name, "Value": value} for name, value in run["parameters"].items()],
            ClientRequestToken=run["client_request_token"],
        )
        return response["PipelineExecutionArn"]
