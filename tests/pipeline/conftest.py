from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from emulator.moto_server import running_moto_server
from emulator.step_environments import python_for
from pipeline.config import PipelineConfig
from pipeline.definition import definition_json

REGION = "us-east-1"
BUCKET = "retrain-data"
CONFIG = PipelineConfig(
    region=REGION,
    role_arn="arn:aws:iam::123456789012:role/retrain-trigger-test-pipeline-us-east-1",
    default_bucket=BUCKET,
)
STEPS = Path(__file__).resolve().parents[2] / "pipeline" / "steps"


@pytest.fixture(scope="session")
def spark_python() -> Path:
    """The Spark image's look-alike (`make step-envs SPARK=1`; created here when missing)."""
    from emulator.step_environments import create
    from pipeline.images import SPARK

    return create(SPARK, say=None).python


@pytest.fixture(scope="session")
def definition() -> str:
    """Built once: the SDK takes seconds to build it."""
    return definition_json(CONFIG)


@pytest.fixture(scope="session")
def image_of_script(definition: str) -> dict[str, str]:
    """Each processing script and the image URI the definition runs it in."""
    images: dict[str, str] = {}

    def visit(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            app = step.get("Arguments", {}).get("AppSpecification")
            if app:
                images[Path(app["ContainerEntrypoint"][-1]).name] = app["ImageUri"]
            for branch in ("IfSteps", "ElseSteps"):
                visit(step.get("Arguments", {}).get(branch, []))

    visit(json.loads(definition)["Steps"])
    return images


RunScript = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_step(image_environments: None, image_of_script: dict[str, str]) -> RunScript:
    """Run a step script as its image would: the Python and libraries of the image the definition names."""

    def run(script: str, base: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
        python = python_for(image_of_script[script])
        return subprocess.run(
            [str(python), str(STEPS / script), *arguments, "--base-dir", str(base)],
            capture_output=True,
            text=True,
            check=False,
        )

    return run


@pytest.fixture
def data_bucket() -> Iterator[str]:
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield BUCKET


@pytest.fixture
def served_bucket() -> Iterator[str]:
    """The bucket on moto's server: the runner's steps run as subprocesses and call AWS themselves."""
    with running_moto_server():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield BUCKET
