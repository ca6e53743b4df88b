"""What the planner returns: the plan, the analytic plans beside it, the fresh-seed check, the figure."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cxsim.experiment import Results
from cxsim.planning import risk_judge
from cxsim.planning.load import productive_share
from cxsim.scenario import Scenario

if TYPE_CHECKING:
    from cxsim.planning.evaluate import Evaluation
    from cxsim.planning.search import Judgement, Search

PLAN_FILE = "staffing_plan.csv"
COMPARISON_FILE = "staffing_comparison.csv"
CHECK_FILE = "staffing_check.csv"
FIGURE_FILE = "staffing_comparison.png"
ANALYTIC_FILE = "staffing_analytic.csv"
SEARCH_FILE = "staffing_search.json"
PLAN_LABELS = {"erlang_c": "Erlang C", "erlang_a": "Erlang A", "simulated": "simulated", "simulated_mean": "mean-based"}


def plan_frame(scn: Scenario, heads: np.ndarray) -> pd.DataFrame:
    """A staffing table, long form: interval_start (s), tier, heads (scheduled), agents (productive
    on average: heads x (1 - absence) x (1 - shrinkage)), cost (heads x agent-hour cost x interval length)."""
    h = scn.horizon
    rows = []
    for k, tier in enumerate(scn.tiers):
        tier_heads = np.asarray(heads[k], dtype=np.int64)
        rows.append(
            pd.DataFrame(
                {
                    "interval_start": np.arange(h.n_intervals) * h.interval_s,
                    "tier": tier.name,
                    "agents": tier_heads * productive_share(tier),
                    "heads": tier_heads,
                    "cost": tier_heads * tier.agent_hour_cost * h.interval_s / 3600.0,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def clock(scn: Scenario) -> tuple[np.ndarray, list[str]]:
    """Day of the horizon (1, 2 ...) and clock time (HH:MM) of each interval's start."""
    start = np.arange(scn.horizon.n_intervals) * scn.horizon.interval_s
    day = (start // 86400).astype(np.int64) + 1
    minutes = ((start % 86400) // 60).astype(np.int64)
    return day, [f"{m // 60:02d}:{m % 60:02d}" for m in minutes]


def wide_plan(scn: Scenario, heads: np.ndarray) -> pd.DataFrame:
    """The plan as a scheduler reads it: one row per interval (day, time), per tier the heads to
    schedule (column named like the tier, so the file reads back as a staff file), the productive
    agents they give on average, the scenario's current roster and the gap (plan - roster)."""
    day, time_of_day = clock(scn)
    table = pd.DataFrame({"day": day, "time": time_of_day})
    for k, tier in enumerate(scn.tiers):
        table[tier.name] = np.asarray(heads[k], dtype=np.int64)
    for k, tier in enumerate(scn.tiers):
        roster = np.rint(tier.staff).astype(np.int64)
        table[f"{tier.name}_agents"] = np.round(np.asarray(heads[k]) * productive_share(tier), 2)
        table[f"{tier.name}_roster"] = roster
        table[f"{tier.name}_gap"] = table[tier.name] - roster
    return table


def fte(scn: Scenario, heads: np.ndarray, hours_per_week: float) -> np.ndarray:
    """Full-time equivalents per tier: paid hours per week (the horizon's, scaled to 7 days) / `hours_per_week`."""
    h = scn.horizon
    paid_hours = np.asarray(heads, dtype=float).sum(1) * h.interval_s / 3600.0
    return paid_hours * 7.0 * 86400.0 / (h.n_intervals * h.interval_s) / hours_per_week


def _check_frame(search: Search, ev: Evaluation, j: Judgement) -> pd.DataFrame:
    """Per queue and interval on the fresh seeds: offered, SL (±95%), target, abandonment, occupancy;
    `judged`: outside the warm-up and with enough contacts; `close_call`: below target but within the
    noise; `ok`: not judged, or no clear miss (SL + z x standard error reaches the target). With
    `confidence_of_meeting`, `days_met` is the share of replications meeting the target, and it is
    what `close_call` and `ok` hold to the required share."""

    scn, h = search.scn, search.scn.horizon
    est, sl_se = ev.service_level()
    rule = search.sl_terms(ev, search.cell_targets)  # the mean SL, or the share of days meeting the target
    value, se, limit = rule.estimate, rule.se, np.broadcast_to(rule.limit, est.shape)
    ab, _ = ev.abandon_rate()
    occ, _ = ev.occupancy()
    offered = ev.offered()
    judged = (ev.counted() >= search.s.min_contacts) & ~search.frozen[None, :]
    z = np.where(search.suspects[search.cell_tier], search.z(ev), search.z(ev, family=True))  # (cells, intervals)
    frames = []
    for i, st in enumerate(search.stages):
        frames.append(
            pd.DataFrame(
                {
                    "interval_start": np.arange(h.n_intervals) * h.interval_s,
                    "tier": scn.tiers[st.tier].name,
                    "channel": scn.channels[st.channel].name,
                    "stage": st.stage,
                    "offered": offered[i],
                    "service_level": est[i],
                    "sl_ci95": 1.96 * sl_se[i],
                    "target": search.cell_targets[i],
                    "abandon_rate": ab[i],
                    "occupancy": occ[st.tier],
                    "judged": judged[i],
                    "close_call": judged[i]
                    & (np.nan_to_num(value[i], nan=1.0) < limit[i] - 1e-12)
                    & (np.nan_to_num(value[i] + z[i] * se[i], nan=1.0) >= limit[i] - 1e-12),
                    "ok": ~judged[i] | (np.nan_to_num(value[i] + z[i] * se[i], nan=1.0) >= limit[i] - 1e-12),
                    "day_ok": not j.day_fail[i],
                }
            )
        )
        if search.s.confidence_of_meeting is not None:
            frames[-1].insert(frames[-1].columns.get_loc("target") + 1, "days_met", value[i])
    return pd.concat(frames, ignore_index=True)


def days_met(search: Search, ev: Evaluation) -> tuple[np.ndarray, np.ndarray]:
    """Per queue, the share of replication-days meeting its target over the day, and the lowest
    share of days any judged interval meets it on (nan when none is judged)."""
    ev.live = ~search.frozen
    num, den = (x[..., 0] for x in ev.sl_counts(day=True))
    day, _ = risk_judge.share_of_days(num, den, search.day_target(ev))
    share, _ = risk_judge.share_of_days(*ev.sl_counts(), search.cell_targets)
    judged = (ev.counted() >= search.s.min_contacts) & ~search.frozen[None, :]
    worst = np.where(judged.any(1), np.where(judged, share, np.inf).min(1), np.nan)
    return day, worst


def _summary_row(search: Search, name: str, heads: np.ndarray, ev: Evaluation | None, j: Judgement | None) -> dict:
    scn, h = search.scn, search.scn.horizon
    hours = h.interval_s / 3600.0
    tier_fte = fte(scn, heads, search.s.fte_hours_per_week)
    row: dict[str, Any] = {
        "plan": name,
        "agent_hours": float((heads * search.keep[:, None]).sum() * hours),
        "paid_hours": float(heads.sum() * hours),
        "fte": float(tier_fte.sum()),
        "cost": float((heads * search.cost_per_head[:, None]).sum()),
    }
    for k, tier in enumerate(scn.tiers):
        row[f"paid_hours_{tier.name}"] = float(heads[k].sum() * hours)
        row[f"fte_{tier.name}"] = float(tier_fte[k])
        row[f"cost_{tier.name}"] = float(heads[k].sum() * search.cost_per_head[k])
    if ev is not None and j is not None:
        row["intervals_missing"] = int(j.fail.sum())
        row["meets_every_target"] = bool(j.feasible)
        d_est, _ = ev.service_level(day=True)
        est, _ = ev.service_level()
        met = days_met(search, ev) if search.s.confidence_of_meeting is not None else None
        for i, st in enumerate(search.stages):
            if st.stage == 0:
                name_c = scn.channels[st.channel].name
                row[f"sl_{name_c}"] = float(d_est[i, 0])
                live = ~search.frozen & ~np.isnan(est[i])
                row[f"min_sl_{name_c}"] = float(est[i][live].min()) if live.any() else float("nan")
                if met is not None:
                    row[f"days_met_{name_c}"] = float(met[0][i])
                    row[f"worst_interval_days_met_{name_c}"] = float(met[1][i])
    return row


@dataclass
class StaffingPlan:
    """The planner's answer. `.plan` is the staffing table; `.kpis` the plan re-simulated on fresh
    seeds; `.erlang_c` / `.erlang_a` the analytic plans; `.simulated_mean` the mean-based plan beside
    a risk-based one (`confidence_of_meeting` with `compare`); `.comparison` one row per plan (cost,
    SL, days met); `.check` per queue and interval on the fresh seeds; `.save(dir)` writes files and
    the figure."""

    scenario: Scenario
    planned: Scenario  # the scenario with the plan's staffing: simulate it, or save its YAML
    plan: pd.DataFrame
    erlang_c: pd.DataFrame
    erlang_a: pd.DataFrame
    kpis: Results
    check: pd.DataFrame
    comparison: pd.DataFrame
    history: pd.DataFrame
    meets_target: bool
    settings: dict[str, Any]
    stats: dict[str, Any] = field(default_factory=dict)
    simulated_mean: pd.DataFrame | None = None

    @classmethod
    def build(
        cls,
        scenario: Scenario,
        planned: Scenario,
        search: Search,
        plans: dict[str, np.ndarray],
        check: tuple[Evaluation, Judgement],
        compared: dict[str, tuple[Evaluation, Judgement]],
        stats: dict[str, Any],
    ) -> StaffingPlan:
        ev, j = check
        rows = [_summary_row(search, "simulated", plans["simulated"], ev, j)]
        for name in (n for n in ("erlang_a", "erlang_c", "simulated_mean") if n in plans):
            other = compared.get(name, (None, None))
            rows.append(_summary_row(search, name, plans[name], *other))
        assert ev.results is not None
        return cls(
            scenario=scenario,
            planned=planned,
            plan=plan_frame(scenario, plans["simulated"]),
            erlang_c=plan_frame(scenario, plans["erlang_c"]),
            erlang_a=plan_frame(scenario, plans["erlang_a"]),
            kpis=ev.results,
            check=_check_frame(search, ev, j),
            comparison=pd.DataFrame(rows),
            history=pd.DataFrame(search.history),
            meets_target=bool(j.feasible),
            settings={k: v for k, v in vars(search.s).items()},
            stats=stats,
            simulated_mean=plan_frame(scenario, plans["simulated_mean"]) if "simulated_mean" in plans else None,
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The plans this answer holds: simulated, erlang_a, erlang_c (and simulated_mean)."""
        return ("simulated", "erlang_a", "erlang_c") + (("simulated_mean",) if self.simulated_mean is not None else ())

    def label(self, which: str) -> str:
        """A plan's name for people: the risk-based plan says its share of days."""
        share = self.settings.get("confidence_of_meeting")
        if which == "simulated" and share is not None:
            return f"simulated, {share:.0%} of days"
        return PLAN_LABELS[which]

    def days_met(self, which: str) -> float:
        """The share of check days a plan meets its targets on, for the rule planned to: the worst
        channel's day (target=day) or its worst judged interval (target=interval); nan without
        `confidence_of_meeting` or when the plan was not simulated."""
        prefix = "days_met_" if self.settings.get("target") == "day" else "worst_interval_days_met_"
        row = self.comparison.set_index("plan").loc[which]
        values = [row[c] for c in self.comparison.columns if c.startswith(prefix)]
        return float(np.nanmin(values)) if values and not np.isnan(values).all() else float("nan")

    def _table(self, which: str) -> pd.DataFrame:
        tables = {"simulated": self.plan, "erlang_a": self.erlang_a, "erlang_c": self.erlang_c}
        if self.simulated_mean is not None:
            tables["simulated_mean"] = self.simulated_mean
        return tables[which]

    def agents(self, which: str = "simulated") -> pd.DataFrame:
        """Productive agents (on average) per interval (rows) and tier (columns) of one plan:
        simulated, erlang_a, erlang_c (or simulated_mean, when planned)."""
        return self._table(which).pivot(index="interval_start", columns="tier", values="agents")[
            [t.name for t in self.scenario.tiers]
        ]

    def heads(self, which: str = "simulated") -> pd.DataFrame:
        """Scheduled heads per interval (rows) and tier (columns) of one plan."""
        return self._table(which).pivot(index="interval_start", columns="tier", values="heads")[
            [t.name for t in self.scenario.tiers]
        ]

    def cost(self, which: str = "simulated") -> float:
        """Total paid cost of one plan over the horizon."""
        return float(self._table(which)["cost"].sum())

    def wide(self) -> pd.DataFrame:
        """staffing_plan.csv: per interval (day, time) and tier the heads to schedule (readable back
        as a staff file), the productive agents they give, the current roster and the gap."""
        return wide_plan(self.scenario, self.heads().to_numpy().T)

    def figure(self):
        """Erlang C vs Erlang A vs simulated heads per interval and tier (and the mean-based plan beside
        a risk-based one), each with its cost, paid hours, misses and days met on the check's seeds,
        and the simulated plan's entry-queue SL (and share of days meeting the target) per channel."""
        from matplotlib.figure import Figure
        from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

        scn = self.scenario
        tiers = [t.name for t in scn.tiers]
        fig = Figure(figsize=(11, 2.6 * (len(tiers) + 1)), layout="constrained")
        axes = fig.subplots(len(tiers) + 1, 1, sharex=True, squeeze=False)[:, 0]
        hours = scn.horizon.interval_s / 3600.0
        styles = {
            "erlang_c": {"color": "#d62728", "linestyle": "--"},
            "erlang_a": {"color": "#ff7f0e", "linestyle": ":"},
            "simulated": {"color": "#1f77b4", "linestyle": "-", "linewidth": 2.0},
            "simulated_mean": {"color": "#2ca02c", "linestyle": "-.", "linewidth": 1.5},
        }
        summary = self.comparison.set_index("plan")
        share = self.settings.get("confidence_of_meeting")
        legend_title = "plan: cost, paid hours; misses on fresh seeds"
        if share is not None:
            worst = "worst channel's day" if self.settings.get("target") == "day" else "worst interval"
            legend_title += f", days met ({worst})"
        for ax, tier in zip(axes, tiers, strict=False):
            for name in (n for n in ("erlang_c", "erlang_a", "simulated_mean", "simulated") if n in self.names):
                rows = self._table(name)
                rows = rows[rows.tier == tier]
                x = rows["interval_start"].to_numpy() / 3600.0
                y = rows["heads"].to_numpy()
                misses = summary.loc[name].get("intervals_missing", float("nan"))
                verdict = "not checked" if misses != misses else f"{int(misses)} misses"
                met = self.days_met(name)
                ax.step(
                    np.r_[x, x[-1] + hours],
                    np.r_[y, y[-1]],
                    where="post",
                    label=f"{self.label(name)}: {rows['cost'].sum():,.0f}, "
                    f"{rows['heads'].sum() * hours:,.0f} paid h; plan: {verdict}"
                    + ("" if met != met else f", {met:.0%} of days"),
                    **styles[name],
                )
            ax.set_ylabel(f"{tier}\nscheduled heads")
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylim(bottom=0)
            ax.legend(loc="upper left", fontsize=8, title=legend_title, title_fontsize=8)
            ax.grid(alpha=0.3)
        ax = axes[-1]
        entry = self.check[(self.check.stage == 0) & self.check.judged]
        for name, rows in entry.groupby("channel", sort=False):
            x = rows["interval_start"].to_numpy() / 3600.0 + hours / 2
            line = ax.plot(x, rows["service_level"], marker=".", label=f"{name} SL")[0]
            ax.step(
                np.r_[x - hours / 2, x[-1] + hours / 2],
                np.r_[rows["target"], rows["target"].iloc[-1]],
                where="post",
                color=line.get_color(),
                linestyle=":",
                linewidth=1,
            )
            if share is not None and self.settings.get("target") == "interval":
                ax.plot(
                    x, rows["days_met"], marker="x", linestyle="--", color=line.get_color(), label=f"{name} days met"
                )
        if share is not None and self.settings.get("target") == "interval":
            ax.axhline(share, color="grey", linewidth=1, linestyle="--", label=f"required share of days {share:.0%}")
        ax.set_ylabel("service level\n(simulated plan)")
        days = scn.horizon.n_intervals * hours / 24.0
        ax.xaxis.set_major_locator(MultipleLocator(2 if days <= 1 else 12 if days <= 3 else 24))
        ax.xaxis.set_major_formatter(
            FuncFormatter(
                lambda v, _pos: f"{int(v % 24):02d}:00" if days <= 1 else f"day {int(v // 24) + 1} {int(v % 24):02d}:00"
            )
        )
        ax.set_xlabel("clock time" if days <= 1 else "day and clock time of the horizon")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8, ncol=3)
        versus = "simulated plan vs Erlang C and Erlang A"
        if share is not None:
            versus = f"plan meeting every target on {share:.0%} of days vs " + (
                "the mean-based plan, Erlang C and Erlang A"
                if "simulated_mean" in self.names
                else "Erlang C and Erlang A"
            )
        fig.suptitle(
            f"{scn.name}: scheduled heads per interval ({versus})"
            + ("" if self.meets_target else " — the simulated plan misses a target on fresh seeds")
        )
        return fig

    def save(self, out_dir: str | Path) -> dict[str, Path]:
        """Write staffing_plan.csv, the comparison figure and tables into `out_dir`."""
        from cxsim.outputs import write_atomic, write_text

        out = Path(out_dir)
        analytic = pd.concat(
            [self.erlang_c.assign(plan="erlang_c"), self.erlang_a.assign(plan="erlang_a")], ignore_index=True
        )
        written = {
            "plan": write_atomic(out / PLAN_FILE, lambda p: self.wide().to_csv(p, index=False)),
            "analytic": write_atomic(out / ANALYTIC_FILE, lambda p: analytic.to_csv(p, index=False)),
            "comparison": write_atomic(out / COMPARISON_FILE, lambda p: self.comparison.to_csv(p, index=False)),
            "check": write_atomic(out / CHECK_FILE, lambda p: self.check.to_csv(p, index=False)),
        }
        fig = self.figure()
        written["figure"] = write_atomic(out / FIGURE_FILE, lambda p: fig.savefig(p, format="png", dpi=110))
        digest = {
            "scenario": self.scenario.name,
            "meets_target": self.meets_target,
            "settings": self.settings,
            "stats": self.stats,
            "history": self.history.to_dict(orient="records"),
        }
        written["search"] = write_text(out / SEARCH_FILE, json.dumps(digest, indent=2, default=str))
        return written

    def describe(self) -> str:
        """A few lines for the terminal: cost of each plan and whether the plan meets its targets."""
        c = self.comparison.set_index("plan")
        hours_per_week = self.settings.get("fte_hours_per_week", 37.5)
        risk = self.settings.get("confidence_of_meeting") is not None
        width = max(10, *(len(self.label(n)) + 2 for n in self.names))
        lines = [
            f"{'plan':<{width}}{'paid h':>10}{f'FTE@{hours_per_week:g}h':>10}{'cost':>12}{'misses':>8}"
            + (f"{'days met':>10}" if risk else "")
        ]
        for name in self.names:
            row = c.loc[name]
            misses = row.get("intervals_missing", float("nan"))
            met = self.days_met(name)
            lines.append(
                f"{self.label(name):<{width}}{row['paid_hours']:>10,.0f}{row['fte']:>10,.1f}{row['cost']:>12,.0f}"
                f"{'-' if misses != misses else int(misses):>8}"
                + ((f"{met:>10.0%}" if met == met else f"{'-':>10}") if risk else "")
            )
        s = self.stats
        lines.append(
            f"search: {s.get('search_simulations')} simulations, {s.get('replications')}-"
            f"{s.get('max_replications')} replications each, "
            f"check on fresh seeds ({s.get('check_replications')} replications, {s.get('repairs')} repairs): "
            + ("every target met" if self.meets_target else "SOME TARGETS MISSED")
            + f"; {s.get('seconds')} s"
        )
        return "\n".join(lines)
