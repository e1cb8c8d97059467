"""The deploy function's settings, read once from its environment (template.yaml sets each from the
template parameter of the same name). A missing or malformed variable fails at import, named."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from trigger.settings import ConfigurationError

# A canary is at most half of the new fleet (SageMaker developer guide, deployment guardrails).
MAX_CANARY_PERCENT = 50
# Model Monitor's schedules run at the hour (the SDK's CronExpressionGenerator: hourly, daily).
HOURLY, DAILY = "cron(0 * ? * * *)", "cron(0 0 ? * * *)"


class DeploySettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    deployment: Literal["Serverless", "Instances"] = Field(alias="DEPLOYMENT")
    model_package_group_name: str = Field(alias="MODEL_PACKAGE_GROUP_NAME", min_length=1)
    staging_endpoint_name: str = Field(alias="STAGING_ENDPOINT_NAME", min_length=1, max_length=63)
    prod_endpoint_name: str = Field(alias="PROD_ENDPOINT_NAME", min_length=1, max_length=63)
    model_execution_role_arn: str = Field(alias="MODEL_EXECUTION_ROLE_ARN", min_length=1)
    scheduler_table_name: str = Field(alias="SCHEDULER_TABLE_NAME", min_length=1)
    notification_topic_arn: str = Field(default="", alias="NOTIFICATION_TOPIC_ARN")
    stack_name: str = Field(default="", alias="STACK_NAME")
    serverless_memory_size_in_mb: int = Field(default=2048, alias="SERVERLESS_MEMORY_SIZE_IN_MB", ge=1024, le=6144)
    serverless_max_concurrency: int = Field(default=5, alias="SERVERLESS_MAX_CONCURRENCY", ge=1, le=200)
    endpoint_instance_type: str = Field(default="ml.m5.large", alias="ENDPOINT_INSTANCE_TYPE")
    endpoint_instance_count: int = Field(default=2, alias="ENDPOINT_INSTANCE_COUNT", ge=1)
    canary_size_percent: int = Field(default=25, alias="CANARY_SIZE_PERCENT", ge=1, le=MAX_CANARY_PERCENT)
    canary_wait_interval_in_seconds: int = Field(default=600, alias="CANARY_WAIT_INTERVAL_IN_SECONDS", ge=0, le=3600)
    termination_wait_in_seconds: int = Field(default=300, alias="TERMINATION_WAIT_IN_SECONDS", ge=0, le=3600)
    maximum_execution_timeout_in_seconds: int = Field(
        default=3600, alias="MAXIMUM_EXECUTION_TIMEOUT_IN_SECONDS", ge=600, le=28800
    )
    rollback_alarm_names: str = Field(alias="ROLLBACK_ALARM_NAMES", min_length=1)  # comma-separated
    # DriftMonitoring=DataQuality: prod captures its requests, and a schedule checks them against the
    # baseline of the version prod serves (template.yaml sets each; "" or None when nothing is watched).
    drift_monitoring: Literal["None", "DataQuality"] = Field(default="None", alias="DRIFT_MONITORING")
    data_capture_percent: int = Field(default=100, alias="DATA_CAPTURE_SAMPLING_PERCENTAGE", ge=0, le=100)
    data_capture_uri: str = Field(default="", alias="DATA_CAPTURE_URI")
    monitoring_schedule_name: str = Field(default="", alias="MONITORING_SCHEDULE_NAME", max_length=63)
    monitoring_schedule_expression: str = Field(default=HOURLY, alias="MONITORING_SCHEDULE_EXPRESSION")
    monitoring_role_arn: str = Field(default="", alias="MONITORING_ROLE_ARN")
    monitoring_output_uri: str = Field(default="", alias="MONITORING_OUTPUT_URI")
    monitoring_image_uri: str = Field(default="", alias="MONITORING_IMAGE_URI")

    @model_validator(mode="after")
    def _monitoring_needs_its_places(self) -> DeploySettings:
        if self.drift_monitoring == "DataQuality":
            if self.deployment != "Instances":  # the template's condition, for what skips it
                raise ValueError(
                    "DRIFT_MONITORING=DataQuality needs DEPLOYMENT=Instances: serverless endpoints "
                    "support neither data capture nor Model Monitor"
                )
            needed = {
                "DATA_CAPTURE_URI": self.data_capture_uri,
                "MONITORING_SCHEDULE_NAME": self.monitoring_schedule_name,
                "MONITORING_ROLE_ARN": self.monitoring_role_arn,
                "MONITORING_OUTPUT_URI": self.monitoring_output_uri,
                "MONITORING_IMAGE_URI": self.monitoring_image_uri,
            }
            missing = [name for name, value in needed.items() if not value]
            if missing:
                raise ValueError(f"DRIFT_MONITORING=DataQuality needs {', '.join(missing)}")
        return self

    @property
    def watches_drift(self) -> bool:
        return self.drift_monitoring == "DataQuality"

    def data_capture(self) -> dict[str, Any]:
        """Prod's DataCaptureConfig: requests and answers, as text (CSV and JSON), to DATA_CAPTURE_URI."""
        return {
            "EnableCapture": True,
            "InitialSamplingPercentage": self.data_capture_percent,
            "DestinationS3Uri": self.data_capture_uri,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
        }

    def variant(self) -> dict[str, Any]:
        """What a production variant of either kind of endpoint asks for."""
        if self.deployment == "Serverless":
            return {
                "ServerlessConfig": {
                    "MemorySizeInMB": self.serverless_memory_size_in_mb,
                    "MaxConcurrency": self.serverless_max_concurrency,
                }
            }
        return {"InstanceType": self.endpoint_instance_type, "InitialInstanceCount": self.endpoint_instance_count}

    def prod_rollout(self) -> dict[str, Any]:
        """UpdateEndpoint's DeploymentConfig for prod: blue/green, rolled back when an alarm fires.

        A canary needs a fleet to take a share of: with instances, CanarySize is a share of the new
        fleet's capacity; a serverless endpoint, or a single instance, shifts all traffic at once and
        bakes for the same wait (the guardrails' fallback for endpoints a canary does not fit)."""
        canary = self.deployment == "Instances" and self.endpoint_instance_count >= 2
        routing: dict[str, Any] = {"Type": "CANARY" if canary else "ALL_AT_ONCE"}
        routing["WaitIntervalInSeconds"] = self.canary_wait_interval_in_seconds
        if canary:
            routing["CanarySize"] = {"Type": "CAPACITY_PERCENT", "Value": self.canary_size_percent}
        alarms = [{"AlarmName": name.strip()} for name in self.rollback_alarm_names.split(",") if name.strip()]
        return {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": routing,
                "TerminationWaitInSeconds": self.termination_wait_in_seconds,
                "MaximumExecutionTimeoutInSeconds": self.maximum_execution_timeout_in_seconds,
            },
            "AutoRollbackConfiguration": {"Alarms": alarms},
        }

    def endpoint_of(self, stage: str) -> str:
        return self.staging_endpoint_name if stage == "staging" else self.prod_endpoint_name

    def stage_of(self, endpoint_name: str) -> str | None:
        names = {self.staging_endpoint_name: "staging", self.prod_endpoint_name: "prod"}
        return names.get(endpoint_name)


def load_deploy_settings(environ: Mapping[str, str] | None = None) -> DeploySettings:
    environ = os.environ if environ is None else environ
    aliases = [field.alias for field in DeploySettings.model_fields.values() if field.alias]
    try:
        return DeploySettings.model_validate({name: environ[name] for name in aliases if name in environ})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors())
        raise ConfigurationError(f"invalid configuration: {problems}") from None
