"""Publish human-readable notifications to the SNS topic."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from trigger.adapters import RETRYING_CLIENT_CONFIG
from trigger.messages import Notification
from trigger.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


class Notifier:
    """Publishes to one topic; with no topic configured it only logs."""

    def __init__(self, topic_arn: str, client: SNSClient | None = None) -> None:
        self._topic_arn = topic_arn
        self._client = client
        if topic_arn and client is None:
            self._client = boto3.client("sns", config=RETRYING_CLIENT_CONFIG)

    def publish(self, notification: Notification) -> bool:
        """Publish and report whether it was sent.

        A notification is a courtesy to a person: failing to send one must not fail (and so
        repeat) the work it describes, so errors are logged, not raised.
        """
        if not self._topic_arn or self._client is None:
            logger.debug("no notification topic configured", extra={"subject": notification.subject})
            return False
        try:
            self._client.publish(TopicArn=self._topic_arn, Subject=notification.subject, Message=notification.body)
        except (BotoCoreError, ClientError):
            logger.exception("could not publish notification", extra={"subject": notification.subject})
            return False
        return True
