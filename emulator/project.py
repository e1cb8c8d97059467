"""Where the project's own files are, for the emulator: a clone's root, or the copy that the wheel
carries when `retrain-trigger[local]` is installed from it (template.yaml and the functions' code,
read as `sam build` reads them); and where the local stack keeps its state and look-alikes."""

from __future__ import annotations

from pathlib import Path

CLONE = Path(__file__).resolve().parent.parent
PACKAGED = Path(__file__).resolve().parent / "project"  # pyproject.toml: the wheel's force-include
IN_A_CLONE = (CLONE / "template.yaml").is_file()
ROOT = CLONE if IN_A_CLONE else PACKAGED
# A clone keeps .local-stack and .step-envs beside its template; an installed emulator in the user's cache.
WORK = CLONE if IN_A_CLONE else Path.home() / ".cache" / "retrain-trigger"

if not IN_A_CLONE:
    # The functions' handlers (app, run_ended, ...) are modules of their code root, as the Lambda runtime
    # puts that root on sys.path; in a clone the editable install does the same (pyproject's dev-mode-dirs).
    import sys

    sys.path.append(str(ROOT / "functions" / "trigger"))
