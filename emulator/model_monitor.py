"""A data-quality monitoring execution, in the place of Model Monitor's analyser (the
sagemaker-model-monitor-analyzer image, which is not public).

What it does is what AWS documents for a data-quality schedule (developer guide, "Data quality",
"Schema for Statistics", "Schema for Constraints", "Schema for Violations"; API reference,
ListMonitoringExecutions, MonitoringExecutionSummary):
- reads the endpoint's captured requests (emulator/data_capture.py's JSON Lines) of the schedule's
  window: the hour before the execution (a day for a daily schedule);
- reads them as rows with the baseline's columns: a request with a header names its columns, one
  without gives the baseline's columns in their order (a cell past them is an extra column, `_c<n>`);
- writes statistics.json and constraint_violations.json under the schedule's output, in
  <output>/<endpoint>/<schedule>/yyyy/mm/dd/hh/, with pipeline/steps/data_quality.py (the same code
  that writes the baseline);
- ends `Completed` or `CompletedWithViolations` (its processing job's ExitMessage says which, with the
  count), or `Failed` with a reason: no captured data ("Job inputs had no data"), a baseline that
  cannot be read;
- keeps the execution for ListMonitoringExecutions and its processing job in moto, and emits the
  job's "SageMaker Processing Job State Change" event, its detail as DescribeProcessingJob gives it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pandas as pd
from botocore.exceptions import ClientError

from emulator import monitoring_schedules
from emulator.moto_server import REGION
from pipeline.steps import data_quality

NO_DATA = "Job inputs had no data"
DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


class ExecutionFailed(Exception):
    """Why an execution failed (its FailureReason)."""


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


def window_of(expression: str, end: datetime) -> Window:
    """The captured data an execution reads: the hour before it, or the day for a daily schedule."""
    return Window(end - (timedelta(days=1) if _daily(expression) else timedelta(hours=1)), end)


def _daily(expression: str) -> bool:
    return expression.replace(" ", "").startswith("cron(00")


def run_due(now: datetime | None = None, every_seconds: int = 0) -> list[dict[str, Any]]:
    """The executions whose scheduled time has come since each schedule's last (at the hour, or at
    midnight for a daily schedule, as SageMaker starts them; every ``every_seconds`` instead, on a
    local stack asked for it); their summaries."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    ran = []
    for schedule in monitoring_schedules.all_schedules(_backend()):
        expression = schedule.config.get("ScheduleConfig", {}).get("ScheduleExpression", "")
        if every_seconds > 0:
            due = datetime.fromtimestamp(now.timestamp() // every_seconds * every_seconds, UTC)
        else:
            hour = now.replace(minute=0, second=0, microsecond=0)
            due = hour.replace(hour=0) if _daily(expression) else hour
        last = schedule.executions[-1]["ScheduledTime"] if schedule.executions else schedule.created
        if due > last:
            ran.append(run_execution(schedule.name, due))
    return ran


def run_execution(name: str, end: datetime | None = None, *, s3: Any = None) -> dict[str, Any]:
    """One execution of schedule ``name`` ending at ``end`` (now): its MonitoringExecutionSummary.
    ``s3``: the client the job reads and writes with, as its RoleArn (the IAM-enforced test signs it
    as the stack's MonitoringRole); SageMaker's own calls (the endpoint, the job, the event) are not the role's."""
    schedule = monitoring_schedules.schedule(_backend(), name)
    job = schedule.config["MonitoringJobDefinition"]
    end = (end or datetime.now(UTC)).astimezone(UTC)
    window = window_of(schedule.config.get("ScheduleConfig", {}).get("ScheduleExpression", ""), end)
    output = f"{_output_uri(job)}/{schedule.endpoint_name}/{name}/{end:%Y/%m/%d/%H}"
    if end.minute or end.second:  # an execution off the hour (local only): a folder of its own in the hour's
        output += f"/{end:%M%S}"
    s3 = s3 or boto3.client("s3", region_name=REGION)
    try:
        count = analyse(s3, job, schedule.endpoint_name, window, output)
        status = "CompletedWithViolations" if count else "Completed"
        exit_message = f"{status}: Job completed successfully with {count or 'no'} violations."
        reason = ""
    except ExecutionFailed as failed:
        status, exit_message, reason = "Failed", "", str(failed)
    job_name = f"model-monitoring-{end:%Y%m%d%H%M}-{uuid.uuid4().hex[:8]}"
    detail = job_detail(job_name, schedule, job, output, status, exit_message, reason, window)
    job_arn = _record_job(detail)
    summary = {
        "MonitoringScheduleName": name,
        "ScheduledTime": end,
        "CreationTime": end,
        "LastModifiedTime": datetime.now(UTC),
        "MonitoringExecutionStatus": status,
        "ProcessingJobArn": job_arn,
        "EndpointName": schedule.endpoint_name,
        **({"FailureReason": reason} if reason else {}),
    }
    monitoring_schedules.add_execution(_backend(), name, summary)
    _emit(detail)
    return summary


def analyse(s3: Any, job: dict[str, Any], endpoint: str, window: Window, output: str) -> int:
    """Statistics and violations of the window's captured requests; the number of violations."""
    captured = capture_uri(endpoint)
    baseline = job.get("BaselineConfig", {})
    statistics = _read_json(s3, baseline.get("StatisticsResource", {}).get("S3Uri", ""), "baseline statistics")
    constraints = _read_json(s3, baseline.get("ConstraintsResource", {}).get("S3Uri", ""), "baseline constraints")
    current, found = analyse_records(_records(s3, captured, window), statistics, constraints)
    _write_json(s3, f"{output}/{data_quality.STATISTICS_FILE}", current)
    _write_json(s3, f"{output}/{data_quality.VIOLATIONS_FILE}", {"violations": found})
    return len(found)


def analyse_records(
    records: Iterable[dict[str, Any]], statistics: dict[str, Any], constraints: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The captured requests' statistics.json and violations against the baseline (ExecutionFailed: none)."""
    rows = captured_rows(records, [str(feature["name"]) for feature in statistics.get("features", [])])
    if rows.empty:
        raise ExecutionFailed(NO_DATA)
    return data_quality.statistics(rows), data_quality.violations(statistics, constraints, rows)


def captured_rows(records: Iterable[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """Every captured request's rows, one column per feature, each cell as the text sent (missing: NA)."""
    plain: list[str] = []  # comma-separated requests without a header: read together, at once
    frames: list[pd.DataFrame] = []
    for document in records:
        text = _text_of(document.get("captureData", {}).get("endpointInput", {}))
        if not text.strip():
            continue
        first = text.split("\n", 1)[0]
        if _separator(first) == "," and '"' not in text and not _is_header(first.split(","), columns):
            plain.append(text if text.endswith("\n") else text + "\n")
            continue
        table = _read_body(text)
        if table and _is_header(table[0], columns):
            frames.append(pd.DataFrame(table[1:], columns=[c.strip() for c in table[0]], dtype=object))
        elif table:
            frames.append(_positional(table, columns))
    if plain:
        frames.append(_read_plain("".join(plain), columns))
    frames = [frame.loc[:, ~frame.columns.duplicated()] for frame in frames if not frame.empty]
    return pd.concat(frames, ignore_index=True).replace("", None) if frames else pd.DataFrame()


def _positional(table: list[list[str]], columns: list[str]) -> pd.DataFrame:
    width = max(len(row) for row in table)
    names = columns + [f"_c{n}" for n in range(len(columns), width)]
    return pd.DataFrame([row + [""] * (width - len(row)) for row in table], columns=names[:width], dtype=object)


def _read_plain(text: str, columns: list[str]) -> pd.DataFrame:
    """Headerless comma-separated rows: the baseline's columns in their order, cells past them `_c<n>`."""
    width = max(line.count(",") for line in text.splitlines() if line) + 1
    names = columns + [f"_c{n}" for n in range(len(columns), width)]
    frame = pd.read_csv(
        io.StringIO(text), header=None, names=names[: max(width, len(columns))], dtype=str, keep_default_na=False
    )
    extra = [name for name in frame.columns[len(columns) :] if (frame[name] == "").all()]
    return frame.drop(columns=extra).iloc[:, :width] if extra else frame.iloc[:, : max(width, 0)]


def _separator(line: str) -> str:
    return max((",", ";", "\t"), key=line.count)


def _text_of(captured: dict[str, Any]) -> str:
    import base64

    data = str(captured.get("data", ""))
    if captured.get("encoding") == "BASE64":
        return base64.b64decode(data).decode("utf-8-sig", errors="replace")
    return data.removeprefix("\ufeff")


def _read_body(text: str) -> list[list[str]]:
    """A CSV request as the endpoint reads one: comma, semicolon or tab (the one its first line holds
    most of), decimal commas in a semicolon or tab request."""
    separator = _separator(text.splitlines()[0])
    rows = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=separator) if row]
    if separator != ",":
        rows = [[cell.replace(",", ".") if DECIMAL_COMMA.match(cell) else cell for cell in row] for row in rows]
    return rows


def _is_header(row: list[str], columns: list[str]) -> bool:
    """As the endpoint reads one: a cell names a column and is not a number."""
    cells = sorted({cell.strip() for cell in row} & set(columns))
    if not cells:
        return False
    return data_quality.STRING in set(data_quality.value_types(pd.Series(cells, dtype=object)))


def _backend() -> Any:
    """moto's SageMaker of the local account and region (the server runs in this process)."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION]


def capture_uri(endpoint: str) -> str:
    """Where the endpoint's configuration captures its requests: DestinationS3Uri/<endpoint>."""
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    try:
        config_name = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
        config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    except ClientError as error:
        raise ExecutionFailed(f"endpoint {endpoint}: {error.response['Error'].get('Message', '')}") from None
    destination = (config.get("DataCaptureConfig") or {}).get("DestinationS3Uri")
    if not destination:
        raise ExecutionFailed(
            f"{NO_DATA}: endpoint {endpoint} captures no data (its configuration has no DataCaptureConfig)"
        )
    return f"{str(destination).rstrip('/')}/{endpoint}"


def _records(s3: Any, captured: str, window: Window) -> Any:
    """The capture records of the window, read from its hours' folders (<variant>/yyyy/mm/dd/hh/)."""
    bucket, _, prefix = captured.removeprefix("s3://").partition("/")
    hours, hour = set(), window.start.replace(minute=0, second=0, microsecond=0)
    while hour <= window.end:
        hours.add(f"{hour:%Y/%m/%d/%H}")
        hour += timedelta(hours=1)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/"):
        for item in page.get("Contents", []):
            folder = "/".join(str(item["Key"]).split("/")[-5:-1])  # yyyy/mm/dd/hh of <variant>/yyyy/mm/dd/hh/<file>
            if folder in hours:
                yield from _in_window(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read(), window)


def _in_window(content: bytes, window: Window) -> Any:
    for line in content.decode("utf-8").splitlines():
        if not line.strip():
            continue
        document = json.loads(line)
        when = datetime.fromisoformat(document.get("eventMetadata", {}).get("inferenceTime", "").replace("Z", "+00:00"))
        if window.start <= when < window.end:
            yield document


def _read_json(s3: Any, uri: str, what: str) -> dict[str, Any]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        document: dict[str, Any] = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as error:
        raise ExecutionFailed(f"the {what} {uri} cannot be read: {error.response['Error'].get('Code', '')}") from None
    except ValueError as error:
        raise ExecutionFailed(f"the {what} {uri} is not JSON: {error}") from None
    return document


def _write_json(s3: Any, uri: str, document: dict[str, Any]) -> None:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(document, indent=2).encode("utf-8"))


def _output_uri(job: dict[str, Any]) -> str:
    outputs = job.get("MonitoringOutputConfig", {}).get("MonitoringOutputs", [])
    return str(outputs[0]["S3Output"]["S3Uri"]).rstrip("/")


def job_detail(  # noqa: PLR0917 - the fields of one DescribeProcessingJob
    job_name: str,
    schedule: Any,
    job: dict[str, Any],
    output: str,
    status: str,
    exit_message: str,
    reason: str,
    window: Window,
) -> dict[str, Any]:
    """The processing job as DescribeProcessingJob (and so its state-change event) gives it."""
    environment = {
        **job.get("Environment", {}),
        "sagemaker_endpoint_name": schedule.endpoint_name,
        "sagemaker_monitoring_schedule_name": schedule.name,
        "start_time": f"{window.start:%Y-%m-%dT%H:%M:%SZ}",
        "end_time": f"{window.end:%Y-%m-%dT%H:%M:%SZ}",
    }
    detail: dict[str, Any] = {
        "ProcessingJobName": job_name,
        "ProcessingJobArn": f"arn:aws:sagemaker:{REGION}:{schedule.arn.split(':')[4]}:processing-job/{job_name}",
        "ProcessingJobStatus": "Failed" if status == "Failed" else "Completed",
        "MonitoringScheduleArn": schedule.arn,
        "Environment": environment,
        "AppSpecification": {"ImageUri": job.get("MonitoringAppSpecification", {}).get("ImageUri", "")},
        "ProcessingResources": job.get("MonitoringResources", {}),
        "RoleArn": job.get("RoleArn", ""),
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "result",
                    "S3Output": {"S3Uri": output, "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"},
                }
            ]
        },
    }
    if exit_message:
        detail["ExitMessage"] = exit_message
    if reason:
        detail["FailureReason"] = reason
    return detail


def _record_job(detail: dict[str, Any]) -> str:
    """The execution's processing job in moto (DescribeProcessingJob finds it); its ARN."""
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    fields = ("ProcessingOutputConfig", "ProcessingResources", "AppSpecification", "RoleArn", "Environment")
    try:
        created = sagemaker.create_processing_job(
            ProcessingJobName=detail["ProcessingJobName"], **{f: detail[f] for f in fields if detail.get(f)}
        )
    except ClientError:
        return str(detail["ProcessingJobArn"])
    # moto keeps neither these fields nor a status other than Completed: DescribeProcessingJob then
    # gives them as SageMaker does (moto's response is the job's attributes, in CamelCase).
    job = _backend().processing_jobs[detail["ProcessingJobName"]]
    job.processing_job_status = detail["ProcessingJobStatus"]
    job.monitoring_schedule_arn = detail["MonitoringScheduleArn"]
    job.environment = detail["Environment"]
    for field, attribute in (("ExitMessage", "exit_message"), ("FailureReason", "failure_reason")):
        if field in detail:
            setattr(job, attribute, detail[field])
    return str(created["ProcessingJobArn"])


def _emit(detail: dict[str, Any]) -> None:
    """The job's end, as SageMaker sends it to EventBridge: the stack's rules route it."""
    events = boto3.client("events", region_name=REGION)
    events.put_events(
        Entries=[
            {
                "Source": "aws.sagemaker",
                "DetailType": "SageMaker Processing Job State Change",
                "Resources": [detail["ProcessingJobArn"]],
                "Detail": json.dumps(detail),
            }
        ]
    )


def _s3_output(uri: str) -> dict[str, str]:
    return {"S3Uri": uri, "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}
