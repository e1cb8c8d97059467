"""SNS messages (SNS -> SQS, not raw): a message on the topic RetrainTopicArn names ("data ready",
from another team's job) asks for a run on TrainingData's objects; one whose Message is an S3 event
notification (S3 -> SNS -> SQS fan-out) is those uploads. Its MessageId is the request's id, so a
redelivery asks for nothing new. (Amazon SNS developer guide, "Amazon SNS message and JSON formats".)"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from trigger.run_requests import RunRequest, Unreadable, cause_text, read_as, request_id_of
from trigger.sources import s3_notification

if TYPE_CHECKING:
    from trigger.sources import Parsed
    from trigger.sources.context import SourceContext


class SnsEnvelope(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"] = Field(alias="Type")
    message_id: str = Field(alias="MessageId", min_length=1, max_length=128)
    topic_arn: str = Field(alias="TopicArn", pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$")
    subject: str | None = Field(default=None, alias="Subject")
    message: str = Field(default="", alias="Message")


def claims(document: Any) -> bool:
    return isinstance(document, dict) and "TopicArn" in document and "Type" in document


def parse(document: Any, context: SourceContext) -> Parsed:
    from trigger.sources import Parsed

    envelope = read_as(SnsEnvelope, document, "an SNS message")
    if envelope.type == "SubscriptionConfirmation":  # a subscription the topic's owner made: confirm it there
        subscribe = document.get("SubscribeURL", "its SubscribeURL")
        return Parsed(
            acknowledged=f"SNS SubscriptionConfirmation from {envelope.topic_arn}: to confirm, open {subscribe}"
        )
    if envelope.type != "Notification":
        return Parsed(acknowledged=f"SNS {envelope.type} from {envelope.topic_arn}: nothing to run")
    inner = _json(envelope.message)
    if s3_notification.claims(inner) and _of_the_data_bucket(inner, context):  # S3 -> SNS -> SQS: the uploads
        return s3_notification.parse(inner, context)
    if envelope.topic_arn != context.retrain_topic_arn:
        named = context.retrain_topic_arn or "no topic"
        raise Unreadable(f"a message from {envelope.topic_arn}, but RetrainTopicArn names {named}: not for this stack")
    topic = envelope.topic_arn.rsplit(":", 1)[-1]
    said = envelope.subject or envelope.message
    cause = cause_text(f"Data ready: {topic} ({said[:120]})" if said.strip() else f"Data ready: {topic}")
    request = RunRequest("message", request_id_of(envelope.message_id), cause, requested_by=envelope.topic_arn)
    return Parsed([request])


def _of_the_data_bucket(notification: dict[str, Any], context: SourceContext) -> bool:
    """Every record names the data bucket (a test event has no records). Another bucket's notification
    through the retrain topic is that topic's message: a request on TrainingData's objects."""
    records = notification.get("Records")
    if not isinstance(records, list):
        return True
    names = [((r.get("s3") or {}).get("bucket") or {}).get("name") for r in records if isinstance(r, dict)]
    return all(name == context.bucket for name in names)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
