"""Look-alikes of the SageMaker images: one virtual environment per image, with its Python and libraries.

    python -m emulator.step_environments          # create what is missing or out of date (make does)
    python -m emulator.step_environments --spark  # also the Spark image's (`make step-envs SPARK=1`)
    python -m emulator.step_environments --samples  # also those the AWS samples use (`SAMPLES=1`)

Each environment is made with uv from an interpreter of the image's Python minor version found on
this machine (uv looks on PATH, in pyenv's versions and in uv's own installs). When that interpreter
is missing it says which and how to get it, and stops: a step never runs with another Python.
The libraries are the image's pins (pipeline/images.py), installed without resolving anything
else (`--no-deps`): the closure is pinned, so nothing newer than the image's own lock gets in.
Environments of images the pipeline no longer uses are removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from emulator import project
from pipeline.images import ALL_IMAGES, ON_REQUEST_IMAGES, SAMPLE_IMAGES, STEP_IMAGES, StepImage, image_for

ROOT = project.WORK
ENVIRONMENTS_DIR = ROOT / ".step-envs"
_STAMP = "retrain-trigger-image.json"


class MissingInterpreter(RuntimeError):
    """The image's Python is not on this machine."""


class EnvironmentNotReady(RuntimeError):
    """The look-alike of an image has not been created (or is out of date)."""


@dataclass(frozen=True)
class StepEnvironment:
    image: StepImage
    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def stamp(self) -> dict[str, object]:
        return {"python": self.image.python, "packages": list(self.image.packages), "bytecode": True}

    def is_ready(self) -> bool:
        stamp = self.path / _STAMP
        return self.python.exists() and stamp.exists() and json.loads(stamp.read_text()) == self.stamp


def environment(image: StepImage) -> StepEnvironment:
    digest = hashlib.sha256(json.dumps([image.python, *image.packages]).encode()).hexdigest()[:8]
    return StepEnvironment(image, ENVIRONMENTS_DIR / f"{image.name}-py{image.python}-{digest}")


def python_for(image_uri: str) -> Path:
    """The interpreter that runs a script as the image would; refuses if it has not been created."""
    env = environment(image_for(image_uri))
    if not env.is_ready():
        make, flag = (" SPARK=1", " --spark") if env.image in ON_REQUEST_IMAGES else ("", "")
        if env.image in SAMPLE_IMAGES:
            make, flag = " SAMPLES=1", " --samples"
        raise EnvironmentNotReady(
            f"the look-alike of {env.image.repository}:{env.image.version} (Python {env.image.python}) "
            f"is not created: run `make step-envs{make}` (installed: `python -m emulator.step_environments{flag}`)"
        )
    return env.python


def _uv() -> str:
    # `uv run` names itself; else the uv on PATH, the one beside this Python (`pip install uv`), or make's
    beside = shutil.which("uv", path=str(Path(sys.executable).parent))
    found = os.environ.get("UV") or shutil.which("uv") or beside or str(ROOT / ".tools" / "bin" / "uv")
    if not Path(found).exists() and not shutil.which(found):
        raise RuntimeError("uv is not installed: run `make install` in a clone, or `pip install uv`")
    return found


def _search_environment() -> dict[str, str]:
    """uv finds pyenv's interpreters through its shims, which answer only for selected versions."""
    variables = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
    pyenv = shutil.which("pyenv")
    if pyenv:
        listed = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True, check=False)  # noqa: S603
        versions = [line.strip() for line in listed.stdout.splitlines() if line.strip() and "/" not in line]
        if versions:
            variables["PYENV_VERSION"] = ":".join(versions)
    return variables


def find_interpreter(image: StepImage) -> str:
    found = subprocess.run(  # noqa: S603
        [_uv(), "python", "find", "--no-project", image.python],
        capture_output=True,
        text=True,
        check=False,
        env=_search_environment(),
    )
    path = found.stdout.strip()
    if found.returncode != 0 or not path:
        raise MissingInterpreter(
            f"Python {image.python} is needed to run the steps of image {image.repository}:{image.version} "
            f"as SageMaker runs them, and none was found. Install it with `uv python install {image.python}` "
            f"(or `pyenv install {image.python}`), then run make again."
        )
    return path


def create(image: StepImage, say: Callable[[str], None] | None = print) -> StepEnvironment:
    env = environment(image)
    if env.is_ready():
        return env
    interpreter = find_interpreter(image)
    uv = _uv()
    variables = _search_environment()
    shutil.rmtree(env.path, ignore_errors=True)
    commands = [
        [uv, "venv", "--quiet", "--no-project", "--python", interpreter, str(env.path)],
        # Compiled once here: each step runs in a fresh process, which would otherwise compile pandas and
        # the rest at every import when PYTHONDONTWRITEBYTECODE is set (seconds per step).
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--compile-bytecode",
            "--python",
            str(env.python),
            *image.packages,
        ],
    ]
    for command in commands:
        subprocess.run(command, check=True, env=variables)  # noqa: S603
    version = subprocess.run(  # noqa: S603
        [str(env.python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if version != image.python:
        shutil.rmtree(env.path, ignore_errors=True)
        raise MissingInterpreter(f"uv gave Python {version} for image {image.name}, which runs {image.python}")
    (env.path / _STAMP).write_text(json.dumps(env.stamp), encoding="utf-8")
    if say is not None:
        say(f"created {env.path.relative_to(ROOT)}: Python {version}, {' '.join(image.packages)}")
    return env


def remove_stale() -> list[Path]:
    """Remove the environments of images (or pins) no entry in pipeline/images.py describes any more."""
    current = {environment(image).path for image in ALL_IMAGES}
    stale = [path for path in ENVIRONMENTS_DIR.glob("*") if path.is_dir() and path not in current]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    wanted = STEP_IMAGES + (ON_REQUEST_IMAGES if "--spark" in arguments else ())
    wanted += SAMPLE_IMAGES if "--samples" in arguments else ()
    for path in remove_stale():
        print(f"removed {path.relative_to(ROOT)}: no step runs in that image any more")
    try:
        for image in wanted:
            env = create(image)
            print(f"{image.repository}:{image.version}: Python {image.python} at {env.python.relative_to(ROOT)}")
    except MissingInterpreter as missing:
        print(f"error: {missing}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
