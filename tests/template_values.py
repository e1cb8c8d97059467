"""Evaluate the parts of template.yaml that CloudFormation evaluates at deploy time, for given parameters."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from emulator.cloudformation import load_template

ACCOUNT = "123456789012"
REGION = "us-east-1"


def parameter_values(template: dict[str, Any], **overrides: str) -> dict[str, str]:
    values = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
    values.update(overrides)
    values.update({"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws"})
    return values


TEMPLATE = load_template()
DATA_PREFIX = str(TEMPLATE["Parameters"]["DataPrefix"]["Default"])  # where the uploads that start runs land
# where the trigger writes the manifest of a run over several uploads
MANIFEST_PREFIX = str(
    TEMPLATE["Resources"]["TriggerFunction"]["Properties"]["Environment"]["Variables"]["MANIFEST_PREFIX"]
)


def condition(template: dict[str, Any], name: str, values: dict[str, str]) -> bool:
    return bool(_evaluate(template["Conditions"][name], template, values))


def _evaluate(node: Any, template: dict[str, Any], values: dict[str, str]) -> Any:
    if not (isinstance(node, dict) and len(node) == 1):
        return node
    [(function, argument)] = node.items()

    def each(items: list[Any]) -> list[Any]:
        return [_evaluate(item, template, values) for item in items]

    functions: dict[str, Callable[[], Any]] = {
        "Ref": lambda: values[argument],
        "Fn::Equals": lambda: each(argument)[0] == each(argument)[1],
        "Fn::Or": lambda: any(each(argument)),
        "Fn::And": lambda: all(each(argument)),
        "Fn::Not": lambda: not each(argument)[0],
        "Condition": lambda: condition(template, argument, values),
    }
    return functions[function]() if function in functions else node


def resolve(node: Any, values: dict[str, str], template: dict[str, Any] | None = None) -> Any:
    """Replace Ref and Sub (over parameters and pseudo parameters) in a template fragment; with the
    template, Fn::If too."""
    if isinstance(node, list):
        return [resolve(item, values, template) for item in node]
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] in values:
            return values[node["Ref"]]
        if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
            return re.sub(r"\$\{([^}]+)\}", lambda match: values[match.group(1)], node["Fn::Sub"])
        if set(node) == {"Fn::If"} and template is not None:
            name, when_true, when_false = node["Fn::If"]
            return resolve(when_true if condition(template, name, values) else when_false, values, template)
        return {key: resolve(value, values, template) for key, value in node.items()}
    return node


def resources_for(template: dict[str, Any], values: dict[str, str]) -> set[str]:
    """Logical ids of the resources that exist for these parameter values."""
    return {
        name
        for name, resource in template["Resources"].items()
        if "Condition" not in resource or condition(template, resource["Condition"], values)
    }
