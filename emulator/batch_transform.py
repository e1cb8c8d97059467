"""A pipeline's Transform step: a batch transform job, run by the model's containers on this machine.

moto has no transform jobs, and a pipeline that ends in one (the AWS samples' do) would stop there.
The job is imitated as the developer guide's "Use batch transform" and the CreateTransformJob API
reference describe it, with the same containers, look-alikes and serving code as a local endpoint
(emulator/endpoint_containers.py):

- Each object of TransformInput's S3 data (S3Prefix: every key under the prefix; ManifestFile: the
  keys it lists) is one input file. CompressionType Gzip is undone before splitting.
- SplitType None sends a file whole; Line splits it into records at newlines. BatchStrategy
  SingleRecord sends one record per request; MultiRecord (the default) as many whole records as fit
  in MaxPayloadInMB (default 6 MB). Each request carries TransformInput's ContentType and
  TransformOutput's Accept, as the headers SageMaker sends to /invocations.
- The answers of one file make one output object, `<S3OutputPath>/<the file's key below the
  prefix>.out`. AssembleWith Line ends each answer with a newline unless it has one; None puts
  them together as they came.
- DataProcessing JoinSource Input (CSV, split by line) puts each input record before its answer,
  joined with a comma; an InputFilter or OutputFilter other than "$" is not imitated and refused.
- A container that answers other than 200 fails the job with its status and message, as
  SageMaker's FailureReason gives it; the job has no partial output then.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from emulator.endpoint_containers import ContainerFailed, ModelServer, start_model
from emulator.moto_server import REGION

DEFAULT_MAX_PAYLOAD_MB = 6  # CreateTransformJob: MaxPayloadInMB defaults to 6
OUTPUT_SUFFIX = ".out"


class TransformFailed(RuntimeError):
    """The job failed: its FailureReason."""


@dataclass(frozen=True)
class TransformJob:
    """The job's options, as CreateTransformJob's request (and so the Transform step's Arguments) gives them."""

    model_name: str
    input_uri: str
    output_path: str
    data_type: str = "S3Prefix"
    content_type: str = ""
    accept: str = ""
    split_type: str = "None"
    compression: str = "None"
    assemble_with: str = "None"
    batch_strategy: str = "MultiRecord"
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_MB * 1024 * 1024
    join_input: bool = False

    @classmethod
    def from_arguments(cls, arguments: dict[str, Any]) -> TransformJob:
        given, output = arguments["TransformInput"], arguments["TransformOutput"]
        source = given["DataSource"]["S3DataSource"]
        processing = arguments.get("DataProcessing") or {}
        for name in ("InputFilter", "OutputFilter"):
            if processing.get(name, "$") != "$":
                raise TransformFailed(f"DataProcessing {name} {processing[name]!r} is not imitated locally")
        job = cls(
            model_name=str(arguments["ModelName"]),
            input_uri=str(source["S3Uri"]),
            output_path=str(output["S3OutputPath"]).rstrip("/"),
            data_type=str(source.get("S3DataType", "S3Prefix")),
            content_type=str(given.get("ContentType", "")),
            accept=str(output.get("Accept", "")),
            split_type=str(given.get("SplitType", "None")),
            compression=str(given.get("CompressionType", "None")),
            assemble_with=str(output.get("AssembleWith", "None")),
            batch_strategy=str(arguments.get("BatchStrategy", "MultiRecord")),
            max_payload_bytes=int(arguments.get("MaxPayloadInMB", DEFAULT_MAX_PAYLOAD_MB)) * 1024 * 1024,
            join_input=processing.get("JoinSource", "None") == "Input",
        )
        job.refuse_what_is_not_imitated()
        return job

    def refuse_what_is_not_imitated(self) -> None:
        supported = {
            "S3DataType": (self.data_type, {"S3Prefix", "ManifestFile"}),
            "SplitType": (self.split_type, {"None", "Line"}),
            "CompressionType": (self.compression, {"None", "Gzip"}),
            "AssembleWith": (self.assemble_with, {"None", "Line"}),
            "BatchStrategy": (self.batch_strategy, {"MultiRecord", "SingleRecord"}),
        }
        for name, (value, known) in supported.items():
            if value not in known:
                raise TransformFailed(f"{name} {value} is not imitated locally (it takes {', '.join(sorted(known))})")
        if self.join_input and self.split_type != "Line":
            raise TransformFailed("JoinSource Input is imitated for SplitType Line (CSV records) only")


def run_transform(job: TransformJob, work: Path | None = None) -> list[str]:
    """Run the job; the output objects' URIs. TransformFailed with the reason SageMaker would give."""
    s3 = boto3.client("s3", region_name=REGION)
    inputs = list(_input_files(s3, job))
    if not inputs:
        raise TransformFailed(f"no input data found at {job.input_uri}")
    with tempfile.TemporaryDirectory(dir=work, prefix="transform-") as folder:
        try:
            server = start_model(job.model_name, Path(folder))
        except ContainerFailed as failed:
            raise TransformFailed(str(failed)) from None
        try:
            answers = [
                (relative, _transformed(server, job, _read(s3, bucket, key, job))) for bucket, key, relative in inputs
            ]
        finally:
            server.stop()
    written = []
    out_bucket, _, out_prefix = job.output_path.removeprefix("s3://").partition("/")
    for relative, body in answers:
        key = f"{out_prefix}/{relative}{OUTPUT_SUFFIX}".lstrip("/")
        s3.put_object(Bucket=out_bucket, Key=key, Body=body)
        written.append(f"s3://{out_bucket}/{key}")
    return written


def _input_files(s3: Any, job: TransformJob) -> Iterator[tuple[str, str, str]]:
    """(bucket, key, the key below the prefix) of each input file."""
    bucket, _, prefix = job.input_uri.removeprefix("s3://").partition("/")
    if job.data_type == "ManifestFile":
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=prefix)["Body"].read())
        base_bucket, _, base = str(manifest[0]["prefix"]).removeprefix("s3://").partition("/")
        for relative in manifest[1:]:
            yield base_bucket, f"{base}{relative}", str(relative)
        return
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for item in (item for page in pages for item in page.get("Contents", [])):
        key = str(item["Key"])
        if not key.endswith("/"):
            yield bucket, key, key[len(prefix) :].lstrip("/") or key.rsplit("/", 1)[-1]


def _read(s3: Any, bucket: str, key: str, job: TransformJob) -> bytes:
    body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    if job.compression == "Gzip":
        try:
            return gzip.decompress(body)
        except OSError as error:
            raise TransformFailed(f"s3://{bucket}/{key}: CompressionType Gzip, but {error}") from None
    return body


def _transformed(server: ModelServer, job: TransformJob, body: bytes) -> bytes:
    records = _records(body, job.split_type)
    parts: list[bytes] = []
    for batch in _batches(records, job):
        answer = server.invoke(b"".join(batch), job.content_type, job.accept)
        if answer.status != 200:
            raise TransformFailed(answer.refusal())
        parts += _joined(batch, answer.body) if job.join_input else [answer.body]
    if job.assemble_with == "Line":
        return b"".join(part if part.endswith(b"\n") else part + b"\n" for part in parts)
    return b"".join(parts)


def _records(body: bytes, split_type: str) -> list[bytes]:
    if split_type == "None":
        return [body]
    return [line + b"\n" for line in body.splitlines() if line.strip()]


def _batches(records: list[bytes], job: TransformJob) -> Iterator[list[bytes]]:
    if job.batch_strategy == "SingleRecord":
        yield from ([record] for record in records)
        return
    batch: list[bytes] = []
    size = 0
    for record in records:
        if batch and size + len(record) > job.max_payload_bytes:
            yield batch
            batch, size = [], 0
        if len(record) > job.max_payload_bytes:
            raise TransformFailed(f"a record of {len(record):,} bytes is over MaxPayloadInMB")
        batch.append(record)
        size += len(record)
    if batch:
        yield batch


def _joined(batch: list[bytes], answer: bytes) -> list[bytes]:
    """JoinSource Input: each input record, a comma, its answer (one answer line per record)."""
    lines = answer.splitlines()
    if len(lines) != len(batch):
        raise TransformFailed(f"JoinSource Input: {len(batch)} records got {len(lines)} answers")
    return [record.rstrip(b"\r\n") + b"," + line + b"\n" for record, line in zip(batch, lines, strict=True)]
