"""Planning to a risk level (`staffing.confidence_of_meeting`): judge a queue by the share of
replication-days on which it meets its SL target, not by its mean SL (docs/risk.md).

Each replication is one possible day under the scenario's forecast error and absence. A queue
meets its target on a day (in an interval, or over the day) when that day's SL reaches it; a day
with no contact in the SL's denominator counts as met (no contact was answered late). The share
of days q is a binomial proportion; its standard error is taken at the Agresti-Coull centre
(met + 2) / (n + 4), so that a share of 0 or 1 still carries noise. The planner's judge then
compares q with the required share exactly as it compares a mean SL with its target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxsim.risk import TOLERANCE


@dataclass(frozen=True)
class Terms:
    """One SL constraint as the judge reads it: `estimate` (± `se`) must reach `limit`; `shortfall`
    is the SL the queue lacks (target - mean SL, or target - the SL of its (1 - p)-worst day)."""

    estimate: np.ndarray
    se: np.ndarray
    limit: np.ndarray | float
    shortfall: np.ndarray


def met(num: np.ndarray, den: np.ndarray, target: np.ndarray | float) -> np.ndarray:
    """Per replication (axis 0): whether the SL num / den reaches `target` (den 0: met)."""
    return num >= (np.asarray(target) - TOLERANCE) * den


def share_of_days(num: np.ndarray, den: np.ndarray, target: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Share of replications meeting `target` and its standard error (Agresti-Coull centre)."""
    n = num.shape[0]
    hits = met(num, den, target).sum(0)
    centre = (hits + 2.0) / (n + 4.0)
    return hits / n, np.sqrt(centre * (1.0 - centre) / (n + 4.0))


def worst_day_sl(num: np.ndarray, den: np.ndarray, share: float) -> np.ndarray:
    """The SL reached on a share `share` of replications: their (1 - share) quantile (den 0: SL 1).
    A queue meets its target on that share of days when this SL reaches the target."""
    with np.errstate(invalid="ignore", divide="ignore"):
        sl = np.where(den > 0, num / np.where(den > 0, den, 1.0), 1.0)
    return np.quantile(sl, 1.0 - share, axis=0)


def terms(num: np.ndarray, den: np.ndarray, target: np.ndarray | float, share: float) -> Terms:
    """The SL constraint "meet `target` on at least a share `share` of days" (replications on axis 0)."""
    estimate, se = share_of_days(num, den, target)
    return Terms(estimate, se, share, np.asarray(target) - worst_day_sl(num, den, share))


def sl_on_missed_days(num: np.ndarray, den: np.ndarray, missed: np.ndarray) -> np.ndarray:
    """Per cell and interval, the SL pooled over the replications on which the cell missed its day
    target (`missed`: replications x cells); over all replications for a cell that missed none."""
    days = np.where(missed.any(0)[None, :], missed, True)[:, :, None]
    total = (den * days).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (num * days).sum(0) / np.where(total > 0, total, 1.0), np.nan)


__all__ = ["Terms", "met", "share_of_days", "sl_on_missed_days", "terms", "worst_day_sl"]
