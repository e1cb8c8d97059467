"""Shared fixtures. Every AWS call in the tests goes to moto: in-process (mock_aws) for unit tests,
moto's server on 127.0.0.1 for end-to-end tests. The fake credentials below never leave this process."""

from __future__ import annotations

import os

# Set before anything creates a boto3 client or imports the function (it reads its settings once).
# The functions' environment is the one of the `dev` stack of the sample account, as `sam local
# invoke --env-vars` gets it: events/env.json, which a test keeps equal to what the template sets
# (RunStatusFunction's holds the other functions' variables too).
from emulator.function_environment import function_environment

os.environ.update(
    function_environment(),
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    POWERTOOLS_SERVICE_NAME="retrain-trigger",
    POWERTOOLS_METRICS_NAMESPACE="RetrainTrigger",
    POWERTOOLS_TRACE_DISABLED="true",
    SAM_CLI_TELEMETRY="0",
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import pytest

from emulator import moto_fixes
from emulator.lambda_context import LocalLambdaContext

moto_fixes.apply()


@pytest.fixture
def lambda_context() -> LocalLambdaContext:
    """A context with the attributes the Lambda runtime passes (Powertools' Logger reads them)."""
    return LocalLambdaContext(function_name="retrain-trigger-test-trigger")


@pytest.fixture(scope="session")
def image_environments() -> None:
    """The look-alike of each SageMaker image (make creates them; this creates any that are missing)."""
    from emulator.step_environments import create
    from pipeline.images import STEP_IMAGES

    for image in STEP_IMAGES:
        create(image, say=None)
