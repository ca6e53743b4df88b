"""An independent contact-log generator for the calibration tests: a plain numpy event loop, no cxsim.

The centre it simulates has known parameters: Poisson arrivals per channel shaped by an intraday
profile, an optional bot with containment per intent, one FIFO queue per tier served by a
constant number of agents, lognormal handle times per tier and channel, patience per channel
at the first queue, escalation tier1 -> tier2, and
recontacts of abandoned or unresolved customers after an exponential delay. A FIFO queue with
abandonment is simulated exactly by the classical recursion: in arrival order, a contact is
answered when the earliest agent frees up, unless its patience runs out first (then it leaves
without taking an agent). Tier 2 sees the escalations after tier 1 is done (no feedback):
escalated customers wait there without abandoning, and tier 2 resolves everything.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DAY = 86400.0


@dataclass
class Truth:
    """The known parameters of the generated centre."""

    days: int = 2
    start: str = "2026-03-02"  # a Monday, local midnight in `timezone`
    timezone: str = "Europe/Berlin"
    per_day: dict[str, float] = field(default_factory=lambda: {"voice": 3000.0, "chat": 1500.0})
    profile: tuple[float, ...] = (0.2, 0.2, 0.4, 1.0, 1.6, 1.8, 1.6, 1.4, 1.4, 1.2, 0.8, 0.4)  # 2-hour bins
    intents: dict[str, float] = field(default_factory=lambda: {"billing": 0.6, "technical": 0.4})
    bot_channels: tuple[str, ...] = ("chat",)
    containment: dict[str, float] = field(default_factory=lambda: {"billing": 0.4, "technical": 0.1})
    bot_time: tuple[float, float] = (60.0, 0.5)  # lognormal mean, cv
    patience: dict[str, tuple[str, float, float]] = field(
        default_factory=lambda: {"voice": ("exponential", 180.0, 1.0), "chat": ("gamma", 300.0, 0.6)}
    )
    handle: dict[tuple[str, str], tuple[float, float]] = field(
        default_factory=lambda: {
            ("tier1", "voice"): (300.0, 0.9),
            ("tier1", "chat"): (420.0, 0.7),
            ("tier2", "voice"): (600.0, 0.8),
            ("tier2", "chat"): (700.0, 0.8),
        }
    )
    staff: dict[str, int] = field(default_factory=lambda: {"tier1": 17, "tier2": 4})
    resolution_tier1: float = 0.85  # the rest escalates to tier2, which resolves everything
    recontact_p: float = 0.3
    recontact_mean_s: float = 3600.0


def _lognormal(rng: np.random.Generator, mean: float, cv: float) -> float:
    s2 = np.log1p(cv * cv)
    return float(rng.lognormal(np.log(mean) - s2 / 2, np.sqrt(s2)))


def _patience(rng: np.random.Generator, family: str, mean: float, cv: float) -> float:
    if family == "exponential":
        return float(rng.exponential(mean))
    if family == "gamma":
        k = 1 / cv**2
        return float(rng.gamma(k, mean / k))
    return _lognormal(rng, mean, cv)


def _first_arrivals(truth: Truth, rng: np.random.Generator) -> list[tuple[float, str, str]]:
    """(time, channel, intent) of first contacts: Poisson per profile bin, uniform within it."""
    weights = np.asarray(truth.profile) / np.sum(truth.profile)
    width = DAY / len(weights)
    out = []
    intents = list(truth.intents)
    for channel, per_day in truth.per_day.items():
        for day in range(truth.days):
            counts = rng.poisson(per_day * weights)
            for b, k in enumerate(counts):
                times = day * DAY + b * width + rng.random(k) * width
                chosen = rng.choice(len(intents), size=k, p=list(truth.intents.values()))
                out += [(float(t), channel, intents[i]) for t, i in zip(times, chosen, strict=True)]
    return out


def generate(truth: Truth, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate the centre; return (legs, contacts) with times in seconds from the first midnight.

    Events are taken in time order from one heap: front-door arrivals (which may go through the
    bot first) and tier-1 queue entries, so tier 1 sees its contacts in queue-entry order."""
    rng = np.random.default_rng(seed)
    pending = [(t, i, "door", (ch, it, i)) for i, (t, ch, it) in enumerate(_first_arrivals(truth, rng))]
    heapq.heapify(pending)
    next_id = len(pending)
    free = {tier: [(0.0, a) for a in range(n)] for tier, n in truth.staff.items()}
    contacts, legs, escalations = [], [], []
    rows: dict[int, dict] = {}
    horizon = truth.days * DAY
    while pending:
        t, cid, kind, (channel, intent, customer) = heapq.heappop(pending)
        if kind == "door":
            row = {
                "contact": cid,
                "customer": customer,
                "channel": channel,
                "intent": intent,
                "arrival": t,
                "bot_end": np.nan,
            }
            if channel in truth.bot_channels:
                row["bot_end"] = t + _lognormal(rng, *truth.bot_time)
                if rng.random() < truth.containment[intent]:
                    contacts.append({**row, "outcome": "contained", "end": row["bot_end"]})
                    continue
                rows[cid] = row
                heapq.heappush(pending, (row["bot_end"], cid, "queue", (channel, intent, customer)))
                continue
            rows[cid] = row
        row = rows.pop(cid)
        patience = _patience(rng, *truth.patience[channel])
        outcome, end = _serve(truth, rng, free["tier1"], legs, cid, "tier1", channel, t, patience)
        contacts.append({**row, "outcome": outcome, "end": end})
        if outcome == "escalated":
            escalations.append((end, cid, channel))
        elif outcome == "abandoned" and rng.random() < truth.recontact_p:
            again = end + rng.exponential(truth.recontact_mean_s)
            if again < horizon:
                heapq.heappush(pending, (again, next_id, "door", (channel, intent, customer)))
                next_id += 1
    for t, cid, channel in sorted(escalations):  # escalated customers wait at tier 2 without abandoning
        _serve(truth, rng, free["tier2"], legs, cid, "tier2", channel, t, np.inf)
    return pd.DataFrame(legs), pd.DataFrame(contacts)


def _serve(
    truth: Truth, rng, free: list, legs: list, cid: int, tier: str, channel: str, t: float, patience: float
) -> tuple[str, float]:
    """FIFO with abandonment: answered when the earliest agent frees, unless patience runs out first."""
    start = max(t, free[0][0])
    if start - t > patience:
        legs.append(
            {
                "contact": cid,
                "tier": tier,
                "queue_entry": t,
                "answer": np.nan,
                "end": t + patience,
                "outcome": "abandoned",
                "agent": "",
            }
        )
        return "abandoned", t + patience
    _, agent = heapq.heappop(free)
    end = start + _lognormal(rng, *truth.handle[(tier, channel)])
    heapq.heappush(free, (end, agent))
    outcome = "answered" if tier == "tier2" or rng.random() < truth.resolution_tier1 else "escalated"
    legs.append(
        {
            "contact": cid,
            "tier": tier,
            "queue_entry": t,
            "answer": start,
            "end": end,
            "outcome": outcome,
            "agent": f"{tier}-a{agent}",
        }
    )
    return outcome, end


def to_log(
    truth: Truth, legs: pd.DataFrame, contacts: pd.DataFrame, layout: str = "leg", times: str = "iso"
) -> pd.DataFrame:
    """The export a centre would hand over: one row per leg (or per contact: its first leg)."""
    rows = contacts.merge(legs, on="contact", how="left", suffixes=("", "_leg"))
    rows["outcome"] = rows["outcome_leg"].fillna(rows["outcome"])
    rows["end"] = rows["end_leg"].fillna(rows["end"])
    if layout == "contact":
        rows = rows.sort_values(["contact", "queue_entry"]).groupby("contact", sort=False).head(1)
    rows = rows.sort_values(["arrival", "contact", "queue_entry"], ignore_index=True)
    out = pd.DataFrame(
        {
            "contact_id": "C" + rows["contact"].astype(str),
            "customer_id": "K" + rows["customer"].astype(str),
            "channel": rows["channel"],
            "intent": rows["intent"],
            "arrival": rows["arrival"],
            "bot_end": rows["bot_end"],
            "queue_entry": rows["queue_entry"],
            "answer": rows["answer"],
            "end": rows["end"],
            "outcome": rows["outcome"],
            "tier": rows["tier"],
            "agent": rows["agent"],
        }
    )
    origin = pd.Timestamp(truth.start, tz=truth.timezone)
    for c in ("arrival", "bot_end", "queue_entry", "answer", "end"):
        if times == "epoch":
            out[c] = out[c] + origin.timestamp()
        else:
            stamps = origin + pd.to_timedelta(out[c].round(3), unit="s")
            out[c] = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3].where(out[c].notna(), "")
    return out


SAMPLE = Truth(
    days=1,
    per_day={"voice": 300.0, "chat": 150.0},
    staff={"tier1": 4, "tier2": 1},
)


if __name__ == "__main__":  # regenerate the committed sample: python tests/loggen.py
    from pathlib import Path

    here = Path(__file__).parent / "data"
    legs, contacts = generate(SAMPLE, seed=13)
    to_log(SAMPLE, legs, contacts, layout="leg").to_csv(here / "sample_contact_log.csv", index=False)
    pd.DataFrame({t: [n] * 48 for t, n in SAMPLE.staff.items()}).assign(
        interval_start=pd.date_range(SAMPLE.start, periods=48, freq="30min").strftime("%Y-%m-%d %H:%M")
    )[["interval_start", *SAMPLE.staff]].to_csv(here / "sample_roster.csv", index=False)
