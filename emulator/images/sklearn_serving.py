"""The scikit-learn 1.9-0 image's model server for a user's script (Python 3.12, the image's libraries).

    OPT_ML_FOLDER=<the container's /opt/ml> SAGEMAKER_BIND_TO_PORT=0 SAGEMAKER_PROGRAM=serving.py \
        SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code python container_paths.py sklearn_serving.py

The image serves one model with sagemaker-containers 2.8.6.post2 (aws/deep-learning-containers
docker/sklearn/1.9-0/Dockerfile: SAGEMAKER_SERVING_MODULE=sagemaker_sklearn_container.serving:main).
Where each rule is read:
- aws/sagemaker-scikit-learn-container, src/sagemaker_sklearn_container/serving.py (at eae7b6b): the
  user module is SAGEMAKER_PROGRAM (without .py) from SAGEMAKER_SUBMIT_DIRECTORY; it defines
  model_fn, and input_fn/predict_fn/output_fn, or transform_fn (not both: refused); the application
  is built at the first request, so a model_fn that fails fails that request (500), /ping included;
- sagemaker-containers, _modules.py `import_module`: the submit directory is copied to /opt/ml/code
  and installed (with its requirements.txt), then imported;
- sagemaker-containers, _worker.py `Request` and `Worker`: the content type is the ContentType or
  Content-Type header, else application/json; Accept is the Accept header, or
  SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT (application/json by default) when it is empty or */*;
  /ping answers 200 once the application is built;
- sagemaker-containers, _transformer.py `transform` and _functions.py `error_wrapper`: the body is
  text when the content type is exactly one of the UTF-8 types (application/json, text/csv), else
  bytes (_worker.py, Request.content; werkzeug decodes with errors="replace"); a hook that raises
  is a 500; a (body, content type) result is answered 200 with that mimetype (Flask adds
  "; charset=utf-8" to text/ types); any other result is returned to Flask as the
  response, which runs a WSGI callable as the response itself (flask/app.py, make_response).
Not imitated, and refused loudly: a requirements.txt in the submit directory (nothing is installed
into the image's look-alike), and multi-model serving (SAGEMAKER_MULTI_MODEL).
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import traceback
from collections.abc import Callable
from typing import Any

import container_paths  # type: ignore[import-not-found]  # beside this script: it runs this one
import serving_host  # type: ignore[import-not-found]

CODE_DIR = "/opt/ml/code"
UTF8_TYPES = ("application/json", "text/csv")
NOT_IMITATED = "not imitated by the local look-alike of the scikit-learn image"
# The answer as Flask makes it (typed here: serving_host is imported beside this script).
respond: Callable[..., list[bytes]] = serving_host.respond


class _Application:
    transform: Any = None  # (body, content type, accept) -> the result


def _user_module() -> Any:
    program = os.environ.get("SAGEMAKER_PROGRAM", "")
    submit_dir = os.environ.get("SAGEMAKER_SUBMIT_DIRECTORY", "")
    if not program or not submit_dir:
        raise RuntimeError("SAGEMAKER_PROGRAM and SAGEMAKER_SUBMIT_DIRECTORY must name the serving script")
    if submit_dir.startswith("s3://"):
        raise RuntimeError(f"a submit directory in S3 ({submit_dir}) is {NOT_IMITATED}: pack it in model.tar.gz")
    if os.path.exists(os.path.join(submit_dir, "requirements.txt")):
        raise RuntimeError(f"installing {submit_dir}/requirements.txt is {NOT_IMITATED}")
    if os.path.abspath(submit_dir) != CODE_DIR:
        shutil.rmtree(CODE_DIR, ignore_errors=True)
        shutil.copytree(submit_dir, CODE_DIR)
    sys.path.insert(0, container_paths.local_path(CODE_DIR))
    return importlib.import_module(program.removesuffix(".py"))


def _build() -> None:
    module = _user_module()
    hooks = ("input_fn", "predict_fn", "output_fn")
    if hasattr(module, "transform_fn") and any(hasattr(module, hook) for hook in hooks):
        raise ValueError("Cannot use transform_fn implementation with input_fn, predict_fn, and/or output_fn")
    if not hasattr(module, "model_fn"):
        raise ValueError("model_fn is required in the user module: the scikit-learn image has no default")
    model = module.model_fn(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    if hasattr(module, "transform_fn"):
        _Application.transform = lambda body, content_type, accept: module.transform_fn(
            model, body, content_type, accept
        )
        return
    for hook in hooks:
        if not hasattr(module, hook):
            raise ValueError(f"{hook} is not defined: the local look-alike imitates scripts that define all three")

    def transform(body: Any, content_type: str, accept: str) -> Any:
        data = module.input_fn(body, content_type)
        return module.output_fn(module.predict_fn(data, model), accept)

    _Application.transform = transform


def _request(environ: dict[str, Any]) -> tuple[Any, str, str]:
    content_type = environ.get("HTTP_CONTENTTYPE") or environ.get("CONTENT_TYPE") or "application/json"
    accept = environ.get("HTTP_ACCEPT", "")
    if not accept or accept == "*/*":
        accept = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "application/json")
    body: Any = serving_host.request_body(environ)
    if content_type in UTF8_TYPES:  # Request.content: get_data(as_text=True), which werkzeug decodes
        body = body.decode("utf-8", errors="replace")  # with errors="replace" (wrappers/request.py, get_data)
    return body, content_type, accept


def application(environ: dict[str, Any], start_response: Any) -> Any:
    try:
        if _Application.transform is None:
            _build()
    except Exception:
        traceback.print_exc()
        return respond(start_response, 500, "Internal Server Error", None)
    path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
    if path == "/ping" and method == "GET":
        return respond(start_response, 200, "", "application/json")
    if path != "/invocations" or method != "POST":
        return respond(start_response, 404, "Not Found", None)
    try:
        result = _Application.transform(*_request(environ))
    except Exception:  # a hook's error: a ClientError nothing catches, Flask's 500 page
        traceback.print_exc()
        return respond(start_response, 500, "Internal Server Error", None)
    if isinstance(result, tuple):
        body, mimetype = result
        return respond(start_response, 200, body, mimetype)
    return result(environ, start_response)


if __name__ == "__main__":
    if os.environ.get("SAGEMAKER_MULTI_MODEL", "").lower() == "true":
        raise SystemExit(f"multi-model serving is {NOT_IMITATED}")
    serving_host.serve(application)
