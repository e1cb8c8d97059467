"""The short texts a person reads in the notification e-mail."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from trigger.planner import PipelineRun

MAX_SUBJECT_LENGTH = 99  # SNS: ASCII, no line breaks, under 100 characters


@dataclass(frozen=True)
class Notification:
    subject: str
    body: str


def console_link(execution_arn: str) -> str:
    """The SageMaker console page that lists this pipeline's executions."""
    # arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME/execution/ID
    return pipeline_console(execution_arn.split(":")[3], execution_arn.split(":", 5)[5].split("/")[1])


def pipeline_console(region: str, pipeline_name: str) -> str:
    """The SageMaker console page of a pipeline, by its region and name."""
    return f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}#/pipelines/{quote(pipeline_name)}"


MAX_LISTED_OBJECTS = 10


def _listing(run: PipelineRun) -> str:
    lines = [f"  {obj.uri}" for obj in run.objects[:MAX_LISTED_OBJECTS]]
    if len(run.objects) > MAX_LISTED_OBJECTS and run.manifest_key:
        folder = run.manifest_key.rsplit("/", 1)[0]
        lines.append(
            f"  ... and {len(run.objects) - MAX_LISTED_OBJECTS} more: s3://{run.objects[0].bucket}/{folder}/objects.json"
        )
    return "\n".join(lines)


def _what(run: PipelineRun) -> str:
    return run.objects[0].key if len(run.objects) == 1 else f"{len(run.objects)} uploads"


def run_started(run: PipelineRun, execution_arn: str) -> Notification:
    objects = _listing(run)
    body = (
        f"A new run of pipeline {run.pipeline_name} has started for:\n{objects}\n\n"
        f"Trains on: {run.trains_on}\n"
        f"Execution: {execution_arn}\n"
        f"Console:   {console_link(execution_arn)}\n"
    )
    return Notification(subject_line(f"Retraining started: {_what(run)}"), body)


def run_not_started(run: PipelineRun, reason: str, *, permanent: bool) -> Notification:
    """Sent once per run, however many times its start is tried."""
    objects = _listing(run)
    if permanent:
        what_next = (
            "SageMaker refused this run for good, so it will not be tried again. Its uploads were "
            "moved to the trigger's dead-letter queue with this reason. Fix the cause, then run "
            "`retrain-trigger redrive`: they are recorded again and start a run. Nothing has been dropped.\n"
        )
    else:
        what_next = (
            "The uploads are recorded and stay in this run. It is tried again with the same "
            "ClientRequestToken by the next dispatch: the next upload, the next run end, or the "
            "sweep every few minutes. No other run starts before it. Nothing has been dropped.\n"
        )
    body = f"Pipeline {run.pipeline_name} could not be started for:\n{objects}\n\nReason: {reason}\n\n{what_next}"
    return Notification(subject_line(f"Retraining NOT started: {_what(run)}"), body)


def subject_line(text: str) -> str:
    """The text as an SNS subject: one line of printable ASCII, under 100 characters."""
    # SNS wants printable ASCII: anything else (unicode keys, control characters) becomes "?".
    flat = "".join(char if " " <= char <= "~" else "?" for char in " ".join(text.split()))
    return flat if len(flat) <= MAX_SUBJECT_LENGTH else flat[: MAX_SUBJECT_LENGTH - 3] + "..."
