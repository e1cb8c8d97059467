"""CloudFormation's intrinsic functions, evaluated as CloudFormation would at deploy time.

One evaluator for two uses: the tests evaluate template.yaml for given parameter values (a Ref or
GetAtt of a resource then stays as written), and the local stack evaluates the translated template
against the stack moto created (names and ARNs of its resources included).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from emulator.moto_server import ACCOUNT, REGION


def pseudo_parameters(stack_name: str | None = None) -> dict[str, str]:
    """What CloudFormation gives every template in moto's account and region."""
    values = {
        "AWS::AccountId": ACCOUNT,
        "AWS::Region": REGION,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }
    return values if stack_name is None else {**values, "AWS::StackName": stack_name}


class _NoValue:
    """AWS::NoValue: the property or list item is left out."""


NO_VALUE = _NoValue()

# (logical id, attribute) -> value, or None when it cannot be known
Attributes = Callable[[str, str], Any]


class Intrinsics:
    """Evaluates Ref, Fn::Sub, Fn::If, Fn::Join, Fn::GetAtt, Fn::FindInMap and conditions in a template.

    ``values`` holds the parameters and pseudo parameters (and, optionally, a value for a logical id);
    ``physical`` the physical ids of created resources; ``attribute`` answers Fn::GetAtt. What none of
    them knows stays as written.
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        values: Mapping[str, str],
        physical: Mapping[str, str] | None = None,
        attribute: Attributes | None = None,
    ) -> None:
        self._conditions = template.get("Conditions", {})
        self._mappings = template.get("Mappings", {})
        self._values = values
        self._physical = physical or {}
        self._attribute = attribute or (lambda logical_id, name: None)

    def __call__(self, node: Any) -> Any:
        if isinstance(node, list):
            return [item for item in (self(entry) for entry in node) if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            [(function, argument)] = node.items()
            functions: dict[str, Callable[[Any], Any]] = {
                "Ref": self._ref,
                "Fn::GetAtt": self._get_att,
                "Fn::Sub": self._sub,
                "Fn::If": self._if,
                "Fn::Join": self._join,
                "Fn::FindInMap": self._find_in_map,
            }
            if function in functions:
                return functions[function](argument)
        resolved = {key: self(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}

    def condition(self, name: str) -> bool:
        return bool(self._evaluate(self._conditions[name]))

    def _evaluate(self, node: Any) -> Any:
        if not (isinstance(node, dict) and len(node) == 1):
            return node
        [(function, argument)] = node.items()
        operators: dict[str, Callable[[], Any]] = {
            "Fn::Equals": lambda: str(self._evaluate(self(argument[0]))) == str(self._evaluate(self(argument[1]))),
            "Fn::Not": lambda: not self._evaluate(argument[0]),
            "Fn::Or": lambda: any(self._evaluate(item) for item in argument),
            "Fn::And": lambda: all(self._evaluate(item) for item in argument),
            "Condition": lambda: self.condition(argument),
        }
        return operators[function]() if function in operators else self(node)

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self._values:
            return self._values[name]
        return self._physical.get(name, {"Ref": name})

    def _get_att(self, argument: Any) -> Any:
        logical_id, name = argument.split(".", 1) if isinstance(argument, str) else argument
        value = self._attribute(logical_id, name) if logical_id in self._physical else None
        return {"Fn::GetAtt": argument} if value is None else value

    def _join(self, argument: list[Any]) -> Any:
        delimiter, parts = argument
        values = [self(part) for part in parts]
        if any(isinstance(value, dict) for value in values):  # not known here: stays as written
            return {"Fn::Join": argument}
        return delimiter.join(str(value) for value in values)

    def _find_in_map(self, argument: list[Any]) -> Any:
        keys = [self(part) for part in argument]
        if any(isinstance(key, dict) for key in keys):  # not known here: stays as written
            return {"Fn::FindInMap": argument}
        mapping, first, second = keys
        return self._mappings[mapping][first][second]

    def _if(self, argument: list[Any]) -> Any:
        name, when_true, when_false = argument
        return self(when_true if self.condition(name) else when_false)

    def _sub(self, argument: Any) -> Any:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        unknown = False

        def value(match: re.Match[str]) -> str:
            nonlocal unknown
            token = match.group(1)
            if token in variables:
                resolved = self(variables[token])
            elif "." in token:
                resolved = self._get_att(token)
            else:
                resolved = self._ref(token)
            if isinstance(resolved, dict):  # not known here: the whole Sub stays as written
                unknown = True
                return match.group(0)
            return str(resolved)

        substituted = re.sub(r"\$\{([^}!]+)\}", value, text)
        return {"Fn::Sub": argument} if unknown else substituted
