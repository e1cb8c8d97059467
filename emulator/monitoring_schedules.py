"""Model Monitor's schedules and executions, which moto 5.2.5 does not implement (FACTS: no
monitoring-schedule APIs). ``install()`` adds them to moto's SageMaker as the API reference describes
them: CreateMonitoringSchedule (ResourceInUse for a name taken), UpdateMonitoringSchedule and
DescribeMonitoringSchedule (ResourceNotFound for a name unknown), ListMonitoringSchedules,
ListMonitoringExecutions (newest first) and DeleteMonitoringSchedule. A schedule is `Scheduled`;
DescribeMonitoringSchedule also gives EndpointName and LastMonitoringExecutionSummary.

An execution runs through emulator/model_monitor.py, which records it with ``add_execution``: at
each scheduled hour on `local up`'s stack (``model_monitor.run_due``), or when the demo or a test
asks for one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class Schedule:
    name: str
    arn: str
    config: dict[str, Any]
    created: datetime
    modified: datetime
    executions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def endpoint_name(self) -> str:
        inputs = self.config.get("MonitoringJobDefinition", {}).get("MonitoringInputs", [])
        return str(((inputs[0] if inputs else {}).get("EndpointInput") or {}).get("EndpointName", ""))

    def described(self) -> dict[str, Any]:
        answer = {
            "MonitoringScheduleArn": self.arn,
            "MonitoringScheduleName": self.name,
            "MonitoringScheduleStatus": "Scheduled",
            "MonitoringType": self.config.get("MonitoringType", "DataQuality"),
            "CreationTime": self.created,
            "LastModifiedTime": self.modified,
            "MonitoringScheduleConfig": self.config,
            "EndpointName": self.endpoint_name,
        }
        if self.executions:
            answer["LastMonitoringExecutionSummary"] = self.executions[-1]
        return answer


_lock = threading.RLock()  # schedules_of takes it again inside add_execution


def schedules_of(backend: Any) -> dict[str, Schedule]:
    """The schedules of an account and region: kept on moto's SageMaker backend, so that moto's reset
    (and a new mock) starts from none, as it does for every other resource."""
    with _lock:
        store: dict[str, Schedule] | None = getattr(backend, "monitoring_schedules", None)
        if store is None:
            store = {}
            backend.monitoring_schedules = store
        return store


def schedule(backend: Any, name: str) -> Schedule:
    from moto.sagemaker.exceptions import ResourceNotFound

    found = schedules_of(backend).get(name)
    if found is None:
        raise ResourceNotFound(f"Monitoring Schedule {name} not found.")
    return found


def all_schedules(backend: Any) -> list[Schedule]:
    return list(schedules_of(backend).values())


def add_execution(backend: Any, name: str, summary: dict[str, Any]) -> None:
    with _lock:
        schedules_of(backend)[name].executions.append(summary)


def _create(self: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.sagemaker.exceptions import ResourceInUseException

    name = self._get_param("MonitoringScheduleName")
    arn = f"arn:aws:sagemaker:{self.region}:{self.current_account}:monitoring-schedule/{name}"
    now = datetime.now(UTC)
    store = schedules_of(self.sagemaker_backend)
    with _lock:
        if name in store:
            raise ResourceInUseException(f"Monitoring Schedule {arn} already exists.")
        store[name] = Schedule(name, arn, self._get_param("MonitoringScheduleConfig"), now, now)
    return ActionResult({"MonitoringScheduleArn": arn})


def _update(self: Any) -> Any:
    from moto.core.responses import ActionResult

    found = schedule(self.sagemaker_backend, self._get_param("MonitoringScheduleName"))
    with _lock:
        found.config, found.modified = self._get_param("MonitoringScheduleConfig"), datetime.now(UTC)
    return ActionResult({"MonitoringScheduleArn": found.arn})


def _describe(self: Any) -> Any:
    from moto.core.responses import ActionResult

    return ActionResult(schedule(self.sagemaker_backend, self._get_param("MonitoringScheduleName")).described())


def _list_schedules(self: Any) -> Any:
    from moto.core.responses import ActionResult

    endpoint = self._get_param("EndpointName")
    found = [s for s in all_schedules(self.sagemaker_backend) if not endpoint or s.endpoint_name == endpoint]
    summaries = [
        {
            "MonitoringScheduleName": s.name,
            "MonitoringScheduleArn": s.arn,
            "CreationTime": s.created,
            "LastModifiedTime": s.modified,
            "MonitoringScheduleStatus": "Scheduled",
            "EndpointName": s.endpoint_name,
        }
        for s in found
    ]
    return ActionResult({"MonitoringScheduleSummaries": summaries})


def _list_executions(self: Any) -> Any:
    from moto.core.responses import ActionResult

    name = self._get_param("MonitoringScheduleName")
    found = [e for s in all_schedules(self.sagemaker_backend) if not name or s.name == name for e in s.executions]
    newest = sorted(found, key=lambda e: e["ScheduledTime"], reverse=True)
    limit = int(self._get_param("MaxResults") or 100)
    return ActionResult({"MonitoringExecutionSummaries": newest[:limit]})


def _delete(self: Any) -> Any:
    from moto.core.responses import ActionResult

    found = schedule(self.sagemaker_backend, self._get_param("MonitoringScheduleName"))
    with _lock:
        schedules_of(self.sagemaker_backend).pop(found.name, None)
    return ActionResult({})


def install() -> None:
    from moto.sagemaker.responses import SageMakerResponse

    actions = {
        "create_monitoring_schedule": _create,
        "update_monitoring_schedule": _update,
        "describe_monitoring_schedule": _describe,
        "list_monitoring_schedules": _list_schedules,
        "list_monitoring_executions": _list_executions,
        "delete_monitoring_schedule": _delete,
    }
    for name, action in actions.items():
        setattr(SageMakerResponse, name, action)
