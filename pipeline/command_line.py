"""What both command-line tools (`python -m pipeline`, `retrain-trigger`) share: a deployed stack's
values, and a mistake as one line that says what to do (an AWS error, or a CommandError the command
raised). Standard library and boto3 only: `retrain-trigger` imports it for every command."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence

import boto3
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError

# (applies, the line to print): the first that applies wins
Fix = tuple[bool, str]


class CommandError(Exception):
    """A mistake in how the command was called or configured; its message says what to do."""


def error_code(error: Exception) -> str:
    return str(error.response.get("Error", {}).get("Code", "")) if isinstance(error, ClientError) else ""


def explain(error: Exception, *, region: str | None, stack_name: str | None, fixes: Sequence[Fix] = ()) -> str:
    """The error in one line with its fix: the set-up mistakes every command can meet first, then
    the command's own ``fixes``; otherwise the error's own text."""
    text = str(error)
    common: list[Fix] = [
        (isinstance(error, NoCredentialsError), "no AWS credentials: set AWS_PROFILE or run `aws configure`"),
        (isinstance(error, NoRegionError), "no AWS region: pass --region or set AWS_REGION"),
        (isinstance(error, EndpointConnectionError), f"{text}: check AWS_ENDPOINT_URL and --region"),
        (
            bool(stack_name) and "Stack" in text and "does not exist" in text,
            f"stack {stack_name} does not exist in {region or 'this region'}: check --stack-name and --region",
        ),
    ]
    return next((fix for applies, fix in (*common, *fixes) if applies), text)


def run_command(
    prog: str,
    args: argparse.Namespace,
    run: Callable[[argparse.Namespace], int],
    fixes: Callable[[Exception], Sequence[Fix]],
) -> int:
    """Run the parsed command; a mistake (a missing name, a wrong stack, region, endpoint or right)
    is one line on stderr, `<prog> <command>: error: ...`, and exit status 1."""
    try:
        return run(args)
    except BrokenPipeError:  # the reader stopped reading (`| head`): it has what it wanted
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 1
    except CommandError as error:
        line = str(error)
    except (ClientError, BotoCoreError) as error:
        line = explain(error, region=args.region, stack_name=args.stack_name, fixes=fixes(error))
    print(f"{prog} {args.command}: error: {line}", file=sys.stderr)
    return 1


def stack_values(stack_name: str, region: str | None) -> dict[str, str]:
    """A deployed stack's parameters and outputs, by name."""
    cloudformation = boto3.client("cloudformation", region_name=region)
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    values = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    values.update({o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])})
    return values
