"""The EventBridge event SageMaker emits when an execution ends, built from a local run's result."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from emulator.moto_server import REGION
from emulator.pipeline_runner import RunResult

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
