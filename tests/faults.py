"""Fault injection for tests: AWS error responses in front of moto, through botocore's event hooks.

On one client, moto's request handler is wrapped: chosen calls are answered with an AWS error
(throttling, 5xx, ...) before moto sees them, every other call goes to moto as usual. The client's
real retry machinery handles the errors; backoff sleeps are recorded instead of slept.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

import botocore.endpoint
from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber


@dataclass
class FaultLog:
    attempts: int = 0
    injected: int = 0
    sleeps: list[float] = field(default_factory=list)


def json_error(code: str, status: int, message: str = "injected fault") -> Callable[[Any], AWSResponse]:
    """An error in the JSON protocol (SageMaker, DynamoDB, SQS, ...)."""

    def respond(request: Any) -> AWSResponse:
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-query-error": f"{code};Sender"}
        return AWSResponse(request.url, status, headers, MockRawResponse(body))  # type: ignore[arg-type]

    return respond


def query_error(code: str, status: int, message: str = "injected fault") -> Callable[[Any], AWSResponse]:
    """An error in the query protocol (SNS): XML."""

    def respond(request: Any) -> AWSResponse:
        body = (
            "<ErrorResponse><Error><Type>Receiver</Type>"
            f"<Code>{code}</Code><Message>{message}</Message></Error>"
            "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
        ).encode()
        return AWSResponse(request.url, status, {"Content-Type": "text/xml"}, MockRawResponse(body))  # type: ignore[arg-type]

    return respond


@contextmanager
def inject_faults(
    client: Any,
    operation: str,
    respond: Callable[[Any], AWSResponse],
    should_fail: Callable[[int], bool] = lambda attempt: True,
) -> Iterator[FaultLog]:
    """Answer ``operation`` calls on ``client`` with ``respond`` whenever ``should_fail(n)``."""
    log = FaultLog()

    def handler(event_name: str, request: Any, **kwargs: Any) -> AWSResponse | None:
        if event_name.endswith(f".{operation}"):
            log.attempts += 1
            if should_fail(log.attempts):
                log.injected += 1
                return respond(request)
        return botocore_stubber(event_name, request, **kwargs)

    events = client.meta.events
    events.unregister("before-send", botocore_stubber)
    events.register("before-send", handler)
    # botocore sleeps between attempts with endpoint.py's `time.sleep`: that one alone records.
    recording_time = SimpleNamespace(sleep=log.sleeps.append)
    try:
        with patch.object(botocore.endpoint, "time", recording_time):
            yield log
    finally:
        events.unregister("before-send", handler)
        events.register("before-send", botocore_stubber)


class Crash(RuntimeError):
    """The function died here (a timeout, out of memory): nothing after this point ran."""


@contextmanager
def crash_once(client: Any, operation: str, nth: int = 1, *, after: bool = False) -> Iterator[None]:
    """The ``nth`` ``operation`` call on ``client`` dies once: before the call reaches AWS, or (``after``)
    once AWS has done it but before the caller learns the answer."""
    calls = {"n": 0}
    event = f"{'after' if after else 'before'}-call.{client.meta.service_model.service_name}.{operation}"

    def die(**_: Any) -> None:
        calls["n"] += 1
        if calls["n"] == nth:
            raise Crash(f"{operation} #{nth}{' (after)' if after else ''}")

    client.meta.events.register(event, die)
    try:
        yield
    finally:
        client.meta.events.unregister(event, die)


@contextmanager
def requests_of(client: Any, operation: str) -> Iterator[list[dict[str, Any]]]:
    """Every request of ``operation`` the client sends (its parameters, as given), retries and crashed
    calls included: what SageMaker would have been asked, where moto's answer cannot tell (it ignores
    ClientRequestToken)."""
    sent: list[dict[str, Any]] = []
    event = f"provide-client-params.{client.meta.service_model.service_name}.{operation}"

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(dict(params))

    client.meta.events.register(event, record)
    try:
        yield sent
    finally:
        client.meta.events.unregister(event, record)
