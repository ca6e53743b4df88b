"""Productive agents from scheduled heads: shrinkage and absence, drawn so their means are what planners mean.

Shrinkage s: of h scheduled heads, x = h(1 - s) are productive *on average*. Each interval's
productive agents are floor(x) + (u < frac(x)) with u uniform: the integer next to x with mean
exactly x (5 heads at 30% give 3 or 4 agents, 3.5 on average). Absence a: each head scheduled on
a day is away for that whole day with probability a (binomial per replication-day), on top of
shrinkage. Both draw from their own streams per tier, so no other draw moves.
"""

from __future__ import annotations

import numpy as np

from cxsim.streams import Streams


def expected_agents(heads: np.ndarray, shrinkage: float, absence: float = 0.0) -> np.ndarray:
    """Mean productive agents of `heads` scheduled heads: heads x (1 - absence) x (1 - shrinkage)."""
    return np.asarray(heads, dtype=float) * (1.0 - absence) * (1.0 - shrinkage)


def productive_agents(heads: np.ndarray, shrinkage: float, rng: np.random.Generator) -> np.ndarray:
    """Productive agents per interval: floor(x) + (u < frac(x)), x = heads x (1 - shrinkage), one u each."""
    x = np.round(np.asarray(heads, dtype=float) * (1.0 - shrinkage), 9)  # 10 x 0.7 is 7, not 6.99..
    whole = np.floor(x)
    return (whole + (rng.random(len(x)) < x - whole)).astype(np.int64)


def present_heads(heads: np.ndarray, absence: float, per_day: int, rng: np.random.Generator) -> np.ndarray:
    """Heads not absent, per interval: each day, head i (the i-th of the day's stacked roster, who works
    the intervals with more than i heads) is absent with probability `absence` for the whole day."""
    heads = np.asarray(heads, dtype=float)
    out = heads.copy()
    for start in range(0, len(heads), per_day):
        day = heads[start : start + per_day]
        n = int(np.ceil(day.max())) if len(day) else 0
        absent = (rng.random(n) < absence).astype(float)
        before = np.r_[0.0, np.cumsum(absent)]  # absent heads among the first k
        k = np.minimum(np.floor(day).astype(np.int64), n)
        partial = np.r_[absent, 0.0][k] * (day - k)  # a fractional head is absent for its fraction
        out[start : start + per_day] = day - before[k] - partial
    return out


def floor_agents(
    heads: np.ndarray, shrinkage: float, absence: float, per_day: int, streams: Streams, tier: str
) -> np.ndarray:
    """One replication's productive agents per interval for a tier (streams 'absence/T', 'shrinkage/T')."""
    if absence > 0:
        heads = present_heads(heads, absence, per_day, streams(f"absence/{tier}"))
    return productive_agents(heads, shrinkage, streams(f"shrinkage/{tier}"))


__all__ = ["expected_agents", "floor_agents", "present_heads", "productive_agents"]
