"""The stack's CloudWatch alarms, evaluated on this machine as CloudWatch evaluates them.

moto stores alarms and metric data but evaluates no alarm, runs no alarm action, and publishes none
of the metrics AWS services publish by themselves. Here, for the alarms on metrics that exist
locally:

- The metrics AWS publishes are published: SQS's `ApproximateNumberOfMessagesVisible` of each queue
  an alarm watches (SQS sends it every minute: "Available CloudWatch metrics for Amazon SQS"), and
  Lambda's `Errors` of a function, one for each failed invocation of the local event source
  (emulator/event_source.py; "Monitoring functions", invocation metrics).
- Each alarm is evaluated as the CloudWatch user guide's "Evaluating an alarm" says: the statistic
  of each of the last `EvaluationPeriods` periods of `Period` seconds, compared with `Threshold` by
  `ComparisonOperator`; ALARM when `DatapointsToAlarm` of them (default: all `EvaluationPeriods`)
  breach; a period without data counts as `TreatMissingData` says (`missing`, `ignore`: no change
  if every period is missing; `notBreaching`, `breaching`).
- A change of state runs the new state's actions: each SNS topic among `AlarmActions` (ALARM),
  `OKActions` (OK) or `InsufficientDataActions` gets CloudWatch's message: the subject
  `ALARM: "<name>" in <region's name>`, and a JSON body with `AlarmName`, `AlarmDescription`,
  `AWSAccountId`, `NewStateValue`, `NewStateReason`, `StateChangeTime`, `Region`, `OldStateValue` and
  the `Trigger` ("Using Amazon CloudWatch alarms", notifications).

Alarms on other namespaces (the functions' own metrics, which Powertools writes in its log format
and only CloudWatch Logs turns into metrics; the endpoints' invocation metrics) are left as they
are: nothing here knows their values.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from emulator.moto_server import ACCOUNT, REGION

SQS_NAMESPACE, LAMBDA_NAMESPACE = "AWS/SQS", "AWS/Lambda"
PUBLISHED_HERE = {SQS_NAMESPACE, LAMBDA_NAMESPACE}
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": operator.ge,
    "GreaterThanThreshold": operator.gt,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
REGION_NAMES = {"us-east-1": "US East (N. Virginia)"}  # as CloudWatch names the region in a subject


def publish_function_error(function_name: str) -> None:
    """Lambda's Errors metric: one failed invocation of the function."""
    boto3.client("cloudwatch", region_name=REGION).put_metric_data(
        Namespace=LAMBDA_NAMESPACE,
        MetricData=[
            {"MetricName": "Errors", "Dimensions": [{"Name": "FunctionName", "Value": function_name}], "Value": 1.0}
        ],
    )


def evaluate_alarms(now: datetime | None = None) -> list[str]:
    """Publish the queues' depths, evaluate every alarm on a metric published here, run the actions
    of each change; the names of the alarms that changed state."""
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    alarms = [
        alarm
        for page in cloudwatch.get_paginator("describe_alarms").paginate()
        for alarm in page["MetricAlarms"]
        if alarm.get("Namespace") in PUBLISHED_HERE
    ]
    _publish_queue_depths(cloudwatch, alarms)
    now = now or datetime.now(UTC)  # after publishing: a slow server must not leave the depths outside the period
    changed = []
    for alarm in alarms:
        state, reason = _state_of(cloudwatch, alarm, now)
        if state is None or state == alarm["StateValue"]:
            continue
        cloudwatch.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue=state, StateReason=reason)
        _run_actions(alarm, state, reason, now)
        changed.append(alarm["AlarmName"])
    return changed


def _publish_queue_depths(cloudwatch: Any, alarms: list[dict[str, Any]]) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    queues = {
        dimension["Value"]
        for alarm in alarms
        if alarm["Namespace"] == SQS_NAMESPACE and alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        for dimension in alarm.get("Dimensions", [])
        if dimension["Name"] == "QueueName"
    }
    for queue in sorted(queues):
        try:
            url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            continue
        visible = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        cloudwatch.put_metric_data(
            Namespace=SQS_NAMESPACE,
            MetricData=[
                {
                    "MetricName": "ApproximateNumberOfMessagesVisible",
                    "Dimensions": [{"Name": "QueueName", "Value": queue}],
                    "Value": float(visible["Attributes"]["ApproximateNumberOfMessages"]),
                }
            ],
        )


def _state_of(cloudwatch: Any, alarm: dict[str, Any], now: datetime) -> tuple[str | None, str]:
    """The state the last periods give (None: no change, as `ignore` with no data), and why."""
    period, count = int(alarm["Period"]), int(alarm["EvaluationPeriods"])
    values = _period_values(cloudwatch, alarm, now, period, count, alarm["Statistic"])
    treat = alarm.get("TreatMissingData", "missing")
    present = [value for value in values if value is not None]
    if not present and treat in ("missing", "ignore"):
        return (None, "") if treat == "ignore" else ("INSUFFICIENT_DATA", "Insufficient Data: no datapoints")
    compare, threshold = COMPARISONS[alarm["ComparisonOperator"]], float(alarm["Threshold"])
    breaches = sum(1 for value in present if compare(value, threshold))
    if treat == "breaching":
        breaches += len(values) - len(present)
    state = "ALARM" if breaches >= int(alarm.get("DatapointsToAlarm") or count) else "OK"
    verb = "was" if state == "ALARM" else "was not"
    return (
        state,
        f"Threshold Crossed: datapoints {present} {verb} {alarm['ComparisonOperator']} the threshold ({threshold:g})",
    )


def _period_values(  # noqa: PLR0917 - the alarm's own settings
    cloudwatch: Any, alarm: dict[str, Any], now: datetime, period: int, count: int, statistic: str
) -> list[float | None]:
    """The statistic of each of the last ``count`` periods ending now, oldest first (None: no data)."""
    values: list[float | None] = []
    end = now + timedelta(seconds=1)  # a datapoint put this very second counts
    for index in range(count, 0, -1):
        start = end - timedelta(seconds=period * index)
        datapoints = cloudwatch.get_metric_statistics(
            Namespace=alarm["Namespace"],
            MetricName=alarm["MetricName"],
            Dimensions=alarm.get("Dimensions", []),
            StartTime=start,
            EndTime=start + timedelta(seconds=period),
            Period=period,
            Statistics=[statistic],
        )["Datapoints"]
        found = [float(point[statistic]) for point in datapoints if statistic in point]
        if not found:
            values.append(None)
        else:
            values.append(sum(found) if statistic in ("Sum", "SampleCount") else max(found))
    return values


def _run_actions(alarm: dict[str, Any], state: str, reason: str, now: datetime) -> None:
    actions = {"ALARM": "AlarmActions", "OK": "OKActions", "INSUFFICIENT_DATA": "InsufficientDataActions"}[state]
    topics = [arn for arn in alarm.get(actions, []) if arn.startswith("arn:aws:sns:")]
    if not topics:
        return
    message = {
        "AlarmName": alarm["AlarmName"],
        "AlarmDescription": alarm.get("AlarmDescription"),
        "AWSAccountId": ACCOUNT,
        "NewStateValue": state,
        "NewStateReason": reason,
        "StateChangeTime": now.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "Region": REGION_NAMES.get(REGION, REGION),
        "AlarmArn": alarm["AlarmArn"],
        "OldStateValue": alarm["StateValue"],
        "Trigger": {
            "MetricName": alarm["MetricName"],
            "Namespace": alarm["Namespace"],
            "Statistic": alarm["Statistic"].upper(),
            "Dimensions": [{"name": d["Name"], "value": d["Value"]} for d in alarm.get("Dimensions", [])],
            "Period": alarm["Period"],
            "EvaluationPeriods": alarm["EvaluationPeriods"],
            "ComparisonOperator": alarm["ComparisonOperator"],
            "Threshold": alarm["Threshold"],
            "TreatMissingData": alarm.get("TreatMissingData", "missing"),
        },
    }
    sns = boto3.client("sns", region_name=REGION)
    subject = f'{state}: "{alarm["AlarmName"]}" in {REGION_NAMES.get(REGION, REGION)}'[:100]
    for topic in topics:
        sns.publish(TopicArn=topic, Subject=subject, Message=json.dumps(message))
