"""moto set-up shared by the tests: the pipeline, the topic and an inbox that reads the topic."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

import boto3

from emulator.cloudformation import load_template
from emulator.demo import read_notifications
from trigger.adapters.dead_letters import REASON_ATTRIBUTE
from trigger.parameter_mapping import BUNDLED_PIPELINE_MAPPING, parse_mapping

REGION = "us-east-1"
SAMPLE_BUCKET = os.environ["DATA_BUCKET"]  # the bucket of the events/ samples (see conftest)


@dataclass(frozen=True)
class TriggerTargets:
    pipeline_name: str
    topic_arn: str
    inbox_url: str
    dead_letter_url: str

    def executions(self) -> list[dict[str, Any]]:
        """Every execution of the pipeline, each with its parameters as a dict."""
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        summaries = sagemaker.list_pipeline_executions(PipelineName=self.pipeline_name, MaxResults=100)[
            "PipelineExecutionSummaries"
        ]
        executions = []
        for summary in summaries:
            arn = summary["PipelineExecutionArn"]
            parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)[
                "PipelineParameters"
            ]
            executions.append({**summary, "Parameters": {p["Name"]: p["Value"] for p in parameters}})
        return executions

    def started_keys(self) -> list[str]:
        return sorted(execution["Parameters"]["InputKey"] for execution in self.executions())

    def trained_keys(self) -> list[list[str]]:
        """For each execution, the keys it trains on (from its manifest when it has one)."""
        s3 = boto3.client("s3", region_name=REGION)
        runs = []
        for execution in self.executions():
            parameters = execution["Parameters"]
            if parameters.get("InputDataType") == "ManifestFile":
                body = s3.get_object(Bucket=parameters["InputBucket"], Key=parameters["InputKey"])["Body"].read()
                [prefix, *keys] = json.loads(body)  # SageMaker's manifest: a prefix, then keys relative to it
                runs.append(sorted(prefix["prefix"].split("/", 3)[3] + key for key in keys))
            else:
                runs.append([parameters["InputKey"]])
        return sorted(runs)

    def dead_letters(self) -> list[dict[str, str]]:
        """What the function put in the dead-letter queue: each message's body and reason."""
        sqs = boto3.client("sqs", region_name=REGION)
        found: list[dict[str, str]] = []
        while True:
            messages = sqs.receive_message(
                QueueUrl=self.dead_letter_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return found
            for message in messages:
                attributes: dict[str, Any] = dict(message.get("MessageAttributes", {}))
                reason = str(attributes.get(REASON_ATTRIBUTE, {}).get("StringValue", ""))
                found.append({"body": message["Body"], "reason": reason})
                sqs.delete_message(QueueUrl=self.dead_letter_url, ReceiptHandle=message["ReceiptHandle"])

    def notifications(self) -> list[dict[str, str]]:
        return [
            {"subject": envelope.get("Subject", ""), "message": envelope["Message"]}
            for envelope in read_notifications(self.inbox_url)
        ]


def create_table(resource: str, name: str) -> None:
    """A DynamoDB table with the keys the template declares for ``resource``."""
    properties = load_template()["Resources"][resource]["Properties"]
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=name,
        KeySchema=properties["KeySchema"],
        AttributeDefinitions=properties["AttributeDefinitions"],
        BillingMode=properties["BillingMode"],
    )


def create_idempotency_table() -> None:
    """The table in which the run-ended function remembers the run ends it notified."""
    create_table("IdempotencyTable", os.environ["IDEMPOTENCY_TABLE_NAME"])


def create_scheduler_table(name: str | None = None) -> None:
    """The run scheduler's table, as the template's SchedulerTable declares it."""
    create_table("SchedulerTable", name or os.environ["SCHEDULER_TABLE_NAME"])


def create_placeholder_pipeline(name: str, mapping: str = BUNDLED_PIPELINE_MAPPING) -> None:
    """A pipeline with no steps that declares the parameters a mapping passes (by default the bundled pipeline's)."""
    declared = [{"Name": parameter, "Type": "String", "DefaultValue": ""} for parameter in parse_mapping(mapping).names]
    definition = {"Version": "2020-12-01", "Parameters": declared, "Steps": []}
    boto3.client("sagemaker", region_name=REGION).create_pipeline(
        PipelineName=name,
        PipelineDefinition=json.dumps(definition),
        RoleArn="arn:aws:iam::123456789012:role/pipeline",
        ClientRequestToken=str(uuid.uuid4()),
    )


def create_trigger_targets(pipeline_name: str | None = None) -> TriggerTargets:
    """The pipeline and topic the function is configured for (see conftest's environment)."""
    pipeline_name = pipeline_name or os.environ["PIPELINE_NAME"]
    topic_name = os.environ["NOTIFICATION_TOPIC_ARN"].rsplit(":", 1)[1]
    create_placeholder_pipeline(pipeline_name)
    create_idempotency_table()
    create_scheduler_table()
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=SAMPLE_BUCKET)
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic_arn = sns.create_topic(Name=topic_name)["TopicArn"]
    inbox_url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=inbox_arn)
    dead_letter_url = sqs.create_queue(QueueName=os.environ["DEAD_LETTER_QUEUE_URL"].rsplit("/", 1)[1])["QueueUrl"]
    return TriggerTargets(
        pipeline_name=pipeline_name, topic_arn=topic_arn, inbox_url=inbox_url, dead_letter_url=dead_letter_url
    )
