"""SageMaker's registry, models, endpoint configurations and endpoints, and the runtime that invokes
them: the only code the deployment uses to reach them. AWS errors become DeployFailed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from trigger.deployments import Release
from trigger.errors import DeployFailed

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient

VARIANT = "AllTraffic"  # one variant per endpoint, the same name in every configuration (blue/green needs it)


@dataclass(frozen=True)
class EndpointState:
    status: str
    config_name: str
    failure_reason: str = ""


def _reason(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'Error')}: {details.get('Message', '')}".strip()
    return str(error)


class Endpoints:
    def __init__(self, sagemaker: SageMakerClient, runtime: Any, s3: S3Client) -> None:
        self._sagemaker = sagemaker
        self._runtime = runtime
        self._s3 = s3

    def latest_approved(self, group: str) -> Release | None:
        """The newest Approved version of the group, looked up now (events can arrive out of order)."""
        try:
            pages = self._sagemaker.get_paginator("list_model_packages").paginate(
                ModelPackageGroupName=group,
                ModelApprovalStatus="Approved",
                SortBy="CreationTime",
                SortOrder="Descending",
            )
            summaries = [summary for page in pages for summary in page["ModelPackageSummaryList"]]
        except (ClientError, BotoCoreError) as error:
            raise DeployFailed(f"could not list the approved versions of {group}: {_reason(error)}") from None
        if not summaries:
            return None
        newest = max(summaries, key=lambda summary: int(summary.get("ModelPackageVersion", 0)))
        return self.release(str(newest["ModelPackageArn"]))

    def release(self, package_arn: str) -> Release:
        try:
            package = self._sagemaker.describe_model_package(ModelPackageName=package_arn)
        except (ClientError, BotoCoreError) as error:
            raise DeployFailed(f"could not read {package_arn}: {_reason(error)}") from None
        metadata = package.get("CustomerMetadataProperties", {})
        data_quality = package.get("DriftCheckBaselines", {}).get("ModelDataQuality", {})
        return Release(
            version=int(package.get("ModelPackageVersion", 0)),
            package_arn=package_arn,
            execution_arn=metadata.get("ExecutionArn", ""),
            source=metadata.get("Input", ""),
            smoke_check_uri=metadata.get("SmokeCheck", ""),
            baseline_statistics_uri=str(data_quality.get("Statistics", {}).get("S3Uri", "")),
            baseline_constraints_uri=str(data_quality.get("Constraints", {}).get("S3Uri", "")),
        )

    def create_configuration(
        self, name: str, release: Release, role_arn: str, variant: dict[str, Any], capture: dict[str, Any] | None = None
    ) -> None:
        """A model of the package (every container it declares) and a configuration serving it, both
        ``name``; with ``capture``, the configuration's DataCaptureConfig."""
        try:
            # As the SDK's ModelPackage deploys one: the package names its own containers.
            self._sagemaker.create_model(
                ModelName=name, ExecutionRoleArn=role_arn, PrimaryContainer={"ModelPackageName": release.package_arn}
            )
            self._sagemaker.create_endpoint_config(
                EndpointConfigName=name,
                ProductionVariants=[{"VariantName": VARIANT, "ModelName": name, **variant}],  # type: ignore[list-item]
                **({"DataCaptureConfig": capture} if capture else {}),  # type: ignore[arg-type]
            )
        except (ClientError, BotoCoreError) as error:
            raise DeployFailed(f"could not create the model of version {release.version}: {_reason(error)}") from None

    def point(self, endpoint: str, config_name: str, deployment_config: dict[str, Any] | None) -> None:
        """Create the endpoint on the configuration, or update it (with the guardrails given)."""
        state = self.state(endpoint)
        try:
            if state is None:
                self._sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=config_name)
                return
            if state.status == "Failed":  # an endpoint that never served cannot be updated, only replaced
                self._sagemaker.delete_endpoint(EndpointName=endpoint)
                self._sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=config_name)
                return
            extra = {"DeploymentConfig": deployment_config} if deployment_config else {}
            self._sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=config_name, **extra)  # type: ignore[arg-type]
        except (ClientError, BotoCoreError) as error:
            raise DeployFailed(f"could not update {endpoint}: {_reason(error)}") from None

    def state(self, endpoint: str) -> EndpointState | None:
        try:
            described = self._sagemaker.describe_endpoint(EndpointName=endpoint)
        except ClientError as error:
            if "Could not find" in str(error.response.get("Error", {}).get("Message", "")):
                return None
            raise DeployFailed(f"could not describe {endpoint}: {_reason(error)}") from None
        return EndpointState(
            status=str(described["EndpointStatus"]),
            config_name=str(described.get("EndpointConfigName", "")),
            failure_reason=str(described.get("FailureReason", "") or ""),
        )

    def invoke(self, endpoint: str, body: str, content_type: str, accept: str) -> str:
        try:
            response = self._runtime.invoke_endpoint(
                EndpointName=endpoint, Body=body.encode("utf-8"), ContentType=content_type, Accept=accept
            )
            return str(response["Body"].read().decode("utf-8"))
        except (ClientError, BotoCoreError) as error:
            raise DeployFailed(f"{endpoint} did not answer: {_reason(error)}") from None

    def read_json(self, uri: str) -> dict[str, Any]:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        try:
            document: dict[str, Any] = json.loads(self._s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except (ClientError, BotoCoreError, ValueError) as error:
            reason = _reason(error) if isinstance(error, (ClientError, BotoCoreError)) else str(error)
            raise DeployFailed(f"could not read {uri}: {reason}") from None
        return document
