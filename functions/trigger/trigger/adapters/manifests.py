"""Write the manifest of a run that has one (S3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trigger.runs import PipelineRun, manifest_documents

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class ManifestStore:
    def __init__(self, client: S3Client) -> None:
        self._client = client

    def write(self, run: PipelineRun) -> None:
        """Idempotent: the same run always writes the same bytes to the same keys."""
        if run.manifest_key is None:
            return
        folder = run.manifest_key.rsplit("/", 1)[0]
        for name, body in manifest_documents(run).items():
            self._client.put_object(
                Bucket=run.bucket, Key=f"{folder}/{name}", Body=body.encode("utf-8"), ContentType="application/json"
            )
