"""Each image's look-alike holds what the image holds: every package its build files pin, at the
pinned version, each importable, so a script of one's own that imports any of them runs here as it
runs in the image."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from emulator.step_environments import create
from pipeline.images import ALL_IMAGES, StepImage

CHECK = Path(__file__).with_name("holds_every_package.py")


@pytest.mark.parametrize("image", ALL_IMAGES, ids=lambda image: image.name)
def test_a_look_alike_imports_every_package_its_image_pins(image: StepImage) -> None:
    python = create(image, say=None).python
    done = subprocess.run(
        [str(python), "-W", "ignore", str(CHECK), *image.packages],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {}
    assert len(image.packages) >= 10  # the whole lock, not a few imports


def test_a_package_the_image_does_not_hold_is_found_missing() -> None:
    from pipeline.images import SKLEARN

    python = create(SKLEARN, say=None).python
    asked = [*SKLEARN.packages[:2], "torch==2.0.0", SKLEARN.packages[2].replace("==", "==0.0.")]
    done = subprocess.run(
        [str(python), "-W", "ignore", str(CHECK), *asked], capture_output=True, text=True, check=True, timeout=600
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["torch==2.0.0"] == "not installed"
    assert found[asked[-1]].startswith("installed at ")
    assert set(found) == {"torch==2.0.0", asked[-1]}
