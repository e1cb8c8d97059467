"""`retrain-trigger backfill` and `retrain`: send run requests for objects already in the bucket to
the trigger queue (trigger/sources/queued_requests.py reads them). They then go where an upload goes:
the same queue, function, cap, coalescing and dead-letter queue.

A backfill names each object version as S3 did, so a version that already ran starts nothing new.
A retrain names it with a request of its own: it is new once, and a redelivery is still a duplicate.
"""

from __future__ import annotations

import argparse
import difflib
import getpass
import json
import secrets
import socket
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from ops.targets import Targets, need
from pipeline.command_line import CommandError, error_code
from trigger.uploads import RETRAIN_REQUESTED

BATCH = 10  # SQS SendMessageBatch limit


@dataclass(frozen=True)
class Announcement:
    """Which objects to announce, and where."""

    queue_url: str
    bucket: str
    data_prefix: str = ""  # the stack's DataPrefix: the trigger skips what is outside it


def announce(args: argparse.Namespace, targets: Targets) -> int:
    """`backfill [--prefix P]` and `retrain [--prefix P | KEY...]`."""
    where = Announcement(need(targets.queue_url, "queue"), need(targets.bucket, "bucket"), targets.data_prefix or "")
    prefix = args.prefix if args.prefix is not None else where.data_prefix
    if args.command == "backfill":
        return backfill(where, prefix)
    return retrain(where, prefix, args.keys)


def latest_versions(bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    s3 = boto3.client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for version in page.get("Versions", []):
            if version.get("IsLatest") and not version["Key"].endswith("/"):
                yield dict(version)


def backfill(where: Announcement, prefix: str) -> int:
    """Existing objects under the prefix, each as the version S3 announced (or would have)."""
    sent = _send(where, _with_data(latest_versions(where.bucket, prefix)), "backfill", None)
    print(f"backfill: {sent} object(s) under s3://{where.bucket}/{prefix} sent to the trigger queue")
    print("objects already trained on (same version) start nothing new; the others start runs in bursts")
    return 0


def _with_data(versions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The versions that hold data. An empty object can never train: it is named, not sent (the
    trigger would only put it in the dead-letter queue again)."""
    listed = list(versions)
    empty = [version["Key"] for version in listed if version["Size"] == 0]
    if empty:
        shown = ", ".join(empty[:3]) + (f" and {len(empty) - 3} more" if len(empty) > 3 else "")
        print(
            f"{len(empty)} empty object(s) not sent, they can never train: {shown}; upload them again with their data"
        )
    return [version for version in listed if version["Size"] > 0]


def retrain(where: Announcement, prefix: str | None, keys: list[str]) -> int:
    """Objects that already ran, trained on again on purpose: after a pipeline fix, a new gate or a
    new image. One request id for them all, recorded in each run's cause."""
    versions = _with_data([_current_version(where, key) for key in keys] if keys else _under(where, prefix or ""))
    if not versions:
        raise CommandError("every object named is empty: nothing was sent")
    request = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)
    sent = _send(where, versions, "retrain", request)
    print(f"retrain: {sent} object(s) sent to the trigger queue as request {request}")
    print(
        f"they start runs as uploads do (the cap and coalescing apply); `retrain-trigger status` shows each "
        f"run's cause as '{RETRAIN_REQUESTED.capitalize()} ({request})'"
    )
    return 0


def _under(where: Announcement, prefix: str) -> list[dict[str, Any]]:
    """The latest version of each object under the prefix that the trigger takes (inside DataPrefix)."""
    versions = [v for v in latest_versions(where.bucket, prefix) if v["Key"].startswith(where.data_prefix)]
    if not versions:
        inside = f" inside the data prefix {where.data_prefix!r}" if where.data_prefix else ""
        meant = _closest_folder(where, prefix)
        raise CommandError(f"no objects under s3://{where.bucket}/{prefix}{inside}{meant}: nothing was sent")
    return versions


def _closest_folder(where: Announcement, prefix: str) -> str:
    """' (did you mean FOLDER?)' for the folder under the data prefix nearest to a prefix that holds nothing."""
    listing = boto3.client("s3").list_objects_v2(Bucket=where.bucket, Prefix=where.data_prefix)
    folders = sorted(
        {item["Key"].rsplit("/", 1)[0] + "/" for item in listing.get("Contents", []) if "/" in item["Key"]}
    )
    guess = closest_key(prefix, [folder for folder in folders if folder != prefix])
    return f" (did you mean {guess}?)" if guess else ""


def _current_version(where: Announcement, given: str) -> dict[str, Any]:
    """KEY or s3://BUCKET/KEY, as the latest version of that object."""
    key = given
    if given.startswith("s3://"):
        bucket, _, key = given[len("s3://") :].partition("/")
        if bucket != where.bucket:
            raise CommandError(f"{given} is not in the data bucket {where.bucket}: nothing was sent")
    _inside_data_prefix(where, key)
    try:
        head = boto3.client("s3").head_object(Bucket=where.bucket, Key=key)
    except ClientError as error:
        if error_code(error) in {"404", "NoSuchKey", "NotFound"}:
            raise CommandError(
                f"no object s3://{where.bucket}/{key}{_closest(where, key)}; nothing was sent"
            ) from error
        raise
    return {"Key": key, "Size": head["ContentLength"], "ETag": head["ETag"], "VersionId": head.get("VersionId")}


def _closest(where: Announcement, key: str) -> str:
    """', did you mean KEY?' for the object nearest to the key not found: among the first page of its
    folder's objects, then of the data prefix's (the folder itself may be misspelt). This runs once,
    after a mistake: two listings at most."""
    s3 = boto3.client("s3")
    folders = dict.fromkeys([key.rsplit("/", 1)[0] + "/" if "/" in key else where.data_prefix, where.data_prefix])
    for folder in folders:
        listing = s3.list_objects_v2(Bucket=where.bucket, Prefix=folder)
        guess = closest_key(key, [item["Key"] for item in listing.get("Contents", []) if item["Size"] > 0])
        if guess:
            return f" (did you mean {guess}?)"
    return ""


def closest_key(key: str, keys: list[str]) -> str | None:
    """The key a person most likely meant: case aside, then a prefix or a completion, then by likeness."""
    same_case = [candidate for candidate in keys if candidate.lower() == key.lower()]
    if same_case:
        return same_case[0]
    started = sorted((c for c in keys if c.startswith(key) or key.startswith(c)), key=lambda c: abs(len(c) - len(key)))
    if started:
        return started[0]
    lowered = {candidate.lower(): candidate for candidate in keys}
    alike = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[alike[0]] if alike else None


def _inside_data_prefix(where: Announcement, key: str) -> None:
    if not key.startswith(where.data_prefix):
        raise CommandError(
            f"s3://{where.bucket}/{key} is outside the data prefix {where.data_prefix!r}, which the "
            "trigger skips: nothing was sent"
        )


def _send(where: Announcement, versions: list[dict[str, Any]], kind: str, request: str | None) -> int:
    sqs = boto3.client("sqs")
    sent = 0
    for start in range(0, len(versions), BATCH):
        chunk = versions[start : start + BATCH]
        entries = [
            {"Id": str(n), "MessageBody": _run_request(where.bucket, v, kind, request)} for n, v in enumerate(chunk)
        ]
        response = sqs.send_message_batch(QueueUrl=where.queue_url, Entries=entries)  # type: ignore[arg-type]
        if response.get("Failed"):
            raise CommandError(f"the queue refused {len(response['Failed'])} message(s): {response['Failed'][0]}")
        sent += len(chunk)
        progress(kind, sent, len(versions))
    return sent


def _run_request(bucket: str, version: dict[str, Any], kind: str, request: str | None) -> str:
    """A run request for this object version: a backfill of it as S3 announced it (or would have), or
    a retrain of it under the request's id."""
    version_id = version.get("VersionId")
    listed = {
        "bucket": bucket,
        "key": version["Key"],
        "size": version["Size"],
        "eTag": version["ETag"].strip('"'),
        **({"versionId": version_id} if version_id and version_id != "null" else {}),
    }
    cause = f"{RETRAIN_REQUESTED.capitalize()} ({request})" if request else "Backfill"
    asked = {"kind": kind, "cause": cause, "requestedBy": _who(), "objects": [listed]}
    return json.dumps({"runRequests": [{**({"id": request} if request else {}), **asked}]})


def _who() -> str:
    """Who asked: the user on this machine (a hint: the queue's caller is the AWS identity)."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no user name in some containers
        user = "someone"
    return f"{user}@{socket.gethostname()}"[:256]


def progress(what: str, done: int, total: int) -> None:
    if sys.stderr.isatty() or done == total or done % 1000 == 0:
        print(f"\r{what}: {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)
