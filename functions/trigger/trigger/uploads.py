"""An upload: one object version that landed in the data bucket, which ones the trigger takes,
and which ones no run can ever take. Pure logic: no AWS here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trigger.events import OBJECT_CREATED_PREFIX, S3EventRecord

MAX_FILE_NAME_BYTES = 255  # the jobs copy each object to a file under its key: Linux's limit per name
MAX_KEY_CHARACTERS = 1024  # a pipeline parameter value holds at most this many characters
RETRAIN_REQUESTED = "retrain requested"  # the reason a run on data already seen is recorded with
RUN_REQUEST_PREFIX = "RunRequest:"  # the event name of a run request that covers the data prefix


@dataclass(frozen=True)
class UploadedObject:
    """One object version that landed in the data bucket."""

    bucket: str
    key: str
    event_name: str
    size: int | None = None
    e_tag: str | None = None
    version_id: str | None = None
    sequencer: str | None = None
    # Set by `retrain-trigger retrain`: the request that asked for this version to be trained on
    # again. It makes a new identity; a redelivery of the same request is still a duplicate.
    retrain_request: str | None = None
    # A run request that covers TrainingData's objects (a schedule tick, an event, a data-ready
    # message) rather than one upload: its cause in a person's words (trigger/run_requests.py).
    cause: str | None = None

    @property
    def covers_prefix(self) -> bool:
        """A run request for everything under the data prefix (its key is the prefix), not an upload."""
        return self.event_name.startswith(RUN_REQUEST_PREFIX)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def version_marker(self) -> str:
        """What tells this version of the key apart from the next one."""
        return self.version_id or self.sequencer or self.e_tag or ""

    @property
    def is_empty(self) -> bool:
        """0 bytes (as the notification says): no run can train on it."""
        return self.size == 0

    @property
    def identity(self) -> str:
        """What makes this upload one and only one: the object version, and the retrain request
        when there is one (so retraining on purpose is new, and nothing else is)."""
        identity = "\n".join((self.bucket, self.key, self.version_marker))
        return identity + f"\nretrain {self.retrain_request}" if self.retrain_request else identity

    @property
    def version_label(self) -> str:
        """The version in a person's words, or empty."""
        if self.version_id:
            return f"version {self.version_id}"
        if self.sequencer:
            return f"sequencer {self.sequencer}"
        return f"ETag {self.e_tag}" if self.e_tag else ""

    @classmethod
    def from_record(cls, record: S3EventRecord) -> UploadedObject:
        obj = record.s3.object
        return cls(
            bucket=record.s3.bucket.name,
            key=obj.key,
            event_name=record.event_name,
            size=obj.size,
            e_tag=obj.e_tag,
            version_id=obj.version_id,
            sequencer=obj.sequencer,
            retrain_request=record.retrain_request,
        )

    def as_item(self) -> dict[str, Any]:
        """As the scheduler's table stores it (a pending entry, a run's record) and as the
        dead-letter queue's notification body names it."""
        return {
            "bucket": self.bucket,
            "key": self.key,
            "event_name": self.event_name,
            "size": self.size,
            "e_tag": self.e_tag,
            "version_id": self.version_id,
            "sequencer": self.sequencer,
            "retrain_request": self.retrain_request,
            **({"cause": self.cause} if self.cause else {}),
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> UploadedObject:
        return cls(
            bucket=item["bucket"],
            key=item["key"],
            event_name=item["event_name"],
            size=int(item["size"]) if item.get("size") is not None else None,
            e_tag=item.get("e_tag"),
            version_id=item.get("version_id"),
            sequencer=item.get("sequencer"),
            retrain_request=item.get("retrain_request"),
            cause=item.get("cause"),
        )


@dataclass(frozen=True)
class ObjectFilter:
    """The data the pipeline trains on: created objects under a prefix with a suffix."""

    prefix: str = ""
    suffix: str = ""
    # Where runs write their splits, models and manifests: never training data, even when
    # DataPrefix is empty, or every run would start the next one.
    artifacts_prefix: str = "pipeline-artifacts/"

    def reason_to_skip(self, obj: UploadedObject) -> str | None:
        if not obj.event_name.startswith(OBJECT_CREATED_PREFIX):
            return f"event {obj.event_name} is not an object creation"
        if obj.key.startswith(self.artifacts_prefix):
            return f"key is under {self.artifacts_prefix}, where runs write their outputs"
        if not obj.key.startswith(self.prefix):
            return f"key is outside the prefix {self.prefix!r}"
        if not obj.key.endswith(self.suffix):
            return f"key does not end with {self.suffix!r}"
        if obj.key.endswith("/"):
            return "key is a folder marker"
        return None


def refusal_of(obj: UploadedObject) -> str | None:
    """Why no run can take this object (it is empty, a key over SageMaker's limits, a key part
    longer than a file name), or None. Only what the notification tells: the object is not read."""
    if obj.is_empty:
        return "the object is empty (0 bytes): there is nothing to train on; upload the file with its data"
    for what, value in (("bucket name", obj.bucket), ("key", obj.key)):
        if len(value) > MAX_KEY_CHARACTERS:
            return (
                f"the {what} is {len(value)} characters long; a SageMaker pipeline parameter holds "
                f"at most {MAX_KEY_CHARACTERS} ({obj.uri[:120]}...)"
            )
    longest = max(len(part.encode("utf-8")) for part in obj.key.split("/"))
    if longest > MAX_FILE_NAME_BYTES:
        return (
            f"a part of the key is {longest} bytes long; the job copies the object to a "
            f"file, and file names are at most {MAX_FILE_NAME_BYTES} bytes ({obj.uri[:120]}...)"
        )
    return None
