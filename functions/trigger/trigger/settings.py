"""The settings of the run scheduler's functions, read once from the environment: what they share
(SchedulerSettings: the pipeline, the mapping, the run policy, the table, the topic, the data), and
each function's own (TriggerSettings, RunEndedSettings, SweepSettings). The PipelineTargets function
reads none: CloudFormation hands it everything in its request.

A missing or malformed variable fails at import, with a message naming it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from typing import Literal, overload

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from trigger.coalescing import RunPolicy
from trigger.parameter_mapping import (
    BUNDLED_PIPELINE_MAPPING,
    MappingError,
    ParameterMapping,
    manifest_read_as_data,
    parse_mapping,
)
from trigger.runs import ALL_OBJECTS, RunShape


class ConfigurationError(RuntimeError):
    """An environment variable the function needs is missing or malformed."""


class SchedulerSettings(BaseModel):
    """What every function of the run scheduler needs to know about its deployment.

    Each field is filled from the environment variable named in its alias.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True, ignored_types=(cached_property,))

    pipeline_name: str = Field(alias="PIPELINE_NAME", min_length=1, max_length=256)
    # The pipeline parameters of each run (template parameter PipelineParameters).
    pipeline_parameters: str = Field(default=BUNDLED_PIPELINE_MAPPING, alias="PIPELINE_PARAMETERS")
    notification_topic_arn: str = Field(default="", alias="NOTIFICATION_TOPIC_ARN")
    # The bucket notification already filters; checking again here keeps a misconfigured
    # notification (or a replayed message) from starting runs on unrelated objects.
    data_prefix: str = Field(default="", alias="DATA_PREFIX")
    data_suffix: str = Field(default="", alias="DATA_SUFFIX")
    # The run scheduler's table (keys pk, sk): pending objects, the cap and the run ledger.
    scheduler_table_name: str = Field(alias="SCHEDULER_TABLE_NAME", min_length=1)
    # Where a message that can never succeed goes at its first failure, with the reason attached.
    # Empty: such a message fails and reaches the queue's DLQ through the redrive policy.
    dead_letter_queue_url: str = Field(default="", alias="DEAD_LETTER_QUEUE_URL")
    # The run policy (template parameters of the same names).
    max_concurrent_executions: int = Field(default=1, alias="MAX_CONCURRENT_EXECUTIONS", ge=0)  # 0: no cap
    max_objects_per_run: int = Field(default=1000, alias="MAX_OBJECTS_PER_RUN", ge=1, le=1000)
    quiet_seconds: int = Field(default=0, alias="QUIET_SECONDS", ge=0)
    max_wait_seconds: int = Field(default=900, alias="MAX_WAIT_SECONDS", ge=0)
    min_seconds_between_runs: int = Field(default=0, alias="MIN_SECONDS_BETWEEN_RUNS", ge=0)
    manifest_prefix: str = Field(alias="MANIFEST_PREFIX", min_length=1)
    # NewObjects: a run trains on the uploads that started it. AllObjects: on everything under DATA_PREFIX.
    training_data: Literal["NewObjects", "AllObjects"] = Field(default="NewObjects", alias="TRAINING_DATA")
    # The data bucket: where each run's reports are, and what a run request on TrainingData's objects reads.
    data_bucket: str = Field(default="", alias="DATA_BUCKET")

    @model_validator(mode="after")
    def _consistent(self) -> SchedulerSettings:
        if self.training_data == ALL_OBJECTS and not self.data_prefix:
            # The whole bucket would include the runs' own outputs under pipeline-artifacts/.
            raise ValueError("TRAINING_DATA=AllObjects needs a DATA_PREFIX: the folder every run trains on")
        try:
            mapping = parse_mapping(self.pipeline_parameters)
        except MappingError as error:
            raise ValueError(str(error)) from None
        refusal = manifest_read_as_data(mapping, self.training_data, self.max_objects_per_run)
        if refusal:
            raise ValueError(refusal)
        return self

    @cached_property
    def mapping(self) -> ParameterMapping:
        return parse_mapping(self.pipeline_parameters)

    @cached_property
    def run_shape(self) -> RunShape:
        return RunShape(
            pipeline_name=self.pipeline_name,
            mapping=self.mapping,
            manifest_prefix=self.manifest_prefix,
            data_prefix=self.data_prefix,
            training_data=self.training_data,
        )

    @cached_property
    def run_policy(self) -> RunPolicy:
        return RunPolicy(
            max_objects_per_run=self.max_objects_per_run,
            quiet_seconds=self.quiet_seconds,
            max_wait_seconds=self.max_wait_seconds,
            min_seconds_between_runs=self.min_seconds_between_runs,
        )


class TriggerSettings(SchedulerSettings):
    """The trigger function's: the shared parts, and the topic whose messages are run requests."""

    # The SNS topic whose messages ask for a retrain (template parameter RetrainTopicArn); "" for none.
    retrain_topic_arn: str = Field(default="", alias="RETRAIN_TOPIC_ARN")
    data_bucket: str = Field(alias="DATA_BUCKET", min_length=1)  # what a request on the prefix reads
    # Prod's data-quality monitoring schedule (DriftMonitoring=DataQuality); "" when nothing is watched.
    monitoring_schedule_arn: str = Field(default="", alias="MONITORING_SCHEDULE_ARN")

    @model_validator(mode="after")
    def _a_topic_needs_a_prefix(self) -> TriggerSettings:
        if self.retrain_topic_arn and not self.data_prefix:  # the template's rule, for what skips it
            raise ValueError("RETRAIN_TOPIC_ARN asks for runs on everything under DATA_PREFIX, which is empty")
        return self


class RunEndedSettings(SchedulerSettings):
    """The run-ended function's: the shared parts, and what telling a run's end once needs."""

    idempotency_table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME", min_length=1)  # one notification per end
    runs_prefix: str = Field(alias="RUNS_PREFIX", min_length=1)  # each run's reports: <RUNS_PREFIX><execution id>/
    stack_name: str = Field(default="", alias="STACK_NAME")  # named in the commands a notification gives


class SweepSettings(SchedulerSettings):
    """The sweep's: the shared parts alone (it frees slots, completes starts and dispatches)."""


def required(value: str, name: str) -> str:
    """A setting a function cannot work without; a missing one fails at start, named."""
    if not value:
        raise ConfigurationError(f"invalid configuration: {name}: the function needs it")
    return value


@overload
def load_settings(environ: Mapping[str, str] | None = None) -> SchedulerSettings: ...


@overload
def load_settings[S: SchedulerSettings](environ: Mapping[str, str] | None = None, *, model: type[S]) -> S: ...


@overload
def load_settings[S: SchedulerSettings](environ: Mapping[str, str] | None, model: type[S]) -> S: ...


def load_settings(
    environ: Mapping[str, str] | None = None, model: type[SchedulerSettings] = SchedulerSettings
) -> SchedulerSettings:
    """Read one function's settings, failing with a message that names each bad variable."""
    environ = os.environ if environ is None else environ
    names = [field.alias for field in model.model_fields.values() if field.alias is not None]
    known = {name: environ[name] for name in names if name in environ}
    try:
        return model.model_validate(known)
    except ValidationError as error:
        problems = "; ".join(
            ": ".join(
                filter(None, (".".join(str(part) for part in item["loc"]), item["msg"].removeprefix("Value error, ")))
            )
            for item in error.errors()
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from None
