"""Every text a person reads about a deployment. Pure logic: no AWS here."""

from __future__ import annotations

from trigger.deployments import Release
from trigger.notifications import Notification, subject_line


def _lineage(release: Release) -> list[str]:
    lines = [f"Model package: {release.package_arn}"]
    if release.execution_arn:
        lines.append(f"Trained by run: {release.execution_arn}")
    if release.source:
        lines.append(f"On data: {release.source}")
    return lines


def _status(stack_name: str) -> str:
    stack = f" --stack-name {stack_name}" if stack_name else ""
    return f"What each stage serves: retrain-trigger{stack} deployments"


def deployed(release: Release, previous: Release | None, endpoint: str, stack_name: str) -> Notification:
    was = f" (it served version {previous.version})" if previous else " (its first model)"
    body = [
        f"Prod ({endpoint}) now serves version {release.version}{was}.",
        *_lineage(release),
        "",
        _status(stack_name),
    ]
    subject = f"Deployed version {release.version} to prod"
    if previous and previous.version > release.version:  # the newer one left the Approved versions
        body.insert(1, f"Version {previous.version} is no longer Approved (rejected, or set back to pending review):")
        body.insert(2, f"prod is back on the latest version that is, {release.version}.")
        subject = f"Prod back on version {release.version}: version {previous.version} is no longer approved"
    return Notification(subject_line(subject), "\n".join(body))


def rolled_back(release: Release, serving: Release | None, reason: str, endpoint: str, stack_name: str) -> Notification:
    kept = f"version {serving.version}" if serving else "the previous model"
    body = [
        f"Version {release.version} was rolled back on prod ({endpoint}): {reason}",
        f"Prod serves {kept}, as before. Version {release.version} is not tried again; the next approval is.",
        *_lineage(release),
        "",
        _status(stack_name),
    ]
    return Notification(subject_line(f"Prod ROLLED BACK to {kept}"), "\n".join(body))


def not_deployed(release: Release, stage: str, reason: str, serving: Release | None, stack_name: str) -> Notification:
    kept = f"version {serving.version}" if serving else "nothing yet"
    prod = "Prod is untouched." if stage == "staging" else ""
    body = [
        f"Version {release.version} was not deployed to {stage}: {reason}",
        f"{stage.capitalize()} serves {kept}. {prod}".strip(),
        f"Version {release.version} is not tried again; approve a new version (or reject this one) to move on.",
        *_lineage(release),
        "",
        _status(stack_name),
    ]
    return Notification(subject_line(f"Deployment of version {release.version} to {stage} FAILED"), "\n".join(body))


def smoke_check_failed(release: Release, reason: str, stack_name: str) -> Notification:
    body = [
        f"Staging serves version {release.version}, but its smoke check failed: {reason}",
        "Prod is untouched: it keeps serving what it served.",
        *_lineage(release),
        "",
        _status(stack_name),
    ]
    return Notification(
        subject_line(f"Smoke check FAILED: version {release.version} stays out of prod"), "\n".join(body)
    )


def ignored_package(group: str, package_arn: str, expected_group: str) -> Notification:
    body = [
        f"A package of the group {group} ({package_arn}) changed approval; this stack deploys {expected_group} only.",
        "Nothing was deployed.",
    ]
    return Notification(subject_line(f"Deployment ignored a package of {group}"), "\n".join(body))


def not_watched(release: Release, reason: str, stack_name: str) -> Notification:
    body = [
        f"Prod serves version {release.version}, but its drift is not checked: {reason}.",
        "The monitoring schedule keeps the baseline it had (if any); drift against it can still ask for a retrain.",
        *_lineage(release),
        "",
        _status(stack_name),
    ]
    return Notification(subject_line(f"Drift monitoring NOT updated for version {release.version}"), "\n".join(body))
