"""What `make demo` shows of the deployment: each approval going through staging, its smoke check and
prod, and prod answering rows of the user's own file, through InvokeEndpoint as a caller sends them."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import boto3

from emulator.deploy_function import LocalDeployFunction
from emulator.moto_server import REGION

PREDICTED_ROWS = 3
# The demo's bake: prod's new fleet takes all traffic and the rollback alarms are watched this long
# (the template's CanaryWaitIntervalInSeconds is 600 s: the demo passes a shorter one, and says so).
DEMO_BAKE_SECONDS = "2"
DEMO_DEPLOYMENT = {"Deployment": "Serverless", "CanaryWaitIntervalInSeconds": DEMO_BAKE_SECONDS}
# DRIFT=1: prod on an instance (serverless endpoints support neither data capture nor Model Monitor).
DEMO_DRIFT_DEPLOYMENT = {**DEMO_DEPLOYMENT, "Deployment": "Instances", "EndpointInstanceCount": "1"}


def show_deployment_steps(say: Callable[[str], None], deploy: LocalDeployFunction, number: str) -> None:
    """Let the deployments that the run's approval started end, and say what each step did."""
    first = len(deploy.handled)
    deploy.settle()
    for handled in deploy.handled[first:]:
        detail, answer = handled["detail"], handled["answer"] or {}
        if "EndpointName" in detail:
            what = f"{detail['EndpointName']} {detail['EndpointStatus']}"
        else:
            what = f"package version {detail.get('ModelPackageVersion')} {detail.get('ModelApprovalStatus')}"
        say(f"{number} deploy          {what}: {answer.get('step', '')} ({answer.get('reason', '')})")


def prod_execution(deploy: LocalDeployFunction) -> str:
    """The run whose model prod serves ("" when prod serves nothing), from the deploy function's own records."""
    serving = deploy.deployer.stage("prod").serving
    return str(serving.execution_arn or "") if serving else ""


def show_prod(
    say: Callable[[str], None], deploy: LocalDeployFunction, body: bytes | None, target: str, serving: str = ""
) -> None:
    """Prod answering a few rows of the file its model was trained on (the target left out), as a caller
    would; ``serving``: which version that is, and its file."""
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=deploy.prod_endpoint)
    except sagemaker.exceptions.ClientError:
        endpoint = None
    if endpoint is None or body is None:
        say("  prod             nothing deployed yet (no model was approved)")
        return
    rows = _rows_without(body, target, PREDICTED_ROWS)
    runtime = boto3.client("sagemaker-runtime", region_name=REGION)
    say(f"  prod             {deploy.prod_endpoint} on {endpoint['EndpointConfigName']}")
    if serving:
        say(f"  serving          {serving}")
    try:
        answer = runtime.invoke_endpoint(
            EndpointName=deploy.prod_endpoint, Body=rows, ContentType="text/csv", Accept="text/csv"
        )
    except runtime.exceptions.ClientError as error:
        say(f"  prod refused     the rows of its training file: {error.response['Error'].get('Message', error)}")
        return
    say(f"  prod answers     {PREDICTED_ROWS} rows of the file, {target!r} left out, sent as text/csv:")
    lines = rows.decode("utf-8").splitlines()
    for row, predicted in zip(lines[1:], answer["Body"].read().decode("utf-8").splitlines(), strict=False):
        say(f"   {predicted:>14} <- {row[:90]}")


def _rows_without(body: bytes, target: str, count: int) -> bytes:
    """The header and the first rows of a CSV, without the target column (what a caller has)."""
    text = body.decode("utf-8-sig", errors="replace")
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    columns = [column for column in reader.fieldnames or [] if column != target]
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=columns, extrasaction="ignore", delimiter=dialect.delimiter, lineterminator="\n"
    )
    writer.writeheader()
    for number, row in enumerate(reader):
        if number >= count:
            break
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def deployment_summary(deploy: LocalDeployFunction) -> list[dict[str, Any]]:
    """The deploy function's answers, for --json."""
    return [handled["answer"] for handled in deploy.handled]
