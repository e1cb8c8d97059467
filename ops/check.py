"""`retrain-trigger check`: does the mapping (PipelineParameters) fit the pipeline? It reads the
pipeline's definition as the functions do before their first start, lists its parameters, says
what is wrong in one line each, and shows the parameters an example upload would produce."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import boto3

from ops.targets import Targets, need
from trigger.adapters.pipeline_executions import PipelineExecutions
from trigger.parameter_mapping import BUNDLED_PIPELINE_MAPPING, MappingError, parse_mapping
from trigger.pipeline_check import DeclaredParameter, problems_of
from trigger.runs import RunShape, run_for
from trigger.settings import ConfigurationError, load_settings
from trigger.uploads import UploadedObject

EXAMPLE_FILE = "example.csv"


# Without --stack-name no stack says where manifests go: the example shows this in their place.
NO_STACK_MANIFEST_PREFIX = "<the stack's manifest prefix>/"


@dataclass(frozen=True)
class CheckRequest:
    pipeline_name: str
    mapping: str = BUNDLED_PIPELINE_MAPPING
    bucket: str = "your-data-bucket"
    data_prefix: str = ""
    training_data: str = "NewObjects"
    max_objects_per_run: int = 1000
    key: str | None = None  # the example upload (default: a file under the data prefix)
    manifest_prefix: str = NO_STACK_MANIFEST_PREFIX


def check_command(args: argparse.Namespace, targets: Targets) -> int:
    """The mapping given, or the one the deployed trigger function runs with, against the pipeline.
    With --stack-name every setting is the function's own environment, as the stack deployed it."""
    deployed = _trigger_environment(targets.stack)
    return check(
        CheckRequest(
            pipeline_name=need(targets.pipeline_name, "pipeline name"),
            mapping=args.pipeline_parameters
            if args.pipeline_parameters is not None
            else deployed.get("PIPELINE_PARAMETERS") or BUNDLED_PIPELINE_MAPPING,
            bucket=targets.bucket or "your-data-bucket",
            data_prefix=deployed.get("DATA_PREFIX", targets.data_prefix or ""),
            training_data=deployed.get("TRAINING_DATA") or "NewObjects",
            max_objects_per_run=int(deployed.get("MAX_OBJECTS_PER_RUN") or 1000),
            key=args.key,
            manifest_prefix=deployed.get("MANIFEST_PREFIX") or NO_STACK_MANIFEST_PREFIX,
        )
    )


def _trigger_environment(stack: dict[str, str]) -> dict[str, str]:
    """The trigger function's environment (its settings, as deployed); nothing without a stack."""
    if not stack.get("TriggerFunctionName"):
        return {}
    configuration = boto3.client("lambda").get_function_configuration(FunctionName=stack["TriggerFunctionName"])
    return dict(configuration.get("Environment", {}).get("Variables", {}))


def check(request: CheckRequest) -> int:
    """0 when the mapping fits; 1 with each problem on its own line."""
    problems = _settings_problems(request)
    declared = [
        DeclaredParameter.from_definition(parameter)
        for parameter in PipelineExecutions(boto3.client("sagemaker")).declared_parameters(request.pipeline_name)
    ]
    print(f"pipeline {request.pipeline_name} declares {len(declared)} parameter(s):")
    for parameter in declared:
        print(f"  {parameter}")
    try:
        problems += problems_of(parse_mapping(request.mapping), declared, request.pipeline_name)
    except MappingError as error:
        problems = problems or [str(error)]
    if not problems:
        _examples(request)
    problems = list(dict.fromkeys(problems))  # the settings' reading and the parser's may say the same
    for problem in problems:
        print(f"error: {problem}")
    print("the mapping fits the pipeline" if not problems else f"{len(problems)} problem(s): no run would start")
    return 1 if problems else 0


def _settings_problems(request: CheckRequest) -> list[str]:
    """What the functions would refuse at start (a malformed pair, a manifest passed as data)."""
    try:
        load_settings(
            {
                "PIPELINE_NAME": request.pipeline_name,
                "SCHEDULER_TABLE_NAME": "-",
                "MANIFEST_PREFIX": request.manifest_prefix,
                "PIPELINE_PARAMETERS": request.mapping,
                "DATA_PREFIX": request.data_prefix,
                "TRAINING_DATA": request.training_data,
                "MAX_OBJECTS_PER_RUN": str(request.max_objects_per_run),
            }
        )
    except ConfigurationError as error:
        return [str(error).removeprefix("invalid configuration: ")]
    return []


def _examples(request: CheckRequest) -> None:
    shape = RunShape(
        request.pipeline_name,
        parse_mapping(request.mapping),
        request.manifest_prefix,
        request.data_prefix,
        request.training_data,
    )
    key = request.key or f"{request.data_prefix}{EXAMPLE_FILE}"
    upload = UploadedObject(request.bucket, key, "ObjectCreated:Put", version_id="example-version")
    bursts = [[upload]]
    if request.max_objects_per_run > 1:
        bursts.append([upload, UploadedObject(request.bucket, f"{key}.2", "ObjectCreated:Put")])
    for objects in bursts:
        what = f"an upload of s3://{request.bucket}/{key}" if len(objects) == 1 else "a run of 2 uploads"
        try:
            parameters = run_for(objects, shape).parameters
        except MappingError as error:
            print(f"{what} would be refused: {error}")
            continue
        print(f"{what} starts a run with:")
        for name, value in parameters.items():
            print(f"  {name}={value}")
