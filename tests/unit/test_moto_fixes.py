"""The emulator's speed fix to moto keeps what a failed DynamoDB transaction leaves behind."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.aws import REGION, create_scheduler_table

TABLE = "moto-fix-check"


def put(pk: str, condition: str | None = None) -> Any:
    request: dict[str, Any] = {"TableName": TABLE, "Item": {"pk": {"S": pk}, "sk": {"S": "x"}}}
    if condition:
        request["ConditionExpression"] = condition
    return {"Put": request}


def test_a_cancelled_transaction_writes_none_of_its_items_and_keeps_what_was_there(aws):
    create_scheduler_table(TABLE)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.transact_write_items(TransactItems=[put("kept-1"), put("kept-2")])

    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(
            TransactItems=[put(f"new-{n}") for n in range(60)] + [put("kept-1", "attribute_not_exists(pk)")]
        )

    keys = sorted(item["pk"]["S"] for item in dynamodb.scan(TableName=TABLE)["Items"])
    assert keys == ["kept-1", "kept-2"]
    # and the next transaction on the same table still applies in full
    dynamodb.transact_write_items(TransactItems=[put("after")])
    assert dynamodb.scan(TableName=TABLE, Select="COUNT")["Count"] == 3
