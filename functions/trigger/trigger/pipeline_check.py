"""Does the mapping fit the pipeline? Checked against the pipeline's own definition before the
first start (once per container while it passes) and by `retrain-trigger check`, so a wrong
mapping never starts a run that trains on the pipeline's defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from trigger.errors import StartRefused
from trigger.parameter_mapping import ParameterMapping

NUMERIC_PLACEHOLDERS = frozenset({"object_count", "input_bytes"})


@dataclass(frozen=True)
class DeclaredParameter:
    name: str
    type: str  # String, Integer, Float or Boolean
    default: Any = None

    @classmethod
    def from_definition(cls, declared: dict[str, Any]) -> DeclaredParameter:
        return cls(str(declared["Name"]), str(declared.get("Type", "String")), declared.get("DefaultValue"))

    def __str__(self) -> str:
        default = "no default" if self.default is None else f"default {self.default!r}"
        return f"{self.name} ({self.type}, {default})"


def problems_of(mapping: ParameterMapping, declared: list[DeclaredParameter], pipeline_name: str) -> list[str]:
    """Each way the mapping does not fit the pipeline, in one line each; empty when it fits."""
    by_name = {parameter.name: parameter for parameter in declared}
    listed = ", ".join(str(parameter) for parameter in declared) or "none"
    problems = []
    for mapped in mapping.parameters:
        parameter = by_name.get(mapped.name)
        if parameter is None:
            problems.append(f"PipelineParameters maps {mapped.name}, which pipeline {pipeline_name} does not declare")
            continue
        problem = _type_problem(mapped.name, mapped.static_value, mapped.placeholders, parameter.type)
        if problem:
            problems.append(problem)
    for parameter in declared:
        if parameter.default is None and parameter.name not in mapping.names:
            problems.append(f"pipeline {pipeline_name} declares {parameter.name} with no default, and it is not mapped")
    if problems:
        problems.append(f"pipeline {pipeline_name} declares: {listed}")
    return problems


def _type_problem(name: str, static: str | None, placeholders: frozenset[str], kind: str) -> str | None:
    if kind == "String":
        return None
    if static is None:
        if placeholders <= NUMERIC_PLACEHOLDERS and kind in ("Integer", "Float"):
            return None
        return f"{name} is {_a(kind)} parameter, but its value {{{', '.join(sorted(placeholders))}}} is text"
    if not _fits(static, kind):
        return f"{name} is {_a(kind)} parameter, and {static!r} is not {_a(kind)}"
    return None


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "AEIOU" else f"a {kind}"


def _fits(value: str, kind: str) -> bool:
    if kind == "Boolean":
        return value.lower() in ("true", "false")
    try:
        int(value) if kind == "Integer" else float(value)
    except ValueError:
        return False
    return True


class ParameterSource(Protocol):
    def declared_parameters(self, pipeline_name: str) -> list[dict[str, Any]]: ...


class PipelineCheck:
    """The check the functions make before their first start; it asks SageMaker again only until it passes."""

    def __init__(self, source: ParameterSource, mapping: ParameterMapping, pipeline_name: str) -> None:
        self._source = source
        self._mapping = mapping
        self._pipeline_name = pipeline_name
        self._passed = False

    def declared(self) -> list[DeclaredParameter]:
        return [DeclaredParameter.from_definition(p) for p in self._source.declared_parameters(self._pipeline_name)]

    def ensure(self) -> None:
        """StartRefused with every problem when the mapping does not fit the pipeline."""
        if self._passed:
            return
        problems = problems_of(self._mapping, self.declared(), self._pipeline_name)
        if problems:
            raise StartRefused("; ".join(problems))
        self._passed = True
