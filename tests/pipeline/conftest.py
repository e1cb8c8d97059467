from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from pipeline.config import PipelineConfig
from pipeline.definition import definition_json

REGION = "us-east-1"
BUCKET = "retrain-data"
CONFIG = PipelineConfig(
    region=REGION,
    role_arn="arn:aws:iam::123456789012:role/retrain-trigger-test-pipeline-us-east-1",
    default_bucket=BUCKET,
)


@pytest.fixture(scope="session")
def definition() -> str:
    """Built once: the SDK takes seconds to build it."""
    return definition_json(CONFIG)


@pytest.fixture
def data_bucket() -> Iterator[str]:
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield BUCKET
