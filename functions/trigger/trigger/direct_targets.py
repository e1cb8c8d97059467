"""The EventBridge rule, the path that starts the pipeline with no code of ours per upload, given the
pipeline as its target with the mapping translated for it, and the schedule, given the trigger queue
(its tick is a run request). Run by the PipelineTargets custom resource at every deploy, so a mapping
the rule cannot express fails the deploy with its one-line reason instead of starting runs on the
pipeline's defaults."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from trigger.adapters.pipeline_executions import PipelineExecutions
from trigger.adapters.pipeline_targets import RuleTarget, Schedule
from trigger.parameter_mapping import MappingError, ParameterMapping, manifest_read_as_data, parse_mapping
from trigger.pipeline_check import DeclaredParameter, problems_of
from trigger.target_parameters import rule_parameters


@dataclass(frozen=True)
class DirectTargets:
    rule_target: RuleTarget
    schedule: Schedule
    pipelines: PipelineExecutions | None = None  # to check the mapping against a pipeline that exists

    def apply(self, properties: dict[str, Any], previous: dict[str, Any] | None) -> None:
        """Translate first (a refusal changes nothing), then give each path its target."""
        mapping = parse_mapping(properties["PipelineParameters"])
        # What the trigger function would refuse at start fails the deploy instead.
        refusal = manifest_read_as_data(mapping, properties["TrainingData"], int(properties["MaxObjectsPerRun"]))
        if refusal:
            raise MappingError(refusal)
        self._refuse_what_the_pipeline_does_not_declare(mapping, properties["PipelineArn"].rsplit("/", 1)[-1])
        rule = properties.get("Rule") or {}
        on_rule = (
            rule_parameters(
                mapping,
                bucket=properties["Bucket"],
                data_prefix=properties["DataPrefix"],
                training_data=properties["TrainingData"],
            )
            if rule
            else None
        )
        schedule = properties["Schedule"]
        if schedule["InputKey"] not in ("", properties["DataPrefix"]):  # the tick asks for TrainingData's objects
            raise MappingError(
                f"ScheduleInputKey {schedule['InputKey']!r}: a scheduled run reads everything under DataPrefix "
                f"({properties['DataPrefix']!r}), as every run request does; leave ScheduleInputKey empty"
            )
        old_rule = ((previous or {}).get("Rule") or {}).get("Name")
        if old_rule and old_rule != rule.get("Name"):
            self.rule_target.remove(old_rule)
        if on_rule is not None:
            self.rule_target.put(rule["Name"], _rule_target(properties["PipelineArn"], rule, on_rule))
        self.schedule.put(schedule["Name"], _schedule_settings(schedule))

    def _refuse_what_the_pipeline_does_not_declare(self, mapping: ParameterMapping, pipeline_name: str) -> None:
        """When the pipeline exists already: a name it does not declare, or a value of the wrong type,
        fails the deploy as `retrain-trigger check` and the function's first start would refuse it."""
        declared = self.pipelines.declared_if_created(pipeline_name) if self.pipelines else None
        if declared is None:
            return
        problems = problems_of(mapping, [DeclaredParameter.from_definition(p) for p in declared], pipeline_name)
        if problems:
            raise MappingError("; ".join(problems))

    def remove(self, properties: dict[str, Any]) -> None:
        rule = properties.get("Rule") or {}
        if rule.get("Name"):
            self.rule_target.remove(rule["Name"])
        self.schedule.delete(properties["Schedule"]["Name"])


def _retry(policy: dict[str, Any]) -> dict[str, int]:
    """CloudFormation hands a custom resource every number as text."""
    return {name: int(value) for name, value in policy.items()}


def _rule_target(pipeline_arn: str, rule: dict[str, Any], parameters: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "Arn": pipeline_arn,
        "RoleArn": rule["RoleArn"],
        "SageMakerPipelineParameters": {"PipelineParameterList": parameters},
        "DeadLetterConfig": {"Arn": rule["DeadLetterArn"]},
        "RetryPolicy": _retry(rule["RetryPolicy"]),
    }


def _schedule_settings(schedule: dict[str, Any]) -> dict[str, Any]:
    """The schedule sends its tick to the trigger queue: a run request that takes a slot, waits for a
    running run and coalesces with the uploads pending then. Its Input names the schedule and the
    tick's time, which EventBridge Scheduler fills in ("Adding context attributes to your target"), so
    a redelivered tick is the same request."""
    tick = {
        "runRequest": {
            "kind": "schedule",
            "schedule": "<aws.scheduler.schedule-arn>",
            "time": "<aws.scheduler.scheduled-time>",
        }
    }
    return {
        "ScheduleExpression": schedule["Expression"],
        "ScheduleExpressionTimezone": schedule["Timezone"],
        "State": schedule["State"],
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Description": "Asks for a retrain on everything under DataPrefix, through the trigger queue.",
        "Target": {
            "Arn": schedule["QueueArn"],
            "RoleArn": schedule["RoleArn"],
            "Input": json.dumps(tick),
            "DeadLetterConfig": {"Arn": schedule["DeadLetterArn"]},
            "RetryPolicy": _retry(schedule["RetryPolicy"]),
        },
    }
