"""Read how the run ended and tell the topic. Knows nothing about Lambda."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import boto3

from trigger.adapters import RETRYING_CLIENT_CONFIG
from trigger.observability import logger
from trigger.run_status.events import PipelineExecutionStatusChange
from trigger.run_status.messages import run_ended
from trigger.run_status.run_reports import RunReportReader

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sns import SNSClient


class RunStatusNotifier:
    def __init__(
        self,
        topic_arn: str,
        *,
        bucket: str,
        runs_prefix: str,
        sagemaker: SageMakerClient | None = None,
        sns: SNSClient | None = None,
        s3: S3Client | None = None,
    ) -> None:
        self._topic_arn = topic_arn
        self._sagemaker = sagemaker or boto3.client("sagemaker", config=RETRYING_CLIENT_CONFIG)
        self._sns = sns or boto3.client("sns", config=RETRYING_CLIENT_CONFIG)
        self._reports = RunReportReader(s3 or boto3.client("s3", config=RETRYING_CLIENT_CONFIG), bucket, runs_prefix)

    def notify(self, change: PipelineExecutionStatusChange) -> dict[str, Any]:
        reports = self._reports.read(change.execution_arn)
        failure_reason = None
        if change.status == "Failed":
            # The run's own reports say why in the data owner's words; SageMaker's reason otherwise.
            failure_reason = reports.refusal
            if failure_reason is None:
                described = self._sagemaker.describe_pipeline_execution(PipelineExecutionArn=change.execution_arn)
                failure_reason = described.get("FailureReason")
        notification = run_ended(change, failure_reason, reports)
        if not self._topic_arn:
            logger.info("no notification topic configured", extra={"subject": notification.subject})
            return {"execution_arn": change.execution_arn, "status": change.status, "message_id": None}
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
        raise RuntimeError(f"environment variable {name} is not set: the function needs it")
    return value
