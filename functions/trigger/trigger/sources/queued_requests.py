"""Run requests written for the queue itself: the schedule's tick (EventBridge Scheduler's SQS target,
its Input with the scheduled time: "Scheduler context attributes" in the EventBridge Scheduler user
guide), `retrain-trigger retrain` and `backfill` (the object versions they name), and a run request
put back by a DLQ redrive. A tick's id is its schedule and scheduled time, a retrain's the id the
command gave it, a backfill's each version's own (a version that already ran is no new request): so a
redelivery asks for nothing new."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from trigger.run_requests import MAX_ID_LENGTH, RunRequest, Unreadable, cause_text, read_as, request_id_of
from trigger.uploads import UploadedObject

if TYPE_CHECKING:
    from trigger.sources import Parsed
    from trigger.sources.context import SourceContext


class ScheduleTick(BaseModel):
    kind: Literal["schedule"]
    schedule: str = Field(min_length=1, max_length=2048)  # <aws.scheduler.schedule-arn>
    time: str = Field(min_length=1, max_length=64)  # <aws.scheduler.scheduled-time>


class QueuedObject(BaseModel):
    """An object version a retrain or a backfill names, as S3 lists it."""

    bucket: str = Field(min_length=1)
    key: str = Field(min_length=1)
    size: int | None = None
    e_tag: str | None = Field(default=None, alias="eTag")
    version_id: str | None = Field(default=None, alias="versionId")


class QueuedRequest(BaseModel):
    id: str | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)
    kind: Literal["retrain", "backfill", "schedule", "event", "message", "drift"]
    cause: str = Field(min_length=1)
    requested_by: str = Field(default="", alias="requestedBy", max_length=256)
    objects: list[QueuedObject] = Field(default_factory=list, max_length=100)


class Body(BaseModel):
    run_request: ScheduleTick | None = Field(default=None, alias="runRequest")
    run_requests: list[QueuedRequest] = Field(default_factory=list, alias="runRequests", max_length=100)


def claims(document: Any) -> bool:
    return isinstance(document, dict) and ("runRequest" in document or "runRequests" in document)


def parse(document: Any, context: SourceContext) -> Parsed:
    from trigger.sources import Parsed

    body = read_as(Body, document, "a run request")
    requests = [_request(queued) for queued in body.run_requests]
    if body.run_request is not None:
        tick = body.run_request
        name = tick.schedule.rsplit("/", 1)[-1]
        cause = cause_text(f"Scheduled retrain ({name}, {tick.time})")
        requests.append(RunRequest("schedule", request_id_of(name, tick.time), cause, requested_by=tick.schedule))
    if not requests:
        raise Unreadable("a run request body that asks for nothing (no runRequest, empty runRequests)")
    return Parsed(requests)


def _request(queued: QueuedRequest) -> RunRequest:
    cause = cause_text(queued.cause)
    if queued.kind == "backfill":  # each version as S3 announced it: one that already ran is a duplicate
        uploads = tuple(_object(queued, o, request=None, cause=None) for o in queued.objects)
        if not uploads:
            raise Unreadable("a backfill request that names no object")
        return RunRequest("upload", uploads[0].identity, "", queued.requested_by, uploads)
    if queued.id is None:
        raise Unreadable(f"a {queued.kind} request without an id")
    if queued.requested_by and queued.kind == "retrain":
        cause = cause_text(f"{cause} by {queued.requested_by}")
    uploads = tuple(_object(queued, o, request=queued.id, cause=cause) for o in queued.objects)
    return RunRequest(queued.kind, queued.id, cause, queued.requested_by, uploads)


def _object(queued: QueuedRequest, listed: QueuedObject, request: str | None, cause: str | None) -> UploadedObject:
    version = listed.version_id if listed.version_id not in (None, "null") else None
    return UploadedObject(
        bucket=listed.bucket,
        key=listed.key,
        event_name=f"ObjectCreated:{queued.kind.capitalize()}",
        size=listed.size,
        e_tag=(listed.e_tag or "").strip('"') or None,
        version_id=version,
        retrain_request=request,
        cause=cause,
    )
