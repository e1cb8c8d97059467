"""Evaluate: score the model, the trivial baseline and the model in production on the test split; decide.

Runs in the SageMaker XGBoost 3.2-0 container (Python 3.12, xgboost 3.2, boto3 1.38), or on its own:

    python evaluate.py --base-dir /tmp/processing \
        --min-r2 0.1 --min-auc 0.6 --min-accuracy-lift 0.05 --mse-threshold 0 \
        --min-improvement 0 --auto-approve false --model-approval-status PendingManualApproval \
        --model-package-group '' --region us-east-1

Reads {base-dir}/model/model.tar.gz (holding `xgboost-model`, as the built-in algorithm writes it),
{base-dir}/test/*.csv (label first, no header; any number of part files, empty ones too, read
CHUNK_ROWS rows at a time so that memory does not grow with the test split) and
{base-dir}/report/data_report.json (problem
type, label mapping, the baseline learned on the training split). Writes
{base-dir}/evaluation/evaluation.json: the metrics of the model and of the baseline, the gate
decision with its reason, and the same metrics in the layout SageMaker Model Registry shows.

The champion is the latest Approved package of --model-package-group (none: no comparison). It
is scored on the same test split, laid out as its features by name, when every column it used is
here for the same problem and classes and its rows were split by the same scheme (otherwise the new
model is registered for review: under another split scheme, its test rows may be rows it trained on);
the new model is registered only if it passes the gates and beats the champion on the primary
metric by at least --min-improvement (relative: 0.01 means 1% better; 0 means better by any amount:
a tie keeps production).

Metrics that need every score at once (AUC, the curves and standard deviations of model_quality.json,
the run report's pictures) are exact on up to EXACT_ROWS test rows (--exact-rows); beyond that they
are computed on a uniform sample of that many rows (reservoir sampling, seed SAMPLE_SEED), and
evaluation.json's `scoring` says which. The other metrics are always computed on every row.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import json
import math
import multiprocessing
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import xgboost
# xgboost and scipy (2 s and more to import) are imported where they are used, once the report
# drawer has started: its child imports matplotlib meanwhile, on the other core (see ReportDrawer).

EPSILON = 1e-15
# Copies of reports.py's vocabulary (this script runs on its own in its image; a test keeps them equal).
# The metric that decides against the champion, per problem type.
PRIMARY_METRIC = {"regression": "rmse", "binary": "auc", "multiclass": "accuracy"}
LOWER_IS_BETTER = ("rmse", "mse", "mae", "log_loss")
LEGACY_SPLIT_SCHEME = "pandas-hash"  # data reports written before the split scheme was recorded
# A column the champion used that went missing in this many more of the rows (as a share) makes the
# comparison unfair to it: the new model is registered for review instead.
MAX_MISSING_SHARE_INCREASE = 0.5
LABELS = {
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
# SageMaker Model Registry's model quality layout.
REGISTRY_SECTIONS = {
    "regression": "regression_metrics",
    "binary": "binary_classification_metrics",
    "multiclass": "multiclass_classification_metrics",
}
# Beside evaluation.json: the run report and the model-quality statistics in Model Monitor's shape.
RUN_REPORT_FILE = "report.html"
MODEL_QUALITY_FILE = "model_quality.json"
RUN_REPORT_MODULE = "run_report"  # pipeline/steps/run_report.py, which draws the report
# Preprocess's `transform` output (an input of this job) and what it holds; smoke_check.json beside evaluation.json.
TRANSFORM_OUTPUT = "transform"
TRANSFORM_ARCHIVE = "model.tar.gz"
ENCODER_FILE = "encoder.json"
SMOKE_ROWS_FILE = "smoke_rows.csv"
SMOKE_FEATURES_FILE = "smoke_features.csv"
SMOKE_CHECK_FILE = "smoke_check.json"
SERVING_MODULE = "serving"  # code/serving.py in model.tar.gz
SERVING_STAGE_ENV = "RETRAIN_SERVING_STAGE"  # in the Environment of the package's serving containers


def load_model(model_dir: Path) -> xgboost.Booster:
    with tempfile.TemporaryDirectory() as unpacked, tarfile.open(model_dir / "model.tar.gz") as archive:
        member = archive.getmember("xgboost-model")  # the only file used; nothing else is unpacked
        if not member.isfile():
            raise ValueError("xgboost-model in model.tar.gz is not a regular file")
        archive.extract(member, unpacked, filter="data")
        import xgboost

        booster = xgboost.Booster()
        booster.load_model(str(Path(unpacked) / "xgboost-model"))
    return booster


# Scoring in chunks: memory holds one chunk's features, and a label and scores per kept row.
CHUNK_ROWS = 50_000
EXACT_ROWS = 1_000_000  # metrics that need every score: exact up to this many rows, else on a sample of it
SAMPLE_SEED = 0


def split_chunks(test_dir: Path, rows: int = CHUNK_ROWS) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(labels, features) of at most ``rows`` rows at a time, from every part file in name order."""
    for path in sorted(test_dir.glob("*.csv")):
        if path.stat().st_size == 0:
            continue  # a part file with no rows (a split written as more files than it has rows)
        with path.open(encoding="utf-8") as handle:
            while lines := list(itertools.islice(handle, rows)):
                table = np.loadtxt(lines, delimiter=",", ndmin=2)
                if len(table):
                    yield table[:, 0], table[:, 1:]


class Reservoir:
    """A uniform sample of at most ``limit`` rows of a stream (Vitter's algorithm R), the same rows of
    every column; every row, in order, while there are no more than ``limit``."""

    def __init__(self, limit: int, seed: int = SAMPLE_SEED) -> None:
        self.limit, self.seen = limit, 0
        self._random = np.random.default_rng(seed)
        self._chunks: list[list[np.ndarray]] = []
        self._full: list[np.ndarray] | None = None

    def add(self, columns: list[np.ndarray]) -> None:
        count = len(columns[0])
        room = max(0, min(count, self.limit - self.seen))
        if room:
            self._chunks.append([column[:room] for column in columns])
        if room < count:
            full = self._filled()
            # Row number i (from 0) replaces a random slot with probability limit / (i + 1).
            numbers = np.arange(self.seen + room, self.seen + count)
            slots = self._random.integers(0, numbers + 1)
            chosen = slots < self.limit
            for kept, column in zip(full, columns, strict=True):
                kept[slots[chosen]] = column[room:][chosen]
        self.seen += count

    def _filled(self) -> list[np.ndarray]:
        if self._full is None:
            self._full = [np.concatenate(parts) for parts in zip(*self._chunks, strict=True)]
            self._chunks = []
        return self._full

    def columns(self) -> list[np.ndarray]:
        return (
            self._full
            if self._full is not None
            else [np.concatenate(parts) for parts in zip(*self._chunks, strict=True)]
        )

    @property
    def exact(self) -> bool:
        return self.seen <= self.limit


# -- metrics -------------------------------------------------------------------------------------


def regression_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    errors = actual - predicted
    mse = float(np.mean(errors**2))
    total = float(np.sum((actual - actual.mean()) ** 2))
    return {
        "mse": mse,
        "rmse": math.sqrt(mse),
        "mae": float(np.mean(np.abs(errors))),
        "r2": 1.0 - float(np.sum(errors**2)) / total if total > 0 else 0.0,
    }


def auc(actual: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney U, ties counted half); None when one class is absent."""
    positives = actual == 1
    count_positive, count_negative = int(positives.sum()), int((~positives).sum())
    if count_positive == 0 or count_negative == 0:
        return None
    from scipy.stats import rankdata

    ranks = rankdata(score)
    rank_sum = float(ranks[positives].sum())
    return (rank_sum - count_positive * (count_positive + 1) / 2) / (count_positive * count_negative)


def f1(actual: np.ndarray, predicted: np.ndarray, positive: int) -> float:
    true_positive = float(np.sum((predicted == positive) & (actual == positive)))
    predicted_positive = float(np.sum(predicted == positive))
    actual_positive = float(np.sum(actual == positive))
    if true_positive == 0:
        return 0.0
    precision, recall = true_positive / predicted_positive, true_positive / actual_positive
    return 2 * precision * recall / (precision + recall)


def binary_metrics(actual: np.ndarray, probability: np.ndarray) -> dict[str, float | None]:
    clipped = np.clip(probability, EPSILON, 1 - EPSILON)
    predicted = (probability >= 0.5).astype(float)
    return {
        "auc": auc(actual, probability),
        "accuracy": float(np.mean(predicted == actual)),
        "f1": f1(actual, predicted, positive=1),
        "log_loss": float(-np.mean(actual * np.log(clipped) + (1 - actual) * np.log(1 - clipped))),
    }


def multiclass_metrics(actual: np.ndarray, probabilities: np.ndarray) -> dict[str, float | None]:
    labels = actual.astype(int)
    predicted = probabilities.argmax(axis=1)
    present = np.unique(np.concatenate([labels, predicted]))
    chosen = np.clip(probabilities[np.arange(len(labels)), labels], EPSILON, 1.0)
    return {
        "accuracy": float(np.mean(predicted == labels)),
        "macro_f1": float(np.mean([f1(labels, predicted, int(c)) for c in present])),
        "log_loss": float(-np.mean(np.log(chosen))),
    }


class Totals:
    """What the metrics that add up over rows need, summed chunk by chunk: exact on every row.

    regression: squared and absolute errors, and the labels' mean and sum of squared deviations (for R2);
    binary: the counts at threshold 0.5 and the log loss; multiclass: the confusion table and the log loss.
    """

    def __init__(self, problem_type: str) -> None:
        self.problem_type, self.rows = problem_type, 0
        self.sums: dict[str, float] = {"squared": 0.0, "absolute": 0.0, "log_loss": 0.0, "mean": 0.0, "spread": 0.0}
        self.table = np.zeros((2, 2), dtype=np.int64)

    def add(self, actual: np.ndarray, predicted: np.ndarray) -> None:
        count, sums = len(actual), self.sums
        if self.problem_type == "regression":
            errors = actual - predicted
            sums["squared"] += float(np.sum(errors**2))
            sums["absolute"] += float(np.sum(np.abs(errors)))
            # Chan et al.'s pairwise update of the labels' mean and sum of squared deviations.
            mean = float(np.mean(actual))
            delta, total = mean - sums["mean"], self.rows + count
            sums["spread"] += float(np.sum((actual - mean) ** 2)) + delta**2 * self.rows * count / total
            sums["mean"] += delta * count / total
        else:
            labels = actual.astype(int)
            binary = self.problem_type == "binary"
            chosen = (predicted >= 0.5).astype(int) if binary else predicted.argmax(axis=1)
            classes = 2 if binary else predicted.shape[1]
            if self.table.shape[0] != classes:
                self.table = np.zeros((classes, classes), dtype=np.int64)
            self.table += counts_table(labels, chosen, classes)
            chance = np.where(labels == 1, predicted, 1 - predicted) if binary else predicted[np.arange(count), labels]
            sums["log_loss"] -= float(np.sum(np.log(np.clip(chance, EPSILON, 1 - EPSILON if binary else 1.0))))
        self.rows += count

    def metrics(self, auc_value: float | None) -> dict[str, float | None]:
        """The metrics `score` gives, from the sums; ``auc_value`` (binary) from the kept rows."""
        rows, sums, table = max(self.rows, 1), self.sums, self.table
        if self.problem_type == "regression":
            mse = sums["squared"] / rows
            r2 = 1.0 - sums["squared"] / sums["spread"] if sums["spread"] > 0 else 0.0
            return {"mse": mse, "rmse": math.sqrt(mse), "mae": sums["absolute"] / rows, "r2": r2}
        hits, actual, predicted = np.diag(table), table.sum(axis=1), table.sum(axis=0)
        scores = [_f1_of(int(hits[c]), int(predicted[c]), int(actual[c])) for c in range(len(hits))]
        accuracy, log_loss = float(hits.sum()) / rows, sums["log_loss"] / rows
        if self.problem_type == "binary":
            return {"auc": auc_value, "accuracy": accuracy, "f1": scores[1], "log_loss": log_loss}
        present = [score for c, score in enumerate(scores) if actual[c] or predicted[c]]
        return {"accuracy": accuracy, "macro_f1": float(np.mean(present)), "log_loss": log_loss}


def _f1_of(true_positive: int, predicted_positive: int, actual_positive: int) -> float:
    if true_positive == 0:
        return 0.0
    precision, recall = true_positive / predicted_positive, true_positive / actual_positive
    return 2 * precision * recall / (precision + recall)


def predict(problem_type: str, booster: xgboost.Booster, features: np.ndarray) -> np.ndarray:
    """The model's predictions: a value, the positive class's probability, or one probability per class."""
    import xgboost

    predicted = booster.predict(xgboost.DMatrix(features))
    return predicted.reshape(len(features), -1) if problem_type == "multiclass" else predicted


def score(
    problem_type: str, actual: np.ndarray, predicted: np.ndarray, baseline: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model's metrics and the trivial baseline's, on the same rows."""
    rows = len(actual)
    if problem_type == "regression":
        constant = np.full(rows, baseline["mean"])
        return regression_metrics(actual, predicted), regression_metrics(actual, constant)
    shares = np.asarray(baseline["class_shares"], dtype=float)
    if problem_type == "binary":
        return binary_metrics(actual, predicted), _constant_binary(actual, shares[1] if len(shares) > 1 else 0.0)
    prior = np.tile(shares, (rows, 1))
    return multiclass_metrics(actual, predicted), multiclass_metrics(actual, prior)


def _constant_binary(actual: np.ndarray, share: float) -> dict[str, float | None]:
    """The majority class for accuracy and F1, the training share for AUC and log loss."""
    metrics = binary_metrics(actual, np.full(len(actual), share))
    majority = np.full(len(actual), 1.0 if share >= 0.5 else 0.0)
    metrics["accuracy"] = float(np.mean(majority == actual))
    metrics["f1"] = f1(actual, majority, positive=1)
    return metrics


# -- gates ---------------------------------------------------------------------------------------


def gate(
    problem_type: str, metrics: dict[str, Any], baseline: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    """Scale-free by default: the model must beat the trivial baseline by a margin."""
    checks: list[dict[str, Any]] = []

    def check(name: str, value: float | None, threshold: float, passes: bool, text: str) -> None:
        checks.append({"check": name, "value": value, "threshold": threshold, "passed": passes, "text": text})

    if problem_type == "regression":
        r2 = metrics["r2"]
        check(
            "MinR2", r2, args.min_r2, r2 >= args.min_r2, f"R2 {r2:.3f} {_cmp(r2 >= args.min_r2)} MinR2 {args.min_r2:g}"
        )
        if args.mse_threshold > 0:
            mse = metrics["mse"]
            passes = mse <= args.mse_threshold
            check(
                "MseThreshold",
                mse,
                args.mse_threshold,
                passes,
                f"MSE {mse:.4g} {'<=' if passes else '>'} MseThreshold {args.mse_threshold:g}",
            )
    elif problem_type == "binary":
        value = metrics["auc"]
        passes = value is not None and value >= args.min_auc
        shown = "not defined (the test split holds one class)" if value is None else f"{value:.3f}"
        check("MinAuc", value, args.min_auc, passes, f"AUC {shown} {_cmp(passes)} MinAuc {args.min_auc:g}")
    else:
        lift = metrics["accuracy"] - baseline["accuracy"]
        passes = lift >= args.min_accuracy_lift
        check(
            "MinAccuracyLift",
            lift,
            args.min_accuracy_lift,
            passes,
            f"accuracy {metrics['accuracy']:.3f} against the majority class's {baseline['accuracy']:.3f}: "
            f"a lift of {lift:+.3f}, {_cmp(passes)} MinAccuracyLift {args.min_accuracy_lift:g}",
        )
    failed = [c for c in checks if not c["passed"]]
    return {
        "passed": not failed,
        "checks": checks,
        "summary": "; ".join(c["text"] for c in checks),
        "reason": "" if not failed else "model not good enough: " + "; ".join(c["text"] for c in failed),
    }


def _cmp(passes: bool) -> str:
    return ">=" if passes else "is below"


def label(name: str) -> str:
    """A metric's label; one missing from LABELS is shown by its own name rather than failing the step."""
    return LABELS.get(name, name.replace("_", " "))


def describe(metrics: dict[str, Any]) -> str:
    return ", ".join(f"{label(name)} {_number(value)}" for name, value in metrics.items())


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def registry_layout(problem_type: str, metrics: dict[str, Any]) -> dict[str, Any]:
    section = {
        name: {"value": "NaN" if value is None else value, "standard_deviation": "NaN"}
        for name, value in metrics.items()
    }
    return {REGISTRY_SECTIONS[problem_type]: section}


# -- Model Monitor's model-quality statistics --------------------------------------------------------
# The shape SageMaker Model Monitor writes for each problem type, which the model registry (Studio)
# renders when a package's ModelQuality statistics hold it. Keys, nesting and the confusion matrix's
# orientation (outer key: the actual label, inner: the predicted one) follow the examples of
# "Model quality metrics and Amazon CloudWatch monitoring",
# https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-metrics.html
# (binary: recall 1.0 and precision 1/3 from {"0": {"0": 1, "1": 2}, "1": {"0": 0, "1": 1}}).
# That page also says how the standard deviation is computed: only from 200 rows on, by scoring a
# random 80% of the rows five times; below that it is "NaN".
MIN_ROWS_FOR_DEVIATION = 200
DEVIATION_SAMPLES = 5
DEVIATION_SHARE = 0.8
MAX_CURVE_POINTS = 101  # each curve downsampled to at most this many points (ends kept)


def model_quality(
    problem_type: str, actual: np.ndarray, predicted: np.ndarray, label_mapping: dict[str, str] | None
) -> dict[str, Any]:
    """Model Monitor's statistics document for this model on these rows."""
    if problem_type == "regression":
        section = _with_deviation(lambda rows: regression_metrics(actual[rows], predicted[rows]), len(actual))
        return {REGISTRY_SECTIONS[problem_type]: section}
    names = class_names(label_mapping, 2 if problem_type == "binary" else predicted.shape[1])
    labels = actual.astype(int)
    if problem_type == "binary":
        chosen = (predicted >= 0.5).astype(int)
        roc, precision_recall = curves(labels, predicted)
        section = {
            "confusion_matrix": confusion_matrix(labels, chosen, names),
            **_with_deviation(lambda rows: binary_quality(labels[rows], predicted[rows]), len(labels)),
            "receiver_operating_characteristic_curve": roc,
            "precision_recall_curve": precision_recall,
        }
    else:
        chosen = predicted.argmax(axis=1)
        section = {
            "confusion_matrix": confusion_matrix(labels, chosen, names),
            **_with_deviation(lambda rows: multiclass_quality(labels[rows], chosen[rows], len(names)), len(labels)),
        }
    return {REGISTRY_SECTIONS[problem_type]: section}


def class_names(label_mapping: dict[str, str] | None, count: int) -> list[str]:
    """Each class's label as the data spelled it (the label mapping), else its number."""
    return [str((label_mapping or {}).get(str(index), index)) for index in range(count)]


def counts_table(labels: np.ndarray, chosen: np.ndarray, classes: int) -> np.ndarray:
    """Rows: the actual class; columns: the predicted one."""
    return np.bincount(labels * classes + chosen, minlength=classes * classes).reshape(classes, classes)


def confusion_matrix(labels: np.ndarray, chosen: np.ndarray, names: list[str]) -> dict[str, dict[str, int]]:
    table = counts_table(labels, chosen, len(names))
    return {
        actual: {predicted: int(table[a, p]) for p, predicted in enumerate(names)} for a, actual in enumerate(names)
    }


def _with_deviation(compute: Any, rows: int) -> dict[str, dict[str, Any]]:
    """Each metric of ``compute(rows)`` with its standard deviation over random 80% samples."""
    values = compute(np.arange(rows))
    samples: list[dict[str, Any]] = []
    if rows >= MIN_ROWS_FOR_DEVIATION:
        rng = np.random.default_rng(0)
        size = int(rows * DEVIATION_SHARE)
        samples = [compute(rng.choice(rows, size, replace=False)) for _ in range(DEVIATION_SAMPLES)]
    section = {}
    for name, value in values.items():
        found = [sample[name] for sample in samples if sample[name] is not None]
        deviation = float(np.std(found)) if value is not None and len(found) == len(samples) and samples else "NaN"
        section[name] = {"value": "NaN" if value is None else value, "standard_deviation": deviation}
    return section


def f_beta(precision: float, recall: float, beta: float) -> float:
    weight = beta * beta
    denominator = weight * precision + recall
    return (1 + weight) * precision * recall / denominator if denominator > 0 else 0.0


def _rates(labels: np.ndarray, chosen: np.ndarray) -> dict[str, float]:
    """Accuracy, precision, recall and the four rates of a binary decision (0 where undefined)."""
    true_positive = float(np.sum((chosen == 1) & (labels == 1)))
    false_positive = float(np.sum((chosen == 1) & (labels == 0)))
    positives, negatives = float(np.sum(labels == 1)), float(np.sum(labels == 0))
    recall = true_positive / positives if positives else 0.0
    false_positive_rate = false_positive / negatives if negatives else 0.0
    predicted_positive = true_positive + false_positive
    return {
        "recall": recall,
        "precision": true_positive / predicted_positive if predicted_positive else 0.0,
        "accuracy": float(np.mean(chosen == labels)) if len(labels) else 0.0,
        "true_positive_rate": recall,
        "true_negative_rate": 1.0 - false_positive_rate if negatives else 0.0,
        "false_positive_rate": false_positive_rate,
        "false_negative_rate": 1.0 - recall if positives else 0.0,
    }


def binary_quality(labels: np.ndarray, probability: np.ndarray) -> dict[str, float | None]:
    """Model Monitor's binary metrics. Its "best constant classifier" always predicts the positive class
    (in the page's example it has recall 1.0 and precision and accuracy 0.25, the positive share)."""
    ours = _rates(labels, (probability >= 0.5).astype(int))
    constant = _rates(labels, np.ones_like(labels))
    metrics: dict[str, float | None] = {**ours, "auc": auc(labels, probability)}
    for name in ("recall", "precision", "accuracy"):
        metrics[f"{name}_best_constant_classifier"] = constant[name]
    for beta, name in ((0.5, "f0_5"), (1.0, "f1"), (2.0, "f2")):
        metrics[name] = f_beta(ours["precision"], ours["recall"], beta)
        metrics[f"{name}_best_constant_classifier"] = f_beta(constant["precision"], constant["recall"], beta)
    return metrics


def per_class(labels: np.ndarray, chosen: np.ndarray, classes: int) -> dict[str, np.ndarray]:
    """Each class's support share, precision and recall (0 where undefined)."""
    table = counts_table(labels, chosen, classes).astype(float)
    hits, actual, predicted = np.diag(table), table.sum(axis=1), table.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, hits / predicted, 0.0)
        recall = np.where(actual > 0, hits / actual, 0.0)
    return {"weight": actual / max(actual.sum(), 1.0), "precision": precision, "recall": recall}


def multiclass_quality(labels: np.ndarray, chosen: np.ndarray, classes: int) -> dict[str, float | None]:
    """Model Monitor's multiclass metrics, weighted by each class's support; its best constant classifier
    predicts the most frequent class of these rows."""
    metrics: dict[str, float | None] = {}
    majority = np.full_like(labels, int(np.argmax(np.bincount(labels, minlength=classes)))) if len(labels) else labels
    for suffix, decided in (("", chosen), ("_best_constant_classifier", majority)):
        each = per_class(labels, decided, classes)
        metrics[f"accuracy{suffix}"] = float(np.mean(decided == labels)) if len(labels) else 0.0
        metrics[f"weighted_recall{suffix}"] = float(np.sum(each["weight"] * each["recall"]))
        metrics[f"weighted_precision{suffix}"] = float(np.sum(each["weight"] * each["precision"]))
        for beta, name in ((0.5, "f0_5"), (1.0, "f1"), (2.0, "f2")):
            scores = [f_beta(p, r, beta) for p, r in zip(each["precision"], each["recall"], strict=True)]
            metrics[f"weighted_{name}{suffix}"] = float(np.sum(each["weight"] * np.asarray(scores)))
    return metrics


def curves(labels: np.ndarray, score: np.ndarray) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """The ROC and precision-recall curves at each distinct score, downsampled; empty when a class is absent."""
    positives, negatives = int(np.sum(labels == 1)), int(np.sum(labels == 0))
    if positives == 0 or negatives == 0:
        return {"false_positive_rates": [], "true_positive_rates": []}, {"precisions": [], "recalls": []}
    order = np.argsort(-score, kind="stable")
    hits = labels[order] == 1
    last_of_each_score = np.r_[np.nonzero(np.diff(score[order]))[0], len(score) - 1]
    true_positive = np.cumsum(hits)[last_of_each_score].astype(float)
    false_positive = np.cumsum(~hits)[last_of_each_score].astype(float)
    recall = true_positive / positives
    keep = downsample(len(recall) + 1)
    roc = {
        "false_positive_rates": np.r_[0.0, false_positive / negatives][keep].tolist(),
        "true_positive_rates": np.r_[0.0, recall][keep].tolist(),
    }
    keep = downsample(len(recall))
    precision_recall = {
        "precisions": (true_positive / (true_positive + false_positive))[keep].tolist(),
        "recalls": recall[keep].tolist(),
    }
    return roc, precision_recall


def downsample(points: int) -> np.ndarray:
    """At most MAX_CURVE_POINTS indices of ``points``, evenly spread, the first and last kept."""
    if points <= MAX_CURVE_POINTS:
        return np.arange(points)
    return np.unique(np.linspace(0, points - 1, MAX_CURVE_POINTS).round().astype(int))


# -- the champion ----------------------------------------------------------------------------------


def find_champion(region: str, group: str) -> dict[str, Any] | None:
    """The latest Approved package of the group: its ARN, model URI and data report URI."""
    import boto3  # in the image; imported here so the script runs without it when no group is given

    # The image's boto3 (1.38) reads AWS_ENDPOINT_URL itself: unset on AWS, the local emulator's locally.
    sagemaker = boto3.client("sagemaker", region_name=region)
    listed = sagemaker.list_model_packages(
        ModelPackageGroupName=group,
        ModelApprovalStatus="Approved",
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=1,
    )["ModelPackageSummaryList"]
    if not listed:
        return None
    package = sagemaker.describe_model_package(ModelPackageName=listed[0]["ModelPackageArn"])
    data_statistics = (package.get("ModelMetrics") or {}).get("ModelDataQuality", {}).get("Statistics", {})
    return {
        "model_package_arn": package["ModelPackageArn"],
        "model_uri": model_container(package["InferenceSpecification"]["Containers"])["ModelDataUrl"],
        "data_report_uri": data_statistics.get("S3Uri"),
        "s3": boto3.client("s3", region_name=region),
    }


def model_container(containers: list[Any]) -> Any:
    """The XGBoost container of a package: the one that is no serving stage (packages registered before
    the inference pipeline hold it alone)."""
    return next((c for c in containers if SERVING_STAGE_ENV not in (c.get("Environment") or {})), containers[0])


def _read_s3(s3: Any, uri: str) -> bytes:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def prepare_champion(
    champion: dict[str, Any], data_report: dict[str, Any]
) -> tuple[dict[str, Any], tuple[xgboost.Booster, dict[str, Any]] | None]:
    """The champion's facts, and its booster and data report when it can be scored on this test split."""
    found = {"model_package_arn": champion["model_package_arn"], "metrics": None, "comparable": False}
    if not champion["data_report_uri"]:
        return {**found, "reason": "it has no data report, so its features are unknown"}, None
    trained_on = json.loads(_read_s3(champion["s3"], champion["data_report_uri"]))
    if trained_on["problem_type"]["chosen"] != data_report["problem_type"]["chosen"]:
        return {**found, "reason": f"it solves a {trained_on['problem_type']['chosen']} problem"}, None
    if trained_on.get("label_mapping") != data_report.get("label_mapping"):
        return {**found, "reason": "it was trained on other classes"}, None
    theirs, ours = _split_scheme(trained_on), _split_scheme(data_report)
    if theirs != ours:
        reason = (
            f"its rows were split by scheme {theirs}, this run's by {ours}: some of this run's "
            "test rows may be rows it was trained on"
        )
        return {**found, "reason": reason}, None
    problem = align_features(np.zeros((0, len(data_report["features"]))), data_report, trained_on)
    if isinstance(problem, str):
        return {**found, "reason": problem}, None
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "model.tar.gz").write_bytes(_read_s3(champion["s3"], champion["model_uri"]))
        booster = load_model(Path(folder))
    return {**found, "comparable": True, "reason": ""}, (booster, trained_on)


class Scoring:
    """The test split scored chunk by chunk by the new model, the trivial baseline and the champion:
    the metrics that add up over rows summed on every row, and the rows kept (all of them up to the
    limit, else a uniform sample) for the metrics that need every score."""

    def __init__(self, data_report: dict[str, Any], booster: Any, champion: Any, limit: int) -> None:
        self.data_report, self.booster, self.champion = data_report, booster, champion
        self.problem_type = data_report["problem_type"]["chosen"]
        self.totals = {name: Totals(self.problem_type) for name in ("model", "baseline", "production")}
        self.kept = Reservoir(limit)

    def add(self, actual: np.ndarray, features: np.ndarray) -> None:
        predicted = predict(self.problem_type, self.booster, features)
        columns = [actual, predicted]
        self.totals["model"].add(actual, predicted)
        self.totals["baseline"].add(actual, baseline_scores(self.problem_type, self.data_report["baseline"], actual))
        if self.champion is not None:
            booster, trained_on = self.champion
            aligned = align_features(features, self.data_report, trained_on)
            assert not isinstance(aligned, str)  # prepare_champion checked the columns once for all rows
            theirs = predict(self.problem_type, booster, aligned)
            self.totals["production"].add(actual, theirs)
            columns.append(theirs)
        self.kept.add(columns)

    def results(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
        """The model's, the baseline's and the champion's metrics (None without a champion)."""
        kept = self.kept.columns()
        actual, predicted = kept[0], kept[1]
        production = kept[2] if self.champion is not None else None
        baseline = self.data_report["baseline"]
        if self.kept.exact:  # every row is kept: each metric exactly as on the whole split at once
            metrics, baseline_metrics = score(self.problem_type, actual, predicted, baseline)
            theirs = None if production is None else score(self.problem_type, actual, production, baseline)[0]
            return metrics, baseline_metrics, theirs
        sampled = {"model": predicted, "production": production}
        sampled["baseline"] = baseline_scores(self.problem_type, baseline, actual)
        found = {}
        for name, scores in sampled.items():
            area = auc(actual, scores) if self.problem_type == "binary" and scores is not None else None
            found[name] = self.totals[name].metrics(area)
        return found["model"], found["baseline"], None if production is None else found["production"]

    def statement(self) -> dict[str, Any]:
        """evaluation.json's `scoring`: on how many rows the metrics that need every score were computed."""
        rows, kept = self.kept.seen, min(self.kept.seen, self.kept.limit)
        said = f"exact on {rows:,} rows" if self.kept.exact else f"on a uniform sample of {kept:,} of {rows:,} rows"
        return {
            "rows": rows,
            "exact": self.kept.exact,
            "sample_rows": kept,
            "exact_rows_limit": self.kept.limit,
            "sample_seed": SAMPLE_SEED,
            "statement": f"AUC, the curves, the standard deviations and the pictures: {said}; "
            f"the other metrics on all {rows:,} rows",
        }


def score_test_split(test_dir: Path, data_report: dict[str, Any], booster: Any, champion: Any, limit: int) -> Scoring:
    """Every row of every part file, CHUNK_ROWS at a time."""
    scoring = Scoring(data_report, booster, champion, limit)
    for actual, features in split_chunks(test_dir):
        scoring.add(actual, features)
    if scoring.kept.seen == 0:
        raise ValueError(f"the test split at {test_dir} holds no rows")
    return scoring


def baseline_scores(problem_type: str, baseline: dict[str, Any], actual: np.ndarray) -> np.ndarray:
    """The trivial baseline's prediction for each row (`score` says what it is per problem type)."""
    rows = len(actual)
    if problem_type == "regression":
        return np.full(rows, baseline["mean"])
    shares = np.asarray(baseline["class_shares"], dtype=float)
    if problem_type == "binary":
        return np.full(rows, shares[1] if len(shares) > 1 else 0.0)
    return np.tile(shares, (rows, 1))


def _split_scheme(report: dict[str, Any]) -> str:
    return str((report.get("split") or {}).get("scheme") or LEGACY_SPLIT_SCHEME)


def missing_share(report: dict[str, Any], column: str) -> float:
    """The share of the data's rows in which this column had no usable value."""
    described = (report.get("columns") or {}).get(column) or {}
    missing = sum(int(described.get(name) or 0) for name in ("missing", "infinite", "missing_or_unreadable"))
    missing += int((described.get("non_numeric_cells") or {}).get("count") or 0)
    rows = int((report.get("rows") or {}).get("used") or 0)
    return missing / rows if rows else 0.0


def align_features(features: np.ndarray, ours: dict[str, Any], theirs: dict[str, Any]) -> np.ndarray | str:
    """This run's test rows in the champion's feature layout, or why they cannot be.

    Every column the champion used must be here, of the same kind. A category it kept that this run
    folded into `column=other` (or never saw) is 0; its `column=other` is 1 for a row whose category
    it did not keep (this run's `column=other` rows included: their value is not known here).
    """
    our_names = list(ours["features"])
    index = {name: n for n, name in enumerate(our_names)}
    our_columns = ours.get("columns") or {}
    for column, described in (theirs.get("columns") or {}).items():
        kind = described.get("kind")
        if kind == "dropped":
            continue
        if (our_columns.get(column) or {}).get("kind") != kind:
            return f"it used column {column!r} ({kind}), which this run's data does not have as such"
        now, then = missing_share(ours, column), missing_share(theirs, column)
        if now - then > MAX_MISSING_SHARE_INCREASE:
            return (
                f"column {column!r} it used is missing in {now:.0%} of this run's rows "
                f"({then:.0%} in the data it was trained on)"
            )
    aligned = np.zeros((features.shape[0], len(theirs["features"])))
    for position, name in enumerate(theirs["features"]):
        column, _, value = name.rpartition("=")
        is_category = (our_columns.get(column) or {}).get("kind") == "category"
        if value == "other" and is_category:
            # Every category of ours the champion did not keep, our own "other" included.
            kept = {f"{column}={category}" for category in theirs["columns"][column]["categories"]}
            kept.add(f"{column}=missing")
            elsewhere = [index[n] for n in our_names if n.startswith(f"{column}=") and n not in kept]
            aligned[:, position] = features[:, elsewhere].sum(axis=1) if elsewhere else 0.0
        elif name in index:
            aligned[:, position] = features[:, index[name]]
        elif is_category:
            aligned[:, position] = 0.0
        else:
            aligned[:, position] = np.nan  # xgboost's missing value
    return aligned


# -- the smoke check: what the staging endpoint must answer ------------------------------------------
# Preprocess's `transform` output holds the smoke sample (a few test rows as a caller sends them, and
# their features as Preprocess encoded them) and model.tar.gz, whose code/serving.py is the Labels
# container's program: its own Labels turn this model's predictions into the expected answers, so the
# endpoint is checked against the code it serves, while the rows go through its features container.
# The model computes in float32; the XGBoost container writes each prediction's repr
# (sagemaker-containers _encoders.array_to_csv), which the Labels container reads back exactly, so
# regression numbers compare equal; SMOKE_TOLERANCE (relative) leaves room for a last-digit difference.
SMOKE_TOLERANCE = 1e-6
SMOKE_CONTENT_TYPE = SMOKE_ACCEPT = "text/csv"


def smoke_check(transform_dir: Path, booster: xgboost.Booster, problem_type: str) -> dict[str, Any]:
    """smoke_check.json: the request to send, and the answer per row, as the Labels container writes it."""
    features = np.loadtxt(transform_dir / SMOKE_FEATURES_FILE, delimiter=",", ndmin=2)
    scores = predict(problem_type, booster, features).reshape(len(features), -1)
    with tempfile.TemporaryDirectory() as folder:
        serving, document = served_code(transform_dir / TRANSFORM_ARCHIVE, Path(folder))
        expected = serving.csv_lines(serving.Labels(document).answers(scores.tolist()))
    return {
        "content_type": SMOKE_CONTENT_TYPE,
        "accept": SMOKE_ACCEPT,
        "body": (transform_dir / SMOKE_ROWS_FILE).read_text(encoding="utf-8"),
        "expected": expected,
        "problem_type": problem_type,
        "tolerance": SMOKE_TOLERANCE if problem_type == "regression" else 0.0,  # classes compare as text
    }


def served_code(archive: Path, folder: Path) -> tuple[Any, dict[str, Any]]:
    """serving.py, imported from model.tar.gz's code/ (it imports preprocess.py beside it), and encoder.json."""
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name == ENCODER_FILE or m.name.startswith("code/")]
        tar.extractall(folder, members=members, filter="data")
    sys.path.insert(0, str(folder / "code"))
    try:
        serving = importlib.import_module(SERVING_MODULE)
    finally:
        sys.path.remove(str(folder / "code"))
    return serving, json.loads((folder / ENCODER_FILE).read_text(encoding="utf-8"))


# -- the run report ----------------------------------------------------------------------------------
MAX_HISTORY = 50  # the latest packages of the group shown in the report's history
TOP_FEATURES = 15
MAX_REPORT_BYTES = 1_000_000
REPORT_SECONDS = 600  # a report not drawn by then is given up (the run goes on)


class ReportDrawer:
    """Draws report.html in a child process, started first thing, so that importing matplotlib (about
    half a second) overlaps Evaluate's own loading and scoring instead of adding to it.

    Forked (Linux's default for multiprocessing; the child needs none of xgboost's threads, which do not
    exist yet): it imports run_report.py, which reaches the job beside this script (pipeline/definition.py,
    `evaluate`), says whether it could, then draws the facts it is sent. Nothing it does can fail the step.
    """

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self._connection, child_end = context.Pipe()
        self._process = context.Process(target=_draw_in_child, args=(child_end,), daemon=True)
        self._process.start()
        child_end.close()

    def write(self, folder: Path, drawn_from: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
        """report.html beside evaluation.json, or why there is none."""
        try:
            kind, detail = self._answer()  # imported, or why not
            if kind == "ready":
                self._connection.send(_report_facts(drawn_from, args))
                kind, detail = self._answer()
            if kind == "page":
                size = len(detail.encode("utf-8"))
                if size > MAX_REPORT_BYTES:
                    kind, detail = "error", f"the report came to {size:,} bytes, over {MAX_REPORT_BYTES:,}"
                else:
                    (folder / RUN_REPORT_FILE).write_text(detail, encoding="utf-8")
        except Exception as error:  # noqa: BLE001 - a report that cannot be drawn never fails the run
            kind, detail = "error", f"{type(error).__name__}: {error}"
        finally:
            self._connection.close()
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.kill()
        if kind != "page":
            print(f"run report not drawn: {detail}", file=sys.stderr)
            return {"drawn": False, "reason": detail}
        return {"drawn": True, "file": RUN_REPORT_FILE}

    def _answer(self) -> tuple[str, str]:
        if not self._connection.poll(REPORT_SECONDS):
            raise TimeoutError(f"no report after {REPORT_SECONDS} s")
        kind, detail = self._connection.recv()
        return str(kind), str(detail)


def _draw_in_child(connection: Any) -> None:
    """The child: ("ready", "") once run_report is imported, then ("page", html) for the facts sent."""
    try:
        drawing = importlib.import_module(RUN_REPORT_MODULE)
        connection.send(("ready", ""))
        connection.send(("page", drawing.render(connection.recv())))
    except EOFError:
        pass  # Evaluate needed no report after all
    except Exception as error:  # noqa: BLE001 - told to Evaluate, which records it in evaluation.json
        connection.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        connection.close()


def _report_facts(drawn_from: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """What the report shows beyond evaluation.json: the production model's statistics on the same rows,
    the features by gain, the run's cause and the group's history (the last two only from AWS)."""
    data_report, production = drawn_from["data_report"], drawn_from["production_predicted"]
    problem_type = data_report["problem_type"]["chosen"]
    mapping = data_report.get("label_mapping")
    group = args.model_package_group
    no_group = {"unavailable": "no model package group was given"}
    return {
        **{name: value for name, value in drawn_from.items() if name != "booster"},
        "production_quality": None
        if production is None
        else model_quality(problem_type, drawn_from["actual"], production, mapping),
        "importance": top_features(drawn_from["booster"], list(data_report.get("features") or [])),
        "run": _best_effort(run_facts, args.region, args.execution_arn),
        "history": _best_effort(registry_history, args.region, group, problem_type) if group else no_group,
    }


def _best_effort(look_up: Any, *arguments: Any) -> Any:
    try:
        return look_up(*arguments)
    except Exception as error:  # noqa: BLE001 - the report says what it could not learn, and why
        return {"unavailable": f"{type(error).__name__}: {error}"}


def top_features(booster: xgboost.Booster, names: list[str]) -> list[tuple[str, float]]:
    """The features that gained the model most (total gain over its splits), by name, most first."""
    named = []
    for key, gain in booster.get_score(importance_type="total_gain").items():
        index = int(key[1:]) if key[:1] == "f" and key[1:].isdigit() else -1
        named.append((names[index] if 0 <= index < len(names) else key, float(gain)))  # type: ignore[arg-type]
    return sorted(named, key=lambda item: -item[1])[:TOP_FEATURES]


def run_facts(region: str, execution_arn: str) -> dict[str, str]:
    """The pipeline execution: its id and what its starter said of it (the trigger's cause)."""
    facts = {"execution_arn": execution_arn, "execution_id": execution_arn.rsplit("/", 1)[-1], "cause": ""}
    if not execution_arn:
        return facts
    import boto3

    described = boto3.client("sagemaker", region_name=region).describe_pipeline_execution(
        PipelineExecutionArn=execution_arn
    )
    facts["cause"] = described.get("PipelineExecutionDescription") or ""
    facts["display_name"] = described.get("PipelineExecutionDisplayName") or ""
    return facts


def registry_history(region: str, group: str, problem_type: str) -> list[dict[str, Any]]:
    """The primary metric of each model registered in the group, oldest first (the latest MAX_HISTORY),
    read from each package's ModelQuality statistics: what the registry knows, no store of our own."""
    import boto3

    sagemaker, s3 = boto3.client("sagemaker", region_name=region), boto3.client("s3", region_name=region)
    summaries: list[Any] = []
    pages = sagemaker.get_paginator("list_model_packages").paginate(
        ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Descending"
    )
    for page in pages:
        summaries += page["ModelPackageSummaryList"]
        if len(summaries) >= MAX_HISTORY:
            break
    return [_registered_metric(sagemaker, s3, item, problem_type) for item in reversed(summaries[:MAX_HISTORY])]


def _registered_metric(sagemaker: Any, s3: Any, summary: dict[str, Any], problem_type: str) -> dict[str, Any]:
    package = sagemaker.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
    statistics = ((package.get("ModelMetrics") or {}).get("ModelQuality") or {}).get("Statistics") or {}
    value = None
    if statistics.get("S3Uri"):
        document = json.loads(_read_s3(s3, statistics["S3Uri"]))
        found = (document.get(REGISTRY_SECTIONS[problem_type]) or {}).get(PRIMARY_METRIC[problem_type]) or {}
        value = found.get("value") if isinstance(found.get("value"), (int, float)) else None
    return {
        "version": package.get("ModelPackageVersion"),
        "status": package.get("ModelApprovalStatus", ""),
        "created": str(package.get("CreationTime", "")),
        "value": value,
    }


def decide(
    problem_type: str,
    metrics: dict[str, Any],
    gate_result: dict[str, Any],
    champion: dict[str, Any] | None,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Register or not, with the sentence that says why, and the approval status to register with."""
    name = PRIMARY_METRIC[problem_type]
    ours = metrics[name]
    shown = f"{label(name)} {_number(ours)}"
    if not gate_result["passed"]:
        register, summary = False, gate_result["reason"]
    elif champion is None:
        register, summary = True, f"{shown}, no model in production: registered"
    elif not champion["comparable"]:
        # Unchecked against production: registered for a person to review, never approved by itself.
        summary = f"{shown}; production cannot be compared ({champion['reason']}): registered for review"
        return {
            "register": True,
            "summary": summary,
            "approval_status": "PendingManualApproval",
            "primary_metric": name,
            "min_improvement": args.min_improvement,
        }
    else:
        theirs = champion["metrics"][name]
        register, summary = against_production(_improvement(name, ours, theirs), args.min_improvement)
        summary = summary.format(versus=f"{shown} vs production {_number(theirs)}")
    approve = register and args.auto_approve == "true"
    return {
        "register": register,
        "summary": summary,
        "approval_status": "Approved" if approve else args.approval_status,
        "primary_metric": name,
        "min_improvement": args.min_improvement,
    }


def against_production(improvement: float | None, min_improvement: float) -> tuple[bool, str]:
    """The champion rule, in one place: register only a model strictly better than production, and
    better by at least MinImprovement; a tie keeps production (the same model would be registered
    twice, and approved again with AutoApprove). Returns the decision and its sentence ({versus})."""
    if improvement is not None and improvement > 0 and improvement >= min_improvement:
        return True, "{versus}: registered"
    if improvement == 0:
        return False, "same as production ({versus}): not registered"
    return False, "not better than production ({versus}): not registered"


def _improvement(name: str, ours: float | None, theirs: float | None) -> float | None:
    """How much better ours is, relative to theirs (positive: better)."""
    if ours is None or theirs is None:
        return None
    if theirs == 0:
        return 0.0 if ours == theirs else (math.inf if (ours < theirs) == (name in LOWER_IS_BETTER) else -math.inf)
    change = (ours - theirs) / abs(theirs)
    return -change if name in LOWER_IS_BETTER else change


def main(argv: list[str] | None = None) -> int:
    drawer = ReportDrawer()  # first: its child imports matplotlib while this process imports xgboost
    args = _parser().parse_args(argv)
    data_report = json.loads((args.base_dir / "report" / "data_report.json").read_text(encoding="utf-8"))
    problem_type = data_report["problem_type"]["chosen"]
    booster = load_model(args.base_dir / "model")
    found = find_champion(args.region, args.model_package_group) if args.model_package_group else None
    champion, comparable = prepare_champion(found, data_report) if found else (None, None)
    scoring = score_test_split(args.base_dir / "test", data_report, booster, comparable, args.exact_rows)
    metrics, baseline_metrics, champion_metrics = scoring.results()
    if champion is not None and champion_metrics is not None:
        champion["metrics"] = champion_metrics
    gate_result = gate(problem_type, metrics, baseline_metrics, args)
    decision = decide(problem_type, metrics, gate_result, champion, args)
    actual, predicted, *production = scoring.kept.columns()  # every row, or the uniform sample
    report = {
        "problem_type": problem_type,
        "primary_metric": PRIMARY_METRIC[problem_type],
        "metrics": metrics,
        "baseline_metrics": baseline_metrics,
        "gate": gate_result,
        "champion": champion,
        "decision": decision,
        # Lineage for the registry (strings: customer metadata holds strings).
        "champion_summary": _champion_summary(champion, PRIMARY_METRIC[problem_type]),
        "rows": {"test": scoring.kept.seen},
        "scoring": scoring.statement(),
        "label_mapping": data_report.get("label_mapping"),
        **registry_layout(problem_type, metrics),
    }
    out = args.base_dir / "evaluation"
    out.mkdir(parents=True, exist_ok=True)
    if (args.base_dir / TRANSFORM_OUTPUT).is_dir():  # Preprocess's serving files (absent when run by hand without)
        smoke = smoke_check(args.base_dir / TRANSFORM_OUTPUT, booster, problem_type)
        (out / SMOKE_CHECK_FILE).write_text(json.dumps(smoke, indent=2), encoding="utf-8")
    quality = model_quality(problem_type, actual, predicted, data_report.get("label_mapping"))
    (out / MODEL_QUALITY_FILE).write_text(json.dumps(quality, indent=2), encoding="utf-8")
    drawn_from = {"evaluation": report, "data_report": data_report, "actual": actual, "quality": quality}
    drawn_from |= {"predicted": predicted, "production_predicted": production[0] if production else None}
    drawn_from["booster"] = booster
    report["report"] = drawer.write(out, drawn_from, args)
    (out / "evaluation.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"{problem_type}: {describe(metrics)} (baseline {describe(baseline_metrics)}); {decision['summary']}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-dir", type=Path, default=Path("/opt/ml/processing"))
    # The gates' thresholds: the pipeline passes its parameters (their defaults are in pipeline/config.py).
    parser.add_argument("--min-r2", type=float, required=True)
    parser.add_argument("--min-auc", type=float, required=True)
    parser.add_argument("--min-accuracy-lift", type=float, required=True)
    parser.add_argument("--mse-threshold", type=float, required=True, help="0: off")
    parser.add_argument("--min-improvement", type=float, required=True, help="relative, against the champion")
    parser.add_argument("--auto-approve", choices=("true", "false"), required=True)
    parser.add_argument(
        "--model-approval-status",
        "--approval-status",  # its name in definitions upserted before the parameters were declared once
        dest="approval_status",
        required=True,
        help="for a model that is not auto-approved",
    )
    parser.add_argument("--model-package-group", required=True, help="where the champion is; empty: none")
    parser.add_argument("--region", required=True)
    parser.add_argument("--execution-arn", default="", help="the pipeline execution, for the run report's header")
    parser.add_argument(
        "--exact-rows",
        type=int,
        default=EXACT_ROWS,
        help="AUC, curves and pictures are exact on up to this many test rows, else on a uniform sample of it",
    )
    return parser


def _champion_summary(champion: dict[str, Any] | None, name: str) -> dict[str, str]:
    if champion is None:
        return {"model_package_arn": "none", "metric": "none"}
    value = (champion["metrics"] or {}).get(name)
    metric = f"{label(name)} {_number(value)}" if champion["comparable"] else f"not comparable: {champion['reason']}"
    return {"model_package_arn": champion["model_package_arn"], "metric": metric}


if __name__ == "__main__":
    sys.exit(main())
