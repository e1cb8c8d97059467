"""retrain-trigger backfill | retrain | check | dlq | redrive | status | report | deployments | predict |
notifications | local up|down

Works against AWS or the local moto server by the usual conventions: AWS_PROFILE, AWS_REGION,
AWS_ENDPOINT_URL. Resources come from a deployed stack (--stack-name) or explicit options.

This module parses and dispatches only: each command's module is imported when that command runs,
so `--help` and the commands that talk to a deployed stack never load the local emulator.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import Any

import boto3

from emulator.stack_options import add_stack_options
from pipeline.command_line import CommandError, Fix, error_code, run_command

# What a plain install lacks for `local` and `notifications`: the emulator's own dependencies.
LOCAL_EXTRA = "[local]"
# Each command that talks to a stack: the module:function that runs it, with (args, targets).
COMMANDS = {
    "backfill": "ops.announcements:announce",
    "retrain": "ops.announcements:announce",
    "redrive": "ops.dead_letters:redrive_command",
    "dlq": "ops.dead_letters:dlq_command",
    "check": "ops.check:check_command",
    "report": "ops.report:report_command",
    "status": "ops.status:status_command",
    "deployments": "ops.deployments:deployments_command",
    "predict": "ops.deployments:predict_command",
    "drift": "ops.drift:drift_command",
}


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
    drift = command("drift", "prod's monitoring executions: status, violations, whether they asked for a retrain")
    drift.add_argument("--limit", type=_positive, default=24, help="how many of the latest executions (default 24)")
    report = command("report", "download a run's report.html and print its path")
    report.add_argument("--run", help="the execution id or ARN (default: the latest run)")
    report.add_argument("--open", action="store_true", help="open it in the default browser")
    report.add_argument("--to", type=Path, default=Path(), help="the folder to put it in (default: here)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return run_command("retrain-trigger", parse_args(argv), _run, _fixes)


def _fixes(error: Exception) -> list[Fix]:
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
        return _local(args)
    # AWS_REGION as the AWS CLI and newer SDKs read it (boto3 reads AWS_DEFAULT_REGION only).
    region = args.region or os.environ.get("AWS_REGION")
    if region:
        args.region = region
        boto3.setup_default_session(region_name=region)
    from ops.targets import resolve_targets

    module, _, function = COMMANDS[args.command].partition(":")
    run = getattr(importlib.import_module(module), function)
    return int(run(args, resolve_targets(args)))


def _local(args: argparse.Namespace) -> int:
    """`local up|down` and `notifications`: the emulator, loaded now, and named when it is not installed."""
    try:
        from emulator import local_stack
    except ModuleNotFoundError as error:
        raise CommandError(
            f"the local stack needs {error.name}, which a plain install leaves out: install the project with "
            f"its {LOCAL_EXTRA} extra (`pip install '.{LOCAL_EXTRA}'` in a clone), or run `make local` in a clone"
        ) from None
    if args.command == "notifications":
        return local_stack.show_notifications()
    from emulator.stack_options import stack_options

    return local_stack.main([args.action, *stack_options(args).as_arguments()])


if __name__ == "__main__":
    sys.exit(main())
