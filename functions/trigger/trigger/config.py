"""Configuration of the functions (trigger, run ended, sweep), read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ConfigurationError(RuntimeError):
    """An environment variable the function needs is missing or malformed."""


class TriggerSettings(BaseModel):
    """What the function needs to know about its deployment.

    Each field is filled from the environment variable named in its alias.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    pipeline_name: str = Field(alias="PIPELINE_NAME", min_length=1, max_length=256)
    notification_topic_arn: str = Field(default="", alias="NOTIFICATION_TOPIC_ARN")
    # The bucket notification already filters; checking again here keeps a misconfigured
    # notification (or a replayed message) from starting runs on unrelated objects.
    data_prefix: str = Field(default="", alias="DATA_PREFIX")
    data_suffix: str = Field(default="", alias="DATA_SUFFIX")
    # The run scheduler's table (keys pk, sk): pending objects, slots and runs.
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
    manifest_prefix: str = Field(default="pipeline-artifacts/manifests/", alias="MANIFEST_PREFIX", min_length=1)
    # NewObjects: a run trains on the uploads that started it. AllObjects: on everything under DATA_PREFIX.
    training_data: Literal["NewObjects", "AllObjects"] = Field(default="NewObjects", alias="TRAINING_DATA")

    @model_validator(mode="after")
    def _all_objects_needs_a_prefix(self) -> TriggerSettings:
        if self.training_data == "AllObjects" and not self.data_prefix:
            # The whole bucket would include the runs' own outputs under pipeline-artifacts/.
            raise ValueError("TRAINING_DATA=AllObjects needs a DATA_PREFIX: the folder every run trains on")
        return self

    @property
    def all_objects_under(self) -> str | None:
        """The prefix every run trains on (AllObjects), or None (a run trains on its uploads)."""
        return self.data_prefix if self.training_data == "AllObjects" else None


def load_settings(environ: Mapping[str, str] | None = None) -> TriggerSettings:
    """Read the settings, failing with a message that names each bad variable."""
    environ = os.environ if environ is None else environ
    known = {name: environ[name] for name in _VARIABLES if name in environ}
    try:
        return TriggerSettings.model_validate(known)
    except ValidationError as error:
        problems = "; ".join(
            ": ".join(
                filter(None, (".".join(str(part) for part in item["loc"]), item["msg"].removeprefix("Value error, ")))
            )
            for item in error.errors()
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from None


_VARIABLES = tuple(field.alias for field in TriggerSettings.model_fields.values() if field.alias is not None)
