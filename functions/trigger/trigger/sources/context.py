"""What a parser needs to know of the deployment."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceContext:
    bucket: str  # the data bucket: a request that covers TrainingData's objects reads it
    retrain_topic_arn: str = ""  # the one SNS topic whose messages ask for a retrain (RetrainTopicArn)
