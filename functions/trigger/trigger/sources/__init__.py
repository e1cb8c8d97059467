"""Reading a queue message into run requests: one module per source, each with ``claims`` (is this
body of mine?) and ``parse`` (its run requests, or Unreadable with the reason). Adding a source is
one module here and its line in SOURCES."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trigger.run_requests import RunRequest, Unreadable, as_document
from trigger.sources import eventbridge_event, monitoring_execution, queued_requests, s3_notification, sns_message
from trigger.sources.context import SourceContext

__all__ = ["SOURCES", "Parsed", "SourceContext", "Unreadable", "parse_body"]

# A monitoring execution's event is an EventBridge event too: its own parser comes first.
SOURCES = (s3_notification, sns_message, monitoring_execution, eventbridge_event, queued_requests)


@dataclass(frozen=True)
class Parsed:
    requests: list[RunRequest] = field(default_factory=list)
    acknowledged: str = ""  # a message that asks for nothing (S3's test event, SNS's confirmation): why


def parse_body(body: str, context: SourceContext) -> Parsed:
    """The run requests of one message; Unreadable when no source reads it."""
    document: Any = as_document(body)
    for source in SOURCES:
        if source.claims(document):
            parsed: Parsed = source.parse(document, context)
            return parsed
    raise Unreadable(
        "cannot be read as an S3 event notification, an SNS message, an EventBridge event or a run request: "
        f"{_shape(document)}"
    )


def _shape(document: Any) -> str:
    if isinstance(document, dict):
        return f"an object with the fields {', '.join(sorted(map(str, document))[:8]) or 'none'}"
    return f"a JSON {type(document).__name__}"
