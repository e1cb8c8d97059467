"""Serving: the first and the last container of the model package, an inference pipeline of three.

The registered model (pipeline/definition.py, `serving_models`) is this script in the scikit-learn
1.9-0 image, RETRAIN_SERVING_STAGE=features; the built-in XGBoost 3.2-0 with Train's model; and this
script again, RETRAIN_SERVING_STAGE=labels. Both scikit-learn containers hold the model.tar.gz that
Preprocess wrote: encoder.json (the Encoder it fitted, saved) and code/ (this script and preprocess.py).
The features are made by preprocess.py's own Encoder.transform, the one that made the training
features, from the encoder read back: training and serving cannot differ.

features: `text/csv` rows as a caller has them -> `text/csv` features, one line per row, no label,
whatever Accept says (the next container, XGBoost, reads text/csv, libsvm or recordio only).
- A header row, columns in any order; or no header, the training columns in their order, with or
  without the target. The first row is a header when one of its cells is the name of a training
  column that is not a number (or when all of its cells are such names); a data row whose text cell
  spells another column's name is therefore read as a header.
- Comma, semicolon or tab, as Preprocess reads files: the one the first row holds most of (without
  a header, the one that splits it into the training columns), and decimal commas (1,5) in a
  semicolon or tab request. UTF-8, with or without a byte order mark.
- Columns the model does not use are ignored, as a file's extra column is: the target, IdColumn,
  a column Preprocess dropped, any column it never saw (with a header).
- An empty cell, or a text pandas reads as missing (NA, null, ...), is missing: filled as in training.
  A cell that is not a number in a numeric column, or not a date in a date column, is refused
  (Preprocess read such cells of its files as missing; a caller can fix its request).
labels: XGBoost's answer (`text/csv`, one prediction per line: a value, or each class's probability;
or `application/json` {"predictions": [{"score": ...}]}) -> the label space: the class as the data
named it (the label mapping), or the number for regression. `text/csv`: one answer per line;
`application/json`: {"predictions": [{"predicted_label": ..., "score": ...}]}, the score being the
predicted class's probability (for regression, the number again).

Refused requests. The image serves one model with sagemaker-containers 2.8.6.post2, not the
sagemaker-inference toolkit (aws/deep-learning-containers docker/sklearn/1.9-0: its Dockerfile sets
SAGEMAKER_SERVING_MODULE=sagemaker_sklearn_container.serving:main, which builds a sagemaker_containers
Transformer and Worker; aws/sagemaker-scikit-learn-container src/sagemaker_sklearn_container/serving.py
starts the toolkit's model server only when SAGEMAKER_MULTI_MODEL is set). That Transformer wraps each
hook of this script so that whatever it raises becomes a ClientError (sagemaker_containers/_functions.py,
`error_wrapper`), which nothing catches: Flask answers 500 with its own page, whatever was raised (the
415 and 406 of _transformer.py `_default_transform_fn` are for its own default functions' errors only).
So a request this script refuses is not raised out of a hook: it is passed on as a `Refusal`, which
output_fn returns, and which is a WSGI application (PEP 3333) answering its status and its one-line
reason: Flask runs a callable a view returns as the response (flask/app.py, Flask.make_response).
InvokeEndpoint then raises ModelError with that status and text as OriginalStatusCode and
OriginalMessage (botocore's sagemaker-runtime service model). Statuses: 415 a content type this stage
does not read; 400 an empty request, text that is not UTF-8, a row of the wrong length, a missing
column, a cell that cannot be read; 406 (labels) an Accept it cannot write. A fault of this script
itself is raised, and answered 500.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

import numpy as np

import preprocess as pp  # type: ignore[import-not-found]  # beside this script in model.tar.gz's code/

STAGE_ENV = "RETRAIN_SERVING_STAGE"  # copies of pipeline/definition.py's (a test keeps them equal)
FEATURES = "features"
LABELS = "labels"
CSV, JSON = "text/csv", "application/json"
DEFAULT_ACCEPT = JSON  # what sagemaker-containers passes when a request has no Accept or */* (_worker.py)


# -- a refused request ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """The answer to a refused request: a WSGI application answering ``status`` and ``reason``."""

    status: int
    reason: str

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = (self.reason + "\n").encode("utf-8")
        headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
        start_response(f"{self.status} {HTTPStatus(self.status).phrase}", headers)
        return [body]


class Refused(Exception):
    """A request this stage cannot answer; caught by the hook, which passes its Refusal on."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.refusal = Refusal(status, reason)


# -- the hooks of the scikit-learn container --------------------------------------------------------


@dataclass(frozen=True)
class Request:
    text: str
    media_type: str  # text/csv or application/json


def model_fn(model_dir: str) -> Features | Labels:
    """The stage RETRAIN_SERVING_STAGE names, with the encoder Preprocess saved in model.tar.gz."""
    stage = os.environ.get(STAGE_ENV, "")
    if stage not in (FEATURES, LABELS):
        raise ValueError(f"{STAGE_ENV} is {stage!r}; it must be {FEATURES} or {LABELS}")
    document = json.loads((Path(model_dir) / pp.ENCODER_FILE).read_text(encoding="utf-8"))
    return Features(document) if stage == FEATURES else Labels(document)


def input_fn(request_body: str | bytes, request_content_type: str | None) -> Request | Refusal:
    try:
        media_type = _media_type(request_content_type)
        return Request(_text_of(request_body), media_type)
    except Refused as refused:
        return refused.refusal


def predict_fn(input_data: Request | Refusal, model: Features | Labels) -> FeatureRows | Answers | Refusal:
    if isinstance(input_data, Refusal):
        return input_data
    try:
        return model.answer(input_data)
    except Refused as refused:
        return refused.refusal


def output_fn(prediction: FeatureRows | Answers | Refusal, accept: str | None) -> tuple[str, str] | Refusal:
    """(body, content type), which the container answers with 200; or the Refusal, which answers itself."""
    if isinstance(prediction, Refusal):
        return prediction
    try:
        return prediction.encoded(accept)
    except Refused as refused:
        return refused.refusal


def _media_type(content_type: str | None) -> str:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in (CSV, JSON):
        raise Refused(415, f"content type {content_type!r} is not supported; send {CSV}")
    return media_type


def _text_of(body: str | bytes) -> str:
    """The request as text: sagemaker-containers passes text/csv and application/json bodies as str, others as bytes."""
    if isinstance(body, (bytes, bytearray)):
        data = bytes(body)
        try:
            body = data.decode("utf-8")
        except UnicodeDecodeError as error:
            where = f"byte 0x{data[error.start]:02x} at offset {error.start}"
            raise Refused(400, f"the request is not UTF-8 text ({where})") from None
    text = body.removeprefix("\ufeff")
    if not text.strip():
        raise Refused(400, "the request is empty: send one row per line")
    return text


# -- features: rows as a caller has them -> what the model reads ----------------------------------


@dataclass(frozen=True)
class FeatureRows:
    text: str

    def encoded(self, accept: str | None) -> tuple[str, str]:
        return self.text, CSV  # whatever Accept says: XGBoost reads CSV


class Features:
    """Raw rows -> features, by the encoder Preprocess fitted and saved."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.encoder = pp.Encoder.restored(document["encoder"])
        self.used = pp.used_columns(self.encoder)
        self.order = [str(column) for column in document["column_order"]]
        self.without_target = [column for column in self.order if column != document["target"]]

    def answer(self, request: Request) -> FeatureRows:
        if request.media_type != CSV:
            raise Refused(415, f"content type {request.media_type!r} is not supported; send {CSV}")
        lines = [line for line in request.text.splitlines() if line.strip()]
        separator, rows, header = self.read(request.text, lines[0])
        positions = self.positions(header, rows)
        data_lines = lines[1:] if header is not None else lines
        cells = {column: [row[positions[column]] for row in rows] for column in self.used}
        try:
            frame = pp.request_frame(cells, self.encoder, pp.decimal_of(separator, data_lines[:50]))
        except pp.UnreadableCell as unreadable:
            raise Refused(400, str(unreadable)) from None
        return FeatureRows(pp.features_csv(self.encoder.transform(frame)))

    def read(self, text: str, first_line: str) -> tuple[str, list[list[str]], list[str] | None]:
        """The separator, the data rows, and the header (None: there is none)."""
        separator = pp.separator_of(first_line)
        rows = _rows(text, separator)
        if self.is_header(rows[0]):
            if len(rows) == 1:
                raise Refused(400, "the request has a header but no rows")
            header = [cell.strip() for cell in rows[0]]
            twice = sorted({name for name in header if header.count(name) > 1})
            if twice:
                raise Refused(400, f"the request's header names {', '.join(map(repr, twice))} more than once")
            return separator, rows[1:], header
        widths = (len(self.order), len(self.without_target))
        for candidate in dict.fromkeys((separator, *pp.SEPARATORS)):
            candidate_rows = _rows(text, candidate)
            if len(candidate_rows[0]) in widths:
                return candidate, candidate_rows, None
        return separator, rows, None  # positions() refuses its width

    def is_header(self, cells: list[str]) -> bool:
        names = [cell.strip() for cell in cells]
        known = [name for name in names if name in self.order]
        return any(not pp.NUMBER_TEXT.fullmatch(name) for name in known) or len(known) == len(names)

    def positions(self, header: list[str] | None, rows: list[list[str]]) -> dict[str, int]:
        """Where each used column is in the rows; every row must be as long as the header (or the columns)."""
        if header is not None:
            missing = [column for column in self.used if column not in header]
            if missing:
                names = ", ".join(repr(column) for column in missing)
                raise Refused(400, f"the request's header has no column {names}; the model uses {', '.join(self.used)}")
            expected, columns = len(header), header
        else:
            expected = len(rows[0]) if len(rows[0]) in (len(self.order), len(self.without_target)) else -1
            columns = self.order if expected == len(self.order) else self.without_target
        for number, row in enumerate(rows, start=1):
            if len(row) != expected:
                raise Refused(400, self.wrong_width(number, len(row), header))
        return {column: columns.index(column) for column in self.used}

    def wrong_width(self, number: int, width: int, header: list[str] | None) -> str:
        if header is not None:
            return f"row {number} has {width} values, the header {len(header)}"
        target = next(column for column in self.order if column not in self.without_target)
        return (
            f"row {number} has {width} values; without a header a row holds the training columns in their "
            f"order ({', '.join(self.order)}), the target {target!r} may be left out"
        )


def _rows(text: str, separator: str) -> list[list[str]]:
    """The CSV rows of the request (quoted cells may hold separators and line breaks); blank lines skipped."""
    try:
        # newline="": csv reads the line ends itself, so \r\n, \n and a Mac's bare \r all end a row
        lines = io.StringIO(text, newline="")
        return [row for row in csv.reader(lines, delimiter=separator, skipinitialspace=True) if row]
    except csv.Error as error:  # a quote left open, a NUL: the caller's to fix
        raise Refused(400, f"the request is not readable CSV: {error}") from None


# -- labels: XGBoost's answer -> the label space ---------------------------------------------------


@dataclass(frozen=True)
class Answers:
    """One answer per row: the label (a class name, or the number) and its score."""

    problem_type: str
    answers: list[tuple[Any, float]]

    def encoded(self, accept: str | None) -> tuple[str, str]:
        media_type = _accepted(accept)
        if media_type == CSV:
            return "".join(line + "\n" for line in csv_lines(self)), CSV
        predictions = [{"predicted_label": label, "score": score} for label, score in self.answers]
        return json.dumps({"predictions": predictions}), JSON


def csv_lines(answers: Answers) -> list[str]:
    """Each answer as its line of the text/csv answer: the class as a CSV cell, or the number."""
    if answers.problem_type == "regression":
        return [_number_text(label) for label, _ in answers.answers]
    lines = []
    for label, _ in answers.answers:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="").writerow([label])
        lines.append(buffer.getvalue())
    return lines


def _accepted(accept: str | None) -> str:
    """The first media type of Accept this stage writes (*/* or none: sagemaker-containers' default)."""
    for media_range in (accept or DEFAULT_ACCEPT).split(","):
        media_type = media_range.split(";", 1)[0].strip().lower()
        if media_type in (CSV, JSON):
            return media_type
        if media_type == "*/*":
            return DEFAULT_ACCEPT
    raise Refused(406, f"Accept {accept!r} is not supported; ask for {CSV} or {JSON}")


class Labels:
    """XGBoost's predictions -> labels, by the problem type and label mapping Preprocess decided."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.problem_type = str(document["problem_type"])
        self.mapping = {str(index): str(name) for index, name in (document["label_mapping"] or {}).items()}
        self.width = len(self.mapping) if self.problem_type == "multiclass" else 1

    def answer(self, request: Request) -> Answers:
        scores = _json_scores(request.text) if request.media_type == JSON else _csv_scores(request.text)
        return self.answers(scores)

    def answers(self, scores: list[list[float]]) -> Answers:
        """The label and score of each row's predictions (its value, or each class's probability)."""
        answered: list[tuple[Any, float]] = []
        for number, row in enumerate(scores, start=1):
            if len(row) != self.width:
                raise Refused(
                    400, f"row {number} holds {len(row)} scores; a {self.problem_type} model gives {self.width}"
                )
            if self.problem_type == "regression":
                answered.append((_float32(row[0]), _float32(row[0])))
                continue
            if self.problem_type == "binary":  # the positive class's probability; 0.5 and above is that class
                chosen = int(row[0] >= 0.5)
                probability = row[0] if chosen else 1.0 - row[0]
            else:
                chosen = int(np.argmax(row))
                probability = row[chosen]
            answered.append((self.mapping[str(chosen)], _float32(probability)))
        return Answers(self.problem_type, answered)


def _csv_scores(text: str) -> list[list[float]]:
    scores = []
    for number, line in enumerate((line for line in text.splitlines() if line.strip()), start=1):
        try:
            row = [float(cell) for cell in line.split(",")]
        except ValueError:
            raise Refused(400, f"row {number} of the predictions, {line.strip()[:80]!r}, is not numbers") from None
        scores.append(_finite(row, number))
    return scores


def _json_scores(text: str) -> list[list[float]]:
    shape = '{"predictions": [{"score": ...}, ...]}'
    try:
        predictions = json.loads(text)["predictions"]
        scores = [item["score"] for item in predictions]
        rows = [[float(value) for value in (score if isinstance(score, list) else [score])] for score in scores]
    except (ValueError, KeyError, TypeError):
        raise Refused(400, f"the predictions are not JSON of the shape {shape}") from None
    return [_finite(row, number) for number, row in enumerate(rows, start=1)]


def _finite(row: list[float], number: int) -> list[float]:
    if not all(np.isfinite(row)):
        raise Refused(400, f"row {number} of the predictions holds a value that is not a finite number")
    return row


def _float32(value: float) -> float:
    """The model computes in float32: a prediction as the shortest number that is its float32."""
    return float(str(np.float32(value)))


def _number_text(value: float) -> str:
    return str(np.float32(value))
