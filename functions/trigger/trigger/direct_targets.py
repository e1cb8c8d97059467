"""The paths that start the pipeline with no code of ours per upload, the EventBridge rule and the
schedule, given the pipeline as their target with the mapping translated for each. Run by the
PipelineTargets custom resource at every deploy, so a mapping a path cannot express fails the
deploy with its one-line reason instead of starting runs on the pipeline's defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trigger.adapters.pipeline_executions import PipelineExecutions
from trigger.adapters.pipeline_targets import RuleTarget, Schedule
from trigger.parameter_mapping import MappingError, ParameterMapping, manifest_read_as_data, parse_mapping
from trigger.pipeline_check import DeclaredParameter, problems_of
from trigger.target_parameters import rule_parameters, schedule_parameters


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
        on_schedule = schedule_parameters(mapping, bucket=properties["Bucket"], input_key=schedule["InputKey"])
        old_rule = ((previous or {}).get("Rule") or {}).get("Name")
        if old_rule and old_rule != rule.get("Name"):
            self.rule_target.remove(old_rule)
        if on_rule is not None:
            self.rule_target.put(rule["Name"], _rule_target(properties["PipelineArn"], rule, on_rule))
        self.schedule.put(schedule["Name"], _schedule_settings(properties["PipelineArn"], schedule, on_schedule))

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


def _schedule_settings(pipeline_arn: str, schedule: dict[str, Any], parameters: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "ScheduleExpression": schedule["Expression"],
        "ScheduleExpressionTimezone": schedule["Timezone"],
        "State": schedule["State"],
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Description": "Retrains on everything under ScheduleInputKey on a schedule.",
        "Target": {
            "Arn": pipeline_arn,
            "RoleArn": schedule["RoleArn"],
            "SageMakerPipelineParameters": {"PipelineParameterList": parameters},
            "DeadLetterConfig": {"Arn": schedule["DeadLetterArn"]},
            "RetryPolicy": _retry(schedule["RetryPolicy"]),
        },
    }
