from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from emulator.lambda_context import LocalLambdaContext
from tests.aws import TriggerTargets, create_trigger_targets

EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def targets(aws: None) -> TriggerTargets:
    return create_trigger_targets()


@pytest.fixture
def lambda_context() -> LocalLambdaContext:
    return LocalLambdaContext(function_name="retrain-trigger-test-trigger")


def load_event(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text(encoding="utf-8")))
