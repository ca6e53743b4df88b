"""The shift-scheduling MILP, solved by HiGHS through scipy.optimize.milp.

Decision variables, per tier (docs/scheduling.md states the model):
- one integer per *tour*: a shift type started at one clock time on a set of days (one day for
  daily shifts; the days a days-off pattern leaves for weekly tours), counting heads;
- one integer per (shift worked on a day, break, allowed break start): how many of those shifts
  take that break then (implicit break placement, Aykin 1996: additive in the break options
  instead of one column per combination, which the ordered, non-overlapping windows allow);
- one continuous shortfall per time slot, priced at `shortfall_penalty` agent-hours per head-hour,
  so a requirement the catalogue cannot meet leaves slots short instead of no answer.
Coverage per slot: heads whose shift spans it and who are not on a break there, plus the
shortfall, reach the requirement of the slot's interval. The horizon is cyclic (the schedule
repeats every day, or every week for tours), so a shift past midnight covers the next morning.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from cxsim.errors import ConfigError
from cxsim.schedule.catalogue import DAY_MIN, FINEST_SLOT_MIN, WEEK_DAYS, Rules, clock_text


@dataclass(frozen=True)
class Grid:
    """The model's time slots over the horizon: `days` whole days of `slot_min`-minute slots."""

    slot_min: int
    days: int

    @property
    def per_day(self) -> int:
        """Slots in a day."""
        return DAY_MIN // self.slot_min

    @property
    def n_slots(self) -> int:
        """Slots in the horizon."""
        return self.per_day * self.days


@dataclass(frozen=True)
class Tour:
    """A decision column: heads on shift type `shift` starting at `start` (minutes) on each of `days`."""

    shift: int
    start: int
    days: tuple[int, ...]


@dataclass(frozen=True)
class BreakSlot:
    """A break decision: how many of the shifts worked as `unit` take break `k` starting `offset` minutes in."""

    unit: int
    k: int
    offset: int


@dataclass(frozen=True)
class Solution:
    """One tier's optimal (or best found) schedule: heads per tour and per break start, shortfall per slot."""

    tours: np.ndarray  # heads per tour
    breaks: np.ndarray  # shifts per BreakSlot
    working: np.ndarray  # heads working (not on a break) per slot
    short: np.ndarray  # heads short per slot
    cost: float  # paid hours x agent-hour cost x cost factor, shortfall excluded
    status: str
    gap: float | None  # relative MIP gap at the end (None: not reported)
    seconds: float


def grid_for(rules: Rules, interval_min: int, days: float) -> Grid:
    """The slot grid of a horizon; cxsim schedule needs whole days (and whole weeks for tours)."""
    if abs(days - round(days)) > 1e-9:
        raise ConfigError("horizon.days", f"cxsim schedule needs a horizon of whole days (got {days})")
    whole = round(days)
    if rules.tours(whole) and whole % WEEK_DAYS:
        raise ConfigError(
            "schedule.days_off_per_week", f"weekly tours need a horizon of whole weeks (horizon.days is {whole})"
        )
    slot = rules.slot_min(interval_min)
    if slot < FINEST_SLOT_MIN:
        raise ConfigError("horizon.interval_min", "intervals and shift times must share a grid of >= 5 minutes")
    return Grid(slot, whole)


def days_off_patterns(days_off: int, consecutive: bool) -> list[tuple[int, ...]]:
    """The weekdays off a weekly tour may have: `days_off` consecutive ones (wrapping Sunday-Monday) or any."""
    if consecutive:
        return sorted({tuple(sorted((d + i) % WEEK_DAYS for i in range(days_off))) for d in range(WEEK_DAYS)})
    return list(itertools.combinations(range(WEEK_DAYS), days_off))


class ShiftModel:
    """The MILP of one catalogue on one grid; `solve` takes a tier's requirement and agent-hour cost."""

    def __init__(self, rules: Rules, grid: Grid) -> None:
        self.rules, self.grid = rules, grid
        spd, slot = grid.per_day, grid.slot_min
        self.units = [(s, t, d) for d in range(grid.days) for s, st in enumerate(rules.shifts) for t in st.starts]
        index = {u: i for i, u in enumerate(self.units)}
        if rules.tours(grid.days):
            patterns = days_off_patterns(rules.days_off_per_week, rules.consecutive_days_off)
            self.tours = [
                Tour(s, t, tuple(d for d in range(grid.days) if d % WEEK_DAYS not in off))
                for s, st in enumerate(rules.shifts)
                for t in st.starts
                for off in patterns
            ]
            self.groups = np.zeros(len(self.tours), dtype=int)  # limits hold over the week
        else:
            self.tours = [Tour(s, t, (d,)) for s, t, d in self.units]
            self.groups = np.asarray([tour.days[0] for tour in self.tours], dtype=int)  # limits hold per day
        w_rows = [index[(tour.shift, tour.start, d)] for tour in self.tours for d in tour.days]
        w_cols = [j for j, tour in enumerate(self.tours) for _ in tour.days]
        self.worked = sparse.csr_matrix(
            (np.ones(len(w_rows)), (w_rows, w_cols)), shape=(len(self.units), len(self.tours))
        )  # units x tours: which shifts a tour works
        rows, cols = [], []
        for i, (s, t, d) in enumerate(self.units):
            first = d * spd + t // slot
            n = rules.shifts[s].length_min // slot
            rows += [(first + j) % grid.n_slots for j in range(n)]
            cols += [i] * n
        self.span = sparse.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(grid.n_slots, len(self.units))
        )  # slots x units: where a shift is on duty
        self.break_slots = [
            BreakSlot(i, k, p)
            for i, (s, _, _) in enumerate(self.units)
            for k, b in enumerate(rules.shifts[s].breaks)
            for p in range(b.earliest_min, b.latest_min + 1, slot)
        ]
        rows, cols = [], []
        for j, bs in enumerate(self.break_slots):
            s, t, d = self.units[bs.unit]
            first = d * spd + (t + bs.offset) // slot
            n = rules.shifts[s].breaks[bs.k].length_min // slot
            rows += [(first + m) % grid.n_slots for m in range(n)]
            cols += [j] * n
        self.on_break = sparse.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(grid.n_slots, len(self.break_slots))
        )  # slots x break decisions: where a break keeps heads off the floor
        pairs = sorted({(bs.unit, bs.k) for bs in self.break_slots})
        self.links = pairs  # one equality per shift worked and break: its breaks are all placed
        pair_index = {p: r for r, p in enumerate(pairs)}
        self.link_breaks = sparse.csr_matrix(
            (
                np.ones(len(self.break_slots)),
                ([pair_index[(bs.unit, bs.k)] for bs in self.break_slots], range(len(self.break_slots))),
            ),
            shape=(len(pairs), len(self.break_slots)),
        )
        self.link_tours = self.worked[[u for u, _ in pairs], :] if pairs else sparse.csr_matrix((0, len(self.tours)))
        self.expected = self._expected_cover()

    def check_coverable(self) -> None:
        """Every slot of the operating hours is worked by some shift with some break placement."""
        r, spd, slot = self.rules, self.grid.per_day, self.grid.slot_min
        coverable = np.zeros(spd, dtype=bool)
        for st in r.shifts:
            n = st.length_min // slot
            always_off = np.zeros(n, dtype=bool)
            for b in st.breaks:  # slots every placement of the break occupies
                lo, hi = b.latest_min // slot, (b.earliest_min + b.length_min) // slot
                always_off[lo:hi] = True
            for t in st.starts:
                coverable[(t // slot + np.flatnonzero(~always_off)) % spd] = True
        inside = np.arange(spd) * slot
        inside = (inside >= r.open_min) & (inside < r.close_min)
        gaps = np.flatnonzero(inside & ~coverable)
        if len(gaps):
            first = gaps[0]
            last = first
            while last + 1 < spd and inside[last + 1] and not coverable[last + 1]:
                last += 1
            raise ConfigError(
                "schedule.shifts",
                f"the catalogue cannot cover {clock_text(first * slot)}-{clock_text((last + 1) * slot)} of the "
                f"operating hours {clock_text(r.open_min)}-{clock_text(r.close_min)}: no shift works then "
                f"(see earliest_start, latest_start, length_h and the break windows)",
            )

    def tour_costs(self, agent_hour_cost: float) -> np.ndarray:
        """Cost of one head on each tour: paid hours x days worked x agent-hour cost x the shift's factor."""
        per_day = [st.paid_hours * st.cost_factor * agent_hour_cost for st in self.rules.shifts]
        return np.asarray([per_day[t.shift] * len(t.days) for t in self.tours])

    def _limits(self) -> tuple[np.ndarray, np.ndarray]:
        """Part-time share and per-shift-type caps, per day (daily shifts) or over the week (tours),
        as rows over the tours with their upper bounds."""
        r = self.rules
        part = np.asarray([r.shifts[t.shift].part_time for t in self.tours])
        kind = np.asarray([t.shift for t in self.tours])
        rows: list[np.ndarray] = []
        upper: list[float] = []
        for g in np.unique(self.groups):
            in_group = self.groups == g
            if r.part_time_max_share < 1 and part.any():
                rows.append(np.where(in_group, part - r.part_time_max_share, 0.0))
                upper.append(0.0)
            for s, st in enumerate(r.shifts):
                if st.max_count is not None:
                    rows.append((in_group & (kind == s)).astype(float))
                    upper.append(float(st.max_count))
        return np.asarray(rows).reshape(len(rows), len(self.tours)), np.asarray(upper)

    def _expected_cover(self) -> sparse.csc_matrix:
        """Slots x tours: heads a tour puts on the floor with each break spread evenly over its window
        (the greedy start's estimate; the MILP then places the breaks)."""
        per_break = Counter((bs.unit, bs.k) for bs in self.break_slots)
        weights = sparse.csr_matrix(
            (
                [1.0 / per_break[(bs.unit, bs.k)] for bs in self.break_slots],
                ([j for j in range(len(self.break_slots))], [bs.unit for bs in self.break_slots]),
            ),
            shape=(len(self.break_slots), len(self.units)),
        )
        return sparse.csc_matrix((self.span - self.on_break @ weights) @ self.worked)

    def _complete(self, tours: np.ndarray, need: np.ndarray, cost: np.ndarray) -> np.ndarray:
        """`tours` brought within the limits (part-time heads removed), then heads added greedily (most
        shortfall covered per unit of cost, within the limits) until their expected coverage closes
        `need` (heads per slot)."""
        rows, upper = self._limits()
        cover = self.expected
        tours, need = tours.copy(), need.copy()
        while ((over := rows @ tours - upper) > 1e-9).any():  # rounding down can break the part-time share
            row = rows[int(np.argmax(over))]
            j = int(np.argmax(np.where((row > 0) & (tours > 0), tours, -1)))
            tours[j] -= 1
            need += cover[:, j].toarray().ravel()
        allowed = np.ones(len(tours), dtype=bool)
        while (need > 1e-9).any() and allowed.any():
            gain = cover.T @ np.clip(need, 0.0, 1.0)
            score = np.where(allowed & (gain > 1e-9), gain / cost, -np.inf)
            j = int(np.argmax(score))
            if not np.isfinite(score[j]):
                break
            tours[j] += 1
            if (rows @ tours <= upper + 1e-9).all():
                need -= cover[:, j].toarray().ravel()
            else:
                tours[j] -= 1
                allowed[j] = False
        return tours

    def _working(self, solution: np.ndarray) -> np.ndarray:
        """Heads on the floor per slot of a solution vector (tours, breaks, shortfall)."""
        n_t, n_b = len(self.tours), len(self.break_slots)
        tours = np.round(solution[:n_t])
        return self.span @ (self.worked @ tours) - self.on_break @ np.round(solution[n_t : n_t + n_b])

    def solve(self, required: np.ndarray, agent_hour_cost: float) -> Solution:
        """Minimise paid cost plus priced shortfall s.t. coverage of `required` heads per slot.

        In steps, each capped at the best cost so far and stopped once within `mip_gap` of the LP
        bound: the LP relaxation's tours rounded down and completed greedily, only the breaks left
        to place (a covering schedule at once); each tour between the floor and ceiling of its LP
        value; the full MILP. The best schedule is returned with its gap to the best bound proven.
        """
        r, g = self.rules, self.grid
        n_t, n_b, n_s = len(self.tours), len(self.break_slots), g.n_slots
        slot_h = g.slot_min / 60.0
        tour_cost = self.tour_costs(agent_hour_cost)
        c = np.concatenate([tour_cost, np.zeros(n_b), np.full(n_s, r.shortfall_penalty * agent_hour_cost * slot_h)])
        cover = sparse.hstack([self.span @ self.worked, -self.on_break, sparse.identity(n_s)], format="csr")
        constraints = [LinearConstraint(cover, np.asarray(required, dtype=float), np.inf)]
        if self.links:
            link = sparse.hstack(
                [-self.link_tours, self.link_breaks, sparse.csr_matrix((len(self.links), n_s))], format="csr"
            )
            constraints.append(LinearConstraint(link, 0.0, 0.0))
        rows, upper = self._limits()
        if len(rows):
            limits = sparse.hstack([sparse.csr_matrix(rows), sparse.csr_matrix((len(rows), n_b + n_s))])
            constraints.append(LinearConstraint(limits, -np.inf, upper))
        integrality = np.concatenate([np.ones(n_t + n_b), np.zeros(n_s)])
        options = {"time_limit": r.time_limit_s, "mip_rel_gap": r.mip_gap, "disp": False}
        started = time.perf_counter()
        relaxed = milp(c, bounds=Bounds(0, np.inf), constraints=constraints)
        bound = float(relaxed.fun)
        x = relaxed.x[:n_t]

        def tours_within(low: np.ndarray, high: np.ndarray) -> Bounds:
            """Tours bounded, breaks and shortfall free."""
            return Bounds(
                np.concatenate([low, np.zeros(n_b + n_s)]), np.concatenate([high, np.full(n_b + n_s, np.inf)])
            )

        start = np.floor(x + 1e-9)  # within every limit, as the LP is
        best, proven = None, False
        for _ in range(3):  # a first schedule: LP floored, completed greedily, breaks placed by the MILP
            need = np.asarray(required, dtype=float) - (
                self.expected @ start if best is None else self._working(best.x)
            )
            start = self._complete(start, need, tour_cost)
            fixed = tours_within(start, start)
            res = milp(c, integrality=integrality, bounds=fixed, constraints=constraints, options=options)
            if res.x is not None and (best is None or res.fun < best.fun - 1e-9):
                best = res
            if res.x is None or (self._working(res.x) >= np.asarray(required) - 1e-9).all():
                break
        steps = [(tours_within(np.floor(x + 1e-9), np.ceil(x - 1e-9)), False), (Bounds(0, np.inf), True)]
        for bounds, full in steps:  # the LP's neighbourhood, then the full MILP, each capped at the best so far
            if best is not None and best.fun - bound <= r.mip_gap * abs(best.fun):
                proven = True
                break
            capped = constraints if best is None else [*constraints, LinearConstraint(c[None, :], -np.inf, best.fun)]
            res = milp(c, integrality=integrality, bounds=bounds, constraints=capped, options=options)
            if full:
                bound = max(bound, float(getattr(res, "mip_dual_bound", None) or bound))
                proven = res.status == 0
            if res.x is not None and (best is None or res.fun < best.fun - 1e-9):
                best = res
        seconds = time.perf_counter() - started
        if best is None:
            raise RuntimeError(f"HiGHS found no schedule within {r.time_limit_s:g} s; raise schedule.time_limit_s")
        tours = np.round(best.x[:n_t]).astype(np.int64)
        breaks = np.round(best.x[n_t : n_t + n_b]).astype(np.int64)
        working = self._working(best.x)
        short = np.maximum(0.0, np.asarray(required, dtype=float) - working)
        gap = max(0.0, (best.fun - bound) / abs(best.fun)) if best.fun else 0.0
        status = "optimal" if proven else "time limit (best found)"
        return Solution(tours, breaks, working, short, float(tour_cost @ tours), status, gap, seconds)
