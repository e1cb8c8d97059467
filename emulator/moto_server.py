"""moto in server mode on 127.0.0.1, with the environment pointing every AWS SDK client at it."""

from __future__ import annotations

import logging
import os
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from emulator import moto_fixes

moto_fixes.apply()

# One line per request from the server's HTTP layer drowns what the demo and the tests say.
logging.getLogger("werkzeug").setLevel(logging.WARNING)

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
# Credentials moto accepts; they are never sent anywhere but 127.0.0.1.
LOCAL_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SerialMotoServer(ThreadedMotoServer):
    """moto's server answering one request at a time, each one atomic, as each DynamoDB request is.

    Its threaded server can run two requests at once, and a DynamoDB transaction that fails its
    condition then restores a snapshot of the table, undoing the other request's writes: something
    DynamoDB never does. Concurrency tests use this one.
    """

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(self._ip_address, self._port, app, False, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


@contextmanager
def running_moto_server(*, serial: bool = False) -> Iterator[str]:
    """Start moto on a free loopback port and yield its URL (``serial``: one request at a time).

    While it runs, AWS_ENDPOINT_URL and fake credentials are set in the environment, so every
    boto3 client created in this process (the function's included) talks to it.
    """
    port = _free_port()
    server = (SerialMotoServer if serial else ThreadedMotoServer)(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    # moto keeps its state per process: start every run from an empty account.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10)  # noqa: S310
    saved = {name: os.environ.get(name) for name in (*LOCAL_ENVIRONMENT, "AWS_ENDPOINT_URL")}
    os.environ.update(LOCAL_ENVIRONMENT, AWS_ENDPOINT_URL=endpoint)
    try:
        yield endpoint
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
