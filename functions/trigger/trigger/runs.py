"""A pipeline run: the uploads it is for, the parameters it gets (through the mapping), its token
and names, and its manifest. Pure logic: no AWS here."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from trigger.parameter_mapping import MappingError, ParameterMapping, RunValues
from trigger.uploads import RETRAIN_REQUESTED, RUN_REQUEST_PREFIX, UploadedObject
from trigger.uploads import refusal_of as object_refusal

# SageMaker limits (StartPipelineExecution).
MAX_DISPLAY_NAME_LENGTH = 82
MAX_DESCRIPTION_LENGTH = 3072
S3_PREFIX, MANIFEST_FILE = "S3Prefix", "ManifestFile"  # SageMaker's S3DataType values
NEW_OBJECTS = "NewObjects"  # a run trains on the objects that triggered it
ALL_OBJECTS = "AllObjects"  # a run trains on every object under the data prefix when it starts
MANIFEST_NAME, LISTING_NAME = "input.manifest", "objects.json"


@dataclass(frozen=True)
class RunShape:
    """What every run of this deployment has in common."""

    pipeline_name: str
    mapping: ParameterMapping
    manifest_prefix: str
    data_prefix: str = ""
    training_data: str = NEW_OBJECTS


@dataclass(frozen=True)
class ListedObject:
    """An object found under the data prefix when an AllObjects run is started."""

    key: str
    size: int


def lists_the_prefix(shape: RunShape, objects: Iterable[UploadedObject] = ()) -> bool:
    """A run that reads the whole prefix and whose pipeline is told its input's size or given a
    manifest (an AllObjects run, or a run request's on a NewObjects deployment): the trigger lists the
    prefix once, counts the bytes, and hands the run that list as its manifest, so that nothing lists
    it again and no manifest is empty."""
    if shape.training_data == ALL_OBJECTS:
        return shape.mapping.uses("input_bytes")
    requested = any(obj.covers_prefix for obj in objects)
    return requested and (shape.mapping.uses("input_bytes") or shape.mapping.uses("manifest_uri"))


@dataclass(frozen=True)
class PipelineRun:
    """One StartPipelineExecution call, fully determined by the objects that caused it."""

    pipeline_name: str
    parameters: dict[str, str]
    display_name: str
    description: str
    client_request_token: str
    objects: tuple[UploadedObject, ...]
    manifest_key: str | None = None  # set when the run has a manifest
    trains_on: str = ""  # in a person's words: what the run reads
    listed: tuple[ListedObject, ...] = ()  # AllObjects with a listing: what the manifest lists

    @property
    def bucket(self) -> str:
        return self.objects[0].bucket

    @property
    def reason(self) -> str:
        """Why the run exists, in a person's words."""
        return "; ".join(causes(self.objects)) or "new data"

    @property
    def listing_uri(self) -> str | None:
        """objects.json beside the manifest: which uploads the run is for."""
        return f"s3://{self.bucket}/{self.manifest_key.rsplit('/', 1)[0]}/{LISTING_NAME}" if self.manifest_key else None

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


def run_for(objects: list[UploadedObject], shape: RunShape, listed: tuple[ListedObject, ...] = ()) -> PipelineRun:
    """The run for these objects of one bucket. MappingError if a value would break SageMaker's limits.

    ``listed``: for an AllObjects run that lists the prefix (lists_the_prefix), what it found.
    """
    ordered = tuple(sorted(objects, key=lambda obj: (obj.key, obj.version_marker)))
    token = client_request_token(ordered[0]) if len(ordered) == 1 else _token_of_several(ordered)
    # A request on TrainingData's objects (a tick, an event, a message) reads the whole prefix.
    every = shape.training_data == ALL_OBJECTS or any(obj.covers_prefix for obj in ordered)
    listed = listed if every else ()
    has_manifest = bool(listed) or (not every and (len(ordered) > 1 or shape.mapping.uses("manifest_uri")))
    manifest_key = f"{shape.manifest_prefix.rstrip('/')}/{token}/{MANIFEST_NAME}" if has_manifest else None
    one = len(ordered) == 1
    reads_prefix = every and not listed
    values = RunValues(
        bucket=ordered[0].bucket,
        key=shape.data_prefix if reads_prefix else ordered[0].key if one and not every else str(manifest_key),
        version=(ordered[0].version_id or "") if one and not every else "",
        input_data_type=S3_PREFIX if reads_prefix or (one and not every) else MANIFEST_FILE,
        manifest_uri=f"s3://{ordered[0].bucket}/{manifest_key}" if manifest_key else "",
        object_count=len(ordered),
        prefix=shape.data_prefix,
        # a run request's run reads every object, whatever the uploads do
        training_data=ALL_OBJECTS if every else shape.training_data,
        input_bytes=_input_bytes(ordered, listed, every),
    )
    return PipelineRun(
        pipeline_name=shape.pipeline_name,
        parameters=shape.mapping.render(values),
        display_name=display_name(_named(ordered), token),
        description=(_retrain_note(ordered) + _description(ordered, values, every))[:MAX_DESCRIPTION_LENGTH],
        client_request_token=token,
        objects=ordered,
        manifest_key=manifest_key,
        trains_on=_trains_on(ordered, values, every, listed),
        listed=listed,
    )


def _named(ordered: tuple[UploadedObject, ...]) -> str:
    if len(ordered) > 1:
        return f"{len(ordered)} uploads" if not any(obj.covers_prefix for obj in ordered) else "requests"
    return ordered[0].event_name.removeprefix(RUN_REQUEST_PREFIX) if ordered[0].covers_prefix else ordered[0].key


def _input_bytes(ordered: tuple[UploadedObject, ...], listed: tuple[ListedObject, ...], every: bool) -> int:
    """What the run reads, in bytes; 0 when not known (AllObjects without a listing)."""
    if every:
        return sum(obj.size for obj in listed)
    return sum(obj.size or 0 for obj in ordered)


def retrain_requests(objects: tuple[UploadedObject, ...]) -> list[str]:
    """The `retrain-trigger retrain` requests among these objects (none for new uploads)."""
    return sorted({obj.retrain_request for obj in objects if obj.retrain_request})


def causes(objects: tuple[UploadedObject, ...]) -> list[str]:
    """What asked for the run besides new uploads: each request's cause (a tick, an event, a message),
    and the `retrain-trigger retrain` requests, in order, each once."""
    found = [obj.cause for obj in objects if obj.cause]
    plain = sorted({obj.retrain_request for obj in objects if obj.retrain_request and not obj.cause})
    if plain:
        found.append(f"{RETRAIN_REQUESTED} ({', '.join(plain)})")
    return list(dict.fromkeys(found))


def _retrain_note(ordered: tuple[UploadedObject, ...]) -> str:
    said = causes(ordered)
    return "; ".join(cause[:1].upper() + cause[1:] for cause in said) + ". " if said else ""


def _description(ordered: tuple[UploadedObject, ...], values: RunValues, every: bool) -> str:
    first, last = ordered[0], ordered[-1]
    uploads_only = tuple(obj for obj in ordered if not obj.covers_prefix)
    if every and not uploads_only:
        return f"Trains on every object under s3://{first.bucket}/{values.prefix} when it starts"
    if every:
        first, last = uploads_only[0], uploads_only[-1]
        uploads = first.key if len(uploads_only) == 1 else f"{len(uploads_only)} uploads"
        return (
            f"Started by {uploads} in s3://{first.bucket}/{values.prefix}; trains on every object under that "
            f"prefix (TrainingData={ALL_OBJECTS}), from {first.key} to {last.key}"
        )
    if len(ordered) == 1:
        version = f" ({first.version_label})" if first.version_label else ""
        how = "Trains on" if first.retrain_request else "Started by the upload of"
        return f"{how} {first.uri}{version}"
    return (
        f"Started by {len(ordered)} uploads to s3://{first.bucket}/, from {first.key} to {last.key}; "
        f"the list is in {values.manifest_uri.rsplit('/', 1)[0]}/{LISTING_NAME}"
    )


def _trains_on(
    ordered: tuple[UploadedObject, ...], values: RunValues, every: bool, listed: tuple[ListedObject, ...]
) -> str:
    if listed:
        objects = f"{len(listed)} object{'s' if len(listed) > 1 else ''}"
        return (
            f"the {objects} ({values.input_bytes:,} bytes) under s3://{values.bucket}/{values.prefix} "
            f"when it started (TrainingData={ALL_OBJECTS})"
        )
    if every and any(obj.covers_prefix for obj in ordered):
        return f"every object under s3://{values.bucket}/{values.prefix} when it starts (a request for a full retrain)"
    if every:
        return f"every object under s3://{values.bucket}/{values.prefix} when it starts (TrainingData={ALL_OBJECTS})"
    if len(ordered) == 1:
        return f"this object (TrainingData={NEW_OBJECTS})"
    return f"these {len(ordered)} objects (TrainingData={NEW_OBJECTS})"


def refusal_of(obj: UploadedObject, shape: RunShape) -> str | None:
    """Why no run can take this object, or None: its key (see uploads.refusal_of), or a parameter
    the mapping would render over SageMaker's limits."""
    refusal = object_refusal(obj)
    if refusal is not None:
        return refusal
    try:
        run_for([obj], shape)
    except MappingError as error:
        return f"{error} ({obj.uri[:120]}...)"
    return None


def manifest_documents(run: PipelineRun) -> dict[str, str]:
    """The files written side by side in the run's manifest folder.

    input.manifest is SageMaker's ManifestFile format (a prefix, then keys relative to it);
    objects.json answers "which uploads did this run train on?" with versions, sizes and ETags.
    """
    keys = [obj.key for obj in run.listed] if run.listed else [obj.key for obj in run.objects]
    input_manifest: list[Any] = [{"prefix": f"s3://{run.bucket}/"}, *keys]
    listing: dict[str, Any] = {
        "run": run.client_request_token,
        "pipeline": run.pipeline_name,
        "reason": run.reason,
        "objects": [
            {"bucket": o.bucket, "key": o.key, "version": o.version_id, "size": o.size, "etag": o.e_tag}
            | ({"retrain_request": o.retrain_request} if o.retrain_request else {})
            for o in run.objects
        ],
    }
    if run.listed:  # AllObjects: the uploads only started the run; it reads what was listed
        listing["reads"] = {"objects": len(run.listed), "bytes": sum(obj.size for obj in run.listed)}
    return {MANIFEST_NAME: json.dumps(input_manifest), LISTING_NAME: json.dumps(listing, indent=1)}


def _token_of_several(ordered: tuple[UploadedObject, ...]) -> str:
    """The same objects, whatever their order of arrival, give the same token."""
    return hashlib.sha256("\n".join(client_request_token(obj) for obj in ordered).encode("ascii")).hexdigest()


def client_request_token(obj: UploadedObject) -> str:
    """Same object version, same token (64 hex characters, within SageMaker's 32 to 128); a retrain
    request of it gets its own."""
    return hashlib.sha256(obj.identity.encode("utf-8")).hexdigest()


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
