"""What a pipeline run is: which uploads it may take, its parameters, token and names. Pure logic:
no AWS here."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from trigger.events import S3EventRecord

# SageMaker limits (StartPipelineExecution).
MAX_PARAMETER_VALUE_LENGTH = 1024
MAX_DISPLAY_NAME_LENGTH = 82
MAX_DESCRIPTION_LENGTH = 3072
MAX_FILE_NAME_BYTES = 255  # the jobs copy each object to a file under its key: Linux's limit per name

INPUT_BUCKET_PARAMETER = "InputBucket"
INPUT_KEY_PARAMETER = "InputKey"
INPUT_DATA_TYPE_PARAMETER = "InputDataType"
MANIFEST_DATA_TYPE = "ManifestFile"  # SageMaker downloads the objects a manifest lists
TRAINING_DATA_PARAMETER = "TrainingData"
NEW_OBJECTS = "NewObjects"  # a run trains on the objects that triggered it
ALL_OBJECTS = "AllObjects"  # a run trains on every object under the data prefix when it starts


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
    def identity(self) -> dict[str, str]:
        """What makes this upload unique: never the message that carried it."""
        return {"bucket": self.bucket, "key": self.key, "version": self.version_marker}

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
    # Where runs write their splits, models and manifests: never training data, even when
    # DataPrefix is empty, or every run would start the next one.
    artifacts_prefix: str = "pipeline-artifacts/"

    def reason_to_skip(self, obj: UploadedObject) -> str | None:
        if not obj.event_name.startswith("ObjectCreated:"):
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


@dataclass(frozen=True)
class PipelineRun:
    """One StartPipelineExecution call, fully determined by the objects that caused it."""

    pipeline_name: str
    parameters: dict[str, str]
    display_name: str
    description: str
    client_request_token: str
    objects: tuple[UploadedObject, ...]
    manifest_key: str | None = None  # set when the run covers several objects
    trains_on: str = ""  # in a person's words: what the run reads

    @property
    def training_data(self) -> str:
        return self.parameters.get(TRAINING_DATA_PARAMETER, NEW_OBJECTS)

    def as_record(self) -> dict[str, Any]:
        """What is remembered about the run: enough to ask SageMaker for it again."""
        return {
            "pipeline_name": self.pipeline_name,
            "parameters": self.parameters,
            "display_name": self.display_name,
            "description": self.description,
            "client_request_token": self.client_request_token,
            "object_count": len(self.objects),
            "first_object": self.objects[0].uri,
        }


def run_for(
    objects: list[UploadedObject], *, pipeline_name: str, manifest_prefix: str, all_objects_under: str | None = None
) -> PipelineRun:
    """The run for these objects of one bucket: the plain run for one, a manifest run for several,
    or a run on everything under a prefix that they started."""
    if all_objects_under:
        return run_on_everything_under(all_objects_under, objects, pipeline_name=pipeline_name)
    if len(objects) == 1:
        return run_for_object(objects[0], pipeline_name=pipeline_name)
    return run_for_objects(objects, pipeline_name=pipeline_name, manifest_prefix=manifest_prefix)


def run_for_objects(objects: list[UploadedObject], *, pipeline_name: str, manifest_prefix: str) -> PipelineRun:
    """One run for a burst: SageMaker reads the objects from the manifest its InputKey names."""
    ordered = tuple(sorted(objects, key=lambda obj: (obj.key, obj.version_marker)))
    token = _token_of_several(ordered)
    manifest_key = f"{manifest_prefix.rstrip('/')}/{token}/input.manifest"
    bucket = ordered[0].bucket
    return PipelineRun(
        pipeline_name=pipeline_name,
        parameters={
            INPUT_BUCKET_PARAMETER: bucket,
            INPUT_KEY_PARAMETER: manifest_key,
            INPUT_DATA_TYPE_PARAMETER: MANIFEST_DATA_TYPE,
        },
        display_name=display_name(f"{len(ordered)} uploads", token),
        description=(
            f"Started by {len(ordered)} uploads to s3://{bucket}/, from {ordered[0].key} to {ordered[-1].key}; "
            f"the list is in s3://{bucket}/{manifest_key.rsplit('/', 1)[0]}/objects.json"
        )[:MAX_DESCRIPTION_LENGTH],
        client_request_token=token,
        objects=ordered,
        manifest_key=manifest_key,
        trains_on=f"these {len(ordered)} objects (TrainingData=NewObjects)",
    )


def run_on_everything_under(prefix: str, objects: list[UploadedObject], *, pipeline_name: str) -> PipelineRun:
    """TrainingData=AllObjects: the uploads start a run that reads every object under the prefix.

    The token still comes from the uploads: a redelivered message starts nothing new, the next
    upload starts the next run.
    """
    ordered = tuple(sorted(objects, key=lambda obj: (obj.key, obj.version_marker)))
    token = client_request_token(ordered[0]) if len(ordered) == 1 else _token_of_several(ordered)
    bucket = ordered[0].bucket
    uploads = ordered[0].key if len(ordered) == 1 else f"{len(ordered)} uploads"
    return PipelineRun(
        pipeline_name=pipeline_name,
        parameters={
            INPUT_BUCKET_PARAMETER: bucket,
            INPUT_KEY_PARAMETER: prefix,
            TRAINING_DATA_PARAMETER: ALL_OBJECTS,
        },
        display_name=display_name(uploads, token),
        description=(
            f"Started by {uploads} in s3://{bucket}/{prefix}; trains on every object under that prefix "
            f"(TrainingData=AllObjects), from {ordered[0].key} to {ordered[-1].key}"
        )[:MAX_DESCRIPTION_LENGTH],
        client_request_token=token,
        objects=ordered,
        trains_on=f"every object under s3://{bucket}/{prefix} when it starts (TrainingData=AllObjects)",
    )


def manifest_documents(run: PipelineRun) -> dict[str, str]:
    """The files written side by side in the run's manifest folder.

    input.manifest is SageMaker's ManifestFile format (a prefix, then keys relative to it);
    objects.json answers "which uploads did this run train on?" with versions, sizes and ETags.
    """
    bucket = run.objects[0].bucket
    input_manifest: list[Any] = [{"prefix": f"s3://{bucket}/"}, *(obj.key for obj in run.objects)]
    listing = {
        "run": run.client_request_token,
        "pipeline": run.pipeline_name,
        "objects": [
            {"bucket": o.bucket, "key": o.key, "version": o.version_id, "size": o.size, "etag": o.e_tag}
            for o in run.objects
        ],
    }
    return {"input.manifest": json.dumps(input_manifest), "objects.json": json.dumps(listing, indent=1)}


def refusal_of(obj: UploadedObject) -> str | None:
    """Why no run can take this object (a value over SageMaker's limits, a key part longer than a
    file name), or None."""
    for name, value in ((INPUT_BUCKET_PARAMETER, obj.bucket), (INPUT_KEY_PARAMETER, obj.key)):
        if len(value) > MAX_PARAMETER_VALUE_LENGTH:
            return (
                f"pipeline parameter {name} would be {len(value)} characters long; SageMaker "
                f"accepts at most {MAX_PARAMETER_VALUE_LENGTH} ({obj.uri[:120]}...)"
            )
    longest = max(len(part.encode("utf-8")) for part in obj.key.split("/"))
    if longest > MAX_FILE_NAME_BYTES:
        return (
            f"a part of the key is {longest} bytes long; the job copies the object to a "
            f"file, and file names are at most {MAX_FILE_NAME_BYTES} bytes ({obj.uri[:120]}...)"
        )
    return None


def run_for_object(obj: UploadedObject, *, pipeline_name: str) -> PipelineRun:
    refusal = refusal_of(obj)
    if refusal is not None:
        raise InvalidRunRequest(refusal)
    parameters = {INPUT_BUCKET_PARAMETER: obj.bucket, INPUT_KEY_PARAMETER: obj.key}
    token = client_request_token(obj)
    version = _version_label(obj)
    return PipelineRun(
        pipeline_name=pipeline_name,
        parameters=parameters,
        display_name=display_name(obj.key, token),
        description=f"Started by the upload of {obj.uri}{version}"[:MAX_DESCRIPTION_LENGTH],
        client_request_token=token,
        objects=(obj,),
        trains_on="this object (TrainingData=NewObjects)",
    )


def _version_label(obj: UploadedObject) -> str:
    if obj.version_id:
        return f" (version {obj.version_id})"
    if obj.sequencer:
        return f" (sequencer {obj.sequencer})"
    return f" (ETag {obj.e_tag})" if obj.e_tag else ""


def _token_of_several(ordered: tuple[UploadedObject, ...]) -> str:
    """The same objects, whatever their order of arrival, give the same token."""
    return hashlib.sha256("\n".join(client_request_token(obj) for obj in ordered).encode("ascii")).hexdigest()


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
