"""`python -m pipeline definition | upsert`: print the pipeline definition, or create/update it.

Both take the configuration the template uses: pipeline name, bucket and region, from options,
from the environment (PIPELINE_NAME, DATA_BUCKET, AWS_REGION) or from a deployed stack's outputs
(--stack-name). AWS clients follow the usual conventions (AWS_PROFILE, AWS_ENDPOINT_URL, ...).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from dataclasses import fields, replace
from typing import Any

import boto3
from botocore.exceptions import ClientError

from pipeline import command_line
from pipeline.command_line import CommandError, error_code, stack_values
from pipeline.config import ARTIFACTS_PREFIX, STEP_SCRIPTS, STEPS_DIR, PipelineConfig
from pipeline.parameters import CONFIGURABLE, Parameter

EXAMPLE_ROLE_ARN = "arn:aws:iam::111122223333:role/retrain-pipeline-execution"
EXAMPLE_BUCKET = "retrain-trigger-dev-data-111122223333-us-east-1"


def _location_options(parser: argparse.ArgumentParser, default: Any) -> None:
    """Where the pipeline goes: accepted before or after the command (a value after it wins)."""

    def given(variable: str, *more: str) -> Any:
        if default is argparse.SUPPRESS:
            return default
        return next((os.environ[name] for name in (variable, *more) if os.environ.get(name)), None)

    parser.add_argument("--stack-name", default=default, help="read role, bucket and names from this stack's outputs")
    parser.add_argument("--region", default=given("AWS_REGION", "AWS_DEFAULT_REGION"))
    parser.add_argument("--pipeline-name", default=given("PIPELINE_NAME"))
    parser.add_argument(
        "--bucket", default=given("DATA_BUCKET"), help=f"data bucket; artefacts go under {ARTIFACTS_PREFIX}/"
    )
    parser.add_argument("--role-arn", default=default, help="the pipeline's execution role")
    parser.add_argument("--model-package-group", default=default)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.split("\n")[0])
    _location_options(parser, None)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("definition", "print the pipeline definition JSON (no AWS call)"),
        ("upsert", "upload the step scripts, create the model package group, create or update the pipeline"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        _location_options(command, argparse.SUPPRESS)
        defaults = command.add_argument_group(
            "defaults of the pipeline parameters (a run can still pass its own)",
            "each sets the default of the pipeline parameter of the same name",
        )
        for parameter in CONFIGURABLE:
            defaults.add_argument(
                parameter.option,
                dest=parameter.config_field,
                default=None,
                help=f"{parameter.help} (default: {_config_default(parameter)})".replace("%", "%%"),
                **_option_type(parameter),
            )
    return parser.parse_args(argv)


def _config_default(parameter: Parameter) -> Any:
    default = next(field.default for field in fields(PipelineConfig) if field.name == parameter.config_field)
    return str(default).lower() if isinstance(default, bool) else (default if default != "" else "none")


def _option_type(parameter: Parameter) -> dict[str, Any]:
    if parameter.choices:
        return {"choices": list(parameter.choices)}
    types: dict[str, dict[str, Any]] = {"Float": {"type": float}, "Integer": {"type": int}}
    return types.get(parameter.kind, {})


def resolve_config(args: argparse.Namespace) -> PipelineConfig:
    from_stack = stack_values(args.stack_name, args.region) if args.stack_name else {}
    region = args.region or boto3.Session().region_name
    if not region:
        raise CommandError("no AWS region: pass --region or set AWS_REGION")
    example = args.command == "definition"
    role_arn = args.role_arn or from_stack.get("PipelineExecutionRoleArn") or (EXAMPLE_ROLE_ARN if example else None)
    bucket = args.bucket or from_stack.get("DataBucketName") or (EXAMPLE_BUCKET if example else None)
    if not role_arn:
        raise CommandError("no execution role: pass --role-arn or --stack-name")
    if not ROLE_ARN.fullmatch(role_arn):
        raise CommandError(
            f"--role-arn {role_arn} is not a role ARN: pass arn:aws:iam::<account>:role/<name>, or --stack-name "
            "to use the stack's PipelineExecutionRoleArn"
        )
    if not bucket:
        raise CommandError("no bucket: pass --bucket, set DATA_BUCKET or pass --stack-name")
    defaults = PipelineConfig(region=region, role_arn=role_arn, default_bucket=bucket)
    given = {
        parameter.config_field: _given(getattr(args, parameter.config_field), parameter)
        for parameter in CONFIGURABLE
        if parameter.config_field and getattr(args, parameter.config_field) is not None
    }
    return replace(
        defaults,
        pipeline_name=args.pipeline_name or from_stack.get("PipelineName") or defaults.pipeline_name,
        model_package_group_name=args.model_package_group
        or from_stack.get("ModelPackageGroupName")
        or defaults.model_package_group_name,
        **given,
    )


def _given(value: Any, parameter: Parameter) -> Any:
    """An option's value as the configuration holds it (AutoApprove: a boolean)."""
    return value == "true" if parameter.config_field == "auto_approve" else value


def upsert(config: PipelineConfig, definition: str) -> str:
    """Make AWS hold this definition; return the pipeline ARN."""
    s3 = boto3.client("s3", region_name=config.region)
    sagemaker = boto3.client("sagemaker", region_name=config.region)
    for script in STEP_SCRIPTS:
        bucket, key = config.code_uri(script).removeprefix("s3://").split("/", 1)
        s3.put_object(Bucket=bucket, Key=key, Body=(STEPS_DIR / script).read_bytes())
    try:
        sagemaker.describe_model_package_group(ModelPackageGroupName=config.model_package_group_name)
    except ClientError:
        sagemaker.create_model_package_group(
            ModelPackageGroupName=config.model_package_group_name,
            ModelPackageGroupDescription=f"Models trained by pipeline {config.pipeline_name}",
        )
    try:
        sagemaker.describe_pipeline(PipelineName=config.pipeline_name)
    except ClientError:
        response: Any = sagemaker.create_pipeline(
            PipelineName=config.pipeline_name,
            PipelineDefinition=definition,
            RoleArn=config.role_arn,
            ClientRequestToken=_token(definition),
        )
    else:
        response = sagemaker.update_pipeline(
            PipelineName=config.pipeline_name, PipelineDefinition=definition, RoleArn=config.role_arn
        )
    return str(response["PipelineArn"])


def _token(definition: str) -> str:
    return hashlib.sha256(definition.encode()).hexdigest()


ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+")


def main(argv: list[str] | None = None) -> int:
    return command_line.run_command("python -m pipeline", parse_args(argv), _run, _fixes)


def _fixes(error: Exception) -> list[command_line.Fix]:
    """This tool's own mistakes, with what to do about each."""
    text, code = str(error), error_code(error)
    return [
        (code in {"NoSuchBucket", "404"}, f"{text}: check --bucket (the stack's DataBucketName), or use --stack-name"),
        (
            code in {"AccessDenied", "AccessDeniedException"},
            f"{text}: upsert needs s3:PutObject in the bucket, the SageMaker pipeline and model package group "
            "actions, and iam:PassRole on the execution role",
        ),
    ]


def _run(args: argparse.Namespace) -> int:
    from pipeline.definition import definition_json

    config = resolve_config(args)
    definition = definition_json(config)
    if args.command == "definition":
        print(json.dumps(json.loads(definition), indent=2, sort_keys=True))
        return 0
    arn = upsert(config, definition)
    print(f"pipeline {config.pipeline_name} now holds this definition (created or updated): {arn}")
    print(f"step scripts under {config.artifacts_uri}/code/, models registered in {config.model_package_group_name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
