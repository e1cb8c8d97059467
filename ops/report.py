"""`retrain-trigger report [--run EXECUTION] [--open]`: fetch a run's report.html and say where it is."""

from __future__ import annotations

import argparse
import sys
import webbrowser
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from ops.property_files import numbers_by_step
from ops.targets import Targets, need
from pipeline.command_line import CommandError
from pipeline.config import runs_prefix
from trigger.adapters.pipeline_executions import registered_by
from trigger.adapters.run_reports import RunReportReader
from trigger.notifications import package_version
from trigger.run_reports import RunReports


def report_command(args: argparse.Namespace, targets: Targets) -> int:
    pipeline, bucket = need(targets.pipeline_name, "pipeline name"), need(targets.bucket, "bucket")
    return fetch_report(pipeline, bucket, args.run, args.to, open_it=args.open)


def fetch_report(pipeline: str, bucket: str, run: str | None, to: Path, *, open_it: bool = False) -> int:
    """Download the report of ``run`` (an execution id or ARN; the latest run when None) to ``to``."""
    sagemaker, s3 = boto3.client("sagemaker"), boto3.client("s3")
    arn = _execution(sagemaker, pipeline, run)
    reports = RunReportReader(s3, bucket, runs_prefix(pipeline)).read(arn)
    path, not_drawn = _download(s3, bucket, reports, arn, to)
    if path is None and reports.data_report is None and reports.evaluation is None and _ended(sagemaker, arn):
        print("\n".join(what_it_did(sagemaker, arn, s3)))  # another pipeline's run: what its steps produced
        return 0
    if path is None:
        raise CommandError(f"run {arn.rsplit('/', 1)[-1]} has no report: {_why_none(sagemaker, arn, not_drawn)}")
    print(path)
    if open_it and not webbrowser.open(path.as_uri()):
        print(f"no browser could be started here: open {path} yourself", file=sys.stderr)
    return 0


def download_report(s3: Any, bucket: str, pipeline: str, arn: str, to: Path) -> tuple[Path | None, str | None]:
    """The run's report.html copied to ``to`` as report-<execution id>.html, or (None, why Evaluate
    drew none; None when the run never reached Evaluate)."""
    return _download(s3, bucket, RunReportReader(s3, bucket, runs_prefix(pipeline)).read(arn), arn, to)


def _download(s3: Any, bucket: str, reports: RunReports, arn: str, to: Path) -> tuple[Path | None, str | None]:
    if reports.report_uri is None:
        return None, reports.report_not_drawn
    to.mkdir(parents=True, exist_ok=True)
    path = (to / f"report-{arn.rsplit('/', 1)[-1]}.html").resolve()
    key = reports.report_uri.removeprefix(f"s3://{bucket}/")
    path.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    return path, None


def _ended(sagemaker: Any, arn: str) -> bool:
    status = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn).get("PipelineExecutionStatus")
    return status not in ("Executing", "Stopping")


def what_it_did(sagemaker: Any, arn: str, s3: Any | None = None) -> list[str]:
    """The run's steps in order, each with its status, the package it registered, or why it failed,
    and the numbers its property files hold (metrics an evaluation step wrote)."""
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    pages = sagemaker.get_paginator("list_pipeline_execution_steps").paginate(PipelineExecutionArn=arn)
    steps = [step for page in pages for step in page.get("PipelineExecutionSteps", [])]
    numbers = numbers_by_step(sagemaker, s3 or boto3.client("s3"), arn, steps)
    status = described.get("PipelineExecutionStatus")
    lines = [
        f"run {arn.rsplit('/', 1)[-1]} of pipeline {arn.split('/')[1]} ended {status}; it wrote no report.html "
        "(the bundled pipeline's Evaluate draws one). Its steps:"
    ]
    for step in reversed(steps):  # the API lists the newest first
        line = f"  {step.get('StepName', '?'):<24} {step.get('StepStatus', '?'):<10}"
        registered = registered_by(step)
        if registered:
            approval = sagemaker.describe_model_package(ModelPackageName=registered).get("ModelApprovalStatus")
            line += f" registered {package_version(registered)} ({approval})"
        if step.get("FailureReason"):
            line += f" {' '.join(str(step['FailureReason']).split())}"
        lines.append(line.rstrip())
        lines += [f"    {number}" for number in numbers.get(step.get("StepName", ""), [])]
    return lines


def _execution(sagemaker: Any, pipeline: str, run: str | None) -> str:
    """The execution ARN of ``run``, or of the pipeline's latest run."""
    if run and run.startswith("arn:"):
        return run
    summaries = sagemaker.list_pipeline_executions(
        PipelineName=pipeline, SortBy="CreationTime", SortOrder="Descending"
    )["PipelineExecutionSummaries"]
    if run:
        for summary in summaries:
            if summary["PipelineExecutionArn"].rsplit("/", 1)[-1] == run:
                return str(summary["PipelineExecutionArn"])
        raise CommandError(f"no run {run} of pipeline {pipeline}: `retrain-trigger status` lists the recent ones")
    if not summaries:
        raise CommandError(f"pipeline {pipeline} has no runs yet")
    # Sorted here too: an endpoint may ignore SortOrder (moto does).
    latest = max(summaries, key=lambda s: s.get("StartTime") or datetime.min.replace(tzinfo=UTC))
    return str(latest["PipelineExecutionArn"])


def _why_none(sagemaker: Any, arn: str, not_drawn: str | None) -> str:
    if not_drawn:
        return f"Evaluate could not draw it ({not_drawn}); evaluation.json holds the metrics and the decision"
    status = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn).get("PipelineExecutionStatus")
    if status in ("Executing", "Stopping"):
        return "it is still running; Evaluate writes the report near the end"
    return f"it ended ({status}) before Evaluate, which draws the report; `retrain-trigger status` says why"
