from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from emulator.deployment import LocalDeployment, deploy_locally, function_environment
from emulator.event_source import QueueEventSource
from emulator.moto_server import running_moto_server


@dataclass
class LocalRun:
    deployment: LocalDeployment
    event_source: QueueEventSource
    app: Any


@pytest.fixture
def local_run(request: pytest.FixtureRequest) -> Iterator[LocalRun]:
    """moto's server, the template's resources in it, and the real function behind a local event source.

    The function module is re-imported with the template's environment (its clients then talk to
    the server) and re-imported again afterwards with the tests' environment.
    """
    import app

    overrides: dict[str, str] = getattr(request, "param", {})
    saved = dict(os.environ)
    with running_moto_server():
        deployment = deploy_locally(overrides)
        os.environ.update(function_environment(deployment))
        importlib.reload(app)
        try:
            event_source = QueueEventSource(
                deployment.queue_url,
                deployment.queue_arn,
                app.lambda_handler,
                batch_size=deployment.batch_size,
            )
            yield LocalRun(deployment, event_source, app)
        finally:
            os.environ.clear()
            os.environ.update(saved)
    importlib.reload(app)


Factory = Callable[..., Any]
