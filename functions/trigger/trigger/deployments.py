"""The deployment rule: from the latest approved version and what each stage serves, the one next
step. Pure logic: no AWS here (the deployer acts on what this decides).

A version goes staging -> smoke check -> prod. One update of one endpoint at a time: while either
stage updates, the next step waits, and the update's end asks again, so the latest approved version
is the one that ends in prod however the approvals interleave. A version that failed on a stage
(its update failed, its smoke check failed, prod rolled it back) is not tried again: a person is told
once, and the next approval (or a rejection) moves on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

STAGES = ("staging", "prod")
Stage = Literal["staging", "prod"]


@dataclass(frozen=True)
class Release:
    """An approved model package version, and where it came from."""

    version: int
    package_arn: str
    execution_arn: str = ""  # the run that registered it (its metadata ExecutionArn)
    source: str = ""  # the data it was trained on (its metadata Input)
    smoke_check_uri: str = ""  # rows and expected answers (its metadata SmokeCheck), if the pipeline wrote them
    # Its DriftCheckBaselines.ModelDataQuality: the statistics and constraints prod's drift is checked against.
    baseline_statistics_uri: str = ""
    baseline_constraints_uri: str = ""


@dataclass(frozen=True)
class Outcome:
    kind: Literal["deployed", "failed", "rolled_back", "smoke_failed", "smoke_passed", "smoke_skipped"]
    version: int
    reason: str = ""
    at: str = ""


@dataclass(frozen=True)
class StageRecord:
    """What one stage serves, what it is updating to, and how its last deployment ended."""

    stage: Stage
    serving: Release | None = None
    serving_since: str = ""
    serving_config: str = ""
    updating: Release | None = None
    updating_config: str = ""
    last: Outcome | None = None
    smoke_passed: int | None = None  # staging: the version whose smoke check passed
    refused: tuple[int, ...] = ()  # versions that failed on this stage: never tried again
    revision: int = 0  # optimistic concurrency: a save expects the revision it read

    def as_item(self) -> dict[str, Any]:
        item = {k: v for k, v in asdict(self).items() if v is not None}
        item["refused"] = list(self.refused)
        return item

    @classmethod
    def from_item(cls, stage: Stage, item: dict[str, Any] | None) -> StageRecord:
        if not item:
            return cls(stage)
        releases = {name: _release(item.get(name)) for name in ("serving", "updating")}
        last = item.get("last")
        return cls(
            stage=stage,
            serving=releases["serving"],
            serving_since=str(item.get("serving_since", "")),
            serving_config=str(item.get("serving_config", "")),
            updating=releases["updating"],
            updating_config=str(item.get("updating_config", "")),
            last=Outcome(**{**last, "version": int(last["version"])}) if last else None,
            smoke_passed=int(item["smoke_passed"]) if item.get("smoke_passed") is not None else None,
            refused=tuple(int(version) for version in item.get("refused", ())),
            revision=int(item.get("revision", 0)),
        )

    def start(self, release: Release, config_name: str) -> StageRecord:
        return replace(self, updating=release, updating_config=config_name)

    def settle(self, outcome: Outcome, *, serving: bool) -> StageRecord:
        """The update ended: on the new version (``serving``) or not (the old one keeps serving)."""
        record = replace(self, updating=None, updating_config="", last=outcome)
        if serving and self.updating is not None:
            record = replace(
                record, serving=self.updating, serving_since=outcome.at, serving_config=self.updating_config
            )
        else:
            record = replace(record, refused=(*self.refused, outcome.version))
        return record


def _release(value: Any) -> Release | None:
    if not value:
        return None
    return Release(**{**value, "version": int(value["version"])})


@dataclass(frozen=True)
class Step:
    """What to do next: update a stage, check staging, or nothing (and why)."""

    action: Literal["update", "smoke_check", "wait", "nothing"]
    reason: str
    stage: Stage | None = None
    release: Release | None = None
    details: dict[str, Any] = field(default_factory=dict)


def next_step(target: Release | None, staging: StageRecord, prod: StageRecord) -> Step:
    """The one next step towards prod serving ``target`` (the latest approved version)."""
    if target is None:
        return Step("nothing", "no approved version of the model package group: prod keeps what it serves")
    busy = next((record for record in (staging, prod) if record.updating is not None), None)
    if busy is not None and busy.updating is not None:
        return Step("wait", f"{busy.stage} is updating to version {busy.updating.version}")
    done = _nothing_to_do(target, staging, prod)
    if done:
        return Step("nothing", done)
    if staging.serving is None or staging.serving.version != target.version:
        return Step("update", f"version {target.version} to staging", "staging", target)
    if staging.smoke_passed != target.version:
        return Step("smoke_check", f"staging serves version {target.version}: check it", "staging", target)
    return Step("update", f"version {target.version} passed on staging: to prod", "prod", target)


def _nothing_to_do(target: Release, staging: StageRecord, prod: StageRecord) -> str:
    """Why the target needs nothing more ("" when it does)."""
    if prod.serving is not None and prod.serving.version == target.version:
        return f"prod already serves version {target.version}"
    for record in (staging, prod):
        if target.version in record.refused:
            return f"version {target.version} failed on {record.stage} and is not tried again"
    return ""
