"""Test helpers: the tests/data folder and confidence checks over replications."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import stats

DATA = Path(__file__).parent / "data"


def within_ci(values: np.ndarray, expected: float, level: float = 0.999, slack: float = 0.0) -> tuple[bool, str]:
    """Is `expected` inside the `level` t-interval of the mean of independent replications?

    `slack` widens the interval by a stated absolute amount for a known bias (e.g. a finite
    horizon). Returns the verdict and a message with the numbers for the assertion.
    """
    values = np.asarray(values, dtype=float)
    n = len(values)
    mean = values.mean()
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    ok = abs(mean - expected) <= half + slack
    return ok, f"mean {mean:.5g} ± {half:.3g} ({level:.1%} CI, n={n}, slack {slack}) vs expected {expected:.5g}"
