"""The text a person reads when a run ends."""

from __future__ import annotations

from datetime import datetime

from trigger.messages import Notification, pipeline_console, subject_line
from trigger.run_status.events import PipelineExecutionStatusChange
from trigger.run_status.run_reports import RunReports

SUBJECTS = {"Succeeded": "Retraining succeeded", "Failed": "Retraining FAILED", "Stopped": "Retraining stopped"}


METRIC_LABELS = {
    "mse": "MSE",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R2",
    "auc": "AUC",
    "f1": "F1",
    "macro_f1": "macro-F1",
}


def run_ended(
    change: PipelineExecutionStatusChange, failure_reason: str | None, reports: RunReports | None = None
) -> Notification:
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
    lines.extend(_what_it_learned(reports))
    lines.append(f"Console:   {pipeline_console(region, change.pipeline_name)}")
    subject = f"{SUBJECTS.get(change.status, 'Retraining ' + change.status)}: {change.pipeline_name}"
    decision = ((reports.evaluation if reports else None) or {}).get("decision") or {}
    if change.status == "Succeeded" and decision.get("register") is False:
        # A normal outcome: the model in production stays.
        subject = f"Retraining succeeded, production model kept: {change.pipeline_name}"
    return Notification(subject_line(subject), "\n".join(lines) + "\n")


def _what_it_learned(reports: RunReports | None) -> list[str]:
    lines = []
    problem = ((reports.data_report if reports else None) or {}).get("problem_type")
    if problem:
        lines.append(f"Problem:   {problem.get('chosen')} ({problem.get('requested')}: {problem.get('rule')})")
    evaluation = (reports.evaluation if reports else None) or {}
    if evaluation.get("metrics"):
        lines.append(f"Metrics:   {describe_metrics(evaluation['metrics'])}")
        lines.append(f"Baseline:  {describe_metrics(evaluation.get('baseline_metrics') or {})}")
    if evaluation.get("gate"):
        lines.append(f"Gate:      {evaluation['gate'].get('summary')}")
    champion = evaluation.get("champion")
    if champion and champion.get("metrics"):
        lines.append(f"Champion:  {describe_metrics(champion['metrics'])} ({champion.get('model_package_arn')})")
    elif champion:
        lines.append(f"Champion:  {champion.get('model_package_arn')}, not compared: {champion.get('reason')}")
    decision = evaluation.get("decision") or {}
    if decision.get("summary") and evaluation.get("gate", {}).get("passed"):
        lines.append(f"Decision:  {decision['summary']}")
    lineage = ((reports.data_report if reports else None) or {}).get("lineage") or {}
    if lineage.get("objects"):
        keys = [o.get("key") for o in lineage["objects"]]
        shown = ", ".join(str(k) for k in keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
        lines.append(f"Data:      {len(keys)} object(s) from {lineage.get('input')}: {shown}")
    return lines


def describe_metrics(metrics: dict[str, float | None]) -> str:
    """`RMSE 59.9, R2 0.449`: each metric at four significant digits."""
    shown = []
    for name, value in metrics.items():
        label = METRIC_LABELS.get(name, name.replace("_", " "))
        shown.append(f"{label} n/a" if value is None else f"{label} {value:.4g}")
    return ", ".join(shown)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _duration(ended: datetime, started: datetime | None) -> str:
    seconds = int((ended - started).total_seconds()) if started else 0
    minutes, seconds = divmod(max(seconds, 0), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
