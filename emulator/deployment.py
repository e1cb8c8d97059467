"""Create, in moto, the resources template.yaml declares, configured from the template itself.

Parameter defaults (prefix, suffix, pipeline name, receive limit, batch size) and the function's
environment variables are read from template.yaml, so the local run cannot drift from it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from samtranslator.yaml_helper import yaml_parse

from emulator.moto_server import REGION

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import (
        FilterRuleTypeDef,
        NotificationConfigurationFilterTypeDef,
        QueueConfigurationTypeDef,
    )

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "template.yaml"
LOCAL_ACCOUNT = "123456789012"
LOCAL_STAGE = "local"


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    return dict(yaml_parse(path.read_text(encoding="utf-8")))


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    return {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}


@dataclass(frozen=True)
class LocalDeployment:
    """The names and addresses of the resources, as the stack's outputs would give them."""

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
    def max_receive_count(self) -> int:
        return int(self.parameters["MaxReceiveCount"])


def deploy_locally(overrides: dict[str, str] | None = None) -> LocalDeployment:
    """Create bucket, queue + DLQ, notification, topic (+ an inbox subscription) in moto."""
    template = load_template()
    parameters = {**parameter_defaults(template), "Stage": LOCAL_STAGE, **(overrides or {})}
    s3 = boto3.client("s3", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    sns = boto3.client("sns", region_name=REGION)

    names = _Names(template, {**parameters, "AWS::AccountId": LOCAL_ACCOUNT, "AWS::Region": REGION})
    dlq_url = sqs.create_queue(QueueName=names.of("TriggerDeadLetterQueue", "QueueName"))["QueueUrl"]
    dlq_arn = _queue_arn(sqs, dlq_url)
    queue_properties = template["Resources"]["TriggerQueue"]["Properties"]
    queue_url = sqs.create_queue(
        QueueName=f"retrain-trigger-{LOCAL_STAGE}-queue",
        Attributes={
            "VisibilityTimeout": str(queue_properties["VisibilityTimeout"]),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": parameters["MaxReceiveCount"]}
            ),
        },
    )["QueueUrl"]
    queue_arn = _queue_arn(sqs, queue_url)

    bucket = names.of("DataBucket", "BucketName")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    rules: list[FilterRuleTypeDef] = []
    if parameters["DataPrefix"]:
        rules.append({"Name": "prefix", "Value": parameters["DataPrefix"]})
    if parameters["DataSuffix"]:
        rules.append({"Name": "suffix", "Value": parameters["DataSuffix"]})
    queue_configuration: QueueConfigurationTypeDef = {"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}
    if rules:
        key_filter: NotificationConfigurationFilterTypeDef = {"Key": {"FilterRules": rules}}
        queue_configuration["Filter"] = key_filter
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [queue_configuration]}
    )

    topic_arn = sns.create_topic(Name=names.of("NotificationTopic", "TopicName"))["TopicArn"]
    inbox_url = sqs.create_queue(QueueName=f"retrain-trigger-{LOCAL_STAGE}-inbox")["QueueUrl"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=_queue_arn(sqs, inbox_url),
        Attributes={"RawMessageDelivery": "false"},
    )
    idempotency_table = _create_table(template, "IdempotencyTable", names.of("IdempotencyTable", "TableName"))
    scheduler_table = _create_table(template, "SchedulerTable", names.of("SchedulerTable", "TableName"))
    return LocalDeployment(
        parameters=parameters,
        bucket=bucket,
        queue_url=queue_url,
        queue_arn=queue_arn,
        dead_letter_queue_url=dlq_url,
        topic_arn=topic_arn,
        inbox_queue_url=inbox_url,
        pipeline_name=parameters["PipelineName"],
        idempotency_table=idempotency_table,
        scheduler_table=scheduler_table,
    )


def function_environment(deployment: LocalDeployment, function: str = "TriggerFunction") -> dict[str, str]:
    """A function's environment variables as the template sets them, for this deployment."""
    template = load_template()
    resolved = {
        **deployment.parameters,
        "NotificationTopic": deployment.topic_arn,
        "IdempotencyTable": deployment.idempotency_table,
        "SchedulerTable": deployment.scheduler_table,
        "TriggerDeadLetterQueue": deployment.dead_letter_queue_url,
        "DataBucket": deployment.bucket,
    }
    variables: dict[str, Any] = {
        **template["Globals"]["Function"]["Environment"]["Variables"],
        **template["Resources"][function]["Properties"]["Environment"]["Variables"],
    }
    environment = {}
    for name, declared in variables.items():
        value = declared
        if isinstance(declared, dict) and set(declared) == {"Ref"}:
            value = resolved[declared["Ref"]]
        elif isinstance(declared, dict) and set(declared) == {"Fn::Sub"}:
            value = re.sub(r"\$\{([A-Za-z0-9]+)\}", lambda match: resolved[match.group(1)], declared["Fn::Sub"])
        environment[name] = str(value)
    return environment


class _Names:
    """The name a resource's property gives it (a literal or an Fn::Sub over parameters)."""

    def __init__(self, template: dict[str, Any], values: dict[str, str]) -> None:
        self._template = template
        self._values = values

    def of(self, resource: str, prop: str) -> str:
        declared = self._template["Resources"][resource]["Properties"][prop]
        if isinstance(declared, dict):
            declared = re.sub(r"\$\{([^}]+)\}", lambda match: self._values[match.group(1)], declared["Fn::Sub"])
        return str(declared)


def _create_table(template: dict[str, Any], resource: str, name: str) -> str:
    """A DynamoDB table with the key schema the template declares for it."""
    table = template["Resources"][resource]["Properties"]
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=name,
        KeySchema=table["KeySchema"],
        AttributeDefinitions=table["AttributeDefinitions"],
        BillingMode=table["BillingMode"],
    )
    return name


def _queue_arn(sqs: Any, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])
