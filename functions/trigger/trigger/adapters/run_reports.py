"""Read the reports a run wrote to S3 (data_report.json, evaluation.json), if it wrote them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from trigger.run_reports import DATA_REPORT, EVALUATION, RunReports

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class RunReportReader:
    def __init__(self, s3: S3Client, bucket: str, runs_prefix: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._runs_prefix = runs_prefix

    def read(self, execution_arn: str) -> RunReports:
        """A foreign pipeline writes neither: both are then None."""
        if not self._bucket:
            return RunReports(None, None)
        folder = f"{self._runs_prefix}{execution_arn.rsplit('/', 1)[-1]}/"
        return RunReports(
            self._json(folder + DATA_REPORT), self._json(folder + EVALUATION), f"s3://{self._bucket}/{folder}"
        )

    def _json(self, key: str) -> dict[str, Any] | None:
        """A report, or None where the run did not get that far (or wrote something unreadable)."""
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise
        try:
            document = json.loads(body)
        except ValueError:
            return None
        return document if isinstance(document, dict) else None
