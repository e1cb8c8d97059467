"""Publish what a person reads to the SNS topic."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from trigger.notifications import Notification
from trigger.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


class NotificationTopic:
    """Publishes to one topic; with no topic configured it only logs."""

    def __init__(self, topic_arn: str, client: SNSClient | None) -> None:
        self._topic_arn = topic_arn
        self._client = client

    def publish(self, notification: Notification) -> str | None:
        """Publish; the message id, or None when there is no topic. Errors propagate."""
        if not self._topic_arn or self._client is None:
            logger.info("no notification topic configured", extra={"subject": notification.subject})
            return None
        response = self._client.publish(
            TopicArn=self._topic_arn, Subject=notification.subject, Message=notification.body
        )
        return str(response["MessageId"])

    def try_publish(self, notification: Notification) -> bool:
        """Publish and report whether it was sent.

        A notification is a courtesy to a person: failing to send one must not fail (and so
        repeat) the work it describes, so errors are logged, not raised.
        """
        try:
            return self.publish(notification) is not None
        except (BotoCoreError, ClientError):
            logger.exception("could not publish notification", extra={"subject": notification.subject})
            return False
