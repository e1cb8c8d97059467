"""How the local runner reads a Spark job: smspark-submit's options, the app, and the app's own arguments."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator import spark_job
from pipeline.images import SPARK, UnknownImage, image_for

REGISTRY = "173754725891.dkr.ecr.us-east-1.amazonaws.com"
arguments = st.lists(st.text(min_size=1, max_size=20).filter(lambda text: "\x00" not in text), max_size=8)


@given(app_arguments=arguments)
def test_the_apps_own_arguments_reach_it_untouched_whatever_they_look_like(app_arguments):
    submit = spark_job.parse(["--py-files", "/opt/ml/processing/input/py-files", "/code/app.py", *app_arguments])

    assert submit == spark_job.SparkSubmit("/code/app.py", app_arguments, ["/opt/ml/processing/input/py-files"])


def test_py_files_may_be_a_comma_separated_list_and_verbose_is_accepted():
    submit = spark_job.parse(["-v", "--py-files", "/a/x.py,/b/y.zip", "/code/app.py", "--flag"])

    assert (submit.py_files, submit.app_arguments) == (["/a/x.py", "/b/y.zip"], ["--flag"])


@pytest.mark.parametrize(
    ("entrypoint", "reason"),
    [
        (["--class", "org.example.Main", "/code/app.jar"], "only PySpark apps run locally"),
        (["--jars", "/opt/ml/processing/input/jars", "/code/app.py"], "only PySpark apps run locally"),
        (["--conf", "spark.x=1", "/code/app.py"], "option --conf is not imitated locally"),
        (["--py-files", "/a"], "given no app to run"),
    ],
)
def test_what_it_cannot_imitate_is_named(entrypoint, reason):
    with pytest.raises(spark_job.UnsupportedSparkJob, match=reason):
        spark_job.parse(entrypoint)


def test_the_python_312_spark_image_is_told_from_its_python_39_variant():
    assert image_for(f"{REGISTRY}/sagemaker-spark-processing:3.5-cpu-py312") == SPARK
    with pytest.raises(UnknownImage):
        image_for(f"{REGISTRY}/sagemaker-spark-processing:3.5-cpu-py39")
