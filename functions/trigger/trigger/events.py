"""Typed models of what arrives on the trigger queue.

The S3 event notification (one or more records) and the ``s3:TestEvent`` that S3 sends once when
the notification is configured, as trigger/sources/s3_notification.py reads them. Records that carry
``retrainRequest`` are what `retrain-trigger retrain` sent before it sent run requests (a DLQ may
still hold some). Object keys arrive
form-URL-encoded (``my+file.csv``, ``%2F``); they are decoded here, once, and nowhere else.
"""

from __future__ import annotations

import json
from typing import Any, Literal
from urllib.parse import quote_plus, unquote_plus

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, ConfigDict, Field, Json, field_validator, model_validator

OBJECT_CREATED_PREFIX = "ObjectCreated:"


class S3Bucket(BaseModel):
    name: str = Field(min_length=1)


class S3Object(BaseModel):
    """The object an S3 notification is about, with its key already decoded."""

    key: str = Field(min_length=1)
    size: int | None = None
    e_tag: str | None = Field(default=None, alias="eTag")
    version_id: str | None = Field(default=None, alias="versionId")
    sequencer: str | None = None

    @field_validator("key", mode="after")
    @classmethod
    def decode_key(cls, encoded: str) -> str:
        # errors="strict": a %-sequence that is not UTF-8 is a malformed message, not a key.
        return unquote_plus(encoded, encoding="utf-8", errors="strict")


class S3Entity(BaseModel):
    bucket: S3Bucket
    object: S3Object


class S3EventRecord(BaseModel):
    """One record of an S3 event notification.

    Only the fields the trigger uses are required: the rest of the notification (user identity,
    request parameters, ...) may change or be absent without rejecting a real upload.
    """

    event_source: Literal["aws:s3"] = Field(default="aws:s3", alias="eventSource")
    event_name: str = Field(alias="eventName", min_length=1)
    aws_region: str | None = Field(default=None, alias="awsRegion")
    event_time: str | None = Field(default=None, alias="eventTime")
    s3: S3Entity
    # Not S3's: the id of a `retrain-trigger retrain` request for this object version.
    retrain_request: str | None = Field(default=None, alias="retrainRequest", min_length=1, max_length=64)


class S3EventNotification(BaseModel):
    records: list[S3EventRecord] = Field(alias="Records", min_length=1)


class S3TestEvent(BaseModel):
    """Sent by S3 once when a bucket notification is created or changed; it has no Records."""

    model_config = ConfigDict(extra="allow")

    event: Literal["s3:TestEvent"] = Field(alias="Event")
    bucket: str = Field(default="", alias="Bucket")


class TriggerQueueRecord(SqsRecordModel):
    """An SQS record from the trigger queue whose body is an S3 notification or test event."""

    body: Json[S3EventNotification | S3TestEvent]
    raw_body: str = Field(default="", exclude=True)  # as received: what is sent back to wait

    @model_validator(mode="before")
    @classmethod
    def keep_raw_body(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("body"), str):
            return {**data, "raw_body": data["body"]}
        return data


def notification_body(records: list[dict[str, Any]]) -> str:
    """An S3 event notification for these objects (``bucket``, ``key`` decoded, ``event_name`` and
    the optional ``size``, ``e_tag``, ``version_id``, ``sequencer``, ``retrain_request``), as S3
    would send it: the key form-URL-encoded. What the function puts in the dead-letter queue, so a
    redrive replays it, and what `retrain-trigger backfill` and `retrain` send."""
    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "eventName": record["event_name"],
                    **({"retrainRequest": record["retrain_request"]} if record.get("retrain_request") else {}),
                    "s3": {
                        "bucket": {"name": record["bucket"]},
                        "object": {
                            "key": quote_plus(record["key"], safe="/"),
                            **{
                                alias: record[name]
                                for name, alias in (
                                    ("size", "size"),
                                    ("e_tag", "eTag"),
                                    ("version_id", "versionId"),
                                    ("sequencer", "sequencer"),
                                )
                                if record.get(name) is not None
                            },
                        },
                    },
                }
                for record in records
            ]
        }
    )
