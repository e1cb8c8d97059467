"""Where a command's resources are: a deployed stack's parameters and outputs, or explicit options
(an option wins over the stack's value)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from pipeline.command_line import CommandError, stack_values

OPTIONS = {"pipeline name": "--pipeline-name", "queue": "--queue-url", "dead-letter queue": "--dlq-url"}


@dataclass(frozen=True)
class Targets:
    queue_url: str | None
    dead_letter_queue_url: str | None
    pipeline_name: str | None
    bucket: str | None
    model_package_group: str | None = None
    data_prefix: str | None = None  # where the uploads that start runs land (the stack's DataPrefix)
    stack: dict[str, str] = field(default_factory=dict)  # every parameter and output of --stack-name


def resolve_targets(args: argparse.Namespace) -> Targets:
    stack = stack_values(args.stack_name, args.region) if args.stack_name else {}
    return Targets(
        queue_url=args.queue_url or stack.get("TriggerQueueUrl"),
        dead_letter_queue_url=args.dlq_url or stack.get("TriggerDeadLetterQueueUrl"),
        pipeline_name=args.pipeline_name or stack.get("PipelineName"),
        bucket=args.bucket or stack.get("DataBucketName"),
        model_package_group=args.model_package_group or stack.get("ModelPackageGroupName"),
        data_prefix=stack.get("DataPrefix"),
        stack=stack,
    )


def need(value: str | None, what: str) -> str:
    """The value, or a CommandError naming the option that gives it."""
    if not value:
        raise CommandError(f"no {what}: pass --stack-name or {OPTIONS.get(what, '--bucket')}")
    return value
