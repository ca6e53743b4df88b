"""What `cxsim schedule` returns: the shifts per tier, coverage against the requirement, cost,
the simulated service level per interval, and the files written from them."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cxsim.schedule.catalogue import DAY_MIN, WEEK_DAYS, clock_text
from cxsim.schedule.model import ShiftModel, Solution

if TYPE_CHECKING:
    from cxsim.experiment import Results

SHIFTS_FILE, TOURS_FILE, COVERAGE_FILE = "shifts.csv", "tours.csv", "coverage.csv"
SL_FILE, FIGURE_FILE, SUMMARY_FILE = "schedule_sl.csv", "coverage.png", "schedule.json"


@dataclass
class TierSchedule:
    """One tier: the requirement it was solved for (heads per interval, repairs included) and the solution."""

    tier: str
    agent_hour_cost: float
    requested: np.ndarray  # the requirement given
    required: np.ndarray  # the requirement solved for: requested, raised where the simulation missed
    solution: Solution


@dataclass
class Schedule:
    """The schedule of every tier on one model, with its rounds of simulate-and-repair."""

    scenario: str
    interval_min: int
    model: ShiftModel
    tiers: list[TierSchedule]
    rounds: list[dict[str, Any]] = field(default_factory=list)
    service_levels: pd.DataFrame | None = None  # the last simulation's SL per interval (schedule_sl.csv)
    kpis: Results | None = None  # the last simulation's KPI tables

    @property
    def per_interval(self) -> int:
        """Model slots per interval."""
        return self.interval_min // self.model.grid.slot_min

    @property
    def cost(self) -> float:
        """Paid cost of all tiers' shifts over the horizon."""
        return sum(t.solution.cost for t in self.tiers)

    def staff(self) -> np.ndarray:
        """Heads on the floor per tier and interval (the mean over its slots: breaks taken out),
        the staff list the simulation runs with."""
        return np.asarray([t.solution.working.reshape(-1, self.per_interval).mean(axis=1) for t in self.tiers])

    def on_floor_min(self) -> np.ndarray:
        """The fewest heads on the floor in any slot, per tier and interval."""
        return np.asarray([t.solution.working.reshape(-1, self.per_interval).min(axis=1) for t in self.tiers])

    def short(self) -> np.ndarray:
        """Heads short per tier and interval: the most any of its slots lacks."""
        return np.asarray([t.solution.short.reshape(-1, self.per_interval).max(axis=1) for t in self.tiers])

    def _people(self, k: int) -> Counter:
        """(unit, break offsets) -> heads: each shift worked, its breaks paired in time order."""
        sol, m = self.tiers[k].solution, self.model
        per_unit = m.worked @ sol.tours
        offsets: dict[tuple[int, int], list[int]] = {}
        for j, bs in enumerate(m.break_slots):
            offsets.setdefault((bs.unit, bs.k), []).extend([bs.offset] * int(sol.breaks[j]))
        people: Counter = Counter()
        for u in np.flatnonzero(per_unit > 0):
            st = m.rules.shifts[m.units[u][0]]
            lists = [sorted(offsets.get((u, k), [])) for k in range(len(st.breaks))]
            for n in range(int(per_unit[u])):
                people[(int(u), tuple(lst[n] for lst in lists))] += 1
        return people

    def shifts(self) -> pd.DataFrame:
        """shifts.csv: per tier, day and shift type, each start with its break times and the heads on it."""
        rows = []
        m = self.model
        for k, ts in enumerate(self.tiers):
            for (u, offsets), count in sorted(self._people(k).items()):
                s, start, day = m.units[u]
                st = m.rules.shifts[s]
                breaks = "; ".join(
                    f"{b.name} {clock_text((start + o) % DAY_MIN)}-{clock_text((start + o + b.length_min) % DAY_MIN)}"
                    f" {'paid' if b.paid else 'unpaid'}"
                    for b, o in zip(st.breaks, offsets, strict=True)
                )
                rows.append(
                    {
                        "tier": ts.tier,
                        "day": day + 1,
                        "shift": st.name,
                        "start": clock_text(start),
                        "end": clock_text((start + st.length_min) % DAY_MIN),
                        "breaks": breaks,
                        "count": count,
                        "paid_hours": st.paid_hours * count,
                        "cost": st.paid_hours * st.cost_factor * ts.agent_hour_cost * count,
                    }
                )
        return pd.DataFrame(
            rows, columns=["tier", "day", "shift", "start", "end", "breaks", "count", "paid_hours", "cost"]
        )

    def tours(self) -> pd.DataFrame:
        """tours.csv (weekly tours only): per tier, shift type, start and weekdays off, the heads on it."""
        m, rows = self.model, []
        for ts in self.tiers:
            for j in np.flatnonzero(ts.solution.tours > 0):
                tour = m.tours[j]
                st = m.rules.shifts[tour.shift]
                off = sorted(set(range(WEEK_DAYS)) - {d % WEEK_DAYS for d in tour.days})
                rows.append(
                    {
                        "tier": ts.tier,
                        "shift": st.name,
                        "start": clock_text(tour.start),
                        "end": clock_text((tour.start + st.length_min) % DAY_MIN),
                        "days_off": " ".join(str(d + 1) for d in off),
                        "count": int(ts.solution.tours[j]),
                    }
                )
        return pd.DataFrame(rows, columns=["tier", "shift", "start", "end", "days_off", "count"])

    def coverage(self) -> pd.DataFrame:
        """coverage.csv: per interval and tier, the required heads (as given, and as raised by the repairs)
        against the heads on the floor (mean and least over the interval's slots), and the heads short."""
        n = len(self.tiers[0].required)
        per_day = DAY_MIN // self.interval_min
        staff, least, short = self.staff(), self.on_floor_min(), self.short()
        frames = []
        for k, ts in enumerate(self.tiers):
            frames.append(
                pd.DataFrame(
                    {
                        "day": np.arange(n) // per_day + 1,
                        "time": [clock_text((i % per_day) * self.interval_min) for i in range(n)],
                        "tier": ts.tier,
                        "required": ts.requested,
                        "repaired": ts.required,
                        "scheduled": staff[k],
                        "scheduled_min": least[k],
                        "short": short[k],
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def summary(self) -> dict[str, Any]:
        """schedule.json: cost, paid hours, heads per shift type (shifts worked over the horizon, or
        heads on weekly tours), shortfall per tier, the solver's status, the rounds."""
        short = self.short()
        shifts = self.shifts()
        heads = self.tours() if self.model.rules.tours(self.model.grid.days) else shifts
        tiers = {}
        for k, ts in enumerate(self.tiers):
            mine = shifts[shifts.tier == ts.tier]
            sol = ts.solution
            tiers[ts.tier] = {
                "cost": sol.cost,
                "paid_hours": float(mine.paid_hours.sum()),
                "shifts": {
                    str(name): int(c)
                    for name, c in heads[heads.tier == ts.tier].groupby("shift")["count"].sum().items()
                },
                "short_intervals": int((short[k] > 1e-9).sum()),
                "short_head_hours": float(sol.short.sum() * self.model.grid.slot_min / 60),
                "solver": {"status": sol.status, "gap": sol.gap, "seconds": round(sol.seconds, 3)},
            }
        return {"scenario": self.scenario, "cost": self.cost, "tiers": tiers, "rounds": self.rounds}

    def cost_table(self) -> pd.DataFrame:
        """The schedule's paid hours and cost per tier and overall, in summary.csv's shape (for a run
        that is not simulated, so a sweep's combined table still compares schedules)."""
        shifts = self.shifts()
        rows = []
        for ts in self.tiers:
            mine = shifts[shifts.tier == ts.tier]
            rows += [
                ("tier", ts.tier, "paid_hours", mine.paid_hours.sum()),
                ("tier", ts.tier, "cost_total", mine.cost.sum()),
            ]
        rows += [("overall", "all", "paid_hours", shifts.paid_hours.sum()), ("overall", "all", "cost_total", self.cost)]
        return pd.DataFrame(rows, columns=["scope", "name", "metric", "mean"]).assign(ci95=0.0, n=1)

    def describe(self) -> str:
        """A few lines for the terminal: cost, shifts per tier, intervals short, simulated SL."""
        info = self.summary()
        tours = self.model.rules.tours(self.model.grid.days)
        lines = [f"schedule: cost {self.cost:,.0f}" + (" (heads on weekly tours per shift type)" if tours else "")]
        for name, t in info["tiers"].items():
            mix = ", ".join(f"{c} {s}" for s, c in t["shifts"].items())
            short = f"{t['short_intervals']} intervals short" if t["short_intervals"] else "covered"
            gap = t["solver"]["gap"]
            solver = t["solver"]["status"] + ("" if gap is None else f", gap {gap:.2%}")
            lines.append(f"  {name}: {mix}; {t['paid_hours']:,.1f} paid h, cost {t['cost']:,.0f}; {short} ({solver})")
        sl = self.service_levels
        if sl is not None:
            for (scope, name), g in sl[sl.judged].groupby(["scope", "name"], sort=False):
                worst = g.loc[g.service_level.idxmin()]
                lines.append(
                    f"  simulated SL {scope} {name}: {int(g.meets.sum())}/{len(g)} judged intervals meet "
                    f"{g.target.iloc[0]:.0%}; lowest {worst.service_level:.3f} at day {worst.day} {worst.time}"
                )
        return "\n".join(lines)

    def save(self, out_dir: Path) -> dict[str, Path]:
        """Write shifts.csv, tours.csv (tours), coverage.csv, schedule_sl.csv, schedule.json and coverage.png."""
        from cxsim.outputs import write_atomic, write_text
        from cxsim.schedule.figure import coverage_figure

        out = Path(out_dir)
        written = {
            "shifts": write_atomic(out / SHIFTS_FILE, lambda p: self.shifts().to_csv(p, index=False)),
            "coverage": write_atomic(out / COVERAGE_FILE, lambda p: self.coverage().to_csv(p, index=False)),
            "summary": write_text(out / SUMMARY_FILE, json.dumps(self.summary(), indent=2)),
        }
        if self.model.rules.tours(self.model.grid.days):
            written["tours"] = write_atomic(out / TOURS_FILE, lambda p: self.tours().to_csv(p, index=False))
        if self.service_levels is not None:
            sl = self.service_levels
            written["service_levels"] = write_atomic(out / SL_FILE, lambda p: sl.to_csv(p, index=False))
        written["figure"] = write_atomic(out / FIGURE_FILE, lambda p: coverage_figure(self, p))
        return written
