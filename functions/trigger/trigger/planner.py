"""Decide which pipeline runs a message asks for. Pure logic: no AWS here."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from trigger.events import S3EventRecord

# SageMaker limits (StartPipelineExecution).
MAX_PARAMETER_VALUE_LENGTH = 1024
MAX_DISPLAY_NAME_LENGTH = 82
MAX_DESCRIPTION_LENGTH = 3072

INPUT_BUCKET_PARAMETER = "InputBucket"
INPUT_KEY_PARAMETER = "InputKey"


class InvalidRunRequest(ValueError):
    """A run SageMaker would reject whatever the number of retries: a permanent failure."""


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

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def version_marker(self) -> str:
        """What tells this version of the key apart from the next one."""
        return self.version_id or self.sequencer or self.e_tag or ""

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
        )


@dataclass(frozen=True)
class ObjectFilter:
    """The data the pipeline trains on: created objects under a prefix with a suffix."""

    prefix: str = ""
    suffix: str = ""

    def reason_to_skip(self, obj: UploadedObject) -> str | None:
        if not obj.event_name.startswith("ObjectCreated:"):
            return f"event {obj.event_name} is not an object creation"
        if not obj.key.startswith(self.prefix):
            return f"key is outside the prefix {self.prefix!r}"
        if not obj.key.endswith(self.suffix):
            return f"key does not end with {self.suffix!r}"
        if obj.key.endswith("/"):
            return "key is a folder marker"
        return None


@dataclass(frozen=True)
class PipelineRun:
    """One StartPipelineExecution call, fully determined by the objects that caused it."""

    pipeline_name: str
    parameters: dict[str, str]
    display_name: str
    description: str
    client_request_token: str
    objects: tuple[UploadedObject, ...]


@dataclass(frozen=True)
class SkippedObject:
    object: UploadedObject
    reason: str


@dataclass(frozen=True)
class RunPlan:
    runs: list[PipelineRun] = field(default_factory=list)
    skipped: list[SkippedObject] = field(default_factory=list)


def plan_runs(objects: Iterable[UploadedObject], *, pipeline_name: str, object_filter: ObjectFilter) -> RunPlan:
    """One run per accepted object; every other object is listed with the reason it was skipped."""
    plan = RunPlan()
    for obj in objects:
        reason = object_filter.reason_to_skip(obj)
        if reason is None:
            plan.runs.append(run_for_object(obj, pipeline_name=pipeline_name))
        else:
            plan.skipped.append(SkippedObject(obj, reason))
    return plan


def run_for_object(obj: UploadedObject, *, pipeline_name: str) -> PipelineRun:
    parameters = {INPUT_BUCKET_PARAMETER: obj.bucket, INPUT_KEY_PARAMETER: obj.key}
    for name, value in parameters.items():
        if len(value) > MAX_PARAMETER_VALUE_LENGTH:
            raise InvalidRunRequest(
                f"pipeline parameter {name} would be {len(value)} characters long; SageMaker "
                f"accepts at most {MAX_PARAMETER_VALUE_LENGTH} ({obj.uri[:120]}...)"
            )
    token = client_request_token(obj)
    version = _version_label(obj)
    return PipelineRun(
        pipeline_name=pipeline_name,
        parameters=parameters,
        display_name=display_name(obj.key, token),
        description=f"Started by the upload of {obj.uri}{version}"[:MAX_DESCRIPTION_LENGTH],
        client_request_token=token,
        objects=(obj,),
    )


def _version_label(obj: UploadedObject) -> str:
    if obj.version_id:
        return f" (version {obj.version_id})"
    if obj.sequencer:
        return f" (sequencer {obj.sequencer})"
    return f" (ETag {obj.e_tag})" if obj.e_tag else ""


def client_request_token(obj: UploadedObject) -> str:
    """Same object version, same token (64 hex characters, within SageMaker's 32 to 128)."""
    identity = "\n".join((obj.bucket, obj.key, obj.version_marker))
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


_NOT_ALLOWED_IN_DISPLAY_NAME = re.compile(r"[^a-zA-Z0-9]+")


def display_name(key: str, token: str) -> str:
    """A name a person recognises in the console: the file name plus a short unique suffix.

    SageMaker allows letters, digits and single or repeated hyphens between them, 82 at most.
    """
    suffix = token[:8]
    file_name = key.rsplit("/", 1)[-1]
    readable = _NOT_ALLOWED_IN_DISPLAY_NAME.sub("-", file_name).strip("-")
    room = MAX_DISPLAY_NAME_LENGTH - len(suffix) - 1
    readable = readable[:room].rstrip("-")
    return f"{readable}-{suffix}" if readable else f"upload-{suffix}"
