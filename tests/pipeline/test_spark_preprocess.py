"""The Spark Preprocess against the pandas one, on the same files: the same rows in the same splits with
the same features, the same data report, the same refusals; and the Spark job through the local runner.

Each Spark job starts a JVM (tens of seconds on a busy 2-core machine): these are the slower tests.
Tolerance: a numeric column's training median is exact for a few thousand values (every data set
here: compared exactly; beyond, within 1 / preprocess_spark.MEDIAN_ACCURACY of the values in rank),
and the regression baseline's mean is summed in another order (compared within 1e-12, relative)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pytest

from emulator import spark_job
from emulator.pipeline_runner import LocalPipelineRunner
from emulator.sample_data import diabetes_csv, friedman_csv
from pipeline.steps.preprocess import part_file_names
from pipeline.steps.reports import data_report_problems
from tests.pipeline.conftest import BUCKET, CONFIG, REGION, STEPS
from tests.pipeline.refusal_cases import REFUSALS

# Its module-scoped fixtures are built once: every test of the file runs on the same worker.
pytestmark = [pytest.mark.end_to_end, pytest.mark.xdist_group("test_spark_preprocess")]
SPLITS = ("train", "validation", "test")
PART_FILES = 3


def run_spark(python: Path, base: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The Spark step as the local runner runs it: its app, with preprocess.py shipped beside it."""
    environment = {**os.environ, **spark_job.local_environment(python, [STEPS / "preprocess.py"], 2)}
    return subprocess.run(
        [str(python), str(STEPS / "preprocess_spark.py"), *arguments, "--base-dir", str(base)],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
        timeout=900,
    )


def with_input(base: Path, files: list[tuple[str, bytes]]) -> Path:
    (base / "input" / "data").mkdir(parents=True)
    for name, content in files:
        (base / "input" / "data" / name).write_bytes(content)
    return base


def report_of(base: Path) -> dict[str, Any]:
    report = dict(json.loads((base / "report" / "data_report.json").read_text()))
    assert data_report_problems(report) == []
    return report


def rows_of(base: Path, split: str) -> np.ndarray:
    """A split's rows, whatever part files hold them, sorted; features as the float32 the algorithm reads."""
    parts = [np.loadtxt(path, delimiter=",", ndmin=2) for path in sorted((base / split).glob("*.csv"))]
    rows = np.vstack([part for part in parts if part.size])
    rows[:, 1:] = rows[:, 1:].astype(np.float32)
    return rows[np.lexsort(rows.T[::-1])]


def csv_bytes(frame: pd.DataFrame, **options: Any) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, **options)
    return buffer.getvalue().encode("utf-8")


def messy(rows: int = 240, seed: int = 5) -> bytes:
    """The cases the pandas tests cover, in one file: missing cells, infinities, an unreadable number,
    categories with rare ones, dates with hours, an identifier, booleans, a text target with gaps."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"age": rng.normal(40, 12, rows).round(2).astype(object)})
    frame.loc[::17, "age"] = ""
    frame.loc[5, "age"], frame.loc[6, "age"], frame.loc[7, "age"] = "inf", "-inf", "oops"
    frame["city"] = rng.choice([f"city{n:02d}" for n in range(30)], size=rows)
    frame.loc[::23, "city"] = None
    frame["joined"] = pd.date_range("2024-01-01 06:00", periods=rows, freq="13h").strftime("%Y-%m-%d %H:%M")
    frame["customer"] = [f"C-{n:05d}" for n in range(rows)]
    frame["member"] = rng.choice(["True", "False"], size=rows)
    frame["target"] = rng.choice(["yes", "no", "maybe"], size=rows)
    frame.loc[::31, "target"] = " "
    return csv_bytes(frame)


def two_files() -> list[tuple[str, bytes]]:
    """A comma file with a byte order mark, and a semicolon file with decimal commas and one more column."""
    rng = np.random.default_rng(8)
    first = pd.DataFrame({"x": rng.normal(size=150).round(4), "n": rng.integers(0, 9, 150)})
    first["target"] = (first["x"] > 0).astype(int)
    second = pd.DataFrame({"x": rng.normal(size=120).round(4), "n": rng.integers(0, 9, 120), "note": "a"})
    second["target"] = (second["x"] > 0.2).astype(int)
    return [
        ("a.csv", b"\xef\xbb\xbf" + csv_bytes(first)),
        ("b.csv", csv_bytes(second, sep=";", decimal=",")),
    ]


CASES = {
    "friedman": ([("friedman.csv", friedman_csv(rows=1000, noise=1.0))], ()),
    "messy": ([("messy.csv", messy())], ()),
    "two files": (two_files(), ()),
    "by id": ([("messy.csv", messy())], ("--id-column", "customer")),
}


@pytest.fixture(scope="module")
def both_engines(tmp_path_factory, run_step, spark_python) -> dict[str, tuple[Path, Path]]:
    """Each case run once by each engine, with PART_FILES part files per split."""
    ran, spark = {}, []
    for name, (files, extra) in CASES.items():
        pandas_base = with_input(tmp_path_factory.mktemp("pandas"), files)
        spark_base = with_input(tmp_path_factory.mktemp("spark"), files)
        arguments = ("--target-column", "target", "--part-files", str(PART_FILES), *extra)
        by_pandas = run_step("preprocess.py", pandas_base, *arguments)
        assert by_pandas.returncode == 0, by_pandas.stderr
        spark.append((spark_base, arguments))
        ran[name] = (pandas_base, spark_base)
    for (base, _), said in zip(spark, spark_jobs(spark_python, spark), strict=True):
        assert said["code"] == 0, (base, said["out"][-2000:])
    return ran


@pytest.fixture(scope="module")
def run_step(image_environments, image_of_script):  # module scope: the engines' runs are shared by the tests
    from emulator.step_environments import python_for

    def run(script: str, base: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(python_for(image_of_script[script])), str(STEPS / script), *arguments, "--base-dir", str(base)],
            capture_output=True,
            text=True,
            check=False,
        )

    return run


@pytest.mark.parametrize("case", list(CASES))
def test_both_engines_put_the_same_rows_in_the_same_splits_with_the_same_features(both_engines, case):
    pandas_base, spark_base = both_engines[case]

    for split in SPLITS:
        assert np.array_equal(rows_of(pandas_base, split), rows_of(spark_base, split)), split


@pytest.mark.parametrize("case", list(CASES))
def test_both_engines_write_the_same_data_report_but_for_the_engine(both_engines, case):
    by_pandas, by_spark = (report_of(base) for base in both_engines[case])

    assert (by_pandas.pop("engine"), by_spark.pop("engine")) == ("pandas", "spark")
    pandas_baseline, spark_baseline = by_pandas.pop("baseline"), by_spark.pop("baseline")
    assert by_spark == by_pandas
    assert pandas_baseline.keys() == spark_baseline.keys()
    if "mean" in pandas_baseline:
        assert spark_baseline["mean"] == pytest.approx(pandas_baseline["mean"], rel=1e-12)
    else:
        assert spark_baseline == pandas_baseline


@pytest.mark.parametrize("case", list(CASES))
def test_both_engines_write_the_same_drift_baseline(both_engines, case):
    """Below 100,000 training rows the Spark engine's baseline holds the same rows as pandas': the same
    constraints, counts, categories and quantiles (sums may differ in the last digits: another order)."""
    pandas_base, spark_base = both_engines[case]
    constraints = [
        json.loads((base / "baseline" / "constraints.json").read_text()) for base in (pandas_base, spark_base)
    ]
    assert constraints[0] == constraints[1]
    pandas_stats, spark_stats = (
        json.loads((b / "baseline" / "statistics.json").read_text()) for b in both_engines[case]
    )
    assert pandas_stats["dataset"] == spark_stats["dataset"]
    for ours, theirs in zip(pandas_stats["features"], spark_stats["features"], strict=True):
        assert ours.keys() == theirs.keys()
        assert ours["inferred_type"] == theirs["inferred_type"]
        if "string_statistics" in ours:
            assert ours["string_statistics"] == theirs["string_statistics"]
        else:
            numbers, others = ours["numerical_statistics"], theirs["numerical_statistics"]
            assert numbers["common"] == others["common"]
            assert numbers.get("distribution") == others.get("distribution")
            assert numbers.get("mean") == pytest.approx(others.get("mean"), rel=1e-9)


@pytest.mark.parametrize("case", list(CASES))
def test_both_engines_write_the_same_model_data_and_smoke_sample_for_the_endpoint(both_engines, case):
    pandas_base, spark_base = both_engines[case]

    for name in ("model.tar.gz", "smoke_rows.csv", "smoke_features.csv"):  # the encoder, its code, the test rows
        assert (spark_base / "transform" / name).read_bytes() == (pandas_base / "transform" / name).read_bytes(), name


def test_the_messy_case_exercises_what_it_claims(both_engines):
    report = report_of(both_engines["messy"][1])

    columns = report["columns"]
    assert columns["age"]["infinite"] == 2
    assert columns["age"]["non_numeric_cells"]["examples"] == ["oops"]
    assert columns["city"]["kind"] == "category"
    assert "other" in columns["city"]
    assert columns["joined"]["became"][-1] == "joined_hour"
    assert columns["customer"]["kind"] == "dropped"
    assert report["problem_type"]["chosen"] == "multiclass"
    assert report["rows"]["rows_without_target"] > 0
    assert report_of(both_engines["two files"][1])["columns_not_in_every_file"] == {"note": "only in b.csv: dropped"}


@pytest.mark.parametrize("case", ["friedman", "two files"])  # one input partition, and several
@pytest.mark.parametrize("engine", [0, 1], ids=["pandas", "spark"])
def test_each_split_is_written_as_n_part_files_a_row_apart_at_most(both_engines, engine, case):
    base = both_engines[case][engine]

    for split in SPLITS:
        files = sorted((base / split).glob("*.csv"))
        assert [path.name for path in files] == part_file_names(split, PART_FILES)
        lines = [len(path.read_text().splitlines()) for path in files]
        assert min(lines) > 0
        assert max(lines) - min(lines) <= 1  # the split's rows dealt to the part files in turn


# Jobs of the Spark step one after another in one driver: preprocess_spark.main with each job's own
# arguments and base folder, its printed lines kept apart. One JVM for all (spark-submit starts one per
# job): each job's session is stopped at its end, so none sees another's.
SPARK_DRIVER = """
import contextlib, io, json, sys
sys.path.insert(0, sys.argv[1])
import preprocess_spark
said = []
for arguments in json.loads(sys.argv[2]):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = preprocess_spark.main(arguments)
    said.append({"code": code, "out": out.getvalue()})
print(json.dumps(said))
"""


def spark_jobs(python: Path, jobs: list[tuple[Path, tuple[str, ...]]]) -> list[dict[str, Any]]:
    """Each (base folder, arguments) run by the Spark engine, as the local runner runs it; their exit
    codes and printed lines."""
    environment = {**os.environ, **spark_job.local_environment(python, [STEPS / "preprocess.py"], 2)}
    arguments = json.dumps([[*job_arguments, "--base-dir", str(base)] for base, job_arguments in jobs])
    completed = subprocess.run(
        [str(python), "-c", SPARK_DRIVER, str(STEPS), arguments],
        capture_output=True, text=True, check=False, env=environment, timeout=1800,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    return list(json.loads(completed.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def spark_refusals(spark_python, tmp_path_factory) -> list[tuple[Path, dict[str, Any]]]:
    """Every refusal case run by the Spark engine: (its base folder, its exit code and printed lines)."""
    bases = [with_input(tmp_path_factory.mktemp(f"refusal{n}"), files) for n, (files, _) in enumerate(REFUSALS)]
    said = spark_jobs(spark_python, [(base, ("--target-column", "target")) for base in bases])
    return list(zip(bases, said, strict=True))


@pytest.mark.parametrize("case", range(len(REFUSALS)), ids=[reason[:40] for _, reason in REFUSALS])
def test_the_spark_engine_refuses_bad_data_with_the_pandas_engines_one_line(spark_refusals, case):
    reason = REFUSALS[case][1]
    base, said = spark_refusals[case]

    assert said["code"] == 0
    report = report_of(base)
    assert {key: report[key] for key in ("accepted", "reason", "engine")} == {
        "accepted": False,
        "reason": reason,
        "engine": "spark",
    }
    assert f"REFUSED: {reason}" in said["out"]
    assert not (base / "train").exists()


def test_both_engines_refuse_fewer_validation_rows_than_training_instances(run_step, spark_python, tmp_path):
    """40 rows give about 6 validation rows: 7 instances would leave one without validation rows."""
    files = [("friedman.csv", friedman_csv(rows=40, noise=1.0))]
    arguments = ("--target-column", "target", "--part-files")
    pandas_base, spark_base = with_input(tmp_path / "pandas", files), with_input(tmp_path / "spark", files)
    run_step("preprocess.py", pandas_base, *arguments, "2")
    validation_rows = report_of(pandas_base)["rows"]["validation"]
    instances = str(validation_rows + 1)

    by_pandas = run_step("preprocess.py", pandas_base, *arguments, instances)
    by_spark = run_spark(spark_python, spark_base, *arguments, instances)

    assert by_pandas.returncode == by_spark.returncode == 0, by_spark.stderr[-3000:]
    reason = (
        f"the validation split has {validation_rows} rows, fewer than TrainingInstanceCount ({instances}): "
        "every training instance needs rows of both the train and the validation split; train on fewer instances"
    )
    assert report_of(pandas_base)["reason"] == report_of(spark_base)["reason"] == reason


# -- through the local runner ------------------------------------------------------------------------------

SPARK_IMAGE = "173754725891.dkr.ecr.us-east-1.amazonaws.com/sagemaker-spark-processing:3.5-cpu-py312"
CODE = f"s3://{BUCKET}/code/spark"


def spark_step(instances: int) -> dict[str, Any]:
    """A processing step as the SDK's PySparkProcessor builds it (sagemaker-core spark/processing.py):
    smspark-submit, --py-files the `py-files` channel's folder, the app in the `code` channel."""

    def channel(name: str, uri: str, local: str) -> dict[str, Any]:
        s3 = {"S3Uri": uri, "LocalPath": local, "S3DataType": "S3Prefix", "S3InputMode": "File"}
        return {"InputName": name, "AppManaged": False, "S3Input": {**s3, "S3DataDistributionType": "FullyReplicated"}}

    outputs = [
        {
            "OutputName": name,
            "AppManaged": False,
            "S3Output": {
                "S3Uri": f"s3://{BUCKET}/runs/spark/{name}",
                "LocalPath": f"/opt/ml/processing/{name}",
                "S3UploadMode": "EndOfJob",
            },
        }
        for name in (*SPLITS, "report", "transform", "baseline")
    ]
    return {
        "Name": "PreprocessSpark",
        "Type": "Processing",
        "PropertyFiles": [{"PropertyFileName": "DataReport", "OutputName": "report", "FilePath": "data_report.json"}],
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": instances, "VolumeSizeInGB": 30}
            },
            "AppSpecification": {
                "ImageUri": SPARK_IMAGE,
                "ContainerEntrypoint": [
                    "smspark-submit",
                    "--py-files",
                    "/opt/ml/processing/input/py-files",
                    "/opt/ml/processing/input/code/preprocess_spark.py",
                ],
                "ContainerArguments": ["--target-column", "target", "--part-files", str(instances)],
            },
            "RoleArn": CONFIG.role_arn,
            "ProcessingInputs": [
                channel("data", {"Get": "Parameters.InputUri"}, "/opt/ml/processing/input/data"),  # type: ignore[arg-type]
                channel("py-files", f"{CODE}/py-files", "/opt/ml/processing/input/py-files"),
                channel("code", f"{CODE}/code/preprocess_spark.py", "/opt/ml/processing/input/code"),
                channel("serving-code", f"{CODE}/serving/serving.py", "/opt/ml/processing/input/serving_code"),
                channel(
                    "data-quality-code",
                    f"{CODE}/data-quality/data_quality.py",
                    "/opt/ml/processing/input/data_quality_code",
                ),
            ],
            "ProcessingOutputConfig": {"Outputs": outputs},
        },
    }


def check_data() -> dict[str, Any]:
    """The pipeline's CheckData: a refused data report fails the run with its reason."""

    def report(path: str) -> dict[str, Any]:
        return {
            "Std:JsonGet": {"PropertyFile": {"Get": "Steps.PreprocessSpark.PropertyFiles.DataReport"}, "Path": path}
        }

    refused = {"Name": "DataRefused", "Type": "Fail", "Arguments": {"ErrorMessage": report("reason")}}
    condition = {"Type": "Equals", "LeftValue": report("accepted"), "RightValue": True}
    return {
        "Name": "CheckData",
        "Type": "Condition",
        "DependsOn": ["PreprocessSpark"],
        "Arguments": {"Conditions": [condition], "IfSteps": [], "ElseSteps": [refused]},
    }


def run_spark_pipeline(body: bytes, instances: int = 2, *, ship_preprocess: bool = True) -> Any:
    s3 = boto3.client("s3", region_name=REGION)
    shipped = (STEPS / "preprocess.py").read_bytes() if ship_preprocess else b"# not the module the app imports\n"
    s3.put_object(Bucket=BUCKET, Key="code/spark/py-files/other.py", Body=shipped)
    if ship_preprocess:
        s3.put_object(Bucket=BUCKET, Key="code/spark/py-files/preprocess.py", Body=shipped)
    app = (STEPS / "preprocess_spark.py").read_bytes()
    s3.put_object(Bucket=BUCKET, Key="code/spark/code/preprocess_spark.py", Body=app)
    s3.put_object(Bucket=BUCKET, Key="code/spark/serving/serving.py", Body=(STEPS / "serving.py").read_bytes())
    quality = (STEPS / "data_quality.py").read_bytes()
    s3.put_object(Bucket=BUCKET, Key="code/spark/data-quality/data_quality.py", Body=quality)
    s3.put_object(Bucket=BUCKET, Key="uploads/data.csv", Body=body)
    definition = {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "InputUri", "Type": "String"}],
        "Steps": [spark_step(instances), check_data()],
    }
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    name = f"spark-{uuid.uuid4().hex[:8]}"
    sagemaker.create_pipeline(
        PipelineName=name,
        PipelineDefinition=json.dumps(definition),
        RoleArn=CONFIG.role_arn,
        ClientRequestToken="t" * 32,
    )
    execution = sagemaker.start_pipeline_execution(
        PipelineName=name,
        PipelineParameters=[{"Name": "InputUri", "Value": f"s3://{BUCKET}/uploads/data.csv"}],
        ClientRequestToken=str(uuid.uuid4()),
    )["PipelineExecutionArn"]
    return LocalPipelineRunner().run(execution)


def test_a_pyspark_processing_job_runs_through_the_local_runner(served_bucket, spark_python):
    result = run_spark_pipeline(diabetes_csv(), instances=2)

    assert result.status == "Succeeded", result.failure_reason
    assert result.steps[0].detail.startswith("regression (the target is numeric")
    listed = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET, Prefix="runs/spark/train/")
    assert sorted(item["Key"].rsplit("/", 1)[-1] for item in listed["Contents"]) == part_file_names("train", 2)
    # the serving script reached the job through its own input, and went into the model data
    transform = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET, Prefix="runs/spark/transform/")
    assert sorted(item["Key"].rsplit("/", 1)[-1] for item in transform["Contents"]) == [
        "model.tar.gz",
        "smoke_features.csv",
        "smoke_rows.csv",
    ]


def test_data_the_spark_step_refuses_ends_the_run_with_its_one_line_reason(served_bucket, spark_python):
    result = run_spark_pipeline(b"city,target\n" + "Béziers,1\n".encode("latin-1") * 30, instances=1)

    assert (result.status, result.failure_step) == ("Failed", "DataRefused")
    assert result.failure_reason == (
        "data.csv is not UTF-8 text (byte 0xe9 at offset 13); "
        "save it as UTF-8 (with or without BOM) and upload it again"
    )


def test_a_spark_app_that_crashes_fails_its_step_with_one_line(served_bucket, spark_python):
    result = run_spark_pipeline(diabetes_csv(rows=40), instances=1, ship_preprocess=False)

    assert (result.status, result.failure_step) == ("Failed", "PreprocessSpark")
    assert result.failure_reason == "PreprocessSpark: ModuleNotFoundError: No module named 'preprocess'"
