"""What serves a local endpoint: each model's containers running in their images' look-alikes.

moto 5.2.5 answers sagemaker-runtime's InvokeEndpoint with canned bytes for any name. Here a model's
containers (its PrimaryContainer, its Containers, or a model package's InferenceSpecification) are
started as SageMaker starts them (developer guide, "Use your own inference code with hosting
services"): the model.tar.gz of ModelDataUrl extracted into the container's /opt/ml/model, its
Environment set, SAGEMAKER_BIND_TO_PORT naming its port, and GET /ping answering 200 before it takes
traffic ("did not pass the ping health check" otherwise). Each container is the program of its image's
look-alike (emulator/images/xgboost_serving.py, sklearn_serving.py) in that image's Python and libraries.

An inference pipeline ("Run Real-time Predictions with an Inference Pipeline") calls its containers in
order: the body and Content-Type of each answer are the next one's request; the caller's Accept goes to
every container (this imitation's rule: the guide does not say). An answer other than 200 stops the
chain: InvokeEndpoint raises ModelError (HTTP 424) with OriginalStatusCode, OriginalMessage and
LogStreamArn, the fields botocore's sagemaker-runtime model gives it; the message is written as AWS
writes it for one container ("Received client error (415) from primary with message ...") with the
container's hostname instead of "primary" in a pipeline. An endpoint that does not serve is a
ValidationError, "Endpoint NAME of account ACCOUNT not found.".

The traffic split is the variants' weights, drawn by a seeded generator (a canary's share is exact
over many requests, and a test's draws are the same each run).
"""

from __future__ import annotations

import http.client
import os
import random
import select
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from emulator.moto_server import REGION
from emulator.step_environments import python_for
from pipeline.images import SKLEARN, XGBOOST, image_for

IMAGES_DIR = Path(__file__).resolve().parent / "images"
CONTAINER_PROGRAM = IMAGES_DIR / "container_paths.py"
# The serving program of each framework's images (every version: the samples' images serve as these do).
SERVING_PROGRAMS = {
    XGBOOST.framework: IMAGES_DIR / "xgboost_serving.py",
    SKLEARN.framework: IMAGES_DIR / "sklearn_serving.py",
}
# Environment the images set (aws/sagemaker-xgboost-container docker/*/final/Dockerfile.cpu: SM_MODEL_DIR).
IMAGE_ENVIRONMENT = {
    XGBOOST.framework: {"SM_MODEL_DIR": "/opt/ml/model"},
    SKLEARN.framework: {"SM_MODEL_DIR": "/opt/ml/model"},
}
START_TIMEOUT_SECONDS = 120.0
INVOKE_TIMEOUT_SECONDS = 60.0  # InvokeEndpoint's own limit for a real-time endpoint's answer


class ContainerFailed(RuntimeError):
    """A container did not start or did not pass /ping: the endpoint's FailureReason."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str
    container: str  # who answered last: "primary", or the pipeline container's hostname

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace").strip()

    def refusal(self) -> str:
        """An answer other than 200, worded as SageMaker words it (InvokeEndpoint's ModelError, a
        transform job's FailureReason)."""
        kind = "client" if 400 <= self.status < 500 else "server"
        return f'Received {kind} error ({self.status}) from {self.container} with message "{self.text}"'


@dataclass(frozen=True)
class ContainerSpec:
    image: str
    model_data_url: str
    environment: dict[str, str]
    hostname: str


def model_containers(model_name: str) -> list[ContainerSpec]:
    """The containers of a model, as CreateModel holds them (a package's are its InferenceSpecification's)."""
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    model = sagemaker.describe_model(ModelName=model_name)
    declared = model.get("Containers") or [model["PrimaryContainer"]]
    specs: list[ContainerSpec] = []
    for container in declared:
        if container.get("ModelPackageName"):
            package = sagemaker.describe_model_package(ModelPackageName=container["ModelPackageName"])
            declared_by_package = package["InferenceSpecification"]["Containers"]
            specs += [
                _spec(item, len(specs) + n, len(declared_by_package)) for n, item in enumerate(declared_by_package)
            ]
        else:
            specs.append(_spec(container, len(specs), len(declared)))
    return specs


def _spec(container: Any, index: int, count: int) -> ContainerSpec:
    hostname = container.get("ContainerHostname") or ("primary" if count == 1 else f"container-{index + 1}")
    return ContainerSpec(
        image=str(container["Image"]),
        model_data_url=str(container.get("ModelDataUrl", "")),
        environment={str(k): str(v) for k, v in (container.get("Environment") or {}).items()},
        hostname=str(hostname),
    )


class Container:
    """One serving container: its own /opt/ml, its process, its port."""

    def __init__(self, spec: ContainerSpec, folder: Path) -> None:
        self.spec = spec
        self.folder = folder
        self.process: subprocess.Popen[str] | None = None
        self.port = 0

    def start(self) -> None:
        image = image_for(self.spec.image)  # no look-alike: UnknownImage names the known ones
        opt_ml = self.folder / "opt" / "ml"
        (opt_ml / "model").mkdir(parents=True, exist_ok=True)
        if self.spec.model_data_url:
            _extract_model(self.spec.model_data_url, opt_ml / "model")
        environment = {
            **os.environ,
            **IMAGE_ENVIRONMENT[image.framework],
            **self.spec.environment,
            "SAGEMAKER_BIND_TO_PORT": "0",
            "OPT_ML_FOLDER": str(opt_ml),
            "TMPDIR": str(self.folder),
        }
        log = (self.folder / "container.log").open("w", encoding="utf-8")
        command = [str(python_for(self.spec.image)), str(CONTAINER_PROGRAM), str(SERVING_PROGRAMS[image.framework])]
        self.process = subprocess.Popen(  # noqa: S603 - our own programs, in the image's look-alike
            command, stdout=subprocess.PIPE, stderr=log, text=True, env=environment, cwd=self.folder
        )
        self.port = self._port()
        status, body, _ = self.call("GET", "/ping", b"", {})
        if status != 200:
            raise ContainerFailed(
                f"The {self.spec.hostname} container did not pass the ping health check ({status}: "
                f"{body.decode('utf-8', 'replace').strip()[:300] or self.log_tail()})"
            )

    def _port(self) -> int:
        assert self.process is not None
        assert self.process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ContainerFailed(f"The {self.spec.hostname} container exited at start: {self.log_tail()}")
            ready, _, _ = select.select([self.process.stdout], [], [], 0.2)
            if ready:
                line = self.process.stdout.readline()
                if line.startswith("listening on "):
                    return int(line.split()[-1])
        raise ContainerFailed(f"The {self.spec.hostname} container did not start in {START_TIMEOUT_SECONDS:.0f} s")

    def call(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=INVOKE_TIMEOUT_SECONDS)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read(), response.getheader("Content-Type", "")
        finally:
            connection.close()

    def log_tail(self) -> str:
        lines = (self.folder / "container.log").read_text(encoding="utf-8", errors="replace").strip().splitlines()
        return " | ".join(lines[-3:])[-600:] or "no output"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _extract_model(uri: str, into: Path) -> None:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    archive = into.parent / "model.tar.gz"
    try:
        boto3.client("s3", region_name=REGION).download_file(bucket, key, str(archive))
    except Exception as error:  # noqa: BLE001 - SageMaker reports any failure to fetch it so
        raise ContainerFailed(f"Could not find model data at {uri}: {error}") from None
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    archive.unlink()


@dataclass
class ModelServer:
    """A model's containers, called in order."""

    name: str
    containers: list[Container] = field(default_factory=list)

    def invoke(self, body: bytes, content_type: str, accept: str) -> Answer:
        answer = Answer(200, body, content_type, "")
        for container in self.containers:
            headers = {"Content-Type": answer.content_type} if answer.content_type else {}
            if accept:
                headers["Accept"] = accept
            status, data, returned_type = container.call("POST", "/invocations", answer.body, headers)
            answer = Answer(status, data, returned_type, container.spec.hostname)
            if status != 200:
                break
        return answer

    def stop(self) -> None:
        for container in self.containers:
            container.stop()


def start_model(model_name: str, folder: Path) -> ModelServer:
    """The model's containers started (each in a folder of its own under ``folder``) and answering /ping."""
    server = ModelServer(model_name)
    try:
        for index, spec in enumerate(model_containers(model_name)):
            container = Container(spec, folder / f"{index + 1}-{spec.hostname}")
            server.containers.append(container)
            container.start()
    except Exception:
        server.stop()
        raise
    return server


class LocalFleets:
    """The endpoints' traffic (emulator/endpoints.py `Fleets`), served by the models' containers."""

    def __init__(self, root: Path | None = None, seed: int = 0) -> None:
        self._root = root or Path(tempfile.mkdtemp(prefix="retrain-trigger-endpoints-"))
        self._random = random.Random(seed)  # noqa: S311 - a traffic split, not a secret
        self._servers: dict[str, ModelServer] = {}
        self._routes: dict[str, list[tuple[str, str, float]]] = {}
        self._lock = threading.Lock()

    def serve(self, endpoint_name: str, variants: list[tuple[str, str, float]]) -> None:
        for _, model_name, _ in variants:
            self._server(model_name)
        with self._lock:
            self._routes[endpoint_name] = variants
        self._stop_unused()

    def stop(self, endpoint_name: str) -> None:
        with self._lock:
            self._routes.pop(endpoint_name, None)
        self._stop_unused()

    def close(self) -> None:
        with self._lock:
            self._routes.clear()
        self._stop_unused()
        shutil.rmtree(self._root, ignore_errors=True)

    def serves(self, endpoint_name: str) -> bool:
        return endpoint_name in self._routes

    def invoke(self, endpoint_name: str, body: bytes, content_type: str, accept: str) -> tuple[str, Answer]:
        """(the variant that answered, its answer); KeyError for an endpoint that does not serve."""
        with self._lock:
            variants = self._routes[endpoint_name]
            weights = [max(weight, 0.0) for _, _, weight in variants]
            variant, model_name, _ = self._random.choices(variants, weights=weights)[0]
            server = self._servers[model_name]
        return variant, server.invoke(body, content_type, accept)

    def _server(self, model_name: str) -> ModelServer:
        if model_name not in self._servers:
            self._servers[model_name] = start_model(model_name, self._root / model_name)
        return self._servers[model_name]

    def _stop_unused(self) -> None:
        with self._lock:
            used = {model for variants in self._routes.values() for _, model, _ in variants}
            unused = [name for name in self._servers if name not in used]
            stopping = [self._servers.pop(name) for name in unused]
        for server in stopping:
            server.stop()
