"""`make demo`: an upload becomes a registered model, on this machine, against moto.

    python -m emulator.demo [--verbose]

moto's server plays AWS; the resources are those template.yaml declares; the pipeline is the real
definition built with the SageMaker SDK and upserted; the real Lambda handler starts the run; the
local runner executes that run's steps.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from emulator.deployment import LocalDeployment, deploy_locally, function_environment
from emulator.event_source import QueueEventSource
from emulator.lambda_context import LocalLambdaContext
from emulator.moto_server import REGION, running_moto_server
from emulator.pipeline_runner import LocalPipelineRunner, RunResult, StepResult
from emulator.sample_data import diabetes_csv
from emulator.status_events import status_change_event
from pipeline.cli import upsert
from pipeline.config import PipelineConfig
from pipeline.definition import definition_json

# A key that only arrives intact if it is decoded: a space, a plus and folders.
DEMO_KEY = "pipeline-dataset/2026 11/diabetes data+v1.csv"
LOCAL_ROLE_ARN = "arn:aws:iam::123456789012:role/retrain-trigger-local-pipeline-us-east-1"


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


def local_pipeline_config(deployment: LocalDeployment) -> PipelineConfig:
    return PipelineConfig(
        region=REGION,
        role_arn=LOCAL_ROLE_ARN,
        default_bucket=deployment.bucket,
        pipeline_name=deployment.pipeline_name,
        model_package_group_name=deployment.parameters["ModelPackageGroupName"],
    )


def _fresh_import(module: str) -> Any:
    """Import a function's module now, so that its clients and settings follow the current environment."""
    if module in sys.modules:
        return importlib.reload(sys.modules[module])
    return importlib.import_module(module)


@dataclass
class DemoOutcome:
    ok: bool
    upload_to_registered_seconds: float | None


class Demo:
    def __init__(self, say: Callable[[str], None] = print, verbose: bool = False) -> None:
        self.say = say
        self.verbose = verbose

    def run(self, data: bytes | None = None) -> DemoOutcome:
        started = time.monotonic()
        with running_moto_server() as endpoint:
            deployment = deploy_locally()
            config = local_pipeline_config(deployment)
            self.say("building the pipeline definition with the SageMaker SDK (offline) ...")
            pipeline_arn = upsert(config, definition_json(config))
            self.show_deployment(deployment, endpoint, pipeline_arn)
            event_source = self.start_function(deployment)

            body = data if data is not None else diabetes_csv()
            uploaded_at = time.monotonic()
            s3 = boto3.client("s3", region_name=REGION)
            put = s3.put_object(Bucket=deployment.bucket, Key=DEMO_KEY, Body=body)
            self.say("")
            self.say(f"1. uploaded        s3://{deployment.bucket}/{DEMO_KEY}")
            self.say(f"                   {len(body):,} bytes, version {put.get('VersionId')}")

            self.show_messages(event_source)
            execution_arn = self.started_execution(deployment.pipeline_name)
            notifications = self.show_notifications(deployment)
            if execution_arn is None:
                self.say("FAILED: the upload did not start exactly one execution")
                return DemoOutcome(ok=False, upload_to_registered_seconds=None)

            self.say("5. the execution's steps, run locally from the definition SageMaker holds:")
            result = LocalPipelineRunner(on_step=self.show_step).run(execution_arn)
            registered = time.monotonic() - uploaded_at if result.model_package_arn else None
            self.show_summary(result, config, registered)
            told = self.tell_run_status(deployment, result)

            ok = (
                result.status == "Succeeded"
                and result.model_package_arn is not None
                and len(notifications) == 1
                and len(told) == 1
            )
            self.say("")
            self.say(f"{'done' if ok else 'FAILED'} in {time.monotonic() - started:.1f} s")
            return DemoOutcome(ok=ok, upload_to_registered_seconds=registered)

    def start_function(self, deployment: LocalDeployment) -> QueueEventSource:
        """The real function, configured as the template configures it, behind a local event source."""
        os.environ.update(function_environment(deployment))
        if not self.verbose:  # the function's JSON logs and metrics: --verbose shows them
            os.environ.update(POWERTOOLS_LOG_LEVEL="WARNING", POWERTOOLS_METRICS_DISABLED="true")
        app = _fresh_import("app")
        event_source = QueueEventSource(
            deployment.queue_url, deployment.queue_arn, app.lambda_handler, batch_size=deployment.batch_size
        )
        # S3 sent a test event when the notification was configured; the function acknowledges it.
        event_source.drain(idle_seconds=0.2)
        return event_source

    def tell_run_status(self, deployment: LocalDeployment, result: RunResult) -> list[dict[str, Any]]:
        """What SageMaker's status event makes the run status function send, as a person reads it."""
        os.environ.update(function_environment(deployment, "RunStatusFunction"))
        notify = _fresh_import("notify")
        notify.lambda_handler(status_change_event(result), LocalLambdaContext(function_name="run-status"))
        notifications = read_notifications(deployment.inbox_queue_url)
        self.say("")
        for notification in notifications:
            self.say(f"6. notification    {notification.get('Subject')}")
            for line in notification["Message"].splitlines():
                self.say(f"   | {line}")
        return notifications

    def show_deployment(self, deployment: LocalDeployment, endpoint: str, pipeline_arn: str) -> None:
        self.say(f"moto server        {endpoint}")
        self.say(f"data bucket        {deployment.bucket}")
        self.say(f"trigger queue      {deployment.queue_url}")
        self.say(f"dead-letter queue  {deployment.dead_letter_queue_url}")
        self.say(f"notification topic {deployment.topic_arn}")
        self.say(f"pipeline           {pipeline_arn}")

    def show_messages(self, event_source: QueueEventSource) -> None:
        report = event_source.drain()
        for event in report.events:
            for record in event["Records"]:
                for s3_record in json.loads(record["body"]).get("Records", []):
                    self.say(f"2. message         {record['messageId']} ({s3_record['eventName']})")
                    self.say(f"   key as sent     {s3_record['s3']['object']['key']}")
        self.say(
            f"   handler         {report.invocations} invocation(s), {report.deleted} message(s) deleted, "
            f"{report.reported_failures} reported as failed"
        )

    def started_execution(self, pipeline_name: str) -> str | None:
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        summaries = sagemaker.list_pipeline_executions(PipelineName=pipeline_name)["PipelineExecutionSummaries"]
        if len(summaries) != 1:
            return None
        arn = str(summaries[0]["PipelineExecutionArn"])
        parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)["PipelineParameters"]
        self.say(f"3. execution       {arn}")
        self.say(f"   display name    {summaries[0].get('PipelineExecutionDisplayName')}")
        for parameter in parameters:
            self.say(f"   {parameter['Name']:<15} {parameter['Value']}")
        return arn

    def show_notifications(self, deployment: LocalDeployment) -> list[dict[str, Any]]:
        notifications = read_notifications(deployment.inbox_queue_url)
        for notification in notifications:
            self.say(f"4. notification    {notification.get('Subject')}")
            for line in notification["Message"].splitlines():
                self.say(f"   | {line}")
        return notifications

    def show_step(self, step: StepResult) -> None:
        timing = f"{step.seconds:6.1f} s" if step.status != "Skipped" else " " * 8
        self.say(f"   {step.name:<18} {step.step_type:<14} {step.status:<10}{timing}  {step.detail[:64]}")

    def show_summary(self, result: RunResult, config: PipelineConfig, upload_to_registered: float | None) -> None:
        say = self.say
        say("")
        say("Summary")
        say(f"  execution        {result.execution_arn}")
        say(f"  status           {result.status}{': ' + result.failure_reason if result.failure_reason else ''}")
        say(f"  {'step':<18} {'type':<14} {'status':<10} duration")
        for step in result.steps:
            duration = f"{step.seconds:.1f} s" if step.status != "Skipped" else "-"
            say(f"  {step.name:<18} {step.step_type:<14} {step.status:<10} {duration}")
        report = result.evaluation
        if report:
            metrics = report["regression_metrics"]
            say(
                f"  metrics          MSE {metrics['mse']['value']:.1f}   RMSE {metrics['rmse']['value']:.2f}   "
                f"R2 {metrics['r2']['value']:.3f}   test rows {report['rows']['test']}"
            )
        if result.model_package_arn:
            sagemaker = boto3.client("sagemaker", region_name=REGION)
            package = sagemaker.describe_model_package(ModelPackageName=result.model_package_arn)
            say(f"  model package    {result.model_package_arn} ({package['ModelApprovalStatus']})")
            say(f"  model            {package['InferenceSpecification']['Containers'][0]['ModelDataUrl']}")
        execution_id = result.execution_arn.rsplit("/", 1)[-1]
        say(f"  artefacts        {config.artifacts_uri}/runs/{execution_id}/ (splits, evaluation.json)")
        if upload_to_registered is not None:
            say(f"  upload -> registered model: {upload_to_registered:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="also print the function's logs and metrics")
    outcome = Demo(say=lambda text: print(text, flush=True), verbose=parser.parse_args().verbose).run()
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
