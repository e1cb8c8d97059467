from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from tests.aws import TriggerTargets, create_trigger_targets


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def targets(aws: None) -> TriggerTargets:
    return create_trigger_targets()
