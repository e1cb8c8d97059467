"""The reports a run writes to S3 (data_report.json, evaluation.json): what it trained and how it scored."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Where the pipeline's Preprocess and Evaluate steps write them, under the run's own folder.
DATA_REPORT = "report/data_report.json"
EVALUATION = "evaluation/evaluation.json"


@dataclass(frozen=True)
class RunReports:
    data_report: dict[str, Any] | None
    evaluation: dict[str, Any] | None

    @property
    def refusal(self) -> str | None:
        """Why the data could not train a model, or why the model was not good enough."""
        if self.data_report and self.data_report.get("accepted") is False:
            return f"the data was refused: {self.data_report.get('reason')}"
        gate = (self.evaluation or {}).get("gate") or {}
        if gate.get("passed") is False:
            return str(gate.get("reason"))
        return None


class RunReportReader:
    def __init__(self, s3: S3Client, bucket: str, runs_prefix: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._runs_prefix = runs_prefix

    def read(self, execution_arn: str) -> RunReports:
        folder = f"{self._runs_prefix}{execution_arn.rsplit('/', 1)[-1]}/"
        return RunReports(self._json(folder + DATA_REPORT), self._json(folder + EVALUATION))

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
