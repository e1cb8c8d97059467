"""SageMaker's endpoints as AWS documents them, on top of moto's.

moto 5.2.5 marks an endpoint InService the moment it is created, has no UpdateEndpoint
(NotImplementedError), drops ``DeploymentConfig``, and emits no EventBridge event for endpoints or
for a package's approval. ``EndpointLifecycle`` imitates, from the SageMaker developer guide and API
reference:

- the statuses (API_DescribeEndpoint: Creating -> InService | Failed; Updating -> InService, and
  an update that fails goes back InService on the old configuration with a FailureReason);
- UpdateEndpoint's refusal of an endpoint that is not InService ("Cannot update in-progress
  endpoint", a ValidationException);
- blue/green deployments with guardrails ("Deployment guardrails"): the new fleet is started beside
  the old; CANARY sends CanarySize's share of traffic to it for WaitIntervalInSeconds, then all of
  it; ALL_AT_ONCE sends it all and bakes for WaitIntervalInSeconds; an alarm of
  AutoRollbackConfiguration in ALARM during either wait rolls the endpoint back to the old fleet
  ("a complete rollback to the old endpoint");
- the events "SageMaker Endpoint State Change" (detail EndpointName, EndpointArn,
  EndpointConfigName, EndpointStatus, CreationTime, LastModifiedTime) and "SageMaker Model Package
  State Change" (ModelPackageGroupName, ModelPackageVersion, ModelPackageArn, ModelApprovalStatus,
  ModelPackageStatus), from "Events that Amazon SageMaker AI sends to Amazon EventBridge".

The fleets are real servers of the model (emulator/endpoint_containers.py): InvokeEndpoint reaches
the fleet the traffic split picks. Time advances when ``tick()`` is called (the local stack's loop
calls it twice a second); the waits are the deployment configuration's own seconds.
"""

from __future__ import annotations

import queue
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import boto3

from emulator.moto_server import REGION

ENDPOINT_DETAIL_TYPE = "SageMaker Endpoint State Change"
PACKAGE_DETAIL_TYPE = "SageMaker Model Package State Change"


class Fleets(Protocol):
    """What serves an endpoint's traffic: each variant a (name, model name, weight)."""

    def serve(self, endpoint_name: str, variants: list[tuple[str, str, float]]) -> None: ...

    def stop(self, endpoint_name: str) -> None: ...


@dataclass
class _Deployment:
    endpoint: str
    new_config: str
    old_config: str | None  # None: a new endpoint
    policy: dict[str, Any] = field(default_factory=dict)  # DeploymentConfig
    phase: str = "start"  # start -> canary -> baking -> done
    phase_started: float = 0.0


class EndpointLifecycle:
    def __init__(self, fleets: Fleets, clock: Callable[[], float] = time.monotonic) -> None:
        self._fleets = fleets
        self._clock = clock
        self._deployments: dict[str, _Deployment] = {}
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()  # what EventBridge would deliver

    # -- the API calls (from moto's request threads) ---------------------------------------------

    def created(self, endpoint: Any) -> None:
        endpoint.endpoint_status = "Creating"
        self._deployments[endpoint.endpoint_name] = _Deployment(
            endpoint.endpoint_name, endpoint.endpoint_config_name, None
        )
        self._emit(endpoint)

    def update(self, endpoint: Any, config_name: str, deployment_config: dict[str, Any] | None) -> None:
        from moto.sagemaker.exceptions import ValidationError

        if endpoint.endpoint_status != "InService":
            raise ValidationError(
                message=f'Cannot update in-progress endpoint "{endpoint.arn}".'  # as UpdateEndpoint answers
            )
        self._deployments[endpoint.endpoint_name] = _Deployment(
            endpoint.endpoint_name, config_name, endpoint.endpoint_config_name, deployment_config or {}
        )
        endpoint.endpoint_status = "Updating"
        endpoint.failure_reason = None
        self._emit(endpoint)

    def deleted(self, endpoint_name: str) -> None:
        self._deployments.pop(endpoint_name, None)
        self._fleets.stop(endpoint_name)

    def package_changed(self, package: Any, previous_status: str | None) -> None:
        if package.model_approval_status == previous_status:
            return
        self.events.put(_event(PACKAGE_DETAIL_TYPE, package.arn, _package_detail(package)))

    # -- time passing ----------------------------------------------------------------------------

    def tick(self) -> None:
        for deployment in list(self._deployments.values()):
            endpoint = _backend().endpoints.get(deployment.endpoint)
            if endpoint is None:
                self._deployments.pop(deployment.endpoint, None)
                continue
            self._advance(deployment, endpoint)

    def _advance(self, deployment: _Deployment, endpoint: Any) -> None:
        now = self._clock()
        if deployment.phase == "start":
            self._start_new_fleet(deployment, endpoint, now)
            return
        alarm = _alarm_in_alarm(deployment.policy)
        if alarm:
            self._roll_back(deployment, endpoint, f"Alarm {alarm} went into ALARM during the deployment: rolled back")
            return
        routing = deployment.policy.get("BlueGreenUpdatePolicy", {}).get("TrafficRoutingConfiguration", {})
        if now - deployment.phase_started < float(routing.get("WaitIntervalInSeconds", 0)):
            return
        if deployment.phase == "canary":
            self._fleets.serve(deployment.endpoint, _variants(deployment.new_config))
            deployment.phase, deployment.phase_started = "baking", now
            return
        self._finish(deployment, endpoint, deployment.new_config)

    def _start_new_fleet(self, deployment: _Deployment, endpoint: Any, now: float) -> None:
        routing = deployment.policy.get("BlueGreenUpdatePolicy", {}).get("TrafficRoutingConfiguration", {})
        share = _canary_share(routing) if deployment.old_config else 1.0
        variants = _variants(deployment.new_config, share)
        if share < 1.0 and deployment.old_config:
            variants += _variants(deployment.old_config, 1.0 - share)
        try:
            self._fleets.serve(deployment.endpoint, variants)
        except Exception as error:  # noqa: BLE001 - any failure to serve is the endpoint's FailureReason
            self._failed_to_start(deployment, endpoint, str(error))
            return
        if not deployment.policy:  # no guardrails: the new fleet takes all traffic once it serves
            self._finish(deployment, endpoint, deployment.new_config)
            return
        deployment.phase = "canary" if share < 1.0 else "baking"
        deployment.phase_started = now

    def _failed_to_start(self, deployment: _Deployment, endpoint: Any, reason: str) -> None:
        if deployment.old_config is None:
            endpoint.endpoint_status, endpoint.failure_reason = "Failed", reason
            self._deployments.pop(deployment.endpoint, None)
            self._emit(endpoint)
            return
        self._roll_back(deployment, endpoint, reason)

    def _roll_back(self, deployment: _Deployment, endpoint: Any, reason: str) -> None:
        assert deployment.old_config is not None
        self._fleets.serve(deployment.endpoint, _variants(deployment.old_config))
        endpoint.failure_reason = reason
        self._finish(deployment, endpoint, deployment.old_config)

    def _finish(self, deployment: _Deployment, endpoint: Any, config_name: str) -> None:
        endpoint.endpoint_config_name = config_name
        endpoint.production_variants = endpoint._process_production_variants(
            _backend().endpoint_configs[config_name].production_variants
        )
        endpoint.endpoint_status = "InService"
        endpoint.last_modified_time = datetime.now(UTC)
        self._deployments.pop(deployment.endpoint, None)
        self._emit(endpoint)

    def _emit(self, endpoint: Any) -> None:
        detail = {
            "EndpointName": endpoint.endpoint_name,
            "EndpointArn": endpoint.arn,
            "EndpointConfigName": endpoint.endpoint_config_name,
            "EndpointStatus": endpoint.endpoint_status,
            "CreationTime": _millis(endpoint.creation_time),
            "LastModifiedTime": _millis(endpoint.last_modified_time),
        }
        self.events.put(_event(ENDPOINT_DETAIL_TYPE, endpoint.arn, detail))

    def drain(self) -> list[dict[str, Any]]:
        """The events emitted since the last drain, oldest first."""
        drained = []
        while not self.events.empty():
            drained.append(self.events.get_nowait())
        return drained

    @property
    def busy(self) -> bool:
        return bool(self._deployments)


def _canary_share(routing: dict[str, Any]) -> float:
    if routing.get("Type") != "CANARY":
        return 1.0
    size = routing.get("CanarySize", {})
    if size.get("Type") == "CAPACITY_PERCENT":
        return float(size.get("Value", 100)) / 100
    return 0.5  # INSTANCE_COUNT: a share of a fleet this imitation does not size


def _variants(config_name: str, share: float = 1.0) -> list[tuple[str, str, float]]:
    config = _backend().endpoint_configs[config_name]
    return [
        (v["VariantName"], v["ModelName"], share * float(v.get("InitialVariantWeight", 1.0)))
        for v in config.production_variants
    ]


def _alarm_in_alarm(policy: dict[str, Any]) -> str:
    names = [alarm["AlarmName"] for alarm in policy.get("AutoRollbackConfiguration", {}).get("Alarms", [])]
    if not names:
        return ""
    alarms = boto3.client("cloudwatch", region_name=REGION).describe_alarms(AlarmNames=names)["MetricAlarms"]
    return next((alarm["AlarmName"] for alarm in alarms if alarm["StateValue"] == "ALARM"), "")


def _package_detail(package: Any) -> dict[str, Any]:
    return {
        "ModelPackageGroupName": package.model_package_group_name,
        "ModelPackageVersion": package.model_package_version,
        "ModelPackageArn": package.arn,
        "ModelApprovalStatus": package.model_approval_status,
        "ModelPackageStatus": "Completed",
        "CreationTime": _millis(package.creation_time),
    }


def _event(detail_type: str, resource: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.sagemaker",
        "account": resource.split(":")[4],
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [resource],
        "detail": detail,
    }


def _millis(moment: Any) -> int:
    if isinstance(moment, datetime):
        return int(moment.timestamp() * 1000)
    return int(datetime.fromisoformat(str(moment)).timestamp() * 1000)


def _backend() -> Any:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION]


_installed: list[EndpointLifecycle] = []


def install(lifecycle: EndpointLifecycle) -> None:
    """Route moto's endpoint and package calls through ``lifecycle`` (the last one installed)."""
    _installed[:] = [lifecycle]
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    if getattr(SageMakerModelBackend, "_endpoint_lifecycle", False):
        return
    SageMakerModelBackend._endpoint_lifecycle = True  # type: ignore[attr-defined]
    _wrap_endpoint_calls(SageMakerModelBackend)
    _wrap_package_calls(SageMakerModelBackend)
    SageMakerModelBackend.update_endpoint = _update_endpoint  # type: ignore[attr-defined]
    SageMakerResponse.update_endpoint = _update_endpoint_response  # type: ignore[attr-defined]


def _wrap_endpoint_calls(backend: Any) -> None:
    create, delete = backend.create_endpoint, backend.delete_endpoint

    def create_endpoint(self: Any, *args: Any, **kwargs: Any) -> Any:
        endpoint = create(self, *args, **kwargs)
        _installed[0].created(endpoint)
        return endpoint

    def delete_endpoint(self: Any, endpoint_name: str) -> None:
        delete(self, endpoint_name)
        _installed[0].deleted(endpoint_name)

    backend.create_endpoint, backend.delete_endpoint = create_endpoint, delete_endpoint


def _wrap_package_calls(backend: Any) -> None:
    create, update = backend.create_model_package, backend.update_model_package

    def create_model_package(self: Any, *args: Any, **kwargs: Any) -> Any:
        arn = create(self, *args, **kwargs)
        _installed[0].package_changed(self.describe_model_package(arn), None)
        return arn

    def update_model_package(self: Any, model_package_arn: str, *args: Any, **kwargs: Any) -> Any:
        before = self.describe_model_package(model_package_arn).model_approval_status
        arn = update(self, model_package_arn, *args, **kwargs)
        _installed[0].package_changed(self.describe_model_package(arn), before)
        return arn

    backend.create_model_package, backend.update_model_package = create_model_package, update_model_package


def _update_endpoint(self: Any, endpoint_name: str, endpoint_config_name: str, deployment_config: Any) -> str:
    from moto.sagemaker.exceptions import ValidationError

    endpoint = self.endpoints.get(endpoint_name)
    if endpoint is None:
        raise ValidationError(message=f"Could not find endpoint '{endpoint_name}'.")
    self.describe_endpoint_config(endpoint_config_name)  # a missing configuration is refused, named
    _installed[0].update(endpoint, endpoint_config_name, deployment_config)
    return str(endpoint.arn)


def _update_endpoint_response(self: Any) -> Any:
    from moto.core.responses import ActionResult

    arn = self.sagemaker_backend.update_endpoint(
        endpoint_name=self._get_param("EndpointName"),
        endpoint_config_name=self._get_param("EndpointConfigName"),
        deployment_config=self._get_param("DeploymentConfig"),
    )
    return ActionResult({"EndpointArn": arn})
