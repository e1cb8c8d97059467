"""Evaluate: score the model, the trivial baseline and the model in production on the test split; decide.

Runs in the SageMaker XGBoost 3.2-0 container (Python 3.12, xgboost 3.2, boto3 1.38), or on its own:

    python evaluate.py --base-dir /tmp/processing \
        --min-r2 0.1 --min-auc 0.6 --min-accuracy-lift 0.05 --mse-threshold 0 \
        --min-improvement 0 --auto-approve false --model-approval-status PendingManualApproval \
        --model-package-group '' --region us-east-1

Reads {base-dir}/model/model.tar.gz (holding `xgboost-model`, as the built-in algorithm writes it),
{base-dir}/test/*.csv (label first, no header) and {base-dir}/report/data_report.json (problem
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
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import xgboost
from scipy.stats import rankdata

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


def load_model(model_dir: Path) -> xgboost.Booster:
    with tempfile.TemporaryDirectory() as unpacked, tarfile.open(model_dir / "model.tar.gz") as archive:
        member = archive.getmember("xgboost-model")  # the only file used; nothing else is unpacked
        if not member.isfile():
            raise ValueError("xgboost-model in model.tar.gz is not a regular file")
        archive.extract(member, unpacked, filter="data")
        booster = xgboost.Booster()
        booster.load_model(str(Path(unpacked) / "xgboost-model"))
    return booster


def load_test(test_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    files = sorted(test_dir.glob("*.csv"))
    table = np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])
    return table[:, 0], table[:, 1:]


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


def score(
    problem_type: str, actual: np.ndarray, booster: xgboost.Booster, features: np.ndarray, baseline: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model's metrics and the trivial baseline's, on the same rows."""
    predicted = booster.predict(xgboost.DMatrix(features))
    rows = len(actual)
    if problem_type == "regression":
        constant = np.full(rows, baseline["mean"])
        return regression_metrics(actual, predicted), regression_metrics(actual, constant)
    shares = np.asarray(baseline["class_shares"], dtype=float)
    if problem_type == "binary":
        return binary_metrics(actual, predicted), _constant_binary(actual, shares[1] if len(shares) > 1 else 0.0)
    prior = np.tile(shares, (rows, 1))
    return multiclass_metrics(actual, predicted.reshape(rows, -1)), multiclass_metrics(actual, prior)


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
        "model_uri": package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"],
        "data_report_uri": data_statistics.get("S3Uri"),
        "s3": boto3.client("s3", region_name=region),
    }


def _read_s3(s3: Any, uri: str) -> bytes:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def score_champion(
    champion: dict[str, Any], data_report: dict[str, Any], actual: np.ndarray, features: np.ndarray
) -> dict[str, Any]:
    """The champion's metrics on this test split, or why it cannot be compared."""
    found = {"model_package_arn": champion["model_package_arn"], "metrics": None, "comparable": False}
    if not champion["data_report_uri"]:
        return {**found, "reason": "it has no data report, so its features are unknown"}
    trained_on = json.loads(_read_s3(champion["s3"], champion["data_report_uri"]))
    if trained_on["problem_type"]["chosen"] != data_report["problem_type"]["chosen"]:
        return {**found, "reason": f"it solves a {trained_on['problem_type']['chosen']} problem"}
    if trained_on.get("label_mapping") != data_report.get("label_mapping"):
        return {**found, "reason": "it was trained on other classes"}
    theirs, ours = _split_scheme(trained_on), _split_scheme(data_report)
    if theirs != ours:
        return {
            **found,
            "reason": f"its rows were split by scheme {theirs}, this run's by {ours}: some of this run's "
            "test rows may be rows it was trained on",
        }
    aligned = align_features(features, data_report, trained_on)
    if isinstance(aligned, str):
        return {**found, "reason": aligned}
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "model.tar.gz").write_bytes(_read_s3(champion["s3"], champion["model_uri"]))
        booster = load_model(Path(folder))
    metrics, _ = score(data_report["problem_type"]["chosen"], actual, booster, aligned, data_report["baseline"])
    return {**found, "metrics": metrics, "comparable": True, "reason": ""}


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
    args = parser.parse_args(argv)
    data_report = json.loads((args.base_dir / "report" / "data_report.json").read_text(encoding="utf-8"))
    problem_type = data_report["problem_type"]["chosen"]
    booster = load_model(args.base_dir / "model")
    actual, features = load_test(args.base_dir / "test")
    metrics, baseline_metrics = score(problem_type, actual, booster, features, data_report["baseline"])
    gate_result = gate(problem_type, metrics, baseline_metrics, args)
    found = find_champion(args.region, args.model_package_group) if args.model_package_group else None
    champion = score_champion(found, data_report, actual, features) if found else None
    decision = decide(problem_type, metrics, gate_result, champion, args)
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
        "rows": {"test": len(actual)},
        "label_mapping": data_report.get("label_mapping"),
        **registry_layout(problem_type, metrics),
    }
    out = args.base_dir / "evaluation"
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"{problem_type}: {describe(metrics)} (baseline {describe(baseline_metrics)}); {decision['summary']}")
    return 0


def _champion_summary(champion: dict[str, Any] | None, name: str) -> dict[str, str]:
    if champion is None:
        return {"model_package_arn": "none", "metric": "none"}
    value = (champion["metrics"] or {}).get(name)
    metric = f"{label(name)} {_number(value)}" if champion["comparable"] else f"not comparable: {champion['reason']}"
    return {"model_package_arn": champion["model_package_arn"], "metric": metric}


if __name__ == "__main__":
    sys.exit(main())
