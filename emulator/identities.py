"""Identities that hold exactly what a role of the local stack grants, for moto's IAM enforcement.

Lambda runs a function as its role. Locally, a function's clients sign as an IAM user that holds
the role's inline policies, read back from the stack, so that with enforcement on (moto's
`enable_iam_authentication`) a permission the template does not grant is refused, as on AWS.
moto's policy evaluation differs from IAM's in ways listed in `EVALUATION_GAPS`; the user's
policies are adjusted for exactly those, and nothing else.
"""

from __future__ import annotations

import importlib
import json
import os
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import boto3
from moto.core.authorization import enable_iam_authentication

from emulator.moto_server import REGION

# Services for which moto checks a request against Resource "*" instead of the resource's ARN.
STAR_RESOURCE_SERVICES = ("dynamodb", "sagemaker", "sns", "kms", "logs", "xray", "events", "scheduler")
# Needed by moto, implied on AWS: IAM authorises TransactWriteItems by its items' own actions.
TRANSACTION_NEEDS = {"dynamodb:PutItem", "dynamodb:UpdateItem"}

EVALUATION_GAPS = {
    "resource-level permissions for DynamoDB, SageMaker, SNS, KMS, Logs, X-Ray, EventBridge, Scheduler": "moto "
    "checks these "
    "requests against Resource `*`: the local identities hold those statements' actions on `*`, so "
    "the actions are proven, not the ARNs (the unit tests check that each statement names its ARN)",
    "resource-level permissions for S3 and SQS": "checked by moto against the object's and the queue's ARN, as on AWS",
    "DynamoDB transactions": "moto asks for `dynamodb:TransactWriteItems`, which IAM does not have "
    "(it checks each item's action): a local identity gets it where the role grants PutItem and UpdateItem",
    "conditions, permission boundaries, resource policies, KMS key policies, iam:PassRole": "not evaluated by moto",
}


def policies_as_moto_evaluates(document: dict[str, Any]) -> dict[str, Any]:
    statements = []
    for statement in document["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        star = all(action.split(":", 1)[0] in STAR_RESOURCE_SERVICES for action in actions)
        statements.append({**statement, "Resource": "*"} if star else statement)
        if set(actions) >= TRANSACTION_NEEDS:
            statements.append({"Effect": "Allow", "Action": "dynamodb:TransactWriteItems", "Resource": "*"})
    return {**document, "Statement": statements}


def role_policies(role_name: str) -> dict[str, dict[str, Any]]:
    """The role's inline policies as the stack created them (moto returns them URL-encoded)."""
    iam = boto3.client("iam", region_name=REGION)
    found: dict[str, dict[str, Any]] = {}
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        found[name] = dict(document) if isinstance(document, dict) else json.loads(urllib.parse.unquote(document))
    return found


def create_identity(user_name: str, policies: dict[str, dict[str, Any]]) -> dict[str, str]:
    """An IAM user holding these policies; returns its credentials as environment variables."""
    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName=user_name)
    for name, document in policies.items():
        iam.put_user_policy(
            UserName=user_name, PolicyName=name, PolicyDocument=json.dumps(policies_as_moto_evaluates(document))
        )
    key = iam.create_access_key(UserName=user_name)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


ADMINISTRATOR = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@contextmanager
def signing_as(credentials: dict[str, str]) -> Iterator[None]:
    """Clients created inside sign with these credentials (the default session is made anew)."""
    saved = {name: os.environ.get(name) for name in (*credentials, "AWS_SESSION_TOKEN")}
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.update(credentials)
    boto3.setup_default_session()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        boto3.setup_default_session()


@contextmanager
def functions_as_their_roles(stack: Any, without: tuple[str, str] | None = None) -> Iterator[dict[str, ModuleType]]:
    """Every function of the stack imported with its environment, its clients signing as its role;
    everything else in this process signs as an administrator; moto's IAM enforcement on.

    ``without`` = (function, statement Sid) leaves that statement out of the function's role.
    Yields the functions' handler modules by module name (`app`, `run_ended`, `sweep`).
    """
    resources = stack.translated["Resources"]
    administrator = create_identity("harness", {"all": ADMINISTRATOR})
    prepared = []
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function" or name not in stack.physical:
            continue  # a function whose Condition is false (DeployFunction without Deployment) is absent
        properties = resource["Properties"]
        policies = role_policies(stack.physical[properties["Role"]["Fn::GetAtt"][0]])
        if without and without[0] == name:
            for document in policies.values():
                document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != without[1]]
        module = properties["Handler"].split(".", 1)[0]
        prepared.append((module, create_identity(f"{name}-as-its-role", policies), stack.function_environment(name)))
    with enable_iam_authentication(), signing_as(administrator):
        modules = {}
        for module, identity, environment in prepared:
            os.environ.update(environment)
            with signing_as(identity):
                modules[module] = importlib.reload(importlib.import_module(module))
        yield modules
