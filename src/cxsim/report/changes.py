"""What changed between two scenarios, as a manager reads it: every setting by its full key,
numbers as before → after, staff rosters as the paid hours they buy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cxsim.report.data import RUN_KEYS, Run


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
