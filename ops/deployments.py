"""`retrain-trigger deployments` and `retrain-trigger predict`: what each stage serves, and its answers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import boto3

from ops.targets import Targets
from pipeline.command_line import CommandError
from trigger.adapters.deployment_records import DeploymentRecords
from trigger.adapters.scheduler_table import SchedulerTable
from trigger.deployments import STAGES, StageRecord

ENDPOINT_OUTPUTS = {"staging": "StagingEndpointName", "prod": "ProdEndpointName"}
MAX_BODY_BYTES = 6 * 1024 * 1024  # InvokeEndpoint's payload limit (6 MB)


def deployments_command(args: argparse.Namespace, targets: Targets) -> int:
    return show_deployments(_stack(args, targets))


def predict_command(args: argparse.Namespace, targets: Targets) -> int:
    return predict(_stack(args, targets), args.stage, args.file, args.accept)


def _stack(args: argparse.Namespace, targets: Targets) -> dict[str, str]:
    if not args.stack_name:
        raise CommandError(f"{args.command} needs --stack-name: the stack's endpoints and table")
    return targets.stack


def endpoint_of(stack: dict[str, str], stage: str) -> str:
    name = stack.get(ENDPOINT_OUTPUTS[stage])
    if not name:
        raise CommandError(
            "the stack deploys no model (Deployment=None): deploy it with Deployment=Serverless or Instances"
        )
    return name


def show_deployments(stack: dict[str, str]) -> int:
    records = DeploymentRecords(SchedulerTable(stack["SchedulerTableName"], boto3.client("dynamodb")))
    sagemaker = boto3.client("sagemaker")
    for stage in STAGES:
        endpoint = endpoint_of(stack, stage)
        for line in describe_stage(records.read(stage), endpoint, _status(sagemaker, endpoint)):  # type: ignore[arg-type]
            print(line)
    return 0


def _status(sagemaker: Any, endpoint: str) -> str:
    try:
        return str(sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"])
    except sagemaker.exceptions.ClientError:
        return "not created yet"


def describe_stage(record: StageRecord, endpoint: str, status: str) -> list[str]:
    lines = [f"{record.stage}  {endpoint}  ({status})"]
    if record.serving is None:
        lines.append("  serving     nothing yet")
    else:
        lines.append(f"  serving     version {record.serving.version} since {record.serving_since}")
        lines.append(f"  package     {record.serving.package_arn}")
        if record.serving.execution_arn:
            lines.append(f"  run         {record.serving.execution_arn}")
        if record.serving.source:
            lines.append(f"  upload      {record.serving.source}")
    if record.updating is not None:
        lines.append(f"  updating to version {record.updating.version}")
    if record.last is not None:
        outcome = record.last.kind.replace("_", " ")
        reason = f": {record.last.reason}" if record.last.reason else ""
        lines.append(f"  last        version {record.last.version} {outcome} at {record.last.at}{reason}")
    return lines


def predict(stack: dict[str, str], stage: str, path: Path, accept: str) -> int:
    """Send the CSV's rows to a stage's endpoint and print its answers."""
    body = sys.stdin.buffer.read() if str(path) == "-" else _read(path)
    if not body.strip():
        raise CommandError(f"{path}: no rows to send")
    if len(body) > MAX_BODY_BYTES:
        raise CommandError(f"{path}: {len(body):,} bytes; an endpoint takes at most 6 MB per request: split the file")
    runtime = boto3.client("sagemaker-runtime")
    response = runtime.invoke_endpoint(
        EndpointName=endpoint_of(stack, stage), Body=body, ContentType="text/csv", Accept=accept
    )
    print(response["Body"].read().decode("utf-8").rstrip("\n"))
    return 0


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CommandError(f"{path}: {error.strerror}") from None
