"""What a run's steps wrote in their property files, read as SageMaker keeps it: the definition the
run used names each step's PropertyFiles (output name, file path); the step's processing job
(ListPipelineExecutionSteps' Metadata.ProcessingJob) gives that output's S3 URI."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError


def numbers_by_step(sagemaker: Any, s3: Any, arn: str, steps: list[dict[str, Any]]) -> dict[str, list[str]]:
    """For each step of ``steps`` (as ListPipelineExecutionSteps gives them) that declares property
    files: `path value` of every number in them, in the files' order ("" when a file cannot be read)."""
    definition = json.loads(
        sagemaker.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)["PipelineDefinition"]
    )
    declared = {step["Name"]: step["PropertyFiles"] for step in _every_step(definition) if step.get("PropertyFiles")}
    found: dict[str, list[str]] = {}
    for step in steps:
        job = ((step.get("Metadata") or {}).get("ProcessingJob") or {}).get("Arn")
        if step.get("StepName") not in declared or not job:
            continue
        described = sagemaker.describe_processing_job(ProcessingJobName=job.rsplit("/", 1)[-1])
        outputs = {
            o["OutputName"]: o["S3Output"]["S3Uri"]
            for o in described.get("ProcessingOutputConfig", {}).get("Outputs", [])
            if "S3Output" in o
        }
        found[step["StepName"]] = [
            line
            for property_file in declared[step["StepName"]]
            for line in _numbers(s3, outputs.get(property_file["OutputName"]), property_file["FilePath"])
        ]
    return found


def _every_step(definition: dict[str, Any]) -> list[dict[str, Any]]:
    steps, found = list(definition.get("Steps", [])), []
    while steps:
        step = steps.pop(0)
        found.append(step)
        arguments = step.get("Arguments") or {}
        steps += [*arguments.get("IfSteps", []), *arguments.get("ElseSteps", [])]
    return found


def _numbers(s3: Any, output: str | None, path: str) -> list[str]:
    if output is None:
        return [f"{path}: its output is not in the job"]
    uri = f"{output.rstrip('/')}/{path}"
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        document = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except (ClientError, ValueError) as unreadable:
        return [f"{uri}: not readable ({unreadable})"]
    return [f"{path} {value:g}" for path, value in _leaves(document, "")]


def _leaves(node: Any, path: str) -> list[tuple[str, float]]:
    if isinstance(node, bool):
        return []
    if isinstance(node, (int, float)):
        return [(path, float(node))]
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in _leaves(value, f"{path}.{key}" if path else key)]
    if isinstance(node, list):
        return [leaf for index, value in enumerate(node) for leaf in _leaves(value, f"{path}[{index}]")]
    return []
