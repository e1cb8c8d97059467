"""P5: the trigger function's deployment package, against the same package with Powertools bundled."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import aws_lambda_powertools

from bench.figures import Figure

FUNCTION_DIR = Path(__file__).resolve().parents[1] / "functions" / "trigger"


def zipped_size(*roots: tuple[Path, Path]) -> int:
    """Bytes of a deflated zip of every file under each root (relative to its base), caches left out."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for root, base in roots:
            for path in sorted(root.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, path.relative_to(base).as_posix())
    return len(buffer.getvalue())


def measure() -> Figure:
    ours = zipped_size((FUNCTION_DIR, FUNCTION_DIR))
    powertools = Path(aws_lambda_powertools.__file__).parent
    bundled = zipped_size((FUNCTION_DIR, FUNCTION_DIR), (powertools, powertools.parent))
    return Figure(
        name="P5",
        what="deployment package of TriggerFunction (zip) / the same with Powertools bundled in",
        value=ours / 1024,
        baseline=bundled / 1024,
        unit="KB",
        goal=50,
        goal_on="value",
    )


if __name__ == "__main__":
    print(json.dumps(measure().as_dict()))
