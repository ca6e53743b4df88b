"""Handle times per tier and channel, and each intent's handle-time factor.

Handle time is answer -> end of an answered or escalated leg (the log holds no wrap-up). cxsim
multiplies a tier x channel distribution by the intent's `handle_time_factor`; an intent's
factor is its mean ratio to its cell's mean, written only where its 95% interval excludes 1
(otherwise 1), and the cell's distribution is fitted to handle / factor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxsim.calibrate.durations import FitResult, fit_durations
from cxsim.calibrate.estimates import Estimate, mean
from cxsim.calibrate.log import LogData


@dataclass
class HandleTimes:
    """Fitted handle-time distributions per (tier, channel) and the intent factors."""

    fits: dict[tuple[str, str], FitResult]
    samples: dict[tuple[str, str], np.ndarray]  # the durations each fit saw (for the report and empirical)
    factors: dict[str, Estimate]  # intent -> handle-time factor
    used_factor: dict[str, float]  # intent -> the factor written (1 unless clearly different)


def served_legs(data: LogData) -> pd.DataFrame:
    """Answered or escalated legs with channel, intent and handle time (> 0)."""
    legs = data.legs[data.legs["outcome"].isin(["answered", "escalated"])]
    info = data.contacts.set_index("contact")[["channel", "intent"]].reindex(legs["contact"])
    out = legs.assign(
        channel=info["channel"].to_numpy(),
        intent=info["intent"].to_numpy(),
        handle=(legs["end"] - legs["answer"]).to_numpy(),
    )
    return out[out["handle"] > 0]


def handle_times(data: LogData) -> HandleTimes:
    """Fit every tier x channel cell (after dividing out the intent factors)."""
    legs = served_legs(data)
    cell_mean = legs.groupby(["tier", "channel"], observed=True)["handle"].transform("mean").to_numpy()
    ratio = legs["handle"].to_numpy() / cell_mean
    factors, used = {}, {}
    intents = legs["intent"].to_numpy()
    for intent in pd.unique(intents):
        est = mean(f"handle_time_factor {intent}", ratio[intents == intent])
        factors[str(intent)] = est
        used[str(intent)] = 1.0 if est.contains(1.0) or np.isnan(est.low) else est.value
    if len(used) == 1:
        used = dict.fromkeys(used, 1.0)
    scaled = legs["handle"].to_numpy() / np.asarray([used[str(i)] for i in intents])
    fits, samples = {}, {}
    for (tier, channel), idx in legs.groupby(["tier", "channel"], observed=True).indices.items():
        fit = fit_durations(f"handle {tier}/{channel}", scaled[idx])
        if fit is not None:
            fits[(str(tier), str(channel))] = fit
            samples[(str(tier), str(channel))] = scaled[idx]
    return HandleTimes(fits, samples, factors, used)
