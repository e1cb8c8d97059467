"""The deployer: acts on what the deployment rule decides (trigger/deployments.py), one step at a
time, each step started by an event: an approval starts staging; staging in service is smoke
checked; a passed check updates prod with the guardrails; prod's update ending says deployed or
rolled back. No step waits for an endpoint: the endpoint's state-change event resumes the work."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from trigger import deploy_notifications as texts
from trigger.adapters.deployment_records import DeploymentRecords
from trigger.adapters.endpoints import Endpoints
from trigger.adapters.monitoring import MonitoringSchedules
from trigger.adapters.notifications import NotificationTopic
from trigger.deploy_events import EndpointStateChange, ModelPackageStateChange
from trigger.deploy_settings import DeploySettings
from trigger.deployments import Outcome, Release, Stage, StageRecord, next_step
from trigger.errors import DeployFailed, WriteConflict
from trigger.observability import logger
from trigger.smoke_check import SmokeSample, mismatch

NO_SMOKE_CHECK = "the package names no SmokeCheck: staging was only checked to be in service"


class Deployer:
    def __init__(
        self,
        settings: DeploySettings,
        endpoints: Endpoints,
        records: DeploymentRecords,
        topic: NotificationTopic,
        clock: Callable[[], float] = time.time,
        *,
        schedules: MonitoringSchedules | None = None,
    ) -> None:
        self._settings = settings
        self._endpoints = endpoints
        self._records = records
        self._topic = topic
        self._clock = clock
        self._schedules = schedules if settings.watches_drift else None

    def on_package(self, change: ModelPackageStateChange) -> dict[str, Any]:
        """An approval, a rejection or any other change of a package: decide again from the registry."""
        if change.group != self._settings.model_package_group_name:
            self._topic.try_publish(
                texts.ignored_package(change.group, change.arn, self._settings.model_package_group_name)
            )
            return {"step": "nothing", "reason": f"package of another group ({change.group})"}
        return self.advance()

    def on_endpoint(self, change: EndpointStateChange) -> dict[str, Any]:
        """An endpoint's update ended (or a step on the way, which changes nothing)."""
        stage = self._settings.stage_of(change.endpoint_name)
        if stage is None or not change.settled:
            return {"step": "nothing", "reason": f"{change.endpoint_name} is {change.status}"}
        record = self._records.read(stage)  # type: ignore[arg-type]
        if record.updating is None:  # a repeated event: its update was settled already
            return {"step": "nothing", "reason": f"no update of {stage} is going on"}
        self._settle(record, change)
        return self.advance()

    def advance(self) -> dict[str, Any]:
        target = self._endpoints.latest_approved(self._settings.model_package_group_name)
        staging, prod = self._records.read("staging"), self._records.read("prod")
        step = next_step(target, staging, prod)
        logger.info("deployment step", extra={"step": step.action, "reason": step.reason})
        if step.action == "update" and step.release is not None and step.stage is not None:
            self._update(staging if step.stage == "staging" else prod, step.release)
        elif step.action == "smoke_check" and step.release is not None:
            return self._smoke_check(staging, step.release)
        return {"step": step.action, "reason": step.reason}

    def _now(self) -> str:
        return datetime.fromtimestamp(self._clock(), UTC).replace(microsecond=0).isoformat()

    def _update(self, record: StageRecord, release: Release) -> None:
        endpoint = self._settings.endpoint_of(record.stage)
        stamp = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y%m%d%H%M%S")
        name = f"{endpoint}-v{release.version}-{stamp}"[:63]
        try:
            started = self._records.save(record.start(release, name))
        except WriteConflict:  # another invocation decided at the same time: its update goes on
            logger.info("another invocation is updating", extra={"stage": record.stage})
            return
        rollout = self._settings.prod_rollout() if record.stage == "prod" else None
        try:
            capture = self._settings.data_capture() if self._schedules and record.stage == "prod" else None
            self._endpoints.create_configuration(
                name, release, self._settings.model_execution_role_arn, self._settings.variant(), capture
            )
            self._endpoints.point(endpoint, name, rollout)
        except DeployFailed as failed:
            self._fail(started, Outcome("failed", release.version, str(failed), self._now()))

    def _settle(self, record: StageRecord, change: EndpointStateChange) -> None:
        assert record.updating is not None
        release = record.updating
        state = self._endpoints.state(change.endpoint_name)
        on_new = state is not None and state.status == "InService" and state.config_name == record.updating_config
        if on_new:
            self._records.save(record.settle(Outcome("deployed", release.version, "", self._now()), serving=True))
            if record.stage == "prod":
                self._tell(texts.deployed(release, record.serving, change.endpoint_name, self._settings.stack_name))
                self._watch(release)
            return
        reason = (state.failure_reason if state else "") or f"the endpoint is {change.status}"
        if record.stage == "prod" and state is not None and state.status == "InService":
            outcome = Outcome("rolled_back", release.version, reason, self._now())
            self._records.save(record.settle(outcome, serving=False))
            self._tell(
                texts.rolled_back(release, record.serving, reason, change.endpoint_name, self._settings.stack_name)
            )
            if record.serving is not None:
                self._watch(record.serving)
            return
        self._fail(record, Outcome("failed", release.version, reason, self._now()))

    def _watch(self, release: Release) -> None:
        """Point prod's monitoring schedule at the baseline of the version prod now serves."""
        if self._schedules is None:
            return
        if not (release.baseline_statistics_uri and release.baseline_constraints_uri):
            why = f"version {release.version} registered no DriftCheckBaselines (ModelDataQuality)"
            self._tell(texts.not_watched(release, why, self._settings.stack_name))
            return
        try:
            arn = self._schedules.watch(self._settings, release)
        except DeployFailed as failed:
            self._tell(texts.not_watched(release, str(failed), self._settings.stack_name))
            return
        logger.info("prod's drift is checked against its version", extra={"version": release.version, "schedule": arn})

    def _fail(self, record: StageRecord, outcome: Outcome) -> None:
        assert record.updating is not None
        release = record.updating
        self._records.save(record.settle(outcome, serving=False))
        self._tell(texts.not_deployed(release, record.stage, outcome.reason, record.serving, self._settings.stack_name))

    def _smoke_check(self, staging: StageRecord, release: Release) -> dict[str, Any]:
        why = self._smoke_mismatch(release)
        if why:
            failed = Outcome("smoke_failed", release.version, why, self._now())
            self._records.save(_with(staging, failed, refused=True))
            self._tell(texts.smoke_check_failed(release, why, self._settings.stack_name))
            return {"step": "smoke_check", "reason": why}
        if release.smoke_check_uri:
            passed = Outcome("smoke_passed", release.version, "", self._now())
        else:  # prod may follow (a pipeline of one's own need not write one), and the record says so
            passed = Outcome("smoke_skipped", release.version, NO_SMOKE_CHECK, self._now())
        self._records.save(_with(staging, passed, refused=False))
        return self.advance()

    def _smoke_mismatch(self, release: Release) -> str:
        """Why staging's answers are not Evaluate's ("" when they are)."""
        if not release.smoke_check_uri:
            logger.info(NO_SMOKE_CHECK)
            return ""
        try:
            sample = SmokeSample.from_document(self._endpoints.read_json(release.smoke_check_uri))
            answer = self._endpoints.invoke(
                self._settings.staging_endpoint_name, sample.body, sample.content_type, sample.accept
            )
        except DeployFailed as failed:
            return str(failed)
        except (KeyError, TypeError, ValueError) as malformed:
            return f"{release.smoke_check_uri} is not a smoke check: {malformed}"
        return mismatch(sample, answer) or ""

    def _tell(self, notification: Any) -> None:
        self._topic.try_publish(notification)

    def stage(self, stage: Stage) -> StageRecord:
        return self._records.read(stage)


def _with(record: StageRecord, outcome: Outcome, *, refused: bool) -> StageRecord:
    from dataclasses import replace

    if refused:
        return replace(record, last=outcome, refused=(*record.refused, outcome.version))
    return replace(record, last=outcome, smoke_passed=outcome.version)
