"""EventBridge events delivered to the trigger queue (a rule with the queue as its target). S3's
"Object Created" (TriggerPath=EventBridgeQueued) is an upload: the key arrives as it is, not
URL-encoded (Amazon S3 user guide, "EventBridge event message structure"). Any other event (a rule of
RetrainOnEvents: a model package's or an endpoint's change, a data job's "done" from another
account's bus) asks for a run on TrainingData's objects; its id is the request's id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trigger.run_requests import RunRequest, Unreadable, cause_text, request_id_of
from trigger.uploads import UploadedObject

if TYPE_CHECKING:
    from trigger.sources import Parsed
    from trigger.sources.context import SourceContext

OBJECT_CREATED = ("aws.s3", "Object Created")


class EventEnvelope(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, max_length=128)
    detail_type: str = Field(alias="detail-type", min_length=1, max_length=256)
    source: str = Field(min_length=1, max_length=256)
    account: str = Field(default="", max_length=12)
    time: str = ""
    detail: dict[str, Any] = Field(default_factory=dict)


class CreatedObject(BaseModel):
    key: str = Field(min_length=1)
    size: int | None = None
    etag: str | None = None
    version_id: str | None = Field(default=None, alias="version-id")
    sequencer: str | None = None


class ObjectCreatedDetail(BaseModel):
    bucket: dict[str, str]
    object: CreatedObject


def claims(document: Any) -> bool:
    return isinstance(document, dict) and "detail-type" in document and "source" in document


def parse(document: Any, context: SourceContext) -> Parsed:
    from trigger.sources import Parsed

    try:
        event = EventEnvelope.model_validate(document)
        if (event.source, event.detail_type) == OBJECT_CREATED and _bucket_of(event) == context.bucket:
            return Parsed([_upload(event)])  # an upload to the data bucket; another bucket's is an event
    except ValidationError as invalid:
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in invalid.errors()[:3])
        raise Unreadable(f"cannot be read as an EventBridge event: {fields}") from None
    account = f" of account {event.account}" if event.account else ""
    cause = cause_text(f"Event: {event.source} {event.detail_type}{account} ({event.time or event.id})")
    return Parsed([RunRequest("event", request_id_of(event.id), cause, requested_by=f"{event.source}{account}")])


def _bucket_of(event: EventEnvelope) -> str:
    bucket = event.detail.get("bucket")
    return str(bucket.get("name", "")) if isinstance(bucket, dict) else ""


def _upload(event: EventEnvelope) -> RunRequest:
    detail = ObjectCreatedDetail.model_validate(event.detail)
    if not detail.bucket.get("name"):
        raise Unreadable("an Object Created event without detail.bucket.name")
    created = detail.object
    upload = UploadedObject(
        bucket=detail.bucket["name"],
        key=created.key,
        event_name="ObjectCreated:" + str(event.detail.get("reason") or "Put"),
        size=created.size,
        e_tag=created.etag,
        version_id=created.version_id,
        sequencer=created.sequencer,
    )
    return RunRequest("upload", upload.identity, "", objects=(upload,))
