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
    sweep: Any

    def settle(self, *, rounds: int = 50) -> list[dict[str, Any]]:
        """Deliver what is queued, then sweep, until nothing is pending or being started: moto's
        executions end the moment they start, and the sweep frees their slots as their status
        events would."""
        from emulator.lambda_context import LocalLambdaContext

        sweeps = []
        for _ in range(rounds):
            self.event_source.drain()
            swept = self.sweep.lambda_handler({}, LocalLambdaContext(function_name="sweep"))
            sweeps.append(swept)
            if not (swept["released"] or swept["started"] or swept["pending"] or swept["starting"]):
                return sweeps
        raise AssertionError(f"still starting runs after {rounds} sweeps")


@pytest.fixture
def local_run(request: pytest.FixtureRequest) -> Iterator[LocalRun]:
    """moto's server, the template's resources in it, and the real function behind a local event source.

    The function module is re-imported with the template's environment (its clients then talk to
    the server) and re-imported again afterwards with the tests' environment.
    """
    import app
    import sweep

    overrides: dict[str, str] = getattr(request, "param", {})
    saved = dict(os.environ)
    with running_moto_server():
        deployment = deploy_locally(overrides)
        os.environ.update(function_environment(deployment))
        importlib.reload(app)
        os.environ.update(function_environment(deployment, "SweepFunction"))
        importlib.reload(sweep)
        try:
            event_source = QueueEventSource(
                deployment.queue_url,
                deployment.queue_arn,
                app.lambda_handler,
                batch_size=deployment.batch_size,
            )
            yield LocalRun(deployment, event_source, app, sweep)
        finally:
            os.environ.clear()
            os.environ.update(saved)
    importlib.reload(app)
    importlib.reload(sweep)


Factory = Callable[..., Any]
