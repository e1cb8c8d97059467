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
