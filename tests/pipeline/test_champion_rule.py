"""The champion rule: only a model strictly better than production, by at least MinImprovement,
replaces it; a tie keeps production."""

from __future__ import annotations

import pytest

from pipeline.steps.evaluate import against_production


@pytest.mark.parametrize(
    ("improvement", "minimum", "register", "wording"),
    [
        (0.0, 0.0, False, "same as production"),  # identical data, identical model: nothing new to register
        (1e-9, 0.0, True, "registered"),
        (0.005, 0.01, False, "not better than production"),
        (0.02, 0.01, True, "registered"),
        (-0.1, 0.0, False, "not better than production"),
        (None, 0.0, False, "not better than production"),
    ],
)
def test_a_tie_keeps_production_and_only_a_strictly_better_model_is_registered(improvement, minimum, register, wording):
    decided, summary = against_production(improvement, minimum)
    sentence = summary.format(versus="RMSE 59.24 vs production 59.24")
    assert decided is register
    assert sentence.startswith(wording) or sentence.endswith(f": {wording}")
