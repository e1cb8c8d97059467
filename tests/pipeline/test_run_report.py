"""The run report Evaluate draws (pipeline/steps/run_report.py), looked at as a person's browser draws it.

Each report is made by the real steps: Preprocess and the image's training on a data set, then
evaluate.py in the Evaluate image's look-alike. The kept-production report is made against moto, with
models registered before it (the history), one of them Approved and as good: production is kept.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Literal

import boto3
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.moto_server import running_moto_server
from emulator.pipeline_runner import train_with_the_algorithm
from emulator.sample_data import diabetes_csv
from emulator.step_environments import environment, python_for
from pipeline.images import XGBOOST
from pipeline.steps import evaluate, reports
from tests.pipeline.browser import INSTALL, Browser, find_chromium
from tests.pipeline.conftest import REGION, STEPS
from tests.pipeline.test_reports import imported_distributions
from tests.pipeline.test_step_scripts import GATES, csv_bytes, csv_request, model_dir_of, preprocess, serve, with_input

# Its module-scoped fixtures are built once: every test of the file runs on the same worker.
pytestmark = pytest.mark.xdist_group("test_run_report")

WIDTH = 1280
GROUP = "retrain-models"
HISTORY_BUCKET = "retrain-history"
ROLE = "arn:aws:iam::123456789012:role/retrain-trigger-test-pipeline-us-east-1"
JSON = "application/json"
CAUSE = "Retrain requested (nightly-7f3a): 1 object under data/"
CLASSES = 50  # the most classes Preprocess accepts
SHOTS = Path(__file__).resolve().parents[2] / ".pytest_cache" / "run-reports"  # the PNGs, for a person to look at
CASES = ("regression", "binary", "multiclass", "kept_production")


# -- data sets ------------------------------------------------------------------------------------------


def churn(rows: int = 800) -> bytes:
    """Binary, with text labels."""
    rng = np.random.default_rng(11)
    frame = pd.DataFrame({"tenure": rng.normal(size=rows), "spend": rng.normal(size=rows)})
    frame["plan"] = rng.choice(["basic", "plus", "family"], size=rows)
    frame["target"] = np.where(frame["tenure"] + 0.7 * rng.normal(size=rows) > 0.2, "churned", "stayed")
    return csv_bytes(frame)


def species(rows: int = 6000) -> bytes:
    """50 classes named by text, each with test rows; neighbours are easy to mistake for each other."""
    rng = np.random.default_rng(12)
    frame = pd.DataFrame({"length": rng.normal(size=rows), "width": rng.normal(size=rows)})
    index = np.clip(((frame["length"] + 3) / 6 * CLASSES + rng.normal(scale=1.5, size=rows)).astype(int), 0, 49)
    frame["target"] = [f"Species {n:02d} {'longipes' if n % 2 else 'brevis'}" for n in index]
    return csv_bytes(frame)


# -- the steps ------------------------------------------------------------------------------------------


class Steps:
    """Preprocess, training and Evaluate, each in its image's look-alike (as the `run_step` fixture runs them)."""

    def __init__(self, image_of_script: dict[str, str]) -> None:
        self.image_of_script = image_of_script

    def __call__(self, script: str, base: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
        python = python_for(self.image_of_script[script])
        command = [str(python), str(STEPS / script), *arguments, "--base-dir", str(base)]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    def prepare(self, base: Path, body: bytes) -> None:
        data_report = preprocess(self, with_input(base, ("data.csv", body)))
        train(base, data_report)

    def evaluate(self, base: Path, *arguments: str) -> dict[str, Any]:
        result = self("evaluate.py", base, *arguments)
        assert result.returncode == 0, result.stderr
        evaluation = dict(json.loads((base / "evaluation" / "evaluation.json").read_text()))
        assert reports.evaluation_problems(evaluation) == []
        return evaluation


def train(base: Path, data_report: dict[str, Any]) -> None:
    """model/model.tar.gz as the built-in algorithm writes it, trained on Preprocess's train split."""
    hyperparameters = {"num_round": "20", "objective": data_report["training"]["objective"]}
    if data_report["training"]["num_class"]:
        hyperparameters["num_class"] = data_report["training"]["num_class"]
    train_with_the_algorithm(base / "train", hyperparameters, base / "training", base / "model" / "model.tar.gz")


def with_group(arguments: tuple[str, ...]) -> list[str]:
    given = list(arguments)
    given[given.index("--model-package-group") + 1] = GROUP
    return given


def register(base: Path, name: str, status: Literal["Approved", "Rejected"], quality: bytes) -> None:
    """A package of the group as the pipeline registers one: the model, its data report, its statistics."""
    s3 = boto3.client("s3", region_name=REGION)
    files = {
        "model.tar.gz": (base / "model" / "model.tar.gz").read_bytes(),
        "data_report.json": (base / "report" / "data_report.json").read_bytes(),
        "model_quality.json": quality,
    }
    for file_name, body in files.items():
        s3.put_object(Bucket=HISTORY_BUCKET, Key=f"{name}/{file_name}", Body=body)
    folder = f"s3://{HISTORY_BUCKET}/{name}"
    boto3.client("sagemaker", region_name=REGION).create_model_package(
        ModelPackageGroupName=GROUP,
        InferenceSpecification={
            "Containers": [{"Image": "xgboost", "ModelDataUrl": f"s3://{HISTORY_BUCKET}/{name}/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        ModelApprovalStatus=status,
        ModelMetrics={
            "ModelQuality": {"Statistics": {"ContentType": JSON, "S3Uri": f"{folder}/model_quality.json"}},
            "ModelDataQuality": {"Statistics": {"ContentType": JSON, "S3Uri": f"{folder}/data_report.json"}},
        },
    )


def kept_production(steps: Steps, base: Path) -> dict[str, Any]:
    """Production is as good as the new model (it is the same model), after a worse one was Rejected;
    the execution was started with a cause, which the report's header names."""
    steps.prepare(base, diabetes_csv(rows=500))
    first = steps.evaluate(base, *GATES)
    quality = (base / "evaluation" / "model_quality.json").read_bytes()
    worse = {"regression_metrics": {"rmse": {"value": first["metrics"]["rmse"] * 1.25, "standard_deviation": "NaN"}}}
    shutil.rmtree(base / "evaluation")
    with running_moto_server():
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=HISTORY_BUCKET)
        sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
        register(base, "first", "Rejected", json.dumps(worse).encode())
        register(base, "second", "Approved", quality)
        sagemaker.create_pipeline(
            PipelineName="retrain-pipeline", PipelineDefinition="{}", RoleArn=ROLE, ClientRequestToken="p" * 32
        )
        execution = sagemaker.start_pipeline_execution(
            PipelineName="retrain-pipeline", PipelineExecutionDescription=CAUSE, ClientRequestToken="e" * 32
        )["PipelineExecutionArn"]
        return steps.evaluate(base, *with_group(GATES), "--execution-arn", execution)


@pytest.fixture(scope="module")
def made(image_environments: None, image_of_script: dict[str, str], tmp_path_factory: Any) -> dict[str, Path]:
    """Each case's Evaluate folder (evaluation.json, model_quality.json, report.html)."""
    steps, root = Steps(image_of_script), tmp_path_factory.mktemp("run-reports")
    for case, body in (("regression", diabetes_csv(rows=400)), ("binary", churn()), ("multiclass", species())):
        steps.prepare(root / case, body)
        steps.evaluate(root / case, *GATES)
    kept_production(steps, root / "kept_production")
    return {case: root / case / "evaluation" for case in CASES}


# -- what Evaluate wrote --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_each_run_gets_a_self_contained_report_under_1_mb(made, case):
    evaluation = json.loads((made[case] / "evaluation.json").read_text())
    page = (made[case] / "report.html").read_text(encoding="utf-8")

    assert evaluation["report"] == {"drawn": True, "file": reports.RUN_REPORT_FILE}
    assert len(page.encode()) < 1_000_000
    assert "<script" not in page.lower()
    # nothing fetched: every reference is to the page itself (an SVG id) or inline (a data: image)
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#|data:image/png;base64,)""", page)
    assert "@import" not in page
    assert "url(http" not in page
    assert (
        reports.model_quality_problems(
            json.loads((made[case] / "model_quality.json").read_text()), evaluation["problem_type"]
        )
        == []
    )


def test_the_kept_production_report_names_the_cause_the_decision_and_the_history(made):
    evaluation = json.loads((made["kept_production"] / "evaluation.json").read_text())
    page = (made["kept_production"] / "report.html").read_text(encoding="utf-8")

    assert evaluation["decision"]["register"] is False
    assert evaluation["champion"]["comparable"] is True
    assert CAUSE in page
    assert "Not registered, production stays: same as production (RMSE" in page
    assert ">v1</td><td>Rejected<" in page
    assert ">v2</td><td>Approved<" in page
    # production scored on the same rows: its RMSE beside the new model's (the same model: the same value)
    assert page.count(f'<td class="number">{evaluation["metrics"]["rmse"]:.4g}</td>') == 2


def test_fifty_text_classes_are_named_on_the_matrix_axes(made):
    page = (made["multiclass"] / "report.html").read_text(encoding="utf-8")

    for n in range(CLASSES):
        assert f"Species {n:02d} {'longipes' if n % 2 else 'brevis'}" in page


def test_a_report_that_cannot_be_drawn_says_why_and_the_decision_stands(made, image_of_script, tmp_path):
    # Evaluate alone, without the module that draws the report (as if its input were missing)
    base = made["regression"].parent
    copy = tmp_path / "run"
    shutil.copytree(base, copy, ignore=shutil.ignore_patterns("evaluation"))
    alone = tmp_path / "code"
    alone.mkdir()
    shutil.copy(STEPS / "evaluate.py", alone / "evaluate.py")
    python = python_for(image_of_script["evaluate.py"])

    result = subprocess.run(
        [str(python), str(alone / "evaluate.py"), *GATES, "--base-dir", str(copy)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    drawn = json.loads((made["regression"] / "evaluation.json").read_text())
    undrawn = json.loads((copy / "evaluation" / "evaluation.json").read_text())
    assert undrawn["report"] == {"drawn": False, "reason": "ModuleNotFoundError: No module named 'run_report'"}
    assert reports.evaluation_problems(undrawn) == []
    assert undrawn["decision"] == drawn["decision"]
    assert undrawn["gate"] == drawn["gate"]
    assert not (copy / "evaluation" / "report.html").exists()
    assert (copy / "evaluation" / "model_quality.json").exists()


# -- the smoke check Evaluate writes beside the report -------------------------------------------------

# The XGBoost container's answer to text/csv features: its predictions, one row per line, each value's repr
# (aws/sagemaker-xgboost-container algorithm_mode/serve.py `invocations`: encoders.encode(preds.tolist(),
# accept), which is sagemaker-containers _encoders.array_to_csv), in the XGBoost image's look-alike.
XGBOOST_ANSWERS = """
import csv, io, json, sys, tarfile, tempfile
import numpy as np, xgboost
answers = []
for archive, features in json.load(sys.stdin):
    with tempfile.TemporaryDirectory() as folder, tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
        booster = xgboost.Booster(model_file=folder + "/xgboost-model")
    rows = np.loadtxt(io.StringIO(features), delimiter=",", ndmin=2)
    predictions = np.array(booster.predict(xgboost.DMatrix(rows)).tolist())
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\\n").writerows(predictions.reshape(len(rows), -1))
    answers.append(buffer.getvalue())
print(json.dumps(answers))
"""


def test_the_smoke_check_expects_the_data_s_own_labels_for_the_smoke_rows(made):
    names = {
        "binary": {"churned", "stayed"},
        "multiclass": {f"Species {n:02d} {'longipes' if n % 2 else 'brevis'}" for n in range(CLASSES)},
    }
    for case in ("regression", "binary", "multiclass"):
        check = json.loads((made[case] / reports.SMOKE_CHECK_FILE).read_text())

        assert reports.smoke_check_problems(check) == []
        assert check["problem_type"] == case
        assert (
            check["body"].splitlines()[0]
            == (made[case].parent / "transform" / "smoke_rows.csv").read_text().split("\n", 1)[0]
        )
        assert len(check["expected"]) == 20
        if case == "regression":
            assert all(math.isfinite(float(answer)) for answer in check["expected"])
            assert check["tolerance"] > 0
        else:
            assert set(check["expected"]) <= names[case]
            assert check["tolerance"] == 0


def test_the_three_containers_answer_the_smoke_check_s_body_with_its_expected_lines(made, tmp_path):
    cases = ("regression", "binary", "multiclass")
    checks = {case: json.loads((made[case] / reports.SMOKE_CHECK_FILE).read_text()) for case in cases}
    model_dirs = {case: model_dir_of(made[case].parent / "transform", tmp_path / case) for case in cases}

    features = {
        case: serve(model_dirs[case], "features", [csv_request(checks[case]["body"], accept=checks[case]["accept"])])
        for case in cases
    }
    jobs = [[str(made[case].parent / "model" / "model.tar.gz"), features[case][0]["body"]] for case in cases]
    predicted = subprocess.run(
        [str(environment(XGBOOST).python), "-c", XGBOOST_ANSWERS],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        check=False,
    )
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    for case, scores in zip(cases, json.loads(predicted.stdout), strict=True):
        [answer] = serve(model_dirs[case], "labels", [csv_request(scores, accept=checks[case]["accept"])])

        assert (answer["status"], answer["content_type"]) == (200, checks[case]["content_type"])
        lines, expected = answer["body"].splitlines(), checks[case]["expected"]
        if case == "regression":
            assert [float(v) for v in lines] == pytest.approx(
                [float(v) for v in expected], rel=checks[case]["tolerance"]
            )
        else:
            assert lines == expected


LARGE_CASES = ("large_regression", "large_binary", "large_multiclass")
# 200,000 test rows of each problem type (50 classes), a production model beside the new one and 50
# models in the history: drawn by run_report itself, in the Evaluate image's look-alike.
LARGE = (
    "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); import numpy as np, evaluate, run_report\n"
    "rng = np.random.default_rng(0); rows = 200_000\n"
    "for kind in ('regression', 'binary', 'multiclass'):\n"
    "    classes = 50 if kind == 'multiclass' else 2\n"
    "    labels = rng.integers(0, classes, rows)\n"
    "    actual = labels * 100 + rng.normal(scale=10, size=rows) if kind == 'regression' else labels.astype(float)\n"
    "    def guess():\n"
    "        if kind == 'multiclass':\n"
    "            return rng.dirichlet(np.ones(50), rows) + np.eye(50)[labels] * 0.3\n"
    "        if kind == 'binary':\n"
    "            return np.clip(labels * 0.4 + rng.random(rows) * 0.6, 0, 1)\n"
    "        return actual + rng.normal(scale=30, size=rows)\n"
    "    new, old = guess(), guess()\n"
    "    names = {str(n): f'class number {n} of {classes}' for n in range(classes)}\n"
    "    mapping = None if kind == 'regression' else names\n"
    "    quality = lambda p: evaluate.model_quality(kind, actual, p, mapping)\n"
    "    metric = {'regression': 'rmse', 'binary': 'auc', 'multiclass': 'accuracy'}[kind]\n"
    "    champion = {'model_package_arn': 'arn', 'metrics': {metric: 0.4}, 'comparable': True, 'reason': ''}\n"
    "    facts = {'evaluation': {'problem_type': kind, 'primary_metric': metric, 'metrics': {metric: 0.5},\n"
    "             'baseline_metrics': {metric: 0.3}, 'gate': {'passed': True, 'reason': ''}, 'champion': champion,\n"
    "             'decision': {'register': True, 'summary': 'x: registered', 'approval_status': 'Approved'},\n"
    "             'rows': {'test': rows}, 'label_mapping': mapping},\n"
    "             'data_report': {}, 'actual': actual, 'predicted': new, 'production_predicted': old,\n"
    "             'quality': quality(new), 'production_quality': quality(old), 'importance': [('x', 1.0)],\n"
    "             'run': {}, 'history': [{'version': n, 'status': 'Approved', 'value': 0.4} for n in range(50)]}\n"
    "    (Path(sys.argv[2]) / f'large_{kind}.html').write_text(run_report.render(facts), encoding='utf-8')\n"
)


@pytest.fixture(scope="module")
def large(image_environments: None, tmp_path_factory: Any) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("large-reports")
    command = [str(environment(XGBOOST).python), "-c", LARGE, str(STEPS), str(folder)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return {case: folder / f"{case}.html" for case in LARGE_CASES}


@pytest.mark.parametrize("case", LARGE_CASES)
def test_any_number_of_test_rows_makes_a_report_under_1_mb(large, case):
    assert large[case].stat().st_size < 1_000_000


def test_the_report_module_imports_only_what_the_evaluate_image_holds_and_names_are_reports_own():
    assert {d for d in imported_distributions(STEPS / "run_report.py") if not XGBOOST.holds(d)} == set()
    assert evaluate.RUN_REPORT_FILE == reports.RUN_REPORT_FILE
    assert evaluate.MODEL_QUALITY_FILE == reports.MODEL_QUALITY_FILE


# -- in the browser -------------------------------------------------------------------------------------

# For each picture: each axes' frame (its background patch) and the box of every mark clipped to it
# (lines, points, bars, images: what matplotlib draws with a clip path), the texts that reach past the
# picture's edge (cut off there), and tick labels that overlap one another: as the browser laid them out.
MARKS = """
const overlaps = boxes => boxes.flatMap((a, i) => boxes.slice(i + 1).filter(b =>
  a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)).length;
const boxes = (root, selector) => [...root.querySelectorAll(selector)]
  .map(element => element.getBoundingClientRect()).filter(box => box.width > 0);
[...document.querySelectorAll('figure > svg')].map(svg => {
  const edge = svg.getBoundingClientRect();
  return {
    caption: svg.parentElement.querySelector('figcaption').textContent,
    cut: boxes(svg, 'text').filter(box => box.left < edge.left - 1 || box.right > edge.right + 1
      || box.top < edge.top - 1 || box.bottom > edge.bottom + 1).length,
    axes: [...svg.querySelectorAll('g[id^="axes_"]')].map(group => {
      const frame = group.querySelector(':scope > g[id^="patch_"] > path').getBoundingClientRect();
      const marks = [...group.querySelectorAll('[clip-path]')].map(mark => mark.getBoundingClientRect());
      const inside = marks.filter(box => (box.width > 0 || box.height > 0)
        && box.right >= frame.left - 1 && box.left <= frame.right + 1
        && box.bottom >= frame.top - 1 && box.top <= frame.bottom + 1);
      return {id: group.id, width: frame.width, height: frame.height, marks: marks.length, inside: inside.length,
              overlapping_labels: overlaps(boxes(group, 'g[id^="xtick_"] text'))
                + overlaps(boxes(group, 'g[id^="ytick_"] text'))};
    }),
  };
})
"""


@pytest.fixture(scope="module")
def chromium() -> str:
    found = find_chromium()
    if found is None:
        pytest.skip(f"headless Chromium is not installed; install it with: {INSTALL}")
    return found


@pytest.mark.parametrize("case", CASES + LARGE_CASES)
def test_in_chromium_every_chart_draws_marks_inside_its_axes_and_nothing_overflows_1280_px(made, large, chromium, case):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with Browser(chromium, WIDTH) as browser:
        browser.open(large[case] if case in large else made[case] / "report.html")
        width, _ = browser.content_size()
        pictures = browser.evaluate(MARKS)
        browser.screenshot(SHOTS / f"{case}.png")

    assert width <= WIDTH  # the document is no wider than the window: no horizontal scrolling
    assert len(pictures) >= 2  # the problem type's pictures and the features (and the history, with a group)
    for picture in pictures:
        assert picture["axes"], picture["caption"]
        assert picture["cut"] == 0, picture["caption"]  # no text cut off at the picture's edge
        for axes in picture["axes"]:
            assert min(axes["width"], axes["height"]) > 50, (picture["caption"], axes)
            assert axes["marks"] > 0, (picture["caption"], axes)
            assert axes["inside"] == axes["marks"], (picture["caption"], axes)
            assert axes["overlapping_labels"] == 0, (picture["caption"], axes)
    assert (SHOTS / f"{case}.png").stat().st_size > 10_000


@settings(deadline=None)  # the first example imports matplotlib
@given(st.lists(st.text(min_size=1, max_size=80), min_size=1, max_size=60, unique=True))
def test_shortened_class_and_feature_names_stay_told_apart(names):
    from pipeline.steps.run_report import LABEL_CHARACTERS, shortened

    shown = shortened(names)

    assert len(set(shown)) == len(shown)
    assert all(len(text) <= LABEL_CHARACTERS + len(f"{len(names)}. ") for text in shown)


def test_category_paths_keep_the_part_that_differs():
    from pipeline.steps.run_report import shortened

    paths = ["Electronics > Computers > Laptops", "Electronics > Computers > Desktops"]
    laptops, desktops = shortened(paths)

    assert laptops.startswith("Electronics")
    assert laptops.endswith("> Laptops")
    assert desktops.endswith("> Desktops")
