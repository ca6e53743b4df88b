"""What to automate next: per intent, what +N points of bot containment save at equal service.

For each intent the bot can take more of, the scenario with that intent's containment raised by
`points` (on every channel the bot fronts, capped at 1) is re-planned with the staffing planner
(`cxsim.planning.plan_staffing`), like the scenario itself, so both meet the same service
targets. Each planned pair is then simulated on common random numbers (the same evaluation seed
and replications), which gives the saving in paid hours and cost and the CSAT change.

Intervals are paired. The planner's answer depends on its seed, so the whole comparison is
repeated `plans` times with independent planner seeds (the scenario and every variant planned
with the same seed, so their plans share customers): the saving's 95% interval is the Student t
interval over those `plans` paired differences. CSAT and workload vary by replication too, so
their intervals use every (plan seed, replication) paired difference.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from cxsim.errors import ConfigError
from cxsim.experiment import Results, simulate
from cxsim.planning import plan_staffing
from cxsim.scenario import Scenario

RANKING_FILE = "automation_ranking.csv"
RUNS_FILE = "automation_runs.csv"
FIGURE_FILE = "automation_ranking.png"
INFO_FILE = "automation.json"
PLAN_SEED_STEP = 7_919  # plan k searches with root seed + k x this: independent planner runs
EVAL_SEED_OFFSET = 2_000_029  # the planned pair is judged on fresh seeds, never the search's


@dataclass
class Variant:
    """One planned staffing (the scenario's own, or one intent's) judged on the evaluation seeds."""

    plan_seed: int
    intent: str | None  # None: the scenario as it is
    meets_target: bool
    results: Results


@dataclass
class AutomationRanking:
    """The answer: `.table` one ranked row per intent, `.runs` one row per planned variant;
    `.save(dir)` writes automation_ranking.csv, automation_runs.csv, the figure and a JSON note."""

    scenario: Scenario
    points: float
    table: pd.DataFrame
    runs: pd.DataFrame
    base: Results  # the scenario's own first plan, simulated: its KPI tables (per-intent economics)
    variants: list[Variant]  # every planned variant as evaluated, the scenario's own included
    settings: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    def figure(self):
        """Cost saved and CSAT change per intent, with their paired 95% intervals, bars from zero."""
        from matplotlib.figure import Figure

        t = self.table.iloc[::-1]  # rank 1 on top
        fig = Figure(figsize=(10, 1.2 + 0.55 * len(t)), layout="constrained")
        ax_cost, ax_csat = fig.subplots(1, 2, sharey=True)
        y = np.arange(len(t))
        for ax, col, label, colour in (
            (ax_cost, "cost_saved", "cost saved over the horizon at equal service", "#4e79a7"),
            (ax_csat, "csat_change_pts", "CSAT change (points)", "#59a14f"),
        ):
            err = np.nan_to_num(t[f"{col}_ci95"].to_numpy(dtype=float))
            ax.barh(y, t[col], xerr=err, color=colour, capsize=3)
            ax.axvline(0, color="black", lw=0.8)
            ax.set_xlabel(label)
            ax.grid(axis="x", alpha=0.3)
        ax_cost.set_yticks(y, [f"{r}. {i}" for r, i in zip(t["rank"], t["intent"], strict=True)])
        fig.suptitle(
            f"{self.scenario.name}: +{self.points:g} points of bot containment per intent "
            f"(95% paired intervals over {self.settings['plans']} planner seeds)"
        )
        return fig

    def save(self, out_dir: str | Path) -> dict[str, Path]:
        """Write the ranking, the per-variant runs, the figure and automation.json into `out_dir`."""
        from cxsim.outputs import write_atomic, write_text

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = {
            "ranking": write_atomic(out / RANKING_FILE, lambda p: self.table.to_csv(p, index=False)),
            "runs": write_atomic(out / RUNS_FILE, lambda p: self.runs.to_csv(p, index=False)),
            "info": write_text(
                out / INFO_FILE, json.dumps({"settings": self.settings, "stats": self.stats}, indent=2, default=str)
            ),
        }
        fig = self.figure()
        written["figure"] = write_atomic(out / FIGURE_FILE, lambda p: fig.savefig(p, dpi=110, format="png"))
        return written

    def describe(self) -> str:
        """The ranking as a short text table for the terminal."""
        lines = [
            f"what to automate next in {self.scenario.name}: +{self.points:g} points of bot containment, "
            f"equal service (paired 95% intervals, {self.settings['plans']} planner seeds)",
            f"{'rank':>4}  {'intent':<16}{'paid hours saved':>20}{'cost saved':>22}{'CSAT change (pts)':>22}",
        ]
        for row in self.table.itertuples():
            lines.append(
                f"{row.rank:>4}  {row.intent:<16}{_pm(row.paid_hours_saved, row.paid_hours_saved_ci95, 1):>20}"
                f"{_pm(row.cost_saved, row.cost_saved_ci95, 0):>22}"
                f"{_pm(row.csat_change_pts, row.csat_change_pts_ci95, 2):>22}"
            )
        lines.append(f"{self.stats.get('plans_run', 0)} staffing plans in {self.stats.get('seconds', 0):.0f} s")
        return "\n".join(lines)


def _pm(mean: float, half: float, digits: int) -> str:
    return f"{mean:,.{digits}f}" + ("" if np.isnan(half) else f" ± {half:,.{digits}f}")


def automatable_intents(scn: Scenario) -> list[str]:
    """Intents that arrive on a channel the bot fronts and that the bot does not yet fully contain there."""
    out = []
    for i, name in enumerate(scn.intents):
        if any(
            c.bot_containment is not None and c.intent_mix[i] > 0 and c.bot_containment[i] < 1 for c in scn.channels
        ):
            out.append(name)
    return out


def raise_containment(scn: Scenario, intent: str, points: float) -> Scenario:
    """The scenario with `intent`'s bot containment raised by `points` (percentage points) on every
    channel the bot fronts, capped at 1; everything else (false containment, give-ups) unchanged."""
    i = scn.intents.index(intent)
    channels = []
    for ch in scn.channels:
        if ch.bot_containment is not None:
            rates = ch.bot_containment.copy()
            rates[i] = min(1.0, rates[i] + points / 100.0)
            ch = replace(ch, bot_containment=rates)
        channels.append(ch)
    return replace(scn, channels=tuple(channels), name=f"{scn.name}+{intent}")


def _claimed(scn: Scenario, intent: str) -> float:
    """The intent's bot containment, weighted by its expected volume on each bot channel."""
    i = scn.intents.index(intent)
    weights, rates = [], []
    for ch in scn.channels:
        if ch.bot_containment is not None:
            weights.append(ch.volumes.sum() * ch.intent_mix[i])
            rates.append(ch.bot_containment[i])
    w = np.asarray(weights)
    return float(np.dot(w, rates) / w.sum()) if w.sum() > 0 else float("nan")


def _half_width(diffs: np.ndarray) -> float:
    """95% Student t half-width of the mean of independent paired differences (nan below 2)."""
    diffs = diffs[~np.isnan(diffs)]
    if len(diffs) < 2:
        return float("nan")
    return float(special.stdtrit(len(diffs) - 1, 0.975) * diffs.std(ddof=1) / np.sqrt(len(diffs)))


def _per_rep(res: Results, metric: str, scope: str = "overall", name: str = "all") -> np.ndarray:
    return res.values(metric, scope, name)


def _paid_hours(res: Results) -> np.ndarray:
    """Paid hours of all tiers per replication (fixed by the plan; the window's hours)."""
    return sum(_per_rep(res, "paid_hours", "tier", t.name) for t in res.scenario.tiers)


def _agent_hours(res: Results) -> np.ndarray:
    """Handle + wrap-up hours of all intents per replication."""
    return sum(_per_rep(res, "agent_hours", "intent", i) for i in res.scenario.intents)


MEASURES: dict[str, Callable[[Results], np.ndarray]] = {
    "paid_hours": _paid_hours,
    "cost": lambda r: _per_rep(r, "cost_total"),
    "agent_hours": _agent_hours,
    "contacts_to_agents": lambda r: _per_rep(r, "offered"),
    "csat_pts": lambda r: 100.0 * _per_rep(r, "csat"),
    "resolved_by_bot": lambda r: _per_rep(r, "contained"),
}
SAVINGS = ("paid_hours", "cost", "agent_hours", "contacts_to_agents")  # base minus variant: a saving > 0
LABELS = {
    "paid_hours": "paid_hours_saved",
    "cost": "cost_saved",
    "agent_hours": "agent_hours_saved",
    "contacts_to_agents": "contacts_to_agents_saved",
    "csat_pts": "csat_change_pts",
    "resolved_by_bot": "resolved_by_bot_change",
}
TODAY = {  # summary.csv intent metric -> ranking column: the intent's economics at the scenario's own plan
    "arrivals": "arrivals",
    "offered": "contacts_to_agents",
    "agent_hours": "agent_hours",
    "paid_hours": "paid_hours",
    "cost_total": "cost",
    "csat": "csat",
}


def rank_intents(
    scenario: Scenario,
    points: float = 10.0,
    intents: Sequence[str] | None = None,
    plans: int = 3,
    replications: int = 10,
    evaluation_replications: int | None = None,
    seed: int = 0,
    workers: int = 1,
    log: Callable[[str], None] | None = None,
    **planner: Any,
) -> AutomationRanking:
    """Rank intents by the cost +`points` of bot containment saves at equal service (see module doc).

    `replications` and `planner` go to `plan_staffing` (its settings, e.g. max_occupancy);
    `evaluation_replications` (default 2 x replications) judge each planned pair on fresh seeds.
    """
    say = log or (lambda _msg: None)
    names = list(intents) if intents else automatable_intents(scenario)
    check_request(scenario, points, names, plans)
    n_eval = evaluation_replications or 2 * replications
    started = time.perf_counter()
    variants: list[Variant] = []
    for k in range(plans):
        plan_seed = seed + k * PLAN_SEED_STEP
        eval_seed = seed + EVAL_SEED_OFFSET + k * PLAN_SEED_STEP
        for intent in [None, *names]:
            scn = scenario if intent is None else raise_containment(scenario, intent, points)
            say(f"plan {k + 1}/{plans}: {scn.name} (seed {plan_seed})")
            plan = plan_staffing(scn, replications=replications, seed=plan_seed, workers=workers, log=log, **planner)
            results = simulate(plan.planned, replications=n_eval, seed=eval_seed, workers=workers)
            variants.append(Variant(plan_seed, intent, bool(plan.meets_target), results))
    elapsed = time.perf_counter() - started
    table, runs = _tables(scenario, variants, names, points)
    return AutomationRanking(
        scenario=scenario,
        points=points,
        table=table,
        runs=runs,
        base=variants[0].results,
        variants=variants,
        settings={
            "points": points,
            "intents": names,
            "plans": plans,
            "replications": replications,
            "evaluation_replications": n_eval,
            "seed": seed,
            "plan_seeds": [seed + k * PLAN_SEED_STEP for k in range(plans)],
            "evaluation_seeds": [seed + EVAL_SEED_OFFSET + k * PLAN_SEED_STEP for k in range(plans)],
            "planner": {k: v for k, v in planner.items() if v is not None},
            "intervals": "paired: Student t over the planner seeds' mean differences (hours, cost); "
            "over every (planner seed, replication) difference (CSAT, workload)",
        },
        stats={"plans_run": len(variants), "seconds": round(elapsed, 1)},
    )


def check_request(scenario: Scenario, points: float, intents: Sequence[str], plans: int) -> None:
    """The rules of an automation ranking request (ConfigError names the `automate.*` key)."""
    if not any(c.bot_containment is not None for c in scenario.channels):
        raise ConfigError("bot.channels", "the scenario has no bot: nothing to automate")
    if not 0 < points <= 100:
        raise ConfigError("automate.points", f"must be in (0, 100] percentage points (got {points})")
    if plans < 1:
        raise ConfigError("automate.plans", f"must be >= 1 (got {plans})")
    if not intents:
        raise ConfigError("automate.intents", "no intent on a bot channel is left to automate")
    can = set(automatable_intents(scenario))
    for name in intents:
        if name not in scenario.intents:
            raise ConfigError("automate.intents", f"'{name}' is not an intent ({', '.join(scenario.intents)})")
        if name not in can:
            raise ConfigError("automate.intents", f"'{name}' reaches no bot channel or is fully contained already")


def _tables(
    scenario: Scenario, variants: list[Variant], names: list[str], points: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ranked table (paired differences against the scenario's own plan) and the per-variant runs."""
    base_of = {v.plan_seed: v for v in variants if v.intent is None}
    runs = pd.DataFrame(
        [
            {
                "plan_seed": v.plan_seed,
                "intent": v.intent or "(as is)",
                "meets_target": v.meets_target,
                **{measure: float(np.mean(get(v.results))) for measure, get in MEASURES.items()},
            }
            for v in variants
        ]
    )
    rows = []
    for name in names:
        mine = [v for v in variants if v.intent == name]
        row: dict[str, Any] = {
            "intent": name,
            "containment_from": _claimed(scenario, name),
            "containment_to": _claimed(raise_containment(scenario, name, points), name),
        }
        for metric, col in TODAY.items():  # the intent's economics today, at equal service
            row[col] = float(
                np.mean([r.values(metric, "intent", name).mean() for r in (b.results for b in base_of.values())])
            )
        for measure, get in MEASURES.items():
            sign = 1.0 if measure in SAVINGS else -1.0  # savings: base - variant; changes: variant - base
            per_rep = [sign * (get(base_of[v.plan_seed].results) - get(v.results)) for v in mine]
            per_plan = np.asarray([d.mean() for d in per_rep])
            label = LABELS[measure]
            row[label] = float(per_plan.mean())
            # paid hours and cost are fixed by each plan: their noise is between planner seeds
            row[f"{label}_ci95"] = _half_width(
                per_plan if measure in ("paid_hours", "cost") else np.concatenate(per_rep)
            )
        row["plans_meet_target"] = all(v.meets_target for v in mine) and all(b.meets_target for b in base_of.values())
        rows.append(row)
    table = pd.DataFrame(rows).sort_values(["cost_saved", "csat_change_pts"], ascending=False, kind="stable")
    table = table.reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table, runs


__all__ = ["AutomationRanking", "automatable_intents", "raise_containment", "rank_intents"]
