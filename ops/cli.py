"""retrain-trigger backfill | retrain | check | dlq | redrive | status | report | deployments | predict |
notifications | local up|down

Works against AWS or the local moto server by the usual conventions: AWS_PROFILE, AWS_REGION,
AWS_ENDPOINT_URL. Resources come from a deployed stack (--stack-name) or explicit options.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ops import announcements, aws_errors
from ops.announcements import Announcement, progress, retrain
from ops.aws_errors import CommandError, error_code
from ops.deployments import predict, show_deployments
from ops.queues import peek
from ops.report import fetch_report
from pipeline.cli import stack_values
from pipeline.config import runs_prefix
from trigger.adapters.dead_letters import REASON_ATTRIBUTE
from trigger.adapters.run_reports import RunReportReader
from trigger.events import S3EventNotification
from trigger.parameter_mapping import BUNDLED_PIPELINE_MAPPING
from trigger.reports import describe_metrics
from trigger.run_reports import RunReports

BATCH = 10  # SQS SendMessageBatch / ReceiveMessage limit
MAX_DEAD_LETTERS_SHOWN = 5  # status ends with the dead-letter queue's first few messages
MAX_PACKAGES_SHOWN = 100  # status looks up the registrations of runs among the group's latest packages
# What an endpoint without SQS's message-move task (moto, older emulators) answers StartMessageMoveTask with.
MOVE_TASK_UNSUPPORTED = {"UnsupportedOperation", "InvalidAction", "NotImplemented", "500"}


@dataclass(frozen=True)
class Targets:
    queue_url: str | None
    dead_letter_queue_url: str | None
    pipeline_name: str | None
    bucket: str | None
    model_package_group: str | None = None
    data_prefix: str | None = None  # where the uploads that start runs land (the stack's DataPrefix)


def _common_options(parser: argparse.ArgumentParser, default: Any) -> None:
    """Where the resources are: accepted before or after the command (a value after it wins)."""
    parser.add_argument("--stack-name", default=default, help="read queue, DLQ, bucket and pipeline from this stack")
    parser.add_argument("--region", default=default)
    parser.add_argument("--queue-url", default=default, help="the trigger queue (default: the stack's)")
    parser.add_argument("--dlq-url", default=default, help="its dead-letter queue (default: the stack's)")
    parser.add_argument("--pipeline-name", default=default)
    parser.add_argument("--bucket", default=default, help="the data bucket (default: the stack's DataBucketName)")
    parser.add_argument("--model-package-group", default=default, help="default: the stack's ModelPackageGroupName")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: give 1 or more")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="retrain-trigger", description=__doc__.split("\n\n")[0])
    _common_options(parser, None)
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        _common_options(sub, argparse.SUPPRESS)
        return sub

    backfill = command("backfill", "start runs for objects already in the bucket")
    backfill.add_argument(
        "--prefix", default=None, help="only objects under this prefix (default: the stack's DataPrefix)"
    )
    retrain = command("retrain", "train again on objects that already ran (after a pipeline fix, a new gate or image)")
    chosen = retrain.add_mutually_exclusive_group()
    chosen.add_argument("--prefix", default=None, help="every object under this prefix (default: the DataPrefix)")
    chosen.add_argument("keys", nargs="*", default=[], metavar="KEY", help="these objects (KEY or s3://BUCKET/KEY)")
    command("dlq", "list the dead-letter queue's messages: objects and why each is there")
    check = command("check", "does PipelineParameters fit the pipeline? its parameters, problems, an example run's")
    check.add_argument("--pipeline-parameters", help="the mapping to check (default: the stack's PipelineParameters)")
    check.add_argument("--key", help="the example upload's key (default: example.csv under the data prefix)")
    local = commands.add_parser("local", help="a local stack (moto) that stays up: `local up`, `local down`")
    local.add_argument("action", choices=["up", "down"])
    from emulator.local_stack import add_stack_options

    add_stack_options(local)
    commands.add_parser("notifications", help="local stack: the messages a person would have received, newest first")
    redrive = command("redrive", "move the DLQ's messages back to the trigger queue")
    redrive.add_argument("--dry-run", action="store_true", help="say what would move, move nothing")
    status = command("status", "recent runs: objects trained on, metrics, champion comparison, model package, failure")
    status.add_argument("--limit", type=_positive, default=10, help="how many of the latest runs (default 10)")
    command(
        "deployments", "per stage (staging, prod): the version serving, since when, from which run, the last outcome"
    )
    predict = command("predict", "send a CSV's rows to an endpoint and print its answers")
    predict.add_argument("--stage", choices=["staging", "prod"], default="prod", help="which endpoint (default prod)")
    predict.add_argument("--accept", default="text/csv", choices=["text/csv", "application/json"])
    predict.add_argument("file", type=Path, metavar="FILE.csv", help="rows with the training columns (- for stdin)")
    report = command("report", "download a run's report.html and print its path")
    report.add_argument("--run", help="the execution id or ARN (default: the latest run)")
    report.add_argument("--open", action="store_true", help="open it in the default browser")
    report.add_argument("--to", type=Path, default=Path(), help="the folder to put it in (default: here)")
    return parser.parse_args(argv)


def resolve_targets(args: argparse.Namespace) -> Targets:
    stack = stack_values(args.stack_name, args.region) if args.stack_name else {}
    return Targets(
        queue_url=args.queue_url or stack.get("TriggerQueueUrl"),
        dead_letter_queue_url=args.dlq_url or stack.get("TriggerDeadLetterQueueUrl"),
        pipeline_name=args.pipeline_name or stack.get("PipelineName"),
        bucket=args.bucket or stack.get("DataBucketName"),
        model_package_group=args.model_package_group or stack.get("ModelPackageGroupName"),
        data_prefix=stack.get("DataPrefix"),
    )


def dead_letters(targets: Targets) -> list[dict[str, Any]]:
    """The DLQ's messages, looked at and left in place."""
    source = _need(targets.dead_letter_queue_url, "dead-letter queue")
    return peek(
        boto3.client("sqs"),
        source,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
    )


def describe_dead_letter(message: dict[str, Any]) -> list[str]:
    attributes: dict[str, Any] = message.get("MessageAttributes") or {}
    reason = (attributes.get(REASON_ATTRIBUTE) or {}).get("StringValue") or (
        "no reason attached: moved by the queue's redrive policy after MaxReceiveCount failed deliveries; "
        "see the function's logs for this message id"
    )
    try:  # read as the trigger reads it: keys decoded (my+file.csv is "my file.csv")
        records = S3EventNotification.model_validate_json(message["Body"]).records
        objects = [f"s3://{r.s3.bucket.name}/{r.s3.object.key}" for r in records]
    except ValueError:
        objects = []
    lines = [f"- {message['MessageId']}"]
    lines += [f"    object   {uri}" for uri in objects] or [f"    body     {message['Body'][:200]!r}"]
    lines.append(f"    reason   {reason}")
    return lines


def show_dead_letters(targets: Targets) -> int:
    messages = dead_letters(targets)
    print(f"{len(messages)} message(s) in the dead-letter queue")
    for message in messages:
        for line in describe_dead_letter(message):
            print(line)
    if messages:
        print("fix the cause, then `retrain-trigger redrive` (see what it would move with --dry-run);")
        print("an empty upload can never train: upload the file again with its data (a redrive puts it back here)")
    return 0


def redrive(targets: Targets, dry_run: bool = False) -> int:
    """Move every message of the DLQ back to the trigger queue: with SQS's own message-move task
    where the endpoint has it, else message by message (sent first, then deleted)."""
    sqs = boto3.client("sqs")
    source, destination = _need(targets.dead_letter_queue_url, "dead-letter queue"), _need(targets.queue_url, "queue")
    waiting = int(
        sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
    )
    if dry_run:
        print(f"redrive --dry-run: {waiting} message(s) would move from {source} to {destination}; nothing moved")
        return show_dead_letters(targets) if waiting else 0
    arns = [
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for url in (source, destination)
    ]
    try:
        # One attempt: an endpoint without the task (moto) answers 500, which retries would only repeat.
        once = boto3.client("sqs", config=Config(retries={"total_max_attempts": 1}))
        task = once.start_message_move_task(SourceArn=arns[0], DestinationArn=arns[1])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in MOVE_TASK_UNSUPPORTED:
            raise
    except NotImplementedError:  # moto in this process
        pass
    else:
        print(
            f"redrive: SQS is moving {waiting} message(s) back to the trigger queue (task {task['TaskHandle'][:40]}...)"
        )
        return 0
    moved = 0
    while messages := sqs.receive_message(
        QueueUrl=source, MaxNumberOfMessages=BATCH, WaitTimeSeconds=1, MessageAttributeNames=["All"]
    ).get("Messages", []):
        for message in messages:
            # The reason stays behind: a message that fails again gets a new one.
            sqs.send_message(QueueUrl=destination, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
            progress("redrive", moved, waiting)
    print(f"redrive: {moved} message(s) moved from the dead-letter queue back to the trigger queue")
    return 0


def status(targets: Targets, limit: int) -> int:
    """Each recent run: status, what it trained on, how it scored against production, what it registered."""
    sagemaker = boto3.client("sagemaker")
    s3 = boto3.client("s3")
    pipeline = _need(targets.pipeline_name, "pipeline name")
    summaries = sagemaker.list_pipeline_executions(
        PipelineName=pipeline, SortBy="CreationTime", SortOrder="Descending", MaxResults=limit
    )["PipelineExecutionSummaries"]
    # Sorted and trimmed here too: an endpoint may ignore SortOrder and MaxResults (moto does).
    summaries = sorted(summaries, key=lambda s: s.get("StartTime") or datetime.min.replace(tzinfo=UTC), reverse=True)[
        :limit
    ]
    packages = _packages_by_execution(sagemaker, targets.model_package_group)
    print(f"{len(summaries)} most recent execution(s) of {pipeline}")
    for summary in summaries:
        arn = summary["PipelineExecutionArn"]
        parameters = {
            p["Name"]: p["Value"]
            for p in sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)["PipelineParameters"]
        }
        # Runs write their reports under the data bucket.
        bucket = targets.bucket or parameters.get("InputBucket", "")
        reports = RunReportReader(s3, bucket, runs_prefix(pipeline)).read(arn) if bucket else None
        described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
        started = summary.get("StartTime")
        print(f"- {arn.rsplit('/', 1)[-1]}  {summary.get('PipelineExecutionStatus', '?'):<10} {started or ''}")
        print(f"    execution    {arn}")
        running = _running_step(sagemaker, arn) if summary.get("PipelineExecutionStatus") == "Executing" else None
        if running:
            print(f"    running      {running}")
        failure = described.get("FailureReason") or _failed_step(sagemaker, arn, dict(summary))
        for line in _run_lines(s3, parameters, reports, packages.get(arn), failure, described=dict(described)):
            print(f"    {line}")
    _dead_letter_summary(targets)
    return 0


def _dead_letter_summary(targets: Targets) -> None:
    """What never became a run (an empty upload, a key SageMaker cannot take, a mapping that does not fit)."""
    if not targets.dead_letter_queue_url:
        return
    messages = dead_letters(targets)
    if not messages:
        return
    print(f"{len(messages)} message(s) in the dead-letter queue, not trained on:")
    for message in messages[:MAX_DEAD_LETTERS_SHOWN]:
        for line in describe_dead_letter(message):
            print(f"  {line}")
    if len(messages) > MAX_DEAD_LETTERS_SHOWN:
        print(f"  ... and {len(messages) - MAX_DEAD_LETTERS_SHOWN} more: `retrain-trigger dlq` lists them all")


def _running_step(sagemaker: Any, arn: str) -> str | None:
    """The step a run is in, and for how long."""
    for step in sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn).get("PipelineExecutionSteps", []):
        if step.get("StepStatus") == "Executing":
            started = step.get("StartTime")
            elapsed = f" for {int((datetime.now(UTC) - started).total_seconds())} s" if started else ""
            return f"step {step.get('StepName')}{elapsed}"
    return None


def _failed_step(sagemaker: Any, arn: str, summary: dict[str, Any]) -> str | None:
    """For a failed run that gave no reason: its failed step and that step's reason."""
    if summary.get("PipelineExecutionStatus") != "Failed":
        return None
    for step in sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn).get("PipelineExecutionSteps", []):
        if step.get("StepStatus") == "Failed":
            return f"step {step.get('StepName')}: {step.get('FailureReason') or 'no reason given'}"
    return None


def _run_lines(
    s3: Any,
    parameters: dict[str, str],
    reports: RunReports | None,
    package: dict[str, Any] | None,
    failure: str | None,
    *,
    described: dict[str, Any] | None = None,
) -> list[str]:
    data_report = (reports.data_report if reports else None) or {}
    evaluation = (reports.evaluation if reports else None) or {}
    lineage = data_report.get("lineage") or {}
    mode = parameters.get("TrainingData", "NewObjects")
    lines = [f"cause        {(described or {}).get('PipelineExecutionDescription') or 'not recorded'}"]
    if lineage.get("objects"):
        lines += [f"trained on   {lineage['object_count']} object(s), TrainingData={mode}, input {lineage['input']}"]
        bucket = lineage["bucket"]
        lines += [f"               s3://{bucket}/{o['key']} ({o['size']:,} bytes)" for o in lineage["objects"]]
    elif "InputBucket" in parameters:
        lines += [f"started for  {key}" for key in _objects_of(s3, parameters)]
    else:  # a pipeline of one's own: what the trigger passed
        lines.append("parameters   " + ", ".join(f"{name}={value}" for name, value in parameters.items()))
    if evaluation.get("metrics"):
        lines.append(f"metrics      {describe_metrics(evaluation['metrics'])}")
        champion = evaluation.get("champion") or {}
        if champion.get("metrics"):
            lines.append(f"champion     {describe_metrics(champion['metrics'])} ({champion['model_package_arn']})")
        elif champion:
            lines.append(f"champion     {champion['model_package_arn']}: not compared, {champion.get('reason')}")
        else:
            lines.append("champion     none: no Approved model in the group")
        if (evaluation.get("decision") or {}).get("summary"):
            lines.append(f"decision     {evaluation['decision']['summary']}")
    if package:
        lines.append(f"model        {package['ModelPackageArn']} ({package['ModelApprovalStatus']})")
    reason = (reports.refusal if reports else None) or failure
    if reason:
        lines.append(f"failure      {reason}")
    return lines


def _packages_by_execution(sagemaker: Any, group: str | None) -> dict[str, dict[str, Any]]:
    """The group's latest model packages, by the execution that registered them (their lineage metadata)."""
    if not group:
        return {}
    found: dict[str, dict[str, Any]] = {}
    pages = sagemaker.get_paginator("list_model_packages").paginate(
        ModelPackageGroupName=group,
        SortBy="CreationTime",
        SortOrder="Descending",
        PaginationConfig={"MaxItems": MAX_PACKAGES_SHOWN},
    )
    for page in pages:
        for item in page["ModelPackageSummaryList"]:
            package = sagemaker.describe_model_package(ModelPackageName=item["ModelPackageArn"])
            execution = (package.get("CustomerMetadataProperties") or {}).get("ExecutionArn")
            if execution:
                found[execution] = package
    return found


def _objects_of(s3: Any, parameters: dict[str, str]) -> list[str]:
    bucket, key = parameters.get("InputBucket", "?"), parameters.get("InputKey", "?")
    if parameters.get("InputDataType") != "ManifestFile":
        return [f"s3://{bucket}/{key}"]
    listing_key = f"{key.rsplit('/', 1)[0]}/objects.json"
    listing = json.loads(s3.get_object(Bucket=bucket, Key=listing_key)["Body"].read())
    return [f"s3://{o['bucket']}/{o['key']} (version {o['version'] or '-'})" for o in listing["objects"]]


def _need(value: str | None, what: str) -> str:
    if not value:
        option = {"pipeline name": "--pipeline-name", "queue": "--queue-url", "dead-letter queue": "--dlq-url"}
        raise CommandError(f"no {what}: pass --stack-name or {option.get(what, '--bucket')}")
    return value


def check_mapping(args: argparse.Namespace, targets: Targets) -> int:
    from ops.check import CheckRequest, check

    stack = stack_values(args.stack_name, args.region) if args.stack_name else {}
    return check(
        CheckRequest(
            pipeline_name=_need(targets.pipeline_name, "pipeline name"),
            mapping=args.pipeline_parameters
            if args.pipeline_parameters is not None
            else stack.get("PipelineParameters") or BUNDLED_PIPELINE_MAPPING,
            bucket=targets.bucket or "your-data-bucket",
            data_prefix=targets.data_prefix or "",
            training_data=stack.get("TrainingData") or "NewObjects",
            max_objects_per_run=int(stack.get("MaxObjectsPerRun") or 1000),
            key=args.key,
        )
    )


def main(argv: list[str] | None = None) -> int:
    return aws_errors.run_command("retrain-trigger", parse_args(argv), _run, _fixes)


def _fixes(error: Exception) -> list[aws_errors.Fix]:
    """This tool's own mistakes, with what to do about each."""
    text, code = str(error), error_code(error)
    return [
        (
            code in {"ResourceNotFound", "ValidationException"} and "pipeline" in text.lower(),
            f"{text}: create it with `python -m pipeline upsert --stack-name <stack>`, or check --pipeline-name",
        ),
        (
            code in {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"},
            f"{text}: check --queue-url and --dlq-url, or use --stack-name",
        ),
    ]


def _run(args: argparse.Namespace) -> int:
    if args.command in ("local", "notifications"):
        from emulator import local_stack

        if args.command == "notifications":
            return local_stack.show_notifications()
        return local_stack.main([args.action, *local_stack.stack_options(args).as_arguments()])
    # AWS_REGION as the AWS CLI and newer SDKs read it (boto3 reads AWS_DEFAULT_REGION only).
    region = args.region or os.environ.get("AWS_REGION")
    if region:
        args.region = region
        boto3.setup_default_session(region_name=region)
    return _aws_command(args, resolve_targets(args))


def _aws_command(args: argparse.Namespace, targets: Targets) -> int:
    commands: dict[str, Callable[[argparse.Namespace, Targets], int]] = {
        "backfill": _announce,
        "retrain": _announce,
        "redrive": lambda args, targets: redrive(targets, dry_run=args.dry_run),
        "dlq": lambda args, targets: show_dead_letters(targets),
        "check": check_mapping,
        "report": _report,
        "status": lambda args, targets: status(targets, args.limit),
        "deployments": lambda args, targets: show_deployments(_stack(args)),
        "predict": lambda args, targets: predict(_stack(args), args.stage, args.file, args.accept),
    }
    return commands[args.command](args, targets)


def _stack(args: argparse.Namespace) -> dict[str, str]:
    if not args.stack_name:
        raise CommandError(f"{args.command} needs --stack-name: the stack's endpoints and table")
    return stack_values(args.stack_name, args.region)


def _announce(args: argparse.Namespace, targets: Targets) -> int:
    queue, bucket = _need(targets.queue_url, "queue"), _need(targets.bucket, "bucket")
    where = Announcement(queue, bucket, targets.data_prefix or "")
    prefix = args.prefix if args.prefix is not None else where.data_prefix
    if args.command == "backfill":
        return announcements.backfill(where, prefix)
    return retrain(where, prefix, args.keys)


def _report(args: argparse.Namespace, targets: Targets) -> int:
    pipeline, bucket = _need(targets.pipeline_name, "pipeline name"), _need(targets.bucket, "bucket")
    return fetch_report(pipeline, bucket, args.run, args.to, open_it=args.open)


if __name__ == "__main__":
    sys.exit(main())
