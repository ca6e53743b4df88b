"""Replications of a scenario: seeds, parallel processes, and means with 95% confidence intervals.

Replication r of an experiment with root `seed` draws from streams keyed by (seed, r, source),
so results are identical whatever the number of workers, and two scenarios run with the same
seed see the same customers (common random numbers).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from cxsim.metrics import replication_tables
from cxsim.records import contacts_frame
from cxsim.risk import add_spread, days_in_window, with_sla_interval
from cxsim.scenario import Scenario, require_scenario
from cxsim.schema import check_run_settings
from cxsim.world import simulate_replication

SUMMARY_KEYS = ["scope", "name", "metric"]
INTERVAL_KEYS = ["interval_start", "scope", "name", "metric"]


@dataclass
class Results:
    """KPI tables of an experiment: `summary` (mean, ci95, n, p10, p50, p90) and `intervals` (mean, ci95,
    n), optional `contacts`; p_meet_sla rows carry a Wilson interval (risk.py)."""

    scenario: Scenario
    seed: int
    replications: int
    summary: pd.DataFrame
    intervals: pd.DataFrame
    per_replication: pd.DataFrame  # summary values of every replication (column `replication`)
    contacts: pd.DataFrame | None = None

    def kpi(self, metric: str, scope: str = "overall", name: str = "all") -> float:
        """Mean of one KPI across replications, e.g. `res.kpi("service_level", "channel", "voice")`."""
        row = self.summary[
            (self.summary.scope == scope) & (self.summary.name == name) & (self.summary.metric == metric)
        ]
        if row.empty:
            raise KeyError(f"no KPI {scope}/{name}/{metric}")
        return float(row["mean"].iloc[0])

    @classmethod
    def from_tables(
        cls,
        scenario: Scenario,
        seed: int,
        summaries: list[pd.DataFrame],
        intervals: list[pd.DataFrame],
        contacts: list[pd.DataFrame] | None = None,
    ) -> Results:
        """Aggregate the per-replication tables of `run_replication` into means with 95% CIs."""
        per_rep = pd.concat(summaries, ignore_index=True)
        per_interval = pd.concat(intervals, ignore_index=True)
        days = days_in_window(scenario.horizon.end_s, scenario.horizon.warmup_s)

        def stacked(frames: list[pd.DataFrame]) -> pd.DataFrame:  # one replication: no copy
            return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

        return cls(
            scenario=scenario,
            seed=seed,
            replications=len(summaries),
            summary=with_sla_interval(
                add_spread(confidence_table(per_rep, SUMMARY_KEYS), per_rep, SUMMARY_KEYS), days, bounds=True
            ),
            intervals=with_sla_interval(confidence_table(per_interval, INTERVAL_KEYS), 1, bounds=False),
            per_replication=per_rep,
            contacts=stacked(contacts) if contacts else None,
        )

    def values(self, metric: str, scope: str = "overall", name: str = "all") -> np.ndarray:
        """The per-replication values of one KPI, in replication order."""
        t = self.per_replication
        rows = t[(t.scope == scope) & (t.name == name) & (t.metric == metric)].sort_values("replication")
        return rows["value"].to_numpy()


def run_replication(
    scenario: Scenario, seed: int, replication: int, keep_contacts: bool
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Simulate one replication and reduce it to KPI rows (and contact rows if asked)."""
    records = simulate_replication(scenario, seed, replication)
    summary, intervals = replication_tables(scenario, records)
    contacts = None
    if keep_contacts:
        contacts = contacts_frame(
            records,
            tuple(c.name for c in scenario.channels),
            scenario.intents,
            scenario.segments,
            tuple(t.name for t in scenario.tiers),
        )
        contacts.insert(0, "replication", replication)
    for table in (summary, intervals):
        table.insert(0, "replication", replication)
    return summary, intervals, contacts


def confidence_table(per_rep: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean, 95% t-interval half-width and count of `value` over replications, per key."""
    grouped = per_rep.groupby(keys, sort=False, observed=True)["value"]
    out = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    t = special.stdtrit(np.maximum(out["n"] - 1, 1), 0.975)  # Student t quantile
    out["ci95"] = np.where(out["n"] > 1, t * out["sd"] / np.sqrt(out["n"]), np.nan)
    return out[[*keys, "mean", "ci95", "n"]]


def quiet_interrupt() -> None:
    """In a worker process: Ctrl-C ends it silently; the parent reports the interruption once."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def simulate(
    scenario: Scenario,
    replications: int = 10,
    seed: int = 0,
    workers: int = 1,
    contacts: bool = False,
    progress: bool | Callable[[int, int], None] = False,
) -> Results:
    """Run `replications` independent replications (in `workers` processes) and aggregate KPIs.

    `progress=True` shows a progress bar; a callable gets (done, total) after each replication.
    """
    scenario = require_scenario(scenario)
    check_run_settings(replications, workers, seed)
    workers = min(workers, replications, os.cpu_count() or 1)
    results: list = [None] * replications
    bar = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=replications, desc=f"{scenario.name}: replications", unit="rep", leave=False)

    finished = 0

    def done(r: int, value: tuple) -> None:
        nonlocal finished
        results[r] = value
        finished += 1
        if bar is not None:
            bar.update(1)
        elif callable(progress):
            progress(finished, replications)

    try:
        if workers == 1:
            for r in range(replications):
                done(r, run_replication(scenario, seed, r, contacts))
        else:
            with ProcessPoolExecutor(max_workers=workers, initializer=quiet_interrupt) as pool:
                futures = {pool.submit(run_replication, scenario, seed, r, contacts): r for r in range(replications)}
                for future in as_completed(futures):
                    done(futures[future], future.result())
    finally:
        if bar is not None:
            bar.close()
    return Results.from_tables(
        scenario,
        seed,
        [s for s, _, _ in results],
        [i for _, i, _ in results],
        [c for _, _, c in results] if contacts else None,
    )
