"""The project's own errors: what the adapters raise instead of botocore's, so that the logic
layer decides on meaning ("try again later", "never") and not on AWS error codes."""

from __future__ import annotations


class StartDeferred(RuntimeError):
    """SageMaker did not start the run this time (throttled, a quota, a 5xx): the same run, with the
    same token, is tried again later."""


class StartRefused(RuntimeError):
    """SageMaker refused the run for good (a wrong parameter, no such pipeline, access denied): no
    retry will change that, so its uploads go to the dead-letter queue with this reason."""


class WriteConflict(RuntimeError):
    """A conditional write to the scheduler's table did not happen because its condition failed.

    ``reasons`` holds one code per item of a transaction (``ConditionalCheckFailed`` or ``None``),
    in the order the items were given; empty for a single conditional write.
    """

    def __init__(self, message: str, reasons: list[str | None] | None = None) -> None:
        super().__init__(message)
        self.reasons = reasons or []


class DeployFailed(RuntimeError):
    """A deployment step SageMaker refused or could not do (the model, the endpoint, an invocation):
    the stage keeps serving what it served, and a person is told this reason."""
