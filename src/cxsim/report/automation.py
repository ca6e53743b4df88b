"""The report's "What to automate next" section, from a `cxsim automate` run's ranking files."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence

import pandas as pd

from cxsim.automation import FIGURE_FILE, INFO_FILE, RANKING_FILE
from cxsim.report.data import Run


def _pm(mean: float, half: float, digits: int, sign: bool = False) -> str:
    text = f"{mean:+,.{digits}f}" if sign else f"{mean:,.{digits}f}"
    return text if math.isnan(half) else f"{text} ± {half:,.{digits}f}"


def automation_sections(runs: Sequence[Run]) -> list[dict]:
    """One entry per run directory holding automation_ranking.csv: its ranked rows, figure and settings."""
    out = []
    for run in runs:
        path = run.path / RANKING_FILE
        if not path.is_file():
            continue
        table = pd.read_csv(path)
        info_path = run.path / INFO_FILE
        info = json.loads(info_path.read_text()) if info_path.is_file() else {}
        settings = info.get("settings", {})
        figure = run.path / FIGURE_FILE
        rows = [
            {
                "rank": int(r["rank"]),
                "intent": r["intent"],
                "containment": f"{r['containment_from']:.0%} → {r['containment_to']:.0%}",
                "paid_hours": _pm(r["paid_hours_saved"], r["paid_hours_saved_ci95"], 1),
                "cost": _pm(r["cost_saved"], r["cost_saved_ci95"], 0),
                "csat": _pm(r["csat_change_pts"], r["csat_change_pts_ci95"], 2, sign=True),
                "agent_hours": _pm(r["agent_hours_saved"], r["agent_hours_saved_ci95"], 1),
                "meets": bool(r["plans_meet_target"]),
            }
            for _, r in table.iterrows()
        ]
        out.append(
            {
                "label": run.label,
                "points": f"{settings['points']:g}" if "points" in settings else "?",
                "plans": settings.get("plans", "?"),
                "replications": settings.get("evaluation_replications", "?"),
                "seconds": info.get("stats", {}).get("seconds"),
                "rows": rows,
                "figure": "data:image/png;base64," + base64.b64encode(figure.read_bytes()).decode("ascii")
                if figure.is_file()
                else None,
            }
        )
    return out
