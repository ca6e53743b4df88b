"""The report's tables: the headline KPIs and the equal-service economics, each non-baseline cell
with its difference to the baseline and that difference's 95% interval (report/stats.py).

★ marks the best value of a row only among scenarios that meet every SLA target, and only when
it beats each of the others beyond noise (the interval of the difference excludes zero).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cxsim.report.data import Run
from cxsim.report.formats import duration_unit, fmt, fmt_ci, fmt_diff, fmt_duration
from cxsim.report.stats import Difference, between, common_random_numbers


@dataclass
class Cell:
    text: str
    ci: str
    best: bool = False
    status: str = ""  # "ok" / "miss" against a target
    delta: str = ""  # difference to the baseline with its 95% interval
    tone: str = ""  # "good" / "bad" / "" (within noise, or no better direction)


@dataclass
class Row:
    group: str
    label: str
    note: str
    cells: list[Cell]


@dataclass
class Spec:
    group: str
    label: str
    metric: str
    scope: str = "overall"
    name: str = "all"
    kind: str = "pct"
    better: str | None = None  # "high", "low" or None (no best marked)
    note: str = ""
    target: float | None = None
    per_fte: bool = False  # paid hours shown as full-time equivalents (costs.fte_hours_per_day)


def meets_every_target(run: Run) -> bool:
    """Every channel's SL meets its target (and a planned job's plan met every target on fresh seeds)."""
    return not sla_verdict(run)[1] and bool((run.search or {}).get("meets_target", True))


def sla_verdict(run: Run) -> tuple[list[str], list[str]]:
    """Channels meeting and missing their SL target."""
    met, missed = [], []
    for ch in run.channels:
        sl = run.mean("service_level", "channel", ch)
        if not math.isfinite(sl):
            continue
        target = float(run.sla(ch).get("target", 0.8))
        (met if sl >= target else missed).append(f"{ch} ({sl:.0%} vs {target:.0%})" if sl < target else ch)
    return met, missed


def _scale(run: Run, spec: Spec) -> float:
    return 1.0 / run.fte_hours if spec.per_fte and run.fte_hours > 0 else 1.0


def value(run: Run, spec: Spec) -> tuple[float, float]:
    """(mean, ci95) of a row's KPI for one run."""
    mean, ci = run.kpi(spec.metric, spec.scope, spec.name)
    k = _scale(run, spec)
    return mean * k, ci * k


def difference(a: Run, b: Run, spec: Spec) -> Difference:
    """b − a for a row's KPI, paired when the runs share customers."""
    return between(a, b, spec.metric, spec.scope, spec.name, (_scale(a, spec), _scale(b, spec)))


def tone(d: Difference, better: str | None) -> str:
    if better is None or not math.isfinite(d.delta) or d.within_noise or d.delta == 0:
        return ""
    return "good" if (d.delta > 0) == (better == "high") else "bad"


def starred(runs: Sequence[Run], spec: Spec, means: np.ndarray) -> int | None:
    """The run that is best in a row: among those meeting every target, better than each other beyond noise."""
    if spec.better is None:
        return None
    eligible = [i for i, r in enumerate(runs) if math.isfinite(means[i]) and meets_every_target(r)]
    if len(eligible) < 2:
        return None
    pick = max if spec.better == "high" else min
    best = pick(eligible, key=lambda i: means[i])
    for i in eligible:
        if i != best and difference(runs[i], runs[best], spec).within_noise:
            return None
    return best


def rows(runs: Sequence[Run], baseline: int, specs: Sequence[Spec]) -> list[Row]:
    """Formatted rows: each value ± its CI, the difference to the baseline ± its CI, ★ on a clear best."""
    base = runs[baseline]
    out = []
    for spec in specs:
        values = [value(r, spec) for r in runs]
        means = np.asarray([m for m, _ in values], dtype=float)
        if not np.isfinite(means).any():
            continue
        unit = duration_unit(float(np.nanmax(np.abs(means)))) if spec.kind == "duration" else None
        best = starred(runs, spec, means)
        cells = []
        for i, (m, ci) in enumerate(values):
            status = ""
            if spec.target is not None and math.isfinite(m):
                status = "ok" if m >= spec.target - 1e-12 else "miss"
            cell = Cell(fmt(m, spec.kind, unit), fmt_ci(ci, spec.kind, unit), i == best, status)
            if i != baseline and math.isfinite(m):
                d = difference(base, runs[i], spec)
                cell.delta = "Δ " + fmt_diff(d, spec.kind, unit)
                cell.tone = tone(d, spec.better)
            cells.append(cell)
        out.append(Row(spec.group, spec.label, spec.note, cells))
    return out


def _cur(currency: str) -> str:
    return f" ({currency})" if currency else ""


def economics_specs(runs: Sequence[Run], group: str = "Cost") -> list[Spec]:
    """Paid hours, FTE and cost per tier, bot cost, total and per resolved issue (with the currency)."""
    tiers = list(dict.fromkeys(t for r in runs for t in r.tiers))
    cur = _cur(runs[0].currency)
    specs: list[Spec] = []
    for t in tiers:
        specs += [
            Spec(group, f"Paid hours — {t}", "paid_hours", "tier", t, "hours", "low", "scheduled heads × hours"),
            Spec(group, f"FTE — {t}", "paid_hours", "tier", t, "fte", "low",
                 f"paid hours / {runs[0].fte_hours_per_day:g} h a day", per_fte=True),
            Spec(group, f"Agent cost — {t}{cur}", "cost_total", "tier", t, "money0", "low"),
        ]  # fmt: skip
    specs += [
        Spec(group, f"Bot cost{cur}", "cost_bot", kind="money0", better="low", note="bot conversations × price"),
        Spec(group, f"Total cost{cur}", "cost_total", kind="money0", better="low", note="paid agent hours + bot"),
        Spec(group, f"Cost per resolved issue{cur}", "cost_per_resolved", kind="money", better="low",
             note="total cost / issues resolved (abandoners' repeat contacts do not dilute it)"),
        Spec(group, f"Cost per contact{cur}", "cost_per_contact", kind="money", better="low",
             note="all arriving contacts, bot-contained and repeat contacts included"),
    ]  # fmt: skip
    return specs


def headline_specs(runs: Sequence[Run], baseline: int) -> list[Spec]:
    """The rows of the headline table for the channels and tiers these runs have."""
    base = runs[baseline]
    channels = list(dict.fromkeys(ch for r in runs for ch in r.channels))
    tiers = list(dict.fromkeys(t for r in runs for t in r.tiers))
    specs: list[Spec] = []
    for ch in channels:
        sla = base.sla(ch)
        target = float(sla.get("target", 0.8))
        within = fmt_duration(float(sla.get("answer_within_s", 20)))
        formula = sla.get("formula", "offered")
        specs.append(
            Spec("Service", f"Service level — {ch}", "service_level", "channel", ch, "pct", "high",
                 f"target {target:.0%} within {within} ({formula})", target)
        )  # fmt: skip
    for ch in channels:
        specs.append(
            Spec("Service", f"Days meeting the target — {ch}", "p_meet_sla", "channel", ch, "pct", "high",
                 "share of replication-days at or above the SL target (± covers the Wilson 95% interval)")
        )  # fmt: skip
    for ch in channels:
        realtime = base.sla(ch).get("mode", "realtime") == "realtime"
        specs.append(
            Spec("Service", f"{'ASA' if realtime else 'Mean time to answer'} — {ch}", "asa_s", "channel", ch,
                 "duration", "low")
        )  # fmt: skip
    for ch in channels:
        if base.sla(ch).get("mode", "realtime") == "realtime":
            specs.append(Spec("Service", f"Abandonment — {ch}", "abandon_rate", "channel", ch, "pct", "low"))
        else:
            specs.append(
                Spec("Service", f"Backlog at horizon end — {ch}", "backlog_end", "channel", ch, "count", "low",
                     "contacts still waiting")
            )  # fmt: skip
    specs += [
        Spec("Resolution", "First-contact resolution", "fcr", kind="pct", better="high"),
        Spec("Resolution", "Resolution time, mean", "resolution_time_mean_s", kind="duration", better="low",
             note="first arrival → resolved, across escalations and recontacts"),
        Spec("Resolution", "Resolution time, p90", "resolution_time_p90_s", kind="duration", better="low"),
    ]  # fmt: skip
    if any(np.nan_to_num(r.mean("bot_entered")) > 0 or np.nan_to_num(r.mean("contained")) > 0 for r in runs):
        specs.append(Spec("Resolution", "Bot containment", "containment_rate", kind="pct", better="high",
                          note="resolved by the bot / bot conversations"))  # fmt: skip
    specs.append(Spec("Customers", "Projected CSAT", "csat", kind="pct", better="high",
                      note="share satisfied, projected (docs/satisfaction.md)"))  # fmt: skip
    if any(np.isfinite(r.mean("nps")) for r in runs):
        specs.append(Spec("Customers", "Projected NPS", "nps", kind="points", better="high", note="points, −100…100"))
    for t in tiers:
        specs.append(Spec("Agents", f"Occupancy — {t}", "occupancy", "tier", t, "pct", None,
                          "busy / staffed time; very high occupancy burns agents out"))  # fmt: skip
    return specs + economics_specs(runs)


def headline_rows(runs: Sequence[Run], baseline: int) -> list[Row]:
    """The headline table: service, resolution, customers, agents, hours and cost."""
    return rows(runs, baseline, headline_specs(runs, baseline))


def equal_service_rows(runs: Sequence[Run], baseline: int) -> list[Row]:
    """The equal-service table of planned jobs: what each plan pays per tier, the bot, per resolved
    issue, and the projected CSAT it buys."""
    specs = [
        *economics_specs(runs, "Hours and cost"),
        Spec("Customers", "Projected CSAT", "csat", kind="pct", better="high"),
    ]
    return rows(runs, baseline, specs)


def methods(runs: Sequence[Run], baseline: int) -> tuple[list[str], list[str]]:
    """Labels of the runs compared to the baseline with paired differences, and with independent ones."""
    base = runs[baseline]
    others = [r for i, r in enumerate(runs) if i != baseline]
    return (
        [r.label for r in others if common_random_numbers(base, r)],
        [r.label for r in others if not common_random_numbers(base, r)],
    )
