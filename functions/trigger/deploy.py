"""Lambda entry point of the deploy function: a model package's approval changed, or one of the
stack's endpoints changed status; the deployer takes the one next step (trigger/deployer.py)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from trigger.deploy_events import EndpointStateChange, parse_deploy_event
from trigger.factory import build_deployer
from trigger.observability import logger, metrics, tracer

deployer = build_deployer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    change = parse_deploy_event(event)
    if isinstance(change, EndpointStateChange):
        return deployer.on_endpoint(change)
    return deployer.on_package(change)
