"""The pipeline parameters each run gets: the template's PipelineParameters, parsed once and
rendered per run. Pure logic: no AWS here.

    InputDataUrl={uri},TrainingInstanceType=ml.m5.2xlarge

Comma-separated ``Name=value`` pairs. A value is static text, placeholders in braces, or both.
A literal comma is written ``{comma}``; a literal brace ``{{`` or ``}}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# SageMaker's limits on StartPipelineExecution's PipelineParameters (API reference, Parameter):
# a name matches this pattern and is at most 256 characters; a value is at most 1,024; at most
# 200 parameters per execution.
MAX_PARAMETERS = 200
MAX_NAME_LENGTH = 256
MAX_VALUE_LENGTH = 1024
_NAME = re.compile(r"^[A-Za-z0-9\-_]{1,256}$")
_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")

PLACEHOLDERS = {
    "bucket": "the bucket of the run's data",
    "key": "what the run reads: the object's key; for several objects the manifest's key; for AllObjects the prefix",
    "uri": "s3://{bucket}/{key}",
    "version": "the object's version id (empty for a run of several objects or an unversioned bucket)",
    "input_data_type": "S3Prefix for one object or a prefix, ManifestFile for a manifest",
    "manifest_uri": "the URI of the run's manifest (every run then has one, even of one object)",
    "object_count": "how many uploads the run is for",
    "prefix": "the data prefix (DataPrefix)",
    "prefix_uri": "s3://{bucket}/{prefix}",
    "training_data": "NewObjects or AllObjects",
    "input_bytes": "the total size of what the run reads, in bytes; for AllObjects, of the objects listed under "
    "the prefix when the run is started (the run then reads that list, its manifest)",
}
_LITERALS = {"comma": ","}
# The placeholders that tell a run where its data is: a mapping without one trains on defaults.
DATA_PLACEHOLDERS = frozenset({"key", "uri", "prefix", "prefix_uri", "manifest_uri"})
# What the bundled pipeline reads (pipeline/definition.py): the template's default mapping.
BUNDLED_PIPELINE_MAPPING = (
    "InputBucket={bucket},InputKey={key},InputDataType={input_data_type},TrainingData={training_data},"
    "InputBytes={input_bytes}"
)


class MappingError(ValueError):
    """The mapping cannot be used: a malformed pair, an unknown placeholder, a value over SageMaker's
    limits, or a name the pipeline does not have."""


@dataclass(frozen=True)
class RunValues:
    """The placeholders' values for one run."""

    bucket: str
    key: str
    version: str
    input_data_type: str
    manifest_uri: str
    object_count: int
    prefix: str
    training_data: str
    input_bytes: int = 0

    def value_of(self, placeholder: str) -> str:
        if placeholder == "uri":
            return f"s3://{self.bucket}/{self.key}"
        if placeholder == "prefix_uri":
            return f"s3://{self.bucket}/{self.prefix}"
        return str(getattr(self, placeholder))


@dataclass(frozen=True)
class Part:
    text: str
    placeholder: str | None = None  # None: static text


@dataclass(frozen=True)
class MappedParameter:
    name: str
    parts: tuple[Part, ...]
    source: str  # the pair as written, for messages

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(part.placeholder for part in self.parts if part.placeholder)

    @property
    def static_value(self) -> str | None:
        """The value when it has no placeholder."""
        return None if self.placeholders else "".join(part.text for part in self.parts)

    def render(self, values: RunValues) -> str:
        return "".join(
            part.text if part.placeholder is None else values.value_of(part.placeholder) for part in self.parts
        )


@dataclass(frozen=True)
class ParameterMapping:
    parameters: tuple[MappedParameter, ...]
    text: str

    @property
    def names(self) -> list[str]:
        return [parameter.name for parameter in self.parameters]

    def uses(self, placeholder: str) -> bool:
        return any(placeholder in parameter.placeholders for parameter in self.parameters)

    def render(self, values: RunValues) -> dict[str, str]:
        """The run's parameters; MappingError names the one over SageMaker's limit."""
        rendered = {}
        for parameter in self.parameters:
            value = parameter.render(values)
            if len(value) > MAX_VALUE_LENGTH:
                raise MappingError(
                    f"pipeline parameter {parameter.name} ({parameter.source}) would be {len(value)} characters "
                    f"long; SageMaker accepts at most {MAX_VALUE_LENGTH}"
                )
            rendered[parameter.name] = value
        return rendered


def parse_mapping(text: str) -> ParameterMapping:
    """The mapping, or MappingError naming the first pair that is wrong."""
    pairs = [pair.strip() for pair in text.split(",")]
    if not text.strip():
        raise MappingError("PipelineParameters is empty: map at least the parameter that tells the pipeline its data")
    parameters = tuple(_parse_pair(pair) for pair in pairs)
    names = [parameter.name for parameter in parameters]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise MappingError(f"PipelineParameters maps {', '.join(duplicates)} more than once")
    if not any(parameter.placeholders & DATA_PLACEHOLDERS for parameter in parameters):
        raise MappingError(
            "PipelineParameters passes the run no data: map the pipeline's input to {uri}, {key}, {prefix_uri} "
            "or {manifest_uri}, or every run would train on the parameter's default"
        )
    if len(parameters) > MAX_PARAMETERS:
        raise MappingError(
            f"PipelineParameters maps {len(parameters)} parameters; SageMaker takes at most {MAX_PARAMETERS}"
        )
    return ParameterMapping(parameters, text)


def _parse_pair(pair: str) -> MappedParameter:
    name, equals, value = pair.partition("=")
    name = name.strip()
    if not equals:
        raise MappingError(f"PipelineParameters pair {pair!r} is not Name=value")
    if not _NAME.match(name):
        raise MappingError(
            f"PipelineParameters pair {pair!r}: {name!r} is not a SageMaker parameter name "
            "(letters, digits, - and _, at most 256)"
        )
    return MappedParameter(name, _parts(value, pair), pair)


def _parts(value: str, pair: str) -> tuple[Part, ...]:
    parts: list[Part] = []
    position = 0
    for match in _FIELD.finditer(value):
        parts.append(Part(value[position : match.start()]))
        position = match.end()
        token, inner = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            parts.append(Part(token[0]))
        elif inner is None:
            raise MappingError(f"PipelineParameters pair {pair!r} has a lone {token!r}: write {token * 2} for a brace")
        elif inner in _LITERALS:
            parts.append(Part(_LITERALS[inner]))
        elif inner in PLACEHOLDERS:
            parts.append(Part("", inner))
        else:
            raise MappingError(
                f"PipelineParameters pair {pair!r} has an unknown placeholder {{{inner}}}; "
                f"known: {', '.join('{' + name + '}' for name in PLACEHOLDERS)}"
            )
    parts.append(Part(value[position:]))
    return tuple(part for part in parts if part.text or part.placeholder)


def manifest_read_as_data(mapping: ParameterMapping, training_data: str, max_objects_per_run: int) -> str | None:
    """A run of several uploads gives {key} and {uri} its manifest: a pipeline told only the URI would
    read the manifest as if it were data. The reason to refuse such a configuration, or None."""
    reads_one_location = mapping.uses("key") or mapping.uses("uri")
    tells_manifest_apart = mapping.uses("input_data_type") or mapping.uses("manifest_uri")
    if training_data == "NewObjects" and max_objects_per_run > 1 and reads_one_location and not tells_manifest_apart:
        return (
            "PipelineParameters maps {key} or {uri} without {input_data_type}: a run of several uploads "
            "would pass its manifest as if it were the data. Set MaxObjectsPerRun=1 (one object per run), "
            "or map {input_data_type} so the pipeline knows a manifest from data"
        )
    return None
