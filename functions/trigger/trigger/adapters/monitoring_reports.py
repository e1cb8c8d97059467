"""A monitoring execution's report (its constraint_violations.json) in S3: the only code the trigger
uses to read one. An error is raised as it is: the message goes back to the queue and is tried
again, and ends in the DLQ after MaxReceiveCount (nothing is dropped)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class MonitoringReports:
    def __init__(self, s3: S3Client) -> None:
        self._s3 = s3

    def read(self, uri: str) -> Any:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return json.loads(self._s3.get_object(Bucket=bucket, Key=key)["Body"].read())
