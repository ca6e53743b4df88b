"""What the report says in words and tables: the headline table and a sentence per scenario.

Differences are called "within noise" when they are smaller than the combined 95% half-widths
of the two means, sqrt(ci_a^2 + ci_b^2): a conservative check (runs with the same seed share
their customers, so paired differences are tighter than this).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cxsim.report.data import RUN_KEYS, Run, short_key


def fmt_duration(seconds: float, unit: str | None = None) -> str:
    """Seconds as s, min or h (the unit can be fixed so a row reads in one unit)."""
    if not math.isfinite(seconds):
        return "–"
    unit = unit or duration_unit(seconds)
    if unit == "s":
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    if unit == "min":
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def duration_unit(seconds: float) -> str:
    return "s" if seconds < 180 else "min" if seconds < 3 * 3600 else "h"


FORMATS: dict[str, Callable[[float], str]] = {
    "pct": lambda x: f"{100 * x:.1f}%",
    "money": lambda x: f"{x:,.2f}",
    "money0": lambda x: f"{x:,.0f}",
    "count": lambda x: f"{x:,.0f}",
    "points": lambda x: f"{x:+.1f}",
    "number": lambda x: f"{x:,.1f}",
}


def fmt(value: float, kind: str, unit: str | None = None) -> str:
    if not math.isfinite(value):
        return "–"
    if kind == "duration":
        return fmt_duration(value, unit)
    return FORMATS[kind](value)


def fmt_ci(ci: float, kind: str, unit: str | None = None) -> str:
    if not math.isfinite(ci):
        return ""
    if kind == "duration":
        return "±" + fmt_duration(ci, unit).split(" ")[0]
    if kind == "pct":
        return f"±{100 * ci:.1f}"
    if kind == "points":
        return f"±{ci:.1f}"
    return "±" + FORMATS[kind](ci)


@dataclass
class Cell:
    text: str
    ci: str
    best: bool = False
    status: str = ""  # "ok" / "miss" against a target


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
    specs += [
        Spec("Cost", "Cost per contact", "cost_per_contact", kind="money", better="low",
             note="all arriving contacts, bot-contained included"),
        Spec("Cost", "Cost per resolved issue", "cost_per_resolved", kind="money", better="low"),
        Spec("Cost", "Total cost", "cost_total", kind="money0", better="low", note="paid agent hours + bot"),
    ]  # fmt: skip
    return specs


def headline_rows(runs: Sequence[Run], baseline: int) -> list[Row]:
    """Formatted rows with the best value per row marked (when at least two runs have it)."""
    rows = []
    for spec in headline_specs(runs, baseline):
        values = [r.kpi(spec.metric, spec.scope, spec.name) for r in runs]
        means = np.asarray([m for m, _ in values], dtype=float)
        if not np.isfinite(means).any():
            continue
        unit = None
        if spec.kind == "duration":
            unit = duration_unit(float(np.nanmax(means)))
        best = None
        finite = means[np.isfinite(means)]
        if spec.better and len(finite) >= 2 and np.ptp(finite) > 1e-12 * max(1.0, np.abs(finite).max()):
            best = finite.max() if spec.better == "high" else finite.min()
        cells = []
        for m, ci in values:
            status = ""
            if spec.target is not None and math.isfinite(m):
                status = "ok" if m >= spec.target - 1e-12 else "miss"
            cells.append(
                Cell(fmt(m, spec.kind, unit), fmt_ci(ci, spec.kind, unit),
                     best is not None and math.isfinite(m) and abs(m - best) <= 1e-12 * max(1.0, abs(best)), status)
            )  # fmt: skip
        rows.append(Row(spec.group, spec.label, spec.note, cells))
    return rows


# ---------------------------------------------------------------- sentences


def _num(x: Any) -> float | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float)):
        return float(x)
    return None


def _describe_value(before: Any, after: Any) -> str:
    """`before → after`, numeric lists summarised by their mean per interval."""
    if isinstance(before, list) != isinstance(after, list) and _num(after if isinstance(before, list) else before):
        before, after = (before, [after]) if isinstance(before, list) else ([before], after)  # constant vs schedule
    if isinstance(before, list) and isinstance(after, list):
        a = [_num(v) for v in before]
        b = [_num(v) for v in after]
        if a and b and None not in a and None not in b:
            ma, mb = float(np.mean(a)), float(np.mean(b))
            change = f" ({(mb - ma) / ma:+.0%})" if ma else ""
            return f"mean {ma:,.1f} → {mb:,.1f} per interval{change}"
    a, b = _num(before), _num(after)
    if a is not None and b is not None:
        change = f" ({(b - a) / a:+.0%})" if a and abs(a) > 1e-12 and not (0 <= a <= 1 and 0 <= b <= 1) else ""
        return f"{_short(before)} → {_short(after)}{change}"
    if before is None:
        return f"set to {_short(after)}"
    if after is None:
        return f"removed (was {_short(before)})"
    return f"{_short(before)} → {_short(after)}"


def _short(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:,.4g}"
    if isinstance(x, list) and len(x) > 4:
        return f"[{len(x)} values]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in list(x.items())[:4]) + ("…}" if len(x) > 4 else "}")
    return str(x)


def _diff(a: Any, b: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted key, before, after) for every setting that differs; a node whose form changed
    (a list became a mapping, a value became a mapping) is one difference, not one per leaf."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in dict.fromkeys([*a, *b]):
            if not prefix and k in RUN_KEYS | {"name", "description"}:
                continue
            out.extend(_diff(a.get(k), b.get(k), f"{prefix}.{k}" if prefix else str(k)))
        return out
    return [] if a == b else [(prefix, a, b)]


def _staff_change(base: Run, run: Run, tier: str) -> str:
    """A tier's staffing change as the paid hours it buys (a roster is too long to read)."""
    a, b = base.mean("paid_hours", "tier", tier), run.mean("paid_hours", "tier", tier)
    if not (math.isfinite(a) and math.isfinite(b)):
        return f"tiers.{tier}.staff changed"
    change = f" ({(b - a) / a:+.0%})" if a else ""
    return f"tiers.{tier}.staff: paid hours {a:,.0f} → {b:,.0f}{change}"


def config_changes(base: Run, run: Run) -> list[str]:
    """Every setting that differs between two scenarios, by its full key; staff as paid hours.

    Planned jobs (staffing.mode=plan) replace the scenario's staff by the plan: their staff
    change is the plan's paid hours per tier."""
    if not base.config or not run.config:
        diffs = [(k, base.swept.get(k), v) for k, v in run.swept.items() if base.swept.get(k) != v]
    else:
        diffs = _diff(base.config, run.config)
    items: list[str] = []
    if base.planned != run.planned:
        items.append(f"staffing.mode {'plan' if base.planned else 'roster'} → {'plan' if run.planned else 'roster'}")
    staffed: list[str] = []
    for key, a, b in diffs:
        parts = key.split(".")
        if len(parts) >= 3 and parts[0] == "tiers" and parts[2] == "staff":
            if parts[1] not in staffed:
                staffed.append(parts[1])
            continue
        items.append(f"{key} {_describe_value(a, b)}")
    if base.planned and run.planned:
        tiers = list(dict.fromkeys([*base.tiers, *run.tiers]))
        moved = [t for t in tiers if base.mean("paid_hours", "tier", t) != run.mean("paid_hours", "tier", t)]
        items += [_staff_change(base, run, t).replace(f"tiers.{t}.staff", f"planned staff of {t}") for t in moved]
    else:
        items += [_staff_change(base, run, t) for t in staffed]
    return items


@dataclass
class Change:
    text: str
    tone: str = ""  # "good" / "bad" / "" (neutral or within noise)


@dataclass
class Story:
    label: str
    colour: str
    is_baseline: bool
    changed: list[str]
    effects: list[Change] = field(default_factory=list)
    verdict: str = ""


def _delta(base: Run, run: Run, metric: str, scope: str = "overall", name: str = "all") -> tuple[float, float, bool]:
    (a, ca), (b, cb) = base.kpi(metric, scope, name), run.kpi(metric, scope, name)
    noise = math.hypot(np.nan_to_num(ca), np.nan_to_num(cb))
    return a, b, abs(b - a) <= noise


def _tone(a: float, b: float, noisy: bool, better: str) -> str:
    if noisy or not (math.isfinite(a) and math.isfinite(b)) or a == b:
        return ""
    return "good" if (b > a) == (better == "high") else "bad"


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


def days_met(run: Run) -> str:
    """How often each channel met its SLA, e.g. "voice meets 80/20 on 62% of days." ("" without the metric)."""
    parts = []
    for ch in run.channels:
        share = run.mean("p_meet_sla", "channel", ch)
        if not math.isfinite(share):
            continue
        sla = run.sla(ch)
        target, within = float(sla.get("target", 0.8)), float(sla.get("answer_within_s", 20))
        name = f"{100 * target:g}/{within:g}" if within < 3600 else f"{target:.0%} in {within / 3600:g} h"
        parts.append(f"{ch} meets {name} on {share:.0%} of days")
    return "; ".join(parts) + "." if parts else ""


def stories(runs: Sequence[Run], baseline: int, cols: Sequence[str]) -> list[Story]:
    """A plain description per scenario of what changed against the baseline and what it did."""
    base = runs[baseline]
    out = []
    for i, run in enumerate(runs):
        _, missed = sla_verdict(run)
        verdict = (
            "Meets the service-level target on every channel."
            if not missed
            else f"Misses the service-level target on {', '.join(missed)}."
        )
        story = Story(run.label, cols[i], i == baseline, [], verdict=" ".join(filter(None, [verdict, days_met(run)])))
        if i == baseline:
            story.effects.append(
                Change(
                    f"The reference for the comparisons: projected CSAT {fmt(run.mean('csat'), 'pct')}, "
                    f"cost per contact {fmt(run.mean('cost_per_contact'), 'money')}, "
                    f"total cost {fmt(run.mean('cost_total'), 'money0')}."
                )
            )
            out.append(story)
            continue
        story.changed = config_changes(base, run) or ["no setting differs (another seed or replication count)"]
        for ch in run.channels:
            a, b, noisy = _delta(base, run, "service_level", "channel", ch)
            if not (math.isfinite(a) and math.isfinite(b)):
                continue
            target = float(run.sla(ch).get("target", 0.8))
            status = (
                "now met"
                if a < target <= b
                else "now missed"
                if b < target <= a
                else "met"
                if b >= target
                else "missed"
            )
            text = f"{ch} SL {fmt(a, 'pct')} → {fmt(b, 'pct')} (target {target:.0%}, {status})"
            story.effects.append(Change(text + (", within noise" if noisy else ""), _tone(a, b, noisy, "high")))
        for metric, label, kind, better in (
            ("abandon_rate", "abandonment", "pct", "low"),
            ("resolution_time_mean_s", "mean resolution time", "duration", "low"),
            ("csat", "projected CSAT", "pct", "high"),
            ("nps", "projected NPS", "points", "high"),
            ("cost_per_contact", "cost per contact", "money", "low"),
            ("cost_total", "total cost", "money0", "low"),
        ):
            a, b, noisy = _delta(base, run, metric)
            if not (math.isfinite(a) and math.isfinite(b)):
                continue
            unit = duration_unit(max(a, b)) if kind == "duration" else None
            text = f"{label} {fmt(a, kind, unit)} → {fmt(b, kind, unit)}"
            if kind == "pct":
                text += f" ({100 * (b - a):+.1f} pts)"
            elif a:
                text += f" ({(b - a) / abs(a):+.0%})"
            story.effects.append(Change(text + (", within noise" if noisy else ""), _tone(a, b, noisy, better)))
        out.append(story)
    return out


def findings(runs: Sequence[Run], baseline: int) -> list[str]:
    """The few lines a manager reads first: best CSAT, cheapest, who meets every SL target."""
    if len(runs) < 2:
        run = runs[0]
        _, missed = sla_verdict(run)
        lines = [
            f"Projected CSAT {fmt(run.mean('csat'), 'pct')}; cost per contact "
            f"{fmt(run.mean('cost_per_contact'), 'money')}; total cost {fmt(run.mean('cost_total'), 'money0')}."
        ]
        lines.append(
            "Meets the service-level target on every channel."
            if not missed
            else f"Misses the service-level target on {', '.join(missed)}."
        )
        if days_met(run):
            lines.append(days_met(run))
        return lines
    lines = []

    def best(metric: str, high: bool) -> Run | None:
        scored = [(r.mean(metric), r) for r in runs if math.isfinite(r.mean(metric))]
        if not scored:
            return None
        return (max if high else min)(scored, key=lambda t: t[0])[1]

    top = best("csat", True)
    cheap = best("cost_per_contact", False)
    if top:
        lines.append(f"Highest projected CSAT: {top.label} ({fmt(top.mean('csat'), 'pct')}).")
    if cheap:
        lines.append(f"Lowest cost per contact: {cheap.label} ({fmt(cheap.mean('cost_per_contact'), 'money')}).")
    all_met = [r.label for r in runs if not sla_verdict(r)[1]]
    if all_met and len(all_met) < len(runs):
        lines.append(f"Meet every service-level target: {', '.join(all_met)}.")
    elif all_met:
        lines.append("Every scenario meets every service-level target.")
    else:
        lines.append("No scenario meets every service-level target.")
    return lines
