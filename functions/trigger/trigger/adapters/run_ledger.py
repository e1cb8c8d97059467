"""Exactly one run per object version, remembered in DynamoDB with Powertools Idempotency.

Two records, both Powertools idempotency records in the same table:

- a claim per object version (bucket + key + version id, or sequencer/ETag when unversioned):
  the first batch that sees the object assigns it to its run and remembers which; later
  deliveries of the object (SQS redelivery, a duplicate notification, a replay) get that same
  run back instead of a new one;
- a record per run (its ClientRequestToken): the first call starts it and remembers the
  execution ARN; asking again returns that ARN without calling SageMaker.

A crash after the run started but before the messages were deleted therefore starts nothing new.
If a start fails, its record is removed (Powertools does so on an exception) and the next
delivery starts the same run, with the same token, again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyItemNotFoundError
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS
from aws_lambda_powertools.utilities.typing import LambdaContext

from trigger.adapters import RETRYING_CLIENT_CONFIG
from trigger.planner import PipelineRun, UploadedObject

# How long an object version is remembered: replays within this window start nothing new.
CLAIM_DAYS = 30
CLAIM_PREFIX = "retrain-trigger.object"


class ObjectInProgress(RuntimeError):
    """Another invocation is assigning this object right now; its message is retried later."""


class RunLedger:
    def __init__(self, table_name: str, start: Callable[[dict[str, Any]], str]) -> None:
        """``start`` starts the run described by a run record and returns its execution ARN."""
        self._claim_config = IdempotencyConfig(
            event_key_jmespath="[bucket, key, version]",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=CLAIM_DAYS * 24 * 3600,
        )
        self._run_config = IdempotencyConfig(
            event_key_jmespath="client_request_token",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=CLAIM_DAYS * 24 * 3600,
        )

        def claim(obj: dict[str, str], run: dict[str, Any]) -> dict[str, Any]:
            return run

        def start_run(run: dict[str, Any]) -> dict[str, str]:
            return {"execution_arn": start(run)}

        # One persistence layer per idempotent function: each is configured with its own config.
        self._claims = DynamoDBPersistenceLayer(table_name=table_name, boto_config=RETRYING_CLIENT_CONFIG)
        self._claims.configure(self._claim_config, key_prefix=CLAIM_PREFIX)
        self._claim = idempotent_function(
            data_keyword_argument="obj",
            config=self._claim_config,
            persistence_store=self._claims,
            key_prefix=CLAIM_PREFIX,
        )(claim)
        self._runs = DynamoDBPersistenceLayer(table_name=table_name, boto_config=RETRYING_CLIENT_CONFIG)
        self._start_run = idempotent_function(
            data_keyword_argument="run",
            config=self._run_config,
            persistence_store=self._runs,
            key_prefix="retrain-trigger.run",
        )(start_run)

    def register_lambda_context(self, context: LambdaContext) -> None:
        """In-progress records expire with the invocation, so a crashed one can be retried."""
        self._claim_config.register_lambda_context(context)
        self._run_config.register_lambda_context(context)

    def assigned_run(self, obj: UploadedObject) -> dict[str, Any] | None:
        """The run this object was already given, or None if it was never seen."""
        try:
            record = self._claims.get_record(data=obj.identity)
        except IdempotencyItemNotFoundError:
            return None
        if record is None:
            return None
        if record.status != STATUS_CONSTANTS["COMPLETED"]:
            raise ObjectInProgress(f"{obj.uri} is being assigned by another invocation")
        return record.response_json_as_dict()

    def claim(self, obj: UploadedObject, run: PipelineRun) -> dict[str, Any]:
        """The run this object belongs to: ``run`` if it is new, else the run it was first given."""
        result: dict[str, Any] = self._claim(obj=obj.identity, run=run.as_record())
        return result

    def ensure_started(self, run: dict[str, Any]) -> str:
        """Start the run unless it already started; return its execution ARN either way."""
        return str(self._start_run(run=run)["execution_arn"])
