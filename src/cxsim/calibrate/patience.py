"""Patience per realtime channel from the waits at the first queue, with right-censoring.

An abandoned contact's wait is its patience; an answered contact's patience is only known to
exceed its wait (censored). The Kaplan-Meier curve (scipy.stats.ecdf on CensoredData, with its
Greenwood band) is what the data say; the censored maximum-likelihood fit chosen by AIC is what
the scenario gets (durations.py).
"""

from __future__ import annotations

import numpy as np

from cxsim.calibrate.durations import FitResult, fit_durations
from cxsim.calibrate.log import LogData


def patience(data: LogData, realtime: list[str]) -> dict[str, FitResult]:
    """Censored fits per realtime channel that has abandonments."""
    legs = data.legs[data.legs["leg"] == 0]
    channel = data.contacts.set_index("contact")["channel"].reindex(legs["contact"]).to_numpy()
    abandoned = (legs["outcome"] == "abandoned").to_numpy()
    wait = np.where(abandoned, legs["end"] - legs["queue_entry"], legs["answer"] - legs["queue_entry"])
    out = {}
    for name in realtime:
        mask = channel == name
        fit = fit_durations(f"patience {name}", wait[mask], ~abandoned[mask])
        if fit is not None:
            out[name] = fit
    return out
