from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from emulator.deployment import LocalDeployment, deploy_locally
from emulator.event_source import QueueEventSource
from emulator.identities import functions_as_their_roles
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
        sweeps = []
        for _ in range(rounds):
            self.event_source.drain()
            swept = self.sweep.lambda_handler({}, self.deployment.stack.lambda_context("SweepFunction"))
            sweeps.append(swept)
            if not (swept["released"] or swept["started"] or swept["pending"] or swept["starting"]):
                return sweeps
        raise AssertionError(f"still starting runs after {rounds} sweeps")


@pytest.fixture
def local_run(request: pytest.FixtureRequest) -> Iterator[LocalRun]:
    """moto's server, the stack created from the template, and the real functions behind a local
    event source, with moto's IAM enforcement on: each function signs as an identity holding
    exactly its role's policies, and the test itself as an administrator.

    The function modules are re-imported with the stack's environments (their clients then talk to
    the server) and re-imported again afterwards with the tests' environment.
    """
    overrides: dict[str, str] = getattr(request, "param", {})
    saved = dict(os.environ)
    try:
        with running_moto_server():
            deployment = deploy_locally(overrides)
            with functions_as_their_roles(deployment.stack) as modules:
                event_source = QueueEventSource(
                    deployment.queue_url,
                    deployment.queue_arn,
                    modules["app"].lambda_handler,
                    batch_size=deployment.batch_size,
                    context=deployment.stack.lambda_context("TriggerFunction"),
                )
                yield LocalRun(deployment, event_source, modules["app"], modules["sweep"])
    finally:
        os.environ.clear()
        os.environ.update(saved)
        for name in ("app", "run_ended", "sweep"):
            importlib.reload(importlib.import_module(name))
