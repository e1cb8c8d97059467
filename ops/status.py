"""`retrain-trigger status`: each recent run, what it trained on, how it scored against production,
what it registered, why it failed; then what never became a run."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

import boto3

from ops import dead_letters
from ops.targets import Targets, need
from ops.times import readable
from pipeline.config import runs_prefix
from trigger.adapters.pipeline_executions import PipelineExecutions
from trigger.adapters.run_reports import RunReportReader
from trigger.reports import describe_metrics
from trigger.run_reports import RunReports

MAX_PACKAGES_SHOWN = 100  # status looks up the registrations of runs among the group's latest packages


def status_command(args: argparse.Namespace, targets: Targets) -> int:
    return status(targets, args.limit)


def status(targets: Targets, limit: int) -> int:
    """Each recent run: status, what it trained on, how it scored against production, what it registered."""
    sagemaker = boto3.client("sagemaker")
    s3 = boto3.client("s3")
    pipeline = need(targets.pipeline_name, "pipeline name")
    summaries = sagemaker.list_pipeline_executions(
        PipelineName=pipeline, SortBy="CreationTime", SortOrder="Descending", MaxResults=limit
    )["PipelineExecutionSummaries"]
    # Sorted and trimmed here too: an endpoint may ignore SortOrder and MaxResults (moto does).
    summaries = sorted(summaries, key=lambda s: s.get("StartTime") or datetime.min.replace(tzinfo=UTC), reverse=True)[
        :limit
    ]
    packages = _packages_by_execution(sagemaker, targets.model_package_group)
    print(f"{len(summaries)} most recent execution(s) of {pipeline}")
    for summary in summaries:
        for line in _run_report(sagemaker, s3, targets, dict(summary), packages):
            print(line)
    dead_letters.summary(targets)
    return 0


def _run_report(
    sagemaker: Any, s3: Any, targets: Targets, summary: dict[str, Any], packages: dict[str, dict[str, Any]]
) -> list[str]:
    """One run's lines: its id, status and start, then what it did."""
    arn, status = summary["PipelineExecutionArn"], summary.get("PipelineExecutionStatus", "?")
    pipeline = arn.split("/")[1]
    parameters = {
        p["Name"]: p["Value"]
        for p in sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)["PipelineParameters"]
    }
    # Runs write their reports under the data bucket.
    bucket = targets.bucket or parameters.get("InputBucket", "")
    reports = RunReportReader(s3, bucket, runs_prefix(pipeline)).read(arn) if bucket else None
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    lines = [
        f"- {arn.rsplit('/', 1)[-1]}  {status:<10} {readable(summary.get('StartTime'))}",
        f"    execution    {arn}",
    ]
    running = _running_step(sagemaker, arn) if status == "Executing" else None
    if running:
        lines.append(f"    running      {running}")
    steps = PipelineExecutions(sagemaker).steps_of(arn)
    failure = described.get("FailureReason")
    if status == "Failed" and not failure and steps.failed:
        failure = f"step {steps.failed[0]}: {steps.failed[1]}"
    package = packages.get(arn) or _registered(sagemaker, steps.registered)
    return lines + [
        f"    {line}" for line in run_lines(s3, parameters, reports, package, failure, described=dict(described))
    ]


def _running_step(sagemaker: Any, arn: str) -> str | None:
    """The step a run is in, and since when."""
    for step in sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn).get("PipelineExecutionSteps", []):
        if step.get("StepStatus") == "Executing":
            started = step.get("StartTime")
            return f"step {step.get('StepName')}" + (f" since {readable(started)}" if started else "")
    return None


def _registered(sagemaker: Any, packages: tuple[str, ...]) -> dict[str, Any] | None:
    """The package a run's register step created (any pipeline, any group), as DescribeModelPackage tells it."""
    return dict(sagemaker.describe_model_package(ModelPackageName=packages[-1])) if packages else None


def run_lines(
    s3: Any,
    parameters: dict[str, str],
    reports: RunReports | None,
    package: dict[str, Any] | None,
    failure: str | None,
    *,
    described: dict[str, Any] | None = None,
) -> list[str]:
    """What one run trained on, scored, decided, registered and why it failed, a line each."""
    data_report = (reports.data_report if reports else None) or {}
    evaluation = (reports.evaluation if reports else None) or {}
    lines = [f"cause        {(described or {}).get('PipelineExecutionDescription') or 'not recorded'}"]
    lines += _input_lines(s3, parameters, data_report.get("lineage") or {})
    lines += _evaluation_lines(evaluation)
    if package:
        lines.append(f"model        {package['ModelPackageArn']} ({package['ModelApprovalStatus']})")
    reason = (reports.refusal if reports else None) or failure
    if reason:
        lines.append(f"failure      {' '.join(reason.split())}")  # a container's message may span lines
    return lines


def _input_lines(s3: Any, parameters: dict[str, str], lineage: dict[str, Any]) -> list[str]:
    if lineage.get("objects"):
        mode = parameters.get("TrainingData", "NewObjects")
        lines = [f"trained on   {lineage['object_count']} object(s), TrainingData={mode}, input {lineage['input']}"]
        bucket = lineage["bucket"]
        return lines + [f"               s3://{bucket}/{o['key']} ({o['size']:,} bytes)" for o in lineage["objects"]]
    if "InputBucket" in parameters:
        return [f"started for  {key}" for key in _objects_of(s3, parameters)]
    # a pipeline of one's own: what the trigger passed
    return ["parameters   " + ", ".join(f"{name}={value}" for name, value in parameters.items())]


def _evaluation_lines(evaluation: dict[str, Any]) -> list[str]:
    if not evaluation.get("metrics"):
        return []
    lines = [f"metrics      {describe_metrics(evaluation['metrics'])}"]
    champion = evaluation.get("champion") or {}
    if champion.get("metrics"):
        lines.append(f"champion     {describe_metrics(champion['metrics'])} ({champion['model_package_arn']})")
    elif champion:
        lines.append(f"champion     {champion['model_package_arn']}: not compared, {champion.get('reason')}")
    else:
        lines.append("champion     none: no Approved model in the group")
    if (evaluation.get("decision") or {}).get("summary"):
        lines.append(f"decision     {evaluation['decision']['summary']}")
    return lines


def _packages_by_execution(sagemaker: Any, group: str | None) -> dict[str, dict[str, Any]]:
    """The group's latest model packages, by the execution that registered them (their lineage metadata)."""
    if not group:
        return {}
    found: dict[str, dict[str, Any]] = {}
    pages = sagemaker.get_paginator("list_model_packages").paginate(
        ModelPackageGroupName=group,
        SortBy="CreationTime",
        SortOrder="Descending",
        PaginationConfig={"MaxItems": MAX_PACKAGES_SHOWN},
    )
    for page in pages:
        for item in page["ModelPackageSummaryList"]:
            package = sagemaker.describe_model_package(ModelPackageName=item["ModelPackageArn"])
            execution = (package.get("CustomerMetadataProperties") or {}).get("ExecutionArn")
            if execution:
                found[execution] = package
    return found


def _objects_of(s3: Any, parameters: dict[str, str]) -> list[str]:
    bucket, key = parameters.get("InputBucket", "?"), parameters.get("InputKey", "?")
    if parameters.get("InputDataType") != "ManifestFile":
        return [f"s3://{bucket}/{key}"]
    listing_key = f"{key.rsplit('/', 1)[0]}/objects.json"
    listing = json.loads(s3.get_object(Bucket=bucket, Key=listing_key)["Body"].read())
    return [f"s3://{o['bucket']}/{o['key']} (version {o['version'] or '-'})" for o in listing["objects"]]
