"""Contact volume per channel, interval and day of week (a WFM-style volume file), and the mixes.

cxsim generates recontacts itself, so the volume counts first contacts only (recontacts are
found in flows.py). With several weeks of log, an interval's expected volume is the mean count of
that interval over the same weekdays (as WFM tools do). With a week or less, one day's counts per
interval are Poisson noise around the rate, and simulating them as the rate would add that noise
twice; so each day keeps its own total, spread over its intervals by the intraday profile pooled
over the logged days of its kind (Mon-Fri or Sat-Sun).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxsim.calibrate.estimates import Estimate, poisson_rate, share
from cxsim.calibrate.log import DAY_S, LogData


@dataclass
class Volume:
    """Expected first contacts per interval of the logged horizon, per channel, and the mixes."""

    interval_s: float
    starts: pd.DatetimeIndex  # local start of every interval of the horizon
    expected: dict[str, np.ndarray]  # channel -> expected first contacts per interval
    observed: dict[str, np.ndarray]  # channel -> observed first contacts per interval
    per_day: dict[str, Estimate]  # channel -> first contacts per day
    intents: dict[str, dict[str, Estimate]]  # channel -> intent -> share
    segments: dict[str, dict[str, Estimate]]  # channel -> segment -> share
    pooled_over: str  # which days each interval's profile is pooled over

    def frame(self) -> pd.DataFrame:
        """The volume file: interval_start and one column of expected volume per channel."""
        table = pd.DataFrame({"interval_start": self.starts.strftime("%Y-%m-%d %H:%M")})
        for channel, values in self.expected.items():
            table[channel] = np.round(values, 3)
        return table


def _mix(first: pd.DataFrame, column: str) -> dict[str, dict[str, Estimate]]:
    out: dict[str, dict[str, Estimate]] = {}
    for channel, g in first.groupby("channel", observed=True):
        counts = g[column].value_counts()
        counts = counts[counts > 0]
        out[str(channel)] = {
            str(name): share(f"{column} mix {channel}/{name}", int(k), len(g)) for name, k in counts.items()
        }
    return out


def _day_groups(data: LogData) -> tuple[np.ndarray, str]:
    """Each logged day's group: its weekday when every logged weekday occurs at least twice (several
    weeks), else its kind, Mon-Fri or Sat-Sun (one week or less: one day per weekday is too noisy)."""
    weekday = np.asarray(pd.date_range(data.origin, periods=data.days, freq="D").day_of_week)
    seen = np.bincount(weekday, minlength=7)
    if (seen[seen > 0] >= 2).all():
        return weekday, "the same weekday"
    return (weekday >= 5).astype(np.int64), "the same kind of day (Mon-Fri or Sat-Sun)"


def volume(data: LogData, first_contact: np.ndarray, interval_min: int) -> Volume:
    """Count first contacts per channel and interval; shape each day by its group's pooled intraday profile."""
    interval_s = interval_min * 60.0
    per_day_n = round(DAY_S / interval_s)
    n = data.days * per_day_n
    first = data.contacts[first_contact]
    index = np.floor(first["arrival"].to_numpy() / interval_s).astype(np.int64)
    starts = pd.date_range(data.origin, periods=n, freq=pd.Timedelta(seconds=interval_s))
    group, pooled_over = _day_groups(data)
    by_weekday = pooled_over == "the same weekday"
    expected, observed, totals = {}, {}, {}
    for channel in first["channel"].cat.categories:
        mask = (first["channel"] == channel).to_numpy()
        counts = np.bincount(index[mask], minlength=n)[:n].astype(float)
        grid = counts.reshape(data.days, per_day_n)  # day x slot
        profile = np.zeros((group.max() + 1, per_day_n))
        np.add.at(profile, group, grid)
        day_total = grid.sum(axis=1)
        n_days = np.bincount(group)
        if by_weekday:  # WFM style: the mean of the same interval over the same weekdays
            shaped = profile[group] / n_days[group][:, None]
        else:  # each day's own total, spread by the pooled profile of its kind of day
            with np.errstate(invalid="ignore", divide="ignore"):
                shares = np.nan_to_num(profile / profile.sum(axis=1, keepdims=True))
            shaped = day_total[:, None] * shares[group]
        expected[str(channel)] = shaped.ravel()
        observed[str(channel)] = counts
        totals[str(channel)] = poisson_rate(f"volume {channel} per day", counts.sum(), data.days)
    return Volume(
        interval_s, starts, expected, observed, totals, _mix(first, "intent"), _mix(first, "segment"), pooled_over
    )
