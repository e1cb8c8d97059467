"""What `make demo DRIFT=1` adds: prod receives rows unlike its training data, its data-quality
schedule's execution finds the drift, and the violation becomes one retrain through the trigger queue.

The rows are the last file's, the target left out, each numeric column moved by DRIFT_STANDARD_DEVIATIONS
of its own standard deviation: the change a drifting upstream system makes. Two executions run back
to back: the second's violations are the same request as the first's, and add no run."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pandas as pd

from emulator.deploy_function import LocalDeployFunction
from emulator.model_monitor import run_execution
from emulator.moto_server import REGION
from pipeline.steps import data_quality

DRIFT_REQUESTS = 40  # requests sent to prod, DRIFT_ROWS_PER_REQUEST rows each
DRIFT_ROWS_PER_REQUEST = 5
DRIFT_STANDARD_DEVIATIONS = 2.0


def shifted_requests(body: bytes, target: str, seed: int = 0) -> list[bytes]:
    """CSV requests (a header and a few rows each) of the file's rows with every numeric column shifted,
    written as the file is (its separator, and decimal commas in a semicolon or tab file)."""
    import csv

    text = body.decode("utf-8-sig", errors="replace")
    separator = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
    decimal = "," if separator in ";\t" else "."
    frame = pd.read_csv(io.StringIO(text), sep=separator, decimal=decimal)
    frame = frame.drop(columns=[target], errors="ignore")
    for column in frame.select_dtypes("number").columns:
        values = frame[column]
        moved = values + DRIFT_STANDARD_DEVIATIONS * values.std(ddof=0)
        # whole numbers stay whole ("59", not "68.93"): the change is in the values, not their type
        frame[column] = moved.round().astype("Int64") if values.dropna().mod(1).eq(0).all() else moved
    rows = frame.sample(n=DRIFT_REQUESTS * DRIFT_ROWS_PER_REQUEST, replace=True, random_state=seed)
    return [
        rows.iloc[start : start + DRIFT_ROWS_PER_REQUEST].to_csv(index=False, sep=separator, decimal=decimal).encode()
        for start in range(0, len(rows), DRIFT_ROWS_PER_REQUEST)
    ]


def send_to_prod(deploy: LocalDeployFunction, requests: list[bytes]) -> tuple[int, str]:
    """The requests, as a caller sends them: how many prod answered, and the first refusal's reason."""
    runtime = boto3.client("sagemaker-runtime", region_name=REGION)
    answered, refused = 0, ""
    for request in requests:
        try:
            runtime.invoke_endpoint(EndpointName=deploy.prod_endpoint, Body=request, ContentType="text/csv")
        except runtime.exceptions.ClientError as error:
            refused = refused or str(error.response.get("Error", {}).get("Message", error))
            continue
        answered += 1
    return answered, refused


def monitor(
    say: Callable[[str], None], schedule: str, number: str, seconds_later: int = 1, *, each: bool = True
) -> dict[str, Any]:
    """One execution of prod's schedule over the hour up to now; what it found (``each``: every violation)."""
    summary = run_execution(schedule, datetime.now(UTC) + timedelta(seconds=seconds_later))
    found = violations_of(summary)
    counted = f" ({len(found)} violations)" if found and not each else ""
    say(f"{number} monitoring      {schedule}: {summary['MonitoringExecutionStatus']}{counted}")
    for violation in found if each else []:
        say(f"   {violation['feature_name']:<14} {violation['constraint_check_type']}: {violation['description']}")
    if summary.get("FailureReason"):
        say(f"   failed: {summary['FailureReason']}")
    return summary


def violations_of(summary: dict[str, Any]) -> list[dict[str, str]]:
    import json

    sagemaker, s3 = boto3.client("sagemaker", region_name=REGION), boto3.client("s3", region_name=REGION)
    job = sagemaker.describe_processing_job(ProcessingJobName=str(summary["ProcessingJobArn"]).rsplit("/", 1)[-1])
    uri = str(job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"])
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    try:
        body = s3.get_object(Bucket=bucket, Key=f"{prefix}/{data_quality.VIOLATIONS_FILE}")["Body"].read()
    except s3.exceptions.NoSuchKey:
        return []
    return list(json.loads(body)["violations"])
