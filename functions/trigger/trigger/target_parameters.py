"""The mapping for the path where no code of ours runs per upload: the EventBridge rule on "Object
Created", with the pipeline as its target. Pure logic: no AWS here. (The schedule's tick goes to the
trigger queue, where the mapping is rendered for each run as for any run request.)

EventBridge passes a SageMaker pipeline static text, or one whole JSONPath into the event (the key
arrives as it is, not URL-encoded); it cannot build a value out of several parts, such as a URI
out of bucket and key. What the rule cannot express is refused with a one-line reason, at deploy.
"""

from __future__ import annotations

import re

from trigger.parameter_mapping import MAX_VALUE_LENGTH, MappedParameter, MappingError, ParameterMapping
from trigger.runs import ALL_OBJECTS, S3_PREFIX

# SageMakerPipelineParameters of an EventBridge target: the name pattern of its API reference.
_EVENTBRIDGE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
EVENT_PATHS = {
    "bucket": "$.detail.bucket.name",
    "key": "$.detail.object.key",
    "version": "$.detail.object.version-id",
    "input_bytes": "$.detail.object.size",
}
_NO_MANIFEST = "a run started by EventBridge has no manifest"
_CANNOT_BUILD = "it cannot build {uri} out of bucket and key; map {bucket} and {key} to parameters of their own"


def rule_parameters(
    mapping: ParameterMapping, *, bucket: str, data_prefix: str, training_data: str
) -> list[dict[str, str]]:
    """The rule target's PipelineParameterList; MappingError names the pair it cannot express."""
    every = training_data == ALL_OBJECTS
    known: dict[str, str] = {
        "input_data_type": S3_PREFIX,
        "object_count": "1",
        "prefix": data_prefix,
        "prefix_uri": f"s3://{bucket}/{data_prefix}",
        "training_data": training_data,
    }
    if every:  # the upload only starts the run: it reads the prefix, whose size nothing counts here
        known.update(bucket=bucket, key=data_prefix, uri=known["prefix_uri"], version="", input_bytes="0")
    paths = {} if every else EVENT_PATHS
    return [_translated(parameter, known, paths, "EventBridge") for parameter in mapping.parameters]


def _translated(
    parameter: MappedParameter, known: dict[str, str], paths: dict[str, str], path_name: str
) -> dict[str, str]:
    if not _EVENTBRIDGE_NAME.match(parameter.name):
        raise MappingError(
            f"{parameter.source}: {path_name} takes parameter names of letters, digits and single hyphens "
            f"only ({parameter.name!r}); rename the pipeline parameter or use the queue path"
        )
    dynamic = sorted(parameter.placeholders & set(paths))
    if dynamic:
        if len(parameter.parts) != 1:
            raise MappingError(
                f"{parameter.source}: {path_name} passes one whole JSONPath or static text, so it cannot build "
                f"this value from {{{dynamic[0]}}} and more; map each placeholder to a parameter of its own, "
                "or use the queue path (TriggerPath=Queue)"
            )
        return {"Name": parameter.name, "Value": paths[dynamic[0]]}
    missing = sorted(parameter.placeholders - set(known))
    if missing:
        reason = _NO_MANIFEST if "manifest_uri" in missing else _CANNOT_BUILD
        raise MappingError(f"{parameter.source}: {path_name} cannot pass this value: {reason}; use the queue path")
    value = "".join(part.text if part.placeholder is None else known[part.placeholder] for part in parameter.parts)
    if len(value) > MAX_VALUE_LENGTH:
        raise MappingError(f"{parameter.source}: {len(value)} characters; SageMaker accepts at most {MAX_VALUE_LENGTH}")
    return {"Name": parameter.name, "Value": value}
