"""The EventBridge event SageMaker emits when an execution ends, built from a local run's result."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from emulator.moto_fixes import RECORDED_STEPS
from emulator.moto_server import REGION
from emulator.pipeline_runner import RunResult, StepResult

DETAIL_TYPE = "SageMaker Model Building Pipeline Execution Status Change"


def status_change_event(result: RunResult) -> dict[str, Any]:
    execution = boto3.client("sagemaker", region_name=REGION).describe_pipeline_execution(
        PipelineExecutionArn=result.execution_arn
    )
    ended = datetime.now(UTC).replace(microsecond=0)
    started = ended - timedelta(seconds=round(result.seconds))
    pipeline_arn = str(execution["PipelineArn"])
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": "aws.sagemaker",
        "account": pipeline_arn.split(":")[4],
        "time": ended.isoformat().replace("+00:00", "Z"),
        "region": REGION,
        "resources": [pipeline_arn, result.execution_arn],
        "detail": {
            "pipelineArn": pipeline_arn,
            "pipelineExecutionArn": result.execution_arn,
            "pipelineExecutionDisplayName": execution.get("PipelineExecutionDisplayName"),
            "pipelineExecutionDescription": execution.get("PipelineExecutionDescription"),
            "currentPipelineExecutionStatus": result.status,
            "previousPipelineExecutionStatus": "Executing",
            "executionStartTime": started.isoformat().replace("+00:00", "Z"),
            "executionEndTime": ended.isoformat().replace("+00:00", "Z"),
        },
    }


def record_in_moto(result: RunResult) -> None:
    """Give the execution the status and failure reason the local run ended with, as SageMaker
    would report them. moto marks every execution Succeeded at once and has no API to change it:
    this sets them in its backend (the server runs in this process)."""
    from moto.sagemaker.models import sagemaker_backends

    account, pipeline = result.execution_arn.split(":")[4], result.execution_arn.split("/")[1]
    execution = sagemaker_backends[account][REGION].pipelines[pipeline].pipeline_executions[result.execution_arn]
    execution.pipeline_execution_status = result.status
    execution.pipeline_execution_failure_reason = result.failure_reason or None  # type: ignore[assignment]
    setattr(execution, RECORDED_STEPS, [_step_summary(step, result) for step in result.steps])


def record_step(execution_arn: str, step: StepResult) -> None:
    """While a local run goes on: each step as it starts and ends, for ListPipelineExecutionSteps
    (and so `retrain-trigger status`) to show the running step, as SageMaker's would."""
    from moto.sagemaker.models import sagemaker_backends

    account, pipeline = execution_arn.split(":")[4], execution_arn.split("/")[1]
    execution = sagemaker_backends[account][REGION].pipelines[pipeline].pipeline_executions[execution_arn]
    steps: list[dict[str, Any]] = getattr(execution, RECORDED_STEPS, None) or []
    setattr(execution, RECORDED_STEPS, steps)
    now = datetime.now(UTC)
    for summary in steps:
        if summary["StepName"] == step.name and summary["StepStatus"] == "Executing":
            summary.update(StepStatus=step.status, EndTime=now)
            return
    steps.append({"StepName": step.name, "StepStatus": step.status, "StartTime": now})


def _step_summary(step: StepResult, result: RunResult) -> dict[str, Any]:
    """A step as ListPipelineExecutionSteps describes it."""
    summary: dict[str, Any] = {"StepName": step.name, "StepStatus": step.status}
    metadata = _step_metadata(step, result.properties.get(step.name) or {})
    if metadata:
        summary["Metadata"] = metadata
    if step.status == "Failed":
        reason = (result.failure_reason if step.name == result.failure_step else "") or step.detail
        # A step's own FailureReason does not repeat its name (the run's reason does, to say which step).
        summary["FailureReason"] = reason.removeprefix(f"{step.name}: ")
    return summary


def _step_metadata(step: StepResult, properties: dict[str, Any]) -> dict[str, Any]:
    """A step's Metadata as ListPipelineExecutionSteps gives it: what the step created (API reference,
    PipelineExecutionStepMetadata: RegisterModel.Arn, Model.Arn, TransformJob.Arn, ProcessingJob.Arn)."""
    if step.step_type == "RegisterModel" and properties.get("ModelPackageArn"):
        return {"RegisterModel": {"Arn": properties["ModelPackageArn"]}}
    if step.step_type == "Model" and properties.get("ModelArn"):
        return {"Model": {"Arn": properties["ModelArn"]}}
    if step.step_type == "Transform" and properties.get("TransformJobArn"):
        return {"TransformJob": {"Arn": properties["TransformJobArn"]}}
    if step.step_type == "Processing" and properties.get("ProcessingJobArn"):
        return {"ProcessingJob": {"Arn": properties["ProcessingJobArn"]}}
    return {}


@contextmanager
def executions_that_keep_running() -> Iterator[None]:
    """moto's executions succeed the moment they start; inside this, they are Executing until
    ``record_in_moto`` ends them, as SageMaker's would be while their jobs run."""
    from moto.sagemaker.models import FakePipelineExecution

    started = FakePipelineExecution.__init__

    def executing(self: FakePipelineExecution, *args: Any, **kwargs: Any) -> None:
        started(self, *args, **kwargs)
        self.pipeline_execution_status = "Executing"

    FakePipelineExecution.__init__ = executing  # type: ignore[method-assign]
    try:
        yield
    finally:
        FakePipelineExecution.__init__ = started  # type: ignore[method-assign]
