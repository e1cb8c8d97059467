"""Real training data that ships with scikit-learn, so the demo needs no download."""

from __future__ import annotations

import io

TARGET_COLUMN = "target"


def diabetes_csv(rows: int | None = None) -> bytes:
    """The diabetes data set (442 patients, 10 features, disease progression as the target)."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True, scaled=False).frame
    if rows is not None:
        frame = frame.head(rows)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def friedman_csv(rows: int = 1000, noise: float = 0.0, seed: int = 0) -> bytes:
    """Friedman's regression problem #1: a known signal of 5 of 10 features, plus `noise` (std).

    The same `rows` and `seed` give the same feature values whatever the noise, so a noisy copy is
    the same records with worse labels.
    """
    import pandas as pd
    from sklearn.datasets import make_friedman1

    features, target = make_friedman1(n_samples=rows, n_features=10, noise=noise, random_state=seed)
    frame = pd.DataFrame(features, columns=[f"x{i}" for i in range(10)]).round(6)
    frame[TARGET_COLUMN] = target.round(6)
    return str(frame.to_csv(index=False)).encode("utf-8")
