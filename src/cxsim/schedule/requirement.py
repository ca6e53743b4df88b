"""The requirement a schedule must cover: scheduled heads per tier and interval.

Read from `cxsim staff`'s staffing_plan.csv (wide: `day`, `time`, then per tier `<tier>` = heads,
`<tier>_agents`, `<tier>_roster`, `<tier>_gap`), from any staff file with a column per tier
(scenarios/data/peak_week_staff.csv), or taken from the scenario's own `tiers.<tier>.staff`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cxsim.errors import ConfigError
from cxsim.profiles import column_numbers, fit_to_horizon, read_csv, resolve_path
from cxsim.scenario import Scenario
from cxsim.schedule.catalogue import clock_text

KEY = "schedule.requirement"


def roster_requirement(scn: Scenario) -> np.ndarray:
    """The scenario's scheduled heads (tiers x intervals), as a requirement."""
    return np.asarray([t.staff for t in scn.tiers], dtype=float)


def _check_clock(rows: list[dict[str, str]], scn: Scenario, path: Path) -> None:
    """`day` and `time` columns, where present, must follow the horizon's intervals row by row."""
    h = scn.horizon
    step = round(h.interval_s / 60)
    for i, row in enumerate(rows):
        lineno = i + 2
        if "time" in row and row["time"].strip() != clock_text((i % h.intervals_per_day) * step):
            raise ConfigError(
                KEY,
                f"'{path}' row {lineno}: time {row['time']} is not interval {i + 1} of the horizon "
                f"({clock_text((i % h.intervals_per_day) * step)}; one row per {step}-minute interval in order)",
            )
        if "day" in row and len(rows) == h.n_intervals and row["day"].strip() != str(i // h.intervals_per_day + 1):
            raise ConfigError(KEY, f"'{path}' row {lineno}: day {row['day']} should be {i // h.intervals_per_day + 1}")


def read_requirement(path_text: str, scn: Scenario, base_dir: Path | None = None) -> np.ndarray:
    """Required heads (tiers x intervals) from a CSV with one row per interval and a column per tier."""
    path = resolve_path(path_text, base_dir)
    rows = read_csv(path, KEY)
    columns = list(rows[0])
    if "tier" in columns:
        raise ConfigError(
            KEY,
            f"'{path}' is a long table (a 'tier' column); give one row per interval with a column per tier "
            f"({', '.join(t.name for t in scn.tiers)}), as `cxsim staff` writes staffing_plan.csv",
        )
    missing = [t.name for t in scn.tiers if t.name not in columns]
    if missing:
        named = ", ".join(repr(m) for m in missing)
        raise ConfigError(KEY, f"'{path}' needs a column per tier: no {named} (has {', '.join(columns)})")
    h = scn.horizon
    if len(rows) not in (h.n_intervals, h.intervals_per_day):
        raise ConfigError(
            KEY,
            f"'{path}' needs one row per interval of the horizon ({h.n_intervals}) or of one day "
            f"({h.intervals_per_day}); got {len(rows)}",
        )
    _check_clock(rows, scn, path)
    return np.asarray(
        [
            fit_to_horizon(column_numbers(rows, t.name, path, KEY), h.n_intervals, h.intervals_per_day, KEY, str(path))
            for t in scn.tiers
        ]
    )


def requirement(path_text: str | None, scn: Scenario, base_dir: Path | None = None) -> np.ndarray:
    """Required heads per tier and interval: from `path_text`, or the scenario's staff when None."""
    return roster_requirement(scn) if path_text is None else read_requirement(path_text, scn, base_dir)
