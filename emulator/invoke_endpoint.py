"""sagemaker-runtime's InvokeEndpoint, answered by the local endpoints' containers instead of moto's canned bytes.

``install(fleets)`` replaces moto 5.2.5's `SageMakerRuntimeResponse.invoke_endpoint` (which returns the
queued or canned results of moto's endpoint-results API for any name). The answer is what AWS's API
reference (API_runtime_InvokeEndpoint) says: the body, its ContentType, and the production variant
that answered (x-Amzn-Invoked-Production-Variant); a container's answer other than 200 is a
ModelError (HTTP 424) with OriginalStatusCode, OriginalMessage and LogStreamArn (botocore's
sagemaker-runtime service model); an endpoint that does not serve is a ValidationError (400).
"""

from __future__ import annotations

import json
from typing import Any

from emulator.data_capture import capture
from emulator.endpoint_containers import Answer, LocalFleets

_installed: list[LocalFleets] = []
_saved: list[Any] = []  # moto's own invoke_endpoint and use_raw_body


def _errors() -> tuple[type[Exception], type[Exception]]:
    from moto.core.exceptions import JsonRESTError

    class ModelError(JsonRESTError):
        code = 424

        def __init__(self, answer: Answer, log_stream_arn: str) -> None:
            message = f"{answer.refusal()}. See {log_stream_arn} for more information."
            super().__init__("ModelError", message)
            self.description = json.dumps(
                {
                    "__type": "ModelError",
                    "message": message,
                    "OriginalStatusCode": answer.status,
                    "OriginalMessage": answer.text,
                    "LogStreamArn": log_stream_arn,
                }
            )

    class ValidationError(JsonRESTError):
        code = 400

        def __init__(self, message: str) -> None:
            super().__init__("ValidationError", message)

    return ModelError, ValidationError


def install(fleets: LocalFleets) -> None:
    """Route InvokeEndpoint to ``fleets`` until ``uninstall()`` (moto's own answers come back then)."""
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    if not _installed:
        _saved[:] = [SageMakerRuntimeResponse.invoke_endpoint, SageMakerRuntimeResponse.use_raw_body]
    _installed[:] = [fleets]
    SageMakerRuntimeResponse.invoke_endpoint = _invoke_endpoint  # type: ignore[method-assign]
    # moto decodes every request body as UTF-8 and fails on any other bytes (core/responses.py,
    # setup_class): InvokeEndpoint's Body is a blob, which reaches the container as sent.
    SageMakerRuntimeResponse.use_raw_body = True


def uninstall() -> None:
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    if _installed:
        SageMakerRuntimeResponse.invoke_endpoint, SageMakerRuntimeResponse.use_raw_body = _saved  # type: ignore[method-assign]
        _installed.clear()


def _invoke_endpoint(self: Any) -> Any:
    model_error, validation_error = _errors()
    endpoint = str(self._get_params().get("EndpointName") or self.path.split("/")[2])
    fleets = _installed[0]
    if not fleets.serves(endpoint):
        raise validation_error(f"Endpoint {endpoint} of account {self.current_account} not found.")
    body = self.raw_body if isinstance(self.raw_body, bytes) else str(self.raw_body or "").encode("utf-8")
    content_type = self.headers.get("Content-Type", "")
    variant, answer = fleets.invoke(endpoint, body, content_type, self.headers.get("Accept", ""))
    if answer.status != 200:
        log_stream = f"arn:aws:logs:{self.region}:{self.current_account}:log-group:/aws/sagemaker/Endpoints/{endpoint}"
        raise model_error(answer, log_stream)
    headers = {"Content-Type": answer.content_type, "x-Amzn-Invoked-Production-Variant": variant}
    capture(endpoint, variant, (body, content_type), (answer.body, answer.content_type), self.current_account)
    return 200, headers, answer.body
