"""SageMaker: start a run, ask how it is going, read the pipeline's parameters and a failed run's
steps. SageMaker's error codes are translated here into the project's errors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from trigger.errors import StartDeferred, StartRefused
from trigger.runs import PipelineRun

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

# SageMaker's answers that no retry will change: the run is abandoned and its objects dead-lettered.
_REFUSED_FOR_GOOD = frozenset({"ValidationException", "ResourceNotFound", "AccessDeniedException"})


@dataclass(frozen=True)
class RunSteps:
    """What a run's steps did, as ListPipelineExecutionSteps tells it."""

    failed: tuple[str, str] | None = None  # the first step that failed, and why
    registered: tuple[str, ...] = ()  # the model packages its register steps created (Metadata.RegisterModel)


def registered_by(step: Any) -> str | None:
    """The model package a step of ListPipelineExecutionSteps created (its Metadata.RegisterModel.Arn)."""
    arn = ((step.get("Metadata") or {}).get("RegisterModel") or {}).get("Arn")
    return str(arn) if arn else None


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _not_found(error: ClientError) -> bool:
    """DescribePipeline of a pipeline that does not exist: ResourceNotFound in the API reference; moto
    answers ValidationException "Could not find pipeline"."""
    message = str(error.response.get("Error", {}).get("Message", ""))
    return _code(error) == "ResourceNotFound" or ("not find pipeline" in message or "does not exist" in message)


def _translated(error: ClientError) -> StartRefused | StartDeferred:
    return (StartRefused if _code(error) in _REFUSED_FOR_GOOD else StartDeferred)(str(error))


class PipelineExecutions:
    def __init__(self, client: SageMakerClient) -> None:
        self._client = client

    def start(self, run: PipelineRun) -> str:
        """Start the run (the same token returns SageMaker's same execution); its ARN."""
        try:
            response = self._client.start_pipeline_execution(
                PipelineName=run.pipeline_name,
                PipelineExecutionDisplayName=run.display_name,
                PipelineExecutionDescription=run.description,
                PipelineParameters=[{"Name": name, "Value": value} for name, value in run.parameters.items()],
                ClientRequestToken=run.client_request_token,
            )
        except ClientError as error:
            raise _translated(error) from None
        except BotoCoreError as error:
            raise StartDeferred(str(error)) from None
        return response["PipelineExecutionArn"]

    def status(self, execution_arn: str) -> str:
        """Executing, Stopping, Stopped, Failed or Succeeded."""
        described = self._client.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        return str(described["PipelineExecutionStatus"])

    def failure_reason(self, execution_arn: str) -> str | None:
        described = self._client.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        reason = described.get("FailureReason")
        return str(reason) if reason else None

    def steps_of(self, execution_arn: str) -> RunSteps:
        """The run's first failed step and why, and the model packages it registered, whichever
        pipeline it is (ListPipelineExecutionSteps)."""
        paginator = self._client.get_paginator("list_pipeline_execution_steps")
        steps = [
            step
            for page in paginator.paginate(PipelineExecutionArn=execution_arn)
            for step in page.get("PipelineExecutionSteps", [])
        ]
        failed = next(
            (
                (str(step.get("StepName", "?")), str(step.get("FailureReason") or "no reason given"))
                for step in steps
                if step.get("StepStatus") == "Failed"
            ),
            None,
        )
        registered = tuple(
            package for step in steps if step.get("StepStatus") == "Succeeded" and (package := registered_by(step))
        )
        return RunSteps(failed, registered)

    def declared_parameters(self, pipeline_name: str) -> list[dict[str, Any]]:
        """The parameters the pipeline's definition declares (DescribePipeline): Name, Type, DefaultValue.
        StartRefused when the pipeline does not exist or cannot be read; StartDeferred otherwise."""
        try:
            return self._declared(pipeline_name)
        except ClientError as error:
            raise _translated(error) from None

    def declared_if_created(self, pipeline_name: str) -> list[dict[str, Any]] | None:
        """The same, or None while the pipeline does not exist (a stack may be deployed before it)."""
        try:
            return self._declared(pipeline_name)
        except ClientError as error:
            if _not_found(error):
                return None
            raise _translated(error) from None

    def _declared(self, pipeline_name: str) -> list[dict[str, Any]]:
        described = self._client.describe_pipeline(PipelineName=pipeline_name)
        definition = json.loads(described.get("PipelineDefinition") or "{}")
        return list(definition.get("Parameters", []))
