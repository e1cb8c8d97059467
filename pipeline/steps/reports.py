"""The reports a run writes, data_report.json, evaluation.json and smoke_check.json: their shape and
vocabulary, defined once.

Preprocess writes data_report.json (and the encoder the endpoint serves), Evaluate writes evaluation.json
and smoke_check.json. The pipeline definition reads them (the JSON paths below), `python -m pipeline`
names their vocabulary, the run-status function reads them to tell a person how a run went, and a
deployment checks an endpoint with the smoke check. Standard library only: the function carries a copy
of this file, and the tests check that what each step script writes conforms to it.

The step scripts run on their own in their images (SageMaker uploads one file per step), so they
keep their own copies of the few names they need; a test checks that those copies equal these.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

DATA_REPORT_FILE = "data_report.json"
EVALUATION_FILE = "evaluation.json"
# Beside evaluation.json: the run report a person opens, and the model-quality statistics in the
# Model Monitor shape that the model registry shows.
RUN_REPORT_FILE = "report.html"
MODEL_QUALITY_FILE = "model_quality.json"
# The processing outputs that hold them: <run folder>/report/data_report.json, <run folder>/evaluation/...
DATA_REPORT_OUTPUT = "report"
EVALUATION_OUTPUT = "evaluation"
# What the endpoint serves, Preprocess's `transform` output (<run folder>/transform/): model.tar.gz, the
# model data of the package's two scikit-learn containers (ENCODER_FILE, and code/ with serving.py and
# preprocess.py), and the smoke sample: a few test rows as a caller sends them, and their features.
TRANSFORM_OUTPUT = "transform"
TRANSFORM_ARCHIVE = "model.tar.gz"
# Preprocess's `baseline` output (<run folder>/baseline/): the drift baseline of the training rows' raw
# columns in Model Monitor's formats (data_quality.py), registered as the package's DriftCheckBaselines.
BASELINE_OUTPUT = "baseline"
BASELINE_STATISTICS_FILE = "statistics.json"
BASELINE_CONSTRAINTS_FILE = "constraints.json"
ENCODER_FILE = "encoder.json"
SMOKE_ROWS_FILE = "smoke_rows.csv"
SMOKE_FEATURES_FILE = "smoke_features.csv"
# Beside evaluation.json: the request a deployment sends the staging endpoint, and the answer it expects.
# The package's CustomerMetadataProperties name it (its S3 URI) under SMOKE_CHECK_METADATA.
SMOKE_CHECK_FILE = "smoke_check.json"
SMOKE_CHECK_METADATA = "SmokeCheck"

# -- vocabulary --------------------------------------------------------------------------------------

PROBLEM_TYPES = ("regression", "binary", "multiclass")
AUTO = "auto"  # ProblemType: let Preprocess decide from the target column
REQUESTABLE_PROBLEM_TYPES = (AUTO, *PROBLEM_TYPES)
# TrainingData: what the trigger gave a run (its uploads, or every object under the data prefix).
TRAINING_DATA = ("NewObjects", "AllObjects")

# The metrics Evaluate writes for each problem type, and the one that decides against production.
METRICS = {
    "regression": ("mse", "rmse", "mae", "r2"),
    "binary": ("auc", "accuracy", "f1", "log_loss"),
    "multiclass": ("accuracy", "macro_f1", "log_loss"),
}
PRIMARY_METRIC = {"regression": "rmse", "binary": "auc", "multiclass": "accuracy"}
LOWER_IS_BETTER = ("rmse", "mse", "mae", "log_loss")
METRIC_LABELS = {
    "mse": "MSE",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R2",
    "auc": "AUC",
    "accuracy": "accuracy",
    "f1": "F1",
    "macro_f1": "macro-F1",
    "log_loss": "log loss",
}
# SageMaker Model Registry's model quality layout: evaluation.json holds the metrics under this key too.
REGISTRY_SECTIONS = {
    "regression": "regression_metrics",
    "binary": "binary_classification_metrics",
    "multiclass": "multiclass_classification_metrics",
}

# How rows are assigned to train/validation/test. A model is compared only with a champion whose
# test rows were chosen the same way: under another scheme, some of this run's test rows may be rows
# the champion was trained on. Reports written before the scheme was recorded used pandas' row hash.
# v1 was the same text and hash, but its Preprocess image's pandas (2.2.3: pipeline/images.py, from the
# image's uv.lock) read about one number of 16 digits or more in three to another double than float()
# does, which moved those rows.
SPLIT_SCHEME = "sha256-canonical-v2"
LEGACY_SPLIT_SCHEME = "pandas-hash"
# Which Preprocess wrote a data report (the ProcessingEngine a run chose): both make the same decisions.
ENGINES = ("pandas", "spark")


def metric_label(name: str) -> str:
    """How a person reads a metric's name; one with no label is shown by its own name, never an error."""
    return METRIC_LABELS.get(name, name.replace("_", " "))


def describe_metrics(metrics: Mapping[str, float | None]) -> str:
    """`RMSE 59.9, R2 0.449`: each metric at four significant digits (n/a when not defined)."""
    return ", ".join(
        f"{metric_label(name)} {'n/a' if value is None else f'{value:.4g}'}" for name, value in metrics.items()
    )


def split_scheme_of(data_report: Mapping[str, Any]) -> str:
    split = data_report.get("split")
    scheme = split.get("scheme") if isinstance(split, Mapping) else None
    return str(scheme) if scheme else LEGACY_SPLIT_SCHEME


# -- where the pipeline definition reads them (JsonGet paths) ----------------------------------------


class DataReportPath:
    ACCEPTED = "accepted"
    REASON = "reason"
    PROBLEM_TYPE = "problem_type.chosen"
    OBJECTIVE = "training.objective"
    EVAL_METRIC = "training.eval_metric"
    NUM_CLASS = "training.num_class"
    INPUT = "lineage.input_for_registry"
    OBJECT_COUNT = "lineage.object_count"
    OBJECTS_SHA256 = "lineage.objects_sha256"
    SPLIT_SCHEME = "split.scheme"


class EvaluationPath:
    GATE_PASSED = "gate.passed"
    GATE_REASON = "gate.reason"
    REGISTER = "decision.register"
    APPROVAL_STATUS = "decision.approval_status"
    CHAMPION_ARN = "champion_summary.model_package_arn"
    CHAMPION_METRIC = "champion_summary.metric"


# -- shape --------------------------------------------------------------------------------------------
# A shape maps each key to: a type (or tuple of types), a tuple of allowed strings, or a nested shape.

Shape = Mapping[str, Any]
NUMBER = (int, float)
OPTIONAL_NUMBER = (int, float, type(None))

_LINEAGE: Shape = {
    "input": str,
    "input_for_registry": str,
    "input_data_type": ("S3Prefix", "ManifestFile"),
    "bucket": str,
    "objects": list,
    "object_count": str,  # strings: model package metadata holds strings
    "objects_sha256": str,
}
REFUSED_DATA_REPORT: Shape = {"accepted": bool, "reason": str, "target": str}
ACCEPTED_DATA_REPORT: Shape = {
    **REFUSED_DATA_REPORT,
    "files": list,
    "columns_not_in_every_file": dict,
    "problem_type": {"requested": REQUESTABLE_PROBLEM_TYPES, "chosen": PROBLEM_TYPES, "rule": str},
    "split": {"by": str, "percent": dict, "scheme": (SPLIT_SCHEME,)},
    "rows": {"rows_read": int, "rows_without_target": int, "used": int, "train": int, "validation": int, "test": int},
    "label_mapping": (dict, type(None)),
    "baseline": dict,
    "columns": dict,
    "features": list,
    "training": {"objective": str, "eval_metric": str, "num_class": str},
    "lineage": _LINEAGE,
    "engine": ENGINES,
}
_CHAMPION: Shape = {"model_package_arn": str, "metrics": (dict, type(None)), "comparable": bool, "reason": str}
EVALUATION: Shape = {
    "problem_type": PROBLEM_TYPES,
    "primary_metric": tuple(PRIMARY_METRIC.values()),
    "metrics": dict,
    "baseline_metrics": dict,
    "gate": {"passed": bool, "checks": list, "summary": str, "reason": str},
    "champion": (dict, type(None)),
    "decision": {
        "register": bool,
        "summary": str,
        "approval_status": ("Approved", "PendingManualApproval", "Rejected"),
        "primary_metric": tuple(PRIMARY_METRIC.values()),
        "min_improvement": NUMBER,
    },
    "champion_summary": {"model_package_arn": str, "metric": str},
    "rows": {"test": int},
    "label_mapping": (dict, type(None)),
    # Evaluate scores the test split in chunks: what needs every score is exact up to a row count
    "scoring": {
        "rows": int,
        "exact": bool,
        "sample_rows": int,
        "exact_rows_limit": int,
        "sample_seed": int,
        "statement": str,
    },
}


# smoke_check.json: InvokeEndpoint with ContentType content_type, Accept accept and Body body (a CSV
# with a header, the target left out), then compare the answer's lines with expected: a class as the
# data named it (exactly), or a regression number (within tolerance, relative; 0 for classes).
SMOKE_CHECK: Shape = {
    "content_type": ("text/csv",),
    "accept": ("text/csv",),
    "body": str,
    "expected": list,
    "problem_type": PROBLEM_TYPES,
    "tolerance": NUMBER,
}
# encoder.json in model.tar.gz: what Preprocess decided and fitted, for serving.py to read back
# (the encoder's columns hold each column's kind, its training median, date parts or categories).
ENCODER_DOCUMENT: Shape = {
    "format": ("retrain-trigger-encoder-1",),
    "target": str,
    "id_column": str,
    "problem_type": PROBLEM_TYPES,
    "label_mapping": (dict, type(None)),
    "column_order": list,
    "features": list,
    "encoder": {"columns": dict, "numeric": dict, "dates": dict, "categories": dict},
}


def shape_problems(document: Any, shape: Shape, where: str = "") -> list[str]:
    """What in ``document`` does not have ``shape``: one line each (empty: it conforms)."""
    if not isinstance(document, Mapping):
        return [f"{where or 'the report'} is {type(document).__name__}, not an object"]
    problems: list[str] = []
    for key, expected in shape.items():
        path = f"{where}.{key}" if where else key
        if key not in document:
            problems.append(f"{path} is missing")
        elif isinstance(expected, Mapping):
            problems.extend(shape_problems(document[key], expected, path))
        elif isinstance(expected, tuple) and expected and all(isinstance(item, str) for item in expected):
            if document[key] not in expected:
                problems.append(f"{path} is {document[key]!r}, not one of {', '.join(expected)}")
        elif isinstance(document[key], bool) and expected in (int, NUMBER, OPTIONAL_NUMBER):
            problems.append(f"{path} is a boolean, not a number")
        elif not isinstance(document[key], expected):
            problems.append(f"{path} is {type(document[key]).__name__}, not {_type_names(expected)}")
    return problems


def _type_names(expected: type | tuple[type, ...]) -> str:
    kinds = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join("null" if kind is type(None) else kind.__name__ for kind in kinds)


def smoke_check_problems(check: Any) -> list[str]:
    """The smoke check's shape, and one expected answer (text) per row of its body."""
    problems = shape_problems(check, SMOKE_CHECK)
    if problems:
        return problems
    rows = sum(1 for row in csv.reader(io.StringIO(check["body"])) if row) - 1  # the header is no row
    if not check["expected"] or not all(isinstance(answer, str) for answer in check["expected"]):
        problems.append("expected is not a list of answers as text")
    elif len(check["expected"]) != rows:
        problems.append(f"expected holds {len(check['expected'])} answers for the body's {rows} rows")
    return problems


def data_report_problems(report: Any) -> list[str]:
    """An accepted report has every section; a refused one says why, and may list what it read."""
    if isinstance(report, Mapping) and report.get("accepted") is False:
        problems = shape_problems(report, REFUSED_DATA_REPORT)
        return problems + (shape_problems(report["lineage"], _LINEAGE, "lineage") if "lineage" in report else [])
    return shape_problems(report, ACCEPTED_DATA_REPORT)


def evaluation_problems(report: Any) -> list[str]:
    """The evaluation's shape, its metrics those of its problem type, each with a label, in both layouts."""
    problems = shape_problems(report, EVALUATION)
    if problems:
        return problems
    problem_type = report["problem_type"]
    for section in ("metrics", "baseline_metrics"):
        names = tuple(report[section])
        if names != METRICS[problem_type]:
            problems.append(f"{section} are {', '.join(names)}, not {', '.join(METRICS[problem_type])}")
        problems += [
            f"{section}.{name} is not a number"
            for name, value in report[section].items()
            if value is not None and (isinstance(value, bool) or not isinstance(value, NUMBER))
        ]
    problems += [f"metric {name} has no label" for name in report["metrics"] if name not in METRIC_LABELS]
    if report["champion"] is not None:
        problems += shape_problems(report["champion"], _CHAMPION, "champion")
    registry = report.get(REGISTRY_SECTIONS[problem_type])
    if not isinstance(registry, Mapping) or set(registry) != set(report["metrics"]):
        problems.append(f"{REGISTRY_SECTIONS[problem_type]} does not hold the same metrics as metrics")
    if "report" in report:  # evaluations written before the run report have none
        problems += run_report_problems(report["report"])
    return problems


# -- model_quality.json: SageMaker Model Monitor's model-quality statistics ---------------------------
# The keys each problem type's section holds in the examples of "Model quality metrics and Amazon
# CloudWatch monitoring" (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-metrics.html).
# Each metric is {"value": number, "standard_deviation": number or "NaN"}; the confusion matrix maps
# the actual label to the predicted label to a count; the curves are lists of numbers.
_BINARY_RATES: tuple[str, ...] = ("recall", "precision", "accuracy", "true_positive_rate", "true_negative_rate")
_BINARY_RATES += ("false_positive_rate", "false_negative_rate", "auc", "f0_5", "f1", "f2")
_CONSTANT_OF = ("recall", "precision", "accuracy", "f0_5", "f1", "f2")
_BINARY_CONSTANT = tuple(f"{name}_best_constant_classifier" for name in _CONSTANT_OF)
_WEIGHTED = ("accuracy", "weighted_recall", "weighted_precision", "weighted_f0_5", "weighted_f1", "weighted_f2")
MODEL_QUALITY_METRICS = {
    "regression": ("mae", "mse", "rmse", "r2"),
    "binary": _BINARY_RATES + _BINARY_CONSTANT,
    "multiclass": _WEIGHTED + tuple(f"{name}_best_constant_classifier" for name in _WEIGHTED),
}
MODEL_QUALITY_CURVES = {
    "receiver_operating_characteristic_curve": ("false_positive_rates", "true_positive_rates"),
    "precision_recall_curve": ("precisions", "recalls"),
}
# evaluation.json's "report": whether Evaluate drew report.html, or why not (the run goes on either way).
DRAWN_REPORT: Shape = {"drawn": bool, "file": (RUN_REPORT_FILE,)}
UNDRAWN_REPORT: Shape = {"drawn": bool, "reason": str}


def model_quality_problems(document: Any, problem_type: str) -> list[str]:
    """What in ``document`` is not Model Monitor's model-quality statistics for ``problem_type``."""
    section_name = REGISTRY_SECTIONS[problem_type]
    if not isinstance(document, Mapping) or not isinstance(document.get(section_name), Mapping):
        return [f"{section_name} is missing"]
    section = document[section_name]
    problems = [_metric_problem(section, name) for name in MODEL_QUALITY_METRICS[problem_type]]
    if problem_type != "regression":
        problems.append(_confusion_problem(section.get("confusion_matrix")))
    if problem_type == "binary":
        problems += [_curve_problem(section.get(curve), curve, keys) for curve, keys in MODEL_QUALITY_CURVES.items()]
    return [problem for problem in problems if problem]


def _metric_problem(section: Mapping[str, Any], name: str) -> str:
    metric = section.get(name)
    if not isinstance(metric, Mapping) or set(metric) != {"value", "standard_deviation"}:
        return f"{name} is not {{value, standard_deviation}}"
    for key in ("value", "standard_deviation"):
        value = metric[key]
        if value != "NaN" and (isinstance(value, bool) or not isinstance(value, NUMBER)):
            return f"{name}.{key} is {value!r}, not a number or 'NaN'"
    return ""


def _confusion_problem(matrix: Any) -> str:
    if not isinstance(matrix, Mapping) or not matrix:
        return "confusion_matrix is not a table of actual label to predicted label to count"
    labels = set(matrix)
    for actual, row in matrix.items():
        if not isinstance(row, Mapping) or set(row) != labels:
            return f"confusion_matrix[{actual!r}] does not count every label"
        if any(isinstance(count, bool) or not isinstance(count, int) or count < 0 for count in row.values()):
            return f"confusion_matrix[{actual!r}] holds something other than counts"
    return ""


def _curve_problem(curve: Any, name: str, keys: tuple[str, str]) -> str:
    if not isinstance(curve, Mapping) or set(curve) != set(keys):
        return f"{name} is not {{{', '.join(keys)}}}"
    first, second = (curve[key] for key in keys)
    if not isinstance(first, list) or not isinstance(second, list) or len(first) != len(second):
        return f"{name}: {keys[0]} and {keys[1]} are not lists of one length"
    if any(isinstance(v, bool) or not isinstance(v, NUMBER) or not 0 <= v <= 1 for v in first + second):
        return f"{name} holds a value that is not a rate between 0 and 1"
    return ""


def run_report_problems(status: Any) -> list[str]:
    """evaluation.json's "report": drawn (and its file), or not drawn and why."""
    if isinstance(status, Mapping) and status.get("drawn") is True:
        return shape_problems(status, DRAWN_REPORT, "report")
    return shape_problems(status, UNDRAWN_REPORT, "report")
