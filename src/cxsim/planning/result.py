"""What the planner returns: the plan, the analytic plans beside it, the fresh-seed check, the figure."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cxsim.experiment import Results
from cxsim.planning.load import heads_for
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
PLAN_LABELS = {"erlang_c": "Erlang C", "erlang_a": "Erlang A", "simulated": "simulated"}


def plan_frame(scn: Scenario, agents: np.ndarray) -> pd.DataFrame:
    """A staffing table: interval_start (s), tier, agents (productive), heads (scheduled), cost."""
    h = scn.horizon
    rows = []
    for k, tier in enumerate(scn.tiers):
        heads = heads_for(agents[k], tier.shrinkage)
        rows.append(
            pd.DataFrame(
                {
                    "interval_start": np.arange(h.n_intervals) * h.interval_s,
                    "tier": tier.name,
                    "agents": np.asarray(agents[k], dtype=np.int64),
                    "heads": heads.astype(np.int64),
                    "cost": heads * tier.agent_hour_cost * h.interval_s / 3600.0,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def _check_frame(search: Search, ev: Evaluation, j: Judgement) -> pd.DataFrame:
    """Per queue and interval on the fresh seeds: offered, SL (±95%), target, abandonment, occupancy;
    `judged`: outside the warm-up and with enough contacts; `ok`: not judged, or SL >= target."""
    scn, h = search.scn, search.scn.horizon
    est, se = ev.service_level()
    ab, _ = ev.abandon_rate()
    occ, _ = ev.occupancy()
    offered = ev.offered()
    judged = (ev.counted() >= search.s.min_contacts) & ~search.frozen[None, :]
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
                    "sl_ci95": 1.96 * se[i],
                    "target": search.cell_targets[i],
                    "abandon_rate": ab[i],
                    "occupancy": occ[st.tier],
                    "judged": judged[i],
                    "ok": ~judged[i] | (np.nan_to_num(est[i], nan=1.0) >= search.cell_targets[i] - 1e-12),
                    "day_ok": not j.day_fail[i],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _summary_row(search: Search, name: str, agents: np.ndarray, ev: Evaluation | None, j: Judgement | None) -> dict:
    scn, h = search.scn, search.scn.horizon
    hours = h.interval_s / 3600.0
    heads = np.stack([heads_for(agents[k], t.shrinkage) for k, t in enumerate(scn.tiers)])
    row: dict[str, Any] = {
        "plan": name,
        "agent_hours": float(agents.sum() * hours),
        "paid_hours": float(heads.sum() * hours),
        "cost": float((heads * search.cost_per_head[:, None]).sum()),
    }
    for k, tier in enumerate(scn.tiers):
        row[f"cost_{tier.name}"] = float(heads[k].sum() * search.cost_per_head[k])
    if ev is not None and j is not None:
        row["intervals_missing"] = int(j.fail.sum())
        row["meets_every_target"] = bool(j.feasible)
        d_est, _ = ev.service_level(day=True)
        est, _ = ev.service_level()
        for i, st in enumerate(search.stages):
            if st.stage == 0:
                name_c = scn.channels[st.channel].name
                row[f"sl_{name_c}"] = float(d_est[i, 0])
                live = ~search.frozen & ~np.isnan(est[i])
                row[f"min_sl_{name_c}"] = float(est[i][live].min()) if live.any() else float("nan")
    return row


@dataclass
class StaffingPlan:
    """The planner's answer. `.plan` is the staffing table; `.kpis` the plan re-simulated on fresh
    seeds; `.erlang_c` / `.erlang_a` the analytic plans; `.comparison` one row per plan (cost, SL);
    `.check` per queue and interval on the fresh seeds; `.save(dir)` writes files and the figure."""

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
        for name in ("erlang_a", "erlang_c"):
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
        )

    def agents(self, which: str = "simulated") -> pd.DataFrame:
        """Agents per interval (rows) and tier (columns) of one plan: simulated, erlang_a, erlang_c."""
        table = {"simulated": self.plan, "erlang_a": self.erlang_a, "erlang_c": self.erlang_c}[which]
        return table.pivot(index="interval_start", columns="tier", values="agents")[
            [t.name for t in self.scenario.tiers]
        ]

    def cost(self, which: str = "simulated") -> float:
        """Total paid cost of one plan over the horizon."""
        table = {"simulated": self.plan, "erlang_a": self.erlang_a, "erlang_c": self.erlang_c}[which]
        return float(table["cost"].sum())

    def figure(self):
        """Erlang C vs Erlang A vs simulated agents per interval and tier, each with its cost, and the
        simulated plan's entry-queue service level per channel on the fresh seeds."""
        from matplotlib.figure import Figure

        scn = self.scenario
        tiers = [t.name for t in scn.tiers]
        fig = Figure(figsize=(11, 2.6 * (len(tiers) + 1)), layout="constrained")
        axes = fig.subplots(len(tiers) + 1, 1, sharex=True, squeeze=False)[:, 0]
        hours = scn.horizon.interval_s / 3600.0
        styles = {
            "erlang_c": {"color": "#d62728", "linestyle": "--"},
            "erlang_a": {"color": "#ff7f0e", "linestyle": ":"},
            "simulated": {"color": "#1f77b4", "linestyle": "-", "linewidth": 2.0},
        }
        tables = {"erlang_c": self.erlang_c, "erlang_a": self.erlang_a, "simulated": self.plan}
        for ax, tier in zip(axes, tiers, strict=False):
            for name, table in tables.items():
                rows = table[table.tier == tier]
                x = rows["interval_start"].to_numpy() / 3600.0
                y = rows["agents"].to_numpy()
                ax.step(
                    np.r_[x, x[-1] + hours],
                    np.r_[y, y[-1]],
                    where="post",
                    label=f"{PLAN_LABELS[name]}: {rows['cost'].sum():,.0f} ({rows['heads'].sum() * hours:,.0f} paid h)",
                    **styles[name],
                )
            ax.set_ylabel(f"{tier}\nagents")
            ax.legend(loc="upper left", fontsize=8, title="plan: cost over the horizon", title_fontsize=8)
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
        ax.set_ylabel("service level\n(simulated plan)")
        ax.set_xlabel("hour of the horizon")
        ax.set_ylim(max(0.0, min(0.5, float(entry["service_level"].min()) - 0.05)) if len(entry) else 0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8, ncol=3)
        total = self.comparison.set_index("plan")["cost"]
        fig.suptitle(
            f"{scn.name}: staffing per interval — Erlang C {total['erlang_c']:,.0f}, "
            f"Erlang A {total['erlang_a']:,.0f}, simulated {total['simulated']:,.0f}"
            + ("" if self.meets_target else "  (simulated plan misses a target on fresh seeds)")
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
            "plan": write_atomic(out / PLAN_FILE, lambda p: self.plan.to_csv(p, index=False)),
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
        lines = [f"{'plan':<10}{'paid h':>10}{'cost':>12}{'misses':>8}"]
        for name in ("simulated", "erlang_a", "erlang_c"):
            row = c.loc[name]
            misses = row.get("intervals_missing", float("nan"))
            lines.append(
                f"{PLAN_LABELS[name]:<10}{row['paid_hours']:>10,.0f}{row['cost']:>12,.0f}"
                f"{'-' if misses != misses else int(misses):>8}"
            )
        s = self.stats
        lines.append(
            f"search: {s.get('search_simulations')} simulations x {s.get('replications')} replications, "
            f"check on fresh seeds ({s.get('check_replications')} replications, {s.get('repairs')} repairs): "
            + ("every target met" if self.meets_target else "SOME TARGETS MISSED")
            + f"; {s.get('seconds')} s"
        )
        return "\n".join(lines)
