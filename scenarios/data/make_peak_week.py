"""Regenerate the peak_season sample data (deterministic): python scenarios/data/make_peak_week.py

peak_week_voice.csv / peak_week_chat.csv: per-interval volumes in the shape a WFM tool exports
(interval_start, offered, aht_s), built from the retail weekday/weekend curves times a
day-of-week peak factor, with Poisson noise so they look like real history.
peak_week_staff.csv: the planned roster per interval and tier, square-root staffing on each
interval's expected workload, capped at the pool of trained agents.
"""

from __future__ import annotations

import csv
import math
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PROFILES = HERE.parent / "profiles"
START = datetime(2026, 12, 14)  # Monday of the last standard-shipping week before Christmas
# day factors against a normal weekday (voice 2,400 / chat 1,800 contacts a day)
DAYS = [("weekday", 1.25), ("weekday", 1.35), ("weekday", 1.50), ("weekday", 1.70), ("weekday", 1.55),
        ("weekend", 1.00), ("weekend", 0.90)]
BASE = {"voice": 2400, "chat": 1800}
AHT = {"voice": 405, "chat": 690}  # tier1 handle + wrap-up seen in WFM history (informational for cxsim)
CONTAINED = {"voice": 0.335, "chat": 0.36}  # bot containment, as in the baseline
EMAIL_PER_DAY = 1200
POOL = {"tier1": 72, "tier2": 32, "escalation": 10}  # trained heads available, temps included
MIN_HEADS = {"tier1": 10, "tier2": 4, "escalation": 3}
SHRINKAGE = {"tier1": 0.30, "tier2": 0.35, "escalation": 0.35}


def curve(name: str) -> np.ndarray:
    with (PROFILES / f"retail_{name}.csv").open() as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    w = np.array([float(r["weight"]) for r in rows])
    return w / w.sum()


def main() -> None:
    rng = np.random.default_rng(20261214)
    shapes = {"weekday": curve("weekday"), "weekend": curve("weekend")}
    times = [START + timedelta(minutes=30 * i) for i in range(7 * 48)]
    expected = {
        ch: np.concatenate([shapes[kind] * BASE[ch] * factor for kind, factor in DAYS]) for ch in BASE
    }
    for ch in BASE:
        offered = rng.poisson(expected[ch])
        aht = np.round(AHT[ch] * (1 + 0.04 * rng.standard_normal(len(offered))))
        with (HERE / f"peak_week_{ch}.csv").open("w", newline="") as handle:
            handle.write(f"# {ch} queue, 30-minute intervals, week of {START:%d %b %Y} (sample WFM export)\n")
            out = csv.writer(handle)
            out.writerow(["interval_start", "offered", "aht_s"])
            for t, n, a in zip(times, offered, aht, strict=True):
                out.writerow([f"{t:%Y-%m-%d %H:%M}", int(n), int(a)])
    # workload in Erlangs per interval (30 min = 1800 s); chat agents hold 2 at once
    email = np.tile(curve("weekday") * EMAIL_PER_DAY, 7)
    live = {ch: expected[ch] * (1 - CONTAINED[ch]) for ch in BASE}
    load = {
        "tier1": (live["voice"] * AHT["voice"] + live["chat"] * AHT["chat"] / 2 + email * 290) / 1800,
    }
    load["tier2"] = load["tier1"] * 0.19 * 900 / 400
    load["escalation"] = load["tier2"] * 0.15 * 1500 / 900
    roster = {}
    for tier, a in load.items():
        heads = [math.ceil((x + 1.0 * math.sqrt(x)) / (1 - SHRINKAGE[tier])) for x in a]
        roster[tier] = np.clip(heads, MIN_HEADS[tier], POOL[tier])
    with (HERE / "peak_week_staff.csv").open("w", newline="") as handle:
        handle.write("# planned heads per 30-minute interval and tier (before shrinkage), peak week\n")
        out = csv.writer(handle)
        out.writerow(["interval_start", *roster])
        for i, t in enumerate(times):
            out.writerow([f"{t:%Y-%m-%d %H:%M}", *(int(roster[k][i]) for k in roster)])


if __name__ == "__main__":
    main()
