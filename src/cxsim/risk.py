"""Risk outputs: replications are possible days, so their spread and how often a target is met say
how a plan fails, not only how it does on average.

- p10 / p50 / p90: quantiles (linear interpolation) of a KPI's per-replication values.
- p_meet_sla: the share of replication-days (per channel) or of replications (per interval) on
  which the channel's service level reaches its target. Its interval is Wilson's score interval
  at 95% (good coverage near 0 and 1, where the t-interval collapses to a point): the bounds are
  the rows p_meet_sla_low / p_meet_sla_high, and ci95 is the larger distance from the share to them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import special

DAY_S = 86400.0
QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
METRIC = "p_meet_sla"
Z95 = float(special.ndtri(0.975))
TOLERANCE = 1e-12  # an SL equal to the target (80/100 vs 0.8) meets it


def meets_target(service_level: np.ndarray, target: np.ndarray) -> np.ndarray:
    """1.0 where the service level reaches the target, 0.0 where not, nan where it is undefined."""
    sl = np.asarray(service_level, dtype=float)
    return np.where(np.isnan(sl), np.nan, (sl >= np.asarray(target) - TOLERANCE).astype(float))


def share_of_days_meeting(day_sl: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per channel (columns of `day_sl`, one row a day), the share of days with a service level that met
    the target; days with no contact offered are not judged (nan when none is)."""
    met = meets_target(day_sl, target[None, :])
    judged = (~np.isnan(met)).sum(0)
    with np.errstate(invalid="ignore"):
        return np.where(judged > 0, np.nansum(met, 0) / np.maximum(judged, 1), np.nan)


def wilson(share: np.ndarray, n: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion `share` observed on `n` trials."""
    p, n = np.asarray(share, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def days_in_window(horizon_end_s: float, warmup_s: float) -> int:
    """Calendar days of one replication that the reporting window [warm-up, end) touches."""
    return math.ceil(horizon_end_s / DAY_S) - math.floor(warmup_s / DAY_S)


def add_spread(table: pd.DataFrame, per_rep: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """`table` (one row per key, in groupby order) with p10, p50, p90 of each key's per-replication values."""
    grouped = per_rep.groupby(keys, sort=False, observed=True)["value"]
    for column, q in QUANTILES.items():
        table[column] = grouped.quantile(q).to_numpy()
    return table


def with_sla_interval(table: pd.DataFrame, trials_per_value: int, bounds: bool) -> pd.DataFrame:
    """Give the p_meet_sla rows their Wilson interval: ci95 covers it; with `bounds`, also add rows
    p_meet_sla_low and p_meet_sla_high (value in `mean`) right after each, and count trials in `n`."""
    rows = table["metric"] == METRIC
    if not rows.any():
        return table
    table = table.copy()
    trials = table.loc[rows, "n"] * trials_per_value
    share = table.loc[rows, "mean"].to_numpy()
    low, high = wilson(share, trials.to_numpy())
    table.loc[rows, "ci95"] = np.maximum(share - low, high - share)
    table.loc[rows, "n"] = trials
    if not bounds:
        return table
    spread = [c for c in QUANTILES if c in table]
    extra = []
    for suffix, value in (("low", low), ("high", high)):
        part = table.loc[rows].copy()
        part["metric"] = f"{METRIC}_{suffix}"
        part["mean"] = value
        part["ci95"] = np.nan
        part[spread] = np.nan
        extra.append(part)
    order = np.r_[np.arange(len(table)), np.flatnonzero(rows) + 0.1, np.flatnonzero(rows) + 0.2]
    out = pd.concat([table, *extra], ignore_index=True)
    return out.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)


__all__ = [
    "add_spread",
    "days_in_window",
    "meets_target",
    "share_of_days_meeting",
    "wilson",
    "with_sla_interval",
]
