"""Prod's data-quality monitoring schedule: the only code that creates or changes it. It checks the
requests prod captured against the baseline of the version prod serves (the package's
DriftCheckBaselines), so a deployment and a rollback each point it at their version's baseline.

The job definition is Model Monitor's data-quality analyser (SageMaker API reference,
CreateMonitoringSchedule, MonitoringJobDefinition): the endpoint's captured data as input, the
baseline's statistics and constraints, a report per execution under MONITORING_OUTPUT_URI, and
RETRAIN_TRIGGER_BASELINE in its Environment, which each execution's event carries back to the
trigger (trigger/sources/monitoring_execution.py) as the identity of the baseline it checked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from trigger.deployments import Release
from trigger.errors import DeployFailed
from trigger.sources.monitoring_execution import BASELINE_ENVIRONMENT

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

    from trigger.deploy_settings import DeploySettings

PROCESSING = "/opt/ml/processing"


class MonitoringSchedules:
    def __init__(self, sagemaker: SageMakerClient) -> None:
        self._sagemaker = sagemaker

    def watch(self, settings: DeploySettings, release: Release) -> str:
        """Create the schedule, or point it at ``release``'s baseline; its ARN."""
        config = schedule_config(settings, release)
        name = settings.monitoring_schedule_name
        try:
            if self.exists(name):
                answer: Any = self._sagemaker.update_monitoring_schedule(
                    MonitoringScheduleName=name,
                    MonitoringScheduleConfig=config,  # type: ignore[arg-type]
                )
            else:
                answer = self._sagemaker.create_monitoring_schedule(
                    MonitoringScheduleName=name,
                    MonitoringScheduleConfig=config,  # type: ignore[arg-type]
                )
        except (ClientError, BotoCoreError) as error:
            raise DeployFailed(f"could not point {name} at version {release.version}'s baseline: {error}") from None
        return str(answer["MonitoringScheduleArn"])

    def exists(self, name: str) -> bool:
        try:
            self._sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("ResourceNotFound", "ValidationException"):
                return False
            raise
        return True


def schedule_config(settings: DeploySettings, release: Release) -> dict[str, Any]:
    return {
        "ScheduleConfig": {"ScheduleExpression": settings.monitoring_schedule_expression},
        "MonitoringType": "DataQuality",
        "MonitoringJobDefinition": {
            "BaselineConfig": {
                "ConstraintsResource": {"S3Uri": release.baseline_constraints_uri},
                "StatisticsResource": {"S3Uri": release.baseline_statistics_uri},
            },
            "MonitoringInputs": [
                {"EndpointInput": {"EndpointName": settings.prod_endpoint_name, "LocalPath": f"{PROCESSING}/input"}}
            ],
            "MonitoringOutputConfig": {
                "MonitoringOutputs": [
                    {
                        "S3Output": {
                            "S3Uri": settings.monitoring_output_uri,
                            "LocalPath": f"{PROCESSING}/output",
                            "S3UploadMode": "EndOfJob",
                        }
                    }
                ]
            },
            "MonitoringResources": {
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}
            },
            "MonitoringAppSpecification": {"ImageUri": settings.monitoring_image_uri},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
            "Environment": {BASELINE_ENVIRONMENT: release.baseline_constraints_uri},
            "RoleArn": settings.monitoring_role_arn,
        },
    }
