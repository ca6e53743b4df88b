"""Simulating a staffing plan and judging it: per queue, channel and interval, with confidence bounds.

A plan is an integer array of scheduled heads (tiers x intervals). `Evaluator.run` builds the
scenario with that staffing, simulates replications (in a process pool kept for the whole search)
and reduces each replication's records to a few small arrays, so a search step costs the
simulation and almost nothing else. The same seed gives common random numbers across plans.

Every queue a channel's contacts wait in is judged against the channel's SLA: the entry queue
(stage 0, the channel's service level as `summary.csv` reports it) and the queues of the tiers
its escalations reach (stage 1, 2 ...), by the interval the contact joined that queue.
Ratios are pooled over replications (sum of numerators / sum of denominators), with the standard
error of a ratio estimator from the per-replication residuals.
"""

from __future__ import annotations

import os
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from cxsim.attendance import expected_agents
from cxsim.experiment import Results, quiet_interrupt
from cxsim.metrics import _tier_time, replication_tables
from cxsim.planning.load import Stage, heads_for, productive_share
from cxsim.records import ABANDONED, Records
from cxsim.scenario import Scenario
from cxsim.world import simulate_replication

FORMULAS = {"offered": 0, "answered": 1, "late_abandons": 2, "short_abandons_met": 3}


@dataclass(frozen=True)
class Layout:
    """What the reduction needs to know about the queues (picklable, built once)."""

    n_intervals: int
    interval_s: float
    cell_of: np.ndarray  # (channels, max stages) -> cell index, -1 none
    threshold: np.ndarray  # per cell
    formula: np.ndarray  # per cell (channel's sla.formula code)
    n_tiers: int

    @classmethod
    def build(cls, scn: Scenario, stage_list: list[Stage]) -> Layout:
        depth = max(s.stage for s in stage_list) + 1
        cell_of = np.full((len(scn.channels), depth), -1, dtype=np.int64)
        for i, s in enumerate(stage_list):
            cell_of[s.channel, s.stage] = i
        return cls(
            n_intervals=scn.horizon.n_intervals,
            interval_s=scn.horizon.interval_s,
            cell_of=cell_of,
            threshold=np.asarray([s.threshold_s for s in stage_list]),
            formula=np.asarray([FORMULAS[scn.channels[s.channel].sla.formula] for s in stage_list]),
            n_tiers=len(scn.tiers),
        )


def reduce_records(scn: Scenario, rec: Records, layout: Layout) -> np.ndarray:
    """One replication as counts per cell and interval, and agent time per tier and interval.

    Returns an array (6, rows, intervals): SL numerator, SL denominator, abandoned, offered (rows =
    cells), then busy and present agent-seconds (rows = tiers; padded with zeros).
    """
    n_cells, n_int = len(layout.threshold), layout.n_intervals
    rows = max(n_cells, layout.n_tiers)
    out = np.zeros((6, rows, n_int))
    contact = np.asarray(rec.leg_contact, dtype=np.int64)
    enq = np.asarray(rec.leg_enqueued, dtype=np.float64)
    if len(contact):
        order = np.lexsort((enq, contact))
        contact, enq = contact[order], enq[order]
        start = np.asarray(rec.leg_start, dtype=np.float64)[order]
        end = np.asarray(rec.leg_end, dtype=np.float64)[order]
        outcome = np.asarray(rec.leg_outcome)[order]
        new = np.r_[True, contact[1:] != contact[:-1]]
        first = np.maximum.accumulate(np.where(new, np.arange(len(contact)), 0))
        stage = np.arange(len(contact)) - first
        channel = np.asarray(rec.channel, dtype=np.int64)[contact]
        stage = np.minimum(stage, layout.cell_of.shape[1] - 1)
        cell = layout.cell_of[channel, stage]
        j = np.floor(enq / layout.interval_s).astype(np.int64)
        keep = (cell >= 0) & (j >= 0) & (j < n_int)
        served = ~np.isnan(start)
        abandoned = outcome == ABANDONED
        wait = np.where(served, start, end) - enq
        within = wait <= layout.threshold[np.maximum(cell, 0)]
        formula = layout.formula[np.maximum(cell, 0)]
        num = served & within
        num = np.where(formula == 3, num | (abandoned & within), num)
        den = np.ones(len(contact), dtype=bool)
        den = np.where(formula == 1, served, den)
        den = np.where(formula == 2, served | (abandoned & ~within), den)
        index = (cell * n_int + j)[keep]
        size = rows * n_int
        for r, values in enumerate((num, den, abandoned, np.ones(len(contact), dtype=bool))):
            out[r] = np.bincount(index, weights=values[keep].astype(float), minlength=size).reshape(rows, n_int)
    edges = np.arange(n_int + 1) * layout.interval_s
    time = _tier_time(scn, rec, edges)
    out[4, : layout.n_tiers] = time["busy"]
    out[5, : layout.n_tiers] = time["present"]
    return out


def _replications(
    scn: Scenario, seed: int, reps: list[int], layout: Layout, tables: bool
) -> list[tuple[np.ndarray, tuple[pd.DataFrame, pd.DataFrame] | None]]:
    """Worker: simulate some replications, return their reductions (and KPI tables if asked)."""
    out = []
    for r in reps:
        rec = simulate_replication(scn, seed, r)
        kpi = None
        if tables:
            summary, intervals = replication_tables(scn, rec)
            summary.insert(0, "replication", r)
            intervals.insert(0, "replication", r)
            kpi = (summary, intervals)
        out.append((reduce_records(scn, rec, layout), kpi))
    return out


def ratio(num: np.ndarray, den: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pooled ratio over replications (axis 0) and its standard error (ratio-estimator residuals).

    With one replication, the binomial standard error of the pooled counts stands in.
    """
    n = num.shape[0]
    total = den.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = np.where(total > 0, num.sum(0) / np.where(total > 0, total, 1), np.nan)
        binomial = np.sqrt(np.clip(est * (1 - est), 0, None) / np.where(total > 0, total, 1))
        if n > 1:
            resid = num - est * den
            mean_den = total / n
            se = np.sqrt((resid**2).sum(0) / (n * (n - 1))) / np.where(mean_den > 0, mean_den, 1)
        else:
            se = binomial
    se = np.where(total > 0, se, np.nan)
    return est, se


@dataclass
class Evaluation:
    """The reductions of R replications of one plan (axis 0: replication)."""

    plan: np.ndarray
    seed: int
    data: np.ndarray  # (R, 6, rows, intervals)
    n_cells: int
    n_tiers: int
    results: Results | None = None  # KPI tables of the replications, when asked for
    kpi_tables: list | None = None  # per replication (summary, intervals), to extend `results`

    live: np.ndarray | None = None  # intervals the day totals cover (default: all)

    def _parts(self, day: bool = False) -> dict[str, np.ndarray]:
        data = self.data if self.live is None or not day else self.data[..., self.live]
        d = data.sum(3, keepdims=True) if day else data
        c, t = self.n_cells, self.n_tiers
        return {
            "num": d[:, 0, :c],
            "den": d[:, 1, :c],
            "abandoned": d[:, 2, :c],
            "offered": d[:, 3, :c],
            "busy": d[:, 4, :t],
            "present": d[:, 5, :t],
        }

    def service_level(self, day: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """SL per cell and interval (or over the day): estimate and standard error."""
        p = self._parts(day)
        return ratio(p["num"], p["den"])

    def sl_counts(self, day: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Per replication, the SL numerator and denominator per cell and interval (or over the day)."""
        p = self._parts(day)
        return p["num"], p["den"]

    def abandon_rate(self, day: bool = False) -> tuple[np.ndarray, np.ndarray]:
        p = self._parts(day)
        return ratio(p["abandoned"], p["offered"])

    def occupancy(self) -> tuple[np.ndarray, np.ndarray]:
        p = self._parts()
        return ratio(p["busy"], p["present"])

    def counted(self) -> np.ndarray:
        """Contacts in each cell's SL denominator, summed over the replications."""
        return self._parts()["den"].sum(0)

    def offered(self) -> np.ndarray:
        """Mean offered contacts per cell and interval."""
        return self._parts()["offered"].mean(0)


def _results(scn: Scenario, seed: int, kpi_tables: list | None) -> Results | None:
    """The KPI tables of the replications as Results (None when they were not asked for)."""
    if kpi_tables is None:
        return None
    return Results.from_tables(scn, seed, [k[0] for k in kpi_tables], [k[1] for k in kpi_tables])


def staffed_scenario(base: Scenario, plan: np.ndarray) -> Scenario:
    """The scenario with `plan` scheduled heads per tier and interval; each replication turns them
    into productive agents with the scenario's shrinkage and absence rule, as in any run."""
    tiers = []
    for k, tier in enumerate(base.tiers):
        heads = np.asarray(plan[k], dtype=float).copy()
        if heads.max() == 0:  # a tier nobody reaches: keep one agent so the world has a last shift
            heads[:] = heads_for(np.ones(1), 1.0 - productive_share(tier))[0]
        tiers.append(replace(tier, staff=heads, agents=expected_agents(heads, tier.shrinkage, tier.absence)))
    return replace(base, tiers=tuple(tiers))


class Evaluator:
    """Runs plans for the search: one process pool, counts simulations and replications."""

    def __init__(self, scn: Scenario, stage_list: list[Stage], workers: int = 1) -> None:
        self.scenario = scn
        self.layout = Layout.build(scn, stage_list)
        self.n_cells = len(stage_list)
        self.workers = max(1, min(workers, os.cpu_count() or 1))
        self.pool: Executor | None = None
        self.simulations = 0
        self.replications = 0

    def __enter__(self) -> Evaluator:
        if self.workers > 1:
            self.pool = ProcessPoolExecutor(max_workers=self.workers, initializer=quiet_interrupt)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None

    def _simulate(self, scn: Scenario, seed: int, reps: list[int], tables: bool) -> list:
        """Replications `reps` of root `seed`, in the pool when there is one, in order."""
        if self.pool is None or len(reps) == 1:
            return _replications(scn, seed, reps, self.layout, tables)
        chunks = [c for c in (reps[i :: self.workers] for i in range(self.workers)) if c]
        futures = [self.pool.submit(_replications, scn, seed, c, self.layout, tables) for c in chunks]
        by_rep = {}
        for chunk, future in zip(chunks, futures, strict=True):
            for r, value in zip(chunk, future.result(), strict=True):
                by_rep[r] = value
        return [by_rep[r] for r in reps]

    def run(self, plan: np.ndarray, seed: int, replications: int, tables: bool = False) -> Evaluation:
        """Simulate `plan` for `replications` replications of root `seed`."""
        scn = staffed_scenario(self.scenario, plan)
        parts = self._simulate(scn, seed, list(range(replications)), tables)
        self.simulations += 1
        self.replications += replications
        kpi_tables = [k for _, k in parts] if tables else None
        return Evaluation(
            plan=np.asarray(plan).copy(),
            seed=seed,
            data=np.stack([d for d, _ in parts]),
            n_cells=self.n_cells,
            n_tiers=len(self.scenario.tiers),
            results=_results(scn, seed, kpi_tables),
            kpi_tables=kpi_tables,
        )

    def extend(self, ev: Evaluation, more: int) -> Evaluation:
        """The same plan and seed with `more` replications after those already run (common random
        numbers: the first ones are kept, not re-simulated)."""
        scn = staffed_scenario(self.scenario, ev.plan)
        have = ev.data.shape[0]
        tables = ev.kpi_tables is not None
        parts = self._simulate(scn, ev.seed, list(range(have, have + more)), tables)
        self.replications += more
        kpi_tables = [*ev.kpi_tables, *(k for _, k in parts)] if ev.kpi_tables is not None else None
        return replace(
            ev,
            data=np.concatenate([ev.data, np.stack([d for d, _ in parts])]),
            results=_results(scn, ev.seed, kpi_tables),
            kpi_tables=kpi_tables,
            live=None,
        )
