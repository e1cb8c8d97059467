"""The step scripts on their own, each run with the Python and libraries of the image it is declared on."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from emulator.sample_data import diabetes_csv
from emulator.step_environments import MissingInterpreter, environment, find_interpreter, python_for
from pipeline.images import SKLEARN, XGBOOST, StepImage, image_for
from pipeline.steps.reports import data_report_problems, evaluation_problems
from tests.pipeline.conftest import STEPS
from tests.pipeline.refusal_cases import REFUSALS

# Its module-scoped fixtures are built once: every test of the file runs on the same worker.
pytestmark = pytest.mark.xdist_group("test_step_scripts")


def with_input(base: Path, *files: tuple[str, bytes]) -> Path:
    folder = base / "input" / "data"
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files:
        (folder / name).write_bytes(content)
    return base


def report_of(base: Path) -> dict[str, Any]:
    """The data report Preprocess wrote, which must have the shape pipeline/steps/reports.py defines."""
    report = dict(json.loads((base / "report" / "data_report.json").read_text()))
    assert data_report_problems(report) == []
    return report


def evaluation_of(base: Path) -> dict[str, Any]:
    """The evaluation Evaluate wrote, which must have the shape pipeline/steps/reports.py defines."""
    report = dict(json.loads((base / "evaluation" / "evaluation.json").read_text()))
    assert evaluation_problems(report) == []
    return report


def preprocess(run_step, base: Path, *arguments: str) -> dict[str, Any]:
    result = run_step("preprocess.py", base, "--target-column", "target", *arguments)
    assert result.returncode == 0, result.stderr
    return report_of(base)


def split_rows(base: Path, name: str) -> np.ndarray:
    return np.loadtxt(base / name / f"{name}.csv", delimiter=",", ndmin=2)


def decision_of(report: dict[str, Any]) -> dict[str, Any]:
    return {name: report[name] for name in ("accepted", "reason", "target")}


def csv_bytes(frame: pd.DataFrame, **options: Any) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, **options)
    return buffer.getvalue().encode("utf-8")


def numbers(rows: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows)})
    frame["target"] = 3 * frame["a"] - frame["b"] + rng.normal(scale=0.1, size=rows)
    return frame


# -- the images' Python ---------------------------------------------------------------------------


def image_python_says(image: StepImage, code: str) -> str:
    python = environment(image).python
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_each_script_runs_with_the_python_and_libraries_its_images_lock_pins(run_step, image_of_script):
    for script, image in (("preprocess.py", SKLEARN), ("evaluate.py", XGBOOST)):
        assert image_for(image_of_script[script]) == image
        assert image_python_says(image, "import sys; print('%d.%d' % sys.version_info[:2])") == "3.12"
    installed = "import importlib.metadata as m; print(' '.join(f'{d.name}=={d.version}' for d in m.distributions()))"
    for image in (SKLEARN, XGBOOST):
        # exactly the pins, nothing more: a library the image does not hold cannot be imported there
        assert sorted(map(normalized, image_python_says(image, installed).split())) == sorted(image.packages)


def normalized(pin: str) -> str:
    """A distribution's name as the pins write it (PEP 503: Flask, MarkupSafe -> flask, markupsafe)."""
    name, version = pin.split("==", 1)
    return f"{re.sub(r'[-_.]+', '-', name).lower()}=={version}"


def test_a_script_using_syntax_newer_than_its_image_fails_there(run_step, tmp_path):
    newer = tmp_path / "newer.py"
    newer.write_text("type Pair[T = int] = tuple[T, T]\nprint('3.13 syntax')\n")  # type parameter defaults: 3.13+
    on_host = subprocess.run([sys.executable, str(newer)], capture_output=True, text=True, check=False)
    in_image = subprocess.run(
        [str(environment(SKLEARN).python), str(newer)], capture_output=True, text=True, check=False
    )

    assert on_host.returncode == 0  # the host's Python would let it through
    assert in_image.returncode != 0
    assert "SyntaxError" in in_image.stderr


def test_a_missing_interpreter_is_named_with_how_to_get_it():
    image = StepImage(
        framework="sklearn", version="0.0-1", repository="sagemaker-old", python="2.9", packages=(), source="none"
    )

    with pytest.raises(MissingInterpreter, match=r"Python 2\.9 is needed .* `uv python install 2\.9`"):
        find_interpreter(image)


# -- Preprocess on data as users have it ----------------------------------------------------------


def test_the_diabetes_data_is_regression_split_by_row_content(run_step, tmp_path):
    base = with_input(tmp_path, ("diabetes.csv", diabetes_csv()))

    report = preprocess(run_step, base)

    assert report["accepted"] is True
    assert report["problem_type"]["chosen"] == "regression"
    sizes = {name: len(split_rows(base, name)) for name in ("train", "validation", "test")}
    assert sum(sizes.values()) == 442
    assert sizes == {name: report["rows"][name] for name in sizes}
    assert 0.6 < sizes["train"] / 442 < 0.8
    original = pd.read_csv(io.BytesIO(diabetes_csv()))
    assert set(split_rows(base, "train")[:, 0]) <= set(original["target"])  # the label column comes first
    assert split_rows(base, "train").shape[1] == 1 + len(report["features"]) == original.shape[1]


def test_missing_values_and_infinities_are_filled_with_the_training_median(run_step, tmp_path):
    frame = numbers(200)
    frame.loc[:9, "a"] = np.nan
    frame.loc[10:11, "a"] = [np.inf, -np.inf]
    frame.loc[12:14, "target"] = np.nan
    base = with_input(tmp_path, ("data.csv", csv_bytes(frame)))

    report = preprocess(run_step, base)

    column = report["columns"]["a"]
    assert (column["missing"], column["infinite"]) == (10, 2)
    assert report["rows"]["rows_without_target"] == 3
    assert report["rows"]["used"] == 197
    rows = np.vstack([split_rows(base, name) for name in ("train", "validation", "test")])
    assert np.isfinite(rows).all()
    median = column["filled_with_training_median"]
    already_the_median = np.sum(np.isclose(frame["a"][frame["target"].notna()], median, rtol=1e-9))  # a real row
    assert np.sum(np.isclose(rows[:, 1], median, rtol=1e-9)) == 12 + already_the_median


def test_more_than_half_the_rows_without_a_target_is_refused(run_step, tmp_path):
    frame = numbers(40)
    frame.loc[:24, "target"] = np.nan
    base = with_input(tmp_path, ("data.csv", csv_bytes(frame)))

    report = preprocess(run_step, base)

    assert decision_of(report) == {
        "accepted": False,
        "reason": "25 of 40 rows have no value in target column 'target': more than half of the rows would be lost",
        "target": "target",
    }
    assert [o["key"] for o in report["lineage"]["objects"]] == ["data.csv"]  # what was read, refused or not
    assert not (base / "train").exists()


def test_an_identifier_column_is_dropped_and_a_date_column_becomes_numbers(run_step, tmp_path):
    frame = numbers(300)
    frame["order_id"] = [f"ORD-{n:06d}" for n in range(300)]
    frame["ordered"] = pd.date_range("2025-01-01 08:00", periods=300, freq="7h").strftime("%Y-%m-%d %H:%M")
    base = with_input(tmp_path, ("orders.csv", csv_bytes(frame)))

    report = preprocess(run_step, base)

    assert report["columns"]["order_id"]["kind"] == "dropped"
    assert report["columns"]["order_id"]["reason"].startswith("looks like an identifier: ")
    assert report["columns"]["ordered"]["became"] == [
        "ordered_year",
        "ordered_month",
        "ordered_day",
        "ordered_dayofweek",
        "ordered_hour",
    ]
    assert report["features"] == ["a", "b", *report["columns"]["ordered"]["became"]]


def test_text_columns_keep_their_most_frequent_categories_plus_other_and_missing(run_step, tmp_path):
    rng = np.random.default_rng(3)
    frame = numbers(600)
    frame["city"] = rng.choice([f"city{n:02d}" for n in range(40)], size=600)
    frame.loc[:4, "city"] = None
    base = with_input(tmp_path, ("data.csv", csv_bytes(frame)))

    report = preprocess(run_step, base)

    city = report["columns"]["city"]
    assert city["kind"] == "category"
    assert len(city["categories"]) == 20
    assert city["missing"] == 5
    assert len(report["features"]) == 2 + 20 + 2
    one_hot = split_rows(base, "train")[:, 3:]
    assert set(np.unique(one_hot)) <= {0.0, 1.0}
    assert (one_hot.sum(axis=1) == 1).all()  # exactly one of the categories, other or missing


@pytest.mark.parametrize(
    ("name", "content", "separator", "encoding"),
    [
        ("semicolons.csv", "a;b;target\n" + "1,5;2;3\n" * 30, "semicolon", "UTF-8"),
        ("tabs.tsv", "a\tb\ttarget\n" + "1\t2\t3\n" * 30, "tab", "UTF-8"),
        ("bom.csv", "\ufeffa,b,target\n" + "1,2,3\n" * 30, "comma", "UTF-8 with BOM"),
    ],
)
def test_separators_and_a_byte_order_mark_are_detected(run_step, tmp_path, name, content, separator, encoding):  # noqa: PLR0917
    rows = content.splitlines()
    # a different feature value and target in each row (rows alike share one split)
    varied = rows[:1] + [re.sub("3$", str(n), line).replace("2", str(100 + n), 1) for n, line in enumerate(rows[1:])]
    base = with_input(tmp_path, (name, "\n".join(varied).encode("utf-8")))

    report = preprocess(run_step, base)

    assert report["accepted"] is True, report.get("reason")
    assert report["files"] == [
        {
            "name": name,
            "rows": 30,
            "separator": separator,
            "encoding": encoding,
            "decimal": "comma" if separator == "semicolon" else "point",
            "extra_columns": [],
        }
    ]
    assert split_rows(base, "train")[0, 1] == (1.5 if separator == "semicolon" else 1.0)
    assert report["features"] == ["a", "b"]


def test_text_labels_are_classes_with_their_mapping_kept(run_step, tmp_path):
    frame = numbers(90)
    frame["target"] = np.where(frame["a"] > 0.3, "high", np.where(frame["a"] < -0.3, "low", "mid"))
    base = with_input(tmp_path, ("data.csv", csv_bytes(frame)))

    report = preprocess(run_step, base)

    assert report["problem_type"] == {
        "requested": "auto",
        "chosen": "multiclass",
        "rule": "the target holds text with 3 distinct values",
    }
    assert report["label_mapping"] == {"0": "high", "1": "low", "2": "mid"}
    assert report["training"] == {"objective": "multi:softprob", "eval_metric": "mlogloss", "num_class": "3"}
    assert set(split_rows(base, "train")[:, 0]) == {0.0, 1.0, 2.0}


def test_two_files_are_aligned_by_column_name_and_extra_columns_are_reported(run_step, tmp_path):
    first = numbers(60, seed=1)
    second = numbers(60, seed=2)[["target", "b", "a"]].assign(note="x")
    base = with_input(tmp_path, ("first.csv", csv_bytes(first)), ("second.csv", csv_bytes(second)))

    report = preprocess(run_step, base)

    assert report["rows"]["used"] == 120
    assert report["features"] == ["a", "b"]
    assert report["columns_not_in_every_file"] == {"note": "only in second.csv: dropped"}
    assert [f["extra_columns"] for f in report["files"]] == [[], ["note"]]


@pytest.mark.parametrize(("files", "reason"), REFUSALS)
def test_data_that_cannot_train_is_refused_with_one_line_naming_the_file(run_step, tmp_path, files, reason):
    base = with_input(tmp_path, *files)

    result = run_step("preprocess.py", base, "--target-column", "target")

    assert result.returncode == 0, result.stderr  # a decision, not a crash: the pipeline fails the run with it
    assert decision_of(report_of(base)) == {"accepted": False, "reason": reason, "target": "target"}
    assert f"REFUSED: {reason}" in result.stdout
    assert not (base / "train").exists()


def test_a_wrong_target_is_refused_naming_the_closest_column_first_then_every_column(run_step, tmp_path):
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "diagnosis"})
    base = with_input(tmp_path, ("cancer.csv", csv_bytes(frame)))

    report = preprocess(run_step, base, "--target-column", "Diagnosis")

    columns = list(frame.columns)
    listed = ["diagnosis", *columns[:-1]]
    reason = report["reason"]
    assert reason.startswith("target column 'Diagnosis' is missing in cancer.csv; did you mean 'diagnosis'? ")
    assert "\n" not in reason
    shown = reason.split("its columns are: ", 1)[1]
    more = int(shown.rsplit(", and ", 1)[1].split()[0]) if ", and " in shown else 0
    names = shown.rsplit(", and ", 1)[0].split(", ")
    assert names == listed[: len(names)]  # the closest first, then the file's order
    assert len(names) + more == len(columns) == 31


@pytest.mark.parametrize(
    ("requested", "target", "reason"),
    [
        ("regression", ["yes", "no"] * 15, "target column 'target' holds text such as 'yes': regression needs numbers"),
        ("binary", [1, 2, 3] * 10, "ProblemType binary needs exactly 2 distinct target values; 'target' has 3"),
    ],
)
def test_a_problem_type_the_target_cannot_be_is_refused(run_step, tmp_path, requested, target, reason):
    frame = pd.DataFrame({"a": range(30), "target": target})
    base = with_input(tmp_path, ("data.csv", csv_bytes(frame)))

    report = preprocess(run_step, base, "--problem-type", requested)

    assert report["accepted"] is False
    assert report["reason"].startswith(reason)


def test_a_non_numeric_cell_in_a_numeric_column_is_reported_and_treated_as_missing(run_step, tmp_path):
    base = with_input(
        tmp_path, ("data.csv", b"a,target\n" + b"".join(b"%d,%d\n" % (n, n * 2) for n in range(29)) + b"oops,2\n")
    )

    report = preprocess(run_step, base)

    assert report["columns"]["a"]["non_numeric_cells"] == {"count": 1, "examples": ["oops"], "treated_as": "missing"}


def test_the_same_row_lands_in_the_same_split_in_every_file(run_step, tmp_path):
    frame = numbers(400)
    first = with_input(tmp_path / "one", ("all.csv", csv_bytes(frame)))
    second = with_input(
        tmp_path / "two",
        ("part1.csv", csv_bytes(frame.iloc[:150][["b", "target", "a"]])),
        ("part2.csv", csv_bytes(frame.iloc[150:].sample(frac=1.0, random_state=5))),
    )
    preprocess(run_step, first)
    assert preprocess(run_step, second)["features"] == ["b", "a"]  # in the order of the first file

    def rows_of(base: Path, split: str) -> set[tuple[float, ...]]:
        rows = split_rows(base, split)
        if base == second:
            rows = rows[:, [0, 2, 1]]
        return {tuple(np.round(row, 6)) for row in rows}

    for split in ("train", "validation", "test"):
        assert rows_of(first, split) == rows_of(second, split)


def test_the_same_rows_in_three_overlapping_files_never_reach_training_from_the_test_split(run_step, tmp_path):
    # Daily files and snapshots overlap: the rows of the first file come back in the next two.
    frame = numbers(600)
    files = (
        ("day1.csv", csv_bytes(frame.iloc[:300])),
        ("day2.csv", csv_bytes(frame.iloc[200:450])),
        ("snapshot.csv", csv_bytes(frame.iloc[:600])),
    )
    first = with_input(tmp_path / "first", files[0])
    together = with_input(tmp_path / "together", *files)
    preprocess(run_step, first)
    report = preprocess(run_step, together)

    def hashes(base: Path, split: str) -> set[str]:
        return {hashlib.sha256(np.round(row[1:], 6).tobytes()).hexdigest() for row in split_rows(base, split)}

    train, validation, test = (hashes(together, split) for split in ("train", "validation", "test"))
    assert report["rows"]["used"] == 300 + 250 + 600
    assert len(train | validation | test) == 600
    assert not train & test
    assert not train & validation
    assert not validation & test
    assert hashes(first, "test") <= test  # the first run's test rows are still test rows


def test_an_id_column_keeps_all_rows_of_one_id_in_one_split_and_is_not_a_feature(run_step, tmp_path):
    frame = numbers(300)
    frame.insert(0, "patient", [f"p{n // 5}" for n in range(300)])  # five visits per patient
    base = with_input(tmp_path, ("visits.csv", csv_bytes(frame)))

    report = preprocess(run_step, base, "--id-column", "patient")

    assert report["split"]["by"] == "a hash of column 'patient'"
    assert report["features"] == ["a", "b"]
    splits_of: dict[str, set[str]] = {}
    for split in ("train", "validation", "test"):
        for row in split_rows(base, split):
            nearest = int(np.argmin(np.abs(frame["a"].to_numpy() - row[1]) + np.abs(frame["b"].to_numpy() - row[2])))
            splits_of.setdefault(frame["patient"].iloc[nearest], set()).add(split)
    assert len(splits_of) == 60
    assert all(len(splits) == 1 for splits in splits_of.values())


def test_an_id_column_that_is_not_in_the_data_is_refused(run_step, tmp_path):
    base = with_input(tmp_path, ("data.csv", csv_bytes(numbers(50))))

    report = preprocess(run_step, base, "--id-column", "patient")

    assert report["reason"] == "IdColumn 'patient' is not a column of the data (or not of every file)"


def test_200000_rows_with_an_identifier_column_stay_well_under_1_gb(run_step, image_of_script, tmp_path):
    rng = np.random.default_rng(9)
    frame = pd.DataFrame({f"x{n}": rng.normal(size=200_000) for n in range(18)})
    frame.insert(0, "order_id", [f"ORD-{n:08d}" for n in range(200_000)])
    frame["target"] = frame["x0"] * 2 + rng.normal(size=200_000)
    base = with_input(tmp_path, ("big.csv", csv_bytes(frame)))
    measure = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    python = python_for(image_of_script["preprocess.py"])
    script = Path(__file__).resolve().parents[2] / "pipeline" / "steps" / "preprocess.py"

    peak_kib = subprocess.run(
        [sys.executable, "-c", measure, str(python), str(script), "--target-column", "target", "--base-dir", str(base)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    assert int(peak_kib) < 1024 * 1024 / 2, f"peak {int(peak_kib) // 1024} MiB"
    report = report_of(base)
    assert report["columns"]["order_id"]["kind"] == "dropped"
    assert len(report["features"]) == 18


# -- Evaluate --------------------------------------------------------------------------------------


def train_in_image(base: Path, features: np.ndarray, labels: np.ndarray, objective: str) -> np.ndarray:
    """A model.tar.gz as the built-in algorithm writes it (xgboost of its image); its predictions on ``features``."""
    from emulator.pipeline_runner import train_with_the_algorithm

    (base / "train").mkdir(parents=True)
    np.savetxt(base / "train" / "train.csv", np.column_stack([labels, features]), delimiter=",")
    hyperparameters = {"num_round": "20", "objective": objective}
    model = train_with_the_algorithm(
        base / "train", hyperparameters, base / "training", base / "model" / "model.tar.gz"
    )
    python = str(environment(XGBOOST).python)
    predict = (
        "import sys, numpy, xgboost; booster = xgboost.Booster(); booster.load_model(sys.argv[1]); "
        "rows = numpy.loadtxt(sys.argv[2], delimiter=',', ndmin=2); "
        "print(','.join(repr(float(v)) for v in booster.predict(xgboost.DMatrix(rows[:, 1:]))))"
    )
    printed = subprocess.run(
        [python, "-c", predict, str(model), str(base / "train" / "train.csv")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return np.array([float(value) for value in printed.split(",")])


NO_CHAMPION = (
    *("--min-improvement", "0", "--auto-approve", "false", "--approval-status", "PendingManualApproval"),
    *("--model-package-group", "", "--region", "us-east-1"),
)
GATES = ("--min-r2", "0.1", "--min-auc", "0.6", "--min-accuracy-lift", "0.05", "--mse-threshold", "0", *NO_CHAMPION)


def with_test_split(base: Path, features: np.ndarray, labels: np.ndarray, data_report: dict[str, Any]) -> None:
    (base / "test").mkdir()
    np.savetxt(base / "test" / "test.csv", np.column_stack([labels, features]), delimiter=",")
    (base / "report").mkdir()
    (base / "report" / "data_report.json").write_text(json.dumps(data_report))


def test_evaluate_scores_the_model_and_the_baseline_and_applies_the_gate(run_step, tmp_path):
    rng = np.random.default_rng(7)
    features = rng.normal(size=(80, 3))
    labels = features @ np.array([2.0, -1.0, 0.5]) + rng.normal(scale=0.1, size=80)
    predicted = train_in_image(tmp_path, features, labels, "reg:squarederror")
    with_test_split(tmp_path, features, labels, {"problem_type": {"chosen": "regression"}, "baseline": {"mean": 0.25}})

    result = run_step("evaluate.py", tmp_path, *GATES)

    assert result.returncode == 0, result.stderr
    report = evaluation_of(tmp_path)
    assert report["metrics"]["mse"] == pytest.approx(float(np.mean((labels - predicted) ** 2)), rel=1e-5)
    assert report["metrics"]["rmse"] == pytest.approx(report["metrics"]["mse"] ** 0.5)
    assert report["baseline_metrics"]["mse"] == pytest.approx(float(np.mean((labels - 0.25) ** 2)))
    assert report["gate"]["passed"] is True
    assert report["regression_metrics"]["r2"]["value"] == report["metrics"]["r2"]
    assert report["rows"] == {"test": 80}


def test_a_model_no_better_than_the_baseline_fails_the_gate_with_its_reason(run_step, tmp_path):
    rng = np.random.default_rng(8)
    features = rng.normal(size=(100, 2))
    labels = (rng.random(100) > 0.5).astype(float)  # nothing to learn
    train_in_image(tmp_path, features[:60], labels[:60], "binary:logistic")
    with_test_split(
        tmp_path,
        features[60:],
        labels[60:],
        {"problem_type": {"chosen": "binary"}, "baseline": {"class_shares": [0.5, 0.5]}},
    )
    strict = ("--min-r2", "0.1", "--min-auc", "0.99", "--min-accuracy-lift", "0.05", "--mse-threshold", "0")

    result = run_step("evaluate.py", tmp_path, *strict, *NO_CHAMPION)

    assert result.returncode == 0, result.stderr
    gate = evaluation_of(tmp_path)["gate"]
    auc = gate["checks"][0]["value"]
    assert gate["passed"] is False
    assert gate["reason"] == f"model not good enough: AUC {auc:.3f} is below MinAuc 0.99"


def test_the_same_categories_make_the_same_features_whatever_their_counts(run_step, tmp_path):
    def features_with(cities: list[str], folder: str) -> list[str]:
        frame = numbers(120)
        frame["city"] = [cities[n % len(cities)] for n in range(120)]
        return list(preprocess(run_step, with_input(tmp_path / folder, ("data.csv", csv_bytes(frame))))["features"])

    mostly_paris = features_with(["paris", "paris", "paris", "lyon", "nice"], "one")
    mostly_nice = features_with(["nice", "nice", "nice", "lyon", "paris"], "two")

    expected = ["a", "b", "city=lyon", "city=nice", "city=paris", "city=other", "city=missing"]
    assert mostly_paris == mostly_nice == expected


def test_the_champion_sees_this_runs_rows_in_its_own_feature_layout(image_environments, tmp_path):
    # Run in the Evaluate image's Python: a champion that kept lyon/nice (paris was rare then, "other"),
    # a challenger that keeps nice/paris/lille and folded lyon into its own "other".
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import numpy as np; from evaluate import align_features\n"
        "ours = {'features': ['x', 'city=lille', 'city=nice', 'city=paris', 'city=other', 'city=missing'],\n"
        "        'columns': {'x': {'kind': 'numeric'}, 'city': {'kind': 'category'}}}\n"
        "theirs = {'features': ['x', 'city=lyon', 'city=nice', 'city=other', 'city=missing'],\n"
        "          'columns': {'x': {'kind': 'numeric'},\n"
        "                      'city': {'kind': 'category', 'categories': ['lyon', 'nice']}}}\n"
        "rows = np.array([[1.5, 1, 0, 0, 0, 0], [2.5, 0, 1, 0, 0, 0], [3.5, 0, 0, 1, 0, 0], [4.5, 0, 0, 0, 1, 0]])\n"
        "print(json.dumps(align_features(rows, ours, theirs).tolist()))\n"
        "print(align_features(rows, ours, {**theirs, 'columns': {**theirs['columns'], 'age': {'kind': 'numeric'}}}))\n"
        "blank = {**ours, 'rows': {'used': 800},\n"
        "         'columns': {**ours['columns'], 'city': {'kind': 'category', 'missing': 799}}}\n"
        "print(align_features(rows, blank, {**theirs, 'rows': {'used': 800}}))\n"
    )
    python = environment(XGBOOST).python
    result = subprocess.run(
        [str(python), "-c", code, str(STEPS)], capture_output=True, text=True, check=False, cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    aligned, refused, mostly_blank = result.stdout.strip().splitlines()
    assert json.loads(aligned) == [
        [1.5, 0, 0, 1, 0],  # lille: the champion never kept it, so its "other"
        [2.5, 0, 1, 0, 0],  # nice: kept by both
        [3.5, 0, 0, 1, 0],  # paris: folded into the champion's "other"
        [4.5, 0, 0, 1, 0],  # our "other" (lyon among them): not known here, so the champion's "other"
    ]
    assert refused == "it used column 'age' (numeric), which this run's data does not have as such"
    # a column it relied on that went (nearly) blank: scoring it there would be unfair, so no comparison
    assert (
        mostly_blank == "column 'city' it used is missing in 100% of this run's rows (0% in the data it was trained on)"
    )


# -- the model package's serving containers (pipeline/steps/serving.py) ------------------------------

# The scikit-learn container's calls of a script's hooks, one request at a time (sagemaker-containers'
# Transformer: model_fn once, then input_fn, predict_fn, output_fn), in the image's look-alike Python,
# with the code/ of model.tar.gz importable as the container installs SAGEMAKER_SUBMIT_DIRECTORY. A
# (body, content type) answer is a 200; a WSGI application answers its own status (Flask runs it).
SERVE = """
import json, os, sys
model_dir, stage = sys.argv[1], sys.argv[2]
os.environ["RETRAIN_SERVING_STAGE"] = stage
sys.path.insert(0, os.path.join(model_dir, "code"))
import serving
model = serving.model_fn(model_dir)
answers = []
for request in json.load(sys.stdin):
    body = bytes.fromhex(request["hex"]) if "hex" in request else request["body"]
    answer = serving.output_fn(serving.predict_fn(serving.input_fn(body, request["content_type"]), model),
                               request.get("accept"))
    if isinstance(answer, tuple):
        answers.append({"status": 200, "body": answer[0], "content_type": answer[1]})
        continue
    started = {}
    text = b"".join(answer({}, lambda status, headers: started.update(status=status, headers=dict(headers))))
    answers.append({"status": int(started["status"].split()[0]), "body": text.decode(),
                    "content_type": started["headers"]["Content-Type"]})
print(json.dumps(answers))
"""


def model_dir_of(transform: Path, folder: Path) -> Path:
    """The transform output's model.tar.gz unpacked, as SageMaker unpacks ModelDataUrl into /opt/ml/model."""
    import tarfile

    with tarfile.open(transform / "model.tar.gz") as archive:
        archive.extractall(folder, filter="data")
    return folder


def serve(model_dir: Path, stage: str, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each request through the stage's hooks, in the scikit-learn image's look-alike."""
    result = subprocess.run(
        [str(environment(SKLEARN).python), "-c", SERVE, str(model_dir), stage],
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return list(json.loads(result.stdout))


def csv_request(body: str, **options: str) -> dict[str, Any]:
    return {"body": body, "content_type": "text/csv", "accept": "text/csv", **options}


def as_float32(text: str) -> np.ndarray:
    return np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2).astype(np.float32)


def customers(rows: int = 300) -> bytes:
    """What the serving tests send: missing numbers, an infinity and an unreadable one, rare and missing
    categories, dates with hours, an identifier, booleans, a text target with three classes."""
    rng = np.random.default_rng(17)
    frame = pd.DataFrame({"age": rng.normal(40, 12, rows).round(2).astype(object)})
    frame.loc[::17, "age"] = ""
    frame.loc[5, "age"], frame.loc[6, "age"], frame.loc[7, "age"] = "inf", "-inf", "oops"
    frame["spend"] = rng.gamma(2.0, 30.0, rows).round(3)
    frame["city"] = rng.choice([f"city{n:02d}" for n in range(30)], size=rows)
    frame.loc[::23, "city"] = None
    frame["joined"] = pd.date_range("2024-01-01 06:00", periods=rows, freq="13h").strftime("%Y-%m-%d %H:%M")
    frame["customer"] = [f"C-{n:05d}" for n in range(rows)]
    frame["member"] = rng.choice(["True", "False"], size=rows)
    frame["target"] = np.where(frame["spend"] > 70, "gold", np.where(frame["spend"] > 40, "silver", "bronze"))
    return csv_bytes(frame)


@pytest.fixture(scope="module")
def served(image_environments: None, image_of_script: dict[str, str], tmp_path_factory: Any) -> dict[str, Any]:
    """Preprocess run once on customers(); its transform output, the model folder it makes, the smoke sample."""
    base = with_input(tmp_path_factory.mktemp("served"), ("customers.csv", customers()))
    python = python_for(image_of_script["preprocess.py"])
    command = [str(python), str(STEPS / "preprocess.py"), "--target-column", "target", "--base-dir", str(base)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    transform = base / "transform"
    body = (transform / "smoke_rows.csv").read_text()
    return {
        "base": base,
        "report": report_of(base),
        "model_dir": model_dir_of(transform, tmp_path_factory.mktemp("model")),
        "body": body,
        "frame": pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False),
        "features": as_float32((transform / "smoke_features.csv").read_text()),
    }


def test_preprocess_packs_the_fitted_encoder_and_the_serving_code_as_model_data(served):
    import tarfile

    from pipeline.steps.reports import ENCODER_DOCUMENT, shape_problems

    with tarfile.open(served["base"] / "transform" / "model.tar.gz") as archive:
        assert sorted(archive.getnames()) == ["code/preprocess.py", "code/serving.py", "encoder.json"]
    model_dir, report = served["model_dir"], served["report"]
    for script in ("serving.py", "preprocess.py"):
        assert (model_dir / "code" / script).read_bytes() == (STEPS / script).read_bytes()
    document = json.loads((model_dir / "encoder.json").read_text())
    assert shape_problems(document, ENCODER_DOCUMENT) == []
    assert document["features"] == report["features"]
    assert document["encoder"]["columns"] == report["columns"]
    assert document["label_mapping"] == report["label_mapping"] == {"0": "bronze", "1": "gold", "2": "silver"}
    assert document["column_order"] == ["age", "spend", "city", "joined", "customer", "member", "target"]


def test_the_smoke_sample_is_the_first_test_rows_without_the_target_and_their_features(served):
    frame, features = served["frame"], served["features"]
    test_rows = split_rows(served["base"], "test")

    assert list(frame.columns) == ["age", "spend", "city", "joined", "customer", "member"]
    assert len(frame) == len(features) == min(20, len(test_rows))
    # the first test rows, in order: the features Preprocess wrote for them (float32, as the algorithm reads them)
    assert np.array_equal(features, test_rows[: len(features), 1:].astype(np.float32))


def test_the_features_container_answers_the_training_features_for_raw_rows_in_any_layout(served):
    frame, report = served["frame"], served["report"]
    shuffled = frame[["member", "customer", "joined", "city", "spend", "age"]]
    no_header = csv_bytes(frame, header=False).decode()
    with_target = csv_bytes(frame.assign(target="gold")[[*frame.columns, "target"]], header=False).decode()
    extra = csv_bytes(frame.assign(note="ignored", target="gold")).decode()
    european = frame.assign(age=frame["age"].str.replace(".", ","), spend=frame["spend"].str.replace(".", ","))

    answers = serve(
        served["model_dir"],
        "features",
        [
            csv_request(served["body"]),
            csv_request(csv_bytes(shuffled).decode(), accept="application/json"),  # XGBoost reads CSV only
            csv_request(no_header),
            csv_request(with_target),
            csv_request(extra, content_type="text/csv; charset=utf-8"),
            csv_request(csv_bytes(european, sep=";").decode()),
        ],
    )

    for answer in answers:
        assert (answer["status"], answer["content_type"]) == (200, "text/csv"), answer
        assert np.array_equal(as_float32(answer["body"]), served["features"])
        assert as_float32(answer["body"]).shape[1] == len(report["features"])  # no label column


def test_the_features_container_refuses_what_it_cannot_read_with_the_status_and_one_line(served):
    frame = served["frame"]
    unreadable = frame.copy()
    unreadable.loc[2, "age"] = "forty"
    misdated = frame.copy()
    misdated.loc[0, "joined"] = "soon"

    answers = serve(
        served["model_dir"],
        "features",
        [
            csv_request(csv_bytes(frame.drop(columns=["city", "joined"])).decode()),
            csv_request(csv_bytes(unreadable).decode()),
            csv_request(csv_bytes(misdated).decode()),
            csv_request(""),
            csv_request(served["body"], content_type="application/x-npy"),
            csv_request('{"instances": []}', content_type="application/json"),
            {"hex": "6167650a" + "e9" * 3, "content_type": "text/csv; charset=latin-1"},
            csv_request("1,2,3\n"),
            csv_request(served["body"].splitlines()[0] + "\n"),
        ],
    )

    assert [(answer["status"], answer["body"].strip()) for answer in answers] == [
        (400, "the request's header has no column 'city', 'joined'; the model uses age, spend, city, joined, member"),
        (400, "row 3, column 'age': 'forty' is not a number"),
        (400, "row 1, column 'joined': 'soon' is not a date"),
        (400, "the request is empty: send one row per line"),
        (415, "content type 'application/x-npy' is not supported; send text/csv"),
        (415, "content type 'application/json' is not supported; send text/csv"),
        (400, "the request is not UTF-8 text (byte 0xe9 at offset 4)"),
        (
            400,
            "row 1 has 3 values; without a header a row holds the training columns in their order "
            "(age, spend, city, joined, customer, member, target), the target 'target' may be left out",
        ),
        (400, "the request has a header but no rows"),
    ]
    assert {answer["content_type"] for answer in answers} == {"text/plain; charset=utf-8"}


def test_the_labels_container_answers_the_data_s_own_class_names(served):
    csv_scores = "0.2,0.7,0.1\n0.6,0.3,0.1\n"
    json_scores = json.dumps({"predictions": [{"score": [0.2, 0.7, 0.1]}, {"score": [0.1, 0.1, 0.8]}]})

    answers = serve(
        served["model_dir"],
        "labels",
        [
            csv_request(csv_scores),
            csv_request(csv_scores, accept="application/json"),
            {"body": json_scores, "content_type": "application/json", "accept": "text/csv"},
            csv_request(csv_scores, accept="*/*"),
            csv_request(csv_scores, accept="application/x-recordio-protobuf"),
            csv_request("0.2,0.8\n"),
            csv_request("0.2,high,0.1\n"),
            csv_request(""),
        ],
    )

    ok, as_json, from_json, default = answers[:4]
    assert (ok["status"], ok["content_type"], ok["body"]) == (200, "text/csv", "gold\nbronze\n")
    assert json.loads(as_json["body"]) == {
        "predictions": [{"predicted_label": "gold", "score": 0.7}, {"predicted_label": "bronze", "score": 0.6}]
    }
    assert from_json["body"] == "gold\nsilver\n"
    assert default["content_type"] == "application/json"  # sagemaker-containers' default Accept
    assert [(answer["status"], answer["body"].strip()) for answer in answers[4:]] == [
        (406, "Accept 'application/x-recordio-protobuf' is not supported; ask for text/csv or application/json"),
        (400, "row 1 holds 2 scores; a multiclass model gives 3"),
        (400, "row 1 of the predictions, '0.2,high,0.1', is not numbers"),
        (400, "the request is empty: send one row per line"),
    ]


def test_flask_answers_a_refused_request_with_its_status_and_reason(served):
    # The container's Worker is a Flask app whose view returns what output_fn returned (a tuple becomes a
    # Response of that mimetype: sagemaker-containers _transformer.py, Transformer.transform): Flask 3.1, as
    # the image pins it, runs the refusal as a WSGI application. In the project's Python, which has Flask.
    code = (
        "import os, sys; sys.path.insert(0, os.path.join(sys.argv[1], 'code')); os.environ['RETRAIN_SERVING_STAGE'] = "
        "'features'\nimport flask, serving\nmodel = serving.model_fn(sys.argv[1]); app = flask.Flask('worker')\n"
        "@app.post('/invocations')\ndef invocations():\n"
        "    request = flask.request\n"
        "    data = serving.input_fn(request.get_data(as_text=True), request.headers.get('Content-Type'))\n"
        "    answer = serving.output_fn(serving.predict_fn(data, model), request.headers.get('Accept'))\n"
        "    return flask.Response(answer[0], mimetype=answer[1]) if isinstance(answer, tuple) else answer\n"
        "client = app.test_client()\n"
        "for body in ('age,spend\\n1,2\\n', sys.argv[2]):\n"
        "    response = client.post('/invocations', data=body, headers={'Content-Type': 'text/csv'})\n"
        "    print(response.status_code, response.mimetype, response.get_data(as_text=True).splitlines()[0])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(served["model_dir"]), served["body"]],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    refused, answered = result.stdout.splitlines()
    assert refused == (
        "400 text/plain the request's header has no column 'city', 'joined', 'member'; "
        "the model uses age, spend, city, joined, member"
    )
    assert answered.startswith("200 text/csv ")
