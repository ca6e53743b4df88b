"""Differences between two scenarios' KPIs with a 95% interval, paired when they share customers.

Two runs with the same root seed and the same number of replications see the same customers in
replication r (common random numbers), so the difference is estimated from the per-replication
differences d_r = b_r - a_r: mean(d) ± t(n-1) sd(d) / sqrt(n). Otherwise the runs are independent
and the interval is Welch's: ± t(df) sqrt(s_a²/n_a + s_b²/n_b), with the Welch–Satterthwaite df.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

if TYPE_CHECKING:
    from cxsim.report.data import Run


@dataclass(frozen=True)
class Difference:
    """b − a with its 95% half-width; `paired`: from per-replication differences (common random numbers)."""

    delta: float
    ci95: float
    paired: bool
    n: int

    @property
    def within_noise(self) -> bool:
        """The interval covers zero (or there is no interval): the difference may be chance."""
        return not math.isfinite(self.ci95) or abs(self.delta) <= self.ci95

    @property
    def method(self) -> str:
        return "paired" if self.paired else "independent"


NO_DIFFERENCE = Difference(math.nan, math.nan, False, 0)


def _t(df: float) -> float:
    return float(special.stdtrit(max(df, 1.0), 0.975))


def paired(a: np.ndarray, b: np.ndarray) -> Difference:
    """From per-replication values of the same replications (NaN pairs dropped)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    d = b[keep] - a[keep]
    n = len(d)
    if n == 0:
        return NO_DIFFERENCE
    ci = _t(n - 1) * float(np.std(d, ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    return Difference(float(d.mean()), ci, True, n)


def welch(mean_a: float, sd_a: float, n_a: int, mean_b: float, sd_b: float, n_b: int) -> Difference:
    """From two independent samples' means, standard deviations and sizes."""
    if not (math.isfinite(mean_a) and math.isfinite(mean_b)):
        return NO_DIFFERENCE
    if n_a < 2 or n_b < 2 or not (math.isfinite(sd_a) and math.isfinite(sd_b)):
        return Difference(mean_b - mean_a, math.nan, False, min(n_a, n_b))
    va, vb = sd_a**2 / n_a, sd_b**2 / n_b
    se2 = va + vb
    if se2 <= 0:
        return Difference(mean_b - mean_a, 0.0, False, min(n_a, n_b))
    df = se2**2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
    return Difference(mean_b - mean_a, _t(df) * math.sqrt(se2), False, min(n_a, n_b))


def welch_values(a: np.ndarray, b: np.ndarray) -> Difference:
    """Welch's interval from two independent samples of per-replication values (NaNs dropped)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if not len(a) or not len(b):
        return NO_DIFFERENCE
    sd = lambda x: float(np.std(x, ddof=1)) if len(x) > 1 else math.nan  # noqa: E731
    return welch(float(a.mean()), sd(a), len(a), float(b.mean()), sd(b), len(b))


def sd_from_ci(ci95: float, n: int) -> float:
    """The standard deviation behind a t-interval half-width over n replications."""
    if n < 2 or not math.isfinite(ci95):
        return math.nan
    return ci95 * math.sqrt(n) / _t(n - 1)


def common_random_numbers(a: Run, b: Run) -> bool:
    """The two runs share customers replication by replication: same seed and replications, both
    with per-replication tables."""
    return (
        a.per_replication is not None
        and b.per_replication is not None
        and a.seed is not None
        and a.seed == b.seed
        and a.replications == b.replications
    )


def between(
    a: Run, b: Run, metric: str, scope: str = "overall", name: str = "all", scale: tuple[float, float] = (1.0, 1.0)
) -> Difference:
    """b − a for one KPI (each run's values times its `scale`, e.g. hours per FTE): paired under
    common random numbers, else Welch (from the per-replication values, or from each mean's
    interval and count when a run has no replications.csv)."""
    va, vb = a.values(metric, scope, name), b.values(metric, scope, name)
    if common_random_numbers(a, b) and va is not None and vb is not None:
        both = va.index.intersection(vb.index)
        if len(both) == len(va) == len(vb):
            return paired(va.loc[both].to_numpy() * scale[0], vb.loc[both].to_numpy() * scale[1])
    if va is not None and vb is not None:
        return welch_values(va.to_numpy() * scale[0], vb.to_numpy() * scale[1])
    (ma, ca), (mb, cb) = a.kpi(metric, scope, name), b.kpi(metric, scope, name)
    na, nb = a.n(metric, scope, name), b.n(metric, scope, name)
    return welch(ma * scale[0], sd_from_ci(ca * scale[0], na), na, mb * scale[1], sd_from_ci(cb * scale[1], nb), nb)
