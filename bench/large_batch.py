"""P8: a 10,000-object batch through the trigger function with 10 ms of latency on every AWS call.

moto answers in this process; each call then waits 10 ms, as a call to DynamoDB, S3 or SageMaker
in the same region roughly does. The figure is the function's time without moto's own work:
our code, botocore, and the injected latency. Its baseline, measured in the same run, is the
latency alone (calls x 10 ms): the ratio is what the code adds on top of waiting for AWS.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.core.botocore_stubber import BotocoreStubber

from bench.figures import Figure
from bench.lambda_setup import upload_records
from bench.scheduler_calls import function_on_moto

OBJECTS = 10_000
LATENCY_SECONDS = 0.010
GOAL_SECONDS = 30.0  # the function's timeout is 300 s


class Timing:
    def __init__(self) -> None:
        self.calls = 0
        self.in_moto = 0.0


@contextmanager
def slow_aws(timing: Timing) -> Iterator[None]:
    """Each call answered by moto, timed, then delayed by LATENCY_SECONDS."""
    original = BotocoreStubber.__call__

    def answer(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        response = original(self, event_name, request, **kwargs)
        timing.in_moto += time.perf_counter() - started
        if response is not None:
            timing.calls += 1
            time.sleep(LATENCY_SECONDS)
        return response

    BotocoreStubber.__call__ = answer  # type: ignore[method-assign]
    try:
        yield
    finally:
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]


def measure() -> Figure:
    with function_on_moto():
        import app
        from emulator.lambda_context import LocalLambdaContext

        records = upload_records(OBJECTS)
        timing = Timing()
        with slow_aws(timing):
            started = time.perf_counter()
            response = app.lambda_handler({"Records": records}, LocalLambdaContext(timeout_seconds=900))
            elapsed = time.perf_counter() - started
    if response["batchItemFailures"]:
        raise RuntimeError(f"{len(response['batchItemFailures'])} records failed in the benchmark")
    ours = elapsed - timing.in_moto
    return Figure(
        name="P8",
        what=(
            f"seconds for a {OBJECTS:,}-object batch, {LATENCY_SECONDS * 1000:g} ms per AWS call "
            f"({timing.calls} calls), without moto's own time / the latency alone"
        ),
        value=ours,
        baseline=timing.calls * LATENCY_SECONDS,
        unit="s",
        goal=GOAL_SECONDS,
        goal_on="value",
    )


if __name__ == "__main__":
    print(json.dumps(measure().as_dict()))
