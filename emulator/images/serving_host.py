"""The HTTP server of a serving container's look-alike: one WSGI application on SAGEMAKER_BIND_TO_PORT.

SageMaker calls a serving container on the port SAGEMAKER_BIND_TO_PORT names (8080 when unset), at
GET /ping and POST /invocations (developer guide, "Use your own inference code with hosting services"
and "Run Real-time Predictions with an Inference Pipeline"). Both images answer through a WSGI
application behind gunicorn: the XGBoost algorithm's Flask app (aws/sagemaker-xgboost-container,
src/sagemaker_xgboost_container/algorithm_mode/serve.py, ScoringService.start) and sagemaker-containers'
Worker in the scikit-learn image (sagemaker_containers/_server.py). Here the application runs in the
standard library's WSGI server, one request at a time; the port 0 asks for any free one, and the port
taken is printed ("listening on PORT") for whoever started the container. Standard library only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

PORT_ENV = "SAGEMAKER_BIND_TO_PORT"
DEFAULT_PORT = "8080"


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: the container's own log lines stay readable."""

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def serve(application: Callable[..., Any]) -> None:
    """Serve ``application`` on 127.0.0.1 until the process is stopped."""
    port = int(os.environ.get(PORT_ENV, DEFAULT_PORT))
    server = make_server("127.0.0.1", port, application, server_class=_Server, handler_class=_QuietHandler)
    print(f"listening on {server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


def status_line(status: int) -> str:
    from http import HTTPStatus

    return f"{status} {HTTPStatus(status).phrase}"


def respond(start_response: Any, status: int, body: bytes | str, mimetype: str | None) -> list[bytes]:
    """An answer as Flask's Response(body, status, mimetype) makes it: text/* types get '; charset=utf-8'."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    content_type = mimetype or "text/html"  # Flask's default mimetype
    if content_type.startswith("text/") and "charset" not in content_type:
        content_type += "; charset=utf-8"
    start_response(status_line(status), [("Content-Type", content_type), ("Content-Length", str(len(data)))])
    return [data]


def request_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""
