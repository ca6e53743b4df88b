"""What one replication leaves behind: columnar records of contacts, tier legs and agent time.

Columns are numpy arrays (built from compact `array` buffers during the run), never one
Python object per contact; KPIs are computed from them vectorised (metrics.py).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

# leg outcomes
RESOLVED, ESCALATED, UNRESOLVED, ABANDONED = 0, 1, 2, 3
LEG_OUTCOMES = ("resolved", "escalated", "unresolved", "abandoned")
# how a contact left the bot without reaching an agent and unresolved (Records.bot_left); it comes back
FALSE_CONTAINED, BOT_GAVE_UP = 1, 2
# a contact's outcome: its last leg's, or how it ended in the bot
OUTCOMES = (*LEG_OUTCOMES, "contained", "false_contained", "bot_giveup")


@dataclass
class Records:
    """Everything the KPIs need from one replication."""

    # contacts: first contacts in arrival order, then recontacts in creation order
    arrival: np.ndarray  # front-door arrival (s)
    channel: np.ndarray
    intent: np.ndarray
    segment: np.ndarray
    issue: np.ndarray  # the first contact's id: recontacts share it
    attempt: np.ndarray  # 0 first contact, 1.. recontacts
    bot: np.ndarray  # bool: went through the bot
    contained: np.ndarray  # bool: resolved by the bot (a false containment is not)
    bot_time: np.ndarray  # seconds in the bot
    bot_left: np.ndarray  # int8: left the bot unresolved (FALSE_CONTAINED, BOT_GAVE_UP), else 0
    # legs: one row per wait at a tier queue (served or abandoned)
    leg_contact: np.ndarray
    leg_tier: np.ndarray
    leg_enqueued: np.ndarray
    leg_start: np.ndarray  # nan: abandoned
    leg_end: np.ndarray  # handle end, or abandonment time
    leg_wrap: np.ndarray
    leg_outcome: np.ndarray
    # agents: busy periods of tiers with concurrency (pooled tiers' busy time is their legs)
    busy_tier: np.ndarray
    busy_start: np.ndarray
    busy_end: np.ndarray
    # agents present on shift: (tier, time, count) at every change
    present_tier: np.ndarray
    present_time: np.ndarray
    present_count: np.ndarray
    end_time: float  # when the last event happened

    @property
    def n_contacts(self) -> int:
        return len(self.arrival)

    @property
    def nbytes(self) -> int:
        """Memory held by the columns."""
        return sum(getattr(self, f.name).nbytes for f in fields(self) if f.name != "end_time")


_DTYPES = {"d": np.float64, "f": np.float32, "b": np.int8, "h": np.int16, "i": np.int32, "q": np.int64}


def packed(typecode: str, values: np.ndarray) -> array:
    """A growable compact buffer holding `values` (typecode as in the `array` module)."""
    buffer = array(typecode)
    buffer.frombytes(np.ascontiguousarray(values, dtype=_DTYPES[typecode]).data.cast("B"))
    return buffer


def column(buffer: array) -> np.ndarray:
    """The buffer as a numpy array, without copying."""
    dtype = _DTYPES[buffer.typecode]
    return np.frombuffer(buffer, dtype=dtype) if len(buffer) else np.zeros(0, dtype=dtype)


def contacts_frame(
    rec: Records, channels: tuple[str, ...], intents: tuple[str, ...], segments: tuple[str, ...], tiers: tuple[str, ...]
) -> pd.DataFrame:
    """One row per contact with every timestamp: arrival, queue entry, first answer, end, outcome."""
    n = rec.n_contacts
    first_start = np.full(n, np.nan)
    in_bot = rec.contained | (rec.bot_left > 0)  # ended in the bot, never reached an agent
    end = np.where(in_bot, rec.arrival + rec.bot_time, np.nan)
    # codes into OUTCOMES: contained, false_contained, bot_giveup follow the leg outcomes
    outcome = np.where(in_bot, len(LEG_OUTCOMES) + rec.bot_left, UNRESOLVED).astype(np.int8)
    last_tier = np.full(n, -1)
    legs = np.zeros(n, dtype=np.int64)
    if len(rec.leg_contact):
        order = np.lexsort((rec.leg_enqueued, rec.leg_contact))
        lc = rec.leg_contact[order]
        served = ~np.isnan(rec.leg_start[order])
        np.fmin.at(first_start, lc[served], rec.leg_start[order][served])
        last = np.r_[lc[1:] != lc[:-1], True]
        ids = lc[last]
        end[ids] = rec.leg_end[order][last]
        out = rec.leg_outcome[order][last]
        outcome[ids] = out
        last_tier[ids] = rec.leg_tier[order][last]
        np.add.at(legs, lc, 1)
    entry = rec.arrival + rec.bot_time
    return pd.DataFrame(
        {
            "contact": np.arange(n),
            "issue": rec.issue,
            "attempt": rec.attempt,
            "channel": pd.Categorical.from_codes(rec.channel, channels),
            "intent": pd.Categorical.from_codes(rec.intent, intents),
            "segment": pd.Categorical.from_codes(rec.segment, segments),
            "arrival_s": rec.arrival,
            "bot": rec.bot,
            "queue_entry_s": np.where(in_bot, np.nan, entry),
            "first_answer_s": first_start,
            "end_s": end,
            "outcome": pd.Categorical.from_codes(outcome, OUTCOMES),
            "last_tier": pd.Categorical.from_codes(last_tier, tiers),
            "tier_visits": legs,
        }
    )
