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
    region = execution_arn.split(":")[3]
    pipeline = execution_arn.split(":", 5)[5].split("/")[1]
    return f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}#/pipelines/{quote(pipeline)}"


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
    return Notification(_subject(f"Retraining started: {_what(run)}"), body)


def run_not_started(run: PipelineRun, error: Exception, receive_count: int) -> Notification:
    objects = _listing(run)
    body = (
        f"Pipeline {run.pipeline_name} could not be started for:\n{objects}\n\n"
        f"Reason: {error}\n\n"
        f"This was delivery attempt {receive_count} of the upload's message. It returns to the "
        "trigger queue and is retried; once the queue's receive limit is reached it moves to the "
        "dead-letter queue, from where it can be redriven. Nothing has been dropped.\n"
    )
    return Notification(_subject(f"Retraining NOT started: {_what(run)}"), body)


def _subject(text: str) -> str:
    # SNS wants printable ASCII: anything else (unicode keys, control characters) becomes "?".
    flat = "".join(char if " " <= char <= "~" else "?" for char in " ".join(text.split()))
    return flat if len(flat) <= MAX_SUBJECT_LENGTH else flat[: MAX_SUBJECT_LENGTH - 3] + "..."
