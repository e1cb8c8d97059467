"""Run requests written for the queue itself: the schedule's tick (EventBridge Scheduler's SQS target,
its Input with the scheduled time: "Scheduler context attributes" in the EventBridge Scheduler user
guide), and a run request put back by a DLQ redrive. A tick's id is its schedule and scheduled time, so
a redelivered tick asks for nothing new."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, ValidationError

from trigger.run_requests import MAX_ID_LENGTH, RunRequest, Unreadable, cause_text, request_id_of

if TYPE_CHECKING:
    from trigger.sources import Parsed
    from trigger.sources.context import SourceContext


class ScheduleTick(BaseModel):
    kind: Literal["schedule"]
    schedule: str = Field(min_length=1, max_length=2048)  # <aws.scheduler.schedule-arn>
    time: str = Field(min_length=1, max_length=64)  # <aws.scheduler.scheduled-time>


class QueuedRequest(BaseModel):
    id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    kind: Literal["retrain", "schedule", "event", "message"]
    cause: str = Field(min_length=1)


class Body(BaseModel):
    run_request: ScheduleTick | None = Field(default=None, alias="runRequest")
    run_requests: list[QueuedRequest] = Field(default_factory=list, alias="runRequests", max_length=100)


def claims(document: Any) -> bool:
    return isinstance(document, dict) and ("runRequest" in document or "runRequests" in document)


def parse(document: Any, context: SourceContext) -> Parsed:
    from trigger.sources import Parsed

    try:
        body = Body.model_validate(document)
    except ValidationError as invalid:
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in invalid.errors()[:3])
        raise Unreadable(f"cannot be read as a run request: {fields}") from None
    requests = [RunRequest(r.kind, r.id, cause_text(r.cause)) for r in body.run_requests]
    if body.run_request is not None:
        tick = body.run_request
        name = tick.schedule.rsplit("/", 1)[-1]
        cause = cause_text(f"Scheduled retrain ({name}, {tick.time})")
        requests.append(RunRequest("schedule", request_id_of(name, tick.time), cause, requested_by=tick.schedule))
    if not requests:
        raise Unreadable("a run request body that asks for nothing (no runRequest, empty runRequests)")
    return Parsed(requests)
