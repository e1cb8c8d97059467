"""S3 event notifications (S3 -> SQS, or inside an SNS message): each record is an upload; a record
with ``retrainRequest`` (what `retrain-trigger` sent before run requests, still read from a DLQ) asks
for that version again. S3's test event asks for nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from trigger.events import S3EventNotification, S3TestEvent
from trigger.run_requests import RunRequest, Unreadable, cause_text
from trigger.uploads import UploadedObject

if TYPE_CHECKING:
    from trigger.sources import Parsed
    from trigger.sources.context import SourceContext

_BODY: TypeAdapter[S3EventNotification | S3TestEvent] = TypeAdapter(S3EventNotification | S3TestEvent)


def claims(document: Any) -> bool:
    return isinstance(document, dict) and ("Records" in document or document.get("Event") == "s3:TestEvent")


def parse(document: Any, context: SourceContext) -> Parsed:
    from trigger.sources import Parsed

    try:
        body = _BODY.validate_python(document)
    except ValidationError as invalid:
        raise Unreadable("cannot be read as an S3 event notification: " + problems(invalid)) from None
    if isinstance(body, S3TestEvent):
        return Parsed(acknowledged=f"S3 test event of bucket {body.bucket}")
    requests = []
    for record in body.records:
        upload = UploadedObject.from_record(record)
        if upload.retrain_request:
            cause = cause_text(f"Retrain requested ({upload.retrain_request})")
            requests.append(RunRequest("retrain", upload.retrain_request, cause, objects=(upload,)))
        else:
            requests.append(RunRequest("upload", upload.identity, "", objects=(upload,)))
    return Parsed(requests)


def problems(invalid: ValidationError) -> str:
    """What is wrong, in a line: the notification reading (the test-event alternative left out unless
    the body claims to be one), without pydantic's type names."""
    errors = invalid.errors()
    notification = [e for e in errors if "S3TestEvent" not in [str(part) for part in e["loc"]]]
    return "; ".join(
        ".".join(str(part) for part in error["loc"] if part not in ("S3EventNotification", "S3TestEvent"))
        + f": {error['msg']}"
        for error in (notification or errors)[:3]
    )
