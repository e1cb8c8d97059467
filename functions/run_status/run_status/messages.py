"""The text a person reads when a run ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from run_status.events import PipelineExecutionStatusChange

MAX_SUBJECT_LENGTH = 99


@dataclass(frozen=True)
class Notification:
    subject: str
    body: str


SUBJECTS = {"Succeeded": "Retraining succeeded", "Failed": "Retraining FAILED", "Stopped": "Retraining stopped"}


def run_ended(change: PipelineExecutionStatusChange, failure_reason: str | None) -> Notification:
    region = change.execution_arn.split(":")[3]
    lines = [
        f"Run {change.display_name or change.execution_arn.rsplit('/', 1)[-1]} of pipeline "
        f"{change.pipeline_name} ended: {change.status}.",
        "",
        f"Execution: {change.execution_arn}",
    ]
    if change.description:
        lines.append(f"Cause:     {change.description}")
    if change.started:
        lines.append(f"Started:   {_when(change.started)}")
    if change.ended:
        took = f" (took {_duration(change.ended, change.started)})" if change.started else ""
        lines.append(f"Ended:     {_when(change.ended)}{took}")
    if change.status == "Failed":
        lines.append(f"Reason:    {failure_reason or 'not reported; see the failed step in the console'}")
    lines.append(
        f"Console:   https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
        f"#/pipelines/{quote(change.pipeline_name)}"
    )
    subject = f"{SUBJECTS.get(change.status, 'Retraining ' + change.status)}: {change.pipeline_name}"
    return Notification(_subject(subject), "\n".join(lines) + "\n")


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _duration(ended: datetime, started: datetime | None) -> str:
    seconds = int((ended - started).total_seconds()) if started else 0
    minutes, seconds = divmod(max(seconds, 0), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def _subject(text: str) -> str:
    flat = "".join(char if " " <= char <= "~" else "?" for char in " ".join(text.split()))
    return flat if len(flat) <= MAX_SUBJECT_LENGTH else flat[: MAX_SUBJECT_LENGTH - 3] + "..."
