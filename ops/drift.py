"""`retrain-trigger drift`: prod's data-quality monitoring executions, newest first: when, the status
(Completed, CompletedWithViolations, Failed), each violation, and whether it asked for a retrain.

An execution with violations asks for one retrain per baseline (trigger/sources/monitoring_execution.py):
the first against the baseline prod serves asks, and later ones against the same baseline are that
same request, which adds nothing."""

from __future__ import annotations

import argparse
import json
from typing import Any

import boto3

from ops.targets import Targets
from ops.times import readable
from pipeline.command_line import CommandError
from trigger.sources.monitoring_execution import BASELINE_ENVIRONMENT, VIOLATIONS_FILE

SCHEDULE_OUTPUT = "MonitoringScheduleName"


def drift_command(args: argparse.Namespace, targets: Targets) -> int:
    if not args.stack_name:
        raise CommandError("drift needs --stack-name: the stack's monitoring schedule")
    schedule = targets.stack.get(SCHEDULE_OUTPUT)
    if not schedule:
        raise CommandError(
            "the stack watches no drift: deploy it with Deployment=Instances and DriftMonitoring=DataQuality "
            "(serverless endpoints support neither data capture nor Model Monitor)"
        )
    return show_drift(schedule, args.limit)


def show_drift(schedule: str, limit: int) -> int:
    sagemaker, s3 = boto3.client("sagemaker"), boto3.client("s3")
    summaries = _summaries(sagemaker, schedule)
    if not summaries:
        print(f"{schedule}: no monitoring execution yet (prod is checked once deployed, at each scheduled time)")
        return 0
    executions = [(summary, _job(sagemaker, summary)) for summary in summaries]
    asked = _asking(executions)
    for summary, job in executions[:limit]:
        retrain = asked.get(str(summary.get("ProcessingJobArn", "")), "")
        for line in describe_execution(summary, _violations(s3, job), retrain):
            print(line)
    return 0


def _summaries(sagemaker: Any, schedule: str) -> list[dict[str, Any]]:
    try:
        answer = sagemaker.list_monitoring_executions(MonitoringScheduleName=schedule, MaxResults=100)
    except sagemaker.exceptions.ClientError as error:
        message = error.response["Error"].get("Message", "")
        raise CommandError(f"cannot list the executions of {schedule}: {message}") from None
    return [dict(summary) for summary in answer["MonitoringExecutionSummaries"]]


def describe_execution(summary: dict[str, Any], violations: list[dict[str, str]], retrain: str) -> list[str]:
    status = str(summary.get("MonitoringExecutionStatus", "?"))
    lines = [f"{readable(summary['ScheduledTime'])}  {status}"]
    if summary.get("FailureReason"):
        lines.append(f"  failed: {summary['FailureReason']} (no retrain)")
    for item in violations:
        check = f"{item.get('feature_name', '?')}: {item.get('constraint_check_type', '?')}"
        lines.append(f"  {check}: {item.get('description', '')}")
    if status == "CompletedWithViolations":
        lines.append(f"  retrain: {retrain}")
    return lines


def _asking(executions: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, str]:
    """Per execution with violations: the one that asked for its baseline's retrain, or the same request."""
    first: dict[str, str] = {}
    said: dict[str, str] = {}
    for summary, job in reversed(executions):  # oldest first
        if summary.get("MonitoringExecutionStatus") != "CompletedWithViolations":
            continue
        baseline = job.get("Environment", {}).get(BASELINE_ENVIRONMENT, "")
        arn = str(summary.get("ProcessingJobArn", ""))
        if baseline in first:
            said[arn] = f"the same request as {first[baseline]} (one retrain per baseline: nothing new)"
        else:
            first[baseline] = readable(summary["ScheduledTime"])
            said[arn] = "asked for one (`retrain-trigger status` shows the run that took it)"
    return said


def _job(sagemaker: Any, summary: dict[str, Any]) -> dict[str, Any]:
    arn = summary.get("ProcessingJobArn")
    if not arn:
        return {}
    try:
        return dict(sagemaker.describe_processing_job(ProcessingJobName=str(arn).rsplit("/", 1)[-1]))
    except sagemaker.exceptions.ClientError:
        return {}


def _violations(s3: Any, job: dict[str, Any]) -> list[dict[str, str]]:
    outputs = job.get("ProcessingOutputConfig", {}).get("Outputs", [])
    if not outputs:
        return []
    bucket, _, prefix = str(outputs[0]["S3Output"]["S3Uri"]).removeprefix("s3://").partition("/")
    try:
        body = s3.get_object(Bucket=bucket, Key=f"{prefix.rstrip('/')}/{VIOLATIONS_FILE}")["Body"].read()
    except s3.exceptions.ClientError:
        return []
    found = json.loads(body).get("violations", [])
    return [item for item in found if isinstance(item, dict)]
