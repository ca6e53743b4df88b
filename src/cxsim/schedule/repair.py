"""Solve, simulate the schedule on fresh seeds, and where an interval misses its SLA raise the
requirement there and solve again: the simulate-and-repair loop of `cxsim schedule`.

Judging (docs/scheduling.md): a realtime channel's SL per interval is judged once `min_contacts`
contacts (all replications) reached it, and misses when the mean over replications is below the
channel's target; the miss is charged to the channel's entry tier. A later tier (escalations) is
judged on its own SL per interval against the lowest target of the realtime channels it serves.
A miss raises the tier's requirement in that interval by max(1, ceil(heads x shortfall of SL)).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from cxsim.experiment import Results, simulate
from cxsim.scenario import Scenario, compile_scenario, validate_config
from cxsim.schedule.catalogue import Rules, clock_text
from cxsim.schedule.model import ShiftModel, grid_for
from cxsim.schedule.result import Schedule, TierSchedule
from cxsim.schema import RUN_KEYS

FRESH_SALT = 0x5C4ED  # keeps the schedule's seeds apart from the planner's and the run's


def fresh_seed(seed: int, round_: int) -> int:
    """The seed of simulation round `round_`: new customers every round, the same for the same seed."""
    return int(np.random.SeedSequence([seed, FRESH_SALT, round_]).generate_state(1)[0] >> 1)


def with_staff(scn: Scenario, staff: np.ndarray, base_dir: Path | None) -> Scenario:
    """The scenario with each tier's staff list replaced by `staff` (tiers x intervals heads)."""
    raw = copy.deepcopy({k: v for k, v in scn.config.items() if k not in (*RUN_KEYS, "hydra")})
    for k, tier in enumerate(scn.tiers):
        raw["tiers"][tier.name]["staff"] = [round(float(x), 6) for x in staff[k]]
    return compile_scenario(validate_config(raw), base_dir=base_dir)


def _entry_tiers(scn: Scenario) -> dict[int, int]:
    """Channel index -> the first tier serving it."""
    return {c: next(k for k, t in enumerate(scn.tiers) if c in t.skills) for c in range(len(scn.channels))}


def judge(scn: Scenario, results: Results, min_contacts: int) -> pd.DataFrame:
    """SL per interval of every realtime channel, and of every tier no channel enters, against its target."""
    iv = results.intervals
    iv = iv[iv.metric.isin(["service_level", "offered"])].pivot_table(
        index=["scope", "name", "interval_start"], columns="metric", values=["mean", "ci95"]
    )
    h, reps = scn.horizon, results.replications
    interval_min = round(h.interval_s / 60)
    entries = _entry_tiers(scn)
    realtime = [c for c, ch in enumerate(scn.channels) if ch.realtime]
    queues = [("channel", scn.channels[c].name, entries[c], scn.channels[c].sla.target) for c in realtime]
    for k, tier in enumerate(scn.tiers):
        served = [scn.channels[c].sla.target for c in realtime if c in tier.skills]
        if served and k not in {entries[c] for c in realtime}:
            queues.append(("tier", tier.name, k, min(served)))
    frames = []
    starts = np.arange(h.n_intervals) * h.interval_s
    for scope, name, k, target in queues:
        try:
            g = iv.loc[(scope, name)].reindex(starts)
        except KeyError:
            continue
        offered = g[("mean", "offered")].fillna(0).to_numpy() * reps
        sl = g[("mean", "service_level")].to_numpy()
        judged = (offered >= min_contacts) & ~np.isnan(sl)
        frames.append(
            pd.DataFrame(
                {
                    "day": np.arange(h.n_intervals) // h.intervals_per_day + 1,
                    "time": [clock_text((i % h.intervals_per_day) * interval_min) for i in range(h.n_intervals)],
                    "scope": scope,
                    "name": name,
                    "tier": scn.tiers[k].name,
                    "offered": offered,
                    "service_level": sl,
                    "sl_ci95": g[("ci95", "service_level")].to_numpy(),
                    "target": target,
                    "judged": judged,
                    "meets": ~judged | (np.nan_to_num(sl, nan=1.0) >= target - 1e-12),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def raise_requirement(scn: Scenario, required: np.ndarray, on_floor: np.ndarray, sl: pd.DataFrame) -> np.ndarray:
    """The requirement raised where the schedule missed, above what was on the floor there
    (`on_floor`: the fewest heads in any slot, tiers x intervals); docs/scheduling.md gives the rule."""
    out = required.copy()
    h = scn.horizon
    tier_of = {t.name: k for k, t in enumerate(scn.tiers)}
    per_day, interval_min = h.intervals_per_day, round(h.interval_s / 60)
    for row in sl[~sl.meets].itertuples(index=False):
        k = tier_of[row.tier]
        i = (row.day - 1) * per_day + (int(row.time[:2]) * 60 + int(row.time[3:])) // interval_min
        step = max(1, math.ceil(required[k, i] * (row.target - row.service_level) - 1e-9))
        out[k, i] = max(out[k, i], max(required[k, i], on_floor[k, i]) + step)
    return out


def schedule_shifts(
    scn: Scenario,
    rules: Rules,
    required: np.ndarray,
    replications: int = 20,
    seed: int = 0,
    workers: int = 1,
    base_dir: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> Schedule:
    """Shifts covering `required` (tiers x intervals heads) at least cost, simulated and repaired."""
    h = scn.horizon
    interval_min = round(h.interval_s / 60)
    model = ShiftModel(rules, grid_for(rules, interval_min, h.days))
    model.check_coverable()
    per = interval_min // model.grid.slot_min
    requested = required = np.asarray(required, dtype=float)
    solutions: list = [None] * len(scn.tiers)
    schedule = None
    changed = np.ones(len(scn.tiers), dtype=bool)
    for round_ in range(rules.max_rounds + 1):
        for k, tier in enumerate(scn.tiers):
            if changed[k]:
                solutions[k] = model.solve(np.repeat(required[k], per), tier.agent_hour_cost)
                if log:
                    s = solutions[k]
                    log(f"round {round_}: {tier.name} cost {s.cost:,.0f} ({s.status}, {s.seconds:.1f} s)")
        tiers = [
            TierSchedule(t.name, t.agent_hour_cost, requested[k], required[k].copy(), s)
            for k, (t, s) in enumerate(zip(scn.tiers, solutions, strict=True))
        ]
        schedule = Schedule(scn.name, interval_min, model, tiers, rounds=schedule.rounds if schedule else [])
        entry = {"round": round_, "cost": schedule.cost, "short_intervals": int((schedule.short() > 1e-9).sum())}
        if not rules.simulate:
            schedule.rounds.append(entry)
            break
        seed_r = fresh_seed(seed, round_)
        results = simulate(with_staff(scn, schedule.staff(), base_dir), replications, seed_r, workers)
        sl = judge(scn, results, rules.min_contacts)
        schedule.service_levels, schedule.kpis = sl, results
        misses = sl[~sl.meets]
        entry |= {"seed": seed_r, "replications": replications, "misses": len(misses)}
        schedule.rounds.append(entry)
        if log:
            log(f"round {round_}: simulated on seed {seed_r}: {len(misses)} queue-intervals below target")
        if misses.empty or round_ == rules.max_rounds:
            break
        raised = raise_requirement(scn, required, schedule.on_floor_min(), sl)
        changed = (raised != required).any(axis=1)
        required = raised
    assert schedule is not None
    return schedule
