"""The drift check: a run's baseline (pipeline/steps/data_quality.py) and a monitoring execution's reading
of prod's captured requests (emulator/model_monitor.py), as Model Monitor documents them.

Rows drawn from the training distribution raise nothing; each documented check type fires for the
change it names; Simple and Robust compare the distance as deequ does."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.model_monitor import captured_rows
from pipeline.steps import data_quality as dq

COLUMNS = ["age", "income", "city", "joined"]


def draw(rows: int, seed: int) -> pd.DataFrame:
    """Rows of the training distribution: an integer, a decimal, a category and a date column."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 80, rows),
            "income": rng.normal(50_000, 12_000, rows).round(2),
            "city": rng.choice(["Lyon", "Paris", "Nice"], rows, p=[0.5, 0.3, 0.2]),
            "joined": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, rows), unit="D"),
        }
    )


TRAINING = draw(5_000, seed=0)
STATISTICS = dq.statistics(TRAINING)
CONSTRAINTS = dq.constraints(STATISTICS)


def requests_of(rows: pd.DataFrame, *, header: bool, per_request: int = 5) -> list[dict[str, Any]]:
    """Capture records of these rows sent as CSV, a few rows per request, as data capture keeps them."""
    records = []
    for start in range(0, len(rows), per_request):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        chunk = rows.iloc[start : start + per_request]
        if header:
            writer.writerow(chunk.columns)
        writer.writerows(chunk.astype(str).to_numpy().tolist())
        body = {"observedContentType": "text/csv", "mode": "INPUT", "data": buffer.getvalue(), "encoding": "CSV"}
        records.append({"captureData": {"endpointInput": body}, "eventVersion": "0"})
    return records


def violations_of(
    rows: pd.DataFrame, *, header: bool = True, constraints: dict[str, Any] = CONSTRAINTS
) -> list[dict[str, str]]:
    return dq.violations(STATISTICS, constraints, captured_rows(requests_of(rows, header=header), COLUMNS))


def test_the_baseline_is_in_model_monitor_s_formats():
    features = {feature["name"]: feature for feature in STATISTICS["features"]}
    assert STATISTICS["version"] == 0
    assert STATISTICS["dataset"]["item_count"] == 5_000
    assert {name: f["inferred_type"] for name, f in features.items()} == {
        "age": "Integral",
        "income": "Fractional",
        "city": "String",
        "joined": "String",
    }
    assert features["income"]["numerical_statistics"]["common"] == {"num_present": 5_000, "num_missing": 0}
    buckets = features["city"]["string_statistics"]["distribution"]["categorical"]["buckets"]
    assert sum(bucket["count"] for bucket in buckets) == 5_000
    constraint = {c["name"]: c for c in CONSTRAINTS["features"]}
    assert constraint["city"]["string_constraints"]["domains"] == ["Lyon", "Nice", "Paris"]
    assert constraint["age"]["num_constraints"] == {"is_non_negative": True}
    assert "string_constraints" not in constraint["joined"]  # 700 dates: too many for a domain
    distribution = CONSTRAINTS["monitoring_config"]["distribution_constraints"]
    assert distribution == {"perform_comparison": "Enabled", "comparison_threshold": 0.1, "comparison_method": "Robust"}


@pytest.mark.parametrize("header", [True, False])
def test_rows_of_the_training_distribution_raise_no_violation_for_any_of_20_seeds(header):
    alarms = {seed: violations_of(draw(300, seed=seed), header=header) for seed in range(1, 21)}
    assert {seed: found for seed, found in alarms.items() if found} == {}


def shifted(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(income=rows["income"] + 12_000)  # one standard deviation


def new_city(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(city=np.where(np.arange(len(rows)) % 3 == 0, "Marseille", rows["city"]))


def typed_as_text(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(age=[f"{age} years" for age in rows["age"]])


@pytest.mark.parametrize(
    ("change", "feature", "check"),
    [
        (shifted, "income", "baseline_drift_check"),
        (new_city, "city", "categorical_values_check"),
        (lambda rows: rows.drop(columns=["city"]), "city", "missing_column_check"),
        (lambda rows: rows.assign(coupon="X1"), "coupon", "extra_column_check"),
        (typed_as_text, "age", "data_type_check"),
        (lambda rows: rows.assign(income=rows["income"].where(rows.index % 4 != 0)), "income", "completeness_check"),
    ],
    ids=["shifted numeric", "new category", "column gone", "column added", "type change", "missing values"],
)
def test_each_change_is_flagged_by_its_check(change, feature, check):
    found = violations_of(change(draw(300, seed=99)))
    assert (feature, check) in {(v["feature_name"], v["constraint_check_type"]) for v in found}
    assert {v["feature_name"] for v in found} == {feature}  # nothing else is blamed


def test_a_new_category_also_moves_the_category_shares():
    found = violations_of(new_city(draw(300, seed=7)))
    assert {v["constraint_check_type"] for v in found} == {"categorical_values_check", "baseline_drift_check"}


def test_robust_discounts_a_small_sample_s_distance_as_the_two_sample_ks_bound_says():
    """30 mildly shifted rows: their distance passes 0.1, but not by more than a sample that small can."""
    sample = draw(30, seed=3).assign(income=lambda rows: rows["income"] + 4_000)
    current = dq.numbers_of(sample["income"])
    sketch = np.sort(
        np.array(STATISTICS["features"][1]["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"][0])
    )
    simple = dq.numerical_distance(sketch, 5_000, current, "Simple")
    robust = dq.numerical_distance(sketch, 5_000, current, "Robust")
    assert robust == pytest.approx(max(0.0, simple - 1.8 * math.sqrt((5_000 + 30) / (5_000 * 30))))
    simple_config = dq.constraints(STATISTICS, comparison_method="linf_simple")
    # Simple flags the shift, and also the noise of 30 rows in a column that did not move
    assert "income" in {v["feature_name"] for v in violations_of(sample, constraints=simple_config)}
    assert violations_of(sample) == []  # Robust, the baseline's default, flags neither


def test_the_sketch_reads_back_the_baseline_s_distribution_within_its_resolution():
    values = np.sort(TRAINING["income"].to_numpy())
    sketch = np.sort(
        np.array(STATISTICS["features"][1]["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"][0])
    )
    exact = dq.numerical_distance(values, len(values), values, "Simple")
    assert exact == 0
    assert dq.numerical_distance(sketch, len(values), values, "Simple") <= 1 / dq.SKETCH_SIZE + 1 / len(values)


@settings(max_examples=200)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=5))
def test_any_captured_body_is_read_as_rows_of_the_baseline_s_columns_and_extras(bodies):
    records = [{"captureData": {"endpointInput": {"data": body, "encoding": "CSV"}}} for body in bodies]
    rows = captured_rows(records, COLUMNS)
    for column in rows.columns:
        assert column in COLUMNS or str(column).startswith("_c") or any(str(column) in body for body in bodies)
    if not rows.empty:
        dq.violations(STATISTICS, CONSTRAINTS, rows)  # never raises


def test_the_demo_s_shifted_requests_are_written_as_the_file_is_and_its_whole_numbers_stay_whole():
    from emulator.demo_drift import shifted_requests

    body = "area;rooms;city;price\n" + "".join(f"{50 + n},5;{1 + n % 4};Lyon;{1000 + n}\n" for n in range(40))
    requests = shifted_requests(body.encode("utf-8"), "price")
    first = requests[0].decode().splitlines()
    assert first[0] == "area;rooms;city"  # the target left out, the file's separator
    area, rooms, city = first[1].split(";")
    assert "," in area  # decimal commas, as the file writes them
    assert float(area.replace(",", ".")) > 50 + 2 * 5  # moved by two standard deviations (about 11.5)
    assert rooms.isdigit()  # whole numbers stay whole
    assert city == "Lyon"
