"""Write the manifest of a run that covers several uploads."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

from trigger.adapters import RETRYING_CLIENT_CONFIG
from trigger.planner import PipelineRun, manifest_documents

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class ManifestStore:
    def __init__(self, client: S3Client | None = None) -> None:
        self._client = client or boto3.client("s3", config=RETRYING_CLIENT_CONFIG)

    def write(self, run: PipelineRun) -> None:
        """Idempotent: the same run always writes the same bytes to the same keys."""
        if run.manifest_key is None:
            return
        bucket = run.objects[0].bucket
        folder = run.manifest_key.rsplit("/", 1)[0]
        for name, body in manifest_documents(run).items():
            self._client.put_object(
                Bucket=bucket, Key=f"{folder}/{name}", Body=body.encode("utf-8"), ContentType="application/json"
            )
