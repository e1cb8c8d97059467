"""A run request: what asks for a run, whatever its source. Pure logic: no AWS here.

Each source's parser (trigger/sources/) turns a queue message into run requests: an upload (one
object version), a retrain request (object versions to train on again), a schedule tick, an
EventBridge event or a data-ready SNS message (each covering TrainingData's objects: everything under
the data prefix). The pending set, coalescing, the cap, the ledger and the notifications see their
entries (trigger/uploads.py UploadedObject), never a source's shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from trigger.uploads import RUN_REQUEST_PREFIX, UploadedObject

Kind = Literal["upload", "retrain", "schedule", "event", "message", "drift"]
MAX_ID_LENGTH = 64  # the ledger keeps a request's id in each entry's identity
MAX_CAUSE_LENGTH = 300


class Unreadable(ValueError):
    """A message no parser can read, with the reason in one line: it goes to the DLQ."""


@dataclass(frozen=True)
class RunRequest:
    """What asks for a run: its cause, what it covers (object versions, or TrainingData's objects
    when ``objects`` is empty), its own id (a redelivery has the same) and who or what asked."""

    kind: Kind
    request_id: str
    cause: str
    requested_by: str = ""
    objects: tuple[UploadedObject, ...] = ()

    def entries(self, bucket: str, data_prefix: str) -> list[UploadedObject]:
        """What the pending set records for this request: its object versions, or one entry for the
        data prefix that the run reads whole."""
        if self.objects:
            return list(self.objects)
        return [
            UploadedObject(
                bucket=bucket,
                key=data_prefix,
                event_name=f"{RUN_REQUEST_PREFIX}{self.kind}",
                retrain_request=self.request_id,
                cause=self.cause,
            )
        ]


def request_id_of(*parts: str) -> str:
    """An id from what identifies a request at its source (a schedule and its time, an event's id),
    within the ledger's limit."""
    import hashlib

    text = "\n".join(parts)
    return text if len(text) <= MAX_ID_LENGTH and "\n" not in text else hashlib.sha256(text.encode()).hexdigest()


def cause_text(text: str) -> str:
    return " ".join(text.split())[:MAX_CAUSE_LENGTH]


def run_request_body(entries: list[UploadedObject]) -> str:
    """Run request entries as a queue message the function reads back (a DLQ redrive replays them)."""
    return json.dumps(
        {
            "runRequests": [
                {"id": e.retrain_request, "kind": e.event_name.removeprefix(RUN_REQUEST_PREFIX), "cause": e.cause}
                for e in entries
            ]
        }
    )


def read_as[M: BaseModel](model: type[M], document: Any, what: str) -> M:
    """The document as ``model``; Unreadable naming the first problems ("cannot be read as <what>: ...")."""
    try:
        return model.model_validate(document)
    except ValidationError as invalid:
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in invalid.errors()[:3])
        raise Unreadable(f"cannot be read as {what}: {fields}") from None


def as_document(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError as error:
        raise Unreadable(f"the body is not JSON: {error}") from None
