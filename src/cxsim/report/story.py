"""The report's words: the first lines a manager reads (which comparison this is, who meets every
target, the clear winners) and a short story per scenario of what changed and what it did.

Winners are chosen only among scenarios that meet every SLA target, cost winners on cost per
RESOLVED issue, and only when the difference to each other candidate is beyond noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from cxsim.report.changes import config_changes
from cxsim.report.compare import Spec, difference, meets_every_target, methods, sla_verdict, starred, tone
from cxsim.report.data import Run
from cxsim.report.formats import duration_unit, fmt, fmt_diff, fmt_money
from cxsim.report.stats import between


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


def comparison_kind(runs: Sequence[Run]) -> tuple[str, str]:
    """("equal service" | "rosters" | "mixed", the sentence saying which comparison this is)."""
    planned = [r for r in runs if r.planned]
    if planned and len(planned) == len(runs):
        return "equal service", (
            "Comparison at equal service: each scenario's staffing was planned (staffing.mode=plan) to meet every "
            "SLA target in every interval, so the differences in hours and cost are what each scenario saves "
            "or spends for the same service."
        )
    if not planned:
        return "rosters", (
            "Comparison at the rosters written in each scenario (staffing.mode=roster): the staff is as each "
            "scenario sets it, so service levels differ and cost barely moves with automation. To see what a "
            "change saves at the same service, run the scenarios with staffing.mode=plan."
        )
    return "mixed", (
        f"Mixed comparison: {', '.join(r.label for r in planned)} planned to meet every target, the others at "
        "their written rosters — hours and cost are not compared at equal service."
    )


EFFECTS = (
    ("abandon_rate", "abandonment", "pct", "low"),
    ("resolution_time_mean_s", "mean resolution time", "duration", "low"),
    ("csat", "projected CSAT", "pct", "high"),
    ("nps", "projected NPS", "points", "high"),
    ("paid_hours", "paid hours", "hours", "low"),
    ("cost_per_resolved", "cost per resolved issue", "money", "low"),
    ("cost_total", "total cost", "money0", "low"),
)


def _effect(base: Run, run: Run, spec: Spec) -> Change | None:
    """`label a → b (Δ ±ci)`, coloured when the difference is beyond noise."""
    (a, _), (b, _) = base.kpi(spec.metric, spec.scope, spec.name), run.kpi(spec.metric, spec.scope, spec.name)
    if not (math.isfinite(a) and math.isfinite(b)):
        return None
    unit = duration_unit(max(abs(a), abs(b))) if spec.kind == "duration" else None
    d = difference(base, run, spec)
    text = f"{spec.label} {fmt(a, spec.kind, unit)} → {fmt(b, spec.kind, unit)} (Δ {fmt_diff(d, spec.kind, unit)}"
    if spec.kind not in ("pct", "points") and a:
        text += f", {(b - a) / abs(a):+.0%}"
    return Change(text + (", within noise)" if d.within_noise else ")"), tone(d, spec.better))


def stories(runs: Sequence[Run], baseline: int, cols: Sequence[str]) -> list[Story]:
    """A plain description per scenario of what changed against the baseline and what it did."""
    base = runs[baseline]
    currency = base.currency
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
                    f"paid hours {fmt(run.mean('paid_hours'), 'hours')}, "
                    f"cost per resolved issue {fmt_money(run.mean('cost_per_resolved'), currency, 2)}, "
                    f"total cost {fmt_money(run.mean('cost_total'), currency)}."
                )
            )
            out.append(story)
            continue
        story.changed = config_changes(base, run) or ["no setting differs (another seed or replication count)"]
        for ch in run.channels:
            a, b = base.mean("service_level", "channel", ch), run.mean("service_level", "channel", ch)
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
            spec = Spec("", f"{ch} SL", "service_level", "channel", ch, "pct", "high")
            effect = _effect(base, run, spec)
            if effect:
                effect.text = effect.text.replace(f"{ch} SL ", f"{ch} SL (target {target:.0%}, {status}) ", 1)
                story.effects.append(effect)
        for metric, label, kind, better in EFFECTS:
            effect = _effect(base, run, Spec("", label, metric, kind=kind, better=better))
            if effect:
                story.effects.append(effect)
        out.append(story)
    return out


def _winner(runs: Sequence[Run], spec: Spec, what: str, currency: str) -> str | None:
    """`what: X (value)` when one target-meeting scenario beats every other beyond noise."""
    means = np.asarray([r.mean(spec.metric, spec.scope, spec.name) for r in runs], dtype=float)
    best = starred(runs, spec, means)
    eligible = [r for r, m in zip(runs, means, strict=True) if math.isfinite(m) and meets_every_target(r)]
    if best is None:
        if len(eligible) >= 2:
            return f"{what}: no clear winner among the scenarios meeting every target (differences within noise)."
        return None
    text = fmt_money(means[best], currency, 2) if spec.kind == "money" else fmt(means[best], spec.kind)
    return f"{what}: {runs[best].label} ({text}), among the scenarios meeting every target."


def findings(runs: Sequence[Run], baseline: int) -> list[str]:
    """The lines a manager reads first: the kind of comparison, who meets every target, clear winners,
    and (at equal service) what each scenario saves against the baseline."""
    base = runs[baseline]
    currency = base.currency
    kind, sentence = comparison_kind(runs)
    lines = [sentence]
    if len(runs) < 2:
        run = runs[0]
        lines.append(
            f"Projected CSAT {fmt(run.mean('csat'), 'pct')}; paid hours {fmt(run.mean('paid_hours'), 'hours')}; "
            f"cost per resolved issue {fmt_money(run.mean('cost_per_resolved'), currency, 2)}; "
            f"total cost {fmt_money(run.mean('cost_total'), currency)}."
        )
        missed = ", ".join(sla_verdict(run)[1]) or "in some intervals"
        lines.append("Meets every service-level target." if meets_every_target(run) else f"Misses a target: {missed}.")
        if days_met(run):
            lines.append(days_met(run))
        return lines
    paired, independent = methods(runs, baseline)
    if paired and not independent:
        lines.append("Differences to the baseline carry paired 95% intervals: every scenario shares the baseline's "
                     "seed and replications (common random numbers).")  # fmt: skip
    elif independent and not paired:
        lines.append("Differences to the baseline carry independent (Welch) 95% intervals: the scenarios do not "
                     "share seed and replications.")  # fmt: skip
    else:
        lines.append(f"Differences to the baseline: paired 95% intervals for {', '.join(paired)} (same seed and "
                     f"replications); independent (Welch) for {', '.join(independent)}.")  # fmt: skip
    met = [r.label for r in runs if meets_every_target(r)]
    if met and len(met) < len(runs):
        lines.append(f"Meet every service-level target: {', '.join(met)}; the others are not candidates for best.")
    elif met:
        lines.append("Every scenario meets every service-level target.")
    else:
        lines.append("No scenario meets every service-level target: no winner is named.")
    for spec, what in (
        (Spec("", "", "csat", kind="pct", better="high"), "Highest projected CSAT"),
        (Spec("", "", "cost_per_resolved", kind="money", better="low"), "Lowest cost per resolved issue"),
    ):
        line = _winner(runs, spec, what, currency)
        if line:
            lines.append(line)
    if kind == "equal service":
        for i, run in enumerate(runs):
            if i == baseline:
                continue
            hours = between(base, run, "paid_hours")
            cost = between(base, run, "cost_total")
            rel = cost.delta / base.mean("cost_total") if base.mean("cost_total") else math.nan
            per_tier = ", ".join(
                f"{t} {fmt_diff(between(base, run, 'paid_hours', 'tier', t), 'hours')}" for t in run.tiers
            )
            lines.append(
                f"{run.label} against {base.label} at equal service: paid hours {fmt_diff(hours, 'hours')} "
                f"({per_tier}); total cost {fmt_diff(cost, 'money0')}{' ' + currency if currency else ''} "
                f"({f'{rel:+.1%}'.replace('-', '−')})."
            )
    return lines
