"""How the report writes numbers: durations in one unit per row, percentages, money with its
currency (`costs.currency`), and a difference with its 95% interval."""

from __future__ import annotations

import math
from collections.abc import Callable

from cxsim.report.stats import Difference


def fmt_duration(seconds: float, unit: str | None = None) -> str:
    """Seconds as s, min or h (the unit can be fixed so a row reads in one unit)."""
    if not math.isfinite(seconds):
        return "–"
    unit = unit or duration_unit(seconds)
    if unit == "s":
        return f"{seconds:.0f} s" if abs(seconds) >= 10 else f"{seconds:.1f} s"
    if unit == "min":
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def duration_unit(seconds: float) -> str:
    return "s" if abs(seconds) < 180 else "min" if abs(seconds) < 3 * 3600 else "h"


FORMATS: dict[str, Callable[[float], str]] = {
    "pct": lambda x: f"{100 * x:.1f}%",
    "money": lambda x: f"{x:,.2f}",
    "money0": lambda x: f"{x:,.0f}",
    "count": lambda x: f"{x:,.0f}",
    "hours": lambda x: f"{x:,.0f} h",
    "fte": lambda x: f"{x:,.1f}",
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
    return "±" + FORMATS[kind](ci).removesuffix(" h")


def fmt_money(value: float, currency: str, decimals: int = 0) -> str:
    """A cost with its currency (`costs.currency`), e.g. 39,315 USD."""
    if not math.isfinite(value):
        return "–"
    text = f"{value:,.{decimals}f}"
    return f"{text} {currency}" if currency else text


def fmt_diff(d: Difference, kind: str, unit: str | None = None) -> str:
    """A difference with its interval: percentages in points, money and counts signed."""
    if not math.isfinite(d.delta):
        return "–"
    sign = "+" if d.delta >= 0 else "−"
    if kind == "pct":
        text = f"{sign}{100 * abs(d.delta):.1f} pts"
        ci = f" ±{100 * d.ci95:.1f}" if math.isfinite(d.ci95) else ""
    elif kind == "duration":
        text = sign + fmt_duration(abs(d.delta), unit)
        ci = f" ±{fmt_duration(d.ci95, unit).split(' ')[0]}" if math.isfinite(d.ci95) else ""
    else:
        body = FORMATS["number" if kind == "points" else kind](abs(d.delta))
        text = sign + body
        ci = (
            f" ±{FORMATS['number' if kind == 'points' else kind](d.ci95).removesuffix(' h')}"
            if math.isfinite(d.ci95)
            else ""
        )
    return text + ci
