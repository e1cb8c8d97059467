"""The built-in XGBoost algorithm's model server, as its 3.2-0 image serves (Python 3.12, xgboost 3.2.0).

    OPT_ML_FOLDER=<the container's /opt/ml> SAGEMAKER_BIND_TO_PORT=0 python container_paths.py xgboost_serving.py

Read from aws/sagemaker-xgboost-container at cb8df91cd44c7b01c53ccf321fd3fdf3eb78adae (the branch the
image's wheel is built from, as for training: emulator/images/xgboost_algorithm.py). Where each rule
is read:
- algorithm_mode/serve.py: the model is loaded from SM_MODEL_DIR (the image sets /opt/ml/model) at
  /ping, which answers 200, and before each prediction; /invocations answers an empty body 204; a
  body it cannot read 415 with the error's text; a model it cannot load 500 "Unable to load model: ";
  a prediction that fails 400 "Unable to evaluate payload provided: "; an Accept outside
  SUPPORTED_ACCEPTS 406 (none, or */*: SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, else text/csv);
  SAGEMAKER_BATCH: one str(prediction) a line; application/json: serve_utils.encode_predictions_as_json;
  any other: sagemaker-containers' encoders.encode; the answer's mimetype is the Accept (Flask adds
  "; charset=utf-8" to text/ types); requests over MAX_CONTENT_LENGTH (6291456) Flask answers 413;
- algorithm_mode/serve_utils.py: `parse_content_data` (the content type by data_utils.get_content_type:
  none is libsvm, text/csv or csv with label_size 1 at most, libsvm, text/libsvm, text/x-libsvm;
  parquet is "not supported"; CSV as `payload.strip().decode("utf-8")` through encoder.csv_to_dmatrix:
  the delimiter sniffed from the first line's first 512 characters, "," if the sniffed one is a letter
  or digit, an empty cell "nan", every cell a float); `get_loaded_booster` (every file of the model
  directory but dotfiles, with SAGEMAKER_INFERENCE_ENSEMBLE "true" by default, else the first; pickle
  first, then Booster.load_model; nthread 1); `predict` (the feature counts checked for a pickled
  model only; Booster.predict with validate_features=False over all trees; an ensemble's mean, or its
  mode for multi:softmax and binary:hinge);
- sagemaker-containers 2.8.6.post2 `_encoders.array_to_csv` (a 1-D answer one value a line, csv.writer
  with "\\n") and `array_to_json`; application/jsonlines has no encoder there (500).
Not imitated, and refused loudly rather than answered differently: application/x-recordio-protobuf (in
or out) and SAGEMAKER_INFERENCE_OUTPUT (selectable inference output).
"""

from __future__ import annotations

import csv
import io
import json
import os
import pickle
from collections.abc import Callable
from email.message import Message
from typing import Any

import numpy as np
import xgboost as xgb
from scipy import stats

import container_paths  # type: ignore[import-not-found]  # beside this script: it runs this one
import serving_host  # type: ignore[import-not-found]

MODEL_DIR = os.environ.get("SM_MODEL_DIR", "/opt/ml/model")
SUPPORTED_ACCEPTS = ["application/json", "application/jsonlines", "application/x-recordio-protobuf", "text/csv"]
MAX_CONTENT_LENGTH = int(os.getenv("MAX_CONTENT_LENGTH", "6291456"))
NOT_IMITATED = "not imitated by the local look-alike of the XGBoost image"
# The answer as Flask makes it (typed here: serving_host is imported beside this script).
respond: Callable[..., list[bytes]] = serving_host.respond


class _Model:
    booster: Any = None  # a Booster, or a list of them (an ensemble)
    format: str = ""
    objective: str = ""


def _parse_header(value: str) -> tuple[str, dict[str, str]]:
    """cgi.parse_header, which the container calls (cgi is gone from Python 3.13's standard library)."""
    message = Message()
    message["content-type"] = value
    params = {key.lower(): str(item) for key, item in (message.get_params() or [])[1:]}
    return value.split(";", 1)[0].strip().lower(), params


def _content_type(header: str | None) -> str:
    if header is None:
        return "libsvm"
    media_type, params = _parse_header(header.lower())
    if media_type in ("csv", "text/csv"):
        if params.get("label_size", "1") != "1":
            raise ValueError(
                f"{header} is not an accepted csv ContentType. Optional parameter label_size must be equal to 1"
            )
        return "csv"
    if media_type in ("libsvm", "text/libsvm", "text/x-libsvm"):
        return "libsvm"
    if media_type in ("parquet", "application/x-parquet"):
        return "parquet"
    if media_type in ("application/x-recordio-protobuf", "recordio-protobuf"):
        raise ValueError(f"Content-type {header}: recordio-protobuf is {NOT_IMITATED}")
    raise ValueError(f"Content-type {header} not supported")


def _csv_matrix(payload: bytes) -> Any:
    text = payload.strip().decode("utf-8")
    sniffed = csv.Sniffer().sniff(text.split("\n")[0][:512]).delimiter
    delimiter = "," if sniffed.isalnum() else sniffed
    rows = [["nan" if cell == "" else cell for cell in line.split(delimiter)] for line in text.split("\n")]
    return xgb.DMatrix(np.array(rows).astype(float))


def _libsvm_matrix(payload: bytes) -> Any:
    from scipy.sparse import csr_matrix

    rows, cols, data = [], [], []
    for row, line in enumerate(payload.strip().decode("utf-8").split("\n")):
        for item in line.split(" "):
            if ":" in item:
                index, value = item.split(":")[:2]
                rows.append(row)
                cols.append(int(index))
                data.append(value)
    columns = np.array(cols).astype(int)
    if len(columns) and columns.min() >= 1:
        columns = columns - 1
    return xgb.DMatrix(csr_matrix((np.array(data).astype(float), (np.array(rows), columns))))


def parse(payload: bytes, header: str | None) -> tuple[Any, str]:
    kind = _content_type(header)
    readers = {"csv": (_csv_matrix, "csv"), "libsvm": (_libsvm_matrix, "libsvm")}
    if kind not in readers:
        raise RuntimeError(f"Content-type {header} is not supported.")
    reader, name = readers[kind]
    try:
        return reader(payload), kind
    except Exception as error:
        raise RuntimeError(
            f"Loading {name} data failed with Exception, please ensure data is in {name} format:\n"
            f" {type(error)}\n {error}"
        ) from None


def load_model() -> str:
    if _Model.booster is not None:
        return _Model.format
    paths = [
        os.path.join(MODEL_DIR, name)
        for name in os.listdir(MODEL_DIR)
        if os.path.isfile(os.path.join(MODEL_DIR, name)) and not name.startswith(".")
    ]
    ensemble = os.environ.get("SAGEMAKER_INFERENCE_ENSEMBLE", "true") == "true"
    models, formats = [], []
    for path in paths if ensemble else paths[:1]:
        booster, model_format = _load_one(path)
        booster.set_param("nthread", 1)
        models.append(booster)
        formats.append(model_format)
    _Model.booster = models if ensemble and len(models) > 1 else models[0]
    _Model.format = formats[0]
    _Model.objective = json.loads(models[0].save_config())["learner"]["objective"]["name"]
    return _Model.format


def _load_one(path: str) -> tuple[Any, str]:
    try:
        with open(path, "rb") as file:
            return pickle.load(file), "pkl_format"
    except Exception as pickle_error:
        try:
            booster = xgb.Booster()
            booster.load_model(container_paths.local_path(path))  # native code opens it: not through os
            return booster, "xgb_format"
        except Exception as xgb_error:
            raise RuntimeError(
                f"Model {path} cannot be loaded:\nPickle load error={pickle_error}\nXGB load model error={xgb_error}"
            ) from None


def predict(matrix: Any, kind: str, model_format: str) -> Any:
    first = _Model.booster[0] if isinstance(_Model.booster, list) else _Model.booster
    if model_format == "pkl_format":
        x, y = first.num_features(), matrix.num_col()
        if kind == "libsvm" and y > x + 1:
            raise ValueError(
                f"Feature size of libsvm inference data {y} is larger than feature size of trained model {x}."
            )
        if kind == "csv" and not (x == y or x == y + 1):
            raise ValueError(
                f"Feature size of {kind} inference data {y} is not consistent with feature size of trained model {x}."
            )
    if not isinstance(_Model.booster, list):
        return _predict_one(_Model.booster, matrix)
    answers = [_predict_one(booster, matrix) for booster in _Model.booster]
    if _Model.objective in ("multi:softmax", "binary:hinge"):
        return stats.mode(answers).mode[0]
    return np.mean(answers, axis=0)


def _predict_one(booster: Any, matrix: Any) -> Any:
    best = int(getattr(booster, "best_ntree_limit", 0) or 0)
    if best > 0:
        return booster.predict(matrix, iteration_range=(0, best), validate_features=False)
    return booster.predict(matrix, validate_features=False)


def accept_of(header: str) -> str:
    accept, _ = _parse_header(header) if header else ("", {})
    if not accept or accept == "*/*":
        return os.getenv("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "text/csv")
    if accept not in SUPPORTED_ACCEPTS:
        raise ValueError(
            f"Accept type {accept} is not supported. Please use supported accept types: {SUPPORTED_ACCEPTS}."
        )
    if accept == "application/x-recordio-protobuf":
        raise ValueError(f"Accept type {accept} is {NOT_IMITATED}")
    return accept


def encoded(predictions: list[Any], accept: str) -> str:
    if os.getenv("SAGEMAKER_BATCH"):
        return "\n".join(map(str, predictions)) + "\n"
    if accept == "application/json":
        return json.dumps({"predictions": [{"score": prediction} for prediction in predictions]})
    if accept == "text/csv":
        array = np.array(predictions)
        if array.ndim == 1:
            array = array.reshape((array.shape[0], 1))
        stream = io.StringIO()
        csv.writer(stream, lineterminator="\n", delimiter=",", quotechar='"', doublequote=True).writerows(array)
        return stream.getvalue()
    raise RuntimeError(f"Content type {accept} is not supported by this framework.")  # jsonlines: no encoder


def invocations(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if int(environ.get("CONTENT_LENGTH") or 0) > MAX_CONTENT_LENGTH:
        return respond(start_response, 413, "Request Entity Too Large", None)
    payload = serving_host.request_body(environ)
    if not payload:
        return respond(start_response, 204, "", None)
    try:
        matrix, kind = parse(payload, environ.get("CONTENT_TYPE") or None)
    except Exception as error:
        return respond(start_response, 415, str(error), None)
    try:
        model_format = load_model()
    except Exception as error:
        return respond(start_response, 500, f"Unable to load model: {error}", None)
    try:
        predictions = predict(matrix, kind, model_format)
    except Exception as error:
        return respond(start_response, 400, f"Unable to evaluate payload provided: {error}", None)
    try:
        accept = accept_of(environ.get("HTTP_ACCEPT", ""))
    except Exception as error:
        return respond(start_response, 406, str(error), None)
    try:
        body = encoded(predictions.tolist(), accept)
    except Exception as error:  # the Flask app lets it through: gunicorn answers 500
        return respond(start_response, 500, str(error), None)
    return respond(start_response, 200, body, accept)


def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
    if path == "/ping" and method == "GET":
        try:
            load_model()
        except Exception as error:  # Flask answers an exception of the view 500
            return respond(start_response, 500, f"model not loaded: {error}", None)
        return respond(start_response, 200, "", None)
    if path == "/invocations" and method == "POST":
        return invocations(environ, start_response)
    return respond(start_response, 404, "Not Found", None)


if __name__ == "__main__":
    if "SAGEMAKER_INFERENCE_OUTPUT" in os.environ:
        raise SystemExit(f"SAGEMAKER_INFERENCE_OUTPUT (selectable inference output) is {NOT_IMITATED}")
    serving_host.serve(application)
