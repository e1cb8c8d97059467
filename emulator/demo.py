"""`make demo`: an upload starts a pipeline run, on this machine, against moto.

python -m emulator.demo [--verbose]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import uuid
from typing import Any

import boto3

from emulator.deployment import LocalDeployment, deploy_locally, function_environment
from emulator.event_source import QueueEventSource
from emulator.moto_server import REGION, running_moto_server
from emulator.sample_data import diabetes_csv

# A key that only arrives intact if it is decoded: a space, a plus and folders.
DEMO_KEY = "pipeline-dataset/2026 11/diabetes data+v1.csv"
LOCAL_ROLE_ARN = "arn:aws:iam::123456789012:role/retrain-pipeline-local"


def say(text: str = "") -> None:
    print(text, flush=True)


def create_placeholder_pipeline(name: str) -> str:
    """A pipeline that declares the two parameters every trigger path passes."""
    definition = {
        "Version": "2020-12-01",
        "Parameters": [
            {"Name": "InputBucket", "Type": "String"},
            {"Name": "InputKey", "Type": "String"},
        ],
        "Steps": [],
    }
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    response = sagemaker.create_pipeline(
        PipelineName=name,
        PipelineDefinition=json.dumps(definition),
        RoleArn=LOCAL_ROLE_ARN,
        ClientRequestToken=str(uuid.uuid4()),
    )
    return str(response["PipelineArn"])


def read_notifications(inbox_queue_url: str) -> list[dict[str, Any]]:
    """The SNS envelopes delivered to the inbox queue subscribed to the topic."""
    sqs = boto3.client("sqs", region_name=REGION)
    notifications: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=inbox_queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return notifications
        for message in messages:
            notifications.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=inbox_queue_url, ReceiptHandle=message["ReceiptHandle"])


def show_deployment(deployment: LocalDeployment, endpoint: str, pipeline_arn: str) -> None:
    say(f"moto server        {endpoint}")
    say(f"data bucket        {deployment.bucket}")
    say(f"trigger queue      {deployment.queue_url}")
    say(f"dead-letter queue  {deployment.dead_letter_queue_url}")
    say(f"notification topic {deployment.topic_arn}")
    say(f"pipeline           {pipeline_arn}")


def show_executions(pipeline_name: str) -> int:
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    summaries = sagemaker.list_pipeline_executions(PipelineName=pipeline_name)["PipelineExecutionSummaries"]
    for summary in summaries:
        arn = summary["PipelineExecutionArn"]
        parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)[
            "PipelineParameters"
        ]
        say(f"3. execution       {arn}")
        say(f"   display name    {summary.get('PipelineExecutionDisplayName')}")
        for parameter in parameters:
            say(f"   {parameter['Name']:<15} {parameter['Value']}")
    return len(summaries)


def run_demo(verbose: bool = False) -> int:
    started = time.monotonic()
    with running_moto_server() as endpoint:
        deployment = deploy_locally()
        pipeline_arn = create_placeholder_pipeline(deployment.pipeline_name)
        show_deployment(deployment, endpoint, pipeline_arn)

        os.environ.update(function_environment(deployment))
        if not verbose:  # the function's JSON logs and metrics: --verbose shows them
            os.environ.update(POWERTOOLS_LOG_LEVEL="WARNING", POWERTOOLS_METRICS_DISABLED="true")
        app = importlib.import_module("app")  # the real function, configured as the template configures it
        event_source = QueueEventSource(
            deployment.queue_url, deployment.queue_arn, app.lambda_handler, batch_size=deployment.batch_size
        )
        # S3 sent a test event when the notification was configured; the function acknowledges it.
        event_source.drain(idle_seconds=0.2)

        body = diabetes_csv()
        put = boto3.client("s3", region_name=REGION).put_object(
            Bucket=deployment.bucket, Key=DEMO_KEY, Body=body
        )
        say()
        say(f"1. uploaded        s3://{deployment.bucket}/{DEMO_KEY}")
        say(f"                   {len(body):,} bytes, version {put.get('VersionId')}")

        report = event_source.drain()
        for event in report.events:
            for record in event["Records"]:
                for s3_record in json.loads(record["body"]).get("Records", []):
                    say(f"2. message         {record['messageId']} ({s3_record['eventName']})")
                    say(f"   key as sent     {s3_record['s3']['object']['key']}")
        say(
            f"   handler         {report.invocations} invocation(s), {report.deleted} message(s) deleted, "
            f"{report.reported_failures} reported as failed"
        )
        executions = show_executions(deployment.pipeline_name)

        notifications = read_notifications(deployment.inbox_queue_url)
        for notification in notifications:
            say(f"4. notification    {notification.get('Subject')}")
            for line in notification["Message"].splitlines():
                say(f"   | {line}")

        ok = executions == 1 and len(notifications) == 1
        say()
        say(f"{'done' if ok else 'FAILED'} in {time.monotonic() - started:.1f} s")
        return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--verbose", action="store_true", help="also print the function's logs and metrics")
    return run_demo(verbose=parser.parse_args().verbose)


if __name__ == "__main__":
    sys.exit(main())
