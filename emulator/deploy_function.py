"""The deploy function on the local stack: SageMaker's endpoint and model-package events
(emulator/endpoints.py) reach it as EventBridge delivers them, through the stack's own rules.

moto creates the rules from the template but invokes no Lambda target: each event is matched here
against the patterns of the rules whose target is the function (moto's own pattern matching), and a
matching one calls the real handler with the context the stack gives the function."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

import boto3

from emulator.endpoints import EndpointLifecycle, Fleets, install
from emulator.moto_server import REGION


class LocalDeployFunction:
    def __init__(
        self, deployment: Any, fleets: Fleets, configure: Callable[[dict[str, str]], None] | None = None
    ) -> None:
        from emulator.demo import _fresh_import

        self.fleets = fleets
        self.lifecycle = EndpointLifecycle(fleets)
        install(self.lifecycle)
        environment = deployment.stack.function_environment("DeployFunction")
        (configure or os.environ.update)(environment)
        self._module = _fresh_import("deploy")
        self._context = deployment.stack.lambda_context("DeployFunction")
        self._patterns = _rule_patterns(deployment.stack.functions["DeployFunction"]["FunctionArn"])
        self.staging_endpoint = environment["STAGING_ENDPOINT_NAME"]
        self.prod_endpoint = environment["PROD_ENDPOINT_NAME"]
        watched = environment.get("DRIFT_MONITORING") == "DataQuality"
        self.monitoring_schedule = environment.get("MONITORING_SCHEDULE_NAME", "") if watched else ""
        self.handled: list[dict[str, Any]] = []  # each delivered event's detail-type and the function's answer

    def step(self) -> bool:
        """Endpoints move on; each event their rules match is delivered. False when nothing happened."""
        self.lifecycle.tick()
        events = self.lifecycle.drain()
        for event in events:
            if any(pattern.matches_event(event) for pattern in self._patterns):
                answer = self._module.lambda_handler(event, self._context)
                self.handled.append({"event": event["detail-type"], "detail": event["detail"], "answer": answer})
        return bool(events) or self.lifecycle.busy

    @property
    def deployer(self) -> Any:
        """The handler module's deployer (what each stage serves: `deployer.stage("prod")`)."""
        return self._module.deployer

    def close(self) -> None:
        """Stop every endpoint's containers (the stack is going down)."""
        close = getattr(self.fleets, "close", None)
        if close:
            close()

    def settle(self, timeout_seconds: float = 300, pause: float = 0.2) -> None:
        """Until every deployment in progress ended (the waits are the deployment configuration's)."""
        deadline = time.monotonic() + timeout_seconds
        while self.step():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the deployments did not end within {timeout_seconds:.0f} s")
            time.sleep(pause)


def _rule_patterns(function_arn: str) -> list[Any]:
    from moto.events.models import EventPattern

    events = boto3.client("events", region_name=REGION)
    names = events.list_rule_names_by_target(TargetArn=function_arn)["RuleNames"]
    return [
        EventPattern.load(json.dumps(json.loads(events.describe_rule(Name=name)["EventPattern"]))) for name in names
    ]
