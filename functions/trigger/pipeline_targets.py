"""Lambda entry point of the PipelineTargets custom resource: at each deploy, the EventBridge rule
and the schedule get the pipeline as their target with the mapping translated for each path; a
mapping a path cannot express fails the deploy with its one-line reason."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from trigger.adapters.clients import Clients
from trigger.adapters.pipeline_executions import PipelineExecutions
from trigger.adapters.pipeline_targets import RuleTarget, Schedule, answer_cloudformation
from trigger.direct_targets import DirectTargets
from trigger.observability import logger

clients = Clients()
targets = DirectTargets(RuleTarget(clients.events), Schedule(clients.scheduler), PipelineExecutions(clients.sagemaker))


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    properties = event["ResourceProperties"]
    physical_id = event.get("PhysicalResourceId") or properties["Schedule"]["Name"]
    reason = None
    try:
        if event["RequestType"] == "Delete":
            targets.remove(properties)
        else:
            targets.apply(properties, event.get("OldResourceProperties"))
    except Exception as error:  # noqa: BLE001 - CloudFormation must hear every outcome, or it waits an hour
        reason = f"PipelineParameters: {error}"
        logger.exception("could not give the rule and the schedule their target", extra={"reason": reason})
    answer_cloudformation(event, physical_id, reason)
