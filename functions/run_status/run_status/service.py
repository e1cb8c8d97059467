"""Read how the run ended and tell the topic. Knows nothing about Lambda."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

from run_status.events import PipelineExecutionStatusChange
from run_status.messages import run_ended

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sns import SNSClient

logger = Logger()
RETRYING = Config(retries={"mode": "standard", "total_max_attempts": 10})


class RunStatusNotifier:
    def __init__(self, topic_arn: str, sagemaker: SageMakerClient | None = None, sns: SNSClient | None = None) -> None:
        self._topic_arn = topic_arn
        self._sagemaker = sagemaker or boto3.client("sagemaker", config=RETRYING)
        self._sns = sns or boto3.client("sns", config=RETRYING)

    def notify(self, change: PipelineExecutionStatusChange) -> dict[str, Any]:
        failure_reason = None
        if change.status == "Failed":
            described = self._sagemaker.describe_pipeline_execution(PipelineExecutionArn=change.execution_arn)
            failure_reason = described.get("FailureReason")
        notification = run_ended(change, failure_reason)
        # Errors propagate: EventBridge retries the invocation, and the idempotency record of a
        # failed attempt is removed, so the retry publishes.
        response = self._sns.publish(TopicArn=self._topic_arn, Subject=notification.subject, Message=notification.body)
        logger.info(
            "notified run end",
            extra={"execution_arn": change.execution_arn, "status": change.status, "message_id": response["MessageId"]},
        )
        return {"execution_arn": change.execution_arn, "status": change.status, "message_id": response["MessageId"]}


def required_environment(name: str) -> str:
    """A variable the function cannot work without; a missing one fails at start, named."""
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"environment variable {name} is not set: the run status function needs it")
    return value
