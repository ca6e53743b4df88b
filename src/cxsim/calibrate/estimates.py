"""One estimate with its 95% interval: the unit every calibration result is reported in."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

Z95 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class Estimate:
    """A calibrated number: `what` it is, its value, 95% interval [low, high], the rows behind it."""

    what: str
    value: float
    low: float
    high: float
    n: int
    method: str = ""

    def contains(self, x: float) -> bool:
        """Whether `x` lies in the interval."""
        return self.low <= x <= self.high

    def row(self) -> dict[str, object]:
        """The estimate as a table row."""
        return {
            "estimate": self.what,
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "n": self.n,
            "method": self.method,
        }


def share(what: str, hits: float, n: float) -> Estimate:
    """A proportion with its Wilson score interval (sound near 0 and 1, unlike the Wald interval)."""
    if n <= 0:
        return Estimate(what, math.nan, math.nan, math.nan, 0, "share (no data)")
    p = hits / n
    z2 = Z95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Estimate(what, p, max(0.0, centre - half), min(1.0, centre + half), int(n), "share, Wilson 95%")


def mean(what: str, values: np.ndarray) -> Estimate:
    """A sample mean with its t interval."""
    n = len(values)
    if n == 0:
        return Estimate(what, math.nan, math.nan, math.nan, 0, "mean (no data)")
    m = float(values.mean())
    if n == 1:
        return Estimate(what, m, math.nan, math.nan, 1, "mean")
    half = float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n))
    return Estimate(what, m, m - half, m + half, n, "mean, t 95%")


def poisson_rate(what: str, count: float, exposure: float) -> Estimate:
    """A count per unit exposure with its exact (Garwood) Poisson interval."""
    low = stats.chi2.ppf(0.025, 2 * count) / 2 if count > 0 else 0.0
    high = stats.chi2.ppf(0.975, 2 * count + 2) / 2
    return Estimate(what, count / exposure, low / exposure, high / exposure, int(count), "Poisson, exact 95%")
