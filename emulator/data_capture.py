"""Data capture: what a local endpoint whose configuration has a DataCaptureConfig writes to S3, as
SageMaker writes it (developer guide, "Capture data from real-time endpoint"; API reference,
DataCaptureConfig and CaptureContentTypeHeader).

moto keeps an endpoint configuration's DataCaptureConfig and does nothing with it. Here each answered
InvokeEndpoint (sampled at InitialSamplingPercentage) becomes one JSON Lines record under
DestinationS3Uri/<endpoint>/<variant>/yyyy/mm/dd/hh/: `captureData.endpointInput` and `endpointOutput`
(observedContentType, mode INPUT or OUTPUT, data, encoding), `eventMetadata` (eventId,
inferenceTime) and `eventVersion` "0". A body whose content type CaptureContentTypeHeader lists as
CSV or JSON is kept as text with that encoding; any other is BASE64. SageMaker buffers records into a
file every few minutes; this writes one file per request, named as SageMaker names its files
(minute-second-millisecond-uuid.jsonl), which changes no reader of the prefix.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from datetime import UTC, datetime
from typing import Any

_random = random.Random(0)  # noqa: S311 - sampling requests, not a secret


def capture_config(sagemaker_backend: Any, endpoint_name: str) -> dict[str, Any] | None:
    """The endpoint's current configuration's DataCaptureConfig, when it captures."""
    endpoint = sagemaker_backend.endpoints.get(endpoint_name)
    if endpoint is None:
        return None
    config = sagemaker_backend.endpoint_configs.get(endpoint.endpoint_config_name)
    capture = getattr(config, "data_capture_config", None) or {}
    return capture if capture.get("EnableCapture") else None


def record(config: dict[str, Any], request: tuple[bytes, str], response: tuple[bytes, str], at: datetime) -> str:
    """One capture record: the request and the answer, as JSON Lines."""
    modes = {option.get("CaptureMode") for option in config.get("CaptureOptions", [])} or {"Input", "Output"}
    header = config.get("CaptureContentTypeHeader") or {}
    data: dict[str, Any] = {}
    if "Input" in modes:
        data["endpointInput"] = _captured(request, "INPUT", header)
    if "Output" in modes:
        data["endpointOutput"] = _captured(response, "OUTPUT", header)
    document = {
        "captureData": data,
        "eventMetadata": {"eventId": str(uuid.uuid4()), "inferenceTime": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")},
        "eventVersion": "0",
    }
    return json.dumps(document, separators=(",", ":")) + "\n"


def _captured(body_and_type: tuple[bytes, str], mode: str, header: dict[str, list[str]]) -> dict[str, str]:
    body, content_type = body_and_type
    base = content_type.split(";")[0].strip().lower()
    if base in [t.lower() for t in header.get("CsvContentTypes", [])]:
        encoding, data = "CSV", body.decode("utf-8", errors="replace")
    elif base in [t.lower() for t in header.get("JsonContentTypes", [])]:
        encoding, data = "JSON", body.decode("utf-8", errors="replace")
    else:
        encoding, data = "BASE64", base64.b64encode(body).decode("ascii")
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": encoding}


def capture(
    endpoint_name: str, variant: str, request: tuple[bytes, str], response: tuple[bytes, str], account: str
) -> None:
    """Write the capture record of one answered request, if the endpoint captures and it is sampled."""
    from moto.s3.models import s3_backends
    from moto.sagemaker.models import sagemaker_backends

    from emulator.moto_server import REGION

    config = capture_config(sagemaker_backends[account][REGION], endpoint_name)
    if config is None or _random.uniform(0, 100) >= float(config.get("InitialSamplingPercentage", 100)):
        return
    at = datetime.now(UTC)
    bucket, _, prefix = str(config["DestinationS3Uri"]).removeprefix("s3://").partition("/")
    name = f"{at:%M-%S}-{at.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
    key = "/".join(p for p in (prefix.strip("/"), endpoint_name, variant, f"{at:%Y/%m/%d/%H}", name) if p)
    s3_backends[account]["global"].put_object(bucket, key, record(config, request, response, at).encode("utf-8"))
