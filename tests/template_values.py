"""template.yaml as CloudFormation would deploy it for given parameter values (emulator/intrinsics.py
evaluates it), and the values the tests take from it."""

from __future__ import annotations

from typing import Any

from emulator.cloudformation import load_template, parameter_defaults
from emulator.intrinsics import Intrinsics, pseudo_parameters
from emulator.moto_server import ACCOUNT, REGION

__all__ = ["ACCOUNT", "DATA_PREFIX", "DEFAULTS", "MANIFEST_PREFIX", "REGION", "TEMPLATE"]


def parameter_values(template: dict[str, Any], **overrides: str) -> dict[str, str]:
    """The parameters' defaults with these overrides, and the pseudo parameters of the sample account."""
    return {**parameter_defaults(template), **overrides, **pseudo_parameters()}


TEMPLATE = load_template()
DEFAULTS = parameter_values(TEMPLATE)  # the parameters of a stack deployed with the defaults
DATA_PREFIX = DEFAULTS["DataPrefix"]  # where the uploads that start runs land
# where the trigger writes the manifest of a run over several uploads
MANIFEST_PREFIX = str(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["MANIFEST_PREFIX"])


def function_variables(template: dict[str, Any], function: str) -> dict[str, Any]:
    """A function's environment as SAM gives it: the Globals, then its own."""
    own = template["Resources"][function]["Properties"].get("Environment", {}).get("Variables", {})
    return {**template["Globals"]["Function"]["Environment"]["Variables"], **own}


def condition(template: dict[str, Any], name: str, values: dict[str, str]) -> bool:
    return Intrinsics(template, values).condition(name)


def resolve(node: Any, values: dict[str, str], template: dict[str, Any] | None = None) -> Any:
    """The fragment as CloudFormation would deploy it for these parameter values (with the template,
    Fn::If too); a Ref or GetAtt of a resource stays as written."""
    return Intrinsics(template or {}, values)(node)


def resources_for(template: dict[str, Any], values: dict[str, str]) -> set[str]:
    """Logical ids of the resources that exist for these parameter values."""
    return {
        name
        for name, resource in template["Resources"].items()
        if "Condition" not in resource or condition(template, resource["Condition"], values)
    }
