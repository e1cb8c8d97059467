"""Data quality as SageMaker Model Monitor writes and checks it: a dataset's statistics.json and
constraints.json (the baseline a run registers), and constraint_violations.json of captured requests
checked against them.

Runs in the scikit-learn 1.9-0 image beside preprocess.py (which writes the baseline of its training
rows' raw columns), and in the local monitoring execution (emulator/model_monitor.py), so the two
read and write one format.

Formats: the SageMaker developer guide, "Schema for Statistics (statistics.json file)", "Schema for
Constraints (constraints.json file)" and "Schema for Violations (constraint_violations.json file)":
`version` 0; per feature `inferred_type` Integral, Fractional or String; `numerical_statistics` and
`string_statistics` with `common.num_present/num_missing` and a distribution; constraints with
`completeness`, `num_constraints.is_non_negative`, `string_constraints.domains` and
`monitoring_config` (datatype_check_threshold and domain_content_threshold, default 0.1;
distribution_constraints.comparison_threshold, default 0.1, and comparison_method).

Distances, as the analyser computes them (it is built on deequ: awslabs/deequ
src/main/scala/com/amazon/deequ/analyzers/Distance.scala): numerical, the L-infinity distance between
the two empirical CDFs (the two-sample Kolmogorov-Smirnov statistic); categorical, the largest
difference between a category's share in each; `Simple` (linf_simple) is that distance, `Robust`
(linf_robust) is max(0, linf_simple - 1.8 * sqrt((n + m) / (n * m))) for n baseline and m current
values, so that a small sample of the same distribution is not drift.

Where this differs from the analyser: it keeps a numeric column's distribution as SKETCH_SIZE evenly
spaced quantiles of the baseline (the analyser keeps a KLL sketch), so a CDF it reads back is within
1 / SKETCH_SIZE of the exact one; docs/local.md gives the difference measured.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
VIOLATIONS_FILE = "constraint_violations.json"
INTEGRAL, FRACTIONAL, STRING, UNKNOWN = "Integral", "Fractional", "String", "Unknown"
NUMERIC_TYPES = (INTEGRAL, FRACTIONAL)
SKETCH_SIZE = 2048  # quantiles kept of a numeric column's baseline
MAX_DOMAIN = 200  # a string column with more distinct values gets no domain and no categorical distribution
HISTOGRAM_BUCKETS = 10  # statistics.json's kll.buckets, for people to read
ROBUST_FACTOR = 1.8  # deequ's Distance.selectMetrics
DEFAULT_THRESHOLD = 0.1
METHODS = {"simple": "Simple", "linf_simple": "Simple", "robust": "Robust", "linf_robust": "Robust"}
MISSING_TEXTS = frozenset({"", "na", "n/a", "nan", "null", "none", "<na>"})


# -- values and their types -------------------------------------------------------------------------


def value_types(values: pd.Series) -> pd.Series:
    """Each value's type: Integral, Fractional, String, or None when it is missing."""
    if pd.api.types.is_bool_dtype(values):
        return values.map(lambda v: None if pd.isna(v) else STRING)
    if pd.api.types.is_numeric_dtype(values):
        # As the values were written: a float column ("59.0") is Fractional, an integer one ("59") Integral,
        # whatever the values (Model Monitor infers the type of the text; a file's column reads as one).
        numbers = values.astype(float)
        integral = pd.Series(pd.api.types.is_integer_dtype(values), index=values.index)
        return typed(numbers.isna(), numbers.notna(), integral)
    text = texts_of(values)
    missing = (text.isna() | text.str.lower().isin(MISSING_TEXTS)).astype(bool)
    numbers = pd.to_numeric(text.where(~missing), errors="coerce")
    integral = text.str.fullmatch(r"[+-]?\d+").astype("boolean").fillna(False).astype(bool)
    return typed(missing, numbers.notna().astype(bool), integral)


def texts_of(values: pd.Series) -> pd.Series:
    """Each value as text without surrounding blanks; a missing value stays missing."""
    present = values.notna()
    return values.astype(object).where(~present, values[present].astype(str).str.strip())


def typed(missing: pd.Series, number: pd.Series, integral: pd.Series) -> pd.Series:
    types = pd.Series(STRING, index=missing.index, dtype=object)
    types[number & integral] = INTEGRAL
    types[number & ~integral] = FRACTIONAL
    types[missing] = None
    return types


def inferred_type(types: pd.Series) -> str:
    """A column's type as Model Monitor infers it: String if any value is text, else Fractional if any
    value has a fraction, else Integral; Unknown when every value is missing."""
    present = set(types.dropna())
    if not present:
        return UNKNOWN
    if STRING in present:
        return STRING
    return FRACTIONAL if FRACTIONAL in present else INTEGRAL


def numbers_of(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype(float).to_numpy()
    else:
        numbers = pd.to_numeric(values.astype(str).str.strip(), errors="coerce").to_numpy(dtype=float)
    return np.sort(numbers[np.isfinite(numbers)])  # an infinity is present, but has no place in a distribution


def strings_of(values: pd.Series, types: pd.Series) -> pd.Series:
    return texts_of(values[types.notna()]).astype(object)


# -- statistics.json --------------------------------------------------------------------------------


def statistics(frame: pd.DataFrame) -> dict[str, Any]:
    """statistics.json of ``frame``: every column, in its order."""
    return {
        "version": 0,
        "dataset": {"item_count": len(frame)},
        "features": [feature_statistics(str(name), frame[name]) for name in frame.columns],
    }


def feature_statistics(name: str, values: pd.Series) -> dict[str, Any]:
    types = value_types(values)
    kind = inferred_type(types)
    common = {"num_present": int(types.notna().sum()), "num_missing": int(types.isna().sum())}
    feature: dict[str, Any] = {"name": name, "inferred_type": kind}
    if kind in NUMERIC_TYPES:
        feature["numerical_statistics"] = numerical_statistics(numbers_of(values), common)
    else:
        feature["string_statistics"] = string_statistics(strings_of(values, types), common)
    return feature


def numerical_statistics(numbers: np.ndarray, common: dict[str, int]) -> dict[str, Any]:
    if numbers.size == 0:
        return {"common": common}
    sketch = np.quantile(numbers, np.linspace(0, 1, min(SKETCH_SIZE, numbers.size)), method="inverted_cdf")
    counts, edges = np.histogram(numbers, bins=HISTOGRAM_BUCKETS)
    buckets = [
        {"lower_bound": float(edges[i]), "upper_bound": float(edges[i + 1]), "count": float(counts[i])}
        for i in range(HISTOGRAM_BUCKETS)
    ]
    return {
        "common": common,
        "mean": float(numbers.mean()),
        "sum": float(numbers.sum()),
        "std_dev": float(numbers.std()),
        "min": float(numbers[0]),
        "max": float(numbers[-1]),
        "distribution": {
            "kll": {
                "buckets": buckets,
                "sketch": {"parameters": {"c": 1.0, "k": SKETCH_SIZE}, "data": [[float(v) for v in sketch]]},
            }
        },
    }


def string_statistics(strings: pd.Series, common: dict[str, int]) -> dict[str, Any]:
    counts = strings.value_counts()
    result: dict[str, Any] = {"common": common, "distinct_count": float(len(counts))}
    if 0 < len(counts) <= MAX_DOMAIN:
        buckets = [{"value": str(value), "count": float(count)} for value, count in counts.sort_index().items()]
        result["distribution"] = {"categorical": {"buckets": buckets}}
    return result


# -- constraints.json -------------------------------------------------------------------------------


def constraints(
    stats: dict[str, Any], comparison_threshold: float = DEFAULT_THRESHOLD, comparison_method: str = "Robust"
) -> dict[str, Any]:
    """The constraints Model Monitor suggests for a baseline: each feature's type and completeness,
    numbers' sign, strings' domain when small, and the monitoring config."""
    return {
        "version": 0,
        "features": [feature_constraints(feature) for feature in stats["features"]],
        "monitoring_config": {
            "evaluate_constraints": "Enabled",
            "emit_metrics": "Enabled",
            "datatype_check_threshold": DEFAULT_THRESHOLD,
            "domain_content_threshold": DEFAULT_THRESHOLD,
            "distribution_constraints": {
                "perform_comparison": "Enabled",
                "comparison_threshold": comparison_threshold,
                "comparison_method": method_of(comparison_method),
            },
        },
    }


def feature_constraints(feature: dict[str, Any]) -> dict[str, Any]:
    numerical = feature.get("numerical_statistics")
    block = numerical or feature["string_statistics"]
    common = block["common"]
    total = common["num_present"] + common["num_missing"]
    constraint: dict[str, Any] = {
        "name": feature["name"],
        "inferred_type": feature["inferred_type"],
        "completeness": common["num_present"] / total if total else 0.0,
    }
    if numerical is not None and "min" in numerical:
        constraint["num_constraints"] = {"is_non_negative": numerical["min"] >= 0}
    buckets = (block.get("distribution") or {}).get("categorical", {}).get("buckets")
    if numerical is None and buckets:
        constraint["string_constraints"] = {"domains": [bucket["value"] for bucket in buckets]}
    return constraint


def method_of(name: str) -> str:
    method = METHODS.get(name.strip().lower())
    if method is None:
        raise ValueError(f"comparison_method {name!r} is not Simple or Robust (linf_simple, linf_robust)")
    return method


# -- distances --------------------------------------------------------------------------------------


def numerical_distance(baseline_sketch: np.ndarray, baseline_count: int, current: np.ndarray, method: str) -> float:
    """L-infinity between the CDFs of the baseline (its quantiles) and the sorted current values."""
    points = np.union1d(baseline_sketch, current)
    cdf_baseline = np.searchsorted(baseline_sketch, points, side="right") / baseline_sketch.size
    cdf_current = np.searchsorted(current, points, side="right") / current.size
    return corrected(float(np.max(np.abs(cdf_baseline - cdf_current))), baseline_count, current.size, method)


def categorical_distance(baseline: dict[str, float], current: dict[str, float], method: str) -> float:
    n, m = sum(baseline.values()), sum(current.values())
    largest = max(abs(baseline.get(k, 0.0) / n - current.get(k, 0.0) / m) for k in set(baseline) | set(current))
    return corrected(largest, n, m, method)


def corrected(linf_simple: float, n: float, m: float, method: str) -> float:
    if method == "Simple":
        return linf_simple
    return max(0.0, linf_simple - ROBUST_FACTOR * math.sqrt((n + m) / (n * m)))


# -- constraint_violations.json ---------------------------------------------------------------------


def violations(baseline: dict[str, Any], checks: dict[str, Any], current: pd.DataFrame) -> list[dict[str, str]]:
    """The violations of ``current`` (captured rows, one column per feature) against the baseline's
    statistics and constraints: the columns first, then each feature present in both."""
    config = checks.get("monitoring_config", {})
    expected = {feature["name"]: feature for feature in checks["features"]}
    found: list[dict[str, str]] = column_violations(list(expected), [str(c) for c in current.columns])
    statistics_of = {feature["name"]: feature for feature in baseline["features"]}
    for name, constraint in expected.items():
        if name in current.columns and name in statistics_of:
            found += feature_violations(constraint, statistics_of[name], current[name], config)
    return found


def column_violations(expected: list[str], columns: list[str]) -> list[dict[str, str]]:
    found = []
    missing = [name for name in expected if name not in columns]
    extra = [name for name in columns if name not in expected]
    counts = f"{len(columns)} columns in the current dataset, {len(expected)} in the baseline"
    for name in missing:
        found.append(violation(name, "missing_column_check", f"The baseline's column is missing ({counts})."))
    for name in extra:
        found.append(violation(name, "extra_column_check", f"The column is not in the baseline ({counts})."))
    return found


def feature_violations(
    constraint: dict[str, Any], baseline: dict[str, Any], values: pd.Series, config: dict[str, Any]
) -> list[dict[str, str]]:
    name, expected_type = constraint["name"], constraint["inferred_type"]
    types = value_types(values)
    present = types.dropna()
    found = []
    completeness = len(present) / len(types) if len(types) else 1.0
    if completeness < constraint.get("completeness", 0.0):
        found.append(
            violation(
                name,
                "completeness_check",
                f"Completeness requirement is not met: expected {constraint['completeness']:.1%} of values "
                f"present, observed {completeness:.1%}.",
            )
        )
    mismatched = mismatch_share(expected_type, present)
    if present.size and mismatched > float(config.get("datatype_check_threshold", DEFAULT_THRESHOLD)):
        found.append(
            violation(
                name,
                "data_type_check",
                f"Data type match requirement is not met: expected {expected_type}, "
                f"{mismatched:.1%} of the values are of another type.",
            )
        )
        return found  # no distribution of values of another type to compare
    return found + value_violations(constraint, baseline, values, types, config)


def mismatch_share(expected_type: str, present: pd.Series) -> float:
    if not present.size or expected_type == UNKNOWN:
        return 0.0
    allowed = {STRING, FRACTIONAL, INTEGRAL} if expected_type == STRING else {expected_type}
    if expected_type == FRACTIONAL:
        allowed.add(INTEGRAL)
    return float((~present.isin(allowed)).mean())


def value_violations(
    constraint: dict[str, Any], baseline: dict[str, Any], values: pd.Series, types: pd.Series, config: dict[str, Any]
) -> list[dict[str, str]]:
    name = constraint["name"]
    distribution = config.get("distribution_constraints", {})
    threshold = float(distribution.get("comparison_threshold", DEFAULT_THRESHOLD))
    method = method_of(str(distribution.get("comparison_method", "Robust")))
    compare = distribution.get("perform_comparison", "Enabled") == "Enabled"
    found = []
    if constraint["inferred_type"] in NUMERIC_TYPES:
        distance = numeric_drift(baseline, numbers_of(values), method) if compare else None
    else:
        strings = strings_of(values, types)
        domain_threshold = float(config.get("domain_content_threshold", DEFAULT_THRESHOLD))
        found += domain_violations(constraint, strings, domain_threshold)
        categorical_threshold = distribution.get("categorical_comparison_threshold")
        threshold = float(categorical_threshold) if categorical_threshold is not None else threshold
        distance = categorical_drift(baseline, strings, method) if compare else None
    if distance is not None and distance > threshold:
        found.append(
            violation(
                name,
                "baseline_drift_check",
                f"Baseline drift distance: {distance:.4g} exceeds threshold: {threshold:g} ({method}).",
            )
        )
    return found


def numeric_drift(baseline: dict[str, Any], current: np.ndarray, method: str) -> float | None:
    numerical = baseline.get("numerical_statistics", {})
    data = numerical.get("distribution", {}).get("kll", {}).get("sketch", {}).get("data")
    if not data or current.size == 0:
        return None
    sketch = np.sort(np.array([value for level in data for value in level], dtype=float))
    return numerical_distance(sketch, int(numerical["common"]["num_present"]), current, method)


def categorical_drift(baseline: dict[str, Any], current: pd.Series, method: str) -> float | None:
    buckets = baseline.get("string_statistics", {}).get("distribution", {}).get("categorical", {}).get("buckets")
    if not buckets or current.empty:
        return None
    counts = {str(bucket["value"]): float(bucket["count"]) for bucket in buckets}
    return categorical_distance(counts, {str(k): float(v) for k, v in current.value_counts().items()}, method)


def domain_violations(constraint: dict[str, Any], strings: pd.Series, threshold: float) -> list[dict[str, str]]:
    domain = (constraint.get("string_constraints") or {}).get("domains")
    if not domain or strings.empty:
        return []
    unknown = ~strings.isin(set(domain))
    if float(unknown.mean()) <= threshold:
        return []
    examples = ", ".join(sorted(set(strings[unknown]))[:3])
    description = (
        f"Data of {unknown.mean():.1%} of the values is not in the baseline's domain, more than "
        f"{threshold:.1%} (for example {examples})."
    )
    return [violation(constraint["name"], "categorical_values_check", description)]


def violation(name: str, check: str, description: str) -> dict[str, str]:
    return {"feature_name": name, "constraint_check_type": check, "description": description}
