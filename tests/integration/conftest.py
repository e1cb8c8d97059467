from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from emulator.deployment import LocalDeployment, deploy_locally
from emulator.event_source import QueueEventSource
from emulator.identities import functions_as_their_roles
from emulator.moto_server import running_moto_server
from tests.aws import TriggerTargets
from tests.events import load_event


@dataclass
class LocalRun:
    deployment: LocalDeployment
    event_source: QueueEventSource
    app: Any
    sweep: Any
    run_ended: Any
    functions: dict[str, Any]  # every function's handler module, by module name, signing as its role

    @property
    def targets(self) -> TriggerTargets:
        d = self.deployment
        return TriggerTargets(d.pipeline_name, d.topic_arn, d.inbox_queue_url, d.dead_letter_queue_url)

    def end_run(self, execution_arn: str) -> None:
        """SageMaker's status-change event for the run, delivered to the run-ended function."""
        event = load_event("pipeline-status-succeeded.json")
        event["detail"]["pipelineExecutionArn"] = execution_arn
        event["resources"][1] = execution_arn
        self.run_ended.lambda_handler(event, self.deployment.stack.lambda_context("RunStatusFunction"))

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


@contextmanager
def enforced_local_run(
    overrides: dict[str, str] | None = None,
    without: tuple[str, str] | None = None,
    before_deploy: Callable[[], None] | None = None,
) -> Iterator[LocalRun]:
    """moto's server, the stack created from the template, and the real functions behind a local
    event source, with moto's IAM enforcement on: each function signs as an identity holding
    exactly its role's policies, and the test itself as an administrator. ``without``: (function,
    statement Sid) left out of that function's role. ``before_deploy``: what exists before the stack
    (another team's topic it subscribes to).

    The function modules are re-imported with the stack's environments (their clients then talk to
    the server) and re-imported again afterwards with the tests' environment.
    """
    saved = dict(os.environ)
    try:
        with running_moto_server():
            if before_deploy is not None:
                before_deploy()
            # No window unless a test asks for one: drain() then delivers at once.
            deployment = deploy_locally({"BatchingWindowSeconds": "0", **(overrides or {})})
            with functions_as_their_roles(deployment.stack, without) as modules:
                event_source = QueueEventSource(
                    deployment.queue_url,
                    deployment.queue_arn,
                    modules["app"].lambda_handler,
                    batch_size=deployment.batch_size,
                    context=deployment.stack.lambda_context("TriggerFunction"),
                    batching_window_seconds=deployment.batching_window_seconds,
                )
                yield LocalRun(
                    deployment, event_source, modules["app"], modules["sweep"], modules["run_ended"], modules
                )
    finally:
        os.environ.clear()
        os.environ.update(saved)
        for name in ("app", "run_ended", "sweep", "pipeline_targets"):
            importlib.reload(importlib.import_module(name))
        sys.modules.pop("deploy", None)  # configured only by a stack that deploys: imported anew by the next


@pytest.fixture
def local_run(request: pytest.FixtureRequest) -> Iterator[LocalRun]:
    """The local stack with enforcement on (see enforced_local_run); a test's ``param`` overrides
    template parameters."""
    with enforced_local_run(getattr(request, "param", {})) as run:
        yield run
