"""The local deployment: template.yaml created as a stack by moto's CloudFormation (see
emulator/cloudformation.py), plus what only the local run needs (a queue subscribed to the topic,
so that a person's notifications can be read).

Names, URLs, ARNs, parameters and each function's environment come from the stack.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import boto3

from emulator.cloudformation import (
    TEMPLATE_PATH,
    Stack,
    create_stack,
    load_template,
    parameter_defaults,
    update_stack,
)
from emulator.moto_server import REGION

__all__ = [
    "TEMPLATE_PATH",
    "LocalDeployment",
    "deploy_locally",
    "function_environment",
    "load_template",
    "parameter_defaults",
    "update_locally",
]

LOCAL_STAGE = "local"
STACK_NAME = f"retrain-trigger-{LOCAL_STAGE}"


@dataclass(frozen=True)
class LocalDeployment:
    """The names and addresses of the resources, as the stack's outputs give them."""

    stack: Stack
    parameters: dict[str, str]
    bucket: str
    queue_url: str
    queue_arn: str
    dead_letter_queue_url: str
    topic_arn: str
    inbox_queue_url: str  # subscribed to the topic, so local runs can read what a person would get
    pipeline_name: str
    idempotency_table: str
    scheduler_table: str

    @property
    def batch_size(self) -> int:
        return int(self.parameters["BatchSize"])

    @property
    def batching_window_seconds(self) -> float:
        return float(self.parameters["BatchingWindowSeconds"])

    @property
    def max_receive_count(self) -> int:
        return int(self.parameters["MaxReceiveCount"])


def deploy_locally(overrides: dict[str, str] | None = None) -> LocalDeployment:
    """Create the stack on moto (Stage `local`), and an inbox subscribed to its topic."""
    stack = create_stack(STACK_NAME, {"Stage": LOCAL_STAGE, **(overrides or {})})
    sqs = boto3.client("sqs", region_name=REGION)
    sns = boto3.client("sns", region_name=REGION)
    outputs = stack.outputs
    inbox_url = sqs.create_queue(QueueName=f"{STACK_NAME}-inbox")["QueueUrl"]
    sns.subscribe(
        TopicArn=outputs["NotificationTopicArn"],
        Protocol="sqs",
        Endpoint=_queue_arn(sqs, inbox_url),
        Attributes={"RawMessageDelivery": "false"},
    )
    return LocalDeployment(
        stack=stack,
        parameters=stack.parameters,
        bucket=outputs["DataBucketName"],
        queue_url=outputs["TriggerQueueUrl"],
        queue_arn=_queue_arn(sqs, outputs["TriggerQueueUrl"]),
        dead_letter_queue_url=outputs["TriggerDeadLetterQueueUrl"],
        topic_arn=outputs["NotificationTopicArn"],
        inbox_queue_url=inbox_url,
        pipeline_name=stack.parameters["PipelineName"],
        idempotency_table=outputs["IdempotencyTableName"],
        scheduler_table=outputs["SchedulerTableName"],
    )


def update_locally(deployment: LocalDeployment, overrides: dict[str, str]) -> LocalDeployment:
    """The stack updated with new parameters, as `sam deploy` updates it: what the queues, the DLQ,
    the tables and the bucket hold stays; raises (the stack as it was) if the update is refused."""
    stack = update_stack(deployment.stack, {"Stage": LOCAL_STAGE, **overrides})
    return replace(deployment, stack=stack, parameters=stack.parameters, pipeline_name=stack.parameters["PipelineName"])


def function_environment(deployment: LocalDeployment, function: str = "TriggerFunction") -> dict[str, str]:
    """A function's environment variables, as the stack created the function."""
    return deployment.stack.function_environment(function)


def _queue_arn(sqs: Any, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])
