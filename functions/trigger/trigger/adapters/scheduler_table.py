"""The scheduler's DynamoDB table: item keys, (de)serialisation, and the calls the scheduler makes.

A write whose condition fails raises the project's WriteConflict, with one reason per item of a
transaction; every other error propagates.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from trigger.errors import WriteConflict

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_TRANSACTION_ITEMS = 100  # TransactWriteItems
MAX_BATCH_WRITE_ITEMS = 25  # BatchWriteItem
KEY_SCHEMA = [("pk", "HASH"), ("sk", "RANGE")]  # the template's SchedulerTable declares the same
TTL_ATTRIBUTE = "expires_at"  # DynamoDB deletes an item some time after this epoch second
_CONDITION_FAILED = frozenset({"TransactionCanceledException", "ConditionalCheckFailedException"})

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {name: to_value(value) for name, value in values.items() if value is not None}


def to_value(value: Any) -> dict[str, Any]:
    """DynamoDB's form of a value; floats go through Decimal, which is what boto3 accepts."""
    if isinstance(value, float):
        value = Decimal(repr(value))
    elif isinstance(value, dict):
        return {"M": to_item(value)}
    return dict(_serializer.serialize(value))


def to_values(values: dict[str, Any]) -> dict[str, Any]:
    """Expression attribute values in DynamoDB's form."""
    return {name: to_value(value) for name, value in values.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _conflict(error: ClientError) -> WriteConflict | None:
    if error.response.get("Error", {}).get("Code") not in _CONDITION_FAILED:
        return None
    reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons") or []]
    return WriteConflict(str(error), [None if code in (None, "None") else str(code) for code in reasons])


@contextmanager
def _conflicts() -> Iterator[None]:
    """A failed condition raised as WriteConflict; any other error as it was."""
    try:
        yield
    except ClientError as error:
        conflict = _conflict(error)
        if conflict is None:
            raise
        raise conflict from None


class SchedulerTable:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.name = table_name
        self._client = client

    def transact(self, items: Sequence[dict[str, Any]]) -> None:
        """Items written as one transaction (at most 100); WriteConflict if a condition failed."""
        with _conflicts():
            self._client.transact_write_items(TransactItems=list(items))  # type: ignore[arg-type]

    def put(self, item: dict[str, Any], **arguments: Any) -> None:
        """One conditional PutItem; WriteConflict if its condition failed."""
        with _conflicts():
            self._client.put_item(TableName=self.name, Item=item, **arguments)

    def update(self, item_key: dict[str, Any], **arguments: Any) -> None:
        """One conditional UpdateItem; WriteConflict if its condition failed."""
        with _conflicts():
            self._client.update_item(TableName=self.name, Key=item_key, **arguments)

    def get(self, item_key: dict[str, Any]) -> dict[str, Any] | None:
        item = self._client.get_item(TableName=self.name, Key=item_key, ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def delete_all(self, keys: Sequence[dict[str, Any]]) -> int:
        """Delete these items, 25 per BatchWriteItem (a deleted item stays deleted); returns the calls."""
        calls = 0
        requests: list[Any] = [{"DeleteRequest": {"Key": item_key}} for item_key in keys]
        while requests:
            chunk, requests = requests[:MAX_BATCH_WRITE_ITEMS], requests[MAX_BATCH_WRITE_ITEMS:]
            calls += 1
            response = self._client.batch_write_item(RequestItems={self.name: chunk})
            requests = list(response.get("UnprocessedItems", {}).get(self.name, [])) + requests
        return calls

    def count(self, pk: str) -> int:
        """How many items one partition holds (a counting query: one call per MB of items)."""
        arguments: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "Select": "COUNT",
        }
        total = 0
        while True:
            page = self._client.query(**arguments)
            total += int(page.get("Count", 0))
            if "LastEvaluatedKey" not in page:
                return total
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def query(self, pk: str, limit: int | None = None, **options: Any) -> Iterator[dict[str, Any]]:
        """The items of one partition in key order, read consistently, page by page."""
        arguments: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}, **options.pop("values", {})},
            "ConsistentRead": True,
            **options,
        }
        returned = 0
        while True:
            if limit is not None:
                arguments["Limit"] = limit - returned
            page = self._client.query(**arguments)
            for item in page.get("Items", []):
                returned += 1
                yield from_item(item)
            if "LastEvaluatedKey" not in page or (limit is not None and returned >= limit):
                return
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
