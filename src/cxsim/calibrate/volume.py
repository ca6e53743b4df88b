"""Contact volume per channel, interval and day of week (a WFM-style volume file), and the mixes.

cxsim generates recontacts itself, so the volume counts first contacts only (recontacts are
found in flows.py). An interval's expected volume is the mean count of that interval over the
logged days with the same weekday: with one week of log it is the observed count, with several
weeks the weekday average.
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


def volume(data: LogData, first_contact: np.ndarray, interval_min: int) -> Volume:
    """Count first contacts per channel and interval; average each interval over same weekdays."""
    interval_s = interval_min * 60.0
    per_day_n = round(DAY_S / interval_s)
    n = data.days * per_day_n
    first = data.contacts[first_contact]
    index = np.floor(first["arrival"].to_numpy() / interval_s).astype(np.int64)
    starts = pd.date_range(data.origin, periods=n, freq=pd.Timedelta(seconds=interval_s))
    weekday = np.asarray(starts.day_of_week)
    slot = np.arange(n) % per_day_n
    expected, observed, totals = {}, {}, {}
    for channel in first["channel"].cat.categories:
        mask = (first["channel"] == channel).to_numpy()
        counts = np.bincount(index[mask], minlength=n)[:n].astype(float)
        key = weekday * per_day_n + slot  # same weekday and slot of day
        sums = np.bincount(key, weights=counts, minlength=7 * per_day_n)
        days = np.bincount(key, minlength=7 * per_day_n)
        expected[str(channel)] = sums[key] / days[key]
        observed[str(channel)] = counts
        totals[str(channel)] = poisson_rate(f"volume {channel} per day", counts.sum(), data.days)
    return Volume(interval_s, starts, expected, observed, totals, _mix(first, "intent"), _mix(first, "segment"))
