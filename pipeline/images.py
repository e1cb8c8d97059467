"""The SageMaker images the pipeline's steps run in, and what each one runs: the one place that says so.

The Python minor version and the library versions are those of the images' public Dockerfiles and
requirements. The definition retrieves the images by framework and version from here; the local
runner and the tests run each step script in an environment built from the same entry, so a script
that needs a newer Python or library than its image fails here as it would on AWS.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StepImage:
    framework: str  # as `sagemaker.core.image_uris.retrieve` names it
    version: str  # the image tag's version part
    repository: str  # the ECR repository the image URI names
    python: str  # the image's Python, major.minor
    packages: tuple[str, ...]  # the libraries the step scripts use, pinned as the image pins them

    @property
    def name(self) -> str:
        return f"{self.framework}-{self.version}"

    def matches(self, image_uri: str) -> bool:
        """True for this image's URI in any region: `<registry>/<repository>:<version>[-...]`."""
        repository, _, tag = image_uri.rsplit("/", 1)[-1].partition(":")
        return repository == self.repository and (tag == self.version or tag.startswith(self.version + "-"))


# Preprocess. Python 3.9; scikit-learn 1.2.1 with pandas 1.5.3 and numpy 1.23.5.
SKLEARN = StepImage(
    framework="sklearn",
    version="1.2-1",
    repository="sagemaker-scikit-learn",
    python="3.9",
    packages=("scikit-learn==1.2.1", "pandas==1.5.3", "numpy==1.23.5", "scipy==1.8.0"),
)

# Train (the built-in algorithm) and Evaluate (the same image as a processing container).
# Python 3.8; xgboost 1.7.4 with numpy 1.24.1; boto3 1.17.52, with which Evaluate finds the champion.
XGBOOST = StepImage(
    framework="xgboost",
    version="1.7-1",
    repository="sagemaker-xgboost",
    python="3.8",
    packages=("xgboost==1.7.4", "numpy==1.24.1", "scipy==1.8.0", "boto3==1.17.52", "botocore==1.20.52"),
)

STEP_IMAGES = (SKLEARN, XGBOOST)


class UnknownImage(LookupError):
    """An image no entry here describes: nothing can say which Python and libraries it runs."""


def image_for(image_uri: str) -> StepImage:
    for image in STEP_IMAGES:
        if image.matches(image_uri):
            return image
    known = ", ".join(f"{image.repository}:{image.version}" for image in STEP_IMAGES)
    raise UnknownImage(f"no local look-alike of image {image_uri}; pipeline/images.py describes {known}")
