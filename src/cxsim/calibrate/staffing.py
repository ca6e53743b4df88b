"""Agents per tier and interval, from a roster file if given, else from the agents seen busy;
and each channel's concurrency (contacts one agent holds at once) from the agent column.

Agents seen busy undercount a roster (an agent idle for a whole interval is not in the log), so
the calibration report says which source the staff file came from. Without an agent column the
count is the most contacts in progress at once (sampled each minute) divided by the concurrency.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cxsim.calibrate.log import LogData
from cxsim.errors import ConfigError
from cxsim.metrics import count_at
from cxsim.profiles import fit_to_horizon

SAMPLE_S = 60.0


@dataclass
class Staffing:
    """Heads per tier and interval and where they came from."""

    heads: dict[str, np.ndarray]
    source: str  # "roster <path>" or "agents seen busy"
    concurrency: dict[str, int]


def read_roster(path: str, tiers: list[str], starts: pd.DatetimeIndex, per_day: int) -> dict[str, np.ndarray]:
    """A roster CSV: one column per tier, a row per interval (aligned by an `interval_start` column
    when it has one, else in order: the whole horizon, or one day repeated)."""
    key = "calibrate.roster"
    file = Path(path)
    if not file.is_file():
        raise ConfigError(key, f"file '{path}' does not exist")
    table = pd.read_csv(file, comment="#")
    n = len(starts)
    position = np.arange(len(table))
    if "interval_start" in table.columns:
        stamps = pd.to_datetime(table["interval_start"], errors="coerce")
        if stamps.isna().any():
            row = int(np.flatnonzero(stamps.isna().to_numpy())[0]) + 1
            raise ConfigError(key, f"column 'interval_start', data row {row}: not a date-time")
        if stamps.dt.tz is None:
            stamps = stamps.dt.tz_localize(starts.tz)
        position = pd.Index(starts).get_indexer(stamps)
    out = {}
    for tier in tiers:
        if tier not in table.columns:
            raise ConfigError(key, f"has no column '{tier}' (columns: {', '.join(map(str, table.columns))})")
        values = pd.to_numeric(table[tier], errors="coerce").to_numpy()
        bad = np.isnan(values) | (values < 0)
        if bad.any():
            raise ConfigError(
                key, f"column '{tier}', data row {int(np.flatnonzero(bad)[0]) + 1}: must be a number >= 0"
            )
        if "interval_start" in table.columns:
            heads = np.zeros(n)
            heads[position[position >= 0]] = values[position >= 0]
        else:
            heads = fit_to_horizon(values, n, per_day, key, f"'{path}'")
        out[tier] = heads
    return out


def concurrency(data: LogData) -> dict[str, int]:
    """Per channel: the median over agents of the most contacts of that channel each held at once."""
    legs = data.legs[data.legs["answer"].notna() & (data.legs["agent"] >= 0)]
    channel = data.contacts.set_index("contact")["channel"].reindex(legs["contact"]).to_numpy()
    out = {}
    for name in pd.unique(channel):
        g = legs[channel == name]
        if g.empty:
            continue
        agent = np.r_[g["agent"].to_numpy(), g["agent"].to_numpy()]
        time = np.r_[g["answer"].to_numpy(), g["end"].to_numpy()]
        step = np.r_[np.ones(len(g)), -np.ones(len(g))]
        order = np.lexsort((step, time, agent))  # an end before a start at the same instant
        running = np.cumsum(step[order])  # every agent's steps sum to 0: the running sum restarts per agent
        agents = agent[order]
        first = np.r_[0, np.flatnonzero(agents[1:] != agents[:-1]) + 1]
        peaks = np.maximum.reduceat(running, first)
        out[str(name)] = max(1, int(np.median(peaks)))
    return out


def seen_busy(
    data: LogData, tiers: list[str], interval_s: float, n: int, conc: dict[str, int]
) -> dict[str, np.ndarray]:
    """Heads per tier and interval: distinct agents with a contact in hand (or peak contacts / concurrency)."""
    legs = data.legs[data.legs["answer"].notna()]
    out = {}
    for tier in tiers:
        g = legs[legs["tier"] == tier]
        start, end = g["answer"].to_numpy(), g["end"].to_numpy()
        if (g["agent"] >= 0).all() and len(g):
            first = np.floor(start / interval_s).astype(np.int64)
            last = np.floor(np.maximum(end - 1e-9, start) / interval_s).astype(np.int64)
            span = last - first + 1
            idx = np.repeat(first, span) + (np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span))
            agents = np.repeat(g["agent"].to_numpy(), span)
            keep = idx < n
            pairs = np.unique(idx[keep] * (agents.max() + 1) + agents[keep])
            out[tier] = np.bincount(pairs // (agents.max() + 1), minlength=n)[:n].astype(float)
        else:
            instants = np.arange(0, n * interval_s, SAMPLE_S)
            busy = count_at(start, end, instants)
            peak = np.maximum.reduceat(busy, np.arange(0, len(instants), int(interval_s // SAMPLE_S)))
            out[tier] = np.ceil(peak / max(1, min(conc.values(), default=1)))[:n]
    return out


def staffing(
    data: LogData, tiers: list[str], starts: pd.DatetimeIndex, interval_s: float, roster: str | None
) -> Staffing:
    """Heads per tier and interval from the roster or the log, and the channels' concurrency."""
    conc = concurrency(data)
    if roster:
        per_day = round(86400 / interval_s)
        return Staffing(read_roster(roster, tiers, starts, per_day), f"roster {roster}", conc)
    return Staffing(seen_busy(data, tiers, interval_s, len(starts), conc), "agents seen busy in the log", conc)
