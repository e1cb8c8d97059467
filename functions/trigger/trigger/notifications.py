"""Every text a person reads: the notification of a run started, not started and ended, the metric
labels, and the console links. Pure logic: no AWS here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from trigger.reports import describe_metrics
from trigger.run_reports import RunReports
from trigger.runs import PipelineRun, retrain_requests
from trigger.status_events import PipelineExecutionStatusChange
from trigger.uploads import RETRAIN_REQUESTED, RUN_REQUEST_PREFIX

MAX_SUBJECT_LENGTH = 99  # SNS: ASCII, no line breaks, under 100 characters
MAX_LISTED_OBJECTS = 10
SUBJECTS = {"Succeeded": "Retraining succeeded", "Failed": "Retraining FAILED", "Stopped": "Retraining stopped"}


@dataclass(frozen=True)
class Notification:
    subject: str
    body: str


@dataclass(frozen=True)
class RunEnding:
    """What is known about a run that ended, beside its status event."""

    failure_reason: str | None = None
    failed_step: str | None = None
    objects: tuple[str, ...] = ()  # the URIs of the uploads it was started for, when the ledger has them
    reports: RunReports | None = None
    stack_name: str = ""  # of the deployment: the commands given name it
    registered: tuple[str, ...] = ()  # the model packages the run registered, whichever pipeline it is


def region_of(arn: str) -> str:
    return arn.split(":")[3]


def console_link(execution_arn: str) -> str:
    """The SageMaker console page that lists this pipeline's executions."""
    # arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME/execution/ID
    return pipeline_console(region_of(execution_arn), execution_arn.split(":", 5)[5].split("/")[1])


def pipeline_console(region: str, pipeline_name: str) -> str:
    """The SageMaker console page of a pipeline, by its region and name."""
    return f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}#/pipelines/{quote(pipeline_name)}"


def s3_console_link(uri: str, region: str) -> str:
    """The S3 console page of an object: it opens after sign-in and never expires (a presigned URL
    dies with the credentials that signed it, within hours for a role's)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return f"https://s3.console.aws.amazon.com/s3/object/{quote(bucket)}?region={region}&prefix={quote(key, safe='')}"


def subject_line(text: str) -> str:
    """The text as an SNS subject: one line of printable ASCII, under 100 characters."""
    # SNS wants printable ASCII: anything else (unicode keys, control characters) becomes "?".
    flat = "".join(char if " " <= char <= "~" else "?" for char in " ".join(text.split()))
    return flat if len(flat) <= MAX_SUBJECT_LENGTH else flat[: MAX_SUBJECT_LENGTH - 3] + "..."


def listing(uris: list[str], total: int, listing_uri: str | None) -> str:
    lines = [f"  {uri}" for uri in uris[:MAX_LISTED_OBJECTS]]
    if total > MAX_LISTED_OBJECTS:
        lines.append(f"  ... and {total - MAX_LISTED_OBJECTS} more" + (f": {listing_uri}" if listing_uri else ""))
    return "\n".join(lines)


def _objects(run: PipelineRun) -> str:
    """The uploads, and each run request on the whole prefix once, by its cause."""
    uploads = [obj.uri for obj in run.objects if not obj.covers_prefix]
    requests = [f"{obj.cause} (everything under {obj.uri})" for obj in run.objects if obj.covers_prefix]
    return listing([*requests, *uploads], len(requests) + len(uploads), run.listing_uri)


def _what(run: PipelineRun) -> str:
    uploads = [obj for obj in run.objects if not obj.covers_prefix]
    kinds = {obj.event_name.removeprefix(RUN_REQUEST_PREFIX) for obj in run.objects if obj.covers_prefix}
    asked = [name for kind, name in REQUEST_NAMES.items() if kind in kinds]  # one order, whatever came first
    if uploads:
        what = uploads[0].key if len(uploads) == 1 else f"{len(uploads)} uploads"
        asked.append(f"{what} ({RETRAIN_REQUESTED})" if retrain_requests(tuple(uploads)) else what)
    return ", ".join(asked)


REQUEST_NAMES = {
    "schedule": "scheduled retrain",
    "message": "data ready",
    "event": "an event",
    "drift": "drift on prod",
    "retrain": "a retrain",
}


def run_started(run: PipelineRun, execution_arn: str) -> Notification:
    body = (
        f"A new run of pipeline {run.pipeline_name} has started for:\n{_objects(run)}\n\n"
        f"Trains on: {run.trains_on}\n"
        f"Because:   {run.reason}\n"
        f"Execution: {execution_arn}\n"
        f"Console:   {console_link(execution_arn)}\n"
    )
    return Notification(subject_line(f"Retraining started: {_what(run)}"), body)


def run_not_started(run: PipelineRun, reason: str, *, permanent: bool) -> Notification:
    """Sent once per run, however many times its start is tried."""
    if permanent:
        what_next = (
            "This run was refused for good (by SageMaker, or by the check of PipelineParameters against the "
            "pipeline), so it will not be tried again. Its uploads were "
            "moved to the trigger's dead-letter queue with this reason. Fix the cause, then run "
            "`retrain-trigger redrive`: they are recorded again and start a run. Nothing has been dropped.\n"
        )
    else:
        what_next = (
            "The uploads are recorded and stay in this run. It is tried again with the same "
            "ClientRequestToken by the next dispatch: the next upload, the next run end, or the "
            "sweep every few minutes. No other run starts before it. Nothing has been dropped.\n"
        )
    body = f"Pipeline {run.pipeline_name} could not be started for:\n{_objects(run)}\n\nReason: {reason}\n\n{what_next}"
    return Notification(subject_line(f"Retraining NOT started: {_what(run)}"), body)


def run_ended(change: PipelineExecutionStatusChange, ending: RunEnding) -> Notification:
    lines = [
        f"Run {change.display_name or change.execution_arn.rsplit('/', 1)[-1]} of pipeline "
        f"{change.pipeline_name} ended: {change.status}.",
        "",
        f"Execution: {change.execution_arn}",
        *_timeline(change),
    ]
    if ending.objects:
        lines.append(f"For:\n{listing(list(ending.objects), len(ending.objects), None)}")
    if change.status == "Failed":
        if ending.failed_step:
            lines.append(f"Step:      {ending.failed_step}")
        lines.append(f"Reason:    {ending.failure_reason or 'not reported; see the failed step in the console'}")
    lines.extend(_what_it_learned(ending.reports))
    lines.extend(f"Registered: {package_version(arn)} ({arn})" for arn in ending.registered)
    lines.extend(_report(ending, change.execution_arn))
    lines.append(f"Console:   {console_link(change.execution_arn)}")
    subject = f"{SUBJECTS.get(change.status, 'Retraining ' + change.status)}: {change.pipeline_name}"
    decision = ((ending.reports.evaluation if ending.reports else None) or {}).get("decision") or {}
    if change.status == "Succeeded" and decision.get("register") is False:
        # A normal outcome: the model in production stays.
        subject = f"Retraining succeeded, production model kept: {change.pipeline_name}"
    elif change.status != "Succeeded" and ending.registered:
        # The model is in the registry all the same: what failed came after it.
        versions = ", ".join(package_version(arn) for arn in ending.registered)
        subject = f"{subject} after registering {versions}"
    return Notification(subject_line(subject), "\n".join(lines) + "\n")


def package_version(arn: str) -> str:
    """`<group> version <N>` of a versioned model package's ARN (…:model-package/<group>/<N>)."""
    group, _, version = arn.rpartition(":model-package/")[2].partition("/")
    return f"{group} version {version}" if version else group


def _timeline(change: PipelineExecutionStatusChange) -> list[str]:
    lines = []
    if change.description:
        lines.append(f"Cause:     {change.description}")
    if change.started:
        lines.append(f"Started:   {_when(change.started)}")
    if change.ended:
        took = f" (took {_duration(change.ended, change.started)})" if change.started else ""
        lines.append(f"Ended:     {_when(change.ended)}{took}")
    return lines


def _what_it_learned(reports: RunReports | None) -> list[str]:
    """The bundled pipeline's reports in a few lines; nothing for a pipeline that writes none."""
    data_report = (reports.data_report if reports else None) or {}
    evaluation = (reports.evaluation if reports else None) or {}
    lines = []
    problem = data_report.get("problem_type")
    if problem:
        lines.append(f"Problem:   {problem.get('chosen')} ({problem.get('requested')}: {problem.get('rule')})")
    if evaluation.get("metrics"):
        lines.append(f"Metrics:   {describe_metrics(evaluation['metrics'])}")
        lines.append(f"Baseline:  {describe_metrics(evaluation.get('baseline_metrics') or {})}")
    if evaluation.get("gate"):
        lines.append(f"Gate:      {evaluation['gate'].get('summary')}")
    lines.extend(_champion_and_decision(evaluation))
    lineage = data_report.get("lineage") or {}
    if lineage.get("objects"):
        keys = [o.get("key") for o in lineage["objects"]]
        shown = ", ".join(str(k) for k in keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
        lines.append(f"Data:      {len(keys)} object(s) from {lineage.get('input')}: {shown}")
    if data_report.get("engine"):
        lines.append(f"Engine:    {data_report['engine']} (ProcessingEngine)")
    return lines


def _report(ending: RunEnding, execution_arn: str) -> list[str]:
    """Where the run report is, one click away, and how to fetch it; or why there is none."""
    reports = ending.reports
    if reports is None:
        return []
    if reports.report_uri:
        stack = f" --stack-name {ending.stack_name}" if ending.stack_name else ""
        command = f"retrain-trigger{stack} report --run {execution_arn.rsplit('/', 1)[-1]}"
        return [
            f"Report:    {s3_console_link(reports.report_uri, region_of(execution_arn))}",
            f"           ({reports.report_uri}; `{command}` downloads it)",
        ]
    return [f"Report:    not drawn: {reports.report_not_drawn}"] if reports.report_not_drawn else []


def _champion_and_decision(evaluation: dict[str, object]) -> list[str]:
    lines = []
    champion = evaluation.get("champion")
    if isinstance(champion, dict) and champion.get("metrics"):
        lines.append(f"Champion:  {describe_metrics(champion['metrics'])} ({champion.get('model_package_arn')})")
    elif isinstance(champion, dict):
        lines.append(f"Champion:  {champion.get('model_package_arn')}, not compared: {champion.get('reason')}")
    decision = evaluation.get("decision")
    gate = evaluation.get("gate")
    if isinstance(decision, dict) and decision.get("summary") and isinstance(gate, dict) and gate.get("passed"):
        lines.append(f"Decision:  {decision['summary']}")
    return lines


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _duration(ended: datetime, started: datetime | None) -> str:
    seconds = int((ended - started).total_seconds()) if started else 0
    minutes, seconds = divmod(max(seconds, 0), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
