"""Prod's data-quality monitoring executions, delivered to the trigger queue by the rule on
"SageMaker Processing Job State Change" for the stack's monitoring schedule (template.yaml,
DriftMonitoringRule). A monitoring execution is a processing job; the event's detail is its
DescribeProcessingJob: ProcessingJobStatus, ExitMessage, FailureReason, MonitoringScheduleArn,
Environment, ProcessingOutputConfig (SageMaker API reference, DescribeProcessingJob; developer guide,
"Events that Amazon SageMaker AI sends to Amazon EventBridge").

- Completed with violations (ExitMessage "CompletedWithViolations: ..."): one run request on
  TrainingData's objects. Its cause names each violation read from the execution's
  constraint_violations.json. Its id is the schedule and the baseline it checked against
  (the job definition's Environment RETRAIN_TRIGGER_BASELINE, which the deploy function sets): every
  later violation against the same baseline is the same request, so an hour of violations while the
  retrain is pending or running adds nothing, and the next violation after a retrained model is
  deployed (a new baseline) is a new request.
- Completed without violations, Failed or Stopped: no run; the execution is acknowledged with its
  reason (logged, and shown by `retrain-trigger drift`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from trigger.run_requests import RunRequest, Unreadable, cause_text, read_as, request_id_of

if TYPE_CHECKING:
    from trigger.sources import Parsed
    from trigger.sources.context import SourceContext

DETAIL_TYPE = "SageMaker Processing Job State Change"
WITH_VIOLATIONS = "CompletedWithViolations"
VIOLATIONS_FILE = "constraint_violations.json"  # pipeline/steps/data_quality.py's (a test keeps them equal)
BASELINE_ENVIRONMENT = "RETRAIN_TRIGGER_BASELINE"  # the deploy function sets it (trigger/adapters/monitoring.py)
# Model Monitor's baseline_drift_check description: "Baseline drift distance: 0.53 exceeds threshold: 0.1"
DISTANCE = re.compile(r"distance:\s*(?P<distance>[0-9.eE+-]+)\s+exceeds threshold:\s*(?P<threshold>[0-9.eE+-]+)")
CHECK_NAMES = {
    "baseline_drift_check": "drift",
    "data_type_check": "type changed",
    "completeness_check": "completeness",
    "missing_column_check": "missing",
    "extra_column_check": "extra column",
    "categorical_values_check": "new values",
}


class S3Output(BaseModel):
    s3_uri: str = Field(alias="S3Uri", min_length=1)


class Output(BaseModel):
    s3_output: S3Output = Field(alias="S3Output")


class OutputConfig(BaseModel):
    outputs: list[Output] = Field(alias="Outputs", min_length=1)


class Violation(BaseModel):
    feature_name: str = ""
    constraint_check_type: str = ""
    description: str = ""


class Violations(BaseModel):
    violations: list[Violation] = Field(min_length=1)


class ExecutionDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    job_name: str = Field(alias="ProcessingJobName", min_length=1)
    status: str = Field(alias="ProcessingJobStatus", min_length=1)
    schedule_arn: str = Field(alias="MonitoringScheduleArn", min_length=1)
    exit_message: str = Field(default="", alias="ExitMessage")
    failure_reason: str = Field(default="", alias="FailureReason")
    environment: dict[str, str] = Field(default_factory=dict, alias="Environment")
    output_config: OutputConfig | None = Field(default=None, alias="ProcessingOutputConfig")

    @property
    def schedule_name(self) -> str:
        return self.schedule_arn.rsplit("/", 1)[-1]

    def report_uri(self) -> str:
        if self.output_config is None:
            raise Unreadable(f"monitoring execution {self.job_name}: no ProcessingOutputConfig to read its report")
        return f"{self.output_config.outputs[0].s3_output.s3_uri.rstrip('/')}/{VIOLATIONS_FILE}"


def claims(document: Any) -> bool:
    if not isinstance(document, dict) or document.get("detail-type") != DETAIL_TYPE:
        return False
    detail = document.get("detail")
    return isinstance(detail, dict) and bool(detail.get("MonitoringScheduleArn"))


def parse(document: Any, context: SourceContext) -> Parsed:
    from trigger.sources import Parsed

    detail = read_as(ExecutionDetail, document.get("detail"), "a monitoring execution's event")
    if context.monitoring_schedule_arn and detail.schedule_arn != context.monitoring_schedule_arn:
        raise Unreadable(f"an execution of {detail.schedule_arn}, not of this stack's schedule: not for this stack")
    what = f"monitoring execution {detail.job_name} of {detail.schedule_name}"
    if detail.status != "Completed":
        reason = detail.failure_reason or detail.exit_message or "no reason given"
        return Parsed(acknowledged=f"{what} {detail.status}: {reason}; no run")
    if not detail.exit_message.startswith(WITH_VIOLATIONS):
        return Parsed(acknowledged=f"{what}: no violations")
    if context.read_json is None:
        raise Unreadable(f"{what} found violations, but this function cannot read its report")
    found = violations_in(context.read_json(detail.report_uri()))
    when = detail.environment.get("end_time") or str(document.get("time", ""))
    cause = cause_text(f"Drift: {summary(found)} (schedule {detail.schedule_name}, {when})")
    baseline = detail.environment.get(BASELINE_ENVIRONMENT) or detail.job_name
    request = RunRequest(
        "drift", request_id_of("drift", detail.schedule_arn, baseline), cause, requested_by=detail.schedule_arn
    )
    return Parsed([request])


def violations_in(report: Any) -> list[Violation]:
    return read_as(Violations, report, f"a monitoring execution's {VIOLATIONS_FILE} with violations").violations


def summary(found: list[Violation]) -> str:
    """What drifted, by how much, against which threshold ("bmi 0.532 > 0.1"), then each other check's
    features ("type: age, sex"): the features in the order the report lists them."""
    drifted = []
    others: dict[str, list[str]] = {}
    for item in found:
        feature = item.feature_name or "?"
        distance = DISTANCE.search(item.description)
        if item.constraint_check_type == "baseline_drift_check" and distance:
            drifted.append(f"{feature} {float(distance['distance']):.3g} > {float(distance['threshold']):g}")
        else:
            check = CHECK_NAMES.get(item.constraint_check_type, item.constraint_check_type or "?")
            others.setdefault(check, []).append(feature)
    return "; ".join([*drifted, *(f"{check}: {', '.join(features)}" for check, features in others.items())])
