"""What a parser needs to know of the deployment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SourceContext:
    bucket: str  # the data bucket: a request that covers TrainingData's objects reads it
    retrain_topic_arn: str = ""  # the one SNS topic whose messages ask for a retrain (RetrainTopicArn)
    monitoring_schedule_arn: str = ""  # prod's data-quality schedule, whose violations ask for a retrain
    read_json: Callable[[str], Any] | None = None  # an S3 URI's JSON document (a monitoring execution's report)
